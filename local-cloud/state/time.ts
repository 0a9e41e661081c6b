/** Times as Alibaba's APIs print them: ISO 8601 in UTC, to the second (`2026-10-01T00:00:00Z`). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/;
const RELATIVE = /^([-+])(\d+)([smhd])$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Reads a fixture time: an ISO 8601 UTC time, or a time relative to `now` such as `-2d` or `+7d`
 * (units s, m, h, d), so that a static fixture can hold a secret that is "two days old" whenever it is loaded.
 * Returns undefined when the value is neither.
 */
export function parseFixtureTime(value: string, now: Date): string | undefined {
  const relative = RELATIVE.exec(value);
  if (relative) {
    const sign = relative[1] === '-' ? -1 : 1;
    return isoSeconds(new Date(now.getTime() + sign * Number(relative[2]) * UNIT_MS[relative[3]]));
  }
  if (ISO_UTC.test(value) && !Number.isNaN(Date.parse(value))) return isoSeconds(new Date(value));
  return undefined;
}
