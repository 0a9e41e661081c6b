/**
 * KMS 3.0 as the local cloud plays it, through the official client: an account with KMS instances keeps its
 * secrets in them (CreateSecret needs a valid DKMSInstanceId), and a secret in its delete window is out of
 * reach and its name taken (409 Rejected.ResourceInDeleteWindow).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { type KmsClient, kmsClient, kmsModels as $ } from '../helpers/sdk';

const KMS_INSTANCE = 'kst-hzz65f176a0ogplgq1a2b';
const DELETED = 'mongodb/dds-bp1gone000000001/root';
const LIVE = 'mongodb/dds-bp1live000000001/root';
const data = (instanceId: string, password: string) => JSON.stringify({ AccountName: 'root', AccountPassword: password, DBInstanceId: instanceId });

/** CreateSecret with DKMSInstanceId, which @alicloud/kms20160120 1.2.0 has no field for: the request model, extended. */
class CreateSecretInInstanceRequest extends $.CreateSecretRequest {
  declare DKMSInstanceId?: string;

  static names(): Record<string, string> {
    return { ...super.names(), DKMSInstanceId: 'DKMSInstanceId' };
  }

  static types(): Record<string, unknown> {
    return { ...super.types(), DKMSInstanceId: 'string' };
  }
}

function fixture(kmsInstances?: Array<{ id: string }>) {
  return {
    region: 'cn-hangzhou',
    accessKeys: [{ id: 'LTAI5tKmsInstances01', secret: 'kms-instances-secret-01' }],
    instances: [
      { id: 'dds-bp1gone000000001', type: 'replicate', rootPassword: 'Gone#Password01' },
      { id: 'dds-bp1live000000001', type: 'replicate', rootPassword: 'Live#Password01' },
    ],
    secrets: [
      {
        name: DELETED,
        instanceId: 'dds-bp1gone000000001',
        plannedDeleteTime: '+7d',
        versions: [{ versionId: 'v1', data: data('dds-bp1gone000000001', 'Gone#Password01'), stages: ['ACSCurrent'], createTime: '-40d' }],
      },
      {
        name: LIVE,
        instanceId: 'dds-bp1live000000001',
        versions: [{ versionId: 'v1', data: data('dds-bp1live000000001', 'Live#Password01'), stages: ['ACSCurrent'], createTime: '-40d' }],
      },
    ],
    ...(kmsInstances && { kmsInstances }),
  };
}

/** The service's code and HTTP status, from what `@alicloud/rpc-client` throws (the status is only in its message). */
async function failure(call: Promise<unknown>): Promise<{ code: string; status: number; message: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as { data?: { Code?: string; Message?: string }; message: string };
    return { code: e.data?.Code ?? '', status: Number(/code: (\d+)/.exec(e.message)?.[1]), message: e.data?.Message ?? '' };
  }
  throw new Error('the call succeeded');
}

describe('KMS instances and the delete window', () => {
  let cloud: LocalCloud | undefined;
  let kms: KmsClient;

  afterEach(async () => {
    await cloud?.close();
    cloud = undefined;
  });

  async function start(kmsInstances?: Array<{ id: string }>) {
    cloud = await startCloud({ port: 0, fixture: fixture(kmsInstances) });
    kms = kmsClient(cloud);
    return cloud;
  }

  const create = (secretName: string, DKMSInstanceId?: string) =>
    kms.createSecret(new CreateSecretInInstanceRequest({ secretName, versionId: 'init-1', secretData: data('dds-x', ''), secretDataType: 'text', DKMSInstanceId }));

  it('refuses CreateSecret without the DKMSInstanceId of one of the account’s KMS instances, writing nothing', async () => {
    const current = await start([{ id: KMS_INSTANCE }]);

    for (const instance of [undefined, 'kst-hzz00000000000000none']) {
      expect(await failure(create('mongodb/dds-new/root', instance))).toEqual({
        code: 'Forbidden.DKMSInstanceNotFound',
        status: 403,
        message: 'The specified DKMS Instance is not found.',
      });
    }
    expect(current.truth.secret('mongodb/dds-new/root')).toBeUndefined();

    const created = await create('mongodb/dds-new/root', KMS_INSTANCE);
    expect(created).toMatchObject({ secretName: 'mongodb/dds-new/root', versionId: 'init-1' });
    expect(current.state.findSecret('mongodb/dds-new/root')?.dkmsInstanceId).toBe(KMS_INSTANCE);
    const [request] = current.truth.requests.filter((r) => r.action === 'CreateSecret' && r.status === 200);
    expect(request.params.DKMSInstanceId).toBe(KMS_INSTANCE);
  });

  it('takes CreateSecret without DKMSInstanceId in an account with no KMS instance, and refuses one it names', async () => {
    const current = await start();
    await create('mongodb/dds-new/root');
    expect(current.truth.secret('mongodb/dds-new/root')).toBeDefined();
    expect(await failure(create('mongodb/dds-other/root', KMS_INSTANCE))).toMatchObject({ code: 'Forbidden.DKMSInstanceNotFound', status: 403 });
  });

  it('answers CreateSecret for the name of a secret in its delete window with 409 Rejected.ResourceInDeleteWindow', async () => {
    const current = await start([{ id: KMS_INSTANCE }]);
    expect(await failure(create(DELETED, KMS_INSTANCE))).toEqual({ code: 'Rejected.ResourceInDeleteWindow', status: 409, message: 'The secret is planned to be deleted.' });
    expect(await failure(create(LIVE, KMS_INSTANCE))).toMatchObject({ code: 'Rejected.ResourceExist', status: 409 });
    expect(current.truth.secret(DELETED)?.versions).toHaveLength(1);
  });

  it('keeps a secret in its delete window out of reach: described with its PlannedDeleteTime, never read or changed', async () => {
    const current = await start();
    const described = await kms.describeSecret(new $.DescribeSecretRequest({ secretName: DELETED }));
    expect(Date.parse(described.plannedDeleteTime)).toBeGreaterThan(Date.now());
    expect((await kms.describeSecret(new $.DescribeSecretRequest({ secretName: LIVE }))).plannedDeleteTime).toBeUndefined();

    for (const read of [
      kms.getSecretValue(new $.GetSecretValueRequest({ secretName: DELETED })),
      kms.listSecretVersionIds(new $.ListSecretVersionIdsRequest({ secretName: DELETED, includeDeprecated: 'true' })),
    ]) {
      expect(await failure(read)).toMatchObject({ code: 'Forbidden.ResourceNotFound', status: 404 });
    }
    for (const change of [
      kms.putSecretValue(new $.PutSecretValueRequest({ secretName: DELETED, versionId: 'v2', secretData: data('dds-bp1gone000000001', 'Next#Password02'), versionStages: '["ACSPending"]' })),
      kms.updateSecretVersionStage(new $.UpdateSecretVersionStageRequest({ secretName: DELETED, versionStage: 'ACSCurrent', moveToVersion: 'v1' })),
    ]) {
      expect(await failure(change)).toMatchObject({ code: 'Rejected.ResourceInDeleteWindow', status: 409 });
    }
    expect(current.truth.secret(DELETED)?.versions.map((v) => [v.versionId, v.stages])).toEqual([['v1', ['ACSCurrent']]]);
    expect(current.truth.violations).toEqual([]);
  });
});
