/**
 * What invoked the function, read from the event FC passes (a Buffer, a string or an object):
 * a timer trigger, a manual payload or an EventBridge CloudEvent (README, "Starting a rotation"). Anything
 * else, an event from a source not in EVENT_SOURCES, and an incident that names no instance are refused
 * before any API call; an ActionTrail record of a call that failed is skipped.
 */
import { OWN_CODES } from './codes';
import { RefusalError } from './errors';
import { kindOf, showValue } from './format';

/** What a run is asked to do, from a manual payload or a timer's payload. */
export interface RunRequest {
  /** Unset: every target. Empty: none (a skipped event). */
  instanceIds?: string[];
  force: boolean;
  dryRun: boolean;
  rotationId?: string;
  reason?: string;
  /**
   * Set (true) only by a manual payload or a timer's, with `force` and a `reason`: the forced rotation ignores
   * FORCED_ROTATION_COOLDOWN_MINUTES, which the run logs as a warning with the reason. Never from an event.
   */
  ignoreCooldown?: boolean;
}

interface TriggerBase {
  /** Identifies this trigger across redeliveries; VersionIds derive from it (see plan.ts). */
  identity: string;
  rotationId: string;
  request: RunRequest;
  /** Something about the event worth a warning (a timer payload that is not JSON). */
  warning?: string;
}

export interface TimerTrigger extends TriggerBase {
  kind: 'timer';
  triggerName: string;
  triggerTime: string;
}

export interface ManualTrigger extends TriggerBase {
  kind: 'manual';
}

/** An incident delivered by EventBridge: always forced, never a dry run (unless DRY_RUN says so). */
export interface EventTrigger extends TriggerBase {
  kind: 'event';
  source: string;
  id: string;
  type: string;
  /**
   * Why the event asks for nothing: an ActionTrail record of a call that failed (`data.errorCode`) changed
   * nothing. Such a trigger names no instance (`request.instanceIds` is empty) and carries the same text as
   * its `warning`; the handler logs it and writes nothing.
   */
  skip?: string;
}

export type Trigger = TimerTrigger | ManualTrigger | EventTrigger;

/** An event the function does not act on; nothing has been read or written. */
export class TriggerError extends RefusalError {
  override readonly name: string = 'TriggerError';

  constructor(problem: string) {
    super(
      OWN_CODES.invalidEvent,
      `${problem}. Expected a timer event {"triggerTime","triggerName","payload"}, a manual payload ` +
        `{"instanceIds"?,"force"?,"dryRun"?,"rotationId"?,"reason"?,"ignoreCooldown"?} or an EventBridge CloudEvent {"specversion":"1.0","id","source","type","data"?}`,
    );
  }
}

/** A well-formed event from a source that EVENT_SOURCES does not list; nothing has been read or written. */
export class EventSourceError extends RefusalError {
  override readonly name: string = 'EventSourceError';

  constructor(source: string, eventSources: readonly string[]) {
    const listed = eventSources.length > 0 ? eventSources.join(',') : 'nothing';
    super(OWN_CODES.eventSourceNotAllowed, `Refusing the event: its source ${showValue(source)} is not in EVENT_SOURCES (${listed}); add it there to let it force rotations. Nothing was changed`);
  }
}

/**
 * An incident that names no instance and does not say `"allTargets": true`: refused (incidents fail closed),
 * nothing has been read or written.
 */
export class EventScopeError extends RefusalError {
  override readonly name: string = 'EventScopeError';

  constructor(problem: string) {
    super(OWN_CODES.eventNamesNoInstance, `Refusing the event: ${problem}. Nothing was changed`);
  }
}

/** What the configuration lets through: the EventBridge sources that may force a rotation. */
export interface TriggerPolicy {
  eventSources: readonly string[];
}

const REQUEST_FIELDS = ['instanceIds', 'force', 'dryRun', 'rotationId', 'reason', 'ignoreCooldown'];
const TIMER_FIELDS = ['triggerTime', 'triggerName', 'payload'];
const ROTATION_ID = /^[\x21-\x7e]{1,128}$/;
const MAX_REASON_LENGTH = 512;
const MAX_INSTANCE_IDS = 1000;
const DDS_ID_PREFIX = 'dds-';
/** CloudEvents attributes the function reads or checks; others (extensions such as `aliyunaccountid`) pass. */
const CLOUD_EVENT_STRINGS = ['time', 'subject', 'datacontenttype', 'dataschema'];
const MAX_EVENT_ATTRIBUTE_LENGTH = 256;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * `context`: FC's; its request id identifies a manual invocation that names no rotationId.
 * `policy`: the EventBridge sources that are acted on; by default none.
 */
