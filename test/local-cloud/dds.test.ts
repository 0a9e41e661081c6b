import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { ddsCall } from '../helpers/sdk';

/** A small fleet: a replica set, a sharded cluster, a locked instance, and 34 more replica sets for paging. */
function fleet() {
  const bulk = Array.from({ length: 34 }, (_, i) => ({
    id: `dds-bp1bulk${String(i).padStart(9, '0')}`,
    type: 'replicate',
    rootPassword: 'Bulk#Pass0001',
    tags: { bulk: 'yes' },
  }));
  return {
    region: 'cn-hangzhou',
    accessKeys: [{ id: 'LTAI5tLocalTestKey01', secret: 'localsecret01' }],
    instances: [
      { id: 'dds-bp1rs000000000001', type: 'replicate', rootPassword: 'Initial#Pass01', tags: { rotation: 'enabled', app: 'orders' } },
      { id: 'dds-bp1sh000000000001', type: 'sharding', rootPassword: 'Initial#Pass02', tags: { rotation: 'enabled', app: 'catalog' } },
      { id: 'dds-bp1lk000000000001', type: 'replicate', lockMode: 'ManualLock', rootPassword: 'Initial#Pass03', tags: { rotation: 'enabled' } },
      ...bulk,
    ],
  };
}

const RS = 'dds-bp1rs000000000001';
const SH = 'dds-bp1sh000000000001';
const LOCKED = 'dds-bp1lk000000000001';

interface ServiceError {
  code: string;
  status: number;
  message: string;
}

/** The service's code and HTTP status, read from what `@alicloud/openapi-core` throws. */
async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    const e = err as { data?: { Code?: string; Message?: string }; statusCode?: number };
    return { code: e.data?.Code ?? '', status: e.statusCode ?? 0, message: e.data?.Message ?? '' };
  }
  throw new Error('the call succeeded');
}

type Instance = Record<string, any>;

