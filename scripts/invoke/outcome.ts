/**
 * What an invocation came to, read from FC's answer: the report the function returned, or, when the run
 * failed, the report it logged before failing (found in the log tail), or just FC's error.
 */
import type { RotationReport } from '../../functions/rotate/report';
import type { FunctionFailure, Invocation } from './fc';

export type ReportMissing = 'cut' | 'no-log';

export type InvokeOutcome =
  | { kind: 'accepted'; requestId: string }
  /** `failure`: the invocation failed, after the function reported (some target failed). */
  | { kind: 'report'; requestId: string; report: RotationReport; failure?: FunctionFailure }
  /**
   * The invocation failed without a report at hand. `reportMissing`: the function logged one, but FC
   * returned no log (`no-log`) or only a tail that does not reach back to it (`cut`).
   */
  | { kind: 'failed'; requestId: string; failure: FunctionFailure; reportMissing?: ReportMissing }
  /** InvokeFunction itself failed (no such function, denied, throttled, unreachable). */
  | { kind: 'error'; error: { code: string; message: string; requestId?: string } };

/** The error the handler rejects with once it has logged a report with failed targets (functions/rotate/report.ts). */
const ROTATION_FAILED = 'RotationFailedError';

export function outcomeOf(invocation: Invocation): InvokeOutcome {
  const { requestId } = invocation;
  if (invocation.mode === 'async') return { kind: 'accepted', requestId };
  if (!invocation.failure) {
    const report = parseReport(invocation.body.toString('utf8'));
    if (report) return { kind: 'report', requestId, report };
    return { kind: 'failed', requestId, failure: { errorType: 'UnexpectedResult', errorMessage: 'the function answered something other than a rotation report' } };
  }
  const { failure, logTail } = invocation;
  const report = logTail === undefined ? undefined : reportInLog(logTail);
  if (report) return { kind: 'report', requestId, report, failure };
  const outcome: InvokeOutcome = { kind: 'failed', requestId, failure };
  if (failure.errorType === ROTATION_FAILED) outcome.reportMissing = logTail === undefined ? 'no-log' : 'cut';
  return outcome;
}

/** 0: every target fine (or accepted); 1: a target or the invocation failed. */
export function exitCodeOf(outcome: InvokeOutcome): number {
  if (outcome.kind === 'accepted') return 0;
  if (outcome.kind === 'report') return outcome.failure || outcome.report.summary.failed > 0 ? 1 : 0;
  return 1;
}

/** The last log line holding a report; FC's own lines and a line cut at the start of the tail are skipped. */
function reportInLog(log: string): RotationReport | undefined {
  let found: RotationReport | undefined;
  for (const line of log.split('\n')) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    const entry = parseObject(line.slice(start));
    const report = entry && isReport(entry.report) ? entry.report : undefined;
    if (report) found = report;
  }
  return found;
}

function parseReport(text: string): RotationReport | undefined {
  const value = parseObject(text);
  return isReport(value) ? value : undefined;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isReport(value: unknown): value is RotationReport {
  const report = value as Partial<RotationReport> | undefined;
  return (
    typeof report === 'object' &&
    report !== null &&
    typeof report.rotationId === 'string' &&
    Array.isArray(report.results) &&
    typeof report.summary === 'object' &&
    report.summary !== null &&
    typeof report.trigger === 'object' &&
    report.trigger !== null
  );
}
