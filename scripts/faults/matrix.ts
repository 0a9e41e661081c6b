/**
 * The fault matrix: for every call a rotation makes (positions.ts records them, scenarios.ts declares them) and
 * every fault (kinds.ts), one target is rotated through the local FC with that fault struck at that call (run 1),
 * then the same invocation is made again without it (run 2), and the cloud's truth is judged. A scenario fixes the
 * topology (replica set: one reset; sharded cluster: `db` then `cs`), the start (seed.ts: `fresh`,
 * `resume` from this trigger's pending version, `malformed` where the database rejects the first
 * password it is sent, so that the run stages a replacement) and the account (root, or an application user
 * rotated `alternating` or `single`, whose MongoDB commands are positions too).
 *
 * Run 2 repeats run 1's trigger (same `rotationId`, hence the same VersionId), as FC's async retry or
 * a redelivered event does. A new trigger would not do: a forced rotation with a new id after a
 * completed run 1 rotates again and adds a second version, which is right for a new request but not
 * what "run again" means here.
 *
 * The trigger's version is its VersionId or, once staged, the replacement of it (malformed start).
 * Expected outcomes
 *   run 1: the fault kind's: `completes` (rotated, or resumed in a `resume` scenario) when the run
 *          absorbs the fault, failed, or killed (kinds.ts). A run that fails must end by itself with its
 *          report logged, never by FC's timeout.
 *   run 2: read from the trigger's version once run 1 is over (and any request it left held has
 *          landed): none yet → rotated; it carries ACSPending (with or without ACSCurrent: a promote cut
 *          off) → resumed, or rotated if the database will still reject it (it is replaced); it is
 *          ACSCurrent alone → skipped ("already rotated by this trigger").
 * After both runs, for the target:
 *   - the fault struck in run 1, at the call it names (the run's nth call of the action, with the parameters the
 *     recording saw): a cell whose fault never fired proves nothing, and fails; a cloud that lags proves more
 *     (lag-kinds.ts: a read served lagging from that call on; that very reset left to land late);
 *   - the invariant monitor recorded no violation (it checks after every write of both runs and as every late
 *     reset lands), and no breach of the weaker rule (the password in ACSCurrent, ACSPending or ACSPrevious);
 *     a kind judged by the weaker rule (a late reset on a `Running` instance, no login check) must keep that one
 *     at every instant, and the invariant once its reset has landed;
 *   - every role's root password equals ACSCurrent's, ACSCurrent is the trigger's version, ACSPrevious
 *     holds the password from before, nothing carries ACSPending;
 *   - an application user: the user ACSCurrent names (the one the rotation changes) logs in with ACSCurrent's
 *     password, the user ACSPrevious names (the one from before) still logs in with ACSPrevious's (alternating)
 *     or no longer does (single), through the official driver; root's password and secret are untouched;
 *   - the only versions added are the trigger's: at most one, or two where a rejected password was
 *     replaced;
 *   - no password appears in either run's log, answer or error;
 *   - no run reached a package left out of the bundle (scripts/build/left-out.mjs).
 * And for a cloud that lags (every such cell completes in run 1): once run 1 is over and its resets have landed,
 * the database equals ACSCurrent; the versions added are exactly the trigger's (one; none when resuming; two with
 * a rejected password); neither run took over a version ("a concurrent run staged another version"); under a
 * late reset with the login check on or a status shown, no promote came before the password promoted landed.
 */
import { breachSubject } from '../../local-cloud/state';
import type { FaultHandle } from '../../local-cloud/faults/fault-controls';
import type { RequestRecord } from '../../local-cloud/state/request-log';
import { LEFT_OUT_MARKER } from '../build/left-out.mjs';
import { FAULT_KINDS, type FaultKind, type Strike, type Timing, lags, strikesAt } from './kinds';
import { type Position, commandConcerns, commandDetail, concerns, detailOf, recordPositions } from './positions';
import { loginAs } from './logins';
import { type Bundle, type Invocation, type RunOutcome, Rig, buildBundle, leaksIn, outcomeOf, runTexts } from './rig';
import { type Scenario, declaredCalls, plantedLabel, scenarioLabel, valueOf } from './scenarios';
import { type Account, type SeededTarget, APP_USER, REJECTED_RESETS, completedOutcome, fixtureOf, seedTarget } from './seed';

