/**
 * How values reach a message or a log line: a value from input or from a service's answer quoted with JSON's
 * escapes (so that no control character can break a line) and capped, or named by its kind; a failed call as
 * the fields a log line gives it. The one formatting module of the functions.
 */
import type { ServiceError } from './clients/errors';
import type { LogFields } from './logger';

const SHOWN_VALUE_LIMIT = 80;

/** A value as an error message may show it: JSON-quoted (control characters escaped) and capped. */
export function showValue(value: string): string {
  const capped = value.length > SHOWN_VALUE_LIMIT ? `${value.slice(0, SHOWN_VALUE_LIMIT)}…` : value;
  return JSON.stringify(capped);
}

/** A value from a service's answer, as a message may show it; `absent` when there is none. */
export const shown = (value: unknown, absent = 'unknown'): string => (value === undefined || value === null || value === '' ? absent : showValue(String(value)));

/** A value a check refused, as its message names it: a string quoted, anything else by its kind ("a number"). */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  return typeof value === 'string' ? showValue(value) : kindOf(value);
}

/** A JSON value's kind, with its article: "an array", "a number", "null". */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** What a log line says of a failed call. */
export function briefError(error: ServiceError): LogFields {
  return { code: error.code, message: error.message, requestId: error.requestId };
}
