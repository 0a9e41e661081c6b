/**
 * What a target's reads mean to an operator: its state, every problem that needs attention, and the one
 * thing to do. Pure: the same reads, time and settings give the same answer.
 */
import { ACS_CURRENT, ACS_PENDING } from '../../functions/shared/clients/kms';
import { isInitialVersion } from '../../functions/rotate/engine/decide';
import { has, type SecretVersion } from '../../functions/rotate/engine/versions';
import type { InstanceView, ReadFailure, StatusTarget, TargetRead } from './read';

/** Most severe first: a target's state is its most severe one. */
export const STATES = [
  'instance-missing',
  'unreadable',
  'secret-missing',
  'locked',
  'stuck',
  'overdue',
  'many-versions',
  'rotating',
  'due',
  'fresh',
] as const;
export type State = (typeof STATES)[number];

/** The states that make `npm run status` exit 1. */
export const ATTENTION_STATES: ReadonlySet<State> = new Set<State>(['instance-missing', 'unreadable', 'secret-missing', 'locked', 'stuck', 'overdue', 'many-versions']);

export const STATE_MEANINGS: Record<State, string> = {
  'instance-missing': 'the instance does not exist in this region',
  unreadable: 'a read was refused or failed',
  'secret-missing': 'no secret, or a secret that holds no password yet',
  locked: 'the instance is locked: a reset would fail',
  stuck: 'a rotation left half done (ACSPending) for an hour or more',
  overdue: 'ACSCurrent is older than the interval plus the grace',
  'many-versions': '9 or more of the 10 versions KMS keeps are used',
  rotating: 'a rotation under way (ACSPending younger than an hour)',
  due: 'older than the interval: the next scheduled run rotates it',
  fresh: 'younger than the interval',
};

/** KMS keeps at most this many versions of a secret. */
export const MAX_VERSIONS = 10;
export const MANY_VERSIONS = 9;
/** A pending version this old is a rotation left half done, not one under way. */
export const STUCK_AFTER_MS = 3_600_000;
export const DEFAULT_GRACE_HOURS = 24;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface Assessment {
  intervalDays: number;
  graceHours: number;
  /** Epoch ms: ages are measured to this instant. */
  now: number;
}

export interface VersionView {
  versionId: string;
  createTime: string;
  ageMs?: number;
}

export interface Problem {
  state: State;
  message: string;
}

export interface TargetStatus extends StatusTarget {
  /** Absent: not found, or the read failed (see problems). */
  instance?: InstanceView;
  current?: VersionView & { dueAt?: string };
  pending?: VersionView;
  versionsUsed?: number;
  state: State;
  attention: boolean;
  /** Every problem, most severe first; the state is the first one's, if any. */
  problems: Problem[];
  /** The one thing to do, if anything. */
  action?: string;
}

export function assess(read: TargetRead, settings: Assessment): TargetStatus {
  const { target } = read;
  const problems: Problem[] = [];
  const status: Omit<TargetStatus, 'state' | 'attention' | 'problems'> = { ...target };

  if ('failed' in read.instance) problems.push(unreadable(read.instance.failed));
  else if (!read.instance.found) problems.push({ state: 'instance-missing', message: `DescribeDBInstanceAttribute knows no instance ${target.instanceId}` });
  else {
    status.instance = read.instance.instance;
    if (status.instance.lockMode !== 'Unlock') problems.push({ state: 'locked', message: `the instance is locked (LockMode ${status.instance.lockMode ?? 'not given'})` });
  }

  let calm: State = 'fresh';
  if ('failed' in read.secret) problems.push(unreadable(read.secret.failed));
  else if (!read.secret.found) problems.push({ state: 'secret-missing', message: `there is no secret ${target.secretName}` });
  else {
    const versions = read.secret.versions;
    status.versionsUsed = versions.length;
    const current = versions.filter((v) => has(v, ACS_CURRENT));
    if (current.length !== 1) {
      problems.push({ state: 'unreadable', message: `${current.length} versions of the secret carry ACSCurrent; KMS keeps exactly one` });
    } else {
      const due = assessCurrent(current[0], settings);
      status.current = due.view;
      if (due.problem) problems.push(due.problem);
      calm = due.calm;
    }
    const pending = versions.find((v) => has(v, ACS_PENDING));
    if (pending) {
      status.pending = viewOf(pending, settings.now);
      const age = status.pending.ageMs;
      if (age === undefined || age >= STUCK_AFTER_MS) {
        const cutOff = has(pending, ACS_CURRENT) ? ' (its promote was cut off: it is also ACSCurrent)' : '';
        problems.push({ state: 'stuck', message: `a rotation was left half done: version ${pending.versionId} has carried ACSPending for ${age === undefined ? 'an unknown time' : formatAge(age)}${cutOff}` });
      } else if (calm === 'fresh' || calm === 'due') calm = 'rotating';
    }
    if (versions.length >= MANY_VERSIONS) problems.push({ state: 'many-versions', message: `${versions.length} of the ${MAX_VERSIONS} versions KMS keeps are used` });
  }

  problems.sort((a, b) => STATES.indexOf(a.state) - STATES.indexOf(b.state));
  const state = problems[0]?.state ?? calm;
  const result: TargetStatus = { ...status, state, attention: problems.length > 0, problems };
  const action = actionFor(result);
  if (action) result.action = action;
  return result;
}