export { type Scenario, scenarioLabel } from './scenarios';

/**
 * The bundle is deployed four times. Faults that hold a run until its deadline strike a `short` deployment,
 * whose deadline comes 2 s in (FC timeout 4 s, less the function's margin: see Deadline.forInvocation),
 * which keeps those cells quick; an application user's rotation, which loads the MongoDB driver and logs in to
 * MongoDB three times (SCRAM) before its promote, gets 3 s (FC timeout 6 s), so that a loaded machine still
 * reaches its last command. Kinds with the login check run on `login` (VERIFY_LOGIN against the instance's
 * MongoDB peer, VERIFY_WAIT_SECONDS at its default of 30). Every other run goes to `main`. The deadline of
 * `main` and `login` is one no loaded machine reaches, a 10 s late reset and its login check included.
 */
const MAIN = { name: 'rotation', timeoutSeconds: 60 };
const SHORT = { name: 'rotation-short', timeoutSeconds: 4 };
const SHORT_USER = { name: 'rotation-short-user', timeoutSeconds: 6 };
const LOGIN = { name: 'rotation-login', timeoutSeconds: 60, environment: { VERIFY_LOGIN: 'true' } };
/** Application users' commands go to the local MongoDB peers, which speak no TLS. */
const ENVIRONMENT = { ALLOW_PLAINTEXT_USER_ADMIN: 'true' };
/** MongoDB's answer to a login with a wrong password. */
const REFUSED_LOGIN = 18;
const TAKE_OVER = 'a concurrent run staged another version; taking it over';
const OWN_WRITE_WAIT = "waiting for KMS to show this run's own write";
/** What each `short` deployment keeps for its work: no read timeout it sets can be longer. */
const SHORT_WORKING_MS = { [SHORT.name]: 2_000, [SHORT_USER.name]: 3_000 };
/** How long a struck call may take to show in the request log once run 1 is over. */
const LOG_WAIT_MS = 5_000;

export interface MatrixOptions {
  scenarios: Scenario[];
  /** Local clouds running cells side by side (each runs its cells one after another). */
  concurrency: number;
  /** Only the fault kinds with these ids (default: all). */
  kinds?: string[];
  /** The fault kinds to choose from (default FAULT_KINDS): a test can judge a kind by another rule. */
  faultKinds?: FaultKind[];
  /** A bundle built already; by default one is built into a temporary folder and removed after. */
  bundle?: Bundle;
  /** Called as each cell ends (for progress output). */
  onCell?: (cell: CellResult) => void;
}

export interface CellResult {
  scenario: Scenario;
  position: Position;
  fault: FaultKind;
  instanceId: string;
  run1: RunOutcome;
  run2: RunOutcome;
  expected1: RunOutcome;
  expected2: RunOutcome;
  versionsAdded: number;
  violations: number;
  /** How often the struck fault fired in run 1 (0: it never struck, and the cell proves nothing). */
  strikes: number;
  /** Breaches of the invariant the cell's rule allows (a late reset on a `Running` instance, no login check): ACSCurrent moved first. */
  allowedBreaches: number;
  /** Promotes of ACSCurrent while the password promoted had not landed (late apply only). */
  earlyPromotes: number;
  /** How often run 1 waited for KMS to show its own write. */
  ownWriteWaits: number;
  /** What went against the rules above; empty when the cell holds. */
  problems: string[];
}

