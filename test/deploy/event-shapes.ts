/**
 * The three event shapes the handler accepts (docs/design.md §4), as checks that return the problems
 * found, plus the subset of EventBridge's pattern language the triggers use.
 */

type Json = Record<string, unknown>;

const MANUAL_FIELDS: Record<string, (v: unknown) => boolean> = {
  instanceIds: (v) => Array.isArray(v) && v.length > 0 && v.every((id) => typeof id === 'string' && /^dds-[a-z0-9]+$/.test(id)),
  force: (v) => typeof v === 'boolean',
  dryRun: (v) => typeof v === 'boolean',
  rotationId: (v) => typeof v === 'string' && v.length > 0,
  reason: (v) => typeof v === 'string' && v.length > 0,
  ignoreCooldown: (v) => typeof v === 'boolean',
};

export function manualEventProblems(event: unknown): string[] {
  if (!isObject(event)) return ['a manual event is a JSON object'];
  return Object.entries(event).flatMap(([key, value]) => {
    const check = MANUAL_FIELDS[key];
    if (!check) return [`unexpected field "${key}" (allowed: ${Object.keys(MANUAL_FIELDS).join(', ')})`];
    return check(value) ? [] : [`field "${key}" has the wrong type or value`];
  });
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function isTimestamp(value: unknown): boolean {
  return typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

export function timerEventProblems(event: unknown): string[] {
  if (!isObject(event)) return ['a timer event is a JSON object'];
  const problems = Object.keys(event)
    .filter((key) => !['triggerTime', 'triggerName', 'payload'].includes(key))
    .map((key) => `unexpected field "${key}"`);
  if (!isTimestamp(event.triggerTime)) problems.push('triggerTime must be an ISO 8601 UTC time');
  if (typeof event.triggerName !== 'string' || event.triggerName === '') problems.push('triggerName must be a non-empty string');
  if (typeof event.payload !== 'string') problems.push('payload must be a string (FC delivers it as text)');
  return problems;
}

/** CloudEvents 1.0: required context attributes, and `time` in RFC 3339 when present. */
export function cloudEventProblems(event: unknown): string[] {
  if (!isObject(event)) return ['a CloudEvent is a JSON object'];
  const problems: string[] = [];
  if (event.specversion !== '1.0') problems.push('specversion must be "1.0"');
  for (const attribute of ['id', 'source', 'type']) {
    if (typeof event[attribute] !== 'string' || event[attribute] === '') problems.push(`${attribute} must be a non-empty string`);
  }
  if ('time' in event && !isTimestamp(event.time)) problems.push('time must be an RFC 3339 timestamp');
  if (!isObject(event.data)) problems.push('data must be an object');
  return problems;
}

/** Where the handler looks for instance ids in an event's data (docs/design.md §4). */
export function instanceIdsOf(event: Json): string[] {
  const data = (isObject(event.data) ? event.data : {}) as Json;
  const requestParameters = (isObject(data.requestParameters) ? data.requestParameters : {}) as Json;
  const referenced = Object.values(isObject(data.referencedResources) ? data.referencedResources : {})
    .flat()
    .filter((id) => typeof id === 'string' && id.startsWith('dds-'));
  const candidates = [data.instanceIds, data.instanceId, referenced, requestParameters.DBInstanceId, data.resourceName].flat();
  return candidates.filter((id): id is string => typeof id === 'string');
}

/**
 * EventBridge matching for the pattern forms s.yaml uses: a list matches one of its exact values,
 * or `{"exists": false}` an absent field (`true` a present one); an object matches nested fields;
 * every field of the pattern must match. Any other operator is an error.
 */
export function matchesPattern(pattern: Json, event: Json): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = event[field];
    if (Array.isArray(expected)) return expected.some((value) => matchesValue(value, field, actual, field in event));
    return isObject(expected) && isObject(actual) && matchesPattern(expected, actual);
  });
}

function matchesValue(expected: unknown, field: string, actual: unknown, present: boolean): boolean {
  if (!isObject(expected)) return present && expected === actual;
  if (Object.keys(expected).join() === 'exists' && typeof expected.exists === 'boolean') return expected.exists === present;
  throw new Error(`pattern operator ${JSON.stringify(expected)} in "${field}" is not supported by this checker`);
}

/** Every `source` a pattern accepts. */
export function patternSources(pattern: Json): string[] {
  const sources = pattern.source;
  if (!Array.isArray(sources) || !sources.every((s) => typeof s === 'string')) {
    throw new Error('an EventBridge trigger pattern must list its sources');
  }
  return sources;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
