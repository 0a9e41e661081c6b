/** Reads one demo invocation back: the report the function logged, and the truth behind it. */
import type { LocalCloud } from '../../local-cloud';
import type { InvocationRecord } from '../../local-cloud/fc/types';
import type { DemoStep, DemoTarget, Outcome } from './scenario';

export interface ReportedResult {
  instanceId: string;
  outcome: Outcome;
  versionId?: string;
  characterTypes?: string[];
  durationMs?: number;
  reason?: string;
  error?: { code: string; message: string; requestId?: string };
}

export interface TargetRow {
  target: DemoTarget;
  result?: ReportedResult;
  expected?: Outcome;
  /** Whether every role's password on the instance equals KMS ACSCurrent. */
  kmsMatchesDatabase: boolean;
}

export interface RunCheck {
  invocation: InvocationRecord;
  summary?: Record<string, number>;
  rows: TargetRow[];
  problems: string[];
}

export function checkRun(cloud: LocalCloud, targets: DemoTarget[], step: DemoStep, invocation: InvocationRecord): RunCheck {
  const report = reportOf(invocation);
  const problems: string[] = [];
  if (!report) problems.push(`${step.title}: the function logged no report (${invocation.status}: ${invocation.error?.errorMessage ?? ''})`);
  const rows = targets
    .filter((target) => target.instanceId in step.expected)
    .map((target) => {
      const result = report?.results.find((r) => r.instanceId === target.instanceId);
      const row = { target, result, expected: step.expected[target.instanceId], kmsMatchesDatabase: kmsMatchesDatabase(cloud, target) };
      if (result?.outcome !== row.expected) problems.push(`${target.instanceId}: ${result?.outcome ?? 'no result'}, expected ${row.expected}`);
      if (!row.kmsMatchesDatabase) problems.push(`${target.instanceId}: KMS ACSCurrent differs from the database's password`);
      return row;
    });
  const failedExpected = Object.values(step.expected).includes('failed');
  if (report && (invocation.status === 'failed') !== failedExpected) {
    problems.push(`${step.title}: invocation ${invocation.status}, expected it to ${failedExpected ? 'fail' : 'succeed'}`);
  }
  return { invocation, summary: report?.summary, rows, problems };
}

function kmsMatchesDatabase(cloud: LocalCloud, target: DemoTarget): boolean {
  const current = cloud.truth.secretPassword(target.secretName);
  const held = Object.values(cloud.truth.rootPasswords(target.instanceId));
  return current !== undefined && held.length > 0 && held.every((password) => password === current);
}

/** The handler's result, or, when it failed, the report it logged before failing. */
function reportOf(invocation: InvocationRecord): { results: ReportedResult[]; summary: Record<string, number> } | undefined {
  if (invocation.status === 'succeeded' && invocation.result) return JSON.parse(invocation.result.toString('utf8'));
  for (const line of invocation.logs.split('\n')) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const entry = JSON.parse(line.slice(start)) as { report?: { results: ReportedResult[]; summary: Record<string, number> } };
      if (entry.report) return entry.report;
    } catch {
      // not a log line of the function's
    }
  }
  return undefined;
}
