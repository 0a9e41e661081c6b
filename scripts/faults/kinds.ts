/**
 * The faults of the matrix, each struck at one position (one call of the rotation) and only there,
 * and what the run meeting it must come to (`completes`: rotated, or resumed when it started from a
 * pending version). Two families:
 *
 * Faults of one call (`call`):
 *   throttled once     the service's throttling code once         retried within the run → completes
 *   throttled          the throttling code on every try           retried until the deadline → failed
 *   refused            a non-retryable code (Forbidden.*), as a missing permission answers every try → failed
 *   timeout            the request held past the client's read timeout, then applied late → failed
 *   dropped            the connection cut before the service applied the call → retried → completes
 *   dropped after      applied, then the connection cut (answer lost) → retried → completes
 *   killed before      the function's process SIGKILLed as the call arrives; the call is never applied
 *   killed after       the process SIGKILLed once the call was applied, before its answer
 *
 * "Killed before" kills on arrival and drops the request (the local cloud's `arrive` hook), so the call
 * is on the wire but never applied: the cloud is left as "killed after" the previous call leaves it.
 *
 * A MongoDB command (an application user's rotation) meets the same faults on the wire protocol (the local cloud's
 * MongoDB peer): dropped before or after it was applied, held past the driver's timeout then applied, the process
 * killed as it arrives or once it was applied; refused is MongoDB's 13 `Unauthorized` (root lacking the privilege,
 * on every try), not for the login check's `ping`, which needs none. Throttled has no faithful answer from the
 * MongoDB 7.0 the peer speaks (8.0.20 and 8.2 have an ingress request rate limiter, off by default, whose refusal,
 * 462 IngressRequestRateLimitExceeded, the user commands retry: test/appusers/resilience.test.ts): not struck. A connection dropped under the login check's `ping` is tried
 * once more, as any connection the login check could not make.
 *
 * A cloud that lags (`lag`, lag-kinds.ts): KMS reads served from the past from that call on, or that reset
 * landing late; each with the login check off and on. Every one completes in run 1.
 */
import type { FaultHandle, Match } from '../../local-cloud/faults/fault-controls';
import type { RequestRecord } from '../../local-cloud/state/request-log';
import { LAG_KINDS } from './lag-kinds';
import type { Rig } from './rig';
import { type Scenario, isMongoCommand } from './scenarios';
import type { SeededTarget } from './seed';

type ExpectedFirstRun = 'completes' | 'failed' | 'killed';

/** Faults of one call; a cloud that lags: reads behind the writes, resets landing late. */
export type KindFamily = 'call' | 'read-lag' | 'late-apply';

/** Whether the kind is one of a cloud that lags (lag-kinds.ts), whose every cell completes in run 1. */
export const lags = (kind: Pick<FaultKind, 'family'>): boolean => kind.family !== 'call';

export interface FaultKind {
  id: string;
  /** Its column in the printed matrix. */
  label: string;
  /** The README's row: the label and what the fault does. */
  summary: string;
  family: KindFamily;
  expected: ExpectedFirstRun;
  /** The fault holds the run until its deadline: it strikes a run of the short-timeout deployment. */
  untilDeadline: boolean;
  /** Both runs go to the deployment with the login check on (VERIFY_LOGIN, against the instance's MongoDB peer). */
  loginCheck: boolean;
  /**
   * The rule the cell keeps at every instant: `invariant` (the database's password is in ACSCurrent or
   * ACSPending), or `readable` (in ACSCurrent, ACSPending or ACSPrevious: KMS still has it), the invariant
   * holding again once the late reset has landed.
   */
  rule: 'invariant' | 'readable';
  /** The calls it can strike; every call when absent. */
  strikes?: StrikeFilter;
  /** Roughly how long a cell of it takes, in seconds, for dealing cells to lanes (the longest first). */
  seconds: number;
  inject(rig: Rig, match: StrikeMatch, timing: Timing, target: SeededTarget): Strike;
}