export interface MatrixResult {
  /** The calls of each scenario's clean run, in the order of `scenarios`. */
  positions: Position[][];
  cells: CellResult[];
}

interface Cell {
  scenario: Scenario;
  position: Position;
  fault: FaultKind;
  target: SeededTarget;
}

export async function runMatrix(options: MatrixOptions): Promise<MatrixResult> {
  const bundle = options.bundle ?? (await buildBundle());
  try {
    const kinds = (options.faultKinds ?? FAULT_KINDS).filter((k) => !options.kinds || options.kinds.includes(k.id));
    const positions = await recordAllPositions(bundle, options.scenarios, kinds.some((k) => k.loginCheck));
    const cells = planCells(options.scenarios, positions, kinds);
    const lanes = splitIntoLanes(cells, Math.max(1, options.concurrency));
    const results = (await Promise.all(lanes.map((lane) => runLane(bundle, lane, options.onCell)))).flat();
    const order = new Map(cells.map((cell, index) => [cell.target.instanceId, index]));
    results.sort((a, b) => order.get(a.instanceId)! - order.get(b.instanceId)!);
    return { positions, cells: results };
  } finally {
    if (!options.bundle) bundle.remove();
  }
}

/** The calls of each scenario's clean run; with `loginCheck`, a clean run with the login check on must make the same calls. */
async function recordAllPositions(bundle: Bundle, scenarios: Scenario[], loginCheck: boolean): Promise<Position[][]> {
  const recorders = scenarios.map((s, n) => seedTarget('rec', n + 1, s.topology, s.start, accountOf(s)));
  const loginRecorders = loginCheck ? scenarios.map((s, n) => seedTarget('recl', n + 1, s.topology, s.start, accountOf(s))) : [];
  const targets = [...recorders, ...loginRecorders];
  const mongoPeers = targets.filter((t) => t.account !== 'root' || loginRecorders.includes(t)).map((t) => t.instanceId);
  const rig = await Rig.start({ bundle, fixture: fixtureOf(targets), targets, functions: [MAIN, LOGIN], environment: ENVIRONMENT, mongoPeers });
  try {
    const positions: Position[][] = [];
    for (const [index, target] of recorders.entries()) {
      armStart(rig, target);
      const recorded = await recordPositions(rig, MAIN.name, target);
      expectDeclaredCalls(scenarios[index], recorded);
      positions.push(recorded);
    }
    for (const [index, target] of loginRecorders.entries()) {
      armStart(rig, target);
      expectDeclaredCalls(scenarios[index], await recordPositions(rig, LOGIN.name, target), 'with the login check on ');
    }
    // The clean runs are the matrix's baseline: one that broke the invariant would make every cell built on it moot.
    const violations = rig.cloud.truth.violations;
    if (violations.length > 0) {
      throw new Error(`the clean runs that record the calls broke the invariant ${violations.length} time(s): ${violations.map((v) => `${v.instanceId} ${breachSubject(v)} after ${v.action}`).join(', ')}`);
    }
    return positions;
  } finally {
    await rig.close();
  }
}

/** The clean run must make exactly the calls scenarios.ts declares: the README's cell counts are computed from them. */
function expectDeclaredCalls(scenario: Scenario, recorded: Position[], how = ''): void {
  const made = recorded.map((p) => p.label);
  const declared = declaredCalls(scenario);
  if (made.join('\n') === declared.join('\n')) return;
  throw new Error(
    `the clean run of a ${scenarioLabel(scenario)} rotation ${how}made other calls than scripts/faults/scenarios.ts declares ` +
      `(update CALLS there, then the README with npm run faults -- --write-readme):\n  made:     ${made.join(', ')}\n  declared: ${declared.join(', ')}`,
  );
}

