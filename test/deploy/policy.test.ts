import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import FcClient from '@alicloud/fc20230330';
import KmsClient from '@alicloud/kms20160120';
import { describe, expect, it } from 'vitest';
import DdsClient from '../../functions/shared/clients/dds';
import { asList, authorize, parsePolicy, type PolicyDocument, type RequestScope } from '../../local-cloud/ram';
import { actionMatches, resourceMatches } from '../../local-cloud/ram/policy';
import { parseRenderArgs, POLICY_FUNCTIONS, POLICY_TEMPLATE_PATHS, type PolicyFunction, renderPolicy, type RenderOptions } from '../../scripts/render-policy';
import { apiMethodName, CLIENT_CALLS, findApiCalls } from './api-calls';
import { PROJECT_ROOT, readSYaml } from './s-yaml';

const ACCOUNT = '1234567890123456';
const REGION = 'cn-hangzhou';
const TOPIC = `acs:mns:${REGION}:${ACCOUNT}:/topics/rotation-failures/messages`;
const QUEUE = `acs:mns:${REGION}:${ACCOUNT}:/queues/rotation-failures/messages`;
const ROTATE: RenderOptions = {
  function: 'rotate',
  accountId: ACCOUNT,
  region: REGION,
  instances: ['dds-bp1a', 'dds-bp1b'],
  secretPrefix: 'mongodb/',
  tagDiscovery: false,
  createMissingSecrets: false,
};
const DISPATCH: RenderOptions = { function: 'dispatch', accountId: ACCOUNT, region: REGION, instances: [], tagDiscovery: false, createMissingSecrets: false };
const ROTATE_EVERY_FEATURE: RenderOptions = { ...ROTATE, tagDiscovery: true, createMissingSecrets: true };
const DISPATCH_EVERY_FEATURE: RenderOptions = { ...DISPATCH, tagDiscovery: true, instances: ['dds-*'] };

const actionsOf = (policy: PolicyDocument) => new Set(policy.Statement.flatMap((s) => asList(s.Action)));
const call = (policy: PolicyDocument, product: RequestScope['product'], action: string, params: Record<string, string>, region = REGION) =>
  authorize(policy, { product, action, params, region, accountId: ACCOUNT }).allowed;
/** Whether an Allow statement covers the action on the resource (for products the local cloud does not serve, such as MNS). */
const grants = (policy: PolicyDocument, action: string, resource: string) =>
  policy.Statement.some((s) => s.Effect === 'Allow' && asList(s.Action).some((a) => actionMatches(a, action)) && asList(s.Resource).some((r) => resourceMatches(r, resource)));

describe('the RAM policy templates', () => {
  it.each(POLICY_FUNCTIONS)('%s: a policy document once its features are marked off, using only placeholders the renderer knows', (fn) => {
    const text = readFileSync(POLICY_TEMPLATE_PATHS[fn], 'utf8');
    const template = JSON.parse(text) as { Statement: Array<Record<string, unknown>> };
    expect(() => parsePolicy({ ...template, Statement: template.Statement.map(({ When: _, ...statement }) => statement) })).not.toThrow();
    const placeholders = new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    const known = ['region', 'accountId', 'instance', 'secretPrefix', 'encryptionKeyId', 'failureDestination'];
    expect([...placeholders].filter((p) => !known.includes(p))).toEqual([]);
  });
});

