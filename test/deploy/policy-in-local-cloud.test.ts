/**
 * The rendered deployment policy, carried by an access key of the local cloud: the rotation's
 * calls go through the official SDKs, everything around them is refused with each service's code.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { DEMO_FIXTURE_PATH } from '../../local-cloud/fixtures';
import { renderPolicy } from '../../scripts/render-policy';
import { type AccessKeyLike, ddsCall, type KmsClient, kmsClient, kmsModels as $ } from '../helpers/sdk';

const ROLE_KEY: AccessKeyLike = { id: 'STS.RotationRole01', secret: 'rotationrolesecret01', securityToken: 'rotation-role-token-01' };
const INSTANCE = 'dds-bp1a4c7e2f9d3b5a8';
const SECRET = `mongodb/${INSTANCE}/root`;

interface Refusal {
  code: string;
  status: number;
}

/** The service's code and HTTP status from what either SDK throws. */
async function refusal(call: Promise<unknown>): Promise<Refusal> {
  try {
    await call;
  } catch (err) {
    const e = err as { data?: { Code?: string }; statusCode?: number; message: string };
    return { code: e.data?.Code ?? '', status: e.statusCode ?? Number(/code: (\d+)/.exec(e.message)?.[1]) };
  }
  throw new Error('the call succeeded');
}

describe('the rendered policy in the local cloud', () => {
  let cloud: LocalCloud;
  let kms: KmsClient;

  beforeAll(async () => {
    const demo = JSON.parse(readFileSync(DEMO_FIXTURE_PATH, 'utf8')) as { region: string; accountId: string; accessKeys: object[] };
    const policy = renderPolicy({
      function: 'rotate',
      accountId: demo.accountId,
      region: demo.region,
      secretPrefix: 'mongodb/',
      instances: ['dds-*'],
      tagDiscovery: true,
      createMissingSecrets: false,
    });
    cloud = await startCloud({ fixture: { ...demo, accessKeys: [...demo.accessKeys, { ...ROLE_KEY, policy }] } });
    kms = kmsClient(cloud, ROLE_KEY);
  });

  afterAll(async () => {
    await cloud?.close();
  });

  it('lets the rotation protocol’s reads through', async () => {
    const attribute = await ddsCall(cloud, 'DescribeDBInstanceAttribute', { DBInstanceId: INSTANCE }, ROLE_KEY);
    expect(attribute).toHaveProperty('DBInstances');
    const discovered = await ddsCall(cloud, 'DescribeDBInstances', { RegionId: cloud.region }, ROLE_KEY);
    expect(discovered).toHaveProperty('DBInstances');
    const versions = await kms.listSecretVersionIds(new $.ListSecretVersionIdsRequest({ secretName: SECRET }));
    expect(versions.secretName).toBe(SECRET);
  });

  it('refuses DDS calls outside the policy with Forbidden.RAM', async () => {
    expect(await refusal(ddsCall(cloud, 'DescribeAccounts', { DBInstanceId: INSTANCE, AccountName: 'root' }, ROLE_KEY))).toEqual({
      code: 'Forbidden.RAM',
      status: 403,
    });
  });

  it('refuses KMS calls outside the policy with Forbidden.NoPermission', async () => {
    const otherSecret = kms.getSecretValue(new $.GetSecretValueRequest({ secretName: 'payments/api-key' }));
    expect(await refusal(otherSecret)).toEqual({ code: 'Forbidden.NoPermission', status: 403 });
    const create = kms.createSecret(
      new $.CreateSecretRequest({ secretName: 'mongodb/dds-bp1new/root', versionId: 'v1', secretData: '{}', secretDataType: 'text' }),
    );
    expect(await refusal(create)).toEqual({ code: 'Forbidden.NoPermission', status: 403 });
  });
});