export function parseTrigger(event: unknown, context: { requestId: string }, policy: TriggerPolicy = { eventSources: [] }): Trigger {
  const body = decode(event);
  if (isTimerEvent(body)) return timerTrigger(body);
  if (isCloudEvent(body)) return eventTrigger(body, policy);
  const request = parseRequest(body, 'the event');
  const rotationId = request.rotationId ?? context.requestId;
  return { kind: 'manual', identity: `manual\n${rotationId}`, rotationId, request };
}

function decode(event: unknown): Record<string, unknown> {
  let value = event;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    if (value.trim() === '') return {};
    try {
      value = JSON.parse(value);
    } catch {
      throw new TriggerError('The event is not JSON');
    }
  }
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new TriggerError(`The event is a JSON ${Array.isArray(value) ? 'array' : typeof value}, not an object`);
  return value as Record<string, unknown>;
}

function isTimerEvent(body: Record<string, unknown>): boolean {
  return Object.hasOwn(body, 'triggerTime') || Object.hasOwn(body, 'triggerName');
}

function isCloudEvent(body: Record<string, unknown>): boolean {
  return Object.hasOwn(body, 'specversion') || Object.hasOwn(body, 'source');
}

/**
 * A CloudEvent 1.0 from EventBridge. Its identity is `source` + `id`, so a redelivered event finds the
 * versions it staged before. A record of a failed call is skipped; otherwise the instances come from `data`
 * (see namedInstances), and an event that names none is refused unless `data.allTargets` is true.
 */
function eventTrigger(body: Record<string, unknown>, policy: TriggerPolicy): EventTrigger {
  if (body.specversion !== '1.0') throw new TriggerError('The EventBridge event needs "specversion": "1.0"');
  const id = eventAttribute(body, 'id');
  const source = eventAttribute(body, 'source');
  const type = eventAttribute(body, 'type');
  const wrongType = CLOUD_EVENT_STRINGS.find((name) => body[name] !== undefined && typeof body[name] !== 'string');
  if (wrongType !== undefined) throw new TriggerError(`The EventBridge event's "${wrongType}" must be a string`);
  const data = eventData(body.data);
  if (!policy.eventSources.includes(source)) throw new EventSourceError(source, policy.eventSources);

  const request: RunRequest = { force: true, dryRun: false };
  if (typeof data.reason === 'string' && data.reason.length <= MAX_REASON_LENGTH) request.reason = data.reason;
  const trigger: EventTrigger = { kind: 'event', source, id, type, identity: `event\n${source}\n${id}`, rotationId: id, request };
  const skip = failedCall(data);
  if (skip) {
    request.instanceIds = [];
    return { ...trigger, skip, warning: skip };
  }
  const instanceIds = namedInstances(data);
  const allTargets = data.allTargets;
  if (allTargets !== undefined && typeof allTargets !== 'boolean') throw new TriggerError('In the EventBridge event\'s data, "allTargets" must be true or false');
  if (instanceIds && allTargets === true) {
    throw new EventScopeError('it names instances and also sets "allTargets": true; name the instances, or set "allTargets": true alone');
  }
  if (!instanceIds && allTargets !== true) {
    throw new EventScopeError(
      `it names no instance (in data: "instanceIds", "instanceId", a dds- id in "referencedResources", "requestParameters.DBInstanceId" or "resourceName"), ` +
        'and incidents fail closed; to rotate every target, the event must say "allTargets": true in its data',
    );
  }
  if (instanceIds) request.instanceIds = instanceIds;
  return trigger;
}

/**
 * Why an ActionTrail record of a failed call asks for nothing, or undefined for any other event: the call
 * (`errorCode`, ActionTrail's management event structure) changed nothing.
 */
