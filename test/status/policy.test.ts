/**
 * What `npm run status` may call, and under which policy: its code calls only the three read actions; the
 * function's policy grants each of them on the same resources, so the function's credentials can run it;
 * the read-only policy (`render-policy --function status`) grants exactly them, and is enough.
 */
import FcClient from '@alicloud/fc20230330';
import KmsClient from '@alicloud/kms20160120';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import DdsClient from '../../functions/shared/clients/dds';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { asList, authorize, parsePolicy, type PolicyDocument } from '../../local-cloud/ram';
import { renderPolicy } from '../../scripts/render-policy';
import { STATUS_ACTIONS } from '../../scripts/status/read';
import { apiMethodName, findApiCalls } from '../deploy/api-calls';
import { PROJECT_ROOT } from '../deploy/s-yaml';
import { statusJson } from './run';
import { refuseUnreadable, stagedFleet, statusEnv } from './staged-fleet';

const STATUS_ENTRY = `${PROJECT_ROOT}scripts/status.ts`;
const ACCOUNT = '1234567890123456';
const REGION = 'cn-hangzhou';

const CLIENT_METHODS = new Set(
  [KmsClient, FcClient, DdsClient]
    .flatMap((client) => Object.getOwnPropertyNames(client.prototype))
    .filter((name) => /^[a-z]+[A-Z]\w*$/.test(name) && name !== 'getEndpoint')
    .map(apiMethodName),
);
const actionsOf = (policy: PolicyDocument) => new Set(policy.Statement.flatMap((s) => asList(s.Action)));
/** Each action's resources in a policy. */
const resourcesOf = (policy: PolicyDocument, action: string) => policy.Statement.filter((s) => asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource));

/** The read-only policy, rendered as the README says (`npm run render-policy -- --function status`). */
function renderReadOnly(options: { tagDiscovery: boolean } = { tagDiscovery: true }): PolicyDocument {
  return renderPolicy({ function: 'status', accountId: ACCOUNT, region: REGION, secretPrefix: 'mongodb/', instances: ['dds-*'], createMissingSecrets: false, ...options });
}

describe('what status may call', () => {
  it('calls, in its code, only DescribeDBInstances, DescribeDBInstanceAttribute and ListSecretVersionIds', () => {
    const calls = findApiCalls(STATUS_ENTRY, CLIENT_METHODS);
    expect(calls.filter((c) => c.action === undefined).map((c) => `${c.file}:${c.line} ${c.method}`)).toEqual([]);
    expect(new Set(calls.map((c) => c.action))).toEqual(new Set(STATUS_ACTIONS));
  });

  it('needs no permission the function’s own policy lacks, on no wider resource', () => {
    for (const tagDiscovery of [true, false]) {
      const functionPolicy = renderPolicy({ accountId: ACCOUNT, region: REGION, function: 'rotate', secretPrefix: 'mongodb/', instances: ['dds-*'], tagDiscovery, createMissingSecrets: false });
      const readOnly = renderReadOnly({ tagDiscovery });
      // Without ROTATION_TAG neither grants DescribeDBInstances, and status does not call it either (see below).
      for (const action of actionsOf(readOnly)) {
        expect(actionsOf(functionPolicy).has(action), action).toBe(true);
        expect(resourcesOf(readOnly, action), action).toEqual(resourcesOf(functionPolicy, action));
      }
    }
  });

  it('offers a read-only policy granting exactly those actions, and no secret value', async () => {
    const policy = renderReadOnly();
    expect(actionsOf(policy)).toEqual(new Set(STATUS_ACTIONS));
    const allowed = (product: 'dds' | 'kms', action: string, params: Record<string, string>) => authorize(policy, { product, action, params, region: REGION, accountId: ACCOUNT }).allowed;
    const secret = { SecretName: 'mongodb/dds-bp1a/root' };
    expect(allowed('kms', 'ListSecretVersionIds', secret)).toBe(true);
    expect(allowed('kms', 'GetSecretValue', secret)).toBe(false);
    expect(allowed('kms', 'DescribeSecret', secret)).toBe(false);
    expect(allowed('kms', 'ListSecretVersionIds', { SecretName: 'payments/api-key' })).toBe(false);
    expect(allowed('dds', 'ResetAccountPassword', { DBInstanceId: 'dds-bp1a' })).toBe(false);
    expect(allowed('dds', 'DescribeAccounts', { DBInstanceId: 'dds-bp1a' })).toBe(false);
    expect(allowed('dds', 'DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1a' })).toBe(true);
    expect(allowed('dds', 'DescribeDBInstances', { RegionId: REGION })).toBe(true);
  });
});

describe('status under each policy in the local cloud', () => {
  const staged = stagedFleet(10);
  const readOnlyKey: { id: string; secret: string; securityToken?: string } = { id: 'LTAI5tStatusReadOnly1', secret: 'status-read-only-secret' };
  const functionKey = { id: 'STS.StatusFunctionRole', secret: 'status-function-secret', securityToken: 'status-function-token' };
  let cloud: LocalCloud;

  beforeAll(async () => {
    const readOnly = renderReadOnly();
    const functionPolicy = renderPolicy({ accountId: ACCOUNT, region: REGION, function: 'rotate', secretPrefix: 'mongodb/', instances: ['dds-*'], tagDiscovery: true, createMissingSecrets: false });
    const fixture = { ...staged.fixture, accountId: ACCOUNT, accessKeys: [...staged.fixture.accessKeys, { ...readOnlyKey, policy: readOnly }, { ...functionKey, policy: functionPolicy }] };
    cloud = await startCloud({ port: 0, fixture });
    refuseUnreadable(cloud, staged);
  });

  afterAll(async () => {
    await cloud?.close();
  });

  it.each([
    ['the read-only policy', readOnlyKey],
    ['the function’s policy', functionKey],
  ])('sees every target as with full access, under %s', async (_, key) => {
    const { report } = await statusJson([], statusEnv(cloud, staged, {
      ALIBABA_CLOUD_ACCESS_KEY_ID: key.id,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: key.secret,
      ALIBABA_CLOUD_SECURITY_TOKEN: key.securityToken,
    }));
    expect(new Map(report.targets.map((t) => [t.instanceId, t.state]))).toEqual(staged.expected);
    const refused = cloud.truth.requests.filter((r) => r.accessKeyId === key.id && /^Forbidden\.(RAM|NoPermission)$/.test(r.code ?? ''));
    expect(refused.map((r) => r.params.SecretName)).toEqual([staged.unreadableSecret]); // the one refusal staged on purpose
  });

  it('does not list instances when ROTATION_TAG is unset, as the function’s policy without tag discovery allows', async () => {
    const before = cloud.truth.requests.length;
    await statusJson([], statusEnv(cloud, staged, { ROTATION_TAG: undefined }));
    expect(cloud.truth.requests.slice(before).map((r) => r.action)).not.toContain('DescribeDBInstances');
  });
});
