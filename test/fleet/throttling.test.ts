/**
 * A fleet rotated while the local cloud's flow control turns calls away (Throttling.User for DDS,
 * Rejected.Throttling for KMS): every worker of the invocation shares one rate per product, which backs
 * off on the first throttling answer, so the run slows down together and no target fails.
 */
import { describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { useCloudPerTest } from '../helpers/cloud';
import { generateFleet } from '../../scripts/bench/fleet';
import { type RotationRun, findLeaks, rotationEnv, runRotation, runTexts } from '../helpers/rotate';

describe('rotating a fleet at the APIs’ rate limits', () => {
  const startCloud = useCloudPerTest();

  async function rotateFleet(env: Record<string, string>, limits: { dds: number; kms: number }, size = 8) {
    const fleet = generateFleet({ instances: size, shardedRatio: 0.25 });
    const cloud = await startCloud({ fixture: fleet.fixture });
    cloud.faults.throttle({ product: 'dds', qps: limits.dds });
    cloud.faults.throttle({ product: 'kms', qps: limits.kms });
    const run = await runRotation(cloud, { env: rotationEnv(cloud, [], { ROTATION_TAG: 'rotation=enabled', ROTATION_TARGETS: undefined, MAX_CONCURRENCY: '8', ...env }) });
    expect(findLeaks(runTexts(run), cloud.truth.passwordsSeen())).toEqual([]);
    return { fleet, run, current: cloud };
  }

  const finished = (run: RotationRun) => run.logs.find((e) => e.msg === 'rotation finished')[0] as { apiRates: Record<'dds' | 'kms', { qps: number; throttled: number; cuts: number }> };
  const throttledAnswers = (current: LocalCloud) => current.truth.requests.filter((r) => r.code === 'Throttling.User' || r.code === 'Rejected.Throttling');

  it('backs off from a configured rate the APIs do not grant, and rotates every target', async () => {
    const { fleet, run, current } = await rotateFleet({ DDS_QPS: '200', KMS_QPS: '400' }, { dds: 10, kms: 20 });

    expect(run.error).toBeUndefined();
    expect(run.report?.summary).toMatchObject({ rotated: fleet.instances.length, failed: 0 });
    for (const { id, secretName } of fleet.instances) {
      expect(current.truth.secretPassword(secretName)).toBe(current.truth.rootPassword(id));
      expect(current.truth.secretPassword(secretName, 'ACSPending')).toBeUndefined();
    }
    const throttled = throttledAnswers(current);
    expect(throttled.length).toBeGreaterThan(0);
    const { dds, kms } = finished(run).apiRates;
    expect(dds.cuts).toBeGreaterThan(0);
    expect(dds.qps).toBeLessThan(200);
    expect(dds.throttled + kms.throttled).toBe(throttled.length);
    // Shared back-off: far fewer throttling answers than calls (eight workers each retrying on their
    // own would meet one nearly every time the bucket is empty).
    const answered = current.truth.requests.length - throttled.length;
    expect(throttled.length).toBeLessThan(answered / 2);
    expect(run.report?.results.reduce((sum, r) => sum + r.attempts - 1, 0)).toBe(throttled.length);
  });

  it('finds the rate by itself when none is configured', async () => {
    const { fleet, run, current } = await rotateFleet({}, { dds: 15, kms: 25 });

    expect(run.report?.summary).toMatchObject({ rotated: fleet.instances.length, failed: 0 });
    const throttled = throttledAnswers(current);
    expect(throttled.length).toBeLessThan((current.truth.requests.length - throttled.length) / 2);
  });

  it('keeps to a configured rate the APIs grant: nothing is throttled', async () => {
    const { fleet, run, current } = await rotateFleet({ DDS_QPS: '30', KMS_QPS: '40' }, { dds: 30, kms: 40 });

    expect(run.report?.summary).toMatchObject({ rotated: fleet.instances.length, failed: 0 });
    expect(throttledAnswers(current)).toEqual([]);
    expect(finished(run).apiRates).toMatchObject({ dds: { qps: 30, cuts: 0 }, kms: { qps: 40, cuts: 0 } });
  });
});