function failedCall(data: Record<string, unknown>): string | undefined {
  const code = data.errorCode;
  if (code === undefined || code === null || code === '') return undefined;
  if (typeof code !== 'string') throw new TriggerError('In the EventBridge event\'s data, "errorCode" must be a string');
  const call = typeof data.eventName === 'string' && data.eventName !== '' ? `${showValue(data.eventName)} ` : '';
  return `skipping the event: it records a call ${call}that failed (errorCode ${showValue(code)}) and so changed nothing; nothing is rotated`;
}

function eventAttribute(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '' || value.length > MAX_EVENT_ATTRIBUTE_LENGTH || CONTROL_CHARACTER.test(value)) {
    throw new TriggerError(`The EventBridge event needs "${name}", a string of 1 to ${MAX_EVENT_ATTRIBUTE_LENGTH} printable characters`);
  }
  return value;
}

function eventData(data: unknown): Record<string, unknown> {
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new TriggerError(`The EventBridge event's "data" must be a JSON object, not ${kindOf(data)}`);
  }
  return data as Record<string, unknown>;
}

/**
 * Every instance the event's data names: `instanceIds`, `instanceId`, and ActionTrail's `referencedResources`
 * (every `dds-` id, whatever its resource type: the documentation does not name the one for ApsaraDB for
 * MongoDB), `requestParameters.DBInstanceId` and `resourceName` (an ARN ending `/<instance id>` gives that id).
 */
function namedInstances(data: Record<string, unknown>): string[] | undefined {
  const what = "the EventBridge event's data";
  const ids: string[] = [];
  if (data.instanceIds !== undefined) ids.push(...instanceIds(data.instanceIds, what));
  if (data.instanceId !== undefined) ids.push(...instanceIds([data.instanceId], what, 'instanceId'));
  ids.push(...referencedInstances(data.referencedResources, what));
  const parameters = data.requestParameters;
  if (parameters !== undefined && parameters !== null) {
    if (typeof parameters !== 'object' || Array.isArray(parameters)) throw new TriggerError(`In ${what}, "requestParameters" must be an object`);
    const id = (parameters as Record<string, unknown>).DBInstanceId;
    if (id !== undefined) ids.push(...instanceIds([id], what, 'requestParameters.DBInstanceId'));
  }
  if (data.resourceName !== undefined) {
    const [name] = instanceIds([data.resourceName], what, 'resourceName', 1024);
    ids.push(...instanceIds([name.slice(name.lastIndexOf('/') + 1)], what, 'resourceName'));
  }
  return ids.length > 0 ? [...new Set(ids)] : undefined;
}

/** ActionTrail's `referencedResources`, e.g. {"ACS::ECS::Instance": ["i-…"]}: the DDS instance ids in it. */
function referencedInstances(resources: unknown, what: string): string[] {
  if (resources === undefined || resources === null) return [];
  if (typeof resources !== 'object' || Array.isArray(resources)) {
    throw new TriggerError(`In ${what}, "referencedResources" must be an object of resource types to lists of ids`);
  }
  const ids: string[] = [];
  for (const [type, listed] of Object.entries(resources)) {
    if (!Array.isArray(listed)) throw new TriggerError(`In ${what}, "referencedResources" lists ${showValue(type)} as ${kindOf(listed)}, not a list of ids`);
    const instances = listed.filter((id): id is string => typeof id === 'string' && id.startsWith(DDS_ID_PREFIX));
    if (instances.length > 0) ids.push(...instanceIds(instances, what, 'referencedResources'));
  }
  return ids;
}

function timerTrigger(body: Record<string, unknown>): TimerTrigger {
  rejectUnknownFields(body, TIMER_FIELDS, 'The timer event');
  const { triggerTime, triggerName, payload } = body;
  if (typeof triggerName !== 'string' || triggerName === '' || triggerName.length > 128) {
    throw new TriggerError('The timer event needs "triggerName", a non-empty string');
  }
  if (typeof triggerTime !== 'string' || Number.isNaN(Date.parse(triggerTime))) {
    throw new TriggerError('The timer event needs "triggerTime", a time such as "2026-11-27T03:00:00Z"');
  }
  if (payload !== undefined && typeof payload !== 'string') throw new TriggerError('The timer event\'s "payload" must be a string');
  const { request, warning } = timerRequest(payload ?? '');
  const trigger: TimerTrigger = {
    kind: 'timer',
    triggerName,
    triggerTime,
    identity: `timer\n${triggerName}\n${triggerTime}`,
    rotationId: request.rotationId ?? `${triggerName}@${triggerTime}`,
    request,
  };
  if (warning) trigger.warning = warning;
  return trigger;
}

