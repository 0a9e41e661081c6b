/**
 * Nobody can reset a root password in a loop: forced rotations wait out FORCED_ROTATION_COOLDOWN_MINUTES
 * since ACSCurrent was created, unless an operator says `"ignoreCooldown": true` with a reason. And
 * secrets created by the function go into the KMS 3.0 instance KMS_INSTANCE_ID names.
 */
import { describe, expect, it } from 'vitest';
import { fixture, fleet, secretData, secretName, target } from './fixture';
import { expectRotated, useHarness } from './harness';

const RS = 'dds-rs0cooldown01';
const NEW = 'dds-rs0kmsinst001';
const KMS_INSTANCE = 'kst-hzz65f176a0ogplgq1a2b';
/** The function's default cooldown (the suites' environment turns it off). */
const DEFAULT_COOLDOWN = { FORCED_ROTATION_COOLDOWN_MINUTES: '15' };

describe('the forced-rotation cooldown', () => {
  const h = useHarness();

  it('turns 50 forced events in a row for one instance into one reset', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Cooldown-Pw1', age: '-1d' })));
    const outcomes: string[] = [];
    for (let n = 1; n <= 50; n++) {
      const manual = { instanceIds: [RS], force: true, rotationId: `flood-${n}` };
      const incident = { specversion: '1.0', id: `evt-${n}`, source: 'acs.actiontrail', type: 'actiontrail:ActionTrail:ApiCall', data: { instanceId: RS } };
      const run = await h.run({ event: n % 2 === 0 ? manual : incident, env: DEFAULT_COOLDOWN });
      outcomes.push(run.report!.results[0]!.outcome);
    }
    expect(outcomes[0]).toBe('rotated');
    expect(outcomes.slice(1)).toEqual(Array(49).fill('skipped'));
    expect(cloud.truth.requests.filter((r) => r.action === 'ResetAccountPassword')).toHaveLength(1);
    expectRotated(cloud, RS, 'Old#Cooldown-Pw1');
  }, 120_000);

  it('says how old ACSCurrent is, and goes ahead once it is old enough', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Cooldown-Pw1', age: '-10m' })));
    const held = await h.run({ event: { instanceIds: [RS], force: true, rotationId: 'r-1' }, env: DEFAULT_COOLDOWN });
    expect(held.report?.results).toMatchObject([{ outcome: 'skipped', reason: expect.stringMatching(/^cooldown: ACSCurrent is 10 minutes old and forced rotations wait FORCED_ROTATION_COOLDOWN_MINUTES \(15\)/) }]);
    const shorter = await h.run({ event: { instanceIds: [RS], force: true, rotationId: 'r-2' }, env: { FORCED_ROTATION_COOLDOWN_MINUTES: '5' } });
    expect(shorter.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expectRotated(cloud, RS, 'Old#Cooldown-Pw1');
  });

  it('lets an operator override it, with a reason, logged as a warning', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Cooldown-Pw1', age: '-1m' })));
    const run = await h.run({ event: { instanceIds: [RS], force: true, ignoreCooldown: true, reason: 'the key was pasted in chat', rotationId: 'override-1' }, env: DEFAULT_COOLDOWN });
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(run.logs.find((e) => e.msg === 'the forced-rotation cooldown is ignored on request')).toMatchObject([{ level: 'warn', reason: 'the key was pasted in chat' }]);
    expectRotated(cloud, RS, 'Old#Cooldown-Pw1');
  });

  it('never holds back a rotation left half done', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: RS, password: 'Old#Cooldown-Pw1' }],
        secrets: [
          {
            instanceId: RS,
            versions: [
              { versionId: 'v1', password: 'Old#Cooldown-Pw1', stages: ['ACSCurrent'], createTime: '-1m' },
              { versionId: 'v-half', password: 'Half#Done-Pw1xyz', stages: ['ACSPending'], createTime: '-1m' },
            ],
          },
        ],
      }),
    );
    const run = await h.run({ event: { instanceIds: [RS], force: true, rotationId: 'finish-it' }, env: DEFAULT_COOLDOWN });
    expect(run.report?.results).toMatchObject([{ outcome: 'resumed', versionId: 'v-half' }]);
    expect(expectRotated(cloud, RS, 'Old#Cooldown-Pw1')).toBe('Half#Done-Pw1xyz');
  });
});

describe('secrets created in a KMS 3.0 instance', () => {
  const h = useHarness();
  const withInstance = (secret?: object) => ({
    ...(fixture({ instances: [{ id: NEW, password: 'Old#KmsInst-Pw1' }], secrets: [] }) as Record<string, unknown>),
    kmsInstances: [{ id: KMS_INSTANCE }],
    ...(secret && { secrets: [secret] }),
  });
  const CREATE = { CREATE_MISSING_SECRETS: 'true', KMS_INSTANCE_ID: KMS_INSTANCE };

  it('puts a created secret in KMS_INSTANCE_ID (KMS refuses CreateSecret without a valid instance)', async () => {
    const cloud = await h.start(withInstance());
    h.allowViolations('a secret created by the function never held the old password', (violations) => expect(violations.map((v) => v.action)).toEqual(['CreateSecret']));
    const run = await h.run({ event: { instanceIds: [NEW], force: true, rotationId: 'create-1' }, env: CREATE });
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    const created = cloud.truth.requests.find((r) => r.action === 'CreateSecret');
    expect(created).toMatchObject({ status: 200, params: { DKMSInstanceId: KMS_INSTANCE } });
    expect(cloud.truth.secretPassword(secretName(NEW))).toBe(cloud.truth.rootPassword(NEW));
  });

  it('says what to do about a secret scheduled for deletion, and writes nothing', async () => {
    const doomed = { name: secretName(NEW), instanceId: NEW, plannedDeleteTime: '+7d', versions: [{ versionId: 'v1', data: secretData(NEW, 'Old#KmsInst-Pw1'), stages: ['ACSCurrent'], createTime: '-40d' }] };
    const cloud = await h.start(withInstance(doomed));
    const run = await h.run({ event: { instanceIds: [NEW], force: true, rotationId: 'doomed-1' }, env: CREATE });
    expect(run.report?.results).toMatchObject([
      { outcome: 'failed', error: { code: 'Rejected.ResourceInDeleteWindow', message: expect.stringContaining('is scheduled for deletion: restore it (kms RestoreSecret)') } },
    ]);
    expect(cloud.truth.writeRequests().map((r) => `${r.action} ${r.status}`)).toEqual(['CreateSecret 409']);
    expect(cloud.truth.rootPassword(NEW)).toBe('Old#KmsInst-Pw1');
  });
});
