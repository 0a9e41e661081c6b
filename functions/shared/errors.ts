/**
 * One base for every error the functions raise (after Powertools' idempotency errors): a code from the
 * catalogue (codes.ts), a message written for an operator, and the error it came from as `cause`.
 * A message never quotes a password; before it reaches a log line, a report or a rejection it passes
 * sanitizeMessage (scrub.ts) all the same.
 */
import type { ServiceError } from './clients/errors';
import { OWN_CODES } from './codes';

export class RotationError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  // Each class names itself: a minified bundle renames classes, and FC reports `name` as the errorType.
  override readonly name: string = 'RotationError';
}

/** A failure our own code raises during a rotation (a locked instance, a deadline): carries its ServiceError as is. */
export class OperationError extends RotationError {
  override readonly name: string = 'OperationError';

  constructor(
    readonly detail: ServiceError,
    options?: { cause?: unknown },
  ) {
    super(detail.code, `${detail.code}: ${detail.message}`, options);
  }

  static of(code: string, message: string, retryable = false): OperationError {
    return new OperationError({ code, message, retryable });
  }
}

/** Refused before anything was read or written: the invocation is rejected (FC records it failed). */
export class RefusalError extends RotationError {
  override readonly name: string = 'RefusalError';
}

/** A configuration value that cannot be used: names the variable, the problem and a good example. */
export class ConfigError extends RefusalError {
  override readonly name: string = 'ConfigError';

  constructor(
    readonly variable: string,
    problem: string,
    example: string,
  ) {
    super(OWN_CODES.invalidConfiguration, `${variable} ${problem}; for example ${variable}=${example}`);
  }
}
