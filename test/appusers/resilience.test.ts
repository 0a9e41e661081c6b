/**
 * An application user's rotation under the faults a database connection meets, and the triggers that start it:
 * a connection dropped before or after a user command, a command held past the driver's timeout, a primary
 * stepping down or the server shedding load (retried, each time on a new connection); the same trigger delivered twice, one after the other
 * or at once (one rotation); an incident naming the instance (root first, then its users); TLS-only instances.
 */
import { describe, expect, it } from 'vitest';
import { OWN_CODES } from '../../functions/shared/codes';
import { rootSecretName, userSecretName, appFixture, instance, userSecret } from './fixture';
import { forced, labelled, useAppHarness, userCommands } from './harness';

const RS = 'dds-rsappfault001';
const ROOT_PW = 'Root#Fault-Pw-001';
const ORDERS_PW = 'Orders#Fault-P001';
const ORDERS = { instanceId: RS, accountName: 'orders' };
const fixture = () => appFixture([instance({ id: RS, rootPassword: ROOT_PW, users: [{ user: 'orders', password: ORDERS_PW }] })], [userSecret(RS, 'orders', ORDERS_PW)]);

/** The rotation completed: the clone holds ACSCurrent's password, the user applications held keeps its own. */
function expectAlternated(cloud: ReturnType<ReturnType<typeof useAppHarness>['cloud']>) {
  const current = labelled(cloud, RS, 'orders')!;
  expect(current.user).toBe('orders_clone');
  expect(cloud.truth.userPassword(RS, 'orders_clone')).toBe(current.password);
  expect(cloud.truth.userPassword(RS, 'orders')).toBe(ORDERS_PW);
  expect(labelled(cloud, RS, 'orders', 'ACSPending')).toBeUndefined();
}

describe('an application user rotation on an unreliable connection', () => {
  const h = useAppHarness();

  type Fault = { kind: 'drop' | 'hang' | 'error'; after?: boolean; code?: number };
  it.each<[string, Fault]>([
    ['the connection dropped as createUser arrives', { kind: 'drop' }],
    ['the connection dropped once createUser was applied (its answer lost: the retry finds the user and updates it)', { kind: 'drop', after: true }],
    ['createUser held past the driver timeout, then applied', { kind: 'hang' }],
    ['the primary stepping down (189 PrimarySteppedDown)', { kind: 'error', code: 189 }],
    ["the server shedding load (462 IngressRequestRateLimitExceeded, MongoDB 8.0.20's and 8.2's ingress rate limiter)", { kind: 'error', code: 462 }],
  ])('retries %s, and completes', async (_, fault) => {
    const cloud = await h.start(fixture());
    const match = { instanceId: RS, command: 'createUser', times: 1 };
    const handle =
      fault.kind === 'drop'
        ? cloud.mongo.drop({ ...match, after: fault.after })
        : fault.kind === 'hang'
          ? cloud.mongo.hang({ ...match, ms: 1_500 })
          : cloud.mongo.error({ ...match, code: fault.code! });
    const run = await h.run({ targets: [ORDERS], event: forced('faulty'), env: { VERIFY_TIMEOUT_MS: '500' } });
    await cloud.mongo.settled();

    expect(handle.hits).toBe(1);
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated', attempts: 2 }]);
    expect(run.logs.find((e) => e.msg === 'retrying MongoDB user commands')).toMatchObject([{ error: { code: fault.kind === 'error' ? OWN_CODES.userCommandFailed : OWN_CODES.userAdminUnreachable } }]);
    expectAlternated(cloud);
    const writes = userCommands(cloud, RS).filter((c) => c !== 'usersInfo');
    expect(writes[0]).toBe('createUser');
    if (fault.kind === 'drop' && fault.after) expect(writes).toEqual(['createUser', 'updateUser']);
  });

  it('updates the other user when createUser finds it created meanwhile (51003 "already exists")', async () => {
    const cloud = await h.start(fixture());
    const admin = h.connect(cloud, RS, { user: 'root', password: ROOT_PW }).db('admin');
    // A duplicate run creates the clone with the same pending password between this run's usersInfo and its createUser.
    // The second usersInfo: the rotation's own, once the password is staged (the first is the check before staging).
    const racer = cloud.mongo.onCommand({ instanceId: RS, command: 'usersInfo', phase: 'after', nth: 2 }, async () => {
      racer.remove();
      const pending = labelled(cloud, RS, 'orders', 'ACSPending')!;
      await admin.command({ createUser: 'orders_clone', pwd: pending.password, roles: [] });
    });
    const run = await h.run({ targets: [ORDERS], event: forced('exists') });

    expect(racer.hits).toBe(1);
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated', attempts: 1 }]);
    expect(cloud.mongo.commands.filter((c) => c.command === 'createUser').map((c) => c.code)).toEqual([undefined, 51003]);
    expect(userCommands(cloud, RS).filter((c) => c !== 'usersInfo')).toEqual(['createUser', 'createUser', 'updateUser']);
    expect(cloud.truth.users(RS).find((u) => u.user === 'orders_clone')!.roles).toEqual([{ role: 'readWrite', db: 'app' }]);
    expectAlternated(cloud);
  });

  it('stops retrying at the deadline with the password pending, and the next run applies the same one', async () => {
    const cloud = await h.start(fixture());
    const down = cloud.mongo.drop({ instanceId: RS, command: 'createUser', times: 1_000 });
    // A 6 s function keeps 3 s for the work.
    const first = await h.run({ targets: [ORDERS], event: forced('deadline'), env: { VERIFY_TIMEOUT_MS: '500' }, context: { function: { timeout: 6 } } });
    expect(first.report?.results).toMatchObject([{ outcome: 'failed', error: { code: expect.stringMatching(/^(UserAdminUnreachable|DeadlineExceeded)$/) } }]);
    expect(down.hits).toBeGreaterThan(1);
    const pending = labelled(cloud, RS, 'orders', 'ACSPending')!;
    expect(labelled(cloud, RS, 'orders')).toEqual({ user: 'orders', password: ORDERS_PW });

    down.remove();
    const second = await h.run({ targets: [ORDERS], event: forced('deadline') });
    expect(second.report?.results).toMatchObject([{ outcome: 'resumed', versionId: first.report!.results[0].versionId }]);
    expect(labelled(cloud, RS, 'orders')).toEqual(pending);
    expectAlternated(cloud);
  });
});

