import { describe, expect, it } from 'vitest';
import { authorize, denial, deniedCode, parsePolicy, PolicyError, resourcesFor, type PolicyDocument, type RequestScope } from '../../local-cloud/ram';

const ACCOUNT = '1234567890123456';
const REGION = 'cn-hangzhou';

const request = (product: RequestScope['product'], action: string, params: Record<string, string> = {}): RequestScope => ({
  product,
  action,
  params,
  region: REGION,
  accountId: ACCOUNT,
});

const policy = (...statements: object[]) => parsePolicy({ Version: '1', Statement: statements });
const allowed = (p: PolicyDocument, r: RequestScope) => authorize(p, r).allowed;

describe('RAM resource ARNs', () => {
  it('names the instance for DDS instance actions and the wildcard for DescribeDBInstances', () => {
    expect(resourcesFor(request('dds', 'ResetAccountPassword', { DBInstanceId: 'dds-bp1a' }))).toEqual([
      `acs:dds:${REGION}:${ACCOUNT}:dbinstance/dds-bp1a`,
    ]);
    expect(resourcesFor(request('dds', 'DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1a' }))).toEqual([
      `acs:dds:${REGION}:${ACCOUNT}:dbinstance/dds-bp1a`,
    ]);
    expect(resourcesFor(request('dds', 'DescribeDBInstances', { RegionId: REGION }))).toEqual([`acs:dds:${REGION}:${ACCOUNT}:dbinstance/*`]);
  });

  it('names the secret for KMS secret actions, taking an ARN as given', () => {
    expect(resourcesFor(request('kms', 'GetSecretValue', { SecretName: 'mongodb/dds-bp1a/root' }))).toEqual([
      `acs:kms:${REGION}:${ACCOUNT}:secret/mongodb/dds-bp1a/root`,
    ]);
    const arn = `acs:kms:cn-beijing:${ACCOUNT}:secret/shared/root`;
    expect(resourcesFor(request('kms', 'PutSecretValue', { SecretName: arn }))).toEqual([arn]);
  });

  it('names the secret container for CreateSecret', () => {
    expect(resourcesFor(request('kms', 'CreateSecret', { SecretName: 'mongodb/dds-bp1a/root' }))).toEqual([
      `acs:kms:${REGION}:${ACCOUNT}:secret`,
    ]);
  });

  it('names the FC 3.0 function for InvokeFunction', () => {
    expect(resourcesFor(request('fc', 'InvokeFunction', { functionName: 'rotate' }))).toEqual([`acs:fc:${REGION}:${ACCOUNT}:functions/rotate`]);
  });
});

