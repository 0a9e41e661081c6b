import { describe, expect, it } from 'vitest';
import { ACCESS_KEY, fleet, fixture, secretData, secretName, STS_KEY, target } from './fixture';
import { expectRotated, useHarness } from './harness';

const RS = 'dds-rs0rotation01';
const RS2 = 'dds-rs0rotation02';
const SHARDED = 'dds-sh0rotation01';
const TIMER = { triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily', payload: '' };

describe('rotation end to end, through the SDKs against the local cloud', () => {
  const h = useHarness();

  it('rotates a replica set: the database holds the new ACSCurrent, the old password is gone', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Replica-Pw1' })));
    const run = await h.run({ event: TIMER });

    expect(run.error).toBeUndefined();
    expect(run.report?.results).toMatchObject([{ instanceId: RS, secretName: secretName(RS), outcome: 'rotated', characterTypes: ['normal'], attempts: 1 }]);
    expect(run.report?.summary).toEqual({ rotated: 1, resumed: 0, skipped: 0, planned: 0, failed: 0 });
    const current = expectRotated(cloud, RS, 'Old#Replica-Pw1');
    expect(cloud.truth.secretPassword(secretName(RS), 'ACSPrevious')).toBe('Old#Replica-Pw1');
    expect(JSON.parse(cloud.truth.secret(secretName(RS))!.versions.at(-1)!.data)).toEqual({
      AccountName: 'root',
      AccountPassword: current,
      DBInstanceId: RS,
      CharacterTypes: ['normal'],
    });
  });

  it('rotates a sharded cluster: db and cs get the same new password', async () => {
    const cloud = await h.start(fleet(target(SHARDED, { type: 'sharding', password: 'Old#Sharded-Pw1' })));
    const run = await h.run({ event: TIMER });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated', characterTypes: ['db', 'cs'] }]);
    const current = expectRotated(cloud, SHARDED, 'Old#Sharded-Pw1');
    expect(cloud.truth.rootPassword(SHARDED, 'db')).toBe(current);
    expect(cloud.truth.rootPassword(SHARDED, 'cs')).toBe(current);
    const resets = cloud.truth.requests.filter((r) => r.action === 'ResetAccountPassword').map((r) => r.params.CharacterType);
    expect(resets).toEqual(['db', 'cs']);
  });

  it('skips a target that is not due, and rotates it when forced', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Fresh-Pw1', age: '-2d' })));
    const scheduled = await h.run({ event: TIMER });
    expect(scheduled.report?.results).toMatchObject([{ outcome: 'skipped', versionId: `v-${RS}-1`, reason: expect.stringMatching(/^not due/) }]);
    expect(cloud.truth.writeRequests()).toEqual([]);

    const forced = await h.run({ event: { force: true, reason: 'drill' } });
    expect(forced.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(forced.report?.trigger).toEqual({ kind: 'manual', force: true, reason: 'drill' });
    expectRotated(cloud, RS, 'Old#Fresh-Pw1');
  });

  it('takes the manual fields from a timer payload that is JSON', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Fresh-Pw1', age: '-2d' })));
    const run = await h.run({ event: { ...TIMER, payload: '{"force":true}' } });
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expectRotated(cloud, RS, 'Old#Fresh-Pw1');
  });

  it('plans without writing anything in a dry run (DRY_RUN or the payload)', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Dry-Pw1' }), target(RS2, { password: 'Old#Dry-Pw2', age: '-1d' })));
    const byEnv = await h.run({ event: TIMER, env: { DRY_RUN: 'true' } });
    const byPayload = await h.run({ event: { dryRun: true } });

    for (const run of [byEnv, byPayload]) {
      expect(run.report?.dryRun).toBe(true);
      expect(run.report?.results).toMatchObject([
        { instanceId: RS, outcome: 'planned', reason: expect.stringMatching(/^would rotate/) },
        { instanceId: RS2, outcome: 'skipped' },
      ]);
    }
    expect(cloud.truth.writeRequests()).toEqual([]);
    expect(cloud.truth.requests.map((r) => r.action)).not.toContain('GetSecretValue');
    expect(cloud.truth.rootPassword(RS)).toBe('Old#Dry-Pw1');
  });

  it('retries a throttled reset until it succeeds', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Throttle-Pw1' })));
    const throttled = cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'Throttling.User', httpStatus: 400, times: 2 });
    const run = await h.run({ event: TIMER });

    expect(throttled.hits).toBe(2);
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated', attempts: 3 }]);
    expectRotated(cloud, RS, 'Old#Throttle-Pw1');
    const retries = run.logs.find((e) => e.msg === 'retrying ResetAccountPassword');
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatchObject({ instanceId: RS, error: { code: 'Throttling.User', requestId: expect.any(String) } });
  });

  it('survives lost answers: a retried PutSecretValue and reset create no extra version', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Lost-Pw1' })));
    cloud.faults.drop({ product: 'kms', action: 'PutSecretValue', after: true, times: 1 });
    cloud.faults.drop({ product: 'dds', action: 'ResetAccountPassword', after: true, times: 1 });
    const run = await h.run({ event: TIMER });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated', attempts: 3 }]);
    expectRotated(cloud, RS, 'Old#Lost-Pw1');
    expect(cloud.truth.secret(secretName(RS))!.versions).toHaveLength(2);
  });

  it('fails one target on a non-retryable error, rotates the others, and rejects naming it', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Ok-Pw1' }), target(RS2, { password: 'Old#Bad-Pw2' }), target(SHARDED, { type: 'sharding', password: 'Old#Ok-Pw3' })));
    const denied = cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'OperationDenied.AccountType', when: (p) => p.DBInstanceId === RS2, times: 5 });
    const run = await h.run({ event: TIMER, env: { MAX_CONCURRENCY: '2' } });

    expect(denied.hits).toBe(1);
    expect(run.error?.message).toMatch(/ failed for 1 of 3 targets: dds-rs0rotation02 \(OperationDenied\.AccountType\)$/);
    expect(run.report?.summary).toMatchObject({ rotated: 2, failed: 1 });
    const failed = run.report?.results.find((r) => r.instanceId === RS2);
    expect(failed).toMatchObject({ outcome: 'failed', error: { code: 'OperationDenied.AccountType', requestId: expect.any(String) } });
    expectRotated(cloud, RS, 'Old#Ok-Pw1');
    expectRotated(cloud, SHARDED, 'Old#Ok-Pw3');
    // The failed target keeps its password, and the new one waits under ACSPending for the next run.
    expect(cloud.truth.rootPassword(RS2)).toBe('Old#Bad-Pw2');
    expect(cloud.truth.secretPassword(secretName(RS2))).toBe('Old#Bad-Pw2');
    expect(cloud.truth.secretPassword(secretName(RS2), 'ACSPending')).toBeDefined();
    expect(run.logs.find((e) => e.msg === 'rotation finished with failures')).toHaveLength(1);
  });

  it('fails a locked instance before touching anything', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Locked-Pw1', lockMode: 'ManualLock' })));
    const run = await h.run({ event: TIMER });
    expect(run.report?.results).toMatchObject([{ outcome: 'failed', error: { code: 'IncorrectDBInstanceLockMode' } }]);
    expect(cloud.truth.writeRequests()).toEqual([]);
  });

  it('fails a target whose secret is missing, with a clear error', async () => {
    const cloud = await h.start(fixture({ instances: [{ id: RS, password: 'Old#Missing-Pw1' }], secrets: [] }));
    const run = await h.run({ event: TIMER });
    const [result] = run.report!.results;
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'Forbidden.ResourceNotFound' } });
    expect(result.error?.message).toContain(`"${secretName(RS)}" does not exist`);
    expect(result.error?.message).toContain('CREATE_MISSING_SECRETS=true');
    expect(cloud.truth.writeRequests()).toEqual([]);
  });

  it('creates a missing secret with CREATE_MISSING_SECRETS=true, then rotates into it', async () => {
    const cloud = await h.start({ ...fixture({ instances: [{ id: RS, password: 'Old#Missing-Pw1' }], secrets: [] }), kmsInstances: [{ id: 'kst-hzz65f176a0ogplgq1a2b' }] });
    // The database's password was never in KMS: the monitor sees that once, when the secret appears.
    h.allowViolations('the secret is created without the password the database holds', (violations) => expect(violations).toMatchObject([{ secretName: secretName(RS), action: 'CreateSecret', role: 'normal' }]));
    const run = await h.run({ event: TIMER, env: { CREATE_MISSING_SECRETS: 'true', KMS_INSTANCE_ID: 'kst-hzz65f176a0ogplgq1a2b' } });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    const current = expectRotated(cloud, RS, 'Old#Missing-Pw1');
    const versions = cloud.truth.secret(secretName(RS))!.versions;
    expect(versions.map((v) => v.stages)).toEqual([['ACSPrevious'], ['ACSCurrent']]);
    expect(JSON.parse(versions[0].data)).toEqual({ AccountName: 'root', DBInstanceId: RS, CharacterTypes: ['normal'] });
    expect(JSON.parse(versions[1].data).AccountPassword).toBe(current);
  });

  it('refuses a bad configuration value before sending any request', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Config-Pw1' })));
    const run = await h.run({ event: TIMER, env: { PASSWORD_LENGTH: '40' } });

    expect(run.error?.name).toBe('ConfigError');
    expect(run.error?.message).toBe('PASSWORD_LENGTH must be a whole number from 16 to 32 (ApsaraDB accepts 8, but a root password shorter than 16 is refused here), got "40"; for example PASSWORD_LENGTH=32');
    expect(cloud.truth.requests).toEqual([]);
    expect(run.logs.find((e) => e.level === 'error')).toMatchObject([{ msg: 'invocation refused; nothing was changed', error: { code: 'InvalidConfiguration' } }]);
  });

  it('refuses an invocation naming an instance that is not a target, before any request', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Target-Pw1' }), target(RS2, { password: 'Old#Target-Pw2' })));
    const run = await h.run({ event: { instanceIds: [RS, 'dds-notconfigured'], force: true }, targets: [RS] });

    expect(run.error?.name).toBe('PlanError');
    expect(run.error?.message).toContain('"dds-notconfigured" is not a rotation target');
    expect(cloud.truth.requests).toEqual([]);
  });

  it('refuses an event it does not know, before any request', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Event-Pw1' })));
    const run = await h.run({ event: { specversion: '1.0', id: 'e-1', source: 'custom.unknown', type: 'x', data: {} } });

    expect(run.error?.name).toBe('EventSourceError');
    expect(run.error?.message).toMatch(/^Refusing the event: its source "custom\.unknown" is not in EVENT_SOURCES/);
    expect(cloud.truth.requests).toEqual([]);
  });

  it('rotates only the instances a manual payload names', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Named-Pw1' }), target(RS2, { password: 'Old#Named-Pw2' })));
    const run = await h.run({ event: Buffer.from(JSON.stringify({ instanceIds: [RS2], rotationId: 'change-4711' })) });

    expect(run.report).toMatchObject({ rotationId: 'change-4711', trigger: { kind: 'manual', instanceIds: [RS2] } });
    expect(run.report?.results.map((r) => r.instanceId)).toEqual([RS2]);
    expectRotated(cloud, RS2, 'Old#Named-Pw2');
    expect(cloud.truth.rootPassword(RS)).toBe('Old#Named-Pw1');
  });

  it('does not rotate twice for a redelivered trigger', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Redeliver-Pw1' })));
    const first = await h.run({ event: JSON.stringify({ rotationId: 'incident-42' }) });
    const current = expectRotated(cloud, RS, 'Old#Redeliver-Pw1');
    const writes = cloud.truth.writeRequests().length;

    const again = await h.run({ event: JSON.stringify({ rotationId: 'incident-42', force: true }) });
    expect(again.report?.results).toMatchObject([{ outcome: 'skipped', reason: 'already rotated by this trigger', versionId: first.report?.results[0].versionId }]);
    expect(cloud.truth.writeRequests()).toHaveLength(writes);
    expect(cloud.truth.rootPassword(RS)).toBe(current);
  });

  it('works with STS role credentials, as FC passes them', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Sts-Pw1' })));
    const credentials = { accessKeyId: STS_KEY.id, accessKeySecret: STS_KEY.secret, securityToken: STS_KEY.securityToken };
    const run = await h.run({ event: TIMER, context: { credentials } });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expectRotated(cloud, RS, 'Old#Sts-Pw1');
    expect(new Set(cloud.truth.requests.map((r) => r.accessKeyId))).toEqual(new Set([STS_KEY.id]));
  });

  it('falls back to the default credential chain when the context carries none', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Chain-Pw1' })));
    const saved = { id: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID, secret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET };
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = ACCESS_KEY.id;
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = ACCESS_KEY.secret;
    try {
      const run = await h.run({ event: TIMER, context: { credentials: undefined } });
      expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    } finally {
      for (const [name, value] of [['ALIBABA_CLOUD_ACCESS_KEY_ID', saved.id], ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', saved.secret]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expectRotated(cloud, RS, 'Old#Chain-Pw1');
    expect(new Set(cloud.truth.requests.map((r) => r.accessKeyId))).toEqual(new Set([ACCESS_KEY.id]));
  });

  it('keeps a sharded secret value in the shape KMS stores for databases', async () => {
    const cloud = await h.start(fleet(target(SHARDED, { type: 'sharding', password: 'Old#Shape-Pw1' })));
    await h.run({ event: TIMER });
    const latest = cloud.truth.secret(secretName(SHARDED))!.versions.at(-1)!;
    expect(latest.data).toBe(secretData(SHARDED, cloud.truth.rootPassword(SHARDED), 'sharding'));
  });

  it('rotates targets in parallel, never more than MAX_CONCURRENCY at once', async () => {
    const ids = ['dds-rs0parallel1', 'dds-rs0parallel2', 'dds-rs0parallel3', 'dds-rs0parallel4'];
    const cloud = await h.start(fleet(...ids.map((id) => target(id))));
    let inFlight = 0;
    let most = 0;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const inspect = { product: 'dds', action: 'DescribeDBInstanceAttribute' } as const;
    cloud.faults.onAction({ ...inspect, phase: 'before' }, async () => {
      most = Math.max(most, ++inFlight);
      if (inFlight >= 2) openGate();
      await Promise.race([gate, cloud.faults.wait(2_000)]);
    });
    cloud.faults.onAction({ ...inspect, phase: 'after' }, () => {
      inFlight--;
    });
    const run = await h.run({ event: TIMER, env: { MAX_CONCURRENCY: '2' } });

    expect(run.report?.summary.rotated).toBe(4);
    expect(most).toBe(2);
  });

  describe('with ROTATION_TAG', () => {
    const tagged = { rotation: 'enabled' };
    const TAG_ENV = { ROTATION_TAG: 'rotation=enabled', ROTATION_TARGETS: undefined };

    it('discovers tagged replica sets and sharded clusters and rotates them into the templated secrets', async () => {
      const cloud = await h.start(
        fleet(target(RS, { tags: tagged, password: 'Old#Tag-Pw1' }), target(SHARDED, { type: 'sharding', tags: tagged, password: 'Old#Tag-Pw2' }), target(RS2, { tags: { rotation: 'disabled' }, password: 'Old#Tag-Pw3' })),
      );
      const run = await h.run({ event: TIMER, env: TAG_ENV });

      expect(run.report?.results.map((r) => [r.instanceId, r.secretName, r.outcome])).toEqual([
        [RS, secretName(RS), 'rotated'],
        [SHARDED, secretName(SHARDED), 'rotated'],
      ]);
      expectRotated(cloud, RS, 'Old#Tag-Pw1');
      expectRotated(cloud, SHARDED, 'Old#Tag-Pw2');
      expect(cloud.truth.rootPassword(RS2)).toBe('Old#Tag-Pw3');
      const listed = cloud.truth.requests.filter((r) => r.action === 'DescribeDBInstances').map((r) => r.params);
      expect(listed).toMatchObject([
        { DBInstanceType: 'replicate', 'Tag.1.Key': 'rotation', 'Tag.1.Value': 'enabled', RegionId: cloud.region },
        { DBInstanceType: 'sharding', 'Tag.1.Key': 'rotation', 'Tag.1.Value': 'enabled', RegionId: cloud.region },
      ]);
    });

    it('refuses to name an instance that is neither configured nor tagged, after reading only', async () => {
      const cloud = await h.start(fleet(target(RS, { tags: tagged }), target(RS2)));
      const run = await h.run({ event: { instanceIds: [RS2] }, env: TAG_ENV });

      expect(run.error?.message).toBe(`Refusing the invocation: "${RS2}" is not a rotation target (ROTATION_TARGETS, or tagged per ROTATION_TAG); nothing was changed`);
      expect(cloud.truth.writeRequests()).toEqual([]);
    });

    it('does not list instances when the payload names only configured ones', async () => {
      const cloud = await h.start(fleet(target(RS, { password: 'Old#Tag-Pw1' })));
      const run = await h.run({ event: { instanceIds: [RS] }, env: { ROTATION_TAG: 'rotation=enabled' } });

      expect(run.report?.results).toMatchObject([{ instanceId: RS, outcome: 'rotated' }]);
      expect(cloud.truth.requests.map((r) => r.action)).not.toContain('DescribeDBInstances');
    });
  });
});