describe('renderPolicy: the rotate function', () => {
  it('grants the rotation protocol on the instances named and the prefixed secrets, nothing else', () => {
    expect(renderPolicy(ROTATE)).toEqual({
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['dds:DescribeDBInstanceAttribute', 'dds:ResetAccountPassword'],
          Resource: [`acs:dds:${REGION}:${ACCOUNT}:dbinstance/dds-bp1a`, `acs:dds:${REGION}:${ACCOUNT}:dbinstance/dds-bp1b`],
        },
        {
          Effect: 'Allow',
          Action: ['kms:GetSecretValue', 'kms:ListSecretVersionIds', 'kms:PutSecretValue', 'kms:UpdateSecretVersionStage'],
          Resource: `acs:kms:${REGION}:${ACCOUNT}:secret/mongodb/*`,
        },
      ],
    });
  });

  it('takes instance ARNs and patterns as written, and has no default: the instances are explicit', () => {
    const arn = `acs:dds:${REGION}:${ACCOUNT}:dbinstance/dds-bp1c`;
    expect(renderPolicy({ ...ROTATE, instances: [arn] }).Statement[0].Resource).toBe(arn);
    expect(renderPolicy({ ...ROTATE, instances: ['dds-*'] }).Statement[0].Resource).toBe(`acs:dds:${REGION}:${ACCOUNT}:dbinstance/dds-*`);
    expect(() => renderPolicy({ ...ROTATE, instances: [] })).toThrow(/--instances is required: the instance ids \(dds-bp1…\), their ARNs, or a pattern you mean, such as 'dds-\*'/);
    expect(() => renderPolicy({ ...ROTATE, instances: [`acs:dds:cn-beijing:${ACCOUNT}:dbinstance/dds-bp1c`] })).toThrow(/not in --region cn-hangzhou/);
    expect(() => renderPolicy({ ...ROTATE, instances: ['dds-*/x'] })).toThrow(/--instances: "dds-\*\/x" is not an instance id or pattern/);
  });

  it('adds tag discovery, secret creation and the encryption key only when asked', () => {
    const tagged = renderPolicy({ ...ROTATE, tagDiscovery: true });
    expect(tagged.Statement).toContainEqual({ Effect: 'Allow', Action: 'dds:DescribeDBInstances', Resource: `acs:dds:${REGION}:${ACCOUNT}:dbinstance/*` });
    expect(actionsOf(tagged).has('kms:CreateSecret')).toBe(false);

    const creating = renderPolicy({ ...ROTATE, createMissingSecrets: true });
    expect(creating.Statement).toContainEqual({
      Effect: 'Allow',
      Action: 'kms:CreateSecret',
      Resource: [`acs:kms:${REGION}:${ACCOUNT}:secret`, `acs:kms:${REGION}:${ACCOUNT}:secret/mongodb/*`],
    });
    expect(actionsOf(creating).has('dds:DescribeDBInstances')).toBe(false);

    const keyed = renderPolicy({ ...ROTATE, encryptionKeyId: 'key-hzz62f1cb66fa42qo0001' });
    expect(keyed.Statement).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: `acs:kms:${REGION}:${ACCOUNT}:key/key-hzz62f1cb66fa42qo0001`,
    });
  });

  it('lets FC publish failed async invocations to the failure destination, a topic or a queue', () => {
    expect(renderPolicy({ ...ROTATE, failureDestination: TOPIC }).Statement).toContainEqual({ Effect: 'Allow', Action: 'mns:PublishMessage', Resource: TOPIC });
    expect(renderPolicy({ ...ROTATE, failureDestination: QUEUE }).Statement).toContainEqual({ Effect: 'Allow', Action: 'mns:SendMessage', Resource: QUEUE });
    expect([...actionsOf(renderPolicy(ROTATE))].filter((a) => a.startsWith('mns:'))).toEqual([]);
    expect(() => renderPolicy({ ...ROTATE, failureDestination: `acs:fc:${REGION}:${ACCOUNT}:functions/other` })).toThrow(/--failure-destination must be the MNS topic or queue ARN/);
    expect(() => renderPolicy({ ...ROTATE, failureDestination: TOPIC.replace(ACCOUNT, '9999999999999999') })).toThrow(/not in --region cn-hangzhou of --account/);
  });

  it('never grants fc:InvokeFunction, whatever the options: it invokes nothing', () => {
    const everything = renderPolicy({ ...ROTATE_EVERY_FEATURE, encryptionKeyId: 'key-1', failureDestination: TOPIC });
    expect([...actionsOf(everything)].filter((a) => a.startsWith('fc:'))).toEqual([]);
    expect(call(everything, 'fc', 'InvokeFunction', { functionName: 'mongodb-root-rotation' })).toBe(false);
  });

  it('lets the rotation through and stops everything around it', () => {
    const policy = renderPolicy(ROTATE_EVERY_FEATURE);
    const secret = { SecretName: 'mongodb/dds-bp1a/root' };
    expect(call(policy, 'dds', 'ResetAccountPassword', { DBInstanceId: 'dds-bp1a' })).toBe(true);
    expect(call(policy, 'dds', 'DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1a' })).toBe(true);
    expect(call(policy, 'dds', 'DescribeDBInstances', { RegionId: REGION })).toBe(true);
    for (const action of ['GetSecretValue', 'PutSecretValue', 'UpdateSecretVersionStage', 'ListSecretVersionIds', 'CreateSecret']) {
      expect(call(policy, 'kms', action, secret), action).toBe(true);
    }

    expect(call(policy, 'dds', 'ResetAccountPassword', { DBInstanceId: 'dds-bp1z' }), 'an instance not named').toBe(false);
    expect(call(policy, 'dds', 'ResetAccountPassword', { DBInstanceId: 'dds-bp1a' }, 'cn-beijing')).toBe(false);
    expect(call(policy, 'dds', 'DescribeAccounts', { DBInstanceId: 'dds-bp1a' })).toBe(false);
    expect(call(policy, 'dds', 'DeleteDBInstance', { DBInstanceId: 'dds-bp1a' })).toBe(false);
    expect(call(policy, 'kms', 'GetSecretValue', { SecretName: 'rds/prod/root' })).toBe(false);
    expect(call(policy, 'kms', 'DeleteSecret', secret)).toBe(false);
    expect(call(policy, 'kms', 'DescribeSecret', secret)).toBe(false);
    expect(call(policy, 'kms', 'CreateSecret', secret, 'cn-beijing')).toBe(false);
    expect(call(renderPolicy(ROTATE), 'kms', 'CreateSecret', secret)).toBe(false);
    expect(call(renderPolicy(ROTATE), 'dds', 'DescribeDBInstances', { RegionId: REGION })).toBe(false);
  });

  it('reads every secret under the prefix: the rotate role can read every root password it manages', () => {
    const policy = renderPolicy(ROTATE);
    for (const name of ['mongodb/dds-bp1a/root', 'mongodb/dds-bp1z/root', 'mongodb/anything-else']) {
      expect(call(policy, 'kms', 'GetSecretValue', { SecretName: name }), name).toBe(true);
    }
  });

  it('refuses values that would widen or break the policy', () => {
    expect(() => renderPolicy({ ...ROTATE, secretPrefix: '' })).toThrow(/--secret-prefix/);
    expect(() => renderPolicy({ ...ROTATE, secretPrefix: undefined })).toThrow(/--secret-prefix/);
    expect(() => renderPolicy({ ...ROTATE, secretPrefix: 'mongodb/*' })).toThrow(/--secret-prefix/);
    expect(() => renderPolicy({ ...ROTATE, secretPrefix: 'a"b' })).toThrow(/--secret-prefix/);
    expect(() => renderPolicy({ ...ROTATE, accountId: '*' })).toThrow(/--account/);
    expect(() => renderPolicy({ ...ROTATE, region: 'cn-hangzhou:x' })).toThrow(/--region/);
    expect(() => renderPolicy({ ...ROTATE, function: 'other' as PolicyFunction })).toThrow(/--function must be rotate or dispatch/);
  });
});

