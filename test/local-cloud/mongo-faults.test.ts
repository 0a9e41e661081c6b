/**
 * Faults on the MongoDB wire protocol, through `cloud.mongo` and the fixture's `mongoFaults`:
 * a connection dropped before or after a command is applied, a command held past the driver's
 * timeout (then applied), an error answer, hooks at any command (as it arrives, before, after),
 * and refused logins. Seen from the official `mongodb` driver.
 */
import { MongoNetworkError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import type { ArrivingCommand } from '../../local-cloud/mongo/instance-peers';
import { FixtureError } from '../../local-cloud/state';
import { startCloud as startGuardedCloud, useCloudPerTest } from '../helpers/cloud';
import { type Login, loginOutcome, rejection, useMongoClients } from '../helpers/mongo';

const RS = 'dds-rswirefault1';
const SH = 'dds-shwirefault1';
const ROOT: Login = { user: 'root', password: 'Wire#Root-Pw-01' };
const ORDERS: Login = { user: 'orders', password: 'Orders#Wire-Pw1' };
const NEW_PASSWORD = 'Orders#Wire-Pw2';

function fixture(extra: object = {}) {
  return {
    region: 'cn-hangzhou',
    accessKeys: [{ id: 'LTAI5tWireFaults01', secret: 'wire-faults-secret-01' }],
    instances: [
      { id: RS, type: 'replicate', rootPassword: ROOT.password, users: [{ user: 'orders', password: ORDERS.password, roles: [{ role: 'readWrite', db: 'app' }] }] },
      { id: SH, type: 'sharding', rootPassword: ROOT.password },
    ],
    secrets: [],
    ...extra,
  };
}

const startPerTest = useCloudPerTest();
const connect = useMongoClients();
const start = (extra?: object) => startPerTest({ fixture: fixture(extra), mongoPeers: true });

/** Root's connection to the instance, logged in before any fault is set. */
async function rootOf(cloud: LocalCloud, options = {}) {
  const client = connect(cloud, RS, ROOT, options);
  await client.db('admin').command({ ping: 1 });
  return client.db('admin');
}

const changePassword = { updateUser: 'orders', pwd: NEW_PASSWORD };
const password = (cloud: LocalCloud) => cloud.truth.userPassword(RS, 'orders');

describe('wire faults', () => {
  it('drops the connection before a command is applied: the driver sees a network error, nothing changed', async () => {
    const cloud = await start();
    const admin = await rootOf(cloud);
    const dropped = cloud.mongo.drop({ instanceId: RS, command: 'updateUser' });

    expect(await rejection(admin.command(changePassword))).toBeInstanceOf(MongoNetworkError);
    expect(dropped.hits).toBe(1);
    expect(password(cloud)).toBe(ORDERS.password);
    expect(cloud.mongo.commands.at(-1)).toMatchObject({ instanceId: RS, command: 'updateUser', user: 'root@admin', applied: false, answered: false });

    await expect(admin.command(changePassword)).resolves.toEqual({ ok: 1 });
    expect(password(cloud)).toBe(NEW_PASSWORD);
  });

  it('drops the connection after a command is applied: the change happened, the answer is lost', async () => {
    const cloud = await start();
    const admin = await rootOf(cloud);
    cloud.mongo.drop({ command: 'updateUser', after: true });

    expect(await rejection(admin.command(changePassword))).toBeInstanceOf(MongoNetworkError);
    expect(password(cloud)).toBe(NEW_PASSWORD);
    expect(cloud.mongo.commands.at(-1)).toMatchObject({ command: 'updateUser', applied: true, answered: false, ok: true });
  });

  it('holds a command past the driver\'s timeout, then applies it', async () => {
    const cloud = await start();
    const admin = await rootOf(cloud, { socketTimeoutMS: 300 });
    const held = cloud.mongo.hang({ command: 'updateUser', ms: 1_500 });

    const error = await rejection(admin.command(changePassword));
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect(error.message).toMatch(/timed out/);
    expect(password(cloud)).toBe(ORDERS.password);

    await cloud.mongo.settled();
    expect(held.hits).toBe(1);
    expect(password(cloud)).toBe(NEW_PASSWORD);
    expect(cloud.mongo.commands.at(-1)).toMatchObject({ command: 'updateUser', applied: true, answered: false });
  });

  it('holds the answer of a command already applied (after)', async () => {
    const cloud = await start();
    const admin = await rootOf(cloud, { socketTimeoutMS: 300 });
    cloud.mongo.hang({ command: 'updateUser', ms: 1_500, after: true });
    expect(await rejection(admin.command(changePassword))).toBeInstanceOf(MongoNetworkError);
    expect(password(cloud)).toBe(NEW_PASSWORD);
    await cloud.mongo.settled();
  });

  it('answers a command with an error, unapplied', async () => {
    const cloud = await start();
    const admin = await rootOf(cloud);
    const failed = cloud.mongo.error({ command: 'createUser', code: 91, times: 2 });
    const create = () => admin.command({ createUser: 'orders_clone', pwd: 'Clone#Wire-Pw01', roles: [] });
    for (let i = 0; i < 2; i++) {
      const error = await rejection(create());
      expect(error).toBeInstanceOf(MongoServerError);
      expect(error).toMatchObject({ code: 91, codeName: 'ShutdownInProgress' });
    }
    expect(cloud.truth.userPassword(RS, 'orders_clone')).toBeUndefined();
    await expect(create()).resolves.toEqual({ ok: 1 });
    expect(failed.hits).toBe(2);
  });

  it('runs a hook as a command arrives, then drops it unapplied; the hook sees no password', async () => {
    const cloud = await start();
    const admin = await rootOf(cloud);
    const seen: ArrivingCommand[] = [];
    cloud.mongo.onCommand({ command: 'updateUser', phase: 'arrive' }, (command) => void seen.push(command));

    expect(await rejection(admin.command(changePassword))).toBeInstanceOf(MongoNetworkError);
    expect(password(cloud)).toBe(ORDERS.password);
    expect(seen).toEqual([
      {
        requestId: expect.any(String),
        instanceId: RS,
        command: 'updateUser',
        db: 'admin',
        user: { user: 'root', db: 'admin' },
        body: expect.objectContaining({ updateUser: 'orders', pwd: 'xxx', $db: 'admin' }),
      },
    ]);
  });

  it('awaits a hook just before a command is applied: a client killed there still has its command applied', async () => {
    const cloud = await start();
    const client = connect(cloud, RS, ROOT);
    await client.db('admin').command({ ping: 1 });
    const hook = cloud.mongo.onCommand({ command: 'updateUser', phase: 'before' }, async () => {
      expect(password(cloud)).toBe(ORDERS.password);
      await client.close(true);
    });

    await rejection(client.db('admin').command(changePassword));
    await cloud.mongo.settled();
    expect(hook.hits).toBe(1);
    expect(password(cloud)).toBe(NEW_PASSWORD);
    expect(cloud.mongo.commands.at(-1)).toMatchObject({ command: 'updateUser', applied: true, answered: false });
  });

  it('awaits a hook once a command is applied, before its answer', async () => {
    const cloud = await start();
    const admin = await rootOf(cloud);
    const seenInHook: Array<string | undefined> = [];
    cloud.mongo.onCommand({ instanceId: RS, command: 'updateUser', phase: 'after' }, () => void seenInHook.push(password(cloud)));
    await expect(admin.command(changePassword)).resolves.toEqual({ ok: 1 });
    expect(seenInHook).toEqual([NEW_PASSWORD]);
  });

  it('strikes from the nth matching command on, only the instance it names, and `when` picks by the command', async () => {
    const cloud = await start();
    const admin = await rootOf(cloud);
    cloud.mongo.drop({ instanceId: SH, command: 'updateUser' });
    cloud.mongo.drop({ command: 'updateUser', nth: 2, when: (c) => c.body.updateUser === 'orders' });

    await expect(admin.command(changePassword)).resolves.toEqual({ ok: 1 });
    expect(await rejection(admin.command({ updateUser: 'orders', pwd: 'Orders#Wire-Pw3' }))).toBeInstanceOf(MongoNetworkError);
    expect(password(cloud)).toBe(NEW_PASSWORD);
  });

  it('refuses logins as a wrong password would, the next few or all, of every user or of one', async () => {
    const cloud = await start();
    const refused = cloud.mongo.rejectLogins(RS, { times: 1 });
    expect(await loginOutcome(connect, cloud, RS, ORDERS)).toBe(18);
    expect(await loginOutcome(connect, cloud, RS, ORDERS)).toBe('ok');
    expect(refused.hits).toBe(1);

    const rootOnly = cloud.mongo.rejectLogins(RS, { user: 'root' });
    expect(await loginOutcome(connect, cloud, RS, ROOT)).toBe(18);
    expect(await loginOutcome(connect, cloud, RS, ORDERS)).toBe('ok');
    rootOnly.remove();
    expect(await loginOutcome(connect, cloud, RS, ROOT)).toBe('ok');
    expect(rootOnly.hits).toBe(1);
  });

  it('removes every wire fault with clearFaults, and releases a held command unapplied when the cloud closes', async () => {
    const cloud = await start();
    const admin = await rootOf(cloud);
    cloud.mongo.drop({ command: 'updateUser', times: Infinity });
    cloud.mongo.clearFaults();
    await expect(admin.command(changePassword)).resolves.toEqual({ ok: 1 });

    const other = await startGuardedCloud({ port: 0, fixture: fixture(), mongoPeers: true });
    const held = connect(other, RS, ROOT, { socketTimeoutMS: 200 });
    await held.db('admin').command({ ping: 1 });
    other.mongo.hang({ command: 'updateUser', ms: 60_000 });
    await rejection(held.db('admin').command(changePassword));
    await other.close();
    await other.mongo.settled();
    expect(other.truth.userPassword(RS, 'orders')).toBe(ORDERS.password);
  });
});

describe('wire faults from a fixture (mongoFaults)', () => {
  it('applies them when the peers start', async () => {
    const cloud = await start({
      mongoFaults: [
        { kind: 'drop', command: 'updateUser', after: true },
        { kind: 'error', instanceId: RS, command: 'dropUser', code: 189 },
        { kind: 'rejectLogins', instanceId: RS, user: 'root', times: 1 },
      ],
    });
    expect(await loginOutcome(connect, cloud, RS, ROOT)).toBe(18);
    const admin = await rootOf(cloud);
    expect(await rejection(admin.command(changePassword))).toBeInstanceOf(MongoNetworkError);
    expect(password(cloud)).toBe(NEW_PASSWORD);
    expect(await rejection(admin.command({ dropUser: 'orders' }))).toMatchObject({ code: 189, codeName: 'PrimarySteppedDown' });
  });

  it('refuses bad ones, naming each field', async () => {
    const attempt = startGuardedCloud({
      port: 0,
      mongoPeers: true,
      fixture: fixture({
        mongoFaults: [{ kind: 'hang', command: 'updateUser' }, { kind: 'explode' }, { kind: 'drop', nth: 0, colour: 'red' }, { kind: 'rejectLogins' }],
      }),
    });
    const error = await rejection(attempt);
    expect(error).toBeInstanceOf(FixtureError);
    expect((error as FixtureError).problems).toEqual([
      'mongoFaults[0].ms: must be a whole number of at least 0, got nothing',
      'mongoFaults[1].kind: must be one of drop, hang, error, rejectLogins, got "explode"',
      'mongoFaults[2].colour: unknown field for a drop fault; expected instanceId, command, db, nth, times, after',
      'mongoFaults[2].nth: must be a whole number of at least 1, got 0',
      'mongoFaults[3].instanceId: must be a non-empty string, got nothing',
    ]);
  });
});
