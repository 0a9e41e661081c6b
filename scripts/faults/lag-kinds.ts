/**
 * A cloud that lags, as columns of the fault matrix: KMS reads that trail the writes, and resets that land late.
 * Each runs with the login check off and on, and completes in run 1.
 *
 *   lag 200ms, lag 2s   from that call on, every KMS read of the target (GetSecretValue, ListSecretVersionIds,
 *                       DescribeSecret) is served from the state as it was up to 200 ms or 2 s before, each read
 *                       drawing its own lag from 0 to that (reads may go back in time); the reads before the call
 *                       are fresh. Most calls are writes: the lag then shows in the reads that follow them.
 *   late 1s, late 10s   that reset answers success, its password lands 1 s or 10 s later. The instance stays
 *                       `Running` meanwhile (nothing tells the caller: no reset state is documented), or shows
 *                       `NodeRestarting` until it lands (`status`: what the settle step waits out). Only the resets
 *                       the database accepts can land late: not the rejected first reset of a `malformed` start.
 *
 * What each promises (matrix.ts judges it):
 *   read lag                     run 1 completes, adds only its version(s), takes over no version (its own
 *                                writes not seen yet are waited for), and the invariant holds at every instant.
 *   late apply, login check on   no promote while the password promoted has not landed; the invariant holds.
 *   late apply, status shown     the settle waits for `Running`: the same, without the login check.
 *   late apply, Running, no login check   the settle cannot see the reset is pending and ACSCurrent may move
 *                                before it lands: at every instant the password stays in ACSCurrent, ACSPending
 *                                or ACSPrevious (the weaker rule), and the invariant holds once it has landed.
 */
import type { FaultHandle } from '../../local-cloud/faults/fault-controls';
import type { RequestRecord } from '../../local-cloud/state/request-log';
import type { FaultKind, Strike, StrikeFilter, StrikeMatch } from './kinds';
import type { Rig } from './rig';
import { isMongoCommand, rotatesUser } from './scenarios';
import { type SeededTarget, REJECTED_RESETS } from './seed';

/** What the instance shows while a late reset is pending, in the `status` columns (an instance state DDS documents). */
export const TRANSITIONAL_STATUS = 'NodeRestarting';

const RESET = 'ResetAccountPassword';

const READ_LAGS = [
  { id: '200ms', ms: 200, label: '200 ms', seconds: 2 },
  { id: '2s', ms: 2_000, label: '2 s', seconds: 6 },
];
const LATENESS = [
  { id: '1s', ms: 1_000, label: '1 s', seconds: 3 },
  { id: '10s', ms: 10_000, label: '10 s', seconds: 13 },
];

/** The resets the database accepts: the calls a late apply can strike. */
const ACCEPTED_RESETS: StrikeFilter = {
  calls: 'the resets the database accepts',
  at: (call, scenario) => call.action === RESET && call.nth > REJECTED_RESETS[scenario.start],
};

/**
 * A read lag from a DDS or KMS call on. From a MongoDB command on, it would be the lag from the next API call on:
 * that call's cell. An application user's rotation always logs in as the user (the login check is no option there):
 * the kinds with the login check on strike root's rotations only.
 */
const lagStrikes = (loginCheck: boolean): StrikeFilter => ({
  calls: loginCheck ? "the DDS and KMS calls of root's rotations (an application user's always checks the login)" : 'the DDS and KMS calls',
  at: (call, scenario) => !isMongoCommand(call.action) && !(loginCheck && rotatesUser(scenario)),
});

const withLogin = (loginCheck: boolean) => (loginCheck ? [' +login', '-login', ', login check on'] : ['', '', ', login check off']);

function readLag(lag: (typeof READ_LAGS)[number], loginCheck: boolean): FaultKind {
  const [label, id, login] = withLogin(loginCheck);
  return {
    id: `lag-${lag.id}${id}`,
    label: `lag ${lag.id}${label}`,
    summary: `KMS reads up to ${lag.label} behind from the call on${login}`,
    family: 'read-lag',
    expected: 'completes',
    untilDeadline: false,
    loginCheck,
    rule: 'invariant',
    strikes: lagStrikes(loginCheck),
    seconds: lag.seconds,
    inject: (rig, match) => lagFrom(rig, match, lag.ms),
  };
}

