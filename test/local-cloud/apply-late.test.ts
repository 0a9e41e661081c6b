import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud, StartOptions } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { LANDED_ACTION } from '../../local-cloud/faults/apply-late';
import { type KmsClient, ddsCall, kmsClient, kmsModels as $, sdkFailure } from '../helpers/sdk';
import { loginOutcome, useMongoClients } from '../helpers/mongo';

const RS = 'dds-bp1latetest00001';
const SH = 'dds-bp1latetest00002';
const RS_SECRET = `mongodb/${RS}/root`;
const SH_SECRET = `mongodb/${SH}/root`;
const START = 'Late#Start-Pass01';
const SH_START = 'Late#Start-Pass02';
const NEXT = 'Late#Next-Pass03';
const LATER = 'Late#Later-Pass04';
const data = (instanceId: string, password: string) => JSON.stringify({ AccountName: 'root', AccountPassword: password, DBInstanceId: instanceId });

function fixture(faults?: unknown[]) {
  return {
    region: 'cn-hangzhou',
    accessKeys: [{ id: 'LTAI5tLateTestKey01', secret: 'late-secret-01' }],
    instances: [
      { id: RS, type: 'replicate', rootPassword: START },
      { id: SH, type: 'sharding', rootPassword: SH_START },
    ],
    secrets: [
      { name: RS_SECRET, instanceId: RS, versions: [{ versionId: 'v1', data: data(RS, START), stages: ['ACSCurrent'], createTime: '-40d' }] },
      { name: SH_SECRET, instanceId: SH, versions: [{ versionId: 'v1', data: data(SH, SH_START), stages: ['ACSCurrent'], createTime: '-40d' }] },
    ],
    ...(faults && { faults }),
  };
}

const WRONG_PASSWORD = 18; // AuthenticationFailed

