/**
 * The rotation under the shipped RAM policy: the function's role key in the local cloud carries the
 * policy `npm run render-policy` prints, for the features the function is configured with. Under
 * it a replica set and a sharded cluster rotate; under it minus any one statement, or any one
 * action of a statement, the run fails with the service's RAM code and a message naming the
 * action, and no password is lost. Instances and secrets outside the policy's ARNs are refused.
 * The handler runs in-process (fast); the last suite runs the built bundles deployed from s.yaml,
 * each as its own role with its own rendered policy: the rotate function on its timer, and the
 * fleet dispatcher handing targets to it.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../functions/shared/config';
import type { RotationReport } from '../../functions/rotate/report';
import { toServiceError } from '../../functions/shared/clients/errors';
import type { LocalCloud } from '../../local-cloud';
import { builtCodeRoot } from '../helpers/built';
import { excuseViolations, startCloud } from '../helpers/cloud';
import type { InvocationRecord } from '../../local-cloud/fc';
import { asList, deniedCode, type PolicyDocument } from '../../local-cloud/ram';
import { renderPolicy, type RenderOptions } from '../../scripts/render-policy';
import { findLeaks, type RotationRun, rotationEnv, runRotation, runTexts } from '../helpers/rotate';
import { fcClient, fcModels } from '../helpers/sdk';
import { fixture, REGION, secretName, target } from '../rotate/fixture';
import { PROJECT_ROOT } from './s-yaml';

/** The KMS 3.0 instance secrets go in: CreateSecret refuses a request that names no declared one. */
const KMS_INSTANCE = 'kst-hzz65f176a0ogplgq1a2b';
const ACCOUNT = '1234567890123456';
const ADMIN_KEY = { id: 'LTAI5tPolicySuiteAdmin', secret: 'policy-suite-admin-secret' };
const ROLE_KEY = { id: 'STS.PolicySuiteRole', secret: 'policy-suite-role-secret', securityToken: 'policy-suite-role-token' };
const DISPATCH_KEY = { id: 'STS.PolicySuiteDispatch', secret: 'policy-suite-dispatch-secret', securityToken: 'policy-suite-dispatch-token' };
const ROTATE_ROLE_ARN = `acs:ram::${ACCOUNT}:role/mongodb-rotation`;
const DISPATCH_ROLE_ARN = `acs:ram::${ACCOUNT}:role/mongodb-rotation-dispatch`;
const INSTANCE_PATTERN = 'dds-bp1*';
const TAG = { rotation: 'enabled' };

const RS = 'dds-bp1rspolicy001';
const SHARDED = 'dds-bp1shpolicy001';
/** Tagged, without a secret: rotated only with CREATE_MISSING_SECRETS. */
const UNSECRETED = 'dds-bp1nwpolicy001';
/** Outside INSTANCE_PATTERN. */
const STRANGER = 'dds-uf6outpolicy01';
/** Inside INSTANCE_PATTERN, but its secret is not under the policy's prefix. */
const MISFILED = 'dds-bp1pxpolicy001';
const MISFILED_SECRET = `legacy/${MISFILED}/root`;
/** A password an earlier run staged under ACSPending and never applied: resuming it reads it (GetSecretValue). */
const PENDING_PASSWORD = 'Pend#Policy-2026x';

