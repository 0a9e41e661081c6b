/**
 * A sharded cluster with several mongos: a user changed through one mongos reaches another's user cache only when
 * that one next looks at the config servers (userCacheInvalidationIntervalSecs), so before promoting, the rotation
 * waits until every mongos DescribeDBInstanceAttribute lists takes the new password. The local cloud has one
 * mongos per instance: a second one is a TCP relay to it, listed by rewriting DescribeDBInstanceAttribute's answer,
 * and a mongos that has not looked yet is a login refused for that user.
 */
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { OWN_CODES } from '../../functions/shared/codes';
import { appFixture, instance, userSecret } from './fixture';
import { forced, labelled, useAppHarness } from './harness';

const SH = 'dds-shappmongos01';
const ROOT_PW = 'Root#Mongos-Pw01';
const ORDERS_PW = 'Orders#Mongos-01';
const ORDERS = { instanceId: SH, accountName: 'orders' };

describe('a sharded cluster with two mongos', () => {
  const h = useAppHarness();
  let relay: { server: Server; sockets: Set<Socket>; connections: number } | undefined;

  afterEach(async () => {
    if (!relay) return;
    for (const socket of relay.sockets) socket.destroy();
    await new Promise((resolve) => relay!.server.close(resolve));
    relay = undefined;
  });

  /** Starts the cloud, a relay to the cluster's mongos, and lists the relay as a second mongos. */
  async function start(): Promise<{ cloud: LocalCloud }> {
    const cloud = await h.start(appFixture([instance({ id: SH, type: 'sharding', rootPassword: ROOT_PW, users: [{ user: 'orders', password: ORDERS_PW }] })], [userSecret(SH, 'orders', ORDERS_PW)]));
    const peer = cloud.mongo.peer(SH);
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      relay!.connections++;
      const upstream = connect(peer.port, peer.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    relay = { server, sockets, connections: 0 };
    const port = (server.address() as AddressInfo).port;
    cloud.faults.corrupt({
      product: 'dds',
      action: 'DescribeDBInstanceAttribute',
      times: Infinity,
      mutate: (body) => {
        const [attribute] = (body.DBInstances as { DBInstance: Array<{ MongosList: { MongosAttribute: Array<Record<string, unknown>> } }> }).DBInstance;
        const [first] = attribute.MongosList.MongosAttribute;
        attribute.MongosList.MongosAttribute.push({ ...first, NodeId: 's-second', ConnectSting: '127.0.0.1', ConnectString: '127.0.0.1', Port: port });
        return body;
      },
    });
    return { cloud };
  }

  it('waits until every mongos takes the new password, then promotes', async () => {
    const { cloud } = await start();
    const lagging = cloud.mongo.rejectLogins(SH, { user: 'orders_clone', times: 2 });
    const run = await h.run({ targets: [ORDERS], event: forced('two-mongos') });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(lagging.hits).toBe(2);
    expect(run.logs.find((e) => e.msg === 'waiting for a mongos to take the new password')).toHaveLength(2);
    expect(relay!.connections).toBeGreaterThan(0); // the second mongos was asked too
    expect(run.logs.find((e) => e.msg === 'settle done')).toHaveLength(1);
    expect(run.logs.find((e) => e.msg === 'verify done')).toMatchObject([{ reapplied: false }]);
    expect(labelled(cloud, SH, 'orders')?.user).toBe('orders_clone');
  });

  it('keeps the password pending when a mongos never takes it, and the next run completes', async () => {
    const { cloud } = await start();
    const stale = cloud.mongo.rejectLogins(SH, { user: 'orders_clone' });
    // An 8 s function keeps 5 s for the work: the wait ends at the deadline, short of its 45 s.
    const first = await h.run({ targets: [ORDERS], event: forced('stale-mongos'), context: { function: { timeout: 8 } } });

    expect(first.report?.results).toMatchObject([{ outcome: 'failed', error: { code: expect.stringMatching(new RegExp(`^(${OWN_CODES.verifyLoginFailed}|${OWN_CODES.deadlineExceeded})$`)) } }]);
    expect(first.logs.find((e) => e.msg === 'settle failed')).toHaveLength(1);
    expect(labelled(cloud, SH, 'orders')).toEqual({ user: 'orders', password: ORDERS_PW });
    expect(labelled(cloud, SH, 'orders', 'ACSPending')?.user).toBe('orders_clone');

    stale.remove();
    const second = await h.run({ targets: [ORDERS], event: forced('stale-mongos') });
    expect(second.report?.results).toMatchObject([{ outcome: 'resumed' }]);
    expect(labelled(cloud, SH, 'orders')?.user).toBe('orders_clone');
  });
});
