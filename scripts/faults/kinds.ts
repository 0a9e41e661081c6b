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
 * A cloud that lags (`lag`, lag-kinds.ts): KMS reads served from the past from that call on, or that reset
 * landing late; each with the login check off and on. Every one completes in run 1.
 */
import type { FaultHandle, Match } from '../../local-cloud/faults/fault-controls';
import type { RequestRecord } from '../../local-cloud/state/request-log';
import { LAG_KINDS } from './lag-kinds';
import type { Rig } from './rig';
import type { SeededTarget, Start } from './seed';

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

/** A call of a rotation, as the matrix names it (`ResetAccountPassword#2`). */
export interface CallRef {
  action: string;
  nth: number;
}

export interface StrikeFilter {
  /** What it strikes, for the README (`the resets the database accepts`). */
  calls: string;
  at(call: CallRef, start: Start): boolean;
}

/** Whether a fault kind strikes this call of a rotation with this start (every call, unless the kind says otherwise). */
export function strikesAt(kind: Pick<FaultKind, 'strikes'>, call: CallRef, start: Start): boolean {
  return kind.strikes?.at(call, start) ?? true;
}

/** A fault struck in run 1: `hits` counts its firings at (and from) its call; `remove()` ends it after run 1. */
export interface Strike extends FaultHandle {
  /** Once run 1 is over and what it left has landed: what the fault saw go against its promises (none by default). */
  check?(run1: readonly RequestRecord[]): string[];
  /** Promotes made while the database did not hold the password promoted (a late reset still pending). */
  readonly earlyPromotes?: number;
}

/** One call: product, action, `nth` and a `when` that picks the target's requests. */
export type StrikeMatch = Match & { product: 'dds' | 'kms'; action: string; nth: number };

export interface Timing {
  /** Longer than any read timeout the short-timeout deployment can set: its whole working time. */
  hangMs: number;
}

const THROTTLING = { dds: 'Throttling.User', kms: 'Rejected.Throttling' } as const;
const REFUSED = { dds: 'Forbidden.RAM', kms: 'Forbidden.NoPermission' } as const;

/** A fault of one call: the login check off, the invariant kept at every instant, every call struck. */
const callFault = (kind: Pick<FaultKind, 'id' | 'label' | 'summary' | 'expected' | 'untilDeadline'> & { inject: (rig: Rig, match: StrikeMatch, timing: Timing) => FaultHandle }): FaultKind => ({
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
    inject: (rig, match) => rig.cloud.faults.error({ ...match, code: THROTTLING[match.product], times: 1 }),
  }),
  callFault({
    id: 'throttled',
    label: 'throttled',
    summary: 'throttled until the deadline',
    expected: 'failed',
    untilDeadline: true,
    inject: (rig, match) => rig.cloud.faults.error({ ...match, code: THROTTLING[match.product], times: Infinity }),
  }),
  callFault({
    id: 'refused',
    label: 'refused',
    summary: 'refused (`Forbidden.*`)',
    expected: 'failed',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.error({ ...match, code: REFUSED[match.product], times: Infinity }),
  }),
  callFault({
    id: 'timeout',
    label: 'timeout',
    summary: 'timeout (the call lands after the client gave up)',
    expected: 'failed',
    untilDeadline: true,
    inject: (rig, match, timing) => rig.cloud.faults.hang({ ...match, ms: timing.hangMs, times: 1 }),
  }),
  callFault({
    id: 'dropped',
    label: 'dropped',
    summary: 'connection dropped before the call was applied',
    expected: 'completes',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.drop({ ...match, times: 1 }),
  }),
  callFault({
    id: 'dropped-after',
    label: 'dropped after',
    summary: 'connection dropped after the call was applied',
    expected: 'completes',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.drop({ ...match, times: 1, after: true }),
  }),
  callFault({
    id: 'killed-before',
    label: 'killed before',
    summary: 'process killed as the call arrives',
    expected: 'killed',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.onAction({ ...match, phase: 'arrive' }, () => rig.killFunction()),
  }),
  callFault({
    id: 'killed-after',
    label: 'killed after',
    summary: 'process killed after the call was applied',
    expected: 'killed',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.onAction({ ...match, phase: 'after' }, () => rig.killFunctionAndWait()),
  }),
];

/** Every fault kind: the faults of one call, then a cloud that lags. */
export const FAULT_KINDS: FaultKind[] = [...CALL_KINDS, ...LAG_KINDS];