describe('DDS 2015-12-01 over HTTP', () => {
  let cloud: LocalCloud;
  beforeEach(async () => {
    cloud = await startCloud({ fixture: fleet() });
  });
  afterEach(async () => {
    await cloud.close();
  });

  const attribute = async (id: string): Promise<Instance> => {
    const body = await ddsCall(cloud, 'DescribeDBInstanceAttribute', { DBInstanceId: id });
    const list = (body.DBInstances as { DBInstance: Instance[] }).DBInstance;
    expect(list).toHaveLength(1);
    return list[0];
  };
  const list = async (params: Record<string, unknown>) => {
    const body = await ddsCall(cloud, 'DescribeDBInstances', params);
    const ids = (body.DBInstances as { DBInstance: Instance[] }).DBInstance.map((i) => i.DBInstanceId as string);
    return { body, ids };
  };
  const reset = (params: Record<string, unknown>) =>
    ddsCall(cloud, 'ResetAccountPassword', { AccountName: 'root', AccountPassword: 'New#Pass2026', ...params });

  describe('DescribeDBInstanceAttribute', () => {
    it('describes a replica set with its members, lock mode and tags', async () => {
      const instance = await attribute(RS);
      expect(instance).toMatchObject({
        DBInstanceId: RS,
        DBInstanceType: 'replicate',
        DBInstanceStatus: 'Running',
        LockMode: 'Unlock',
        Engine: 'MongoDB',
        RegionId: 'cn-hangzhou',
        Tags: { Tag: [{ Key: 'rotation', Value: 'enabled' }, { Key: 'app', Value: 'orders' }] },
      });
      expect(instance.ReplicaSets.ReplicaSet).toEqual([
        expect.objectContaining({ ReplicaSetRole: 'Primary', ConnectionDomain: `${RS}1.mongodb.rds.aliyuncs.com`, ConnectionPort: '3717' }),
        expect.objectContaining({ ReplicaSetRole: 'Secondary', ConnectionDomain: `${RS}2.mongodb.rds.aliyuncs.com`, ConnectionPort: '3717' }),
      ]);
      expect(instance.ShardList).toBeUndefined();
    });

    it('describes a sharded cluster with shards, config servers and mongos nodes', async () => {
      const instance = await attribute(SH);
      expect(instance).toMatchObject({ DBInstanceType: 'sharding', LockMode: 'Unlock' });
      expect(instance.ReplicaSets).toBeUndefined();
      expect(instance.ShardList.ShardAttribute).toHaveLength(2);
      expect(instance.ConfigserverList.ConfigserverAttribute).toHaveLength(1);
      const mongos = instance.MongosList.MongosAttribute[0];
      expect(mongos.ConnectSting).toMatch(/^s-.+\.mongodb\.rds\.aliyuncs\.com$/);
      expect(mongos.ConnectString).toBe(mongos.ConnectSting);
      expect(mongos.Port).toBe(3717);
    });

    it('shows a login peer endpoint once one is set, and the lock mode and status as they change', async () => {
      cloud.state.setInstanceConnection(RS, { host: '127.0.0.1', port: 27123 });
      cloud.state.setInstanceConnection(SH, { host: '127.0.0.1', port: 27124 });
      cloud.state.setInstanceStatus(RS, 'HASwitching');
      const rs = await attribute(RS);
      expect(rs.DBInstanceStatus).toBe('HASwitching');
      expect(rs.ReplicaSets.ReplicaSet[0]).toMatchObject({ ConnectionDomain: '127.0.0.1', ConnectionPort: '27123' });
      expect((await attribute(SH)).MongosList.MongosAttribute[0]).toMatchObject({ ConnectSting: '127.0.0.1', ConnectString: '127.0.0.1', Port: 27124 });
      expect((await attribute(LOCKED)).LockMode).toBe('ManualLock');
    });

    it('answers 404 InvalidDBInstanceId.NotFound for an unknown instance, as the real API, and MissingParameter without one', async () => {
      expect(await failure(ddsCall(cloud, 'DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1nothere000001' }))).toMatchObject({
        code: 'InvalidDBInstanceId.NotFound',
        status: 404,
      });
      expect(await failure(ddsCall(cloud, 'DescribeDBInstanceAttribute', {}))).toMatchObject({ code: 'MissingParameter', status: 400 });
    });
  });

  describe('DescribeDBInstances', () => {
    it('lists replica sets by default and sharded clusters when asked', async () => {
      const replicate = await list({ PageSize: 100 });
      expect(replicate.ids).toHaveLength(36);
      expect(replicate.ids).not.toContain(SH);
      expect((await list({ DBInstanceType: 'sharding' })).ids).toEqual([SH]);
      expect((await list({ DBInstanceType: 'serverless' })).ids).toEqual([]);
    });

    it('filters by Tag.N.Key / Tag.N.Value, every tag matching', async () => {
      const tag = (n: number, key: string, value?: string) => ({ [`Tag.${n}.Key`]: key, ...(value === undefined ? {} : { [`Tag.${n}.Value`]: value }) });
      expect((await list(tag(1, 'rotation', 'enabled'))).ids).toEqual([RS, LOCKED]);
      expect((await list({ ...tag(1, 'rotation', 'enabled'), DBInstanceType: 'sharding' })).ids).toEqual([SH]);
      expect((await list({ ...tag(1, 'rotation', 'enabled'), ...tag(2, 'app', 'orders') })).ids).toEqual([RS]);
      expect((await list({ ...tag(1, 'rotation', 'disabled') })).ids).toEqual([]);
      expect((await list(tag(1, 'app'))).ids).toEqual([RS]);
    });

    it('sends the flattened Tag list the generated client sends', async () => {
      expect((await list({ Tag: [{ Key: 'rotation', Value: 'enabled' }, { Key: 'app', Value: 'orders' }] })).ids).toEqual([RS]);
    });

    it('pages 30 at a time by default, with TotalCount', async () => {
      const first = await list({ 'Tag.1.Key': 'bulk' });
      expect(first.body).toMatchObject({ PageNumber: 1, PageSize: 30, TotalCount: 34 });
      expect(first.ids).toHaveLength(30);
      const second = await list({ 'Tag.1.Key': 'bulk', PageNumber: 2 });
      expect(second.body).toMatchObject({ PageNumber: 2, PageSize: 30, TotalCount: 34 });
      expect(second.ids).toHaveLength(4);
      expect(new Set([...first.ids, ...second.ids]).size).toBe(34);
      expect((await list({ 'Tag.1.Key': 'bulk', PageNumber: 3 })).ids).toEqual([]);
      expect((await list({ 'Tag.1.Key': 'bulk', PageSize: 50 })).ids).toHaveLength(34);
    });

    it('summarises each instance with its type, status, lock mode and tags', async () => {
      const { body } = await list({ DBInstanceType: 'sharding' });
      expect((body.DBInstances as { DBInstance: Instance[] }).DBInstance[0]).toMatchObject({
        DBInstanceId: SH,
        DBInstanceType: 'sharding',
        DBInstanceStatus: 'Running',
        LockMode: 'Unlock',
        Tags: { Tag: [{ Key: 'rotation', Value: 'enabled' }, { Key: 'app', Value: 'catalog' }] },
        MongosList: { MongosAttribute: [expect.objectContaining({ NodeId: expect.any(String) }), expect.anything()] },
      });
    });

    it('refuses a page size other than 30, 50 or 100, and an unknown type', async () => {
      expect(await failure(list({ PageSize: 20 }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      expect(await failure(list({ PageNumber: 0 }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      expect(await failure(list({ DBInstanceType: 'standalone' }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
    });
  });

  describe('DescribeAccounts', () => {
    it('lists root once for a replica set and per role for a sharded cluster', async () => {
      const accounts = async (id: string) =>
        ((await ddsCall(cloud, 'DescribeAccounts', { DBInstanceId: id, AccountName: 'root' })).Accounts as { Account: Instance[] }).Account;
      expect(await accounts(RS)).toEqual([
        { AccountName: 'root', AccountStatus: 'Available', CharacterType: 'normal', AccountDescription: '', DBInstanceId: RS },
      ]);
      expect((await accounts(SH)).map((a) => a.CharacterType)).toEqual(['db', 'cs']);
      expect(await failure(ddsCall(cloud, 'DescribeAccounts', { DBInstanceId: 'dds-bp1nothere000001' }))).toMatchObject({ status: 404 });
    });
  });

  describe('ResetAccountPassword', () => {
    it('resets the root password of a replica set, CharacterType empty or normal', async () => {
      const body = await reset({ DBInstanceId: RS });
      expect(Object.keys(body)).toEqual(['RequestId']);
      expect(cloud.truth.rootPassword(RS)).toBe('New#Pass2026');
      await reset({ DBInstanceId: RS, CharacterType: 'normal', AccountPassword: 'Other#Pass2026' });
      expect(cloud.truth.rootPasswords(RS)).toEqual({ normal: 'Other#Pass2026' });
    });

    it('resets one role of a sharded cluster at a time', async () => {
      await reset({ DBInstanceId: SH, CharacterType: 'db' });
      expect(cloud.truth.rootPasswords(SH)).toEqual({ db: 'New#Pass2026', cs: 'Initial#Pass02' });
      await reset({ DBInstanceId: SH, CharacterType: 'cs' });
      expect(cloud.truth.rootPasswords(SH)).toEqual({ db: 'New#Pass2026', cs: 'New#Pass2026' });
    });

    it('holds CharacterType to the instance type', async () => {
      expect(await failure(reset({ DBInstanceId: SH }))).toMatchObject({ code: 'MissingParameter', status: 400 });
      expect(await failure(reset({ DBInstanceId: SH, CharacterType: 'normal' }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      expect(await failure(reset({ DBInstanceId: SH, CharacterType: 'mongos' }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      expect(await failure(reset({ DBInstanceId: RS, CharacterType: 'db' }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      expect(cloud.truth.rootPasswords(SH)).toEqual({ db: 'Initial#Pass02', cs: 'Initial#Pass02' });
      expect(cloud.truth.rootPassword(RS)).toBe('Initial#Pass01');
    });

    it('resets root only', async () => {
      expect(await failure(reset({ DBInstanceId: RS, AccountName: 'appuser' }))).toMatchObject({
        code: 'InvalidAccountName.NotFound',
        status: 400,
      });
      expect(await failure(reset({ DBInstanceId: RS, AccountName: 'Root!' }))).toMatchObject({
        code: 'InvalidAccountName.Malformed',
        status: 400,
      });
    });

    it.each([
      ['7 characters', 'Ab#1234', false],
      ['8 characters', 'Ab#12345', true],
      ['32 characters', `Ab#1${'x'.repeat(28)}`, true],
      ['33 characters', `Ab#1${'x'.repeat(29)}`, false],
      ['upper, lower and digits', 'Abcdefg1', true],
      ['lower, digits and specials', 'abcdef1!', true],
      ['upper, digits and specials', 'ABCDEF1=', true],
      ['upper, lower and specials', 'Abcdefg-', true],
      ['only lower and digits', 'abcdefg1', false],
      ['only upper and specials', 'ABCDEFG#', false],
      ['every listed special', 'Aa1!#$%^&*()_+-=', true],
      ['an @', 'Abcdef1@', false],
      ['a space', 'Abc def1', false],
      ['a dot', 'Abcdef1.', false],
      ['a non-ASCII letter', 'Abcdéf12', false],
    ])('applies the password rule: %s', async (_, password, accepted) => {
      const call = reset({ DBInstanceId: RS, AccountPassword: password });
      if (accepted) {
        await call;
        expect(cloud.truth.rootPassword(RS)).toBe(password);
      } else {
        const error = await failure(call);
        expect(error).toMatchObject({ code: 'InvalidAccountPassword.Malformed', status: 400 });
        expect(error.message).not.toContain(password);
        expect(cloud.truth.rootPassword(RS)).toBe('Initial#Pass01');
      }
    });

    it('refuses an unknown instance (404), a locked one and one that is not Running (both 403, as the real API)', async () => {
      expect(await failure(reset({ DBInstanceId: 'dds-bp1nothere000001' }))).toMatchObject({ code: 'InvalidDBInstanceId.NotFound', status: 404 });
      expect(await failure(reset({ DBInstanceId: LOCKED }))).toMatchObject({ code: 'IncorrectDBInstanceLockMode', status: 403 });
      cloud.state.setInstanceStatus(RS, 'HASwitching');
      expect(await failure(reset({ DBInstanceId: RS }))).toMatchObject({ code: 'IncorrectDBInstanceState', status: 403 });
      cloud.state.setInstanceStatus(RS, 'Running');
      await reset({ DBInstanceId: RS });
      expect(cloud.truth.rootPassword(LOCKED)).toBe('Initial#Pass03');
    });

    it('requires DBInstanceId, AccountName and AccountPassword', async () => {
      for (const missing of ['DBInstanceId', 'AccountName', 'AccountPassword']) {
        const params: Record<string, unknown> = { DBInstanceId: RS, AccountName: 'root', AccountPassword: 'New#Pass2026' };
        delete params[missing];
        const error = await failure(ddsCall(cloud, 'ResetAccountPassword', params));
        expect(error).toMatchObject({ code: 'MissingParameter', status: 400 });
        expect(error.message).toContain(missing);
      }
    });

    it('logs the request as a write with the password redacted, and notes every password sent', async () => {
      await reset({ DBInstanceId: RS });
      await failure(reset({ DBInstanceId: RS, AccountPassword: 'short#1' }));
      const writes = cloud.truth.writeRequests().filter((r) => r.action === 'ResetAccountPassword');
      expect(writes.map((w) => [w.status, w.params.AccountPassword])).toEqual([
        [200, '[redacted]'],
        [400, '[redacted]'],
      ]);
      expect(JSON.stringify(cloud.truth.requests)).not.toMatch(/New#Pass2026|short#1/);
      expect(cloud.truth.passwordsSeen()).toEqual(expect.arrayContaining(['Initial#Pass01', 'New#Pass2026', 'short#1']));
    });
  });
});
