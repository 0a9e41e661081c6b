import { $OpenApiUtil } from '@alicloud/openapi-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as $dara from '@darabonba/typescript';
import DdsClient, { DBInstanceAttribute, DescribeDBInstanceAttributeRequest, DescribeDBInstanceAttributeResponse } from '../../functions/shared/clients/dds';
import { parseConnectionHost, verifyAddress, VerifyAddressError } from '../../functions/shared/verify/address';
import { verifyLogin } from '../../functions/shared/verify/login';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { startMongoPeer, type MongoPeer } from '../../local-cloud/mongo';
import { ddsCall, defaultKey } from '../helpers/sdk';

const DOMAIN = 'mongodb.rds.aliyuncs.com';

function member(role: string, networkType: string, domain: string, port = '3717') {
  return { ReplicaSetRole: role, NetworkType: networkType, ConnectionDomain: domain, ConnectionPort: port };
}

/** An instance as the DDS client models DescribeDBInstanceAttribute's answer, from the API's own field names. */
function described(body: object): DBInstanceAttribute {
  return $dara.cast<DBInstanceAttribute>(body, new DBInstanceAttribute({}));
}

function replicaSet(...members: object[]): DBInstanceAttribute {
  return described({ DBInstanceId: 'dds-bp1rs', DBInstanceType: 'replicate', ReplicaSets: { ReplicaSet: members } });
}

function sharded(...mongos: object[]): DBInstanceAttribute {
  return described({ DBInstanceId: 'dds-bp1sh', DBInstanceType: 'sharding', MongosList: { MongosAttribute: mongos } });
}

function addressError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(VerifyAddressError);
    return (error as Error).message;
  }
  throw new Error('expected a VerifyAddressError');
}

describe('verifyAddress from DescribeDBInstanceAttribute', () => {
  describe('a replica set', () => {
    it('picks the primary', () => {
      const instance = replicaSet(member('Secondary', 'VPC', `s.${DOMAIN}`), member('Primary', 'VPC', `p.${DOMAIN}`, '3718'));
      expect(verifyAddress(instance)).toEqual({ host: `p.${DOMAIN}`, port: 3718 });
    });

    it("prefers the primary's VPC address, then a classic one, then any other", () => {
      const publicPrimary = member('Primary', 'Public', `pub.${DOMAIN}`);
      const classicPrimary = member('Primary', 'Classic', `classic.${DOMAIN}`);
      const vpcPrimary = member('Primary', 'VPC', `vpc.${DOMAIN}`);
      expect(verifyAddress(replicaSet(publicPrimary, classicPrimary, vpcPrimary)).host).toBe(`vpc.${DOMAIN}`);
      expect(verifyAddress(replicaSet(publicPrimary, classicPrimary)).host).toBe(`classic.${DOMAIN}`);
      expect(verifyAddress(replicaSet(publicPrimary)).host).toBe(`pub.${DOMAIN}`);
    });

    it('names what is missing', () => {
      expect(addressError(() => verifyAddress(replicaSet(member('Secondary', 'VPC', `s.${DOMAIN}`))))).toBe(
        'dds-bp1rs: ReplicaSets.ReplicaSet lists no member with ReplicaSetRole Primary (roles: Secondary)',
      );
      expect(addressError(() => verifyAddress(described({ DBInstanceId: 'dds-bp1rs', DBInstanceType: 'replicate' })))).toContain('(roles: none)');
      expect(addressError(() => verifyAddress(replicaSet(member('Primary', 'VPC', ''))))).toContain('has no ConnectionDomain');
      expect(addressError(() => verifyAddress(replicaSet(member('Primary', 'VPC', `p.${DOMAIN}`, ''))))).toBe(
        "dds-bp1rs: the Primary replica set member's ConnectionPort is missing; expected a port number",
      );
      expect(addressError(() => verifyAddress(replicaSet(member('Primary', 'VPC', `p.${DOMAIN}`, '70000'))))).toContain('is "70000"');
    });
  });

  describe('a sharded cluster', () => {
    it('picks a mongos by the API’s ConnectSting (sic) and Port', () => {
      const instance = sharded({ NodeId: 's-1', ConnectSting: `s-1.${DOMAIN}`, Port: 3717, Status: 'Running' });
      expect(verifyAddress(instance)).toEqual({ host: `s-1.${DOMAIN}`, port: 3717 });
    });

    it('accepts ConnectString, and a port written into the address', () => {
      expect(verifyAddress(sharded({ NodeId: 's-1', ConnectString: `s-1.${DOMAIN}`, Port: 3717 })).host).toBe(`s-1.${DOMAIN}`);
      expect(verifyAddress(sharded({ NodeId: 's-1', ConnectSting: `s-1.${DOMAIN}:3719` }))).toEqual({ host: `s-1.${DOMAIN}`, port: 3719 });
    });

    it('prefers a running mongos', () => {
      const instance = sharded(
        { NodeId: 's-1', ConnectSting: `s-1.${DOMAIN}`, Port: 3717, Status: 'NodeRestarting' },
        { NodeId: 's-2', ConnectSting: `s-2.${DOMAIN}`, Port: 3717, Status: 'Running' },
      );
      expect(verifyAddress(instance).host).toBe(`s-2.${DOMAIN}`);
    });

    it('names what is missing', () => {
      expect(addressError(() => verifyAddress(sharded()))).toBe('dds-bp1sh: MongosList.MongosAttribute lists no mongos with a ConnectSting');
      expect(addressError(() => verifyAddress(sharded({ NodeId: 's-1', ConnectSting: `s-1.${DOMAIN}` })))).toBe(
        'dds-bp1sh: the Port of mongos s-1 is missing; expected a port number',
      );
    });
  });

  it('reads the SDK model of a body that spells the mongos address only as the real API does (ConnectSting)', () => {
    const mongos = { NodeId: 's-1', ConnectSting: `s-1.${DOMAIN}`, Port: 3717, Status: 'Running' };
    const body = { DBInstances: { DBInstance: [{ DBInstanceId: 'dds-bp1sh', DBInstanceType: 'sharding', MongosList: { MongosAttribute: [mongos] } }] } };
    const response = $dara.cast<DescribeDBInstanceAttributeResponse>({ statusCode: 200, headers: {}, body }, new DescribeDBInstanceAttributeResponse({}));
    const instance = response.body?.DBInstances?.DBInstance?.[0];
    expect(instance?.mongosList?.mongosAttribute?.[0]?.connectSting).toBe(`s-1.${DOMAIN}`);
    expect(verifyAddress(instance ?? described({}))).toEqual({ host: `s-1.${DOMAIN}`, port: 3717 });
  });

  it('refuses an instance type it does not know', () => {
    expect(addressError(() => verifyAddress(described({ DBInstanceId: 'dds-x', DBInstanceType: 'serverless' })))).toBe(
      'dds-x: DBInstanceType is "serverless"; expected replicate or sharding',
    );
    expect(addressError(() => verifyAddress(described({})))).toBe('the instance: DBInstanceType is missing; expected replicate or sharding');
  });

  it('takes a configured connectionHost over what the instance describes', () => {
    const instance = replicaSet(member('Primary', 'VPC', `p.${DOMAIN}`));
    expect(verifyAddress(instance, `override.${DOMAIN}:3720`)).toEqual({ host: `override.${DOMAIN}`, port: 3720 });
  });
});