function planCells(scenarios: Scenario[], positions: Position[][], kinds: FaultKind[]): Cell[] {
  const cells: Cell[] = [];
  scenarios.forEach((scenario, index) => {
    const recorded = positions[index].filter((p) => !scenario.actions || scenario.actions.includes(p.action));
    const planted = (scenario.planted ?? []).map((p): Position => ({ ...p, label: plantedLabel(p) }));
    for (const position of [...recorded, ...planted]) {
      for (const fault of kinds.filter((kind) => strikesAt(kind, position, scenario))) {
        cells.push({ scenario, position, fault, target: seedTarget('cell', cells.length + 1, scenario.topology, scenario.start, accountOf(scenario)) });
      }
    }
  });
  return cells;
}

/** Deals the cells to the lanes, the slowest first, each to the lane with the least work so far, so that every lane ends about together. */
function splitIntoLanes(cells: Cell[], count: number): Cell[][] {
  const lanes = Array.from({ length: Math.min(count, cells.length) }, () => ({ cells: [] as Cell[], seconds: 0 }));
  const ordered = [...cells].sort((a, b) => secondsOf(b) - secondsOf(a));
  for (const cell of ordered) {
    const lane = lanes.reduce((least, candidate) => (candidate.seconds < least.seconds ? candidate : least));
    lane.cells.push(cell);
    lane.seconds += secondsOf(cell);
  }
  return lanes.map((lane) => lane.cells);
}

/** Roughly how long a cell takes: its kind's estimate, a second more when an application user's run is held until its later deadline. */
const secondsOf = (cell: Cell): number => cell.fault.seconds + (cell.fault.untilDeadline && cell.target.account !== 'root' ? 1 : 0);

const accountOf = (scenario: Scenario): Account => valueOf(scenario, 'account') as Account;

/**
 * One local cloud with the lane's targets; its cells run one after another, on warm function instances
 * as FC reuses them (an instance keeps nothing from one invocation to the next but its configuration).
 */
async function runLane(bundle: Bundle, cells: Cell[], onCell?: (cell: CellResult) => void): Promise<CellResult[]> {
  if (cells.length === 0) return [];
  const targets = cells.map((cell) => cell.target);
  const mongoPeers = cells.filter((cell) => cell.fault.loginCheck || cell.target.account !== 'root').map((cell) => cell.target.instanceId);
  const rig = await Rig.start({ bundle, fixture: fixtureOf(targets), targets, functions: [MAIN, SHORT, SHORT_USER, LOGIN], environment: ENVIRONMENT, mongoPeers });
  try {
    const results: CellResult[] = [];
    for (const [index, cell] of cells.entries()) {
      if (index > 0) rig.redeploy(staleAfter(cells[index - 1].fault));
      const result = await runCell(rig, cell);
      onCell?.(result);
      results.push(result);
    }
    return results;
  } finally {
    await rig.close();
  }
}

/** After a kill, the `short` deployments' idle instances lie dead in FC's pool (the killed caller was `main`'s, which ran run 2 on a fresh one). */
function staleAfter(fault: FaultKind): string[] {
  return fault.expected === 'killed' ? [SHORT.name, SHORT_USER.name] : [];
}