describe('renderPolicy: the dispatcher', () => {
  it('grants fc:InvokeFunction, nothing else, without tag discovery', () => {
    expect(renderPolicy(DISPATCH)).toEqual({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'fc:InvokeFunction', Resource: '*' }] });
  });

  it('adds listing the instances with --tag-discovery, and the failure destination', () => {
    const policy = renderPolicy({ ...DISPATCH_EVERY_FEATURE, failureDestination: TOPIC });
    expect(policy.Statement).toEqual([
      { Effect: 'Allow', Action: 'fc:InvokeFunction', Resource: '*' },
      { Effect: 'Allow', Action: 'dds:DescribeDBInstances', Resource: `acs:dds:${REGION}:${ACCOUNT}:dbinstance/*` },
      { Effect: 'Allow', Action: 'dds:DescribeDBInstanceAttribute', Resource: `acs:dds:${REGION}:${ACCOUNT}:dbinstance/dds-*` },
      { Effect: 'Allow', Action: 'mns:PublishMessage', Resource: TOPIC },
    ]);
  });

  it('can read no secret and reset no password', () => {
    const policy = renderPolicy({ ...DISPATCH_EVERY_FEATURE, failureDestination: TOPIC });
    expect(call(policy, 'dds', 'DescribeDBInstances', { RegionId: REGION })).toBe(true);
    expect(call(policy, 'fc', 'InvokeFunction', { functionName: 'mongodb-root-rotation' })).toBe(true);
    expect(call(policy, 'dds', 'ResetAccountPassword', { DBInstanceId: 'dds-bp1a' })).toBe(false);
    for (const action of ['GetSecretValue', 'PutSecretValue', 'UpdateSecretVersionStage', 'ListSecretVersionIds', 'CreateSecret']) {
      expect(call(policy, 'kms', action, { SecretName: 'mongodb/dds-bp1a/root' }), action).toBe(false);
    }
    expect(call(policy, 'fc', 'UpdateFunction', { functionName: 'mongodb-root-rotation' })).toBe(false);
  });

  it('may invoke any function of the account: FC 3.0 documents no resource-level grant for InvokeFunction', () => {
    expect(call(renderPolicy(DISPATCH), 'fc', 'InvokeFunction', { functionName: 'payments-api' })).toBe(true);
  });

  it('refuses the rotate function’s options, and instances it would not read', () => {
    expect(() => renderPolicy({ ...DISPATCH, secretPrefix: 'mongodb/', createMissingSecrets: true })).toThrow(
      '--secret-prefix, --create-missing-secrets: the dispatcher reads no secret; give these to --function rotate only',
    );
    expect(() => renderPolicy({ ...DISPATCH, instances: ['dds-*'] })).toThrow(/the dispatcher reads instances only with --tag-discovery/);
    expect(() => renderPolicy({ ...DISPATCH, tagDiscovery: true })).toThrow(/--instances is required with --tag-discovery/);
  });
});