/** A call of a rotation, as the matrix names it (`ResetAccountPassword#2`, `ping#1`): an API's action or a MongoDB command. */
export interface CallRef {
  action: string;
  nth: number;
}

export interface StrikeFilter {
  /** What it strikes, for the README (`the resets the database accepts`). */
  calls: string;
  at(call: CallRef, scenario: Scenario): boolean;
}

/** Whether a fault kind strikes this call of a rotation in this scenario (every call, unless the kind says otherwise). */
export function strikesAt(kind: Pick<FaultKind, 'strikes'>, call: CallRef, scenario: Scenario): boolean {
  return kind.strikes?.at(call, scenario) ?? true;
}

/** The login check's command: sent as the user it checks, on a connection of its own that it does not try again. */
const LOGIN_CHECK = 'ping';

/** The DDS and KMS calls: faults that mean nothing on the MongoDB wire protocol. */
const API_CALLS: StrikeFilter = {
  calls: 'the DDS and KMS calls',
  at: (call) => !isMongoCommand(call.action),
};

/** Every call but the login check's ping, which needs no privilege: a refusal means nothing there. */
const BUT_THE_LOGIN_CHECK: StrikeFilter = {
  calls: "every call but the login check's ping",
  at: (call) => call.action !== LOGIN_CHECK,
};

/** A fault struck in run 1: `hits` counts its firings at (and from) its call; `remove()` ends it after run 1. */
export interface Strike extends FaultHandle {
  /** Once run 1 is over and what it left has landed: what the fault saw go against its promises (none by default). */
  check?(run1: readonly RequestRecord[]): string[];
  /** Promotes made while the database did not hold the password promoted (a late reset still pending). */
  readonly earlyPromotes?: number;
}

/** One call: product, action (or command), `nth` and a `when` that picks the target's requests. */
export type StrikeMatch = Omit<Match, 'product'> & { product: 'dds' | 'kms' | 'mongo'; action: string; nth: number };

/** An API call (a DDS or KMS one) to strike. */
type ApiMatch = Match & { product: 'dds' | 'kms'; action: string; nth: number };

/** The target's MongoDB command to strike: that command, the `nth` of its kind the instance's peer gets from now on. */
const commandOf = (match: StrikeMatch, target: SeededTarget) => ({ instanceId: target.instanceId, command: match.action, nth: match.nth });

/** Strikes an API call with `api`, a MongoDB command with `mongo`. */
const onCall =
  (api: (rig: Rig, match: ApiMatch, timing: Timing) => FaultHandle, mongo?: (rig: Rig, command: ReturnType<typeof commandOf>, timing: Timing) => FaultHandle) =>
  (rig: Rig, match: StrikeMatch, timing: Timing, target: SeededTarget): FaultHandle => {
    if (match.product !== 'mongo') return api(rig, { ...match, product: match.product }, timing);
    if (!mongo) throw new Error(`this fault does not strike MongoDB commands (${match.action}#${match.nth})`);
    return mongo(rig, commandOf(match, target), timing);
  };

export interface Timing {
  /** Longer than any read timeout the short-timeout deployment can set: its whole working time. */
  hangMs: number;
}

const THROTTLING = { dds: 'Throttling.User', kms: 'Rejected.Throttling' } as const;
const REFUSED = { dds: 'Forbidden.RAM', kms: 'Forbidden.NoPermission' } as const;
/** MongoDB's answer to a user without the privilege a command needs. */
const UNAUTHORIZED = 13;

/** A fault of one call: the login check off, the invariant kept at every instant, every call struck unless it says otherwise. */
const callFault = (
  kind: Pick<FaultKind, 'id' | 'label' | 'summary' | 'expected' | 'untilDeadline' | 'strikes'> & { inject: (rig: Rig, match: StrikeMatch, timing: Timing, target: SeededTarget) => FaultHandle },
): FaultKind => ({
  ...kind,
  family: 'call',
  loginCheck: false,
  rule: 'invariant',
  seconds: kind.untilDeadline ? 3 : 1,
});

