/**
 * A cloud that lags (docs/design.md §3): KMS reads served from the state as it was up to 2 s earlier, and
 * resets that DDS accepts but that take effect later. Every guard of the protocol reads after it writes: a
 * guard that does not see its own write yet waits for it, within a bound, before it concludes anything else;
 * and with the login check on, nothing is promoted until the new password logs in.
 */
import { describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { type RotationRun, FAST_DELAYS, rotationEnv, runRotation } from '../helpers/rotate';
import { useSecrecyWatch } from '../helpers/secrecy';
import { fleet, secretName, target } from '../rotate/fixture';
import { describedAddress, login } from '../verify/cloud';

const RS = 'dds-rs0lagging001';
const SHARDED = 'dds-sh0lagging001';
const OLD: Record<string, string> = { [RS]: 'Old#Lag-Replica-Pw1', [SHARDED]: 'Old#Lag-Sharded-Pw1' };
/** Reads trail writes by up to 2 s; the run waits up to 10 s (the function's default) for its own writes. */
const LAGGING_DELAYS = { ...FAST_DELAYS, ownWriteWaitMs: 10_000 };
const TIMER = (day: number) => ({ triggerTime: `2026-11-${20 + day}T03:00:00Z`, triggerName: 'daily', payload: '' });
const VERIFY = { VERIFY_LOGIN: 'true', VERIFY_TIMEOUT_MS: '3000', VERIFY_WAIT_SECONDS: '30' };

describe('a cloud that lags', () => {
  const watch = useSecrecyWatch();

  async function start(options: { mongoPeers?: boolean; violationsAllowed?: string } = {}): Promise<LocalCloud> {
    const fixture = fleet(target(RS, { password: OLD[RS] }), target(SHARDED, { type: 'sharding', password: OLD[SHARDED] }));
    const optOut = options.violationsAllowed ? { violationsAllowed: options.violationsAllowed } : undefined;
    return watch.start({ fixture, mongoPeers: options.mongoPeers ?? false }, optOut);
  }

  async function rotate(cloud: LocalCloud, event: object, env: Record<string, string> = {}): Promise<RotationRun> {
    const targets = [RS, SHARDED].map((instanceId) => ({ instanceId, secretName: secretName(instanceId) }));
    const run = await runRotation(cloud, { env: rotationEnv(cloud, targets, env), event, options: { delays: LAGGING_DELAYS } });
    watch.recordRun(expect.getState().currentTestName ?? 'run', run);
    return run;
  }

  /** Every role holds ACSCurrent's password, nothing is pending, and exactly `added` versions were added. */
  function expectRotatedOnce(cloud: LocalCloud, instanceId: string, versionsBefore: number): void {
    const secret = cloud.truth.secret(secretName(instanceId))!;
    const current = cloud.truth.secretPassword(secretName(instanceId));
    for (const held of Object.values(cloud.truth.rootPasswords(instanceId))) expect(held).toBe(current);
    expect(current).not.toBe(OLD[instanceId]);
    expect(secret.versions.filter((v) => v.stages.includes('ACSPending'))).toEqual([]);
    expect(secret.versions).toHaveLength(versionsBefore + 1);
  }

  it('with KMS reads up to 2 s behind, every rotation completes in one run, with one new version and no take-over', async () => {
    const cloud = await start();
    const lag = cloud.faults.lag({ product: 'kms', ms: 2_000, jitterMs: 2_000 });
    const run = await rotate(cloud, TIMER(1));

    expect(lag.hits).toBeGreaterThan(0);
    expect(run.report?.results.map((r) => [r.instanceId, r.outcome, r.reason])).toEqual([
      [RS, 'rotated', undefined],
      [SHARDED, 'rotated', undefined],
    ]);
    expect(run.logs.find((e) => e.msg === 'a concurrent run staged another version; taking it over')).toEqual([]);
    expect(run.logs.find((e) => e.msg === "waiting for KMS to show this run's own write").length).toBeGreaterThan(0);
    for (const id of [RS, SHARDED]) expectRotatedOnce(cloud, id, 1);
    expect(cloud.truth.violations).toEqual([]);
  }, 60_000);

  it('the same trigger delivered again within the lag rotates once', async () => {
    const cloud = await start();
    cloud.faults.lag({ product: 'kms', ms: 2_000, jitterMs: 2_000 });
    const first = await rotate(cloud, TIMER(2));
    const again = await rotate(cloud, TIMER(2));

    expect(first.report?.summary).toMatchObject({ rotated: 2, failed: 0 });
    // The second delivery may see the first one's version still pending (a read from before its promote), and then
    // applies that same password once more: never a second new password, never a failure.
    for (const result of again.report!.results) expect(['skipped', 'resumed'], JSON.stringify(again.report!.results)).toContain(result.outcome);
    for (const id of [RS, SHARDED]) expectRotatedOnce(cloud, id, 1);
    expect(cloud.truth.violations).toEqual([]);
  }, 60_000);

  it('a delivery whose list trails the completed first one, so that it stages again, finds its version promoted and skips', async () => {
    const cloud = await start();
    let trailing = false;
    // From the second delivery on, every list shows the secret as it was before the first one staged anything.
    cloud.faults.lag({ product: 'kms', ms: 600_000, actions: ['ListSecretVersionIds'], when: () => trailing });
    const first = await rotate(cloud, TIMER(4));
    trailing = true;
    const again = await rotate(cloud, TIMER(4));

    expect(first.report?.summary).toMatchObject({ rotated: 2, failed: 0 });
    expect(again.report?.results.map((r) => [r.instanceId, r.outcome, r.reason])).toEqual([
      [RS, 'skipped', 'already rotated by this trigger'],
      [SHARDED, 'skipped', 'already rotated by this trigger'],
    ]);
    for (const id of [RS, SHARDED]) expectRotatedOnce(cloud, id, 1);
  }, 60_000);

  it.each([1_000, 10_000])('with the login check on, a reset that lands %i ms late is waited for: nothing is promoted before it logs in', async (ms) => {
    const cloud = await start({ mongoPeers: true });
    const late = cloud.faults.applyLate({ ms });
    const run = await rotate(cloud, TIMER(3), VERIFY);
    await cloud.faults.settled();

    expect(late.hits).toBeGreaterThan(0);
    expect(run.report?.summary).toMatchObject({ rotated: 2, failed: 0 });
    for (const id of [RS, SHARDED]) {
      expectRotatedOnce(cloud, id, 1);
      expect(await login(await describedAddress(cloud, id), cloud.truth.secretPassword(secretName(id))!)).toBe('ok');
    }
    expect(cloud.truth.violations).toEqual([]);
  }, 90_000);

  it('with the login check off and a late reset DDS shows no sign of, the password stays readable from KMS (as ACSPrevious) until it lands', async () => {
    const cloud = await start({ violationsAllowed: 'promoted before the late reset landed: the strict rule breaks until it does, the weaker one is asserted' });
    cloud.faults.applyLate({ ms: 1_500 });
    const run = await rotate(cloud, TIMER(4));

    expect(run.report?.summary).toMatchObject({ rotated: 2, failed: 0 });
    // The settle saw `Running` all along: ACSCurrent moved before the database took the password.
    expect(cloud.truth.violations.length).toBeGreaterThan(0);
    expect(cloud.truth.unreadable).toEqual([]);
    await cloud.faults.settled();
    for (const id of [RS, SHARDED]) expectRotatedOnce(cloud, id, 1);
  }, 60_000);

  it('with the login check off and a late reset DDS shows (a transitional status), the settle waits for it', async () => {
    const cloud = await start();
    cloud.faults.applyLate({ ms: 1_500, status: 'NodeRestarting' });
    const run = await rotate(cloud, TIMER(5));

    expect(run.report?.summary).toMatchObject({ rotated: 2, failed: 0 });
    expect(run.logs.find((e) => e.msg === 'waiting for the instance to be Running').length).toBeGreaterThan(0);
    for (const id of [RS, SHARDED]) expectRotatedOnce(cloud, id, 1);
    expect(cloud.truth.violations).toEqual([]);
  }, 60_000);
});
