/**
 * The fault matrix's columns for a cloud that lags (scripts/faults/lag-kinds.ts; all of them with `npm run faults`,
 * which CI runs), on a sharded cluster: KMS reads 2 s behind from the staging put and from each promote call on,
 * and each reset landing 1 s late with the instance Running (no login check: the weaker rule), with the login
 * check on, and with a transitional status. And the matrix's judgement itself: a late reset nothing shows, judged
 * by the invariant, must fail its cell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_KINDS, type FaultKind } from '../../scripts/faults/kinds';
import { type CellResult, type MatrixResult, type Scenario, runMatrix, scenarioLabel } from '../../scripts/faults/matrix';
import { type Bundle, prebuiltBundle } from '../../scripts/faults/rig';
import { builtDist } from '../helpers/built';

const LAGGING: Scenario = { topology: 'sharding', start: 'fresh', actions: ['PutSecretValue', 'UpdateSecretVersionStage'] };
const LATE: Scenario = { topology: 'sharding', start: 'fresh', actions: ['ResetAccountPassword'] };
const kind = (id: string): FaultKind => FAULT_KINDS.find((k) => k.id === id)!;
const describeCell = (c: CellResult) => `${scenarioLabel(c.scenario)} · ${c.position.label} · ${c.fault.label}: ${c.problems.join('; ')}`;

describe('the fault matrix under a cloud that lags, on a sharded cluster', () => {
  let bundle: Bundle;
  let lagging: MatrixResult;
  let late: MatrixResult;

  beforeAll(async () => {
    bundle = prebuiltBundle(builtDist());
    [lagging, late] = await Promise.all([
      runMatrix({ scenarios: [LAGGING], kinds: ['lag-2s'], concurrency: 3, bundle }),
      runMatrix({ scenarios: [LATE], kinds: ['late-1s', 'late-1s-login', 'late-1s-status'], concurrency: 3, bundle }),
    ]);
  }, 240_000);

  afterAll(() => bundle?.remove());

  it('completes every rotation in run 1 under 2 s of KMS read lag, waiting for its own writes, with one version and no take-over', () => {
    expect(lagging.cells.map((c) => c.position.label)).toEqual([
      'PutSecretValue#1',
      'UpdateSecretVersionStage#1 (move ACSCurrent)',
      'UpdateSecretVersionStage#2 (remove ACSPending)',
    ]);
    expect(lagging.cells.filter((c) => c.problems.length > 0).map(describeCell)).toEqual([]);
    for (const cell of lagging.cells) expect([cell.run1, cell.run2, cell.versionsAdded, cell.violations]).toEqual(['rotated', 'skipped', 1, 0]);
    // The reads after the staging put trail it: the run waited for its own write rather than conclude anything.
    expect(lagging.cells[0].ownWriteWaits).toBeGreaterThan(0);
  });

  it('strikes only the resets, and keeps each rule: no promote before the password landed with the login check or a status; the weaker rule without', () => {
    expect(late.cells.map((c) => `${c.position.label} · ${c.fault.id}`)).toEqual([
      'ResetAccountPassword#1 (db) · late-1s',
      'ResetAccountPassword#1 (db) · late-1s-login',
      'ResetAccountPassword#1 (db) · late-1s-status',
      'ResetAccountPassword#2 (cs) · late-1s',
      'ResetAccountPassword#2 (cs) · late-1s-login',
      'ResetAccountPassword#2 (cs) · late-1s-status',
    ]);
    expect(late.cells.filter((c) => c.problems.length > 0).map(describeCell)).toEqual([]);
    for (const cell of late.cells) {
      expect([cell.run1, cell.run2, cell.strikes, cell.violations]).toEqual(['rotated', 'skipped', 1, 0]);
      if (cell.fault.rule === 'readable') {
        // Nothing showed the reset pending: ACSCurrent moved first (the caveat), and the invariant broke until it landed.
        expect(cell.earlyPromotes).toBe(1);
        expect(cell.allowedBreaches).toBeGreaterThan(0);
      } else {
        expect([cell.earlyPromotes, cell.allowedBreaches]).toEqual([0, 0]);
      }
    }
  });
});

describe('a late reset that nothing shows, judged by the invariant', () => {
  let bundle: Bundle;
  let result: MatrixResult;
  const strict: FaultKind = { ...kind('late-1s'), id: 'late-1s-strict', label: 'late 1s strict', rule: 'invariant' };

  beforeAll(async () => {
    bundle = prebuiltBundle(builtDist());
    result = await runMatrix({ scenarios: [{ topology: 'replicate', start: 'fresh' }], faultKinds: [strict], concurrency: 1, bundle });
  }, 240_000);

  afterAll(() => bundle?.remove());

  it('fails its cell: ACSCurrent moved before the password landed, and the invariant broke', () => {
    expect(result.cells).toHaveLength(1);
    const [cell] = result.cells;
    expect([cell.position.label, cell.run1, cell.strikes]).toEqual(['ResetAccountPassword#1 (normal)', 'rotated', 1]);
    expect(cell.problems).toEqual([
      expect.stringMatching(/^\d+ invariant violation\(s\)$/),
      'ACSCurrent was moved 1 time(s) while the database did not hold the password promoted yet',
    ]);
  });
});
