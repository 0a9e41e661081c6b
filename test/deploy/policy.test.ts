import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import FcClient from '@alicloud/fc20230330';
import KmsClient from '@alicloud/kms20160120';
import { describe, expect, it } from 'vitest';
import DdsClient from '../../functions/shared/clients/dds';
import { asList, authorize, parsePolicy, type PolicyDocument, type RequestScope } from '../../local-cloud/ram';
import { parseRenderArgs, POLICY_TEMPLATE_PATH, renderPolicy, type RenderOptions } from '../../scripts/render-policy';
import { apiMethodName, CLIENT_CALLS, findApiCalls } from './api-calls';
import { PROJECT_ROOT } from './s-yaml';

const ACCOUNT = '1234567890123456';
const REGION = 'cn-hangzhou';
const BASE: RenderOptions = {
  accountId: ACCOUNT,
  region: REGION,
  secretPrefix: 'mongodb/',
  instancePattern: 'dds-*',
  tagDiscovery: false,
  createMissingSecrets: false,
};
const EVERY_FEATURE: RenderOptions = { ...BASE, tagDiscovery: true, createMissingSecrets: true };

const actionsOf = (policy: PolicyDocument) => new Set(policy.Statement.flatMap((s) => asList(s.Action)));
const call = (policy: PolicyDocument, product: RequestScope['product'], action: string, params: Record<string, string>, region = REGION) =>
  authorize(policy, { product, action, params, region, accountId: ACCOUNT }).allowed;

describe('the RAM policy template', () => {
  it('is a policy document whose placeholders the renderer knows', () => {
    const text = readFileSync(POLICY_TEMPLATE_PATH, 'utf8');
    expect(() => parsePolicy(text)).not.toThrow();
    const placeholders = new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    expect(placeholders).toEqual(new Set(['region', 'accountId', 'instancePattern', 'secretPrefix', 'encryptionKeyId', 'rotateFunctionName']));
  });
});

