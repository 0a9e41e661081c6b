/**
 * The README's threat model, shown against the local cloud with the policies render-policy prints:
 * what a principal holding one grant around the function can make it do.
 *   - Write access to the `mongodb/*` secrets is the power to choose the root password: the function
 *     applies whatever version carries ACSPending.
 *   - Permission to tag instances enrols them under ROTATION_TAG, unless the rotate policy's
 *     explicit --instances leaves them out: then their reset is refused and their password stays.
 * (The grants of each role are in test/deploy/policy.test.ts; forced rotations are bounded by the
 * cooldown.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import type { PolicyDocument } from '../../local-cloud/ram';
import { renderPolicy } from '../../scripts/render-policy';
import { findLeaks, type RotationRun, rotationEnv, runRotation, runTexts } from '../helpers/rotate';
import { kmsClient, kmsModels as $ } from '../helpers/sdk';
import { ACCESS_KEY, fleet, REGION, secretData, secretName, target } from '../rotate/fixture';

const ACCOUNT = '1234567890123456';
const ROLE_KEY = { id: 'STS.ThreatModelRole', secret: 'threat-model-role-secret', securityToken: 'threat-model-role-token' };
/** A principal allowed to write the secrets, and nothing else. */
const WRITER_KEY = { id: 'LTAI5tThreatSecretWriter', secret: 'threat-model-writer-secret' };
const TAG = { rotation: 'enabled' };
const TIMER = { triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily-rotation', payload: '{"reason":"scheduled"}' };

const LISTED = 'dds-bp1listedthreat1';
/** Tagged by someone else, and not among the instances the policy names. */
const TAGGED_LATER = 'dds-bp1taggedthreat1';
const CHOSEN = 'Chosen#ByTheWriter-2026x';

let cloud: LocalCloud | undefined;
let texts: string[] = [];

afterEach(async () => {
  if (!cloud) return;
  try {
    expect(findLeaks(texts, cloud.truth.passwordsSeen())).toEqual([]);
    expect(cloud.truth.violations).toEqual([]);
  } finally {
    await cloud.close();
    cloud = undefined;
    texts = [];
  }
});

const rotatePolicy = (instances: string[], tagDiscovery = false) =>
  renderPolicy({ function: 'rotate', accountId: ACCOUNT, region: REGION, instances, secretPrefix: 'mongodb/', tagDiscovery, createMissingSecrets: false });

async function start(policy: PolicyDocument, ...targets: Array<ReturnType<typeof target>>): Promise<LocalCloud> {
  const writerPolicy = { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:PutSecretValue', Resource: `acs:kms:${REGION}:${ACCOUNT}:secret/mongodb/*` }] };
  const base = fleet(...targets) as Record<string, unknown>;
  cloud = await startCloud({
    port: 0,
    fixture: { ...base, accountId: ACCOUNT, accessKeys: [ACCESS_KEY, { ...ROLE_KEY, policy }, { ...WRITER_KEY, policy: writerPolicy }] },
  });
  return cloud;
}

async function rotateOnTimer(current: LocalCloud, env: Record<string, string | undefined>, listed: string[] = []): Promise<RotationRun> {
  const credentials = { accessKeyId: ROLE_KEY.id, accessKeySecret: ROLE_KEY.secret, securityToken: ROLE_KEY.securityToken };
  const run = await runRotation(current, {
    env: rotationEnv(current, listed.map((instanceId) => ({ instanceId, secretName: secretName(instanceId) })), env),
    event: TIMER,
    context: { credentials },
  });
  texts.push(...runTexts(run));
  return run;
}

const outcomes = (run: RotationRun) => Object.fromEntries((run.report?.results ?? []).map((r) => [r.instanceId, r.outcome]));

describe('threat model: write access to the mongodb/* secrets', () => {
  it('is the power to choose the root password: the next run applies what ACSPending holds', async () => {
    const current = await start(rotatePolicy([LISTED]), target(LISTED, { age: '-2d' }));
    // What a principal with kms:PutSecretValue on mongodb/* can do, with the official client.
    await kmsClient(current, WRITER_KEY).putSecretValue(
      new $.PutSecretValueRequest({ secretName: secretName(LISTED), versionId: 'chosen-1', secretData: secretData(LISTED, CHOSEN), versionStages: '["ACSPending"]' }),
    );

    const run = await rotateOnTimer(current, {}, [LISTED]);

    expect(outcomes(run)).toEqual({ [LISTED]: 'resumed' });
    expect(current.truth.rootPassword(LISTED, 'normal')).toBe(CHOSEN);
    expect(current.truth.secretPassword(secretName(LISTED))).toBe(CHOSEN);
  });
});

describe('threat model: permission to tag instances', () => {
  it('enrols a tagged instance when the rotate policy names instances by a pattern', async () => {
    const current = await start(rotatePolicy(['dds-*'], true), target(LISTED, { tags: TAG }), target(TAGGED_LATER, { tags: TAG }));
    const run = await rotateOnTimer(current, { ROTATION_TARGETS: undefined, ROTATION_TAG: 'rotation=enabled' });
    expect(outcomes(run)).toEqual({ [LISTED]: 'rotated', [TAGGED_LATER]: 'rotated' });
  });

  it('cannot reset an instance that the rotate policy’s explicit --instances leaves out: refused, its password kept', async () => {
    const taggedLater = target(TAGGED_LATER, { tags: TAG });
    const current = await start(rotatePolicy([LISTED], true), target(LISTED, { tags: TAG }), taggedLater);
    const run = await rotateOnTimer(current, { ROTATION_TARGETS: undefined, ROTATION_TAG: 'rotation=enabled' });

    expect(outcomes(run)).toEqual({ [LISTED]: 'rotated', [TAGGED_LATER]: 'failed' });
    const failure = run.report?.results.find((r) => r.instanceId === TAGGED_LATER)?.error;
    expect(failure).toMatchObject({ code: 'Forbidden.RAM' });
    expect(failure?.message).toContain(`dds:ResetAccountPassword on acs:dds:${REGION}:${ACCOUNT}:dbinstance/${TAGGED_LATER}`);
    const resets = current.truth.requests.filter((r) => r.action === 'ResetAccountPassword' && r.params.DBInstanceId === TAGGED_LATER && r.status === 200);
    expect(resets).toEqual([]);
    expect(current.truth.rootPassword(TAGGED_LATER, 'normal')).toBe(taggedLater.instance.password);
    expect(current.truth.secretPassword(secretName(TAGGED_LATER))).toBe(taggedLater.instance.password);
  });
});
