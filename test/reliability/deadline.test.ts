/**
 * The deadline (issue: a short function timeout with a slow or throttled API): the function stops
 * retrying before FC would kill it, logs its report, fails the target with ACSPending kept, and the
 * next run resumes. Through the local FC, whose timeout kills a run that outlasts it, with the real
 * bundle: a run FC had to kill would be recorded as `timeout`, not `failed`.
 */
import { builtDist } from '../helpers/built';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Bundle, type Invocation, Rig, prebuiltBundle, leaksIn, outcomeOf, runTexts } from '../../scripts/faults/rig';
import { type SeededTarget, fixtureOf, seedTarget } from '../../scripts/faults/seed';
import { guardInvariant } from '../helpers/cloud';

/** FC's timeout: the function keeps 2 s of it for its work, the rest to report. */
const SHORT = { name: 'rotation-4s', timeoutSeconds: 4 };
const timer = (day: number) => ({ triggerTime: `2026-12-${String(day).padStart(2, '0')}T03:00:00Z`, triggerName: 'daily', payload: '' });

describe('a short function timeout with a slow or throttled API', () => {
  let bundle: Bundle;
  let rig: Rig | undefined;
  let target: SeededTarget;

  beforeAll(async () => {
    bundle = prebuiltBundle(builtDist());
  }, 60_000);
  afterAll(() => bundle?.remove());

  afterEach(async () => {
    if (!rig) return;
    try {
      const texts = rig.cloud.fc.invocations.flatMap(runTexts);
      expect(leaksIn(texts, rig.cloud.truth.passwordsSeen())).toBe(0);
    } finally {
      await rig.close();
      rig = undefined;
    }
  });

  const start = async (topology: 'replicate' | 'sharding') => {
    target = seedTarget('deadline', 1, topology);
    rig = await Rig.start({ bundle, fixture: fixtureOf([target]), targets: [target], functions: [SHORT] });
    guardInvariant(rig.cloud);
    return rig;
  };

  /** The run ended by itself (FC did not kill it), failed the target, and logged the report saying so. */
  const expectFailedInTime = (invocation: Invocation) => {
    expect(invocation.record.status).toBe('failed');
    expect(invocation.record.error?.errorMessage).toContain(`${target.instanceId} (`);
    expect(outcomeOf(invocation, target.instanceId)).toBe('failed');
    const logged = invocation.record.logs.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    expect(logged.at(-1)).toMatchObject({ level: 'error', msg: 'rotation finished with failures', summary: { failed: 1 } });
  };

  /** ACSPending holds the password this run staged; ACSCurrent and the database still agree on the old one. */
  const expectPendingKept = (rig: Rig) => {
    const pending = rig.cloud.truth.secretPassword(target.secretName, 'ACSPending');
    expect(pending).toBeDefined();
    expect(rig.cloud.truth.secretPassword(target.secretName, 'ACSCurrent')).toBe(target.initialPassword);
    return pending!;
  };

  /** The next day's timer resumes, on the same warm instance (whose clients must not keep the throttled run's cut rate). */
  const expectResumed = async (rig: Rig, pending: string, first: Invocation) => {
    const next = await rig.invoke(SHORT.name, timer(2));
    expect(next.record).toMatchObject({ instanceId: first.record.instanceId, coldStart: false });
    expect(next.record.status).toBe('succeeded');
    expect(outcomeOf(next, target.instanceId)).toBe('resumed');
    expect(rig.cloud.truth.secretPassword(target.secretName, 'ACSCurrent')).toBe(pending);
    expect(rig.cloud.truth.secretPassword(target.secretName, 'ACSPending')).toBeUndefined();
    for (const held of Object.values(rig.cloud.truth.rootPasswords(target.instanceId))) expect(held).toBe(pending);
  };

  it('stops retrying a throttled reset before FC kills it, keeps ACSPending, and the next run resumes', async () => {
    const rig = await start('sharding');
    const throttled = rig.cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'Throttling.User', times: Infinity });

    const first = await rig.invoke(SHORT.name, timer(1));
    expectFailedInTime(first);
    expect(throttled.hits).toBeGreaterThan(1);
    // The last try is refused, or finds no time left (before it is sent, or while it waits for the answer).
    expect(first.report?.results[0].error?.code).toMatch(/^(Throttling\.User|DeadlineExceeded|RequestTimeout)$/);
    const pending = expectPendingKept(rig);
    expect(rig.cloud.truth.rootPasswords(target.instanceId)).toEqual({ db: target.initialPassword, cs: target.initialPassword });

    throttled.remove();
    await expectResumed(rig, pending, first);
  });

  it('gives up on a slow API (every DDS call 700 ms) before FC kills it, and the next run resumes', async () => {
    const rig = await start('sharding');
    // Inspect, two resets and the settle poll cannot fit in the 2 s the function keeps for its work.
    const slow = rig.cloud.faults.latency({ product: 'dds', ms: 700 });

    const first = await rig.invoke(SHORT.name, timer(1));
    expectFailedInTime(first);
    expect(first.report?.results[0].error?.code).toMatch(/^(RequestTimeout|DeadlineExceeded)$/);
    slow.remove();
    await rig.cloud.faults.settled(); // a reset the function gave up on may still land
    const pending = expectPendingKept(rig);

    await expectResumed(rig, pending, first);
  });
});