const TIMER_EVENT = { triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily-rotation', payload: '{"reason":"scheduled"}' };

/** `policy` on the rotate role's key, `dispatchPolicy` (if any) on the dispatcher role's key. */
function policyFixture(policy: PolicyDocument, dispatchPolicy?: PolicyDocument): object {
  const rs = target(RS, { tags: TAG });
  rs.secret.versions.push({ versionId: 'v-pending-earlier-run', password: PENDING_PASSWORD, stages: ['ACSPending'], createTime: '-1d' });
  const sharded = target(SHARDED, { type: 'sharding', tags: TAG });
  const unsecreted = target(UNSECRETED, { tags: TAG });
  const stranger = target(STRANGER);
  const misfiled = target(MISFILED);
  const base = fixture({
    instances: [rs, sharded, unsecreted, stranger, misfiled].map((t) => t.instance),
    secrets: [rs.secret, sharded.secret, stranger.secret, { ...misfiled.secret, name: MISFILED_SECRET }],
  });
  const dispatchKeys = dispatchPolicy ? [{ ...DISPATCH_KEY, role: DISPATCH_ROLE_ARN, policy: dispatchPolicy }] : [];
  return { ...base, accountId: ACCOUNT, kmsInstances: [{ id: KMS_INSTANCE }], accessKeys: [ADMIN_KEY, { ...ROLE_KEY, role: ROTATE_ROLE_ARN, policy }, ...dispatchKeys] };
}

type Features = Pick<RenderOptions, 'tagDiscovery' | 'createMissingSecrets'>;

/** How the function is configured, the policy rendered for it, and what a run under that policy does. */
interface Deployment {
  name: string;
  features: Features;
  env: (cloud: LocalCloud) => Env;
  expected: Record<string, 'rotated' | 'resumed'>;
  /** The instances answer MongoDB logins (for VERIFY_LOGIN). */
  mongoPeers?: boolean;
}

const CONFIGURED_TARGETS: Deployment = {
  name: 'ROTATION_TARGETS only',
  features: { tagDiscovery: false, createMissingSecrets: false },
  env: (cloud) => rotationEnv(cloud, [RS, SHARDED].map((instanceId) => ({ instanceId, secretName: secretName(instanceId) }))),
  expected: { [RS]: 'resumed', [SHARDED]: 'rotated' },
};

/** The login check reads the instance's addresses with DescribeDBInstanceAttribute: no further grant. */
const VERIFYING_LOGIN: Deployment = {
  ...CONFIGURED_TARGETS,
  name: 'ROTATION_TARGETS and VERIFY_LOGIN',
  env: (cloud) => ({ ...CONFIGURED_TARGETS.env(cloud), VERIFY_LOGIN: 'true' }),
  mongoPeers: true,
};

const EVERY_FEATURE: Deployment = {
  name: 'ROTATION_TAG and CREATE_MISSING_SECRETS',
  features: { tagDiscovery: true, createMissingSecrets: true },
  env: (cloud) => rotationEnv(cloud, [], { ROTATION_TARGETS: undefined, ROTATION_TAG: 'rotation=enabled', CREATE_MISSING_SECRETS: 'true', KMS_INSTANCE_ID: KMS_INSTANCE }),
  expected: { [RS]: 'resumed', [SHARDED]: 'rotated', [UNSECRETED]: 'rotated' },
};

const policyOptions = (features: Features): RenderOptions => ({
  function: 'rotate',
  accountId: ACCOUNT,
  region: REGION,
  secretPrefix: 'mongodb/',
  instances: [INSTANCE_PATTERN],
  ...features,
});

/** What `npm run render-policy -- --function rotate --account … --region … --secret-prefix mongodb/ --instances 'dds-bp1*' [features]` prints. */
const shippedPolicy = (features: Features) => renderPolicy(policyOptions(features));

/** What `npm run render-policy -- --function dispatch --account … --region … --tag-discovery --instances 'dds-bp1*'` prints. */
const dispatchPolicy = () =>
  renderPolicy({ function: 'dispatch', accountId: ACCOUNT, region: REGION, instances: [INSTANCE_PATTERN], tagDiscovery: true, createMissingSecrets: false });

interface Removal {
  label: string;
  removed: string[];
  policy: PolicyDocument;
}

/** The policy minus each statement, then minus each action of the statements that grant several. */
function removals(policy: PolicyDocument): Removal[] {
  const withoutStatement = policy.Statement.map((statement, index) => ({
    label: `the statement granting ${asList(statement.Action).join(', ')}`,
    removed: asList(statement.Action),
    policy: { ...policy, Statement: policy.Statement.filter((_, i) => i !== index) },
  }));
  const withoutAction = policy.Statement.flatMap((statement, index) => {
    const actions = asList(statement.Action);
    if (actions.length < 2) return [];
    return actions.map((action) => ({
      label: action,
      removed: [action],
      policy: {
        ...policy,
        Statement: policy.Statement.map((s, i) => (i === index ? { ...s, Action: actions.filter((a) => a !== action) } : s)),
      },
    }));
  });
  return [...withoutStatement, ...withoutAction];
}

let cloud: LocalCloud | undefined;
let texts: string[] = [];

afterEach(async () => {
  if (!cloud) return;
  try {
    expect(findLeaks(texts, cloud.truth.passwordsSeen())).toEqual([]);
  } finally {
    await cloud.close();
    cloud = undefined;
    texts = [];
  }
});

async function runUnder(policy: PolicyDocument, deployment: Deployment): Promise<{ cloud: LocalCloud; run: RotationRun }> {
  cloud = await startCloud({ port: 0, fixture: policyFixture(policy), mongoPeers: deployment.mongoPeers ?? false });
  const credentials = { accessKeyId: ROLE_KEY.id, accessKeySecret: ROLE_KEY.secret, securityToken: ROLE_KEY.securityToken };
  const run = await runRotation(cloud, { env: deployment.env(cloud), event: TIMER_EVENT, context: { credentials } });
  texts.push(...runTexts(run));
  return { cloud, run };
}

const outcomes = (report: RotationReport | undefined) => Object.fromEntries((report?.results ?? []).map((r) => [r.instanceId, r.outcome]));

/** Every failure of a run: the failed targets' errors, or the refusal of the whole invocation. */
function failures(run: RotationRun): Array<{ code: string; message: string }> {
  const failed = (run.report?.results ?? []).filter((r) => r.outcome === 'failed').map((r) => r.error!);
  if (failed.length > 0 || !run.error) return failed;
  return [toServiceError(run.error)];
}

/**
 * No password lost: every instance's root password, per role, is still in its secret (ACSCurrent
 * or ACSPending). The one violation allowed is the secret the function created for an instance
 * whose password KMS never held (its first version holds none, by design).
 */
function expectNoPasswordLost(current: LocalCloud): void {
  const unexpected = current.truth.violations.filter((v) => !(v.instanceId === UNSECRETED && v.action === 'CreateSecret'));
  expect(unexpected).toEqual([]);
  excuseViolations(current, 'the function creates a secret for an instance whose password KMS never held');
  for (const id of [RS, SHARDED]) {
    const kept = [current.truth.secretPassword(secretName(id)), current.truth.secretPassword(secretName(id), 'ACSPending')];
    for (const held of Object.values(current.truth.rootPasswords(id))) expect(kept).toContain(held);
  }
}

const ramRefusals = (current: LocalCloud) =>
  current.truth.requests.filter((r) => r.code === deniedCode(r.product).code).map((r) => `${r.product}:${r.action}`);

function expectRotatedTargets(current: LocalCloud, ids: string[]): void {
  for (const id of ids) {
    const password = current.truth.secretPassword(secretName(id));
    expect(password, id).toBeDefined();
    expect(current.truth.secretPassword(secretName(id), 'ACSPending'), id).toBeUndefined();
    for (const held of Object.values(current.truth.rootPasswords(id))) expect(held, id).toBe(password);
  }
}

for (const deployment of [CONFIGURED_TARGETS, VERIFYING_LOGIN, EVERY_FEATURE]) {
  describe(`the shipped policy, function configured with ${deployment.name}`, () => {
    it('lets a replica set and a sharded cluster rotate', async () => {
      const { cloud: current, run } = await runUnder(shippedPolicy(deployment.features), deployment);
      expect(run.error).toBeUndefined();
      expect(outcomes(run.report)).toEqual(deployment.expected);
      expectRotatedTargets(current, Object.keys(deployment.expected));
      expect(current.truth.secretPassword(secretName(RS))).toBe(PENDING_PASSWORD);
      expectNoPasswordLost(current);
      expect(ramRefusals(current)).toEqual([]);
      if (deployment.mongoPeers) {
        const verified = run.logs.find((e) => e.step === 'verify' && e.outcome === 'ok').map((e) => e.instanceId);
        expect(new Set(verified)).toEqual(new Set(Object.keys(deployment.expected)));
      }
    });
  });
}

// The login check needs no grant of its own, so its policy is the first one's: not removed again.
for (const deployment of [CONFIGURED_TARGETS, EVERY_FEATURE]) {
  describe(`the shipped policy minus one grant, function configured with ${deployment.name}`, () => {
    for (const { label, removed, policy } of removals(shippedPolicy(deployment.features))) {
      it(`fails clearly without ${label}`, async () => {
        const { cloud: current, run } = await runUnder(policy, deployment);
        expect(run.error, 'the invocation must fail').toBeDefined();
        const found = failures(run);
        expect(found.length).toBeGreaterThan(0);
        for (const failure of found) {
          const product = removed[0].split(':')[0] as 'dds' | 'kms';
          expect(failure.code).toBe(deniedCode(product).code);
          expect(removed.some((action) => failure.message.includes(action)), failure.message).toBe(true);
        }
        expectNoPasswordLost(current);
      });
    }
  });
}

describe('the shipped policy and what lies outside its ARNs', () => {
  const outsiders = (cloud: LocalCloud) =>
    rotationEnv(cloud, [
      { instanceId: RS, secretName: secretName(RS) },
      { instanceId: STRANGER, secretName: secretName(STRANGER) },
      { instanceId: MISFILED, secretName: MISFILED_SECRET },
    ]);

  it('refuses an instance outside the instance pattern and a secret outside the prefix, and writes nothing for them', async () => {
    const { cloud: current, run } = await runUnder(shippedPolicy(CONFIGURED_TARGETS.features), { ...CONFIGURED_TARGETS, env: outsiders });
    const results = Object.fromEntries((run.report?.results ?? []).map((r) => [r.instanceId, r]));
    expect(results[RS]).toMatchObject({ outcome: 'resumed' });
    expect(results[STRANGER]).toMatchObject({ outcome: 'failed', error: { code: 'Forbidden.RAM' } });
    expect(results[STRANGER].error?.message).toContain(`dds:DescribeDBInstanceAttribute on acs:dds:${REGION}:${ACCOUNT}:dbinstance/${STRANGER}`);
    expect(results[MISFILED]).toMatchObject({ outcome: 'failed', error: { code: 'Forbidden.NoPermission' } });
    expect(results[MISFILED].error?.message).toContain(`kms:ListSecretVersionIds on acs:kms:${REGION}:${ACCOUNT}:secret/${MISFILED_SECRET}`);

    const touched = current.truth.writeRequests().filter((r) => [STRANGER, MISFILED].includes(r.params.DBInstanceId) || [secretName(STRANGER), MISFILED_SECRET].includes(r.params.SecretName));
    expect(touched).toEqual([]);
    for (const [id, name] of [[STRANGER, secretName(STRANGER)], [MISFILED, MISFILED_SECRET]]) {
      expect(current.truth.rootPassword(id, 'normal')).toBe(current.truth.secretPassword(name));
      expect(current.truth.secret(name)?.versions).toHaveLength(1);
    }
    expectNoPasswordLost(current);
  });
});

describe('the built bundles deployed from s.yaml under the shipped policy', () => {
  let buildDir: string;

  beforeAll(() => {
    buildDir = builtCodeRoot();
  });

  /**
   * A local cloud where FC runs each function of s.yaml as the role its `role` names: the rotate role's
   * key carries `policy`, the dispatcher role's `dispatch` (the dispatcher runs as the rotate role
   * when none is given). Returns the deployed names by code folder.
   */
  async function deploy(policy: PolicyDocument, dispatch?: PolicyDocument): Promise<{ current: LocalCloud; rotate: string; dispatch: string }> {
    const current = await startCloud({ port: 0, fixture: policyFixture(policy, dispatch) });
    cloud = current;
    const specs = current.fc.registerFromServerlessYaml(join(PROJECT_ROOT, 's.yaml'), {
      codeRoot: buildDir,
      env: {
        ROTATION_TAG: 'rotation=enabled',
        CREATE_MISSING_SECRETS: 'true',
        KMS_INSTANCE_ID: KMS_INSTANCE,
        ROTATION_ROLE_ARN: ROTATE_ROLE_ARN,
        DISPATCH_ROLE_ARN: dispatch ? DISPATCH_ROLE_ARN : ROTATE_ROLE_ARN,
      },
    });
    const named = (folder: string) => {
      const spec = specs.find((s) => s.codeDir === join(buildDir, 'dist', folder));
      if (!spec) throw new Error(`s.yaml deploys no ./dist/${folder}`);
      return spec.name;
    };
    return { current, rotate: named('rotate'), dispatch: named('dispatch') };
  }

  /** What an operator does to start a fleet run: invoke the dispatcher, with their own key. */
  async function invokeDispatcher(current: LocalCloud, name: string): Promise<InvocationRecord> {
    const response = await fcClient(current, ADMIN_KEY).invokeFunction(
      name,
      new fcModels.InvokeFunctionRequest({ body: Readable.from([Buffer.from('{"reason":"fleet run"}', 'utf8')]) }),
    );
    response.body?.destroy();
    await current.fc.whenIdle();
    const record = current.fc.invocations.find((i) => i.functionName === name);
    if (!record) throw new Error(`no invocation of ${name} recorded`);
    return record;
  }

  const logsOf = (current: LocalCloud) => current.fc.invocations.map((i) => i.logs);

  it('rotates the tagged instances on the daily timer with the role FC hands the function', async () => {
    const { current, rotate } = await deploy(shippedPolicy(EVERY_FEATURE.features));
    const invocation = await current.fc.fireTimer(rotate, 'daily-rotation');
    texts.push(...logsOf(current));

    expect(invocation.status, invocation.logs).toBe('succeeded');
    const report = JSON.parse(invocation.result!.toString('utf8')) as RotationReport;
    expect(outcomes(report)).toEqual(EVERY_FEATURE.expected);
    expect(new Set(current.truth.requests.map((r) => r.accessKeyId))).toEqual(new Set([ROLE_KEY.id]));
    expect(ramRefusals(current)).toEqual([]);
    expectRotatedTargets(current, Object.keys(EVERY_FEATURE.expected));
    expectNoPasswordLost(current);
  });

  it('fans the fleet out: the dispatcher under its own policy lists and invokes, each rotation runs under the rotate policy', async () => {
    const { current, dispatch } = await deploy(shippedPolicy(EVERY_FEATURE.features), dispatchPolicy());
    const invocation = await invokeDispatcher(current, dispatch);
    texts.push(...logsOf(current));

    expect(invocation.status, invocation.logs).toBe('succeeded');
    expect(JSON.parse(invocation.result!.toString('utf8'))).toMatchObject({ summary: { dispatched: 3, failed: 0 } });
    expect(current.fc.asyncOutcomes.map((o) => o.destination)).toEqual(['onSuccess', 'onSuccess', 'onSuccess']);
    expect(ramRefusals(current)).toEqual([]);
    const actionsBy = (keyId: string) => new Set(current.truth.requests.filter((r) => r.accessKeyId === keyId).map((r) => `${r.product}:${r.action}`));
    expect(actionsBy(DISPATCH_KEY.id)).toEqual(new Set(['dds:DescribeDBInstances', 'fc:InvokeFunction']));
    expect([...actionsBy(ROLE_KEY.id)].filter((a) => a.startsWith('fc:'))).toEqual([]);
    expectRotatedTargets(current, Object.keys(EVERY_FEATURE.expected));
    expectNoPasswordLost(current);
  });

  it('refuses a dispatcher that runs as the rotate role: its policy has no fc:InvokeFunction, nothing rotated', async () => {
    const { current, dispatch } = await deploy(shippedPolicy(EVERY_FEATURE.features));
    const invocation = await invokeDispatcher(current, dispatch);
    texts.push(...logsOf(current));

    expect(invocation.status).toBe('failed');
    expect(invocation.logs).toContain('AccessDenied');
    expect(invocation.logs).toContain('fc:InvokeFunction');
    expect(ramRefusals(current)).toEqual(['fc:InvokeFunction', 'fc:InvokeFunction', 'fc:InvokeFunction']);
    expect(current.truth.writeRequests()).toEqual([]);
    expectNoPasswordLost(current);
  });
});
