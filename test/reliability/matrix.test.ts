/**
 * The fault matrix (scripts/faults/matrix.ts, all of it with `npm run faults`, which CI runs) on a sharded cluster,
 * which makes every call a replica set makes plus the second reset: every fault at every call of a fresh rotation,
 * at the call only a resumed one makes (GetSecretValue), and at the promote calls of a rotation whose first
 * password the database rejected (its replacement is promoted); each time the same trigger again without the
 * fault. A cell that breaks a rule (its fault never struck at its call, an invariant violation, the database and
 * ACSCurrent apart, another version than expected, an unexpected outcome, a leaked password) fails the suite. And
 * the matrix itself: a cell whose fault cannot strike where it is aimed must fail.
 */
import { builtDist } from '../helpers/built';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_KINDS } from '../../scripts/faults/kinds';
import { type MatrixResult, type Scenario, runMatrix, scenarioLabel } from '../../scripts/faults/matrix';
import { type Bundle, prebuiltBundle } from '../../scripts/faults/rig';
import { struckCalls } from '../../scripts/faults/scenarios';

const FRESH: Scenario = { topology: 'sharding', start: 'fresh' };
const RESUME: Scenario = { topology: 'sharding', start: 'resume', actions: ['GetSecretValue'] };
const MALFORMED: Scenario = { topology: 'sharding', start: 'malformed', actions: ['UpdateSecretVersionStage'] };

describe('the fault matrix on a sharded cluster', () => {
  let bundle: Bundle;
  let result: MatrixResult;

  beforeAll(async () => {
    bundle = prebuiltBundle(builtDist());
    // The faults of one call; a cloud that lags has its own suite (matrix-lag.test.ts).
    result = await runMatrix({ scenarios: [FRESH, RESUME, MALFORMED], kinds: CALL_KINDS.map((k) => k.id), concurrency: 6, bundle });
  }, 240_000);

  afterAll(() => bundle?.remove());

  it('strikes every fault in run 1 at every call the matrix declares: reads, the staging put, both resets, both promote calls, the resumed read', () => {
    const struck = (scenario: Scenario) => [...new Set(result.cells.filter((c) => c.scenario === scenario).map((c) => c.position.label))];
    expect(struck(FRESH)).toEqual(struckCalls(FRESH));
    expect(struck(FRESH)).toEqual(
      expect.arrayContaining([
        'DescribeDBInstanceAttribute#1',
        'ListSecretVersionIds#1',
        'PutSecretValue#1',
        'ResetAccountPassword#1 (db)',
        'ResetAccountPassword#2 (cs)',
        'DescribeDBInstanceAttribute#2',
        'UpdateSecretVersionStage#1 (move ACSCurrent)',
        'UpdateSecretVersionStage#2 (remove ACSPending)',
      ]),
    );
    expect(struck(RESUME)).toEqual(['GetSecretValue#1 (by VersionId)']);
    expect(struck(MALFORMED)).toEqual(['UpdateSecretVersionStage#1 (move ACSCurrent)', 'UpdateSecretVersionStage#2 (remove ACSPending)']);
    expect(result.cells).toHaveLength((struckCalls(FRESH).length + 3) * CALL_KINDS.length);
    // Every fault fired in run 1; the ones that fire once at their call fired exactly once.
    expect(result.cells.filter((c) => c.strikes === 0).map((c) => `${c.position.label} · ${c.fault.label}`)).toEqual([]);
    const once = result.cells.filter((c) => ['throttled-once', 'timeout', 'dropped', 'dropped-after', 'killed-before', 'killed-after'].includes(c.fault.id));
    expect(once.filter((c) => c.strikes !== 1).map((c) => `${c.position.label} · ${c.fault.label}: ${c.strikes}`)).toEqual([]);
  });

  it('keeps the invariant, the database on ACSCurrent and one version per rotation in every cell', () => {
    const broken = result.cells
      .filter((cell) => cell.problems.length > 0)
      .map((cell) => `${scenarioLabel(cell.scenario)} · ${cell.position.label} · ${cell.fault.label}: ${cell.problems.join('; ')}`);
    expect(broken).toEqual([]);
    expect(result.cells.reduce((sum, cell) => sum + cell.violations, 0)).toBe(0);
  });

  it('has run 2 resume what run 1 left pending, and find done what run 1 completed', () => {
    const after = (kind: string, scenario = FRESH) => result.cells.filter((c) => c.fault.id === kind && c.scenario === scenario);
    expect(after('dropped').every((c) => c.run1 === 'rotated' && c.run2 === 'skipped')).toBe(true);
    const staged = after('killed-after').filter((c) => c.position.action === 'ResetAccountPassword');
    expect(staged.map((c) => c.run2)).toEqual(['resumed', 'resumed']);
    // The replacement is pending before the move, current and pending (cut off) after it: both resumed.
    expect(after('killed-before', MALFORMED).map((c) => c.run2)).toEqual(['resumed', 'resumed']);
    expect(after('killed-after', MALFORMED).map((c) => c.run2)).toEqual(['resumed', 'skipped']);
  });
});

describe('a cell whose fault cannot strike where it is aimed', () => {
  let bundle: Bundle;
  let result: MatrixResult;
  // A replica set resets once: a second reset is past the run's last call of it. Its first UpdateSecretVersionStage
  // moves ACSCurrent: a cell aimed at "remove ACSPending" there strikes another call than it says.
  const PLANTED: Scenario = {
    topology: 'replicate',
    start: 'fresh',
    actions: [],
    planted: [
      { product: 'dds', action: 'ResetAccountPassword', nth: 2, detail: 'normal' },
      { product: 'kms', action: 'UpdateSecretVersionStage', nth: 1, detail: 'remove ACSPending' },
    ],
  };

  beforeAll(async () => {
    bundle = prebuiltBundle(builtDist());
    // The kinds whose run 1 completes anyway: a strike that never came looks like one that was absorbed.
    result = await runMatrix({ scenarios: [PLANTED], kinds: ['throttled-once', 'dropped', 'dropped-after'], concurrency: 3, bundle });
  }, 240_000);

  afterAll(() => bundle?.remove());

  it('fails when the fault never struck: a position past the run’s last call', () => {
    const beyond = result.cells.filter((c) => c.position.action === 'ResetAccountPassword');
    expect(beyond.map((c) => [c.fault.id, c.run1, c.strikes])).toEqual([
      ['throttled-once', 'rotated', 0],
      ['dropped', 'rotated', 0],
      ['dropped-after', 'rotated', 0],
    ]);
    for (const cell of beyond) expect(cell.problems).toEqual([expect.stringMatching(/^the fault never struck in run 1: the run made 1 ResetAccountPassword call/)]);
  });

  it('fails when the fault struck another call than the one it names', () => {
    const elsewhere = result.cells.filter((c) => c.position.action === 'UpdateSecretVersionStage');
    expect(elsewhere).toHaveLength(3);
    for (const cell of elsewhere) {
      expect(cell.strikes).toBe(1);
      expect(cell.problems).toContain('the fault struck UpdateSecretVersionStage#1 (move ACSCurrent), not the recorded UpdateSecretVersionStage#1 (remove ACSPending) (planted)');
    }
  });
});
