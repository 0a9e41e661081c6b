/**
 * The invariant monitor for application users: after every user command (and every API write),
 * the user that ACSCurrent names holds ACSCurrent's password (a "single" secret: or ACSPending's),
 * and every user a labelled version names holds a password some labelled version names for it.
 * Rotations are done by hand here, with the official KMS client and the official `mongodb` driver.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { type Login, useMongoClients } from '../helpers/mongo';
import { type KmsClient, kmsClient, kmsModels as $ } from '../helpers/sdk';

const RS = 'dds-rsinvariant1';
const SH = 'dds-shinvariant1';
const ROOT: Login = { user: 'root', password: 'Inv#Root-Pw-001' };
const ORDERS_SECRET = `mongodb/${RS}/orders`;
const REPORTS_SECRET = `mongodb/${RS}/reports`;
const SHARDED_SECRET = `mongodb/${SH}/orders`;
const APP_ROLES = [{ role: 'readWrite', db: 'app' }];

const appData = (instanceId: string, user: string, password: string) =>
  JSON.stringify({ AccountName: user, AccountPassword: password, DBInstanceId: instanceId, AuthDatabase: 'admin' });

interface Options {
  /** Declares the reports secret's strategy in the fixture. */
  strategy?: 'alternating' | 'single';
  /** Stages, in the fixture, an ACSPending of the reports secret naming reports itself with this password. */
  pendingForReports?: string;
}

function fixture(options: Options = {}) {
  return {
    region: 'cn-hangzhou',
    accessKeys: [{ id: 'LTAI5tUserInvariant1', secret: 'user-invariant-secret-1' }],
    instances: [
      {
        id: RS,
        type: 'replicate',
        rootPassword: ROOT.password,
        users: [
          { user: 'orders', password: 'Orders#Pw-A0001', roles: APP_ROLES },
          { user: 'orders_clone', password: 'Clone#Pw-B00001', roles: APP_ROLES },
          { user: 'reports', password: 'Reports#Pw-R001', roles: [{ role: 'read', db: 'app' }] },
        ],
      },
      { id: SH, type: 'sharding', rootPassword: ROOT.password, users: [{ user: 'orders', password: 'Orders#Sh-A0001', roles: APP_ROLES }] },
    ],
    secrets: [
      {
        name: ORDERS_SECRET,
        versions: [
          { versionId: 'v0', data: appData(RS, 'orders_clone', 'Clone#Pw-B00001'), stages: ['ACSPrevious'], createTime: '-60d' },
          { versionId: 'v1', data: appData(RS, 'orders', 'Orders#Pw-A0001'), stages: ['ACSCurrent'], createTime: '-30d' },
        ],
      },
      {
        name: REPORTS_SECRET,
        ...(options.strategy && { strategy: options.strategy }),
        versions: [
          { versionId: 'v1', data: appData(RS, 'reports', 'Reports#Pw-R001'), stages: ['ACSCurrent'], createTime: '-30d' },
          ...(options.pendingForReports ? [{ versionId: 'v2', data: appData(RS, 'reports', options.pendingForReports), stages: ['ACSPending'], createTime: '-1d' }] : []),
        ],
      },
      { name: SHARDED_SECRET, versions: [{ versionId: 'v1', data: appData(SH, 'orders', 'Orders#Sh-A0001'), stages: ['ACSCurrent'], createTime: '-30d' }] },
    ],
  };
}

const connect = useMongoClients();
let cloud: LocalCloud | undefined;
let kms: KmsClient;

afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
});

async function start(options: Options = {}): Promise<LocalCloud> {
  cloud = await startCloud({ port: 0, fixture: fixture(options), mongoPeers: true }, { violationsAllowed: 'this suite stages violations to see the monitor record them, and asserts each one' });
  kms = kmsClient(cloud);
  return cloud;
}

const root = (instanceId = RS) => connect(cloud!, instanceId, ROOT).db('admin');

const stagePending = (secretName: string, versionId: string, secretData: string) =>
  kms.putSecretValue(new $.PutSecretValueRequest({ secretName, versionId, secretData, versionStages: '["ACSPending"]' }));
const moveStage = (secretName: string, versionStage: string, versions: { moveToVersion?: string; removeFromVersion?: string }) =>
  kms.updateSecretVersionStage(new $.UpdateSecretVersionStageRequest({ secretName, versionStage, ...versions }));

async function promote(secretName: string, versionId: string, currentVersionId: string): Promise<void> {
  await moveStage(secretName, 'ACSCurrent', { moveToVersion: versionId, removeFromVersion: currentVersionId });
  await moveStage(secretName, 'ACSPending', { removeFromVersion: versionId });
}

/** The last command the peers served with this name: what a violation is attributed to. */
const lastCommand = (name: string) => cloud!.mongo.commands.filter((c) => c.command === name).at(-1)!;

