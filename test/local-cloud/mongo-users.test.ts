/**
 * The local cloud's MongoDB peers as user administration servers, driven by the official
 * `mongodb` driver: usersInfo, createUser, updateUser, dropUser, with MongoDB's reply shapes,
 * codes and messages; who may run them; queries for application users; and a sharded cluster's
 * users, which live on its config servers behind the mongos.
 */
import { Binary, MongoServerError, UUID } from 'mongodb';
import { describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { useCloudPerTest } from '../helpers/cloud';
import { type Login, loginOutcome, rejection, useMongoClients } from '../helpers/mongo';
import { ddsCall } from '../helpers/sdk';
import { FixtureError, loadFixture } from '../../local-cloud/state';

const RS = 'dds-rsusers01';
const SH = 'dds-shusers01';
const ROOT: Login = { user: 'root', password: 'Users#Root-Pw1' };
const SHARD_ROOT: Login = { user: 'root', password: 'Users#Shard-Pw1' };
const ORDERS: Login = { user: 'orders', password: 'Orders#App-Pw1' };
const USER_ADMIN: Login = { user: 'useradmin', password: 'UserAdmin#Pw-1' };
const APP_ADMIN: Login = { user: 'appadmin', password: 'AppAdmin#Pw-01', db: 'app' };
const REPORTS: Login = { user: 'reports', password: 'Reports#Sha1-Pw', db: 'app' };
const AUTHENTICATION_FAILED = 18;

const FIXTURE = {
  region: 'cn-hangzhou',
  accessKeys: [{ id: 'LTAI5tMongoUsers01', secret: 'mongo-users-secret-01' }],
  instances: [
    {
      id: RS,
      type: 'replicate',
      rootPassword: ROOT.password,
      users: [
        { user: ORDERS.user, password: ORDERS.password, roles: [{ role: 'readWrite', db: 'app' }] },
        { user: USER_ADMIN.user, password: USER_ADMIN.password, roles: [{ role: 'userAdminAnyDatabase', db: 'admin' }] },
        { user: APP_ADMIN.user, db: 'app', password: APP_ADMIN.password, roles: ['userAdmin'] },
        { user: REPORTS.user, db: 'app', password: REPORTS.password, roles: ['read'], mechanisms: ['SCRAM-SHA-1'] },
      ],
    },
    {
      id: SH,
      type: 'sharding',
      rootPassword: SHARD_ROOT.password,
      users: [{ user: ORDERS.user, password: 'Orders#Shard-Pw1', roles: [{ role: 'readWrite', db: 'app' }] }],
    },
  ],
  secrets: [],
};

const startCloud = useCloudPerTest();
const connect = useMongoClients();

const start = () => startCloud({ fixture: FIXTURE, mongoPeers: true });
const admin = (cloud: LocalCloud, login: Login, instanceId = RS) => connect(cloud, instanceId, login).db('admin');
const logsIn = (cloud: LocalCloud, login: Login, instanceId = RS) => loginOutcome(connect, cloud, instanceId, login);

/** The server error a command failed with. */
async function serverError(attempt: Promise<unknown>): Promise<MongoServerError> {
  const error = await rejection(attempt);
  expect(error).toBeInstanceOf(MongoServerError);
  return error as MongoServerError;
}

describe('usersInfo', () => {
  it('shows a user by name, without credentials and without its password', async () => {
    const cloud = await start();
    const reply = await admin(cloud, ROOT).command({ usersInfo: ORDERS.user });
    expect(reply).toEqual({
      users: [
        {
          _id: 'admin.orders',
          userId: expect.any(Binary),
          user: 'orders',
          db: 'admin',
          roles: [{ role: 'readWrite', db: 'app' }],
          mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'],
        },
      ],
      ok: 1,
    });
    expect((reply.users[0].userId as Binary).sub_type).toBe(UUID.SUBTYPE_UUID);
    expect(JSON.stringify(reply)).not.toContain(ORDERS.password);
  });

  it('takes {user, db}, a list, 1 (the database) and {forAllDBs: true}; an unknown user is simply absent', async () => {
    const cloud = await start();
    const root = admin(cloud, ROOT);
    const names = (reply: { users?: Array<{ _id: string }> }) => reply.users!.map((user) => user._id);
    expect(names(await root.command({ usersInfo: { user: 'appadmin', db: 'app' } }))).toEqual(['app.appadmin']);
    expect(names(await root.command({ usersInfo: ['orders', { user: 'reports', db: 'app' }, 'ghost'] }))).toEqual(['admin.orders', 'app.reports']);
    expect(names(await root.command({ usersInfo: 1 }))).toEqual(['admin.orders', 'admin.root', 'admin.useradmin']);
    expect(names(await connect(cloud, RS, ROOT).db('app').command({ usersInfo: 1 }))).toEqual(['app.appadmin', 'app.reports']);
    expect(names(await root.command({ usersInfo: { forAllDBs: true } }))).toEqual([
      'app.appadmin',
      'admin.orders',
      'app.reports',
      'admin.root',
      'admin.useradmin',
    ]);
    expect(await root.command({ usersInfo: 'ghost' })).toEqual({ users: [], ok: 1 });
  });

  it('shows SCRAM credentials when asked: MongoDB iteration counts, one salt per user kept until its password changes', async () => {
    const cloud = await start();
    const root = admin(cloud, ROOT);
    const credentials = async (user: string) =>
      ((await root.command({ usersInfo: user, showCredentials: true })).users[0].credentials as Record<string, Record<string, unknown>>);
    const first = await credentials('orders');
    expect(first).toEqual({
      'SCRAM-SHA-1': { iterationCount: 10000, salt: expect.any(String), storedKey: expect.any(String), serverKey: expect.any(String) },
      'SCRAM-SHA-256': { iterationCount: 15000, salt: expect.any(String), storedKey: expect.any(String), serverKey: expect.any(String) },
    });
    expect(await credentials('orders')).toEqual(first);
    expect((await credentials('useradmin'))['SCRAM-SHA-256'].salt).not.toBe(first['SCRAM-SHA-256'].salt);

    await root.command({ updateUser: 'orders', pwd: 'Orders#App-Pw2' });
    expect((await credentials('orders'))['SCRAM-SHA-256'].salt).not.toBe(first['SCRAM-SHA-256'].salt);
  });
});

describe('createUser', () => {
  it('creates a user with roles (by name on the database, or {role, db}) that then logs in and reads', async () => {
    const cloud = await start();
    const app = connect(cloud, RS, ROOT).db('app');
    await expect(app.command({ createUser: 'billing', pwd: 'Billing#App-Pw1', roles: ['readWrite', { role: 'read', db: 'reporting' }] })).resolves.toEqual({ ok: 1 });

    expect(cloud.truth.userPassword(RS, 'billing', 'app')).toBe('Billing#App-Pw1');
    expect(cloud.truth.users(RS)).toContainEqual({
      user: 'billing',
      db: 'app',
      password: 'Billing#App-Pw1',
      roles: [{ role: 'readWrite', db: 'app' }, { role: 'read', db: 'reporting' }],
      mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'],
    });
    const billing = connect(cloud, RS, { user: 'billing', password: 'Billing#App-Pw1', db: 'app' });
    await expect(billing.db('reporting').collection('daily').findOne({})).resolves.toBeNull();
  });

  it('stores credentials for the mechanisms asked for only', async () => {
    const cloud = await start();
    await admin(cloud, ROOT).command({ createUser: 'legacy', pwd: 'Legacy#App-Pw1', roles: [], mechanisms: ['SCRAM-SHA-1'] });
    const legacy: Login = { user: 'legacy', password: 'Legacy#App-Pw1' };
    expect(await logsIn(cloud, legacy)).toBe('ok');
    const refused = await rejection(connect(cloud, RS, legacy, { authMechanism: 'SCRAM-SHA-256' }).connect());
    expect(refused).toMatchObject({
      code: 334,
      codeName: 'MechanismUnavailable',
      message: 'Unable to use SCRAM-SHA-256 based authentication for user without any SCRAM-SHA-256 credentials registered',
    });
  });

  it('refuses a user that exists with 51003 "User ... already exists", and keeps its password', async () => {
    const cloud = await start();
    const error = await serverError(admin(cloud, ROOT).command({ createUser: 'orders', pwd: 'Orders#Other-Pw1', roles: [] }));
    expect(error).toMatchObject({ code: 51003, codeName: 'Location51003', message: 'User "orders@admin" already exists' });
    expect(cloud.truth.userPassword(RS, 'orders')).toBe(ORDERS.password);
    expect(await serverError(admin(cloud, ROOT).command({ createUser: 'root', pwd: 'Root#Other-Pw1', roles: [] }))).toMatchObject({
      code: 51003,
      message: 'User "root@admin" already exists',
    });
  });

  it('refuses bad commands with MongoDB codes, creating nothing', async () => {
    const cloud = await start();
    const root = admin(cloud, ROOT);
    const cases: Array<[object, object]> = [
      [{ createUser: 'x1', roles: [] }, { code: 2, codeName: 'BadValue', message: "Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db" }],
      [{ createUser: 'x2', pwd: 'X2#Password-01' }, { code: 40414, message: "BSON field 'createUser.roles' is missing but a required field" }],
      [{ createUser: 'x3', pwd: 'X3#Password-01', roles: [{ role: 'readWriteAll', db: 'app' }] }, { code: 31, codeName: 'RoleNotFound', message: 'Could not find role: readWriteAll@app' }],
      [{ createUser: 'x4', pwd: 'X4#Password-01', roles: [{ role: 'readAnyDatabase', db: 'app' }] }, { code: 31, message: 'Could not find role: readAnyDatabase@app' }],
      [{ createUser: 'x5', pwd: 'X5#Password-01', roles: [], mechanisms: [] }, { code: 2, message: 'mechanisms field must not be empty' }],
      [{ createUser: 'x6', pwd: 'X6#Password-01', roles: [], mechanisms: ['SCRAM-SHA-512'] }, { code: 2, message: "Unknown auth mechanism 'SCRAM-SHA-512'" }],
      [{ createUser: 'x7', pwd: 7, roles: [] }, { code: 14, codeName: 'TypeMismatch', message: "BSON field 'createUser.pwd' is the wrong type 'int', expected type 'string'" }],
    ];
    for (const [command, expected] of cases) {
      expect(await serverError(root.command(command))).toMatchObject(expected);
    }
    expect(cloud.truth.users(RS).filter((u) => /^x\d$/.test(u.user))).toEqual([]);
    expect(await serverError(connect(cloud, RS, ROOT).db('local').command({ createUser: 'x8', pwd: 'X8#Password-01', roles: [] }))).toMatchObject({
      code: 2,
      message: 'Cannot create users in the local database',
    });
  });
});

describe('updateUser', () => {
  it('changes a password: the old one stops logging in, the new one works, logged-in connections stay logged in', async () => {
    const cloud = await start();
    const before = connect(cloud, RS, ORDERS).db('app');
    await before.collection('orders').findOne({});
    await expect(admin(cloud, ROOT).command({ updateUser: 'orders', pwd: 'Orders#App-Pw2' })).resolves.toEqual({ ok: 1 });

    expect(cloud.truth.userPassword(RS, 'orders')).toBe('Orders#App-Pw2');
    expect(await logsIn(cloud, ORDERS)).toBe(AUTHENTICATION_FAILED);
    expect(await logsIn(cloud, { ...ORDERS, password: 'Orders#App-Pw2' })).toBe('ok');
    await expect(before.collection('orders').findOne({})).resolves.toBeNull();
  });

  it('replaces the roles, which take effect on connections already logged in', async () => {
    const cloud = await start();
    const orders = connect(cloud, RS, ORDERS);
    await expect(orders.db('app').collection('orders').findOne({})).resolves.toBeNull();
    await admin(cloud, ROOT).command({ updateUser: 'orders', roles: [{ role: 'read', db: 'shop' }] });

    expect(await orders.db('admin').command({ connectionStatus: 1 })).toMatchObject({
      authInfo: { authenticatedUsers: [{ user: 'orders', db: 'admin' }], authenticatedUserRoles: [{ role: 'read', db: 'shop' }] },
    });
    expect(await serverError(orders.db('app').collection('orders').findOne({}))).toMatchObject({ code: 13, codeName: 'Unauthorized' });
    await expect(orders.db('shop').collection('items').findOne({})).resolves.toBeNull();
  });

  it('sets the mechanisms with a password, or keeps a subset of them without one', async () => {
    const cloud = await start();
    const root = admin(cloud, ROOT);
    await root.command({ updateUser: 'orders', pwd: 'Orders#App-Pw2', mechanisms: ['SCRAM-SHA-256'] });
    const orders2: Login = { ...ORDERS, password: 'Orders#App-Pw2' };
    expect(await logsIn(cloud, orders2)).toBe('ok');
    expect(await rejection(connect(cloud, RS, orders2, { authMechanism: 'SCRAM-SHA-1' }).connect())).toMatchObject({ code: 334 });

    expect(await serverError(root.command({ updateUser: 'orders', mechanisms: ['SCRAM-SHA-1'] }))).toMatchObject({
      code: 2,
      message: 'mechanisms field must be a subset of previously set mechanisms',
    });
    await root.command({ updateUser: 'useradmin', mechanisms: ['SCRAM-SHA-1'] });
    expect((await root.command({ usersInfo: 'useradmin' })).users[0].mechanisms).toEqual(['SCRAM-SHA-1']);
  });

  it('answers 11 UserNotFound for a user that does not exist, and BadValue for nothing to update', async () => {
    const cloud = await start();
    const root = admin(cloud, ROOT);
    expect(await serverError(root.command({ updateUser: 'ghost', pwd: 'Ghost#Pw-00001' }))).toMatchObject({
      code: 11,
      codeName: 'UserNotFound',
      message: 'User ghost@admin not found',
    });
    expect(await serverError(root.command({ updateUser: 'orders' }))).toMatchObject({
      code: 2,
      message: 'Must specify at least one field to update in updateUser',
    });
    expect(await serverError(root.command({ updateUser: 'orders', roles: ['nosuchrole'] }))).toMatchObject({ code: 31, message: 'Could not find role: nosuchrole@admin' });
    expect(cloud.truth.userPassword(RS, 'ghost')).toBeUndefined();
  });

  it("changes root's password as the instance's root password (a drift from what KMS holds)", async () => {
    const cloud = await start();
    await admin(cloud, ROOT).command({ updateUser: 'root', pwd: 'Users#Root-Pw2' });
    expect(cloud.truth.rootPassword(RS)).toBe('Users#Root-Pw2');
    expect(await logsIn(cloud, { ...ROOT, password: 'Users#Root-Pw2' })).toBe('ok');
    expect(await serverError(admin(cloud, { ...ROOT, password: 'Users#Root-Pw2' }).command({ updateUser: 'root', roles: [] }))).toMatchObject({ code: 2 });
  });
});

describe('dropUser', () => {
  it('drops a user: it can no longer log in, and its open connections are logged out', async () => {
    const cloud = await start();
    const orders = connect(cloud, RS, ORDERS);
    await orders.db('app').collection('orders').findOne({});
    await expect(admin(cloud, ROOT).command({ dropUser: 'orders' })).resolves.toEqual({ ok: 1 });

    expect(cloud.truth.userPassword(RS, 'orders')).toBeUndefined();
    expect(await logsIn(cloud, ORDERS)).toBe(AUTHENTICATION_FAILED);
    expect(await serverError(orders.db('app').collection('orders').findOne({}))).toMatchObject({
      code: 13,
      message: 'command find requires authentication',
    });
  });

  it("answers 11 UserNotFound (\"User 'x@db' not found\") for a user that does not exist", async () => {
    const cloud = await start();
    expect(await serverError(admin(cloud, ROOT).command({ dropUser: 'ghost' }))).toMatchObject({
      code: 11,
      codeName: 'UserNotFound',
      message: "User 'ghost@admin' not found",
    });
  });
});

describe('the commands around them', () => {
  it('answers ping, hello, endSessions and connectionStatus (authenticated user and roles)', async () => {
    const cloud = await start();
    const orders = connect(cloud, RS, ORDERS).db('admin');
    await expect(orders.command({ ping: 1 })).resolves.toEqual({ ok: 1 });
    expect(await orders.command({ hello: 1 })).toMatchObject({ isWritablePrimary: true, setName: expect.any(String), ok: 1 });
    expect(await orders.command({ connectionStatus: 1 })).toEqual({
      authInfo: { authenticatedUsers: [{ user: 'orders', db: 'admin' }], authenticatedUserRoles: [{ role: 'readWrite', db: 'app' }] },
      ok: 1,
    });
    await expect(orders.command({ endSessions: [] })).resolves.toEqual({ ok: 1 });
  });

  it("lists a user's mechanisms in hello (saslSupportedMechs), so that the driver picks one it has", async () => {
    const cloud = await start();
    const anonymous = connect(cloud, RS).db('admin');
    expect((await anonymous.command({ hello: 1, saslSupportedMechs: 'app.reports' })).saslSupportedMechs).toEqual(['SCRAM-SHA-1']);
    expect(await anonymous.command({ hello: 1, saslSupportedMechs: 'admin.ghost' })).not.toHaveProperty('saslSupportedMechs');
    expect(await logsIn(cloud, REPORTS)).toBe('ok');
  });

  it('serves an application user its queries (find, count, aggregate) on an empty collection', async () => {
    const cloud = await start();
    const collection = connect(cloud, RS, ORDERS).db('app').collection('orders');
    await expect(collection.findOne({ status: 'open' })).resolves.toBeNull();
    await expect(collection.find({}).toArray()).resolves.toEqual([]);
    await expect(collection.countDocuments({})).resolves.toBe(0);
    await expect(collection.estimatedDocumentCount()).resolves.toBe(0);
  });
});

describe('authorization', () => {
  it('fails a wrong password with 18 AuthenticationFailed, and a command before login with 13', async () => {
    const cloud = await start();
    expect(await logsIn(cloud, { ...ORDERS, password: 'Orders#Wrong-Pw1' })).toBe(AUTHENTICATION_FAILED);
    expect(await logsIn(cloud, { ...ORDERS, db: 'app' })).toBe(AUTHENTICATION_FAILED);
    const anonymous = connect(cloud, RS).db('admin');
    for (const command of [{ usersInfo: 1 }, { createUser: 'x', pwd: 'X#Password-001', roles: [] }, { dropUser: 'orders' }]) {
      expect(await serverError(anonymous.command(command))).toMatchObject({
        code: 13,
        codeName: 'Unauthorized',
        message: `command ${Object.keys(command)[0]} requires authentication`,
      });
    }
  });

  it('refuses user management to a user without a user admin role, with MongoDB\'s message and no password in it', async () => {
    const cloud = await start();
    const orders = admin(cloud, ORDERS);
    const error = await serverError(orders.command({ createUser: 'sneaky', pwd: 'Sneaky#Pw-0001', roles: ['root'] }));
    expect(error).toMatchObject({ code: 13, codeName: 'Unauthorized' });
    expect(error.message).toMatch(/^not authorized on admin to execute command \{ createUser: "sneaky", pwd: "xxx", roles: \[ "root" \], /);
    expect(error.message).not.toContain('Sneaky#Pw-0001');
    for (const command of [{ updateUser: 'orders', pwd: 'Orders#Own-Pw01' }, { dropUser: 'useradmin' }, { usersInfo: 'useradmin' }, { usersInfo: 1 }]) {
      expect(await serverError(orders.command(command))).toMatchObject({ code: 13, message: expect.stringMatching(/^not authorized on admin to execute command /) });
    }
    expect(await orders.command({ usersInfo: 'orders' })).toMatchObject({ users: [{ user: 'orders' }] });
    expect(cloud.truth.userPassword(RS, 'orders')).toBe(ORDERS.password);
    expect(cloud.truth.userPassword(RS, 'sneaky')).toBeUndefined();
  });

  it('lets userAdminAnyDatabase manage users of every database', async () => {
    const cloud = await start();
    const userAdmin = connect(cloud, RS, USER_ADMIN);
    await userAdmin.db('admin').command({ updateUser: 'orders', pwd: 'Orders#App-Pw2' });
    await userAdmin.db('shop').command({ createUser: 'shop', pwd: 'Shop#App-Pw001', roles: ['readWrite'] });
    expect((await userAdmin.db('admin').command({ usersInfo: { forAllDBs: true } })).users).toHaveLength(6);
    expect(cloud.truth.userPassword(RS, 'orders')).toBe('Orders#App-Pw2');
    expect(cloud.truth.userPassword(RS, 'shop', 'shop')).toBe('Shop#App-Pw001');
  });

  it('lets userAdmin on a database manage that database only, and grant roles of that database only', async () => {
    const cloud = await start();
    const appAdmin = connect(cloud, RS, APP_ADMIN);
    await appAdmin.db('app').command({ createUser: 'worker', pwd: 'Worker#App-Pw01', roles: ['readWrite'] });
    expect(cloud.truth.userPassword(RS, 'worker', 'app')).toBe('Worker#App-Pw01');

    expect(await serverError(appAdmin.db('app').command({ createUser: 'boss', pwd: 'Boss#App-Pw001', roles: [{ role: 'root', db: 'admin' }] }))).toMatchObject({
      code: 13,
      message: expect.stringMatching(/^not authorized on app to execute command /),
    });
    expect(await serverError(appAdmin.db('admin').command({ updateUser: 'orders', pwd: 'Orders#Hijack-1' }))).toMatchObject({ code: 13 });
    expect(cloud.truth.userPassword(RS, 'boss', 'app')).toBeUndefined();
    expect(cloud.truth.userPassword(RS, 'orders')).toBe(ORDERS.password);
  });

  it('refuses a read without a read role on the database', async () => {
    const cloud = await start();
    const error = await serverError(connect(cloud, RS, ORDERS).db('billing').collection('invoices').findOne({}));
    expect(error).toMatchObject({ code: 13, message: expect.stringMatching(/^not authorized on billing to execute command \{ find: "invoices"/) });
    expect(await serverError(connect(cloud, RS).db('app').collection('orders').findOne({}))).toMatchObject({
      code: 13,
      message: 'command find requires authentication',
    });
  });
});

describe("a sharded cluster's users", () => {
  it("live on the config servers: the mongos checks root against the cs password, whatever the shards' (db) password", async () => {
    const cloud = await start();
    await ddsCall(cloud, 'ResetAccountPassword', { DBInstanceId: SH, AccountName: 'root', AccountPassword: 'Shards#Only-Pw2', CharacterType: 'db' });
    expect(await logsIn(cloud, SHARD_ROOT, SH)).toBe('ok');
    expect(await logsIn(cloud, { ...SHARD_ROOT, password: 'Shards#Only-Pw2' }, SH)).toBe(AUTHENTICATION_FAILED);

    await ddsCall(cloud, 'ResetAccountPassword', { DBInstanceId: SH, AccountName: 'root', AccountPassword: 'Config#Srv-Pw02', CharacterType: 'cs' });
    expect(cloud.truth.userPassword(SH, 'root')).toBe('Config#Srv-Pw02');
    expect(await logsIn(cloud, { ...SHARD_ROOT, password: 'Config#Srv-Pw02' }, SH)).toBe('ok');
  });

  it('are the cluster\'s: created through the mongos, held by the instance, separate from another instance\'s users', async () => {
    const cloud = await start();
    const mongos = admin(cloud, SHARD_ROOT, SH);
    expect(await mongos.command({ hello: 1 })).toMatchObject({ msg: 'isdbgrid' });
    await mongos.command({ createUser: 'orders_clone', pwd: 'Clone#Shard-Pw1', roles: [{ role: 'readWrite', db: 'app' }] });
    await mongos.command({ updateUser: 'orders', pwd: 'Orders#Shard-Pw2' });

    expect(cloud.truth.users(SH).map(({ user, password }) => [user, password])).toEqual([
      ['root', SHARD_ROOT.password],
      ['orders', 'Orders#Shard-Pw2'],
      ['orders_clone', 'Clone#Shard-Pw1'],
    ]);
    expect(cloud.truth.userPassword(RS, 'orders')).toBe(ORDERS.password);
    expect(await logsIn(cloud, { user: 'orders_clone', password: 'Clone#Shard-Pw1' }, SH)).toBe('ok');
    expect(await logsIn(cloud, { user: 'orders_clone', password: 'Clone#Shard-Pw1' })).toBe(AUTHENTICATION_FAILED);
  });
});

describe('users in a fixture (instances[].users)', () => {
  const withUsers = (users: unknown[], secretExtra: object = {}) => ({
    ...FIXTURE,
    instances: [{ id: RS, type: 'replicate', rootPassword: ROOT.password, users }],
    secrets: [
      {
        name: `mongodb/${RS}/orders`,
        ...secretExtra,
        versions: [{ versionId: 'v1', data: JSON.stringify({ AccountName: 'orders', AccountPassword: ORDERS.password, DBInstanceId: RS }), stages: ['ACSCurrent'] }],
      },
    ],
  });

  it('fills in the defaults: db admin, no roles, both mechanisms', () => {
    const fixture = loadFixture(withUsers([{ user: 'orders', password: ORDERS.password }]));
    expect(fixture.instances[0].users).toEqual([{ user: 'orders', db: 'admin', password: ORDERS.password, roles: [], mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'] }]);
  });

  it('refuses bad users, naming each field and never quoting a password', () => {
    const problems = problemsOf(
      withUsers(
        [
          { user: 'root', password: 'Root#Again-Pw1' },
          { user: 'orders', password: ORDERS.password, roles: ['readWrite', { role: 'clusterAdmin', db: 'app' }, 7], mechanisms: ['MD5'] },
          { user: 'orders', password: 12345 },
          { user: '', password: 'Empty#User-Pw1', colour: 'red' },
        ],
        { strategy: 'sometimes' },
      ),
    );
    expect(problems).toEqual([
      'instances[0].users[0].user: "root" on "admin" is the instance\'s root account, seeded by rootPassword; remove this entry',
      'instances[0].users[1].roles[1]: "clusterAdmin" is not a built-in role on "app"; use read, readWrite, dbAdmin, dbOwner or userAdmin on any database, or an AnyDatabase, cluster or root role on "admin"',
      'instances[0].users[1].roles[2]: must be a role name such as "readWrite" or {"role":"readWrite","db":"app"}, got 7',
      'instances[0].users[1].mechanisms: must be a non-empty array of "SCRAM-SHA-1", "SCRAM-SHA-256", got ["MD5"]',
      'instances[0].users[2].password: must be a non-empty string, got a number',
      'instances[0].users[3].colour: unknown field; expected one of user, db, password, roles, mechanisms, customData',
      'instances[0].users[3].user: must be a non-empty string (a user name without NUL characters), got ""',
      'secrets[0].strategy: must be "alternating" or "single", got "sometimes"',
    ]);
    expect(problems.join('\n')).not.toMatch(/Root#Again|Empty#User|12345/);
  });

  it('refuses a user seeded twice', () => {
    expect(problemsOf(withUsers([{ user: 'orders', password: ORDERS.password }, { user: 'orders', password: 'Orders#Twice-Pw' }]))).toEqual([
      'instances[0].users: user "orders@admin" appears more than once; each user must be unique',
    ]);
  });
});

function problemsOf(raw: object): string[] {
  try {
    loadFixture(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(FixtureError);
    return (err as FixtureError).problems;
  }
  throw new Error('the fixture was accepted');
}
