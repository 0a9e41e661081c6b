/**
 * One product's API rate, shared by every call an invocation makes to it: a token bucket whose rate
 * adapts like TCP's congestion window (AIMD). Throttling cuts the rate in half and empties the bucket, so
 * every worker pauses at once instead of each hammering on its own; calls the limiter held back raise it
 * again, additively, up to the configured ceiling. Without a ceiling the rate is unknown: it starts low
 * and grows exponentially while callers wait for it (TCP's slow start) until the first throttling answer.
 *
 * The bucket holds half a second's worth of tokens (at least one): a burst passes at once, the long-run
 * rate stays `qps`, and a service whose flow control allows a second's worth keeps half of it in reserve
 * for calls that reach it bunched (a slow connection, a pause of the event loop).
 */

export interface RateLimiterOptions {
  /** Calls a second to start at; also the ceiling unless `maxQps` says otherwise. */
  qps: number;
  /** Never faster than this; `Infinity` probes upward until throttled. Default: `qps`. */
  maxQps?: number;
  /** Never slower than this, however often throttled. Default 1. */
  minQps?: number;
}

/** The right to send one call: which rate it was granted under, and whether it had to wait for it. */
export interface Permit {
  readonly epoch: number;
  readonly waited: boolean;
}

export interface RateStats {
  qps: number;
  calls: number;
  throttled: number;
  /** How often the rate was cut. */
  cuts: number;
}

interface Waiter {
  grant(permit: Permit): void;
}

const DECREASE_FACTOR = 0.5;
/** Once throttled, the rate grows by this many calls a second, every second callers wait for it. */
const RECOVERY_QPS_PER_SECOND = 1;
const BURST_SECONDS = 0.5;

export class RateLimiter {
  private qps: number;
  private readonly maxQps: number;
  private readonly minQps: number;
  private tokens: number;
  private refilledAt: number;
  /** Counts rate cuts: a throttling answer to a call granted before the latest cut does not cut again. */
  private epoch = 0;
  private slowStart: boolean;
  private readonly waiting: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private calls = 0;
  private throttledCalls = 0;

  constructor(options: RateLimiterOptions) {
    if (!(options.qps > 0)) throw new RangeError(`qps must be positive, got ${options.qps}`);
    this.maxQps = options.maxQps ?? options.qps;
    this.minQps = Math.min(options.minQps ?? 1, options.qps);
    this.qps = Math.min(options.qps, this.maxQps);
    this.slowStart = this.qps < this.maxQps;
    this.tokens = this.capacity();
    this.refilledAt = Date.now();
  }

  /** Sends `call` when the rate allows, and learns from its answer (`throttling` tells a throttled one). */
  async run<T>(call: () => Promise<T>, throttling: (error: unknown) => boolean): Promise<T> {
    const permit = await this.acquire();
    try {
      const result = await call();
      this.succeeded(permit);
      return result;
    } catch (error) {
      if (throttling(error)) this.throttled(permit);
      else this.succeeded(permit);
      throw error;
    }
  }

  /** Resolves when the call may be sent; callers are served in the order they asked. */
  private acquire(): Promise<Permit> {
    this.refill();
    if (this.waiting.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.calls++;
      return Promise.resolve({ epoch: this.epoch, waited: false });
    }
    return new Promise((grant) => {
      this.waiting.push({ grant });
      this.schedule();
    });
  }

  /** The call was answered without throttling: a call that had to wait raises the rate. */
  private succeeded(permit: Permit): void {
    if (!permit.waited || this.qps >= this.maxQps) return;
    // Per call: +1 grows the rate exponentially (slow start); +R/qps, at qps calls a second, adds R a second.
    this.qps = Math.min(this.maxQps, this.qps + (this.slowStart ? 1 : RECOVERY_QPS_PER_SECOND / this.qps));
  }

  /** The service throttled the call: halve the rate, once per cut, and hold everyone back. */
  private throttled(permit: Permit): void {
    this.throttledCalls++;
    if (permit.epoch !== this.epoch) return;
    this.refill();
    this.epoch++;
    this.slowStart = false;
    this.qps = Math.max(this.minQps, this.qps * DECREASE_FACTOR);
    this.tokens = Math.min(this.tokens, 0);
    this.reschedule();
  }

  stats(): RateStats {
    return { qps: Math.round(this.qps * 100) / 100, calls: this.calls, throttled: this.throttledCalls, cuts: this.epoch };
  }

  private capacity(): number {
    return Math.max(1, this.qps * BURST_SECONDS);
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.capacity(), this.tokens + ((now - this.refilledAt) / 1000) * this.qps);
    this.refilledAt = now;
  }

  /** Grants what the bucket holds, then sleeps until the next token. */
  private pump(): void {
    this.timer = undefined;
    this.refill();
    while (this.waiting.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.calls++;
      this.waiting.shift()!.grant({ epoch: this.epoch, waited: true });
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.waiting.length === 0) return;
    const ms = Math.max(1, Math.ceil(((1 - this.tokens) / this.qps) * 1000));
    this.timer = setTimeout(() => this.pump(), ms);
  }

  private reschedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule();
  }
}
