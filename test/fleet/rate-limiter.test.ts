/**
 * The shared rate on its own, on vitest's fake clock (Date.now and timers): how many calls it lets through
 * when, how one throttling answer slows every caller, and how it recovers. The suites over HTTP
 * (throttling.test.ts) show the same against the local cloud's flow control.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { paced } from '../../functions/shared/clients/limited';
import { RateLimiter } from '../../functions/shared/rate/limiter';

class Throttled extends Error {}
const isThrottled = (error: unknown) => error instanceof Throttled;
const ok = () => Promise.resolve('ok');
const throttledCall = () => Promise.reject(new Throttled('Throttling.User'));

/** Starts `count` calls at once; returns how many have been sent after each of `checkpointsMs`. */
async function sentOver(limiter: RateLimiter, count: number, checkpointsMs: number[], call = ok): Promise<number[]> {
  let sent = 0;
  const calls = Array.from({ length: count }, () => limiter.run(() => (sent++, call()), isThrottled).catch(() => undefined));
  const seen: number[] = [];
  let elapsed = 0;
  for (const at of checkpointsMs) {
    await vi.advanceTimersByTimeAsync(at - elapsed);
    elapsed = at;
    seen.push(sent);
  }
  await vi.runAllTimersAsync();
  await Promise.all(calls);
  return seen;
}

describe('the shared API rate', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets half a second’s worth through at once, then one call every 1/qps seconds, in the order asked', async () => {
    const limiter = new RateLimiter({ qps: 10 });
    const order: number[] = [];
    const calls = Array.from({ length: 15 }, (_, i) => limiter.run(async () => order.push(i), isThrottled));
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(250);
    expect(order).toHaveLength(7);
    await vi.advanceTimersByTimeAsync(750);
    expect(order).toHaveLength(15);
    await Promise.all(calls);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(limiter.stats()).toMatchObject({ qps: 10, calls: 15, throttled: 0, cuts: 0 });
  });

  it('halves the rate once for a burst of throttling answers, and holds every caller back', async () => {
    const limiter = new RateLimiter({ qps: 40 });
    // 20 calls sent at once are all throttled: one cut (they were granted under the same rate), not twenty.
    await sentOver(limiter, 20, [0], throttledCall);
    expect(limiter.stats()).toMatchObject({ qps: 20, throttled: 20, cuts: 1 });
    // The bucket was emptied: the next calls wait for the new rate's tokens, one every 50 ms.
    expect(await sentOver(limiter, 5, [0, 100, 150, 1000])).toEqual([0, 2, 3, 5]);
  });

  it('cuts again for a throttling answer to a call granted under the lower rate, down to the floor', async () => {
    const limiter = new RateLimiter({ qps: 8, minQps: 2 });
    for (const expected of [4, 2, 2]) {
      await sentOver(limiter, 1, [0], throttledCall);
      expect(limiter.stats().qps).toBe(expected);
    }
  });

  it('recovers additively while callers wait for it, up to the configured rate and no further', async () => {
    const limiter = new RateLimiter({ qps: 20 });
    await sentOver(limiter, 1, [0], throttledCall);
    expect(limiter.stats().qps).toBe(10);
    await sentOver(limiter, 100, [5_000]);
    const recovering = limiter.stats().qps;
    expect(recovering).toBeGreaterThan(12);
    expect(recovering).toBeLessThan(20);
    await sentOver(limiter, 400, [30_000]);
    expect(limiter.stats().qps).toBe(20);
  });

  it('does not speed up for callers that never had to wait', async () => {
    const limiter = new RateLimiter({ qps: 5, maxQps: Infinity });
    for (let second = 0; second < 5; second++) await sentOver(limiter, 2, [1_000]);
    expect(limiter.stats().qps).toBe(5);
  });

  it('without a configured rate, speeds up exponentially while callers wait, until the first throttling answer', async () => {
    const limiter = new RateLimiter({ qps: 10, maxQps: Infinity });
    await sentOver(limiter, 150, [3_000]);
    const probed = limiter.stats().qps;
    expect(probed).toBeGreaterThanOrEqual(40);
    await sentOver(limiter, 1, [0], throttledCall);
    expect(limiter.stats()).toMatchObject({ qps: probed / 2, cuts: 1 });
    // After a cut, only additive recovery: about +1 call a second per second.
    await sentOver(limiter, 2 * probed, [2_000]);
    expect(limiter.stats().qps).toBeLessThan(probed / 2 + 4);
  });

  it('counts an answer that is not throttling as admitted', async () => {
    const limiter = new RateLimiter({ qps: 2 });
    await expect(limiter.run(() => Promise.reject(new Error('InvalidParameter')), isThrottled)).rejects.toThrow('InvalidParameter');
    expect(limiter.stats()).toMatchObject({ calls: 1, throttled: 0, cuts: 0 });
  });
});

describe('a call that waits for the shared rate', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('has its timeouts shortened by the wait, so that it still ends by the invocation deadline', async () => {
    const limiter = new RateLimiter({ qps: 2 });
    const runtimes = Array.from({ length: 3 }, () => ({ readTimeout: 3_000, connectTimeout: 3_000 }));
    const sentWith: number[] = [];
    const calls = runtimes.map((runtime) => paced(limiter, runtime, async () => void sentWith.push(runtime.readTimeout)));
    await vi.runAllTimersAsync();
    await Promise.all(calls);
    expect(sentWith[0]).toBe(3_000);
    expect(sentWith[2]).toBeLessThan(3_000);
    expect(runtimes[2].connectTimeout).toBe(sentWith[2]);
  });

  it('is not sent at all when the wait took all of its time', async () => {
    const limiter = new RateLimiter({ qps: 2 });
    const sent: number[] = [];
    const calls = [0, 1, 2].map((i) => paced(limiter, { readTimeout: 100, connectTimeout: 100 }, async () => void sent.push(i)));
    const outcomes = Promise.allSettled(calls);
    await vi.runAllTimersAsync();
    const [, , last] = await outcomes;
    expect(sent).not.toContain(2);
    expect(last).toMatchObject({ status: 'rejected', reason: { detail: { code: 'DeadlineExceeded', retryable: true } } });
  });
});