describe('every failure destination in s.yaml', () => {
  const DEPLOYER = {
    ALIBABA_CLOUD_REGION_ID: REGION,
    ROTATION_FAILURE_DESTINATION: TOPIC,
    ROTATION_ROLE_ARN: `acs:ram::${ACCOUNT}:role/mongodb-rotation`,
    DISPATCH_ROLE_ARN: `acs:ram::${ACCOUNT}:role/mongodb-rotation-dispatch`,
  };
  const RESOURCE_FUNCTION: Record<string, PolicyFunction> = { rotate: 'rotate', dispatch: 'dispatch' };

  it('is one the policy rendered for that function lets it publish to', () => {
    const checked: string[] = [];
    for (const [key, resource] of Object.entries(readSYaml(DEPLOYER).resources)) {
      const fn = RESOURCE_FUNCTION[key];
      expect(fn, `resources.${key} runs as which role?`).toBeDefined();
      const destinations = resource.props.asyncInvokeConfig?.destinationConfig ?? {};
      for (const [kind, { destination }] of Object.entries(destinations as Record<string, { destination: string }>)) {
        const options = fn === 'rotate' ? ROTATE : DISPATCH;
        const policy = renderPolicy({ ...options, failureDestination: destination });
        expect(grants(policy, 'mns:PublishMessage', destination), `${key} ${kind} ${destination}`).toBe(true);
        expect(grants(renderPolicy(options), 'mns:PublishMessage', destination), 'only when asked').toBe(false);
        checked.push(`${key}.${kind}`);
      }
    }
    expect(checked).toEqual(['rotate.onFailure', 'dispatch.onFailure']);
  });
});

