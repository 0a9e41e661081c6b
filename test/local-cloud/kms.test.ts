import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { excuseViolations, startCloud } from '../helpers/cloud';
import { type KmsClient, kmsClient, kmsModels as $ } from '../helpers/sdk';

const SECRET = 'mongodb/dds-bp1rs000000000001/root';
const data = (password: string) => JSON.stringify({ AccountName: 'root', AccountPassword: password, DBInstanceId: 'dds-bp1rs000000000001' });

function fixture() {
  return {
    region: 'cn-hangzhou',
    accountId: '1234567890123456',
    accessKeys: [{ id: 'STS.LocalRoleKey01', secret: 'localstssecret01', securityToken: 'local-sts-token-01' }],
    instances: [{ id: 'dds-bp1rs000000000001', type: 'replicate', rootPassword: 'Initial#Pass01' }],
    secrets: [
      {
        name: SECRET,
        instanceId: 'dds-bp1rs000000000001',
        versions: [
          { versionId: 'v0', data: data('Older#Pass00'), stages: ['ACSPrevious'], createTime: '2026-09-01T00:00:00Z' },
          { versionId: 'v1', data: data('Initial#Pass01'), stages: ['ACSCurrent'], createTime: '2026-10-01T00:00:00Z' },
        ],
      },
    ],
  };
}

interface ServiceError {
  code: string;
  status: number;
  message: string;
}

/** The service's code and HTTP status, read from what `@alicloud/rpc-client` throws (the status is only in its message). */
async function failure(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    const e = err as { data?: { Code?: string; Message?: string }; message: string };
    return { code: e.data?.Code ?? '', status: Number(/code: (\d+)/.exec(e.message)?.[1]), message: e.data?.Message ?? '' };
  }
  throw new Error('the call succeeded');
}

