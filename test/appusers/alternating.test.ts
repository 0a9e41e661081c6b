/**
 * Alternating users (docs/design.md §9): a rotation gives a new password to the user ACSCurrent does not name
 * (`<name>` ↔ `<name>_clone`), created on the first rotation with the current user's roles and copied them every
 * time, logs in as it, and promotes it. The user ACSCurrent names keeps its password at every instant (the local
 * cloud's monitor checks it after every user command; it must stay silent), so the password applications hold
 * keeps working for one more interval, as ACSPrevious.
 */
import { describe, expect, it } from 'vitest';
import { versionIdFor } from '../../functions/shared/targets';
import { kmsClient, kmsModels } from '../helpers/sdk';
import { appFixture, instance, rootSecretName, userData, userSecret, userSecretName } from './fixture';
import { forced, labelled, stagesOf, useAppHarness, userCommands } from './harness';

const RS = 'dds-rsappalt0001';
const SH = 'dds-shappalt0001';
const ROOT_PW = 'Root#Alt-Pw-0001';
const ORDERS_PW = 'Orders#Alt-Pw-01';
const ORDERS = { instanceId: RS, accountName: 'orders' };
const ROLES = [
  { role: 'readWrite', db: 'app' },
  { role: 'read', db: 'reports' },
];