describe('triggers', () => {
  const h = useAppHarness();

  it('rotates once for the same trigger delivered twice, one after the other', async () => {
    const cloud = await h.start(fixture());
    const first = await h.run({ targets: [ORDERS], event: forced('twice') });
    const again = await h.run({ targets: [ORDERS], event: forced('twice') });

    expect(first.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(again.report?.results).toMatchObject([{ outcome: 'skipped', reason: 'already rotated by this trigger', versionId: first.report!.results[0].versionId }]);
    expect(cloud.truth.secret(userSecretName(RS, 'orders'))!.versions).toHaveLength(2);
    expect(userCommands(cloud, RS).filter((c) => c !== 'usersInfo')).toEqual(['createUser']);
  });

  it('rotates once for the same trigger delivered twice at once', async () => {
    const cloud = await h.start(fixture());
    const runs = await Promise.all([h.run({ targets: [ORDERS], event: forced('at-once') }), h.run({ targets: [ORDERS], event: forced('at-once') })]);

    const outcomes = runs.map((run) => run.report?.results[0]?.outcome).sort();
    expect(runs.every((run) => run.error === undefined)).toBe(true);
    expect(outcomes.filter((o) => o === 'rotated')).toHaveLength(1);
    expect(new Set(runs.map((run) => run.report?.results[0]?.versionId)).size).toBe(1);
    expect(cloud.truth.secret(userSecretName(RS, 'orders'))!.versions).toHaveLength(2);
    expectAlternated(cloud);
  });

  it('rotates the root of an instance an incident names first, then its application users', async () => {
    const cloud = await h.start(
      appFixture(
        [instance({ id: RS, rootPassword: ROOT_PW, users: [{ user: 'orders', password: ORDERS_PW }, { user: 'reports', password: 'Reports#Fault-P01' }] })],
        [userSecret(RS, 'orders', ORDERS_PW), userSecret(RS, 'reports', 'Reports#Fault-P01', { strategy: 'single' })],
      ),
    );
    const incident = {
      specversion: '1.0',
      id: 'incident-appusers-1',
      source: 'acs.actiontrail',
      type: 'actiontrail:ActionTrail:ApiCall',
      data: { eventName: 'AllocatePublicNetworkAddress', serviceName: 'Dds', referencedResources: { 'ACS::MongoDB::DBInstance': [RS] } },
    };
    const targets = [ORDERS, { instanceId: RS, accountName: 'reports', strategy: 'single' }, { instanceId: RS }];
    const run = await h.run({ targets, event: incident });

    expect(run.report?.results.map((r) => [r.secretName, r.outcome])).toEqual([
      [rootSecretName(RS), 'rotated'],
      [userSecretName(RS, 'orders'), 'rotated'],
      [userSecretName(RS, 'reports'), 'rotated'],
    ]);
    const finished = (msg: string) => run.logs.entries().findIndex((e) => e.msg === msg);
    const root = run.logs.entries().findIndex((e) => e.msg === 'target rotated' && e.secretName === rootSecretName(RS));
    expect(root).toBeGreaterThan(-1);
    expect(run.logs.entries().findIndex((e) => e.step === 'apply' && e.accountName === 'orders')).toBeGreaterThan(root);
    expect(finished('rotation finished')).toBeGreaterThan(root);
    expect(cloud.truth.rootPassword(RS)).toBe(cloud.truth.secretPassword(rootSecretName(RS)));
  });
});

describe('TLS', () => {
  const h = useAppHarness();

  it('runs the user commands and the login check over TLS, trusting VERIFY_TLS_CA_FILE', async () => {
    const cloud = await h.start(fixture(), { tls: true });
    const run = await h.run({ targets: [{ instanceId: RS }, ORDERS], event: forced('tls') });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }, { accountName: 'orders', outcome: 'rotated' }]);
    expectAlternated(cloud);
    expect(run.logs.find((e) => e.level === 'warn')).toEqual([]);
    expect(await h.login(RS, labelled(cloud, RS, 'orders')!)).toBe('ok');
  });

  it("fails without retrying when the instance's certificate is not trusted", async () => {
    const cloud = await h.start(fixture(), { tls: true });
    const run = await h.run({ targets: [ORDERS], event: forced('untrusted'), env: { VERIFY_TLS_CA_FILE: undefined } });

    expect(run.report?.results).toMatchObject([{ outcome: 'failed', attempts: 1, error: { code: OWN_CODES.userAdminUnreachable, message: expect.stringMatching(/^TLS with 127\.0\.0\.1:\d+ failed/) } }]);
    expect(userCommands(cloud, RS)).toEqual([]);
  });
});
