/**
 * What invoked the function, read from the event FC passes (a Buffer, a string or an object):
 * a timer trigger or a manual payload (design §4). Anything else is refused before any API call.
 * A further kind (EventBridge) is one more branch of `parseTrigger` and one more member of `Trigger`.
 */
import { showValue } from '../shared/config';

/** What a run is asked to do, from a manual payload or a timer's payload. */
export interface RunRequest {
  /** Unset: every target. */
  instanceIds?: string[];
  force: boolean;
  dryRun: boolean;
  rotationId?: string;
  reason?: string;
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

export type Trigger = TimerTrigger | ManualTrigger;

/** An event the function does not act on; nothing has been read or written. */
export class TriggerError extends Error {
  readonly code = 'InvalidEvent';

  constructor(problem: string) {
    super(`${problem}. Expected a timer event {"triggerTime","triggerName","payload"} or a manual payload {"instanceIds"?,"force"?,"dryRun"?,"rotationId"?,"reason"?}`);
    this.name = 'TriggerError';
  }
}

const REQUEST_FIELDS = ['instanceIds', 'force', 'dryRun', 'rotationId', 'reason'];
const TIMER_FIELDS = ['triggerTime', 'triggerName', 'payload'];
const ROTATION_ID = /^[\x21-\x7e]{1,128}$/;
const MAX_REASON_LENGTH = 512;
const MAX_INSTANCE_IDS = 1000;

/** `context`: FC's; its request id identifies a manual invocation that names no rotationId. */
export function parseTrigger(event: unknown, context: { requestId: string }): Trigger {
  const body = decode(event);
  if (isTimerEvent(body)) return timerTrigger(body);
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
  return 'triggerTime' in body || 'triggerName' in body;
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
  return request;
}

function instanceIds(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_INSTANCE_IDS) {
    throw new TriggerError(`In ${what}, "instanceIds" must be a non-empty array of instance ids (leave it out for every target)`);
  }
  const bad = value.find((id) => typeof id !== 'string' || id === '' || id.length > 64);
  if (bad !== undefined) throw new TriggerError(`In ${what}, "instanceIds" holds ${typeof bad === 'string' ? showValue(bad) : `a ${typeof bad}`}, not an instance id`);
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