function lateApply(late: (typeof LATENESS)[number], showsStatus: boolean, loginCheck: boolean): FaultKind {
  const [label, id, login] = withLogin(loginCheck);
  const rule = showsStatus || loginCheck ? 'invariant' : 'readable';
  return {
    id: `late-${late.id}${showsStatus ? '-status' : ''}${id}`,
    label: `late ${late.id}${showsStatus ? ' status' : ''}${label}`,
    summary:
      `reset lands ${late.label} late, the instance ${showsStatus ? `showing \`${TRANSITIONAL_STATUS}\`` : 'staying `Running`'}${login}` +
      (rule === 'readable' ? ' (the weaker rule until it lands)' : ''),
    family: 'late-apply',
    expected: 'completes',
    untilDeadline: false,
    loginCheck,
    rule,
    strikes: ACCEPTED_RESETS,
    seconds: late.seconds,
    inject: (rig, match, _timing, target) => lateFrom(rig, match, target, late.ms, showsStatus ? TRANSITIONAL_STATUS : undefined),
  };
}

/**
 * The reads lag from the call on: a zero-latency fault at the call marks its arrival (faults are asked in the order
 * they were added, so it is marked before the lag decides on that same request), and the lag, on since before run 1
 * (its history reaches back past the run's earlier writes), serves the target's KMS reads once the mark is set.
 */
function lagFrom(rig: Rig, match: StrikeMatch, ms: number): Strike {
  const { faults } = rig.cloud;
  const arrived = faults.latency({ ...match, product: apiProduct(match), ms: 0 });
  const lag = faults.lag({ product: 'kms', ms, jitterMs: ms, when: (params) => arrived.hits > 0 && (match.when?.(params) ?? true) });
  return {
    remove: () => {
      lag.remove();
      arrived.remove();
    },
    get hits() {
      return arrived.hits;
    },
    check: () => (lag.hits === 0 ? ['no KMS read was served lagging from the call on'] : []),
  };
}

/**
 * That reset lands late (`nth` counts the resets the database accepts, so the start's rejected ones are skipped),
 * watched: which resets were left pending (the first must be the call struck), and whether a promote of ACSCurrent
 * came while the password it promotes had not landed.
 */
/** The product of an API call; a lag cannot strike a MongoDB command (lagStrikes). */
function apiProduct(match: StrikeMatch): 'dds' | 'kms' {
  if (match.product === 'mongo') throw new Error(`a read lag does not strike MongoDB commands (${match.action}#${match.nth})`);
  return match.product;
}

function lateFrom(rig: Rig, match: StrikeMatch, target: SeededTarget, ms: number, status: string | undefined): Strike {
  const { faults, truth } = rig.cloud;
  const late = faults.applyLate({ ms, status, when: match.when, nth: match.nth - REJECTED_RESETS[target.start], times: 1 });
  const deferred: string[] = [];
  const pending = faults.onAction({ product: 'dds', action: RESET, when: match.when, phase: 'after' }, (req) => {
    if (faults.pendingResets().some((reset) => reset.requestId === req.requestId)) deferred.push(req.requestId);
  });
  let early = 0;
  const promotes = faults.onAction(
    { product: 'kms', action: 'UpdateSecretVersionStage', when: (p) => p.SecretName === target.secretName && p.VersionStage === 'ACSCurrent' && !!p.MoveToVersion, phase: 'before' },
    (req) => {
      const promoted = truth.secret(target.secretName)?.versions.find((v) => v.versionId === req.params.MoveToVersion);
      const password = promoted && (JSON.parse(promoted.data) as { AccountPassword?: string }).AccountPassword;
      const landing = faults.pendingResets().some((reset) => reset.instanceId === target.instanceId);
      if (landing || Object.values(truth.rootPasswords(target.instanceId)).some((held) => held !== password)) early++;
    },
  );
  const handles: FaultHandle[] = [late, pending, promotes];
  return {
    remove: () => handles.forEach((handle) => handle.remove()),
    get hits() {
      return late.hits;
    },
    get earlyPromotes() {
      return early;
    },
    check: (run1) => lateProblems(run1, match, deferred),
  };
}

/** The first reset left pending must be the call struck (the ones after it queue behind it). */
function lateProblems(run1: readonly RequestRecord[], match: StrikeMatch, deferred: string[]): string[] {
  const resets = run1.filter((r) => r.action === RESET && (match.when?.(r.params) ?? true));
  const struck = resets[match.nth - 1];
  if (deferred.length === 0) return ['no reset was left to land late'];
  if (struck?.requestId !== deferred[0]) return [`the reset that landed late was ${RESET}#${resets.findIndex((r) => r.requestId === deferred[0]) + 1}, not #${match.nth}`];
  return [];
}

export const LAG_KINDS: FaultKind[] = [
  ...READ_LAGS.flatMap((lag) => [readLag(lag, false), readLag(lag, true)]),
  ...LATENESS.flatMap((late) => [false, true].flatMap((showsStatus) => [lateApply(late, showsStatus, false), lateApply(late, showsStatus, true)])),
];