describe('renderPolicy', () => {
  it('grants the rotation protocol on the account’s instances and the prefixed secrets, nothing else', () => {
    expect(renderPolicy(BASE)).toEqual({
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['dds:DescribeDBInstanceAttribute', 'dds:ResetAccountPassword'],
          Resource: `acs:dds:${REGION}:${ACCOUNT}:dbinstance/dds-*`,
        },
        {
          Effect: 'Allow',
          Action: ['kms:GetSecretValue', 'kms:ListSecretVersionIds', 'kms:PutSecretValue', 'kms:UpdateSecretVersionStage'],
          Resource: `acs:kms:${REGION}:${ACCOUNT}:secret/mongodb/*`,
        },
      ],
    });
  });

  it('adds tag discovery, secret creation and the encryption key only when asked', () => {
    const tagged = renderPolicy({ ...BASE, tagDiscovery: true });
    expect(tagged.Statement).toContainEqual({ Effect: 'Allow', Action: 'dds:DescribeDBInstances', Resource: `acs:dds:${REGION}:${ACCOUNT}:dbinstance/*` });
    expect(actionsOf(tagged).has('kms:CreateSecret')).toBe(false);

    const creating = renderPolicy({ ...BASE, createMissingSecrets: true });
    expect(creating.Statement).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:CreateSecret',
      Resource: [`acs:kms:${REGION}:${ACCOUNT}:secret`, `acs:kms:${REGION}:${ACCOUNT}:secret/mongodb/*`],
    });
    expect(actionsOf(creating).has('dds:DescribeDBInstances')).toBe(false);

    const keyed = renderPolicy({ ...BASE, encryptionKeyId: 'key-hzz62f1cb66fa42qo0001' });
    expect(keyed.Statement).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: `acs:kms:${REGION}:${ACCOUNT}:key/key-hzz62f1cb66fa42qo0001`,
    });

    const dispatching = renderPolicy({ ...BASE, dispatcher: true, rotateFunctionName: 'rotate-prod' });
    expect(dispatching.Statement).toContainEqual({ Effect: 'Allow', Action: 'fc:InvokeFunction', Resource: `acs:fc:${REGION}:${ACCOUNT}:functions/rotate-prod` });
    expect(actionsOf(renderPolicy(EVERY_FEATURE)).has('fc:InvokeFunction')).toBe(false);
  });

  it('lets the dispatcher invoke the rotate function and no other', () => {
    const policy = renderPolicy({ ...BASE, dispatcher: true });
    expect(call(policy, 'fc', 'InvokeFunction', { functionName: 'mongodb-root-rotation' })).toBe(true);
    expect(call(policy, 'fc', 'InvokeFunction', { functionName: 'payments-api' })).toBe(false);
    expect(call(policy, 'fc', 'UpdateFunction', { functionName: 'mongodb-root-rotation' })).toBe(false);
  });

  it('lets the rotation through and stops everything around it', () => {
    const policy = renderPolicy(EVERY_FEATURE);
    const secret = { SecretName: 'mongodb/dds-bp1a/root' };
    expect(call(policy, 'dds', 'ResetAccountPassword', { DBInstanceId: 'dds-bp1a' })).toBe(true);
    expect(call(policy, 'dds', 'DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1a' })).toBe(true);
    expect(call(policy, 'dds', 'DescribeDBInstances', { RegionId: REGION })).toBe(true);
    for (const action of ['GetSecretValue', 'PutSecretValue', 'UpdateSecretVersionStage', 'ListSecretVersionIds', 'CreateSecret']) {
      expect(call(policy, 'kms', action, secret), action).toBe(true);
    }

    expect(call(policy, 'dds', 'ResetAccountPassword', { DBInstanceId: 'dds-bp1a' }, 'cn-beijing')).toBe(false);
    expect(call(policy, 'dds', 'DescribeAccounts', { DBInstanceId: 'dds-bp1a' })).toBe(false);
    expect(call(policy, 'dds', 'DeleteDBInstance', { DBInstanceId: 'dds-bp1a' })).toBe(false);
    expect(call(policy, 'kms', 'GetSecretValue', { SecretName: 'rds/prod/root' })).toBe(false);
    expect(call(policy, 'kms', 'DeleteSecret', secret)).toBe(false);
    expect(call(policy, 'kms', 'DescribeSecret', secret)).toBe(false);
    expect(call(policy, 'kms', 'CreateSecret', secret, 'cn-beijing')).toBe(false);
    expect(call(renderPolicy(BASE), 'kms', 'CreateSecret', secret)).toBe(false);
    expect(call(renderPolicy(BASE), 'dds', 'DescribeDBInstances', { RegionId: REGION })).toBe(false);
  });

  it('refuses values that would widen or break the policy', () => {
    expect(() => renderPolicy({ ...BASE, secretPrefix: '' })).toThrow(/--secret-prefix/);
    expect(() => renderPolicy({ ...BASE, secretPrefix: 'mongodb/*' })).toThrow(/--secret-prefix/);
    expect(() => renderPolicy({ ...BASE, secretPrefix: 'a"b' })).toThrow(/--secret-prefix/);
    expect(() => renderPolicy({ ...BASE, accountId: '*' })).toThrow(/--account/);
    expect(() => renderPolicy({ ...BASE, region: 'cn-hangzhou:x' })).toThrow(/--region/);
    expect(() => renderPolicy({ ...BASE, instancePattern: 'dds-*/x' })).toThrow(/--instances/);
    expect(() => renderPolicy({ ...BASE, dispatcher: true, rotateFunctionName: 'rotate/*' })).toThrow(/--rotate-function/);
  });

  it('reads its options from the command line', () => {
    expect(parseRenderArgs(['--account', ACCOUNT, '--region', REGION, '--secret-prefix', 'mongodb/'])).toEqual({
      ...BASE,
      encryptionKeyId: undefined,
      dispatcher: false,
      rotateFunctionName: 'mongodb-root-rotation',
    });
    expect(parseRenderArgs(['--account', ACCOUNT, '--region', REGION, '--secret-prefix', 'mongodb/', '--dispatcher', '--rotate-function', 'rot'])).toMatchObject({
      dispatcher: true,
      rotateFunctionName: 'rot',
    });
    expect(
      parseRenderArgs(['--account', ACCOUNT, '--region', REGION, '--secret-prefix', 'mongodb/', '--instances', 'dds-bp1*', '--tag-discovery', '--create-missing-secrets']),
    ).toMatchObject({ instancePattern: 'dds-bp1*', tagDiscovery: true, createMissingSecrets: true });
    expect(() => parseRenderArgs(['--region', REGION])).toThrow(/--account, --secret-prefix/);
  });
});