export const CALL_KINDS: FaultKind[] = [
  callFault({
    id: 'throttled-once',
    label: 'throttled once',
    summary: 'throttled once (absorbed by the retry)',
    expected: 'completes',
    untilDeadline: false,
    strikes: API_CALLS,
    inject: onCall((rig, match) => rig.cloud.faults.error({ ...match, code: THROTTLING[match.product], times: 1 })),
  }),
  callFault({
    id: 'throttled',
    label: 'throttled',
    summary: 'throttled until the deadline',
    expected: 'failed',
    untilDeadline: true,
    strikes: API_CALLS,
    inject: onCall((rig, match) => rig.cloud.faults.error({ ...match, code: THROTTLING[match.product], times: Infinity })),
  }),
  callFault({
    id: 'refused',
    label: 'refused',
    summary: 'refused (`Forbidden.*`; MongoDB: 13 `Unauthorized`)',
    expected: 'failed',
    untilDeadline: false,
    strikes: BUT_THE_LOGIN_CHECK,
    inject: onCall(
      (rig, match) => rig.cloud.faults.error({ ...match, code: REFUSED[match.product], times: Infinity }),
      (rig, command) => rig.cloud.mongo.error({ ...command, code: UNAUTHORIZED, times: Infinity }),
    ),
  }),
  callFault({
    id: 'timeout',
    label: 'timeout',
    summary: 'timeout (the call lands after the client gave up)',
    expected: 'failed',
    untilDeadline: true,
    inject: onCall(
      (rig, match, timing) => rig.cloud.faults.hang({ ...match, ms: timing.hangMs, times: 1 }),
      (rig, command, timing) => rig.cloud.mongo.hang({ ...command, ms: timing.hangMs, times: 1 }),
    ),
  }),
  callFault({
    id: 'dropped',
    label: 'dropped',
    summary: 'connection dropped before the call was applied',
    expected: 'completes',
    untilDeadline: false,
    inject: onCall(
      (rig, match) => rig.cloud.faults.drop({ ...match, times: 1 }),
      (rig, command) => rig.cloud.mongo.drop({ ...command, times: 1 }),
    ),
  }),
  callFault({
    id: 'dropped-after',
    label: 'dropped after',
    summary: 'connection dropped after the call was applied',
    expected: 'completes',
    untilDeadline: false,
    inject: onCall(
      (rig, match) => rig.cloud.faults.drop({ ...match, times: 1, after: true }),
      (rig, command) => rig.cloud.mongo.drop({ ...command, times: 1, after: true }),
    ),
  }),
  callFault({
    id: 'killed-before',
    label: 'killed before',
    summary: 'process killed as the call arrives',
    expected: 'killed',
    untilDeadline: false,
    inject: onCall(
      (rig, match) => rig.cloud.faults.onAction({ ...match, phase: 'arrive' }, () => rig.killFunction()),
      (rig, command) => rig.cloud.mongo.onCommand({ ...command, phase: 'arrive' }, () => rig.killFunction()),
    ),
  }),
  callFault({
    id: 'killed-after',
    label: 'killed after',
    summary: 'process killed after the call was applied',
    expected: 'killed',
    untilDeadline: false,
    inject: onCall(
      (rig, match) => rig.cloud.faults.onAction({ ...match, phase: 'after' }, () => rig.killFunctionAndWait()),
      (rig, command) => rig.cloud.mongo.onCommand({ ...command, phase: 'after' }, () => rig.killFunctionAndWait()),
    ),
  }),
];

/** Every fault kind: the faults of one call, then a cloud that lags. */
export const FAULT_KINDS: FaultKind[] = [...CALL_KINDS, ...LAG_KINDS];
