import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCloud } from '../helpers/cloud';
import { DEMO_FIXTURE_PATH, FixtureError, createCloudState, loadFixture } from '../../local-cloud/state';
import { ddsCall, kmsClient, kmsModels } from '../helpers/sdk';

const NOW = new Date('2026-11-27T03:00:00Z');
const DAY = 86_400_000;

function minimal(): Record<string, unknown> {
  return {
    region: 'cn-hangzhou',
    accessKeys: [{ id: 'LTAI5tLocalTestKey01', secret: 'localsecret01' }],
    instances: [
      { id: 'dds-rs01', type: 'replicate', status: 'Running', rootPassword: 'Initial#Pass01', tags: { rotation: 'enabled' } },
      { id: 'dds-sh01', type: 'sharding', status: 'Running', rootPassword: 'Initial#Pass02', tags: {} },
    ],
    secrets: [
      {
        name: 'mongodb/dds-rs01/root',
        instanceId: 'dds-rs01',
        versions: [
          {
            versionId: 'v1',
            data: '{"AccountName":"root","AccountPassword":"Initial#Pass01"}',
            stages: ['ACSCurrent'],
            createTime: '2026-10-01T00:00:00Z',
          },
        ],
      },
    ],
  };
}

function problemsOf(raw: unknown): string[] {
  try {
    loadFixture(raw as object, { now: NOW });
  } catch (err) {
    expect(err).toBeInstanceOf(FixtureError);
    return (err as FixtureError).problems;
  }
  throw new Error('the fixture was accepted');
}

