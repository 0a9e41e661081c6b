/**
 * The benchmark's lower bound (scripts/bench/bound.ts), checked on small fleets against figures worked out
 * by hand from the README's formula: bound = discovery pages × L + the largest of (DDS calls − burst) / DDS qps
 * + 4 × L, (KMS calls − burst) / KMS qps + L, one rotation's calls × L, and all calls × L / concurrency. A change
 * to the formula or to the calls it counts moves one of these numbers, so the `ratio:` the README quotes cannot
 * be flattered unnoticed.
 */
import { describe, expect, it } from 'vitest';
import { lowerBound, minimumCalls } from '../../scripts/bench/bound';
import type { BenchOptions } from '../../scripts/bench/options';

const options = (overrides: Partial<BenchOptions>): BenchOptions => ({
  instances: 0,
  shardedRatio: 0,
  latencyMs: 20,
  ddsQps: 20,
  kmsQps: 50,
  concurrency: 16,
  mode: 'inline',
  unknownRates: false,
  ...overrides,
});

/** Seconds compared to the hundredth of a millisecond: the hand figures are exact decimals. */
const close = (value: number) => expect.closeTo(value, 5);

describe('the lower bound of a fleet rotation', () => {
  it('counts the calls of one rotation: 2 + 6 for a replica set, 3 + 6 for a sharded cluster, one DDS call more fanned out', () => {
    expect(minimumCalls('replicate', 'inline')).toEqual({ dds: 2, kms: 6 });
    expect(minimumCalls('sharding', 'inline')).toEqual({ dds: 3, kms: 6 });
    expect(minimumCalls('replicate', 'fanout')).toEqual({ dds: 3, kms: 6 });
    expect(minimumCalls('sharding', 'fanout')).toEqual({ dds: 4, kms: 6 });
  });

  it('10 instances (8 replica sets, 2 sharded) at 20 ms: the README row, 0.26 s, bound by KMS', () => {
    // DDS 8×2 + 2×3 = 22 calls, KMS 10×6 = 60; one rotation at most 9 calls; 8×8 + 2×9 = 82 calls in all; 2 pages.
    const bound = lowerBound(options({ instances: 10 }), { replicaSets: 8, sharded: 2 });
    expect(bound.terms).toEqual({
      discovery: close(2 * 0.02),
      dds: close((22 - 20) / 20 + 4 * 0.02), // 0.18
      kms: close((60 - 50) / 50 + 0.02), // 0.22
      path: close(9 * 0.02), // 0.18
      concurrency: close((82 * 0.02) / 16), // 0.1025
    });
    expect(bound.seconds).toEqual(close(0.26));
  });

  it('100 instances (80 + 20) at 20 ms: the README row, 11.06 s, bound by KMS', () => {
    // DDS 80×2 + 20×3 = 220, KMS 600; 80×8 + 20×9 = 820 calls in all.
    const bound = lowerBound(options({ instances: 100 }), { replicaSets: 80, sharded: 20 });
    expect(bound.terms).toEqual({
      discovery: close(0.04),
      dds: close(200 / 20 + 0.08), // 10.08
      kms: close(550 / 50 + 0.02), // 11.02
      path: close(0.18),
      concurrency: close((820 * 0.02) / 16), // 1.025
    });
    expect(bound.seconds).toEqual(close(11.06));
  });

  it('fanned out, 3 replica sets at 100 ms, 1 DDS and 2 KMS calls a second: 8.60 s, a burst of at least one call', () => {
    // DDS 3×3 = 9 calls, burst max(1, 1) = 1; KMS 3×6 = 18, burst 2; 3×9 = 27 calls in all over 2 instances.
    const bound = lowerBound(options({ latencyMs: 100, ddsQps: 1, kmsQps: 2, concurrency: 2, mode: 'fanout' }), { replicaSets: 3, sharded: 0 });
    expect(bound.terms).toEqual({
      discovery: close(0.2),
      dds: close(8 / 1 + 0.4), // 8.4
      kms: close(16 / 2 + 0.1), // 8.1
      path: close(0.9), // no sharded cluster: the longest rotation is a replica set's 9 calls
      concurrency: close((27 * 0.1) / 2), // 1.35
    });
    expect(bound.seconds).toEqual(close(8.6));
    // A rate below one call a second still admits one call at once.
    expect(lowerBound(options({ ddsQps: 0.5, kmsQps: 100 }), { replicaSets: 1, sharded: 0 }).terms.dds).toEqual(close((2 - 1) / 0.5 + 0.08));
  });

  it('one worker, fast rates: the calls one after another bound it (0.95 s)', () => {
    // 8 + 9 = 17 calls × 50 ms on one worker; every call fits in the bursts.
    const bound = lowerBound(options({ latencyMs: 50, ddsQps: 100, kmsQps: 100, concurrency: 1 }), { replicaSets: 1, sharded: 1 });
    expect(bound.terms).toEqual({ discovery: close(0.1), dds: close(0.2), kms: close(0.05), path: close(0.45), concurrency: close(0.85) });
    expect(bound.seconds).toEqual(close(0.95));
  });

  it('lists a page of DescribeDBInstances per 100 instances of each type, and one for a type with none', () => {
    const pages = (replicaSets: number, sharded: number) => lowerBound(options({ latencyMs: 1000 }), { replicaSets, sharded }).terms.discovery;
    expect(pages(1, 0)).toEqual(close(2));
    expect(pages(100, 100)).toEqual(close(2));
    expect(pages(250, 0)).toEqual(close(4));
    expect(pages(101, 201)).toEqual(close(5));
  });

  it('explains itself with the fleet’s numbers', () => {
    const bound = lowerBound(options({ instances: 10 }), { replicaSets: 8, sharded: 2 });
    expect(bound.explained[0]).toContain('= 0.26 s');
    expect(bound.explained.join('\n')).toContain('(22 calls − burst 20) / 20 qps');
    expect(bound.explained.join('\n')).toContain('82 calls × L spread over 16 workers');
  });
});