/** A timer's payload: JSON with the manual fields, or anything else (the console's default is plain text). */
function timerRequest(payload: string): { request: RunRequest; warning?: string } {
  const scheduled: RunRequest = { force: false, dryRun: false };
  if (payload.trim() === '') return { request: scheduled };
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { request: scheduled, warning: 'the timer payload is not a JSON object; running the scheduled rules' };
  }
  return { request: parseRequest(parsed as Record<string, unknown>, 'the timer payload') };
}

function parseRequest(body: Record<string, unknown>, what: string): RunRequest {
  rejectUnknownFields(body, REQUEST_FIELDS, what.charAt(0).toUpperCase() + what.slice(1));
  const request: RunRequest = {
    force: optionalBoolean(body, 'force', what),
    dryRun: optionalBoolean(body, 'dryRun', what),
  };
  if (body.instanceIds !== undefined) request.instanceIds = instanceIds(body.instanceIds, what);
  if (body.rotationId !== undefined) {
    if (typeof body.rotationId !== 'string' || !ROTATION_ID.test(body.rotationId)) {
      throw new TriggerError(`In ${what}, "rotationId" must be 1 to 128 printable characters without spaces`);
    }
    request.rotationId = body.rotationId;
  }
  if (body.reason !== undefined) {
    if (typeof body.reason !== 'string' || body.reason.length > MAX_REASON_LENGTH) {
      throw new TriggerError(`In ${what}, "reason" must be a string of at most ${MAX_REASON_LENGTH} characters`);
    }
    request.reason = body.reason;
  }
  if (optionalBoolean(body, 'ignoreCooldown', what)) {
    if (!request.force) throw new TriggerError(`In ${what}, "ignoreCooldown" applies to forced rotations only: set "force": true as well`);
    if (!request.reason?.trim()) throw new TriggerError(`In ${what}, "ignoreCooldown" needs a "reason": it is logged with the warning`);
    request.ignoreCooldown = true;
  }
  return request;
}

/** `field`: where the ids come from; a single-id field is checked as a list of one. */
function instanceIds(value: unknown, what: string, field = 'instanceIds', maxLength = 64): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_INSTANCE_IDS) {
    throw new TriggerError(`In ${what}, "instanceIds" must be a non-empty array of instance ids (leave it out for every target)`);
  }
  const bad = value.find((id) => typeof id !== 'string' || id === '' || id.length > maxLength);
  if (bad !== undefined) {
    const holds = field === 'instanceIds' ? '"instanceIds" holds' : `"${field}" is`;
    throw new TriggerError(`In ${what}, ${holds} ${typeof bad === 'string' ? showValue(bad) : kindOf(bad)}, not an instance id`);
  }
  return [...new Set(value as string[])];
}

function optionalBoolean(body: Record<string, unknown>, field: string, what: string): boolean {
  const value = body[field];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TriggerError(`In ${what}, "${field}" must be true or false`);
  return value;
}

function rejectUnknownFields(body: Record<string, unknown>, fields: string[], what: string): void {
  const unknown = Object.keys(body).find((key) => !fields.includes(key));
  if (unknown !== undefined) throw new TriggerError(`${what} has an unknown field ${showValue(unknown)}`);
}

/** What a report or a log line says of the trigger (no payload, nothing the caller did not state). */
export type TriggerSummary =
  | { kind: 'timer'; triggerName: string; triggerTime: string }
  | { kind: 'manual'; instanceIds?: string[]; force: boolean; reason?: string }
  | { kind: 'event'; source: string; id: string; type: string; instanceIds?: string[]; reason?: string };

export function summarizeTrigger(trigger: Trigger): TriggerSummary {
  if (trigger.kind === 'timer') return { kind: 'timer', triggerName: trigger.triggerName, triggerTime: trigger.triggerTime };
  const { instanceIds, force, reason } = trigger.request;
  const named = { ...(instanceIds && { instanceIds }), ...(reason !== undefined && { reason }) };
  if (trigger.kind === 'event') return { kind: 'event', source: trigger.source, id: trigger.id, type: trigger.type, ...named };
  return { kind: 'manual', force, ...named };
}
