/** Timers the fault controls start, so that closing the cloud can end every one of them. */
export class TimerSet {
  private readonly pending = new Map<NodeJS.Timeout, () => void>();
  private sleepers = 0;
  private readonly idleWaiters: Array<() => void> = [];

  /** Resolves true after `ms`, or false at once if the set is cancelled first. */
  sleep(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(true);
    this.sleepers++;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve(true);
      }, ms);
      this.pending.set(timer, () => resolve(false));
    }).finally(() => this.sleeperDone());
  }

  /**
   * Resolves once no `sleep` is pending, one turn of the event loop after the last one ended, so
   * that what its caller does next without waiting on I/O has happened.
   */
  whenNoSleeper(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      if (this.sleepers === 0) this.releaseIdleWaiters();
    });
  }

  /** Runs `fn` after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.set(timer, () => undefined);
    return () => {
      clearTimeout(timer);
      this.pending.delete(timer);
    };
  }

  private sleeperDone(): void {
    this.sleepers--;
    if (this.sleepers === 0) this.releaseIdleWaiters();
  }

  private releaseIdleWaiters(): void {
    setImmediate(() => {
      if (this.sleepers > 0) return;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }

  cancelAll(): void {
    for (const [timer, onCancel] of this.pending) {
      clearTimeout(timer);
      onCancel();
    }
    this.pending.clear();
  }
}
