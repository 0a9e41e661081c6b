/**
 * The fault matrix (scripts/faults/matrix.ts, all of it with `npm run faults`, which CI runs) on application users,
 * a small part of it: every fault of one call at the MongoDB commands an alternating user's fresh rotation sends
 * (root's usersInfo, the createUser of the other user, the login check's ping as it) and at the updateUser of a
 * single user's resumed rotation; each time the same trigger again without the fault. A cell that breaks a rule (its
 * fault never struck at its command, a violation of the users' invariant, the user ACSCurrent names without its
 * password, the user before it unable to log in with ACSPrevious's, root touched, another version than expected, an
 * unexpected outcome, a leaked password) fails the suite. And the matrix itself: a cell whose fault cannot strike the
 * command it is aimed at must fail, and so must one where the user applications held stops logging in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtDist } from '../helpers/built';
import { CALL_KINDS, FAULT_KINDS, type FaultKind } from '../../scripts/faults/kinds';
import { type MatrixResult, type Scenario, runMatrix, scenarioLabel } from '../../scripts/faults/matrix';
import { type Bundle, prebuiltBundle } from '../../scripts/faults/rig';

const COMMANDS = ['usersInfo', 'createUser', 'updateUser', 'ping'];
const ALTERNATING: Scenario = { topology: 'replicate', start: 'fresh', account: 'alternating', actions: COMMANDS };
const SINGLE: Scenario = { topology: 'replicate', start: 'resume', account: 'single', actions: ['updateUser'] };

const broken = (result: MatrixResult) =>
  result.cells.filter((cell) => cell.problems.length > 0).map((cell) => `${scenarioLabel(cell.scenario)} · ${cell.position.label} · ${cell.fault.label}: ${cell.problems.join('; ')}`);

describe("the fault matrix at an application user's MongoDB commands", () => {
  let bundle: Bundle;
  let result: MatrixResult;

  beforeAll(async () => {
    bundle = prebuiltBundle(builtDist());
    result = await runMatrix({ scenarios: [ALTERNATING, SINGLE], kinds: CALL_KINDS.map((k) => k.id), concurrency: 6, bundle });
  }, 120_000);

  afterAll(() => bundle?.remove());

  it("strikes every fault that means something on the wire at each command: not throttling, no refusal of the login check's ping", () => {
    const at = (scenario: Scenario, label: string) => result.cells.filter((c) => c.scenario === scenario && c.position.label === label).map((c) => c.fault.id);
    const wire = ['timeout', 'dropped', 'dropped-after', 'killed-before', 'killed-after'];
    for (const label of ['usersInfo#1', 'usersInfo#2', 'createUser#1']) expect(at(ALTERNATING, label)).toEqual(['refused', ...wire]);
    expect(at(ALTERNATING, 'ping#1 (as app_clone)')).toEqual(wire);
    expect(at(SINGLE, 'updateUser#1')).toEqual(['refused', ...wire]);
    expect(result.cells).toHaveLength(3 * 6 + 5 + 6);
    expect(result.cells.filter((c) => c.strikes === 0).map((c) => `${c.position.label} · ${c.fault.label}`)).toEqual([]);
  });

  it("keeps the users' invariant, ACSCurrent's user on its password, ACSPrevious's user logging in, root untouched, in every cell", () => {
    expect(result.cells).not.toHaveLength(0);
    expect(broken(result)).toEqual([]);
    expect(result.cells.reduce((sum, cell) => sum + cell.violations, 0)).toBe(0);
  });

  it('has run 2 finish what run 1 left: the created user kept, a dropped login check tried again', () => {
    const cell = (label: string, fault: string, scenario = ALTERNATING) => result.cells.find((c) => c.scenario === scenario && c.position.label === label && c.fault.id === fault)!;
    // createUser applied, its answer lost: the retry finds the user there and updates it.
    expect([cell('createUser#1', 'dropped-after').run1, cell('createUser#1', 'dropped-after').run2]).toEqual(['rotated', 'skipped']);
    // Killed once createUser was applied: run 2 resumes the pending version and updates the user it created.
    expect([cell('createUser#1', 'killed-after').run1, cell('createUser#1', 'killed-after').run2]).toEqual(['killed', 'resumed']);
    // A connection dropped under the login check is tried once more: run 1 completes, run 2 finds it done.
    expect([cell('ping#1 (as app_clone)', 'dropped').run1, cell('ping#1 (as app_clone)', 'dropped').run2]).toEqual(['rotated', 'skipped']);
    // A refusal before anything was staged leaves nothing to resume.
    expect([cell('usersInfo#1', 'refused').run1, cell('usersInfo#1', 'refused').run2]).toEqual(['failed', 'rotated']);
    expect([cell('updateUser#1', 'timeout', SINGLE).run1, cell('updateUser#1', 'timeout', SINGLE).run2]).toEqual(['failed', 'resumed']);
  });
});

/**
 * Not a fault of the cloud: a drift of the user applications log in as, once the other user was created, as if
 * someone changed its password by hand. The matrix must see the breach and the user from before locked out.
 */
