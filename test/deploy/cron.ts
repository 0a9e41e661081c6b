/**
 * Checks a Function Compute timer cron expression: six fields (second minute hour
 * day-of-month month day-of-week), each a list of `*`, values, ranges and steps; `?` alone in
 * the day fields; month and weekday names; an optional `CRON_TZ=<zone> ` prefix.
 * Returns the problems found (none for a valid expression).
 */

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
  question?: boolean;
}

const FIELDS: Field[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day-of-week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], question: true },
];

export function cronProblems(expression: string): string[] {
  const { zone, rest } = splitTimeZone(expression);
  const problems: string[] = [];
  if (zone !== undefined && !isTimeZone(zone)) problems.push(`unknown time zone ${zone}`);
  const parts = rest.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) {
    return [...problems, `expected ${FIELDS.length} fields (second minute hour day-of-month month day-of-week), got ${parts.length}`];
  }
  FIELDS.forEach((field, i) => problems.push(...fieldProblems(field, parts[i])));
  return problems;
}

function splitTimeZone(expression: string): { zone?: string; rest: string } {
  const match = /^CRON_TZ=(\S+)\s+(.*)$/.exec(expression.trim());
  return match ? { zone: match[1], rest: match[2] } : { rest: expression };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function fieldProblems(field: Field, text: string): string[] {
  if (text === '?') return field.question ? [] : [`${field.name}: "?" is only allowed in the day fields`];
  return text.split(',').flatMap((item) => itemProblems(field, item));
}

function itemProblems(field: Field, item: string): string[] {
  const [range, step, ...extra] = item.split('/');
  const where = `${field.name} "${item}"`;
  if (extra.length > 0) return [`${where}: more than one step`];
  if (step !== undefined && !/^[1-9]\d*$/.test(step)) return [`${where}: the step must be a positive integer`];
  if (range === '*') return [];
  const bounds = range.split('-');
  if (bounds.length > 2) return [`${where}: a range has two ends`];
  const values = bounds.map((b) => value(field, b));
  if (values.some((v) => v === undefined)) {
    return [`${where}: values must be ${field.min}-${field.max}${field.names ? ' or a name' : ''}`];
  }
  if (values.length === 2 && values[0]! > values[1]!) return [`${where}: the range runs backwards`];
  return [];
}

function value(field: Field, text: string): number | undefined {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return field.min + named;
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= field.min && n <= field.max ? n : undefined;
}