describe('the applyLate fault', () => {
  let cloud: LocalCloud | undefined;
  let kms: KmsClient;
  const connect = useMongoClients();
  const open = async (options: StartOptions & { faults?: unknown[] } = {}) => {
    const { faults, ...rest } = options;
    cloud = await startCloud({ port: 0, fixture: fixture(faults), ...rest }, { violationsAllowed: 'resets land late on purpose here, and the suite asserts the breaches the monitor records' });
    kms = kmsClient(cloud);
    return cloud;
  };
  afterEach(async () => {
    await cloud?.close();
    cloud = undefined;
  });

  const reset = async (c: LocalCloud, password: string, instanceId = RS, characterType?: string) =>
    (await ddsCall(c, 'ResetAccountPassword', { DBInstanceId: instanceId, AccountName: 'root', AccountPassword: password, CharacterType: characterType }))
      .RequestId as string;
  const status = async (c: LocalCloud, instanceId = RS) => {
    const body = await ddsCall(c, 'DescribeDBInstanceAttribute', { DBInstanceId: instanceId });
    return (body.DBInstances as { DBInstance: Array<{ DBInstanceStatus: string }> }).DBInstance[0].DBInstanceStatus;
  };
  const stagePending = (secretName: string, versionId: string, secretData: string) =>
    kms.putSecretValue(new $.PutSecretValueRequest({ secretName, versionId, secretData, versionStages: '["ACSPending"]' }));
  const promote = (secretName: string, versionId: string) =>
    kms.updateSecretVersionStage(new $.UpdateSecretVersionStageRequest({ secretName, versionStage: 'ACSCurrent', moveToVersion: versionId }));

  it('answers success at once, while the database keeps the old password until it lands; the instance stays Running', async () => {
    const c = await open();
    const late = c.faults.applyLate({ ms: 1_500 });
    const accepted = Date.now();
    const requestId = await reset(c, NEXT);
    expect(c.truth.rootPassword(RS)).toBe(START);
    expect(await status(c)).toBe('Running');
    expect(c.faults.pendingResets()).toEqual([{ requestId, instanceId: RS, role: 'normal', landsAt: expect.any(String) }]);
    expect(JSON.stringify(c.faults.pendingResets())).not.toContain(NEXT);
    expect(Date.now() - accepted).toBeLessThan(1_500);

    await c.faults.settled();
    expect(Date.now() - accepted).toBeGreaterThanOrEqual(1_490);
    expect(c.truth.rootPassword(RS)).toBe(NEXT);
    expect(c.faults.pendingResets()).toEqual([]);
    expect(late.hits).toBe(1);
    // This reset was not staged in KMS: its landing is a violation, attributed to the reset, not before it lands.
    expect(c.truth.violations).toEqual([
      expect.objectContaining({ secretName: RS_SECRET, instanceId: RS, role: 'normal', requestId, product: 'dds', action: LANDED_ACTION }),
    ]);
    expect(Date.parse(c.truth.violations[0].time) - accepted).toBeGreaterThanOrEqual(1_490);
  });

  it('shows a transitional status while the password is pending, refusing another reset meanwhile, then Running', async () => {
    const c = await open();
    await stagePending(RS_SECRET, 'v2', data(RS, NEXT));
    c.faults.applyLate({ ms: 2_000, status: 'Restarting' });
    await reset(c, NEXT);
    expect(await status(c)).toBe('Restarting');
    const refused = await sdkFailure(reset(c, LATER));
    expect(refused).toMatchObject({ code: 'IncorrectDBInstanceState', statusCode: 403 });
    expect(c.truth.rootPassword(RS)).toBe(START);
    await c.faults.settled();
    expect(await status(c)).toBe('Running');
    expect(c.truth.rootPassword(RS)).toBe(NEXT);
    expect(c.truth.violations).toEqual([]);
  });

  it('lands resets in the order DDS accepted them: an earlier late one never overwrites a later one', async () => {
    const c = await open();
    await stagePending(RS_SECRET, 'v2', data(RS, LATER));
    const late = c.faults.applyLate({ ms: 2_000, times: 1 });
    const first = await reset(c, NEXT); // lands late
    const second = await reset(c, LATER); // not late itself, but queued behind the first
    expect(late.hits).toBe(1);
    expect(c.truth.rootPassword(RS)).toBe(START);
    expect(c.faults.pendingResets().map((p) => p.requestId)).toEqual([first, second]);
    await c.faults.settled();
    expect(c.truth.rootPassword(RS)).toBe(LATER);
    // NEXT held for an instant as it landed (in no label: a violation of the first reset), then LATER, the pending one.
    expect(c.truth.violations.map((v) => [v.requestId, v.action])).toEqual([[first, LANDED_ACTION]]);
    // A reset after every landing applies at once again.
    await reset(c, LATER);
    expect(c.faults.pendingResets()).toEqual([]);
  });

  it('holds the monitor to the database: a label moved to a password that has not landed is a violation until it lands', async () => {
    const c = await open();
    c.faults.applyLate({ ms: 2_000 });
    await stagePending(RS_SECRET, 'v2', data(RS, NEXT));
    await reset(c, NEXT);
    expect(c.truth.violations).toEqual([]); // the old password is still ACSCurrent's
    const promoted = await promote(RS_SECRET, 'v2'); // too early: the database still holds START, now only ACSPrevious
    expect(c.truth.violations).toEqual([
      expect.objectContaining({ secretName: RS_SECRET, role: 'normal', requestId: promoted.requestId, action: 'UpdateSecretVersionStage' }),
    ]);
    await c.faults.settled();
    expect(c.truth.rootPassword(RS)).toBe(c.truth.secretPassword(RS_SECRET));
    expect(c.truth.violations).toHaveLength(1);
    // The breach closed as the password landed: a new drift is a new violation.
    c.truth.setRootPassword(RS, 'Late#Drift-Pass09');
    expect(c.truth.violations.map((v) => v.action)).toEqual(['UpdateSecretVersionStage', 'setRootPassword']);
  });

  it('keeps the invariant when the label waits for the landing (the staged password is pending throughout)', async () => {
    const c = await open();
    c.faults.applyLate({ ms: 500 });
    await stagePending(RS_SECRET, 'v2', data(RS, NEXT));
    await reset(c, NEXT);
    await c.faults.settled();
    expect(c.truth.rootPassword(RS)).toBe(NEXT);
    await promote(RS_SECRET, 'v2');
    expect(c.truth.violations).toEqual([]);
  });

  it('lets a MongoDB login with the new password only once it has landed', async () => {
    const c = await open({ mongoPeers: true });
    c.faults.applyLate({ ms: 3_000 });
    await stagePending(RS_SECRET, 'v2', data(RS, NEXT));
    const accepted = Date.now();
    await reset(c, NEXT);
    const login = (password: string) => loginOutcome(connect, c, RS, { user: 'root', password });
    expect(await login(NEXT)).toBe(WRONG_PASSWORD);
    expect(await login(START)).toBe('ok');
    expect(Date.now() - accepted).toBeLessThan(3_000);
    await c.faults.settled();
    expect(await login(NEXT)).toBe('ok');
    expect(await login(START)).toBe(WRONG_PASSWORD);
    expect(c.truth.violations).toEqual([]);
  });

  it('delays only the resets it selects: a sharded cluster whose config servers (the mongos login) land late', async () => {
    const c = await open({ mongoPeers: [SH] });
    c.faults.applyLate({ ms: 2_000, instanceId: SH, when: (params) => params.CharacterType === 'cs' });
    await stagePending(SH_SECRET, 'v2', data(SH, NEXT));
    await reset(c, NEXT, SH, 'db');
    await reset(c, NEXT, SH, 'cs');
    await reset(c, NEXT); // another instance: at once
    expect(c.truth.rootPasswords(SH)).toEqual({ db: NEXT, cs: SH_START });
    expect(c.truth.rootPassword(RS)).toBe(NEXT);
    expect(await loginOutcome(connect, c, SH, { user: 'root', password: SH_START })).toBe('ok');
    await c.faults.settled();
    expect(c.truth.rootPasswords(SH)).toEqual({ db: NEXT, cs: NEXT });
    expect(await loginOutcome(connect, c, SH, { user: 'root', password: NEXT })).toBe('ok');
    expect(c.truth.violations.map((v) => v.secretName)).toEqual([RS_SECRET]); // RS's reset was not staged
  });

  it('counts only accepted resets: a refused one is neither late nor counted', async () => {
    const c = await open();
    const late = c.faults.applyLate({ ms: 2_000, nth: 2 });
    const malformed = await sdkFailure(reset(c, 'short'));
    expect(malformed.code).toBe('InvalidAccountPassword.Malformed');
    await stagePending(RS_SECRET, 'v2', data(RS, NEXT));
    await reset(c, NEXT); // the 1st accepted: at once
    expect(c.truth.rootPassword(RS)).toBe(NEXT);
    await promote(RS_SECRET, 'v2');
    await stagePending(RS_SECRET, 'v3', data(RS, LATER));
    await reset(c, LATER); // the 2nd: late
    expect(c.truth.rootPassword(RS)).toBe(NEXT);
    expect(late.hits).toBe(1);
    await c.faults.settled();
    expect(c.truth.rootPassword(RS)).toBe(LATER);
    expect(c.truth.violations).toEqual([]);
  });

  it('lets accepted resets land after the fault is removed or cleared; closing the cloud drops them unlanded', async () => {
    const c = await open();
    await stagePending(RS_SECRET, 'v2', data(RS, NEXT));
    const late = c.faults.applyLate({ ms: 300, status: 'Restarting' });
    await reset(c, NEXT);
    late.remove();
    c.faults.clear();
    await c.faults.settled();
    expect(c.truth.rootPassword(RS)).toBe(NEXT);
    expect(await status(c)).toBe('Running');

    await promote(RS_SECRET, 'v2');
    await stagePending(RS_SECRET, 'v3', data(RS, LATER));
    c.faults.applyLate({ ms: 2_000 });
    await reset(c, LATER);
    await c.close();
    await sleep(2_100);
    expect(c.truth.rootPassword(RS)).toBe(NEXT);
    expect(c.faults.pendingResets()).toEqual([]);
    await c.faults.settled();
  });

  it('draws each reset its own lateness, from ms - jitterMs to ms', async () => {
    const c = await open();
    c.faults.applyLate({ ms: 1_000, jitterMs: 1_000, instanceId: SH });
    const accepted = Date.now();
    await reset(c, NEXT, SH, 'db');
    await reset(c, NEXT, SH, 'cs');
    const [db, cs] = c.faults.pendingResets().map((p) => Date.parse(p.landsAt) - accepted);
    expect(db).toBeGreaterThanOrEqual(0);
    expect(cs).toBeGreaterThanOrEqual(db); // in order, whatever was drawn
    expect(cs).toBeLessThanOrEqual(1_000 + (Date.now() - accepted));
    await c.close();
  });

  it('refuses a bad spec naming the field', async () => {
    const c = await open();
    expect(() => c.faults.applyLate({ ms: -5 })).toThrow(/applyLate: ms must be a number of at least 0/);
    expect(() => c.faults.applyLate({ ms: 100, jitterMs: 101 })).toThrow(/applyLate: jitterMs must be from 0 to ms \(100\)/);
    expect(() => c.faults.applyLate({ ms: 100, status: 'Running' })).toThrow(/status must name a transitional status such as "Restarting"/);
    expect(() => c.faults.applyLate({ ms: 100, nth: 0 })).toThrow(/nth must be a whole number/);
  });

  describe('from a fixture', () => {
    it('lands the resets of the instance named late, with its status', async () => {
      const c = await open({ faults: [{ kind: 'applyLate', ms: 2_000, instanceId: RS, status: 'Restarting' }] });
      await stagePending(RS_SECRET, 'v2', data(RS, NEXT));
      await reset(c, NEXT);
      expect(await status(c)).toBe('Restarting');
      expect(c.truth.rootPassword(RS)).toBe(START);
      await c.faults.settled();
      expect(c.truth.rootPassword(RS)).toBe(NEXT);
      expect(await status(c)).toBe('Running');
      expect(c.truth.violations).toEqual([]);
    });

    it('refuses a bad applyLate with every problem by its path', async () => {
      const bad = [
        { kind: 'applyLate', ms: 100, status: 'Running' },
        { kind: 'applyLate', ms: 100, jitterMs: 200 },
        { kind: 'applyLate', ms: 100, product: 'dds' },
        { kind: 'applyLate' },
      ];
      await expect(open({ faults: bad })).rejects.toThrow(
        /faults\[0\]: applyLate: status must name a transitional status[\s\S]*faults\[1\]: applyLate: jitterMs must be from 0 to ms[\s\S]*faults\[2\]\.product: unknown field for a applyLate fault[\s\S]*faults\[3\]\.ms: must be a number/,
      );
    });
  });
});