describe('parseRenderArgs', () => {
  const base = ['--function', 'rotate', '--account', ACCOUNT, '--region', REGION, '--secret-prefix', 'mongodb/'];

  it('reads its options from the command line, the instances as a comma list or repeated', () => {
    expect(parseRenderArgs([...base, '--instances', 'dds-bp1a,dds-bp1b'])).toEqual({
      ...ROTATE,
      encryptionKeyId: undefined,
      failureDestination: undefined,
    });
    expect(parseRenderArgs([...base, '--instances', 'dds-bp1a', '--instances', ' dds-bp1b ']).instances).toEqual(['dds-bp1a', 'dds-bp1b']);
    expect(
      parseRenderArgs([...base, '--instances', 'dds-bp1*', '--tag-discovery', '--create-missing-secrets', '--failure-destination', TOPIC]),
    ).toMatchObject({ instances: ['dds-bp1*'], tagDiscovery: true, createMissingSecrets: true, failureDestination: TOPIC });
    expect(parseRenderArgs(['--function', 'dispatch', '--account', ACCOUNT, '--region', REGION])).toMatchObject({ function: 'dispatch', instances: [] });
  });

  it('names what is missing', () => {
    expect(() => parseRenderArgs(['--region', REGION])).toThrow(/missing --function, --account/);
    expect(() => renderPolicy(parseRenderArgs(base))).toThrow(/--instances is required/);
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
    const args = ['--function', 'rotate', '--account', ACCOUNT, '--region', REGION, '--secret-prefix', 'mongodb/', '--instances', 'dds-bp1a,dds-bp1b', '--create-missing-secrets'];
    const { stdout } = await run(tsx, [script, ...args], { cwd: PROJECT_ROOT });
    expect(JSON.parse(stdout)).toEqual(renderPolicy({ ...ROTATE, createMissingSecrets: true }));

    const failed = await run(tsx, [script, '--region', REGION], { cwd: PROJECT_ROOT }).catch((err: { code: number; stderr: string }) => err);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/missing --function, --account[\s\S]*usage:/);
  });
});

// The API methods of the clients the functions use (verb + noun, like describeSecret; one-word
// names such as encrypt are too common elsewhere to tell apart); a call the table does not map fails.
const CLIENT_METHODS = new Set(
  [KmsClient, FcClient, DdsClient]
    .flatMap((client) => Object.getOwnPropertyNames(client.prototype))
    .filter((name) => /^[a-z]+[A-Z]\w*$/.test(name) && name !== 'getEndpoint')
    .map(apiMethodName),
);
/** Where each policy's caller starts: the two functions, and `npm run status` for the read-only policy. */
const entryOf = (fn: PolicyFunction) => (fn === 'status' ? `${PROJECT_ROOT}scripts/status.ts` : `${PROJECT_ROOT}functions/${fn}/index.ts`);
/** Granted for FC itself to use with the function's role, not called by its code. */
const PLATFORM_ACTIONS = new Set(['mns:PublishMessage', 'mns:SendMessage']);
const EVERY_FEATURE: Record<PolicyFunction, RenderOptions> = {
  rotate: { ...ROTATE_EVERY_FEATURE, failureDestination: TOPIC },
  dispatch: { ...DISPATCH_EVERY_FEATURE, failureDestination: TOPIC },
  status: { ...ROTATE_EVERY_FEATURE, function: 'status', createMissingSecrets: false, encryptionKeyId: undefined },
};

describe('the policy against the code', () => {
  const calls = (fn: PolicyFunction) => findApiCalls(entryOf(fn), CLIENT_METHODS);

  it.each(POLICY_FUNCTIONS)('maps every SDK client call of the %s function to a RAM action', (fn) => {
    const unmapped = calls(fn).filter((c) => c.action === undefined);
    expect(unmapped.map((c) => `${c.file}:${c.line} ${c.method}`)).toEqual([]);
  });

  it.each(POLICY_FUNCTIONS)('grants the %s function exactly the actions its code can call', (fn) => {
    const called = new Set(calls(fn).map((c) => c.action!));
    const granted = new Set([...actionsOf(renderPolicy(EVERY_FEATURE[fn]))].filter((a) => !PLATFORM_ACTIONS.has(a)));
    expect([...called].filter((a) => !granted.has(a)), 'called, but not granted').toEqual([]);
    expect([...granted].filter((a) => !called.has(a)), 'granted, but never called').toEqual([]);
  });

  it('keeps the two roles apart: the dispatcher lists and invokes, the rotate function reads secrets and resets', () => {
    expect([...actionsOf(renderPolicy(EVERY_FEATURE.dispatch))].sort()).toEqual([
      'dds:DescribeDBInstanceAttribute',
      'dds:DescribeDBInstances',
      'fc:InvokeFunction',
      'mns:PublishMessage',
    ]);
    expect(actionsOf(renderPolicy(EVERY_FEATURE.rotate)).has('fc:InvokeFunction')).toBe(false);
  });
});

describe('the client-call table', () => {
  it('maps only API methods of the clients', () => {
    expect(Object.keys(CLIENT_CALLS).filter((method) => !CLIENT_METHODS.has(method))).toEqual([]);
  });
});
