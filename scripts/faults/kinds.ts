/**
 * The faults of the matrix, each struck at one position (one call of the rotation) and only there,
 * and what the run meeting it must come to (`completes`: rotated, or resumed when it started from a
 * pending version):
 *
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
 */
import type { FaultHandle, Match } from '../../local-cloud/faults/fault-controls';
import type { Rig } from './rig';

type ExpectedFirstRun = 'completes' | 'failed' | 'killed';

export interface FaultKind {
  id: string;
  label: string;
  /** The README's row: the label and what the fault does. */
  summary: string;
  expected: ExpectedFirstRun;
  /** The fault holds the run until its deadline: it strikes a run of the short-timeout deployment. */
  untilDeadline: boolean;
  inject(rig: Rig, match: StrikeMatch, timing: Timing): FaultHandle;
}

/** One call: product, action, `nth` and a `when` that picks the target's requests. */
export type StrikeMatch = Match & { product: 'dds' | 'kms'; action: string; nth: number };

export interface Timing {
  /** Longer than any read timeout the short-timeout deployment can set: its whole working time. */
  hangMs: number;
}

const THROTTLING = { dds: 'Throttling.User', kms: 'Rejected.Throttling' } as const;
const REFUSED = { dds: 'Forbidden.RAM', kms: 'Forbidden.NoPermission' } as const;

export const FAULT_KINDS: FaultKind[] = [
  {
    id: 'throttled-once',
    label: 'throttled once',
    summary: 'throttled once (absorbed by the retry)',
    expected: 'completes',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.error({ ...match, code: THROTTLING[match.product], times: 1 }),
  },
  {
    id: 'throttled',
    label: 'throttled',
    summary: 'throttled until the deadline',
    expected: 'failed',
    untilDeadline: true,
    inject: (rig, match) => rig.cloud.faults.error({ ...match, code: THROTTLING[match.product], times: Infinity }),
  },
  {
    id: 'refused',
    label: 'refused',
    summary: 'refused (`Forbidden.*`)',
    expected: 'failed',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.error({ ...match, code: REFUSED[match.product], times: Infinity }),
  },
  {
    id: 'timeout',
    label: 'timeout',
    summary: 'timeout (the call lands after the client gave up)',
    expected: 'failed',
    untilDeadline: true,
    inject: (rig, match, timing) => rig.cloud.faults.hang({ ...match, ms: timing.hangMs, times: 1 }),
  },
  {
    id: 'dropped',
    label: 'dropped',
    summary: 'connection dropped before the call was applied',
    expected: 'completes',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.drop({ ...match, times: 1 }),
  },
  {
    id: 'dropped-after',
    label: 'dropped after',
    summary: 'connection dropped after the call was applied',
    expected: 'completes',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.drop({ ...match, times: 1, after: true }),
  },
  {
    id: 'killed-before',
    label: 'killed before',
    summary: 'process killed as the call arrives',
    expected: 'killed',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.onAction({ ...match, phase: 'arrive' }, () => rig.killFunction()),
  },
  {
    id: 'killed-after',
    label: 'killed after',
    summary: 'process killed after the call was applied',
    expected: 'killed',
    untilDeadline: false,
    inject: (rig, match) => rig.cloud.faults.onAction({ ...match, phase: 'after' }, () => rig.killFunctionAndWait()),
  },
];