describe('npm run render-policy', () => {
  const run = promisify(execFile);
  const script = `${PROJECT_ROOT}scripts/render-policy.ts`;
  const tsx = `${PROJECT_ROOT}node_modules/.bin/tsx`;

  it('is the package script', () => {
    const { scripts } = JSON.parse(readFileSync(`${PROJECT_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(scripts['render-policy']).toBe('tsx scripts/render-policy.ts');
  });

  it('prints the rendered policy, or explains what is missing and exits non-zero', async () => {
    const args = ['--account', ACCOUNT, '--region', REGION, '--secret-prefix', 'mongodb/', '--create-missing-secrets'];
    const { stdout } = await run(tsx, [script, ...args], { cwd: PROJECT_ROOT });
    expect(JSON.parse(stdout)).toEqual(renderPolicy({ ...BASE, createMissingSecrets: true }));

    const failed = await run(tsx, [script, '--region', REGION], { cwd: PROJECT_ROOT }).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/missing --account, --secret-prefix[\s\S]*usage:/);
  });
});

// The API methods of the clients the function uses (verb + noun, like describeSecret; one-word
// names such as encrypt are too common elsewhere to tell apart); a call the table does not map fails.
const CLIENT_METHODS = new Set(
  [KmsClient, FcClient, DdsClient]
    .flatMap((client) => Object.getOwnPropertyNames(client.prototype))
    .filter((name) => /^[a-z]+[A-Z]\w*$/.test(name) && name !== 'getEndpoint')
    .map(apiMethodName),
);
const entryOf = (name: string) => `${PROJECT_ROOT}functions/${name}/index.ts`;
const ROTATE_ENTRY = entryOf('rotate');
const DISPATCH_ENTRY = entryOf('dispatch');

describe('the policy against the code', () => {
  const calls = (entry: string) => findApiCalls(entry, CLIENT_METHODS);
  const actions = (entry: string) => new Set(calls(entry).map((c) => c.action!));

  it.each(['rotate', 'dispatch'])('maps every SDK client call of the %s function to a RAM action', (name) => {
    const unmapped = calls(entryOf(name)).filter((c) => c.action === undefined);
    expect(unmapped.map((c) => `${c.file}:${c.line} ${c.method}`)).toEqual([]);
  });

  it('grants exactly the actions the rotate function can call', () => {
    const called = actions(ROTATE_ENTRY);
    const granted = actionsOf(renderPolicy(EVERY_FEATURE));
    expect([...called].filter((a) => !granted.has(a)), 'called, but not granted').toEqual([]);
    expect([...granted].filter((a) => !called.has(a)), 'granted, but never called').toEqual([]);
  });

  it('adds, with --dispatcher, exactly what the dispatcher needs beyond it', () => {
    const called = actions(DISPATCH_ENTRY);
    const granted = actionsOf(renderPolicy({ ...EVERY_FEATURE, dispatcher: true }));
    const added = [...granted].filter((a) => !actionsOf(renderPolicy(EVERY_FEATURE)).has(a));
    expect([...called].filter((a) => !granted.has(a)), 'called, but not granted').toEqual([]);
    expect(added.filter((a) => !called.has(a)), 'granted for the dispatcher, but never called by it').toEqual([]);
    expect(added).toEqual(['fc:InvokeFunction']);
  });
});

describe('the client-call table', () => {
  it('maps only API methods of the clients', () => {
    expect(Object.keys(CLIENT_CALLS).filter((method) => !CLIENT_METHODS.has(method))).toEqual([]);
  });
});
