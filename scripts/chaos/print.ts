/** The chaos run as text: the timer runs, the calls that failed, violations, the instances not on ACSCurrent, the verdict. */
import { type Violation, breachSubject } from '../../local-cloud/state';
import type { SilentFaults } from './faults';
import type { Attempt, InstanceEnd, TimerRun } from './fleet-state';

const LIST_AT_MOST = 20;

export function formatTimerRun(run: TimerRun, fleetSize: number): string {
  const lines = [`timer run ${run.run} (triggerTime ${run.triggerTime}, async as FC fires it): ${run.outcome} after ${run.attempts.length} attempt(s)`];
  for (const attempt of run.attempts) lines.push(`  attempt ${attempt.attempt}: ${formatAttempt(attempt)}`);
  lines.push(`  after it: ${run.rotated} of ${fleetSize} instances rotated`);
  return lines.join('\n');
}

function formatAttempt(attempt: Attempt): string {
  const head = `${attempt.status} in ${(attempt.durationMs / 1000).toFixed(1)} s`;
  const report = attempt.report;
  if (!report) return `${head}, no report${attempt.error ? ` (${attempt.error})` : ''}`;
  const { rotated, resumed, skipped, failed } = report.summary;
  const codes = countBy(report.results.filter((r) => r.outcome === 'failed').map((r) => r.error?.code ?? 'unknown'));
  // Reasons name ages in days: counted alike whatever the number.
  const reasons = countBy(report.results.filter((r) => r.outcome === 'skipped').map((r) => (r.reason ?? 'no reason').replace(/\d+/g, 'N')));
  const lines = [`${head}: ${rotated} rotated, ${resumed} resumed, ${skipped} skipped, ${failed} failed`];
  if (codes.size > 0) lines.push(`    failed: ${[...codes].map(([code, n]) => `${code} ×${n}`).join(', ')}`);
  if (reasons.size > 0) lines.push(`    skipped: ${[...reasons].map(([reason, n]) => `${reason} ×${n}`).join('; ')}`);
  return lines.join('\n');
}

export function formatCalls(total: { dds: number; kms: number }, failed: Map<string, Map<string, number>>, silent: SilentFaults): string {
  const calls = total.dds + total.kms;
  const failures = [...failed.values()].reduce((sum, byCode) => sum + [...byCode.values()].reduce((a, b) => a + b, 0), 0);
  const held = [...silent.held.values()].reduce((a, b) => a + b, 0);
  const rows: string[][] = [['action', 'code', 'calls']];
  for (const [action, byCode] of [...failed].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [code, count] of [...byCode].sort((a, b) => b[1] - a[1])) rows.push([action, code === 'connection dropped' ? 'answer lost (applied, then the connection dropped)' : code, String(count)]);
  }
  for (const [action, count] of [...silent.held].sort(([a], [b]) => a.localeCompare(b))) rows.push([action, 'held past the client\'s timeout (applied, answered too late)', String(count)]);
  return [
    `the function's calls: ${calls} (DDS ${total.dds}, KMS ${total.kms}); failed: ${failures} (${percent(failures, calls)}), held past the client's timeout: ${held}`,
    ...align(rows).map((line) => `  ${line}`),
  ].join('\n');
}

export function formatViolations(label: string, violations: readonly Violation[]): string {
  if (violations.length === 0) return `${label}: none`;
  const shown = violations.slice(0, LIST_AT_MOST).map((v) => `  ${v.instanceId} ${breachSubject(v)} after ${v.action} (${v.requestId})`);
  return [`${label}: ${violations.length}`, ...shown, ...(violations.length > LIST_AT_MOST ? [`  … ${violations.length - LIST_AT_MOST} more`] : [])].join('\n');
}

export function formatEnds(ends: InstanceEnd[]): string {
  const apart = ends.filter((end) => end.apart.length > 0);
  const notRotated = ends.filter((end) => !end.rotated);
  const versions = countBy(ends.map((end) => String(end.versionsAdded)));
  const lines = [
    apart.length === 0
      ? "instances whose database differs from ACSCurrent: none"
      : `instances whose database differs from ACSCurrent: ${apart.length}\n${apart
          .slice(0, LIST_AT_MOST)
          .map((end) => `  ${end.instanceId} (${end.apart.join(', ')})`)
          .join('\n')}`,
    `instances not rotated: ${notRotated.length === 0 ? 'none' : `${notRotated.length}: ${notRotated.slice(0, LIST_AT_MOST).map((end) => `${end.instanceId}${end.pending ? ' (pending)' : ''}`).join(', ')}`}`,
    `versions added per instance: ${[...versions].sort().map(([added, n]) => `${added}: ${n} instance(s)`).join(', ')}`,
  ];
  return lines.join('\n');
}

function countBy(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

const percent = (part: number, whole: number) => `${whole === 0 ? 0 : ((100 * part) / whole).toFixed(1)}%`;

function align(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((text, column) => (column === row.length - 1 ? text.padStart(widths[column]) : text.padEnd(widths[column]))).join('  '));
}