async function runCell(rig: Rig, cell: Cell): Promise<CellResult> {
  const { target, position, fault } = cell;
  const { cloud } = rig;
  const expected1 = fault.expected === 'completes' ? completedOutcome(target) : fault.expected;
  const short = target.account === 'root' ? SHORT : SHORT_USER;
  const timing: Timing = { hangMs: SHORT_WORKING_MS[short.name] + 200 };
  const versionsBefore = new Set(cloud.truth.secret(target.secretName)?.versions.map((v) => v.versionId));

  // The struck fault goes first: at its call it takes precedence over the start's own rejection.
  const strike = fault.inject(rig, { product: position.product, action: position.action, nth: position.nth, when: concerns(target) }, timing, target);
  const rejection = armStart(rig, target);
  const run1From: LogMarks = { requests: cloud.truth.requests.length, commands: cloud.mongo.commands.length };
  const deployment = fault.untilDeadline ? short.name : fault.loginCheck ? LOGIN.name : MAIN.name;
  const first = await rig.invoke(deployment, target.event);
  strike.remove();
  await settled(rig);
  if (strike.hits > 0) await untilLogged(rig, run1From, cell);
  const run1Requests = cloud.truth.requests.slice(run1From.requests);
  const struck = [...strikeProblems(strike, struckCalls(rig, run1From, cell), cell), ...(strike.hits > 0 ? (strike.check?.(run1Requests) ?? []) : [])];
  const landed = lags(fault) ? landedProblems(rig, target) : [];
  const breachesBeforeLanding = breachesOf(cloud.truth.violations, target);
  const expected2 = expectedSecondRun(rig, target, rejection !== undefined && rejection.hits === 0);
  const second = await rig.invoke(fault.loginCheck ? LOGIN.name : MAIN.name, target.event);
  rejection?.remove();
  await settled(rig);

  const run1 = outcomeOf(first, target.instanceId);
  const run2 = outcomeOf(second, target.instanceId);
  const added = (cloud.truth.secret(target.secretName)?.versions ?? []).filter((v) => !versionsBefore.has(v.versionId)).map((v) => v.versionId);
  const breaches = breachesOf(cloud.truth.violations, target);
  const unreadable = breachesOf(cloud.truth.unreadable, target);
  // Judged by the weaker rule, a cell may break the invariant until its late reset lands, never after.
  const allowedBreaches = fault.rule === 'readable' ? breachesBeforeLanding : 0;
  const violations = breaches - allowedBreaches + unreadable;
  const problems = [
    ...(run1 === expected1 ? [] : [`run 1 ended ${run1}, expected ${expected1}${first.record.error ? ` (${first.record.error.errorMessage})` : ''}`]),
    ...(run2 === expected2 ? [] : [`run 2 ended ${run2}, expected ${expected2}`]),
    ...ruleProblems(fault, breaches - allowedBreaches, unreadable),
    ...(await truthProblems(rig, target, added)),
    ...(lags(fault) ? [...landed, ...lagProblems(target, added, [first, second]), ...earlyPromoteProblems(fault, strike)] : []),
    ...leakProblems(rig, [first, second]),
    ...struck,
    ...leftOutProblems([first, second]),
  ];
  return {
    scenario: cell.scenario,
    position,
    fault,
    instanceId: target.instanceId,
    run1,
    run2,
    expected1,
    expected2,
    versionsAdded: added.length,
    violations,
    strikes: strike.hits,
    allowedBreaches,
    earlyPromotes: strike.earlyPromotes ?? 0,
    ownWriteWaits: logLines(first, OWN_WRITE_WAIT),
    problems,
  };
}

/** No request or command a fault held or delayed is on its way any more, and every late reset has landed. */
async function settled(rig: Rig): Promise<void> {
  await rig.cloud.faults.settled();
  await rig.cloud.mongo.settled();
}

const breachesOf = (breaches: readonly { instanceId: string }[], target: SeededTarget) => breaches.filter((b) => b.instanceId === target.instanceId).length;

/** Breaches of the rule the cell keeps: the invariant (and the weaker rule, which it implies), or the weaker rule and the invariant after the landing. */
function ruleProblems(fault: FaultKind, breaches: number, unreadable: number): string[] {
  const problems: string[] = [];
  if (breaches > 0) problems.push(`${breaches} invariant violation(s)${fault.rule === 'readable' ? ' after the late reset landed' : ''}`);
  if (unreadable > 0) problems.push(`${unreadable} time(s) the database's password was in no version labelled ACSCurrent, ACSPending or ACSPrevious`);
  return problems;
}

/** Once run 1 is over and its late resets have landed, the rotation it completed is what the database holds. */
function landedProblems(rig: Rig, target: SeededTarget): string[] {
  const apart = apartFromCurrent(rig, target);
  return apart.length > 0 ? [`after run 1, its resets landed, the ${apart.join(' and ')} password differs from ACSCurrent`] : [];
}

