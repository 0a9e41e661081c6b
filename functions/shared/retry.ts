import { OWN_CODES } from './codes';
import { type ServiceError, toServiceError } from './clients/errors';
import { OperationError } from './errors';

/** FC 3.0's default function timeout, used when the context does not say. */
const DEFAULT_TIMEOUT_SECONDS = 60;
const MIN_SAFETY_MARGIN_MS = 3_000;
const SAFETY_MARGIN_SHARE = 0.1;

/**
 * When the work of an invocation must stop: the function's timeout less a safety margin (10%, at least
 * 3 s, at most half the budget), so that the report is logged before FC kills the function.
 */
export class Deadline {
  constructor(
    readonly at: number,
    private readonly now: () => number = Date.now,
  ) {}

  static forInvocation(timeoutSeconds: number | undefined, startedAt: number, now: () => number = Date.now): Deadline {
    const budget = (timeoutSeconds && timeoutSeconds > 0 ? timeoutSeconds : DEFAULT_TIMEOUT_SECONDS) * 1000;
    const margin = Math.min(Math.max(MIN_SAFETY_MARGIN_MS, budget * SAFETY_MARGIN_SHARE), budget / 2);
    return new Deadline(startedAt + budget - margin, now);
  }

  remainingMs(): number {
    return Math.max(0, this.at - this.now());
  }

  expired(): boolean {
    return this.remainingMs() === 0;
  }

  /** Throws DeadlineExceeded when no time is left for `what`. */
  ensure(what: string): void {
    if (this.expired()) throw OperationError.of(OWN_CODES.deadlineExceeded, `no time left in this invocation to ${what}`, true);
  }
}

export interface RetryOptions {
  deadline: Deadline;
  /** First backoff ceiling; doubles per retry up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Default: the service error's own classification. */
  retryable?: (error: ServiceError) => boolean;
  onRetry?: (error: ServiceError, retry: number, delayMs: number) => void;
  random?: () => number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `call` until it succeeds, retrying what can succeed later with exponential backoff and full jitter
 * (a delay drawn uniformly from 0 to min(max, base·2^n)). Gives up, rethrowing the last error, on an error
 * that cannot succeed later or when the next try would start past the deadline.
 */
export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { deadline, baseDelayMs = 200, maxDelayMs = 5_000, random = Math.random } = options;
  const retryable = options.retryable ?? ((error: ServiceError) => error.retryable);
  for (let retry = 0; ; retry++) {
    deadline.ensure('make the call');
    try {
      return await call();
    } catch (err) {
      const error = toServiceError(err);
      const delay = Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** retry));
      if (!retryable(error) || delay >= deadline.remainingMs()) throw err;
      options.onRetry?.(error, retry + 1, delay);
      await sleep(delay);
    }
  }
}
