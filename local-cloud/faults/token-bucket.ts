/**
 * Admits on average `qps` requests a second. The bucket holds at most one second's worth of
 * tokens (at least one), so a burst of up to `qps` requests passes at once, like a flow control
 * counting per second, while the long-run rate stays exactly `qps`.
 */
export class TokenBucket {
  private readonly capacity: number;
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly qps: number,
    now = Date.now(),
  ) {
    this.capacity = Math.max(1, qps);
    this.tokens = this.capacity;
    this.refilledAt = now;
  }

  tryTake(now = Date.now()): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) / 1000) * this.qps);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