describe('the invariant monitor for application users', () => {
  it('records no violation through alternating rotations done by hand, each of which changes only the other user', async () => {
    await start();
    let current = { versionId: 'v1', user: 'orders' };
    for (const [versionId, password] of [['r-1', 'Clone#Pw-C00001'], ['r-2', 'Orders#Pw-D0001'], ['r-3', 'Clone#Pw-E00001']]) {
      const other = current.user === 'orders' ? 'orders_clone' : 'orders';
      await stagePending(ORDERS_SECRET, versionId, appData(RS, other, password));
      const { users } = await root().command({ usersInfo: current.user });
      await root().command({ updateUser: other, pwd: password, roles: users[0].roles });
      await expect(connect(cloud!, RS, { user: other, password }).db('app').collection('orders').findOne({})).resolves.toBeNull();
      await promote(ORDERS_SECRET, versionId, current.versionId);
      current = { versionId, user: other };
    }

    expect(cloud!.truth.userPassword(RS, 'orders_clone')).toBe('Clone#Pw-E00001');
    expect(cloud!.truth.userPassword(RS, 'orders')).toBe('Orders#Pw-D0001');
    expect(cloud!.truth.secret(ORDERS_SECRET)!.versions.find((v) => v.stages.includes('ACSPrevious'))!.versionId).toBe('r-2');
    expect(cloud!.truth.violations).toEqual([]);
  });

  it('records a violation when the user ACSCurrent names loses its password, attributed to the command, naming no password', async () => {
    await start();
    await root().command({ updateUser: 'orders', pwd: 'Orders#Pw-Z0001' });

    const updateUser = lastCommand('updateUser');
    expect(cloud!.truth.violations).toEqual([
      {
        time: expect.any(String),
        secretName: ORDERS_SECRET,
        instanceId: RS,
        user: 'orders',
        db: 'admin',
        rule: 'current',
        requestId: updateUser.requestId,
        product: 'mongo',
        action: 'updateUser',
        ongoing: false,
      },
    ]);
    expect(JSON.stringify(cloud!.truth.violations)).not.toMatch(/Orders#Pw|Clone#Pw/);
  });

  it('holds an alternating secret strictly: the current user may not take even the pending password', async () => {
    await start();
    await stagePending(ORDERS_SECRET, 'r-1', appData(RS, 'orders_clone', 'Clone#Pw-C00001'));
    await root().command({ updateUser: 'orders', pwd: 'Clone#Pw-C00001' });
    expect(cloud!.truth.violations).toMatchObject([{ user: 'orders', rule: 'current', action: 'updateUser' }]);
  });

  it('records a violation when another user a labelled version names holds a password no version names for it', async () => {
    await start();
    await root().command({ updateUser: 'orders_clone', pwd: 'Clone#Pw-X00001' });
    expect(cloud!.truth.violations).toMatchObject([{ secretName: ORDERS_SECRET, user: 'orders_clone', rule: 'labelled', product: 'mongo', action: 'updateUser' }]);
  });

  it('lets a single-user secret\'s user hold ACSCurrent\'s or ACSPending\'s password, and nothing else', async () => {
    await start();
    await stagePending(REPORTS_SECRET, 'r-1', appData(RS, 'reports', 'Reports#Pw-R002'));
    await root().command({ updateUser: 'reports', pwd: 'Reports#Pw-R002' });
    await promote(REPORTS_SECRET, 'r-1', 'v1');
    expect(cloud!.truth.violations).toEqual([]);

    await root().command({ updateUser: 'reports', pwd: 'Reports#Pw-R003' });
    expect(cloud!.truth.violations).toMatchObject([{ secretName: REPORTS_SECRET, user: 'reports', rule: 'current', action: 'updateUser' }]);
  });

  it("holds a secret to the strategy its fixture declares rather than the one its versions suggest", async () => {
    await start({ pendingForReports: 'Reports#Pw-R002' });
    await root().command({ updateUser: 'reports', pwd: 'Reports#Pw-R002' });
    expect(cloud!.truth.violations).toEqual([]);
    await cloud!.close();

    await start({ pendingForReports: 'Reports#Pw-R002', strategy: 'alternating' });
    await root().command({ updateUser: 'reports', pwd: 'Reports#Pw-R002' });
    expect(cloud!.truth.violations).toMatchObject([{ secretName: REPORTS_SECRET, user: 'reports', rule: 'current' }]);
  });

  it('checks after every API write too: promoting a version whose user does not hold its password', async () => {
    await start();
    await stagePending(ORDERS_SECRET, 'r-1', appData(RS, 'orders_clone', 'Clone#Pw-C00001'));
    expect(cloud!.truth.violations).toEqual([]);
    await moveStage(ORDERS_SECRET, 'ACSCurrent', { moveToVersion: 'r-1', removeFromVersion: 'v1' });
    expect(cloud!.truth.violations).toMatchObject([{ user: 'orders_clone', rule: 'current', product: 'kms', action: 'UpdateSecretVersionStage' }]);
  });

  it('records dropping the current user, and creating a named user with a password no version names', async () => {
    await start();
    await root().command({ dropUser: 'orders_clone' });
    expect(cloud!.truth.violations).toEqual([]);
    await stagePending(ORDERS_SECRET, 'r-1', appData(RS, 'orders_clone', 'Clone#Pw-C00001'));
    await root().command({ createUser: 'orders_clone', pwd: 'Clone#Pw-Y00001', roles: APP_ROLES });
    await root().command({ dropUser: 'orders' });
    expect(cloud!.truth.violations).toMatchObject([
      { user: 'orders_clone', rule: 'labelled', action: 'createUser', requestId: lastCommand('createUser').requestId },
      { user: 'orders', rule: 'current', action: 'dropUser', requestId: lastCommand('dropUser').requestId },
    ]);
  });

  it("checks a sharded cluster's users, held by its config servers", async () => {
    await start();
    await root(SH).command({ updateUser: 'orders', pwd: 'Orders#Sh-Z0001' });
    expect(cloud!.truth.violations).toMatchObject([{ secretName: SHARDED_SECRET, instanceId: SH, user: 'orders', rule: 'current', action: 'updateUser' }]);
  });

  it('checks a change made to the truth directly', async () => {
    await start();
    cloud!.truth.setUserPassword(RS, 'reports', 'Reports#Pw-Drift');
    expect(cloud!.truth.violations).toMatchObject([{ user: 'reports', product: 'truth', action: 'setUserPassword' }]);
  });
});
