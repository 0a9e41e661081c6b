import { describe, expect, it } from 'vitest';
import { replacementVersionId, versionIdFor } from '../../functions/shared/targets';
import { kmsClient, kmsModels } from '../helpers/sdk';
import { fixture, secretData, secretName } from './fixture';
import { expectRotated, useHarness } from './harness';

const RS = 'dds-rs0resume01';
const SHARDED = 'dds-sh0resume01';
const timer = (triggerTime: string) => ({ triggerTime, triggerName: 'daily', payload: '' });

const stagesOf = (versions: Array<{ versionId: string; stages: string[] }>) => Object.fromEntries(versions.map((v) => [v.versionId, v.stages]));

describe('resuming and repairing rotations', () => {
  const h = useHarness();

  it('keeps ACSPending when the second role fails, and the next run completes it with the same password', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: SHARDED, type: 'sharding', password: 'Old#Sharded-Pw1' }],
        secrets: [{ instanceId: SHARDED, versions: [{ versionId: 'v1', password: 'Old#Sharded-Pw1', stages: ['ACSCurrent'] }] }],
      }),
    );
    cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', when: (p) => p.CharacterType === 'cs', code: 'Forbidden.RAM', times: 1 });

    const first = await h.run({ event: timer('2026-11-27T03:00:00Z') });
    expect(first.report?.results).toMatchObject([{ outcome: 'failed', error: { code: 'Forbidden.RAM', requestId: expect.any(String) } }]);
    expect(first.error?.message).toContain(`${SHARDED} (Forbidden.RAM)`);
    const staged = first.report!.results[0].versionId!;
    const pending = cloud.truth.secretPassword(secretName(SHARDED), 'ACSPending');
    expect(cloud.truth.rootPasswords(SHARDED)).toEqual({ db: pending, cs: 'Old#Sharded-Pw1' });
    expect(cloud.truth.secretPassword(secretName(SHARDED))).toBe('Old#Sharded-Pw1');

    const writesBefore = cloud.truth.writeRequests().length;
    const second = await h.run({ event: timer('2026-11-28T03:00:00Z') });
    expect(second.report?.results).toMatchObject([{ outcome: 'resumed', versionId: staged }]);
    expect(expectRotated(cloud, SHARDED, 'Old#Sharded-Pw1')).toBe(pending);
    const secondWrites = cloud.truth.writeRequests().slice(writesBefore).map((r) => r.action);
    expect(secondWrites).toEqual(['ResetAccountPassword', 'ResetAccountPassword', 'UpdateSecretVersionStage', 'UpdateSecretVersionStage']);
    expect(stagesOf(cloud.truth.secret(secretName(SHARDED))!.versions)).toEqual({ v1: ['ACSPrevious'], [staged]: ['ACSCurrent'] });
  });

  it('replaces a pending password that breaks the rule, without applying it', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: RS, password: 'Old#Replica-Pw1' }],
        secrets: [
          {
            instanceId: RS,
            versions: [
              { versionId: 'v1', password: 'Old#Replica-Pw1', stages: ['ACSCurrent'], createTime: '-3d' },
              { versionId: 'v-bad', password: 'short@1A', stages: ['ACSPending'], createTime: '-1d' },
            ],
          },
        ],
      }),
    );
    const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated', versionId: replacementVersionId('v-bad') }]);
    expectRotated(cloud, RS, 'Old#Replica-Pw1');
    expect(stagesOf(cloud.truth.secret(secretName(RS))!.versions)).toEqual({ v1: ['ACSPrevious'], 'v-bad': [], [replacementVersionId('v-bad')]: ['ACSCurrent'] });
    expect(cloud.truth.requests.filter((r) => r.action === 'ResetAccountPassword')).toHaveLength(1);
    expect(run.logs.find((e) => e.msg === 'the pending password cannot be used; staging a fresh one')).toMatchObject([
      { versionId: 'v-bad', problem: expect.stringContaining('outside letters, digits') },
    ]);
  });

  it('replaces a pending version whose data is not JSON', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: RS, password: 'Old#Replica-Pw1' }],
        secrets: [
          {
            instanceId: RS,
            versions: [
              { versionId: 'v1', password: 'Old#Replica-Pw1', stages: ['ACSCurrent'] },
              { versionId: 'v-garbled', data: 'not json', stages: ['ACSPending'] },
            ],
          },
        ],
      }),
    );
    const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated', versionId: replacementVersionId('v-garbled') }]);
    expectRotated(cloud, RS, 'Old#Replica-Pw1');
  });

  it('replaces a pending password the database rejects as malformed, once, and completes', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: RS, password: 'Old#Replica-Pw1' }],
        secrets: [
          {
            instanceId: RS,
            versions: [
              { versionId: 'v1', password: 'Old#Replica-Pw1', stages: ['ACSCurrent'] },
              { versionId: 'v-pending', password: 'Pending#Replica-Pw2', stages: ['ACSPending'] },
            ],
          },
        ],
      }),
    );
    const rejected = cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'InvalidAccountPassword.Malformed', times: 1 });
    const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });

    expect(rejected.hits).toBe(1);
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated', versionId: replacementVersionId('v-pending') }]);
    const current = expectRotated(cloud, RS, 'Old#Replica-Pw1');
    expect(current).not.toBe('Pending#Replica-Pw2');
  });

  it('fails rather than loops when the replacement is rejected too', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: RS, password: 'Old#Replica-Pw1' }],
        secrets: [{ instanceId: RS, versions: [{ versionId: 'v1', password: 'Old#Replica-Pw1', stages: ['ACSCurrent'] }] }],
      }),
    );
    const rejected = cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'InvalidAccountPassword.Malformed', times: 10 });
    const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });

    expect(rejected.hits).toBe(2);
    expect(run.report?.results).toMatchObject([{ outcome: 'failed', error: { code: 'InvalidAccountPassword.Malformed' } }]);
    expect(cloud.truth.rootPassword(RS)).toBe('Old#Replica-Pw1');
    expect(cloud.truth.secretPassword(secretName(RS))).toBe('Old#Replica-Pw1');
  });

  it("finishes a promote that was cut off; this trigger's own is then done", async () => {
    const own = versionIdFor('manual\nchange-7', RS);
    const cloud = await h.start(
      fixture({
        instances: [{ id: RS, password: 'New#Replica-Pw2' }],
        secrets: [
          {
            instanceId: RS,
            versions: [
              { versionId: 'v1', password: 'Old#Replica-Pw1', stages: ['ACSPrevious'] },
              { versionId: own, password: 'New#Replica-Pw2', stages: ['ACSCurrent', 'ACSPending'] },
            ],
          },
        ],
      }),
    );
    const run = await h.run({ event: { rotationId: 'change-7', force: true } });

    expect(run.report?.results).toMatchObject([{ outcome: 'resumed', versionId: own, reason: 'finished a promote that was cut off' }]);
    expect(stagesOf(cloud.truth.secret(secretName(RS))!.versions)).toEqual({ v1: ['ACSPrevious'], [own]: ['ACSCurrent'] });
    expect(cloud.truth.writeRequests().map((r) => r.action)).toEqual(['UpdateSecretVersionStage']);
  });

  it("finishes another run's cut-off promote, then applies the scheduled rules", async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: RS, password: 'New#Replica-Pw2' }],
        secrets: [
          {
            instanceId: RS,
            versions: [
              { versionId: 'v1', password: 'Old#Replica-Pw1', stages: ['ACSPrevious'], createTime: '-40d' },
              { versionId: 'v2', password: 'New#Replica-Pw2', stages: ['ACSCurrent', 'ACSPending'], createTime: '-1h' },
            ],
          },
        ],
      }),
    );
    const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });
    expect(run.report?.results).toMatchObject([{ outcome: 'skipped', reason: expect.stringMatching(/^not due/) }]);
    expect(stagesOf(cloud.truth.secret(secretName(RS))!.versions)).toEqual({ v1: ['ACSPrevious'], v2: ['ACSCurrent'] });
  });

  it('waits for the instance to be Running again before promoting', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: RS, password: 'Old#Replica-Pw1' }],
        secrets: [{ instanceId: RS, versions: [{ versionId: 'v1', password: 'Old#Replica-Pw1', stages: ['ACSCurrent'] }] }],
      }),
    );
    cloud.faults.onAction({ product: 'dds', action: 'ResetAccountPassword', phase: 'after' }, () => {
      cloud.faults.instanceStatus(RS, 'NodeRestarting', 150);
    });
    const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(run.logs.find((e) => e.msg === 'waiting for the instance to be Running').length).toBeGreaterThan(0);
    const settled = run.logs.find((e) => e.step === 'settle' && e.msg === 'settle done');
    const promoted = run.logs.find((e) => e.step === 'promote' && e.msg === 'promote done');
    expect(run.logs.lines.indexOf(JSON.stringify(settled[0]))).toBeLessThan(run.logs.lines.indexOf(JSON.stringify(promoted[0])));
    expectRotated(cloud, RS, 'Old#Replica-Pw1');
  });

  it('retries a reset refused while the instance is busy', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: RS, password: 'Old#Replica-Pw1' }],
        secrets: [{ instanceId: RS, versions: [{ versionId: 'v1', password: 'Old#Replica-Pw1', stages: ['ACSCurrent'] }] }],
      }),
    );
    cloud.faults.onAction({ product: 'kms', action: 'PutSecretValue', phase: 'after' }, () => {
      cloud.faults.instanceStatus(RS, 'HASwitching', 150);
    });
    const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });

    expect(run.report?.results[0].outcome).toBe('rotated');
    expect(run.report?.results[0].attempts).toBeGreaterThan(1);
    expect(run.logs.find((e) => e.msg === 'retrying ResetAccountPassword')[0]).toMatchObject({ error: { code: 'IncorrectDBInstanceState' } });
    expectRotated(cloud, RS, 'Old#Replica-Pw1');
  });

  it('stops at the deadline with the password kept pending, and the next run completes it', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: RS, password: 'Old#Replica-Pw1' }],
        secrets: [{ instanceId: RS, versions: [{ versionId: 'v1', password: 'Old#Replica-Pw1', stages: ['ACSCurrent'] }] }],
      }),
    );
    // A 4 s function keeps 2 s for the work; the reset hangs past that.
    const hang = cloud.faults.hang({ product: 'dds', action: 'ResetAccountPassword', ms: 3_000 });
    const first = await h.run({ event: timer('2026-11-27T03:00:00Z'), context: { function: { timeout: 4 } } });

    expect(first.report?.results).toMatchObject([{ outcome: 'failed', error: { code: expect.stringMatching(/^(RequestTimeout|DeadlineExceeded)$/) } }]);
    expect(cloud.truth.secretPassword(secretName(RS))).toBe('Old#Replica-Pw1');
    const pending = cloud.truth.secretPassword(secretName(RS), 'ACSPending');
    expect(pending).toBeDefined();

    hang.remove();
    const second = await h.run({ event: timer('2026-11-28T03:00:00Z') });
    expect(second.report?.results).toMatchObject([{ outcome: 'resumed' }]);
    expect(expectRotated(cloud, RS, 'Old#Replica-Pw1')).toBe(pending);
  });

  it('keeps the pending value shape when resuming a sharded cluster', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: SHARDED, type: 'sharding', password: 'Old#Sharded-Pw1' }],
        secrets: [
          {
            instanceId: SHARDED,
            versions: [
              { versionId: 'v1', password: 'Old#Sharded-Pw1', stages: ['ACSCurrent'], createTime: '-1d' },
              { versionId: 'v2', data: secretData(SHARDED, 'Pending#Shard-Pw2', 'sharding'), stages: ['ACSPending'] },
            ],
          },
        ],
      }),
    );
    const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });
    expect(run.report?.results).toMatchObject([{ outcome: 'resumed', versionId: 'v2' }]);
    expect(expectRotated(cloud, SHARDED, 'Old#Sharded-Pw1')).toBe('Pending#Shard-Pw2');
  });

  describe('with another run racing this one', () => {
    const seeded = () =>
      fixture({
        instances: [{ id: RS, password: 'Old#Replica-Pw1' }],
        secrets: [{ instanceId: RS, versions: [{ versionId: 'v1', password: 'Old#Replica-Pw1', stages: ['ACSCurrent'] }] }],
      });

    it('resumes the version the other run staged under the same VersionId', async () => {
      const cloud = await h.start(seeded());
      const kms = kmsClient(cloud);
      const hook = cloud.faults.onAction({ product: 'kms', action: 'PutSecretValue', phase: 'before' }, async (req) => {
        hook.remove();
        const data = secretData(RS, 'Racer#Replica-Pw3');
        await kms.putSecretValue(new kmsModels.PutSecretValueRequest({ secretName: secretName(RS), versionId: req.params.VersionId, secretData: data, versionStages: '["ACSPending"]' }));
      });
      const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });

      expect(run.report?.results).toMatchObject([{ outcome: 'resumed' }]);
      expect(expectRotated(cloud, RS, 'Old#Replica-Pw1')).toBe('Racer#Replica-Pw3');
      expect(cloud.truth.secret(secretName(RS))!.versions).toHaveLength(2);
    });

    it('does not promote when ACSPending moved to a newer password meanwhile: it takes the newer version over', async () => {
      const cloud = await h.start(seeded());
      const kms = kmsClient(cloud);
      let racerRequestId = '';
      const hook = cloud.faults.onAction({ product: 'dds', action: 'ResetAccountPassword', phase: 'after' }, async () => {
        hook.remove();
        const put = new kmsModels.PutSecretValueRequest({ secretName: secretName(RS), versionId: 'v-racer', secretData: secretData(RS, 'Racer#Replica-Pw3'), versionStages: '["ACSPending"]' });
        racerRequestId = (await kms.putSecretValue(put)).requestId;
        cloud.truth.setRootPassword(RS, 'Racer#Replica-Pw3');
      });
      // Two runs racing (what reserved concurrency 1 prevents) open a window of their own: the racer's put.
      h.allowViolations('the racer stages over a pending password the database may hold', (violations) => expect(violations).toMatchObject([{ requestId: racerRequestId, action: 'PutSecretValue' }]));
      const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });

      expect(run.report?.results).toMatchObject([{ outcome: 'resumed', versionId: 'v-racer', reason: expect.stringContaining('took over') }]);
      expect(expectRotated(cloud, RS, 'Old#Replica-Pw1')).toBe('Racer#Replica-Pw3');
    });

    it('accepts a promote the other run already finished', async () => {
      const cloud = await h.start(seeded());
      const kms = kmsClient(cloud);
      cloud.faults.onAction({ product: 'dds', action: 'ResetAccountPassword', phase: 'after' }, async () => {
        const pending = await kms.getSecretValue(new kmsModels.GetSecretValueRequest({ secretName: secretName(RS), versionStage: 'ACSPending' }));
        const stage = (versionStage: string, moveToVersion?: string, removeFromVersion?: string) =>
          kms.updateSecretVersionStage(new kmsModels.UpdateSecretVersionStageRequest({ secretName: secretName(RS), versionStage, moveToVersion, removeFromVersion }));
        await stage('ACSCurrent', pending.versionId);
        await stage('ACSPending', undefined, pending.versionId);
      });
      const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });

      expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
      expectRotated(cloud, RS, 'Old#Replica-Pw1');
    });
  });
});