describe('KMS 2016-01-20 secrets over HTTP', () => {
  let cloud: LocalCloud;
  let kms: KmsClient;
  beforeEach(async () => {
    cloud = await startCloud({ fixture: fixture() });
    kms = kmsClient(cloud);
  });
  afterEach(async () => {
    await cloud.close();
  });
  /** The test moved KMS labels (or created a secret) with no rotation behind it: the database does not follow. */
  const labelsAlone = () => excuseViolations(cloud, 'this test moves KMS labels alone and the database does not follow');

  const get = (params: { versionId?: string; versionStage?: string; secretName?: string }) =>
    kms.getSecretValue(new $.GetSecretValueRequest({ secretName: SECRET, ...params }));
  const put = (versionId: string, secretData: string, versionStages?: string) =>
    kms.putSecretValue(new $.PutSecretValueRequest({ secretName: SECRET, versionId, secretData, versionStages }));
  const update = (versionStage: string, versions: { moveToVersion?: string; removeFromVersion?: string }) =>
    kms.updateSecretVersionStage(new $.UpdateSecretVersionStageRequest({ secretName: SECRET, versionStage, ...versions }));
  const list = async (params: { includeDeprecated?: string; pageNumber?: number; pageSize?: number } = {}) =>
    kms.listSecretVersionIds(new $.ListSecretVersionIdsRequest({ secretName: SECRET, ...params }));
  /** Every version (deprecated ones too) with its stages, oldest first. */
  const stages = async () => {
    const listed = await list({ includeDeprecated: 'true', pageSize: 100 });
    return Object.fromEntries(listed.versionIds.versionId.map((v) => [v.versionId, v.versionStages.versionStage]));
  };

  describe('CreateSecret and DescribeSecret', () => {
    it('creates a generic secret whose first version is ACSCurrent', async () => {
      const created = await kms.createSecret(
        new $.CreateSecretRequest({
          secretName: 'mongodb/dds-new/root',
          versionId: 'first',
          secretData: data('Created#Pass01'),
          secretDataType: 'text',
          description: 'root of dds-new',
          tags: '[{"TagKey":"team","TagValue":"db"}]',
        }),
      );
      expect(created).toMatchObject({ secretName: 'mongodb/dds-new/root', versionId: 'first', arn: 'acs:kms:cn-hangzhou:1234567890123456:secret/mongodb/dds-new/root' });
      const value = await get({ secretName: 'mongodb/dds-new/root' });
      expect(value).toMatchObject({ versionId: 'first', secretDataType: 'text', versionStages: { versionStage: ['ACSCurrent'] } });
      expect(JSON.parse(value.secretData).AccountPassword).toBe('Created#Pass01');
      const described = await kms.describeSecret(new $.DescribeSecretRequest({ secretName: 'mongodb/dds-new/root', fetchTags: 'true' }));
      expect(described).toMatchObject({ arn: created.arn, secretName: 'mongodb/dds-new/root', description: 'root of dds-new' });
      expect(described.createTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(described.updateTime).toBe(described.createTime);
      expect(described.tags.tag).toEqual([expect.objectContaining({ tagKey: 'team', tagValue: 'db' })]);
      labelsAlone();
    });

    it('refuses an existing name (409 Rejected.ResourceExist) and a reserved or missing one', async () => {
      const create = (secretName: string) => kms.createSecret(new $.CreateSecretRequest({ secretName, versionId: 'x', secretData: 'y' }));
      expect(await failure(create(SECRET))).toMatchObject({ code: 'Rejected.ResourceExist', status: 409 });
      expect(await failure(create('acs/reserved'))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      expect(await failure(create(''))).toMatchObject({ code: 'MissingParameter', status: 400 });
    });

    it('describes a fixture secret with its ARN and times', async () => {
      const described = await kms.describeSecret(new $.DescribeSecretRequest({ secretName: SECRET }));
      expect(described).toMatchObject({
        arn: `acs:kms:cn-hangzhou:1234567890123456:secret/${SECRET}`,
        createTime: '2026-09-01T00:00:00Z',
        updateTime: '2026-10-01T00:00:00Z',
      });
    });
  });

  describe('GetSecretValue', () => {
    it('reads ACSCurrent by default, or a version by stage or id', async () => {
      expect(await get({})).toMatchObject({ secretName: SECRET, versionId: 'v1', createTime: '2026-10-01T00:00:00Z', versionStages: { versionStage: ['ACSCurrent'] } });
      expect((await get({ versionStage: 'ACSPrevious' })).versionId).toBe('v0');
      expect((await get({ versionId: 'v0' })).versionStages.versionStage).toEqual(['ACSPrevious']);
      expect((await get({ versionId: 'v1', versionStage: 'ACSCurrent' })).versionId).toBe('v1');
      expect((await get({ secretName: `acs:kms:cn-hangzhou:1234567890123456:secret/${SECRET}` })).versionId).toBe('v1');
    });

    it('refuses a stage and an id that name different versions', async () => {
      expect(await failure(get({ versionId: 'v0', versionStage: 'ACSCurrent' }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
    });

    it('answers 404 Forbidden.ResourceNotFound for a missing secret, version or stage', async () => {
      for (const params of [{ secretName: 'mongodb/none/root' }, { versionId: 'v9' }, { versionStage: 'ACSPending' }]) {
        expect(await failure(get(params))).toMatchObject({ code: 'Forbidden.ResourceNotFound', status: 404 });
      }
    });
  });

  describe('PutSecretValue', () => {
    it('makes a new version ACSCurrent by default; the old current becomes ACSPrevious', async () => {
      const put2 = await put('v2', data('Second#Pass02'));
      expect(put2).toMatchObject({ secretName: SECRET, versionId: 'v2', versionStages: { versionStage: ['ACSCurrent'] } });
      expect(await stages()).toEqual({ v0: [], v1: ['ACSPrevious'], v2: ['ACSCurrent'] });
      labelsAlone();
    });

    it('stages a version under the labels of a JSON array, moving each label', async () => {
      await put('p1', data('Pending#Pass01'), '["ACSPending"]');
      expect(await stages()).toEqual({ v0: ['ACSPrevious'], v1: ['ACSCurrent'], p1: ['ACSPending'] });
      await put('p2', data('Pending#Pass02'), '["ACSPending","MyLabel"]');
      expect(await stages()).toEqual({ v0: ['ACSPrevious'], v1: ['ACSCurrent'], p1: [], p2: ['ACSPending', 'MyLabel'] });
      expect((await get({ versionStage: 'ACSPending' })).versionId).toBe('p2');
    });

    it('accepts the same VersionId with the same data again, changing nothing', async () => {
      await put('p1', data('Pending#Pass01'), '["ACSPending"]');
      const again = await put('p1', data('Pending#Pass01'), '["ACSCurrent"]');
      expect(again.versionStages.versionStage).toEqual(['ACSPending']);
      expect(await stages()).toEqual({ v0: ['ACSPrevious'], v1: ['ACSCurrent'], p1: ['ACSPending'] });
    });

    it('refuses the same VersionId with other data (409 Rejected.ResourceExist), quoting no data', async () => {
      await put('p1', data('Pending#Pass01'), '["ACSPending"]');
      const error = await failure(put('p1', data('Different#Pass9'), '["ACSPending"]'));
      expect(error).toMatchObject({ code: 'Rejected.ResourceExist', status: 409 });
      expect(error.message).not.toMatch(/Pass/);
      expect(cloud.truth.secretPassword(SECRET, 'ACSPending')).toBe('Pending#Pass01');
    });

    it('refuses VersionStages that are not a JSON array of labels', async () => {
      for (const versionStages of ['ACSPending', '{"VersionStage":["ACSPending"]}', '[""]', '[1]']) {
        expect(await failure(put('bad', 'x', versionStages))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      }
      expect(Object.keys(await stages())).toEqual(['v0', 'v1']);
    });

    it('answers 404 for a missing secret and requires VersionId and SecretData', async () => {
      const missing = kms.putSecretValue(new $.PutSecretValueRequest({ secretName: 'none', versionId: 'a', secretData: 'b' }));
      expect(await failure(missing)).toMatchObject({ code: 'Forbidden.ResourceNotFound', status: 404 });
      expect(await failure(put('', 'x'))).toMatchObject({ code: 'MissingParameter' });
      expect(await failure(put('v9', ''))).toMatchObject({ code: 'MissingParameter' });
    });

    it('keeps at most 10 versions, deleting the oldest unlabelled ones first', async () => {
      for (let n = 2; n <= 13; n++) await put(`p${n}`, data(`Pending#Pass${n}`), '["ACSPending"]');
      const versions = await stages();
            // v0 and v1 are older than every pending version, but labelled: p2 to p5 went instead.
      expect(Object.keys(versions)).toEqual(['v0', 'v1', 'p6', 'p7', 'p8', 'p9', 'p10', 'p11', 'p12', 'p13']);
      expect(versions).toMatchObject({ v0: ['ACSPrevious'], v1: ['ACSCurrent'], p12: [], p13: ['ACSPending'] });
      expect(await failure(get({ versionId: 'p5' }))).toMatchObject({ code: 'Forbidden.ResourceNotFound', status: 404 });
      expect((await get({ versionId: 'p6' })).versionStages.versionStage).toEqual([]);
    });
  });

  describe('UpdateSecretVersionStage', () => {
    it('promotes a pending version: ACSCurrent moves, the old current becomes ACSPrevious, ACSPending is removed', async () => {
      await put('p1', data('Pending#Pass01'), '["ACSPending"]');
      expect(await update('ACSCurrent', { moveToVersion: 'p1' })).toMatchObject({ secretName: SECRET });
      expect(await stages()).toEqual({ v0: [], v1: ['ACSPrevious'], p1: ['ACSPending', 'ACSCurrent'] });
      await update('ACSPending', { removeFromVersion: 'p1' });
      expect(await stages()).toEqual({ v0: [], v1: ['ACSPrevious'], p1: ['ACSCurrent'] });
      labelsAlone();
    });

    it('moves ACSCurrent back to the previous version (a rollback)', async () => {
      await update('ACSCurrent', { moveToVersion: 'v0', removeFromVersion: 'v1' });
      expect(await stages()).toEqual({ v0: ['ACSCurrent'], v1: ['ACSPrevious'] });
      labelsAlone();
    });

    it('adds, moves and removes a custom label', async () => {
      await update('Blue', { moveToVersion: 'v0' });
      await update('Blue', { moveToVersion: 'v1', removeFromVersion: 'v0' });
      expect(await stages()).toEqual({ v0: ['ACSPrevious'], v1: ['ACSCurrent', 'Blue'] });
      await update('Blue', { removeFromVersion: 'v1' });
      expect(await stages()).toEqual({ v0: ['ACSPrevious'], v1: ['ACSCurrent'] });
    });

    it('refuses to remove ACSCurrent or ACSPrevious, or a label from a version without it', async () => {
      expect(await failure(update('ACSCurrent', { removeFromVersion: 'v1' }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      expect(await failure(update('ACSPrevious', { removeFromVersion: 'v0' }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      expect(await failure(update('ACSPending', { removeFromVersion: 'v1' }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      expect(await failure(update('ACSCurrent', { moveToVersion: 'v0', removeFromVersion: 'v0' }))).toMatchObject({ code: 'InvalidParameter' });
      expect(await failure(update('ACSPending', {}))).toMatchObject({ code: 'MissingParameter', status: 400 });
      expect(await failure(update('ACSCurrent', { moveToVersion: 'nope' }))).toMatchObject({ code: 'Forbidden.ResourceNotFound', status: 404 });
      expect(await stages()).toEqual({ v0: ['ACSPrevious'], v1: ['ACSCurrent'] });
    });

    it('allows at most 8 stage labels per secret (400 Rejected.LimitExceeded)', async () => {
      for (const label of ['L1', 'L2', 'L3', 'L4', 'L5', 'L6']) await update(label, { moveToVersion: 'v0' });
      expect(await failure(update('L7', { moveToVersion: 'v0' }))).toMatchObject({ code: 'Rejected.LimitExceeded', status: 400 });
      expect(await failure(put('p1', data('Pending#Pass01'), '["ACSPending"]'))).toMatchObject({ code: 'Rejected.LimitExceeded' });
      await update('L1', { moveToVersion: 'v1' });
      expect((await stages()).v1).toEqual(['ACSCurrent', 'L1']);
    });
  });

  describe('ListSecretVersionIds', () => {
    it('lists labelled versions with their stages and times, unlabelled ones on request', async () => {
      await put('v2', data('Second#Pass02'));
      const listed = await list();
      expect(listed).toMatchObject({ secretName: SECRET, totalCount: 2, pageNumber: 1, pageSize: 20 });
      expect(listed.versionIds.versionId.map((v) => [v.versionId, v.versionStages.versionStage])).toEqual([
        ['v1', ['ACSPrevious']],
        ['v2', ['ACSCurrent']],
      ]);
      expect(listed.versionIds.versionId[0].createTime).toBe('2026-10-01T00:00:00Z');
      expect((await list({ includeDeprecated: 'true' })).totalCount).toBe(3);
      expect((await list({ includeDeprecated: 'false' })).totalCount).toBe(2);
      labelsAlone();
    });

    it('pages with PageNumber and PageSize', async () => {
      for (let n = 2; n <= 6; n++) await put(`p${n}`, data(`Pending#Pass${n}`), `["L${n}"]`);
      const page = (pageNumber: number) => list({ pageNumber, pageSize: 3 });
      const ids = async (pageNumber: number) => (await page(pageNumber)).versionIds.versionId.map((v) => v.versionId);
      expect(await ids(1)).toEqual(['v0', 'v1', 'p2']);
      expect(await ids(2)).toEqual(['p3', 'p4', 'p5']);
      expect(await ids(3)).toEqual(['p6']);
      expect(await page(3)).toMatchObject({ totalCount: 7, pageNumber: 3, pageSize: 3 });
      expect(await failure(list({ pageSize: 0 }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
      expect(await failure(list({ includeDeprecated: 'yes' }))).toMatchObject({ code: 'InvalidParameter', status: 400 });
    });
  });

  it('logs writes with the secret data redacted and notes the passwords it stored', async () => {
    await put('p1', data('Pending#Pass01'), '["ACSPending"]');
    await failure(put('p1', data('Different#Pass9')));
    const writes = cloud.truth.writeRequests();
    expect(writes.map((w) => [w.action, w.status, w.params.SecretData])).toEqual([
      ['PutSecretValue', 200, '[redacted]'],
      ['PutSecretValue', 409, '[redacted]'],
    ]);
    expect(JSON.stringify(cloud.truth.requests)).not.toMatch(/Pending#Pass01|Different#Pass9/);
    expect(cloud.truth.passwordsSeen()).toEqual(expect.arrayContaining(['Older#Pass00', 'Initial#Pass01', 'Pending#Pass01', 'Different#Pass9']));
  });
});