describe('fixture format', () => {
  it('fills in the defaults: account id, status, lock mode, tags, data type, stages', () => {
    const raw = minimal();
    (raw.instances as Array<Record<string, unknown>>)[1] = { id: 'dds-sh01', type: 'sharding', rootPassword: 'Initial#Pass02' };
    const fixture = loadFixture(raw, { now: NOW });
    expect(fixture.accountId).toBe('1234567890123456');
    expect(fixture.instances[1]).toMatchObject({ status: 'Running', lockMode: 'Unlock', tags: {}, engineVersion: '5.0' });
    expect(fixture.secrets[0].versions[0]).toMatchObject({ dataType: 'text', stages: ['ACSCurrent'], createTime: '2026-10-01T00:00:00Z' });
  });

  it('seeds every role of a sharded cluster with its rootPassword', () => {
    const state = createCloudState(loadFixture(minimal(), { now: NOW }));
    expect(state.truth.rootPasswords('dds-sh01')).toEqual({ db: 'Initial#Pass02', cs: 'Initial#Pass02' });
    expect(state.truth.rootPasswords('dds-rs01')).toEqual({ normal: 'Initial#Pass01' });
  });

  it('resolves relative times such as "-2d" against the load time', () => {
    const raw = minimal();
    const version = (raw.secrets as Array<{ versions: Array<Record<string, unknown>> }>)[0].versions[0];
    version.createTime = '-2d';
    const fixture = loadFixture(raw, { now: NOW });
    expect(fixture.secrets[0].versions[0].createTime).toBe('2026-11-25T03:00:00Z');
    version.createTime = '-90m';
    expect(loadFixture(raw, { now: NOW }).secrets[0].versions[0].createTime).toBe('2026-11-27T01:30:00Z');
  });

  it('passes an access key policy and a top-level faults array through untouched', () => {
    const policy = { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:GetSecretValue', Resource: '*' }] };
    const faults = [{ kind: 'latency', ms: 5 }];
    const raw: Record<string, unknown> = { ...minimal(), faults, accountId: '5555666677778888' };
    (raw.accessKeys as Array<Record<string, unknown>>).push({ id: 'STS.Role01', secret: 's', securityToken: 't', policy });
    const fixture = loadFixture(raw, { now: NOW });
    expect(fixture.faults).toBe(faults);
    expect(fixture.accessKeys[1]).toEqual({ id: 'STS.Role01', secret: 's', securityToken: 't', policy });
    expect(fixture.accountId).toBe('5555666677778888');
  });

  it('takes the role an STS key stands for (the local FC hands it to functions running as that role), on STS keys only', () => {
    const raw = minimal();
    const role = 'acs:ram::1234567890123456:role/rotation';
    (raw.accessKeys as Array<Record<string, unknown>>).push({ id: 'STS.Role01', secret: 's', securityToken: 't', role });
    expect(loadFixture(raw, { now: NOW }).accessKeys[1]).toEqual({ id: 'STS.Role01', secret: 's', securityToken: 't', role });

    (raw.accessKeys as Array<Record<string, unknown>>)[0].role = role;
    (raw.accessKeys as Array<Record<string, unknown>>)[1].role = 'rotation';
    expect(problemsOf(raw)).toEqual([
      'accessKeys[0].role: only an STS key (with a securityToken) stands for a role',
      'accessKeys[1].role: must be a role ARN such as "acs:ram::1234567890123456:role/rotation", got "rotation"',
    ]);
  });

  it('names the field path and the fix of every problem at once', () => {
    const raw = minimal();
    const instances = raw.instances as Array<Record<string, unknown>>;
    instances[1].type = 'shard';
    instances[0].lockMode = 'Locked';
    delete raw.region;
    expect(problemsOf(raw)).toEqual([
      'region: is required; give a region id such as "cn-hangzhou"',
      'instances[0].lockMode: must be one of "Unlock", "ManualLock", "LockByExpiration", "LockByRestoration", "LockByDiskQuota", "Released", got "Locked"',
      'instances[1].type: must be "replicate" or "sharding", got "shard"',
    ]);
  });

  it('rejects unknown fields, naming the expected ones', () => {
    const raw: Record<string, unknown> = { ...minimal(), instance: [] };
    (raw.instances as Array<Record<string, unknown>>)[0].rootpassword = 'x';
    expect(problemsOf(raw)).toEqual([
      'instance: unknown field; expected one of region, accountId, accessKeys, instances, secrets, kmsInstances, faults, mongoFaults',
      'instances[0].rootpassword: unknown field; expected one of id, type, status, lockMode, rootPassword, tags, description, engineVersion, creationTime, connection, users',
    ]);
  });

  it('checks ids are unique and secrets name known instances', () => {
    const raw = minimal();
    (raw.instances as Array<Record<string, unknown>>)[1].id = 'dds-rs01';
    (raw.secrets as Array<Record<string, unknown>>)[0].instanceId = 'dds-missing';
    (raw.accessKeys as unknown[]).push({ id: 'LTAI5tLocalTestKey01', secret: 'other' });
    expect(problemsOf(raw)).toEqual([
      'secrets[0].instanceId: must name an instance of this fixture, got "dds-missing"',
      'accessKeys: id "LTAI5tLocalTestKey01" appears more than once; each id must be unique',
      'instances: id "dds-rs01" appears more than once; each id must be unique',
    ]);
  });

  it("holds secrets to KMS's rules: one ACSCurrent, a stage on one version, at most 10 versions", () => {
    const raw = minimal();
    const secret = (raw.secrets as Array<{ versions: Array<Record<string, unknown>> }>)[0];
    secret.versions = Array.from({ length: 11 }, (_, i) => ({ versionId: `v${i}`, data: 'x', stages: i < 2 ? ['ACSPending'] : [] }));
    expect(problemsOf(raw)).toEqual([
      'secrets[0].versions: must hold at most 10 versions (KMS keeps no more), got "11 versions"',
      'secrets[0].versions: stage "ACSPending" labels 2 versions (v0, v1); a stage labels one version only',
      'secrets[0].versions: no version carries "ACSCurrent"; add it to the stages of the version applications should read',
    ]);
  });

  it('explains a bad time', () => {
    const raw = minimal();
    (raw.secrets as Array<{ versions: Array<Record<string, unknown>> }>)[0].versions[0].createTime = 'yesterday';
    expect(problemsOf(raw)).toEqual([
      'secrets[0].versions[0].createTime: must be an ISO 8601 UTC time such as "2026-10-01T00:00:00Z" or a relative one such as "-2d" or "+7d" (units s, m, h, d), got "yesterday"',
    ]);
  });

  it('declares KMS instances and secrets in their delete window, relative times in the future too', () => {
    const raw: Record<string, unknown> = { ...minimal(), kmsInstances: [{ id: 'kst-hzz65f176a0ogplgq1a2b' }] };
    (raw.secrets as Array<Record<string, unknown>>)[0].plannedDeleteTime = '+7d';
    const fixture = loadFixture(raw, { now: NOW });
    expect(fixture.kmsInstances).toEqual([{ id: 'kst-hzz65f176a0ogplgq1a2b' }]);
    expect(fixture.secrets[0].plannedDeleteTime).toBe(new Date(NOW.getTime() + 7 * DAY).toISOString().replace('.000Z', 'Z'));
    expect(loadFixture(minimal(), { now: NOW }).kmsInstances).toEqual([]);

    const bad: Record<string, unknown> = { ...minimal(), kmsInstances: [{ id: 'key-1' }, { id: 'kst-a1' }, { id: 'kst-a1', name: 'x' }] };
    (bad.secrets as Array<Record<string, unknown>>)[0].plannedDeleteTime = 'next week';
    expect(problemsOf(bad)).toEqual([
      'secrets[0].plannedDeleteTime: must be an ISO 8601 UTC time such as "2026-10-01T00:00:00Z" or a relative one such as "-2d" or "+7d" (units s, m, h, d), got "next week"',
      'kmsInstances[0].id: must be a KMS instance id such as "kst-hzz65f176a0ogplgq1a2b", got "key-1"',
      'kmsInstances[2].name: unknown field; expected one of id',
      'kmsInstances: id "kst-a1" appears more than once; each id must be unique',
    ]);
  });

  it('never quotes a password, a key secret or secret data in its errors', () => {
    const raw = minimal();
    (raw.instances as Array<Record<string, unknown>>)[0].rootPassword = ['Initial#Pass01'];
    (raw.accessKeys as Array<Record<string, unknown>>)[0].secret = 1234567;
    (raw.secrets as Array<{ versions: Array<Record<string, unknown>> }>)[0].versions[0].data = { AccountPassword: 'Initial#Pass01' };
    const message = problemsOf(raw).join('\n');
    expect(message).toContain('instances[0].rootPassword: must be a non-empty string, got an array');
    expect(message).toContain('accessKeys[0].secret: must be a non-empty string, got a number');
    expect(message).toContain('secrets[0].versions[0].data: must be a non-empty string, got an object');
    expect(message).not.toMatch(/Initial#Pass01|1234567/);
  });

  describe('from a file', () => {
    let dir: string | undefined;
    afterEach(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    });

    it('reports a JSON syntax error by line and column, without quoting the text', () => {
      dir = mkdtempSync(join(tmpdir(), 'fixture-'));
      const path = join(dir, 'broken.json');
      writeFileSync(path, '{\n  "region": "cn-hangzhou",\n  "instances": [{ "rootPassword": "Initial#Pass01" "id": "x" }]\n}\n');
      expect(() => loadFixture(path)).toThrowError(FixtureError);
      try {
        loadFixture(path);
      } catch (err) {
        expect((err as Error).message).toContain(path);
        expect((err as Error).message).toMatch(/not valid JSON \(line 3, column \d+\)/);
        expect((err as Error).message).not.toContain('Initial#Pass01');
      }
    });

    it('reports a missing file', () => {
      expect(() => loadFixture('/nonexistent/fixture.json')).toThrowError(/cannot read the file/);
    });
  });
});

describe('the demo fleet', () => {
  const fixture = loadFixture(DEMO_FIXTURE_PATH, { now: NOW });
  const currentAge = (instanceId: string) => {
    const secret = fixture.secrets.find((s) => s.instanceId === instanceId)!;
    const current = secret.versions.find((v) => v.stages.includes('ACSCurrent'))!;
    return (NOW.getTime() - Date.parse(current.createTime)) / DAY;
  };

  it('holds a replica set, a sharded cluster, and realistic instance ids', () => {
    expect(fixture.instances.map((i) => i.type)).toEqual(expect.arrayContaining(['replicate', 'sharding']));
    for (const instance of fixture.instances) expect(instance.id).toMatch(/^dds-bp1[0-9a-z]{13,}$/);
  });

  it('holds a secret not yet due, one due, and an instance that fails on purpose', () => {
    const ages = fixture.instances.filter((i) => i.lockMode === 'Unlock' && fixture.secrets.some((s) => s.instanceId === i.id)).map((i) => currentAge(i.id));
    expect(ages.some((age) => age < 7)).toBe(true);
    expect(ages.some((age) => age > 30)).toBe(true);
    expect(fixture.instances.some((i) => i.lockMode !== 'Unlock' && fixture.secrets.some((s) => s.instanceId === i.id))).toBe(true);
  });

  it('holds a plain and an STS access key', () => {
    expect(fixture.accessKeys.some((k) => k.securityToken === undefined)).toBe(true);
    expect(fixture.accessKeys.some((k) => k.securityToken !== undefined)).toBe(true);
  });

  it('starts without a violation of the invariant', () => {
    expect(createCloudState(fixture).truth.violations).toEqual([]);
  });

  it('serves its fleet over HTTP: the tagged targets, and secret ages resolved at load', async () => {
    const cloud = await startCloud();
    try {
      const targets = async (DBInstanceType: string) => {
        const body = await ddsCall(cloud, 'DescribeDBInstances', { DBInstanceType, 'Tag.1.Key': 'rotation', 'Tag.1.Value': 'enabled' });
        return (body.DBInstances as { DBInstance: Array<{ DBInstanceId: string }> }).DBInstance.map((i) => i.DBInstanceId);
      };
      const all = [...(await targets('replicate')), ...(await targets('sharding'))];
      expect(all.sort()).toEqual(fixture.instances.filter((i) => i.tags.rotation === 'enabled').map((i) => i.id).sort());
      const kms = kmsClient(cloud);
      for (const secret of fixture.secrets) {
        const listed = await kms.listSecretVersionIds(new kmsModels.ListSecretVersionIdsRequest({ secretName: secret.name }));
        const current = listed.versionIds.versionId.find((v) => v.versionStages.versionStage.includes('ACSCurrent'))!;
        const expectedAge = currentAge(secret.instanceId!);
        const age = (Date.now() - Date.parse(current.createTime)) / DAY;
        expect(Math.abs(age - expectedAge)).toBeLessThan(0.01);
      }
    } finally {
      await cloud.close();
    }
  });

  it('refuses to start from a fixture with problems', async () => {
    await expect(startCloud({ fixture: { region: 'cn-hangzhou' } })).rejects.toThrowError(FixtureError);
  });
});