/** ACSCurrent's age against the interval and the grace. */
function assessCurrent(version: SecretVersion, settings: Assessment): { view: NonNullable<TargetStatus['current']>; problem?: Problem; calm: State } {
  const view: NonNullable<TargetStatus['current']> = viewOf(version, settings.now);
  if (isInitialVersion(version.versionId)) {
    return { view, problem: { state: 'secret-missing', message: 'the secret holds no password yet (created by CREATE_MISSING_SECRETS): the database password is not in KMS until the first rotation' }, calm: 'fresh' };
  }
  if (view.ageMs === undefined) return { view, problem: { state: 'unreadable', message: `ACSCurrent (${version.versionId}) has no readable CreateTime` }, calm: 'fresh' };
  const intervalMs = settings.intervalDays * DAY_MS;
  view.dueAt = new Date(Date.parse(version.createTime) + intervalMs).toISOString();
  if (view.ageMs >= intervalMs + settings.graceHours * HOUR_MS) {
    return {
      view,
      problem: { state: 'overdue', message: `ACSCurrent is ${formatAge(view.ageMs)} old: past the ${settings.intervalDays}-day interval and ${settings.graceHours} h of grace` },
      calm: 'due',
    };
  }
  return { view, calm: view.ageMs >= intervalMs ? 'due' : 'fresh' };
}

function viewOf(version: SecretVersion, now: number): VersionView {
  const created = Date.parse(version.createTime);
  const view: VersionView = { versionId: version.versionId, createTime: version.createTime };
  if (!Number.isNaN(created)) view.ageMs = Math.max(0, now - created);
  return view;
}

function unreadable({ action, error }: ReadFailure): Problem {
  const request = error.requestId ? ` (request id ${error.requestId})` : '';
  return { state: 'unreadable', message: `${action.split(':')[1]} failed: ${error.code}: ${error.message}${request}` };
}

const LOCK_ADVICE: Record<string, string> = {
  ManualLock: 'unlock it (it was locked by hand)',
  LockByExpiration: 'renew the subscription',
  LockByRestoration: 'wait for the restore to finish',
  LockByDiskQuota: 'free or add disk space',
  Released: 'it was released: remove it from ROTATION_TARGETS or untag it',
};

/** The one thing to do about the most severe problem; nothing when none needs attention. */
function actionFor(status: TargetStatus): string | undefined {
  const invoke = `npm run invoke -- --instance ${status.instanceId}`;
  switch (status.state) {
    case 'instance-missing':
      return status.source === 'ROTATION_TARGETS' ? 'correct the instance id in ROTATION_TARGETS, or remove it' : 'check the region and the instance id';
    case 'unreadable': {
      const message = status.problems[0].message;
      if (/Forbidden/.test(message)) return 'grant these credentials the read-only policy (npm run render-policy -- --function status), then run status again';
      if (/Throttling|Timeout|ECONN|ServiceUnavailable|InternalError/.test(message)) return 'run status again (with a lower --concurrency, DDS_QPS or KMS_QPS if throttled)';
      return 'read the error: the function would fail on it too';
    }
    case 'secret-missing':
      return status.current
        ? `rotate it now, so that KMS holds the password: ${invoke}`
        : `create the secret ${status.secretName} holding the current root password (README, Deploy), or set CREATE_MISSING_SECRETS=true`;
    case 'locked':
      return `${LOCK_ADVICE[status.instance?.lockMode ?? ''] ?? 'unlock it'}; the next scheduled run then rotates it if due`;
    case 'stuck':
      return `resume it: ${invoke} (the pending password is applied, never replaced); if that fails, look up ${status.pending?.versionId} in the function's logs`;
    case 'overdue':
      if (status.pending) return 'a rotation is under way: check again once it has ended';
      return `rotate it: ${invoke}; then find out why the scheduled runs did not (their logs: "rotation finished with failures")`;
    case 'many-versions':
      return `past ${MAX_VERSIONS} versions KMS deletes the earliest: find out why they pile up (the function's logs: "rejected the pending password as malformed")`;
    case 'rotating':
    case 'due':
    case 'fresh':
      return undefined;
  }
}

/** `45d`, `5h`, `12m`: the largest whole unit. */
export function formatAge(ms: number): string {
  if (ms >= DAY_MS) return `${Math.floor(ms / DAY_MS)}d`;
  if (ms >= HOUR_MS) return `${Math.floor(ms / HOUR_MS)}h`;
  return `${Math.floor(ms / 60_000)}m`;
}

export interface FleetSummary {
  targets: number;
  attention: number;
  states: Record<State, number>;
}

export function summarize(statuses: readonly TargetStatus[]): FleetSummary {
  const states = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<State, number>;
  for (const status of statuses) states[status.state]++;
  return { targets: statuses.length, attention: statuses.filter((s) => s.attention).length, states };
}

/** Targets needing attention first, most severe first; then the rest in the function's order. */
export function byUrgency(statuses: readonly TargetStatus[]): TargetStatus[] {
  const rank = (s: TargetStatus) => (s.attention ? STATES.indexOf(s.state) : STATES.length);
  return statuses.map((status, index) => ({ status, index })).sort((a, b) => rank(a.status) - rank(b.status) || a.index - b.index).map((e) => e.status);
}