const DRIFT: FaultKind = {
  ...FAULT_KINDS.find((kind) => kind.id === 'dropped')!,
  id: 'drift',
  label: 'drift',
  summary: "the user ACSCurrent names gets another password, by hand",
  strikes: { calls: 'createUser#1', at: (call) => call.action === 'createUser' && call.nth === 1 },
  inject: (rig, match, _timing, target) =>
    rig.cloud.mongo.onCommand({ instanceId: target.instanceId, command: match.action, nth: match.nth, phase: 'after' }, () => {
      rig.cloud.truth.setUserPassword(target.instanceId, 'app', 'Drifted#ByHand-01');
    }),
};

describe('a user cell whose fault cannot strike the command it is aimed at, or where the user applications held stops logging in', () => {
  let bundle: Bundle;
  let result: MatrixResult;
  // An alternating rotation creates its other user once: a second createUser is past the run's last. Its login check
  // logs in as app_clone: a cell aimed at a ping as app strikes another command than it says.
  const PLANTED: Scenario = {
    topology: 'replicate',
    start: 'fresh',
    account: 'alternating',
    actions: [],
    planted: [
      { product: 'mongo', action: 'createUser', nth: 2, detail: '' },
      { product: 'mongo', action: 'ping', nth: 1, detail: 'as app' },
    ],
  };
  const DRIFTED: Scenario = { topology: 'replicate', start: 'fresh', account: 'alternating', actions: ['createUser'] };

  beforeAll(async () => {
    bundle = prebuiltBundle(builtDist());
    // Kinds whose run 1 completes anyway where they cannot strike: only the judgement can tell.
    result = await runMatrix({ scenarios: [PLANTED, DRIFTED], kinds: ['dropped-after', 'drift'], faultKinds: [...FAULT_KINDS, DRIFT], concurrency: 3, bundle });
  }, 120_000);

  afterAll(() => bundle?.remove());

  it('fails when the fault never struck: a command past the run’s last of its kind', () => {
    const beyond = result.cells.filter((c) => c.scenario === PLANTED && c.position.action === 'createUser');
    expect(beyond.map((c) => [c.fault.id, c.run1, c.strikes])).toEqual([['dropped-after', 'rotated', 0]]);
    expect(beyond[0].problems).toEqual([expect.stringMatching(/^the fault never struck in run 1: the run made 1 createUser call/)]);
  });

  it('fails when the fault struck another command than the one it names', () => {
    const elsewhere = result.cells.filter((c) => c.scenario === PLANTED && c.position.action === 'ping');
    expect(elsewhere).toHaveLength(1);
    expect(elsewhere[0].strikes).toBe(1);
    expect(elsewhere[0].problems).toContain('the fault struck ping#1 (as app_clone), not the recorded ping#1 (as app) (planted)');
  });

  it('fails when the user ACSCurrent named lost its password: a breach of the invariant, and that user locked out after the rotation', () => {
    const drifted = result.cells.filter((c) => c.scenario === DRIFTED && c.fault.id === 'drift');
    expect(drifted).toHaveLength(1);
    expect(drifted[0].strikes).toBe(1);
    expect(drifted[0].violations).toBeGreaterThan(0);
    expect(drifted[0].problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\d+ invariant violation\(s\)$/), "app logs in with ACSPrevious's password: 18, expected ok"]),
    );
    // Its neighbour, the same command under a fault the rotation absorbs, holds.
    expect(result.cells.filter((c) => c.scenario === DRIFTED && c.fault.id === 'dropped-after').map((c) => c.problems)).toEqual([[]]);
  });
});