describe('alternating users', () => {
  const h = useAppHarness();

  const start = (users = [{ user: 'orders', password: ORDERS_PW, roles: ROLES, mechanisms: ['SCRAM-SHA-256'] }]) =>
    h.start(appFixture([instance({ id: RS, rootPassword: ROOT_PW, users })], [userSecret(RS, 'orders', ORDERS_PW)]));

  it("creates <name>_clone on the first rotation with the current user's roles and mechanisms, and moves ACSCurrent to it", async () => {
    const cloud = await start();
    const run = await h.run({ targets: [ORDERS], event: forced('first') });

    const versionId = versionIdFor('manual\nfirst', RS, 'orders');
    expect(run.report?.results).toEqual([
      {
        instanceId: RS,
        secretName: userSecretName(RS, 'orders'),
        accountName: 'orders',
        strategy: 'alternating',
        outcome: 'rotated',
        versionId,
        characterTypes: [],
        attempts: 1,
        durationMs: expect.any(Number),
      },
    ]);
    const clone = cloud.truth.users(RS).find((u) => u.user === 'orders_clone');
    expect(clone).toMatchObject({ db: 'admin', roles: ROLES, mechanisms: ['SCRAM-SHA-256'] });
    expect(labelled(cloud, RS, 'orders')).toEqual({ user: 'orders_clone', password: clone!.password });
    expect(labelled(cloud, RS, 'orders', 'ACSPrevious')).toEqual({ user: 'orders', password: ORDERS_PW });
    expect(stagesOf(cloud, userSecretName(RS, 'orders'))).toEqual({ 'v-orders-1': ['ACSPrevious'], [versionId]: ['ACSCurrent'] });
    expect(cloud.truth.userPassword(RS, 'orders')).toBe(ORDERS_PW);
    expect(cloud.truth.rootPassword(RS)).toBe(ROOT_PW); // an application user's rotation never changes root

    // The check before staging (the current user exists), then the rotation's own.
    expect(userCommands(cloud, RS)).toEqual(['usersInfo', 'usersInfo', 'createUser']);
    expect(await h.login(RS, { user: 'orders_clone', password: clone!.password })).toBe('ok');
    expect(await h.login(RS, { user: 'orders', password: ORDERS_PW })).toBe('ok');
    expect(run.logs.find((e) => e.msg === "created the other user with the current user's roles")).toMatchObject([
      { step: 'apply', user: 'orders_clone@admin', from: 'orders@admin', roles: 2, accountName: 'orders', strategy: 'alternating' },
    ]);
    expect(run.logs.find((e) => e.msg === 'verify done')).toMatchObject([{ reapplied: false }]);
  });

  it('rotates again and again, each time changing only the other user, the one ACSCurrent names keeping its password at every instant', async () => {
    const cloud = await start();
    // Before and after every createUser and updateUser: the user ACSCurrent names holds ACSCurrent's password.
    const seen: string[] = [];
    const currentHolds = (phase: string) => {
      const current = labelled(cloud, RS, 'orders')!;
      seen.push(phase);
      expect(cloud.truth.userPassword(RS, current.user), `${current.user} ${phase} a user command`).toBe(current.password);
    };
    const setsPassword = (command: { body: Record<string, unknown> }) => 'pwd' in command.body;
    for (const command of ['createUser', 'updateUser']) {
      cloud.mongo.onCommand({ instanceId: RS, command, when: setsPassword, phase: 'before' }, () => currentHolds('before'));
      cloud.mongo.onCommand({ instanceId: RS, command, when: setsPassword, phase: 'after' }, () => currentHolds('after'));
    }
    const admin = h.connect(cloud, RS, { user: 'root', password: ROOT_PW }).db('admin');

    const users: string[] = [];
    for (let round = 1; round <= 4; round++) {
      const before = labelled(cloud, RS, 'orders')!;
      // An operator grants the current user one more role between rotations: the next rotation copies it.
      const grant = { role: 'read', db: `audit${round}` };
      const roles = cloud.truth.users(RS).find((u) => u.user === before.user)!.roles;
      await admin.command({ updateUser: before.user, roles: [...roles, grant] });

      const run = await h.run({ targets: [ORDERS], event: forced(`round-${round}`) });
      expect(run.report?.results).toMatchObject([{ outcome: 'rotated', accountName: 'orders' }]);

      const after = labelled(cloud, RS, 'orders')!;
      users.push(after.user);
      expect(after.user).not.toBe(before.user);
      expect(labelled(cloud, RS, 'orders', 'ACSPrevious')).toEqual(before);
      expect(cloud.truth.userPassword(RS, before.user)).toBe(before.password);
      expect(cloud.truth.users(RS).find((u) => u.user === after.user)!.roles).toEqual([...roles, grant]);
      // What applications read before the rotation still logs in for one more interval, and what they read now does.
      expect(await h.login(RS, { user: before.user, password: before.password })).toBe('ok');
      expect(await h.login(RS, { user: after.user, password: after.password })).toBe('ok');
    }
    expect(users).toEqual(['orders_clone', 'orders', 'orders_clone', 'orders']);
    expect(seen).toHaveLength(8); // a createUser, then three updateUsers, each seen before and after
    // Each round: the operator's grant, then the rotation's createUser (the first time) or updateUser.
    const rounds = ['createUser', 'updateUser', 'updateUser', 'updateUser'].flatMap((rotation) => ['updateUser', rotation]);
    expect(userCommands(cloud, RS).filter((c) => c !== 'usersInfo')).toEqual(rounds);
    expect(cloud.truth.rootPassword(RS)).toBe(ROOT_PW);
  });

  it('replaces a pending password for the user ACSCurrent names, never applying it', async () => {
    const cloud = await h.start(
      appFixture(
        [instance({ id: RS, rootPassword: ROOT_PW, users: [{ user: 'orders', password: ORDERS_PW }] })],
        [
          {
            name: userSecretName(RS, 'orders'),
            instanceId: RS,
            strategy: 'alternating',
            versions: [
              { versionId: 'v1', data: userData(RS, 'orders', ORDERS_PW), stages: ['ACSCurrent'] },
              // Staged on a stale view of who is current: applying it would lock applications out.
              { versionId: 'v-stale', data: userData(RS, 'orders', 'Stale#Alt-Pw-0001'), stages: ['ACSPending'], createTime: '-1h' },
            ],
          },
        ],
      ),
    );
    const run = await h.run({ targets: [ORDERS], event: forced('stale') });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(labelled(cloud, RS, 'orders')?.user).toBe('orders_clone');
    expect(cloud.truth.userPassword(RS, 'orders')).toBe(ORDERS_PW);
    expect(run.logs.find((e) => e.msg === 'the pending password cannot be used; staging a fresh one')).toMatchObject([
      { versionId: 'v-stale', problem: expect.stringContaining('the user ACSCurrent names, with another password') },
    ]);
  });

  it("puts only ACSCurrent's own password back when a concurrent run promoted this run's version (the engine's restore)", async () => {
    const cloud = await start();
    const kms = kmsClient(cloud);
    const secret = userSecretName(RS, 'orders');
    // The new password is refused once, so the run re-applies it; just before, a concurrent run promotes the version.
    cloud.mongo.rejectLogins(RS, { user: 'orders_clone', times: 1 });
    const promoter = cloud.faults.onAction({ product: 'kms', action: 'ListSecretVersionIds', nth: 3, phase: 'before' }, async () => {
      promoter.remove();
      const pending = await kms.getSecretValue(new kmsModels.GetSecretValueRequest({ secretName: secret, versionStage: 'ACSPending' }));
      const stage = (versionStage: string, moveToVersion?: string, removeFromVersion?: string) =>
        kms.updateSecretVersionStage(new kmsModels.UpdateSecretVersionStageRequest({ secretName: secret, versionStage, moveToVersion, removeFromVersion }));
      await stage('ACSCurrent', pending.versionId);
      await stage('ACSPending', undefined, pending.versionId);
    });
    const run = await h.run({ targets: [ORDERS], event: forced('restored') });

    expect(promoter.hits).toBe(1);
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(run.logs.find((e) => e.msg === "put ACSCurrent's password back on the user it names")).toMatchObject([{ user: 'orders_clone@admin' }]);
    const current = labelled(cloud, RS, 'orders')!;
    expect(current.user).toBe('orders_clone');
    expect(cloud.truth.userPassword(RS, 'orders_clone')).toBe(current.password);
    expect(cloud.truth.userPassword(RS, 'orders')).toBe(ORDERS_PW);
    expect(userCommands(cloud, RS).filter((c) => c !== 'usersInfo')).toEqual(['createUser', 'updateUser']);
  });

  it('rotates the users of a sharded cluster behind mongos, after root', async () => {
    const cloud = await h.start(
      appFixture([instance({ id: SH, type: 'sharding', rootPassword: ROOT_PW, users: [{ user: 'orders', password: ORDERS_PW }] })], [userSecret(SH, 'orders', ORDERS_PW)]),
    );
    const run = await h.run({ targets: [{ instanceId: SH, accountName: 'orders' }, { instanceId: SH }], event: forced('sharded') });

    expect(run.report?.results).toMatchObject([
      { secretName: rootSecretName(SH), outcome: 'rotated', characterTypes: ['db', 'cs'] },
      { secretName: userSecretName(SH, 'orders'), accountName: 'orders', outcome: 'rotated', characterTypes: [] },
    ]);
    const current = labelled(cloud, SH, 'orders')!;
    expect(current.user).toBe('orders_clone');
    expect(await h.login(SH, { user: 'orders_clone', password: current.password })).toBe('ok');
    expect(await h.login(SH, { user: 'orders', password: ORDERS_PW })).toBe('ok');
    // The users command went through the mongos as root, with root's new password (the cs role's).
    const rootPassword = cloud.truth.secretPassword(rootSecretName(SH))!;
    expect(cloud.truth.rootPasswords(SH)).toEqual({ db: rootPassword, cs: rootPassword });
    expect(cloud.mongo.commands.filter((c) => c.command === 'createUser')).toMatchObject([{ instanceId: SH, user: 'root@admin', ok: true }]);
  });
});
