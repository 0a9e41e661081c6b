/**
 * The local cloud's MongoDB login peers: one per instance, at the address DescribeDBInstanceAttribute
 * gives, checking the root password the truth holds for the role a real login goes through.
 */
import { connect } from 'node:net';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { ddsCall } from '../helpers/sdk';
import { fixture } from '../rotate/fixture';
import { describedAddress, login } from './cloud';

const RS = 'dds-rs0peer01';
const SHARDED = 'dds-sh0peer01';
const AUTHENTICATION_FAILED = 18;
/** Instances only: no secret binds them, so changing their passwords breaks no invariant. */
const INSTANCES = fixture({
  instances: [
    { id: RS, type: 'replicate', password: 'Peer#Replica-Pw1' },
    { id: SHARDED, type: 'sharding', password: 'Peer#Sharded-Pw1' },
  ],
  secrets: [],
});

const clouds: LocalCloud[] = [];

afterEach(async () => {
  await Promise.all(clouds.splice(0).map((cloud) => cloud.close()));
});

async function start(mongoPeers?: boolean | string[]): Promise<LocalCloud> {
  const cloud = await startCloud({ port: 0, fixture: INSTANCES, mongoPeers });
  clouds.push(cloud);
  return cloud;
}

async function hello(address: { host: string; port: number }): Promise<Record<string, unknown>> {
  const client = new MongoClient(`mongodb://${address.host}:${address.port}/`, { directConnection: true, serverSelectionTimeoutMS: 5_000 });
  try {
    return await client.db('admin').command({ hello: 1 });
  } finally {
    await client.close();
  }
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('MongoDB login peers of the local cloud', () => {
  it('gives a replica set a peer at its Primary address that logs root in with its password', async () => {
    const cloud = await start(true);
    const address = await describedAddress(cloud, RS);
    expect(address).toEqual({ host: '127.0.0.1', port: cloud.mongo.peer(RS).port });

    const body = await ddsCall(cloud, 'DescribeDBInstanceAttribute', { DBInstanceId: RS });
    const instance = (body.DBInstances as { DBInstance: Array<Record<string, unknown>> }).DBInstance[0]!;
    expect(await hello(address)).toMatchObject({ isWritablePrimary: true, setName: instance.ReplicaSetName });
    expect(await login(address, 'Peer#Replica-Pw1')).toBe('ok');
    expect(await login(address, 'Peer#Wrong-Pw1')).toBe(AUTHENTICATION_FAILED);
  });

  it('gives a sharded cluster a mongos that checks the cs (config server) password, not db', async () => {
    const cloud = await start(true);
    const address = await describedAddress(cloud, SHARDED);
    expect(address).toEqual({ host: '127.0.0.1', port: cloud.mongo.peer(SHARDED).port });
    expect(await hello(address)).toMatchObject({ msg: 'isdbgrid' });

    cloud.state.setRootPassword(SHARDED, 'db', 'Peer#Shards-Pw2');
    cloud.state.setRootPassword(SHARDED, 'cs', 'Peer#Config-Pw2');
    expect(await login(address, 'Peer#Config-Pw2')).toBe('ok');
    expect(await login(address, 'Peer#Shards-Pw2')).toBe(AUTHENTICATION_FAILED);
  });

  it('checks the password the instance holds at each login', async () => {
    const cloud = await start(true);
    const address = await describedAddress(cloud, RS);
    cloud.truth.setRootPassword(RS, 'Peer#Changed-Pw3');
    expect(await login(address, 'Peer#Changed-Pw3')).toBe('ok');
    expect(await login(address, 'Peer#Replica-Pw1')).toBe(AUTHENTICATION_FAILED);
  });

  it('starts peers only when asked, and only for the instances listed', async () => {
    const none = await start();
    expect(none.mongo.instanceIds).toEqual([]);
    expect((await describedAddress(none, RS)).host).toMatch(/\.mongodb\.rds\.aliyuncs\.com$/);

    const one = await start([SHARDED]);
    expect(one.mongo.instanceIds).toEqual([SHARDED]);
    expect((await describedAddress(one, SHARDED)).host).toBe('127.0.0.1');
    expect((await describedAddress(one, RS)).host).toMatch(/\.mongodb\.rds\.aliyuncs\.com$/);
    expect(() => one.mongo.peer(RS)).toThrow(`the local cloud runs no MongoDB login peer for instance "${RS}"`);
    await expect(startCloud({ port: 0, fixture: INSTANCES, mongoPeers: ['dds-nosuch'] })).rejects.toThrow('no instance "dds-nosuch"');
  });

  it('refuses logins on demand, every one or the next few, as a wrong password', async () => {
    const cloud = await start(true);
    const address = await describedAddress(cloud, RS);
    const twice = cloud.mongo.rejectLogins(RS, { times: 2 });
    expect(await login(address, 'Peer#Replica-Pw1')).toBe(AUTHENTICATION_FAILED);
    expect(await login(address, 'Peer#Replica-Pw1')).toBe(AUTHENTICATION_FAILED);
    expect(await login(address, 'Peer#Replica-Pw1')).toBe('ok');
    expect(twice.hits).toBe(2);

    const always = cloud.mongo.rejectLogins(RS);
    expect(await login(address, 'Peer#Replica-Pw1')).toBe(AUTHENTICATION_FAILED);
    always.remove();
    expect(await login(address, 'Peer#Replica-Pw1')).toBe('ok');
    expect(always.hits).toBe(1);
  });

  it('keeps checking a frozen password whatever later resets set', async () => {
    const cloud = await start(true);
    const address = await describedAddress(cloud, SHARDED);
    const frozen = cloud.mongo.freezePassword(SHARDED);
    cloud.truth.setRootPassword(SHARDED, 'Peer#Reset-Pw4');
    expect(await login(address, 'Peer#Sharded-Pw1')).toBe('ok');
    expect(await login(address, 'Peer#Reset-Pw4')).toBe(AUTHENTICATION_FAILED);
    expect(frozen.hits).toBeGreaterThanOrEqual(2);

    cloud.mongo.clearFaults();
    expect(await login(address, 'Peer#Reset-Pw4')).toBe('ok');
  });

  it('closes the peers with the cloud', async () => {
    const cloud = await start(true);
    const ports = cloud.mongo.instanceIds.map((id) => cloud.mongo.peer(id).port);
    expect(ports).toHaveLength(2);
    await cloud.close();
    for (const port of ports) expect(await refusesConnections(port)).toBe(true);
  });
});
