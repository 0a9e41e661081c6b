/**
 * What stops an application user's rotation, each with a clear failure naming the target, and what does not: a root
 * rotation left half done (root's ACSCurrent refused, its ACSPending logs in), a missing root secret, root refused
 * with both passwords, a user that does not exist, root without the privilege (13), a secret naming another user.
 * None changes the database; the rule holds throughout.
 */
import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { OWN_CODES } from '../../functions/shared/codes';
import { appFixture, instance, rootData, rootSecretName, userData, userSecret, userSecretName } from './fixture';
import { forced, labelled, stagesOf, useAppHarness, userCommands } from './harness';

const RS = 'dds-rsappfail0001';
const ROOT_PW = 'Root#Fail-Pw-0001';
const ORDERS_PW = 'Orders#Fail-Pw01';
const ORDERS = { instanceId: RS, accountName: 'orders' };
const ordersInstance = (extra: Partial<Parameters<typeof instance>[0]> = {}) => instance({ id: RS, rootPassword: ROOT_PW, users: [{ user: 'orders', password: ORDERS_PW }], ...extra });

describe('an application user whose rotation cannot go ahead', () => {
  const h = useAppHarness();

  it("logs in with root's ACSPending when a root rotation is half done (ACSCurrent refused), with a warning", async () => {
    const pendingRoot = 'Root#Pending-Pw01';
    const cloud = await h.start(
      appFixture(
        [instance({ id: RS, rootPassword: pendingRoot, users: [{ user: 'orders', password: ORDERS_PW }] })].map((part) => ({
          ...part,
          secrets: [
            {
              name: rootSecretName(RS),
              instanceId: RS,
              versions: [
                { versionId: 'v-root-1', data: rootData(RS, ROOT_PW), stages: ['ACSCurrent'], createTime: '-40d' },
                { versionId: 'v-root-2', data: rootData(RS, pendingRoot), stages: ['ACSPending'], createTime: '-1h' },
              ],
            },
          ],
        })),
        [userSecret(RS, 'orders', ORDERS_PW)],
      ),
    );
    const run = await h.run({ targets: [ORDERS], event: forced('root-half-done') });

    expect(run.report?.results).toMatchObject([{ accountName: 'orders', outcome: 'rotated' }]);
    expect(labelled(cloud, RS, 'orders')?.user).toBe('orders_clone');
    expect(run.logs.find((e) => e.level === 'warn' && String(e.msg).startsWith("root's ACSCurrent password was refused"))).toHaveLength(1);
    expect(cloud.truth.rootPassword(RS)).toBe(pendingRoot); // root is root's business: left as it was
    expect(stagesOf(cloud, rootSecretName(RS))).toEqual({ 'v-root-1': ['ACSCurrent'], 'v-root-2': ['ACSPending'] });
  });

  it('fails with RootLoginFailed when root is refused with both ACSCurrent and ACSPending, changing nothing', async () => {
    const cloud = await h.start(appFixture([ordersInstance()], [userSecret(RS, 'orders', ORDERS_PW)]));
    const refusing = cloud.mongo.rejectLogins(RS, { user: 'root' });
    const run = await h.run({ targets: [ORDERS], event: forced('root-refused') });

    expect(run.report?.results).toMatchObject([
      {
        accountName: 'orders',
        outcome: 'failed',
        attempts: 1,
        error: { code: OWN_CODES.rootLoginFailed, message: expect.stringContaining(`cannot log in as root at 127.0.0.1:`) },
      },
    ]);
    expect(run.report!.results[0].error!.message).toContain(`its password in ACSCurrent of ${rootSecretName(RS)} was refused, and that secret has no ACSPending version`);
    expect(refusing.hits).toBe(1);
    expect(cloud.truth.users(RS).map((u) => u.user)).toEqual(['root', 'orders']);
    expect(run.error?.message).toContain(`${RS} (RootLoginFailed)`);
  });

  it('fails with RootSecretNotFound when the instance has no root secret, naming it', async () => {
    const part = ordersInstance();
    const cloud = await h.start(appFixture([{ ...part, secrets: [] }], [userSecret(RS, 'orders', ORDERS_PW)]));
    const run = await h.run({ targets: [ORDERS], event: forced('no-root-secret') });

    expect(run.report?.results).toMatchObject([{ outcome: 'failed', error: { code: OWN_CODES.rootSecretNotFound } }]);
    expect(run.report!.results[0].error!.message).toMatch(new RegExp(`^the instance's root secret ${rootSecretName(RS)} has no ACSCurrent version`));
    expect(userCommands(cloud, RS)).toEqual([]);
    // Found before a new password was staged: nothing was written, applications keep ACSCurrent's.
    expect(labelled(cloud, RS, 'orders')).toEqual({ user: 'orders', password: ORDERS_PW });
    expect(labelled(cloud, RS, 'orders', 'ACSPending')).toBeUndefined();
    expect(cloud.truth.writeRequests()).toEqual([]);
  });

  it('fails with ApplicationUserNotFound when the user ACSCurrent names does not exist (alternating), creating nothing', async () => {
    const cloud = await h.start(appFixture([ordersInstance({ users: [] })], [userSecret(RS, 'orders', ORDERS_PW)]));
    h.allowViolations('the fixture names a user the instance lacks, which the monitor reports as it loads', (violations) =>
      expect(violations.every((v) => 'user' in v && v.user === 'orders' && v.rule === 'current')).toBe(true),
    );
    const run = await h.run({ targets: [ORDERS], event: forced('no-user') });

    expect(run.report?.results).toMatchObject([{ outcome: 'failed', attempts: 1, error: { code: OWN_CODES.applicationUserNotFound } }]);
    expect(run.report!.results[0].error!.message).toContain(`the user orders@admin does not exist on ${RS} (the user ACSCurrent names must exist: the other user gets its roles)`);
    expect(userCommands(cloud, RS)).toEqual(['usersInfo']);
    expect(cloud.truth.users(RS).map((u) => u.user)).toEqual(['root']);
  });

  it('fails with ApplicationUserNotFound when the single user does not exist', async () => {
    const cloud = await h.start(appFixture([ordersInstance({ users: [] })], [userSecret(RS, 'orders', ORDERS_PW, { strategy: 'single' })]));
    h.allowViolations('the fixture names a user the instance lacks, which the monitor reports as it loads', (violations) => expect(violations.length).toBeGreaterThan(0));
    const run = await h.run({ targets: [{ ...ORDERS, strategy: 'single' }], event: forced('no-single-user') });

    expect(run.report?.results).toMatchObject([{ outcome: 'failed', error: { code: OWN_CODES.applicationUserNotFound, message: expect.stringContaining('a single-user rotation changes the password of an existing user') } }]);
    expect(userCommands(cloud, RS)).toEqual(['usersInfo']);
  });

  it('fails with UserAdminUnauthorized when root may not manage users (13), without retrying, and the next run completes', async () => {
    const cloud = await h.start(appFixture([ordersInstance()], [userSecret(RS, 'orders', ORDERS_PW)]));
    const refused = cloud.mongo.error({ instanceId: RS, command: 'createUser', code: 13, times: 1 });
    const first = await h.run({ targets: [ORDERS], event: forced('unauthorized') });

    expect(refused.hits).toBe(1);
    expect(first.report?.results).toMatchObject([{ outcome: 'failed', attempts: 1, error: { code: OWN_CODES.userAdminUnauthorized, message: expect.stringContaining('code 13 Unauthorized') } }]);
    expect(cloud.truth.users(RS).map((u) => u.user)).toEqual(['root', 'orders']);

    const second = await h.run({ targets: [ORDERS], event: forced('unauthorized') });
    expect(second.report?.results).toMatchObject([{ outcome: 'resumed', versionId: first.report!.results[0].versionId }]);
    expect(labelled(cloud, RS, 'orders')?.user).toBe('orders_clone');
  });

  it('fails with InvalidSecretValue when ACSCurrent holds another user, before any write', async () => {
    const foreign = { name: userSecretName(RS, 'orders'), instanceId: RS, versions: [{ versionId: 'v1', data: userData(RS, 'reports', 'Reports#Fail-Pw1'), stages: ['ACSCurrent'] }] };
    const cloud = await h.start(appFixture([ordersInstance({ users: [{ user: 'orders', password: ORDERS_PW }, { user: 'reports', password: 'Reports#Fail-Pw1' }] })], [foreign]));
    const writes = cloud.truth.writeRequests().length;
    const run = await h.run({ targets: [ORDERS], event: forced('foreign') });

    expect(run.report?.results).toMatchObject([{ outcome: 'failed', error: { code: OWN_CODES.invalidSecretValue } }]);
    expect(run.report!.results[0].error!.message).toContain('names the account "reports", not "orders" or "orders_clone"');
    expect(cloud.truth.writeRequests()).toHaveLength(writes);
    expect(userCommands(cloud, RS)).toEqual([]);
  });

  it('plans a dry run without touching the database or the secrets', async () => {
    const cloud = await h.start(appFixture([ordersInstance()], [userSecret(RS, 'orders', ORDERS_PW)]));
    const run = await h.run({ targets: [{ instanceId: RS }, ORDERS], event: { ...forced('dry'), dryRun: true } });

    expect(run.report?.results).toMatchObject([{ outcome: 'planned' }, { accountName: 'orders', outcome: 'planned' }]);
    expect(cloud.truth.writeRequests()).toEqual([]);
    expect(userCommands(cloud, RS)).toEqual([]);
  });

  it('fails a TLS target at a server that closes the TLS handshake (one without TLS) at once, saying so', async () => {
    await h.start(appFixture([ordersInstance()], [userSecret(RS, 'orders', ORDERS_PW)]));
    // A server that does not speak TLS drops a connection that opens with a TLS ClientHello.
    const plain = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const connectionHost = `127.0.0.1:${(plain.address() as AddressInfo).port}`;
      const run = await h.run({ targets: [{ ...ORDERS, connectionHost }], event: forced('no-tls'), env: { ALLOW_PLAINTEXT_USER_ADMIN: undefined } });
      expect(run.report?.results).toMatchObject([
        { outcome: 'failed', attempts: 1, error: { code: OWN_CODES.userAdminUnreachable, message: expect.stringContaining('the server closed the connection during the TLS handshake: it may not use TLS') } },
      ]);
    } finally {
      await new Promise((resolve) => plain.close(resolve));
    }
  });

  it('warns in every run that user commands go without TLS when plain text is allowed', async () => {
    await h.start(appFixture([ordersInstance()], [userSecret(RS, 'orders', ORDERS_PW)]));
    const run = await h.run({ targets: [ORDERS], event: forced('plain') });
    expect(run.logs.find((e) => e.level === 'warn' && e.msg === 'user commands and the login check go without TLS: they carry passwords in clear text')).toMatchObject([
      { accountName: 'orders', allowedBy: 'ALLOW_PLAINTEXT_USER_ADMIN' },
    ]);
  });
});