describe('parseConnectionHost', () => {
  it('reads host:port and [ipv6]:port', () => {
    expect(parseConnectionHost('10.0.0.5:3717')).toEqual({ host: '10.0.0.5', port: 3717 });
    expect(parseConnectionHost(` p.${DOMAIN}:3717 `)).toEqual({ host: `p.${DOMAIN}`, port: 3717 });
    expect(parseConnectionHost('[fd00::5]:3717')).toEqual({ host: 'fd00::5', port: 3717 });
  });

  it.each(['', `p.${DOMAIN}`, `p.${DOMAIN}:`, `p.${DOMAIN}:0`, `p.${DOMAIN}:65536`, 'mongodb://p:3717', 'a b:3717', 'fd00::5:3717'])(
    'refuses %j with an example',
    (value) => {
      expect(addressError(() => parseConnectionHost(value))).toContain('is not host:port (example: ');
    },
  );
});

describe('the address DescribeDBInstanceAttribute gives, logged in to', () => {
  const RS = 'dds-bp1rsverify000001';
  const SH = 'dds-bp1shverify000001';
  let cloud: LocalCloud;
  let peers: MongoPeer[];

  beforeEach(async () => {
    cloud = await startCloud({
      fixture: {
        region: 'cn-hangzhou',
        accessKeys: [{ id: 'LTAI5tVerifyTestKey1', secret: 'verifysecret01' }],
        instances: [
          { id: RS, type: 'replicate', rootPassword: 'Replica#Pass-01', tags: {} },
          { id: SH, type: 'sharding', rootPassword: 'Sharded#Pass-01', tags: {} },
        ],
      },
    });
    const replica = await startMongoPeer({ password: () => cloud.truth.rootPassword(RS, 'normal'), setName: `mgset-${RS}` });
    const mongos = await startMongoPeer({ password: () => cloud.truth.rootPassword(SH, 'cs') });
    peers = [replica, mongos];
    cloud.state.setInstanceConnection(RS, { host: replica.host, port: replica.port });
    cloud.state.setInstanceConnection(SH, { host: mongos.host, port: mongos.port });
  });

  afterEach(async () => {
    await Promise.all(peers.map((peer) => peer.close()));
    await cloud.close();
  });

  async function modelInstance(id: string): Promise<DBInstanceAttribute> {
    const key = defaultKey(cloud);
    const config = new $OpenApiUtil.Config({ accessKeyId: key.id, accessKeySecret: key.secret, endpoint: cloud.host, protocol: 'http', regionId: cloud.region });
    const response = await new DdsClient(config).describeDBInstanceAttribute(new DescribeDBInstanceAttributeRequest({ DBInstanceId: id }));
    return response.body?.DBInstances?.DBInstance?.[0] ?? described({});
  }

  it('from the DDS client: the primary of a replica set and a mongos of a sharded cluster', async () => {
    for (const [id, peer] of [
      [RS, peers[0]],
      [SH, peers[1]],
    ] as const) {
      const address = verifyAddress(await modelInstance(id));
      expect(address).toEqual({ host: peer?.host, port: peer?.port });
      const password = cloud.truth.rootPassword(id, id === SH ? 'cs' : 'normal');
      await expect(verifyLogin({ ...address, password, timeoutMs: 2_000 })).resolves.toMatchObject({ ok: true });
    }
  });

  it('proves a reset: the new password logs in, the old one no longer does', async () => {
    const address = verifyAddress(await modelInstance(RS));
    const old = cloud.truth.rootPassword(RS, 'normal');
    await ddsCall(cloud, 'ResetAccountPassword', { DBInstanceId: RS, AccountName: 'root', AccountPassword: 'Replica#Pass-02' });
    await expect(verifyLogin({ ...address, password: 'Replica#Pass-02', timeoutMs: 2_000 })).resolves.toMatchObject({ ok: true });
    await expect(verifyLogin({ ...address, password: old, timeoutMs: 2_000 })).resolves.toMatchObject({ ok: false, reason: 'auth-failed' });
  });
});
