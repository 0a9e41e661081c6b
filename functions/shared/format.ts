/**
 * How values from input or from a service's answer appear in a message or a log line: quoted with JSON's
 * escapes (so no control character can break a line) and capped, or named by their kind.
 */
import { showValue } from './config';

export { showValue };

/** A value from a service's answer, as a message may show it; `unknown` when absent. */
export const shown = (value: unknown): string => (value === undefined || value === null ? 'unknown' : showValue(String(value)));