/**
 * What in the database holds another password than ACSCurrent's: root's roles (`db`, `cs`, `normal`), or the
 * application user ACSCurrent names.
 */
function apartFromCurrent(rig: Rig, target: SeededTarget): string[] {
  const { truth } = rig.cloud;
  if (target.account === 'root') {
    const current = truth.secretPassword(target.secretName, 'ACSCurrent');
    return Object.entries(truth.rootPasswords(target.instanceId)).filter(([, held]) => held !== current).map(([role]) => role);
  }
  const current = labelledAccount(rig, target, 'ACSCurrent');
  if (!current) return ["user ACSCurrent names (it names none)"];
  return truth.userPassword(target.instanceId, current.user) === current.password ? [] : [`user ${current.user}'s`];
}

/** The account and password a version of the target's secret with this label names. */
function labelledAccount(rig: Rig, target: SeededTarget, stage: string): { user: string; password: string } | undefined {
  const version = rig.cloud.truth.secret(target.secretName)?.versions.find((v) => v.stages.includes(stage));
  if (!version) return undefined;
  const data = JSON.parse(version.data) as { AccountName?: unknown; AccountPassword?: unknown };
  return { user: String(data.AccountName), password: String(data.AccountPassword) };
}

/** What a cloud that lags must not make the run do: add a version of its own beyond the trigger's, or take one over. */
function lagProblems(target: SeededTarget, added: string[], runs: Invocation[]): string[] {
  const expected = { fresh: 1, resume: 0, malformed: 2 }[target.start];
  const problems = added.length === expected ? [] : [`${added.length} version(s) added, expected exactly ${expected}`];
  const takeOvers = runs.reduce((sum, run) => sum + logLines(run, TAKE_OVER), 0);
  if (takeOvers > 0) problems.push(`a run took over a version ${takeOvers} time(s) ("${TAKE_OVER}")`);
  return problems;
}

/** With the login check on, or a status that the settle waits out, no promote may come before the password promoted has landed. */
function earlyPromoteProblems(fault: FaultKind, strike: Strike): string[] {
  const early = strike.earlyPromotes ?? 0;
  if (fault.rule === 'readable' || early === 0) return [];
  return [`ACSCurrent was moved ${early} time(s) while the database did not hold the password promoted yet`];
}

/** How many of the run's log lines say `msg`. */
function logLines(run: Invocation, msg: string): number {
  return run.record.logs.split('\n').filter((line) => line.startsWith('{') && (JSON.parse(line) as { msg?: unknown }).msg === msg).length;
}

/** A `malformed` start: the database rejects the first password it is sent for the target (once). */
function armStart(rig: Rig, target: SeededTarget): FaultHandle | undefined {
  const times = REJECTED_RESETS[target.start];
  if (times === 0) return undefined;
  return rig.cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', when: concerns(target), code: 'InvalidAccountPassword.Malformed', times });
}

/** The trigger's version: its replacement once staged, else its own VersionId, if either exists. */
function triggerVersion(rig: Rig, target: SeededTarget): { versionId: string; stages: string[] } | undefined {
  const versions = rig.cloud.truth.secret(target.secretName)?.versions ?? [];
  return versions.find((v) => v.versionId === target.replacementVersionId) ?? versions.find((v) => v.versionId === target.ownVersionId);
}

/** Run 2's outcome, from the trigger's version as run 1 left it; `rejecting`: the database will reject the next password. */
function expectedSecondRun(rig: Rig, target: SeededTarget, rejecting: boolean): RunOutcome {
  const version = triggerVersion(rig, target);
  if (!version) return 'rotated';
  if (version.stages.includes('ACSPending')) return rejecting && version.versionId === target.ownVersionId ? 'rotated' : 'resumed';
  return version.stages.includes('ACSCurrent') ? 'skipped' : 'no report';
}

