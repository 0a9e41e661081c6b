/** How `npm run invoke` reads FC's answer: the report from the body, or from the log tail of a failed run. */
import { describe, expect, it } from 'vitest';
import { exitCodeOf, outcomeOf } from '../../scripts/invoke/outcome';

const REPORT = {
  rotationId: 'change-1',
  trigger: { kind: 'manual', force: true },
  dryRun: false,
  results: [{ instanceId: 'dds-a', secretName: 'mongodb/dds-a/root', outcome: 'failed', characterTypes: [], attempts: 1, durationMs: 3, error: { code: 'X', message: 'y' } }],
  summary: { rotated: 0, resumed: 0, skipped: 0, planned: 0, failed: 1 },
};
const FAILED = { errorType: 'RotationFailedError', errorMessage: 'rotation change-1 failed for 1 of 1 targets: dds-a (X)' };
const sync = (extra: object) => ({ mode: 'sync' as const, requestId: 'req-1', body: Buffer.alloc(0), ...extra });

describe('reading an invocation', () => {
  it('takes the report a successful run returned', () => {
    const ok = { ...REPORT, results: [], summary: { ...REPORT.summary, failed: 0 } };
    const outcome = outcomeOf(sync({ body: Buffer.from(JSON.stringify(ok)) }));
    expect(outcome).toEqual({ kind: 'report', requestId: 'req-1', report: ok });
    expect(exitCodeOf(outcome)).toBe(0);
  });

  it("finds a failed run's report among FC's own lines and a line cut at the start of the tail", () => {
    const logTail = [
      'ed":3,"outcome":"failed"}',
      'FC Invoke Start RequestId: req-1',
      JSON.stringify({ level: 'info', msg: 'rotation started' }),
      JSON.stringify({ level: 'error', msg: 'rotation finished with failures', report: REPORT }),
      'FC Invoke End RequestId: req-1',
    ].join('\n');
    const outcome = outcomeOf(sync({ failure: FAILED, logTail }));
    expect(outcome).toEqual({ kind: 'report', requestId: 'req-1', report: REPORT, failure: FAILED });
    expect(exitCodeOf(outcome)).toBe(1);
  });

  it('says why the report is missing: cut from the tail, or no log at all', () => {
    const cut = JSON.stringify({ msg: 'rotation finished with failures', report: REPORT }).slice(100);
    expect(outcomeOf(sync({ failure: FAILED, logTail: cut }))).toMatchObject({ kind: 'failed', reportMissing: 'cut' });
    expect(outcomeOf(sync({ failure: FAILED }))).toMatchObject({ kind: 'failed', reportMissing: 'no-log' });
  });

  it('expects no report from a refused invocation', () => {
    const refused = { errorType: 'TriggerError', errorMessage: 'The event is not JSON' };
    const outcome = outcomeOf(sync({ failure: refused, logTail: '' }));
    expect(outcome).toEqual({ kind: 'failed', requestId: 'req-1', failure: refused });
    expect(exitCodeOf(outcome)).toBe(1);
  });

  it('does not take an answer that is no report for one', () => {
    expect(outcomeOf(sync({ body: Buffer.from('"hello"') }))).toMatchObject({ kind: 'failed', failure: { errorType: 'UnexpectedResult' } });
  });

  it('counts an accepted async invocation as fine', () => {
    expect(exitCodeOf(outcomeOf({ mode: 'async', requestId: 'req-2' }))).toBe(0);
  });
});
