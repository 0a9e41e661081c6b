/**
 * The one way the functions call a cloud API: the client's timeouts cut to the invocation's deadline,
 * what can succeed later retried with backoff (retry.ts), and each retry logged with the service's code
 * and RequestId.
 */
import type * as $dara from '@darabonba/typescript';
import { callOptions } from './clients';
import type { ServiceError } from './clients/errors';
import { briefError } from './format';
import type { LogFields, Logger } from './logger';
import { type Deadline, withRetry } from './retry';

export interface CallSettings {
  deadline: Deadline;
  log: Logger;
  /** Backoff of retried calls: the first ceiling, doubling up to the second. */
  backoff?: { baseMs: number; maxMs: number };
  /** Which failures are worth another try; default: the service error's own classification. */
  retryable?: (error: ServiceError) => boolean;
  /** Called once per retry, e.g. to count a target's attempts. */
  onRetry?: () => void;
  /** Added to each retry's log line. */
  fields?: LogFields;
}

export function callService<T>(action: string, send: (runtime: $dara.RuntimeOptions) => Promise<T>, settings: CallSettings): Promise<T> {
  const { deadline, log, backoff } = settings;
  return withRetry(() => send(callOptions(deadline)), {
    deadline,
    baseDelayMs: backoff?.baseMs,
    maxDelayMs: backoff?.maxMs,
    retryable: settings.retryable,
    onRetry: (error, retry, delayMs) => {
      settings.onRetry?.();
      log.warn(`retrying ${action}`, { ...settings.fields, action, retry, delayMs, error: briefError(error) });
    },
  });
}
