/** Prints one demo run as a table a person reads at a glance. No password is ever at hand here. */
import type { RunCheck, TargetRow } from './check';
import type { DemoStep } from './scenario';

const COLUMNS = ['instance', 'type', 'roles', 'outcome', 'version', 'duration', 'KMS = DB', 'note'] as const;

export function printRun(step: DemoStep, check: RunCheck): void {
  console.log(`${step.title}: invocation ${check.invocation.status} in ${check.invocation.durationMs} ms`);
  const rows = check.rows.map(cells);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (row: readonly string[]) => `  ${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd();
  console.log(line(COLUMNS));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  if (check.summary) {
    const parts = Object.entries(check.summary).map(([outcome, count]) => `${count} ${outcome}`);
    console.log(`  summary: ${parts.join(', ')}`);
  }
  console.log('');
}

function cells(row: TargetRow): string[] {
  const { target, result } = row;
  const expectedNote = result?.outcome === row.expected ? '' : ` (expected ${row.expected})`;
  return [
    target.instanceId,
    target.type === 'sharding' ? 'sharded cluster' : 'replica set',
    result?.characterTypes?.join('+') ?? '-',
    `${result?.outcome ?? 'no result'}${expectedNote}`,
    result?.versionId ?? '-',
    result?.durationMs === undefined ? '-' : `${result.durationMs} ms`,
    row.kmsMatchesDatabase ? 'yes' : 'NO',
    note(row),
  ];
}

function note(row: TargetRow): string {
  const { result } = row;
  if (!result) return '';
  if (result.error) return shorten(`${result.error.code}: ${result.error.message}`, 100);
  return result.reason ?? '';
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