async function truthProblems(rig: Rig, target: SeededTarget, added: string[]): Promise<string[]> {
  const { truth } = rig.cloud;
  const problems = apartFromCurrent(rig, target).map((apart) => `the ${apart} password differs from ACSCurrent`);
  if (target.account !== 'root') problems.push(...(await userProblems(rig, target)));
  const versions = truth.secret(target.secretName)?.versions ?? [];
  const currentVersion = versions.find((v) => v.stages.includes('ACSCurrent'));
  const expectedCurrent = triggerVersion(rig, target)?.versionId;
  if (currentVersion?.versionId !== expectedCurrent) problems.push(`ACSCurrent is ${currentVersion?.versionId ?? 'nowhere'}, not the trigger's version`);
  if (truth.secretPassword(target.secretName, 'ACSPrevious') !== target.initialPassword) problems.push('ACSPrevious does not hold the password from before');
  if (versions.some((v) => v.stages.includes('ACSPending'))) problems.push('a version still carries ACSPending');
  const allowed = target.start === 'malformed' ? [target.ownVersionId, target.replacementVersionId] : [target.ownVersionId];
  const stray = added.filter((id) => !allowed.includes(id));
  if (stray.length > 0) problems.push(`${stray.length} version(s) added besides the trigger's`);
  if (target.start === 'fresh' && added.length !== 1) problems.push(`${added.length} version(s) added, expected 1`);
  return problems;
}

/**
 * An application user's rotation, as applications see it (logging in with the official driver): ACSCurrent names the
 * user it changed (`app_clone` alternating, `app` single), who logs in with ACSCurrent's password; ACSPrevious names
 * the user from before, who, alternating, still logs in with ACSPrevious's password (applications that hold it keep
 * working for one more interval) and, single, no longer does. Root and its secret are as they were.
 */
async function userProblems(rig: Rig, target: SeededTarget): Promise<string[]> {
  const { truth } = rig.cloud;
  const problems: string[] = [];
  const current = labelledAccount(rig, target, 'ACSCurrent');
  if (current && current.user !== target.rotatedUser) problems.push(`ACSCurrent names ${current.user}, not ${target.rotatedUser}`);
  if (current) {
    const login = await loginAs(rig, target.instanceId, current.user, current.password);
    if (login !== 'ok') problems.push(`${current.user} does not log in with ACSCurrent's password (${login})`);
  }
  const previous = labelledAccount(rig, target, 'ACSPrevious');
  if (previous && previous.user !== APP_USER) problems.push(`ACSPrevious names ${previous.user}, not ${APP_USER}`);
  if (previous) {
    const login = await loginAs(rig, target.instanceId, previous.user, previous.password);
    const expected = target.account === 'alternating' ? 'ok' : REFUSED_LOGIN;
    if (login !== expected) problems.push(`${previous.user} logs in with ACSPrevious's password: ${login}, expected ${expected}`);
  }
  const rootHeld = Object.values(truth.rootPasswords(target.instanceId));
  const rootVersions = truth.secret(target.rootSecretName)?.versions ?? [];
  if (rootHeld.some((held) => held !== target.rootPassword) || rootVersions.length !== 1 || truth.secretPassword(target.rootSecretName) !== target.rootPassword) {
    problems.push("root's password or its secret changed");
  }
  return problems;
}

function leakProblems(rig: Rig, runs: Invocation[]): string[] {
  const leaks = leaksIn(runs.flatMap((run) => runTexts(run.record)), rig.cloud.truth.passwordsSeen());
  return leaks > 0 ? [`a password appears in ${leaks} text(s) of the runs`] : [];
}

/**
 * The local cloud logs a request once it is answered or dropped: after an `after` hook that killed the caller,
 * that can come a moment after FC saw the process die. Waits (a few seconds at most) for run 1's struck call to
 * be logged, before run 2 starts.
 */