describe('authorize', () => {
  const instance = (id: string) => `acs:dds:${REGION}:${ACCOUNT}:dbinstance/${id}`;
  const reset = (id: string) => request('dds', 'ResetAccountPassword', { DBInstanceId: id });

  it('allows what an Allow statement covers and reports the action and resources', () => {
    const p = policy({ Effect: 'Allow', Action: 'dds:ResetAccountPassword', Resource: instance('dds-bp1a') });
    expect(authorize(p, reset('dds-bp1a'))).toEqual({ allowed: true, action: 'dds:ResetAccountPassword', resources: [instance('dds-bp1a')] });
  });

  it('denies what no statement allows: another action, another resource, another account', () => {
    const p = policy({ Effect: 'Allow', Action: 'dds:DescribeDBInstanceAttribute', Resource: instance('dds-bp1a') });
    expect(allowed(p, reset('dds-bp1a'))).toBe(false);
    expect(allowed(p, request('dds', 'DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1b' }))).toBe(false);
    expect(allowed(p, { ...request('dds', 'DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1a' }), accountId: '999' })).toBe(false);
  });

  it('lets an explicit Deny win over any Allow', () => {
    const p = policy(
      { Effect: 'Allow', Action: 'dds:*', Resource: '*' },
      { Effect: 'Deny', Action: 'dds:ResetAccountPassword', Resource: instance('dds-prod*') },
    );
    expect(allowed(p, reset('dds-test1'))).toBe(true);
    expect(allowed(p, reset('dds-prod1'))).toBe(false);
    expect(allowed(p, request('dds', 'DescribeDBInstanceAttribute', { DBInstanceId: 'dds-prod1' }))).toBe(true);
  });

  it('matches `*` and `?` in actions and resources', () => {
    const p = policy(
      { Effect: 'Allow', Action: 'kms:*SecretValue', Resource: `acs:kms:*:${ACCOUNT}:secret/mongodb/*` },
      { Effect: 'Allow', Action: 'dds:Describe*', Resource: instance('dds-bp1?') },
    );
    expect(allowed(p, request('kms', 'GetSecretValue', { SecretName: 'mongodb/dds-x/root' }))).toBe(true);
    expect(allowed(p, request('kms', 'PutSecretValue', { SecretName: 'mongodb/dds-x/root' }))).toBe(true);
    expect(allowed(p, request('kms', 'DescribeSecret', { SecretName: 'mongodb/dds-x/root' }))).toBe(false);
    expect(allowed(p, request('kms', 'GetSecretValue', { SecretName: 'redis/r-x/root' }))).toBe(false);
    expect(allowed(p, request('dds', 'DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1a' }))).toBe(true);
    expect(allowed(p, request('dds', 'DescribeDBInstanceAttribute', { DBInstanceId: 'dds-bp1ab' }))).toBe(false);
  });

  it('compares action names without regard to case, resources with it', () => {
    const p = policy({ Effect: 'Allow', Action: 'DDS:resetaccountpassword', Resource: instance('dds-bp1a') });
    expect(allowed(p, reset('dds-bp1a'))).toBe(true);
    expect(allowed(p, reset('DDS-BP1A'))).toBe(false);
  });

  it('treats regex characters in patterns literally', () => {
    const p = policy({ Effect: 'Allow', Action: 'kms:GetSecretValue', Resource: `acs:kms:${REGION}:${ACCOUNT}:secret/a.b+c` });
    expect(allowed(p, request('kms', 'GetSecretValue', { SecretName: 'a.b+c' }))).toBe(true);
    expect(allowed(p, request('kms', 'GetSecretValue', { SecretName: 'aXbbc' }))).toBe(false);
  });

  it('does not let a grant on secrets stand in for the container CreateSecret acts on', () => {
    const p = policy({ Effect: 'Allow', Action: 'kms:CreateSecret', Resource: `acs:kms:${REGION}:${ACCOUNT}:secret/mongodb/*` });
    expect(allowed(p, request('kms', 'CreateSecret', { SecretName: 'mongodb/dds-x/root' }))).toBe(false);
  });

  it('refuses to evaluate what it cannot judge faithfully', () => {
    const withCondition = { Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'acs:SecureTransport': 'true' } } }] };
    expect(() => authorize(withCondition as unknown as PolicyDocument, reset('dds-bp1a'))).toThrow(/Condition/);
    expect(() => parsePolicy({ Version: '1', Statement: [{ Effect: 'Allow', NotAction: 'dds:*', Resource: '*' }] })).toThrow(PolicyError);
    expect(() => parsePolicy({ Version: '2', Statement: [] })).toThrow(/Version/);
    expect(() => parsePolicy({ Version: '1', Statement: [{ Effect: 'Permit', Action: '*', Resource: '*' }] })).toThrow(/Effect/);
    expect(() => parsePolicy({ Version: '1', Statement: [{ Effect: 'Allow', Action: [], Resource: '*' }] })).toThrow(/Action/);
    expect(() => parsePolicy('{"Version":')).toThrow(/valid JSON/);
  });
});

describe('refusals', () => {
  it('use each service’s own code', () => {
    expect(deniedCode('dds')).toEqual({ code: 'Forbidden.RAM', httpStatus: 403 });
    expect(deniedCode('kms')).toEqual({ code: 'Forbidden.NoPermission', httpStatus: 403 });
    expect(deniedCode('fc')).toEqual({ code: 'AccessDenied', httpStatus: 403 });
  });

  it('say which action on which resource was refused', () => {
    const decision = authorize(policy({ Effect: 'Allow', Action: 'kms:GetSecretValue', Resource: '*' }), request('kms', 'PutSecretValue', { SecretName: 'mongodb/x' }));
    const error = denial('kms', decision);
    expect(error).toMatchObject({ code: 'Forbidden.NoPermission', httpStatus: 403 });
    expect(error.message).toContain('kms:PutSecretValue');
    expect(error.message).toContain(`acs:kms:${REGION}:${ACCOUNT}:secret/mongodb/x`);
  });
});