async function untilLogged(rig: Rig, from: LogMarks, cell: Cell): Promise<void> {
  const logged = () => struckCalls(rig, from, cell).length >= cell.position.nth;
  for (let waited = 0; !logged() && waited < LOG_WAIT_MS; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Where run 1 starts in the request log and in the MongoDB peers' command log. */
interface LogMarks {
  requests: number;
  commands: number;
}

/** Run 1's calls (or commands) of the struck position's action for the target, each with what its parameters say. */
function struckCalls(rig: Rig, from: LogMarks, { position, target }: Cell): Array<{ detail: string }> {
  if (position.product === 'mongo') {
    const commands = rig.cloud.mongo.commands.slice(from.commands).filter((c) => c.command === position.action && commandConcerns(target)(c));
    return commands.map((c) => ({ detail: commandDetail(c) }));
  }
  const calls = rig.cloud.truth.requests.slice(from.requests).filter((r) => r.product === position.product && r.action === position.action && concerns(target)(r.params));
  return calls.map((r) => ({ detail: detailOf(r.action, r.params, target) }));
}

/**
 * A cell proves nothing unless its fault struck in run 1, at its position: the run's nth call of the action for
 * the target, whose parameters say what the recording said (the `cs` reset, the move of ACSCurrent). A fault that
 * never fired, or fired at another call, fails the cell, whatever the runs came to.
 */
function strikeProblems(strike: Pick<FaultHandle, 'hits'>, calls: Array<{ detail: string }>, cell: Cell): string[] {
  const { position } = cell;
  if (strike.hits === 0) return [`the fault never struck in run 1: the run made ${calls.length} ${position.action} call(s), the cell strikes ${position.label}`];
  const hit = calls[position.nth - 1];
  if (!hit) return [`the fault fired, but run 1's log has no ${position.label} call`];
  const { detail } = hit;
  if (detail !== position.detail) return [`the fault struck ${position.action}#${position.nth}${detail ? ` (${detail})` : ''}, not the recorded ${position.label}`];
  return [];
}

/** A run that touched a package left out of the bundle (scripts/build/left-out.mjs): its stub wrote the marker to the log. */
function leftOutProblems(runs: Invocation[]): string[] {
  const reached = runs.flatMap((run) => runTexts(run.record)).filter((text) => text.includes(LEFT_OUT_MARKER));
  return reached.length > 0 ? [`a package left out of the bundle was reached (${LEFT_OUT_MARKER} in ${reached.length} text(s) of the runs)`] : [];
}

/** Cells per fault kind and how many held; the totals `npm run faults` prints. */
export function totals(result: MatrixResult): { cells: number; held: number; violations: number; byKind: Array<{ kind: FaultKind; cells: number; held: number }> } {
  const byKind = kindsOf(result.cells).map((kind) => {
    const cells = result.cells.filter((c) => c.fault.id === kind.id);
    return { kind, cells: cells.length, held: cells.filter((c) => c.problems.length === 0).length };
  }).filter((k) => k.cells > 0);
  return {
    cells: result.cells.length,
    held: result.cells.filter((c) => c.problems.length === 0).length,
    violations: result.cells.reduce((sum, c) => sum + c.violations, 0),
    byKind,
  };
}

/** The fault kinds of these cells, in the order of FAULT_KINDS (a test's own kinds after them). */
export function kindsOf(cells: CellResult[]): FaultKind[] {
  return [...new Map(cells.map((cell) => [cell.fault.id, cell.fault])).values()].sort((a, b) => kindOrder(a) - kindOrder(b));
}

/** A kind's place in FAULT_KINDS; kinds of a test's own after them. */
const kindOrder = (kind: FaultKind): number => {
  const index = FAULT_KINDS.findIndex((k) => k.id === kind.id);
  return index < 0 ? FAULT_KINDS.length : index;
};
