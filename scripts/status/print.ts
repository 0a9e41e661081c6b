/** The fleet's status as a person reads it (a table) or as a machine does (JSON). */
import { byUrgency, type FleetSummary, formatAge, MAX_VERSIONS, STATES, STUCK_AFTER_MS, type TargetStatus } from './assess';

/** What the report says about how it was made. */
export interface StatusReport {
  generatedAt: string;
  region: string;
  intervalDays: number;
  graceHours: number;
  summary: FleetSummary;
  /** The targets shown: all, or those --only picks. */
  targets: TargetStatus[];
}

const TYPES: Record<string, string> = { replicate: 'replica set', sharding: 'sharded cluster' };

export function printJson(report: StatusReport): string {
  const targets = report.targets.map((t) => ({
    instanceId: t.instanceId,
    secretName: t.secretName,
    source: t.source,
    instance: t.instance ?? null,
    current: t.current ? { versionId: t.current.versionId, createTime: t.current.createTime, ageDays: ageDays(t.current.ageMs), dueAt: t.current.dueAt ?? null } : null,
    pending: t.pending ? { versionId: t.pending.versionId, createTime: t.pending.createTime, ageMinutes: minutes(t.pending.ageMs) } : null,
    versions: t.versionsUsed === undefined ? null : { used: t.versionsUsed, max: MAX_VERSIONS },
    state: t.state,
    attention: t.attention,
    problems: t.problems,
    action: t.action ?? null,
  }));
  return `${JSON.stringify({ ...report, stuckAfterMinutes: STUCK_AFTER_MS / 60_000, targets }, null, 2)}\n`;
}

export function printTable(report: StatusReport, filtered: boolean): string {
  const lines = [
    printable(
      `Rotation status of ${plural(report.summary.targets, 'target')} in ${report.region} at ${report.generatedAt}: interval ${report.intervalDays} days, ` +
        `overdue after ${report.graceHours} h more, a pending rotation stuck after ${STUCK_AFTER_MS / 60_000} min`,
    ),
  ];
  const rows = byUrgency(report.targets);
  if (rows.length > 0) {
    const now = Date.parse(report.generatedAt);
    lines.push(...table([...COLUMNS], rows.map((row) => COLUMNS.map((column) => shorten(rowOf(row, now)[column], 200)))));
  } else {
    lines.push(filtered ? '  no target matches --only' : '  no targets');
  }
  const attention = rows.filter((row) => row.attention);
  if (attention.length > 0) {
    lines.push('  why they need attention:');
    lines.push(...attention.map((row) => `    ${shorten(`${row.instanceId}  ${row.problems.map((p) => `${p.state}: ${p.message}`).join('; ')}`, 400)}`));
  }
  lines.push(`  ${summaryLine(report.summary)}`);
  return `${lines.join('\n')}\n`;
}

export function summaryLine(summary: FleetSummary): string {
  const counts = STATES.filter((s) => summary.states[s] > 0).map((s) => `${summary.states[s]} ${s}`);
  const attention = summary.attention === 0 ? 'nothing needs attention' : `${summary.attention} need${summary.attention === 1 ? 's' : ''} attention`;
  return `summary: ${plural(summary.targets, 'target')}, ${attention}${counts.length > 0 ? `: ${counts.join(', ')}` : ''}`;
}

/** The table's columns, and what each shows of a target. */
export const COLUMNS = ['instance', 'type', 'status', 'lock', 'secret', 'current', 'age', 'due', 'pending', 'versions', 'state', 'to do'] as const;
export type Column = (typeof COLUMNS)[number];

/** A target's row, as plain text (neither shortened nor escaped). */
export function rowOf(status: TargetStatus, now: number): Record<Column, string> {
  const { instance, current, pending } = status;
  const others = [...new Set(status.problems.slice(1).map((p) => p.state))].filter((state) => state !== status.state);
  return {
    instance: status.instanceId,
    type: instance ? (TYPES[instance.type ?? ''] ?? instance.type ?? '?') : '-',
    status: instance?.status ?? '-',
    lock: instance?.lockMode ?? '-',
    secret: status.secretName,
    current: current?.versionId ?? '-',
    age: current?.ageMs === undefined ? '-' : formatAge(current.ageMs),
    due: current?.dueAt ? dueText(current.dueAt, now) : '-',
    pending: pending ? `${pending.versionId} (${pending.ageMs === undefined ? 'age unknown' : formatAge(pending.ageMs)})` : '-',
    versions: status.versionsUsed === undefined ? '-' : `${status.versionsUsed}/${MAX_VERSIONS}`,
    state: `${status.state}${others.length > 0 ? ` (also ${others.join(', ')})` : ''}`,
    'to do': status.action ?? '-',
  };
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** `2026-08-05 (in 28d)`, `2026-06-20 (16d ago)`. */
function dueText(dueAt: string, now: number): string {
  const left = Date.parse(dueAt) - now;
  return `${dueAt.slice(0, 10)} (${left >= 0 ? `in ${formatAge(left)}` : `${formatAge(-left)} ago`})`;
}

const ageDays = (ms: number | undefined) => (ms === undefined ? null : Math.floor((ms / 86_400_000) * 10) / 10);
const minutes = (ms: number | undefined) => (ms === undefined ? null : Math.floor(ms / 60_000));

function table(columns: string[], rows: string[][]): string[] {
  const widths = columns.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (values: string[]) => `  ${values.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd();
  return [line(columns), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}

function shorten(text: string, max: number): string {
  const flat = printable(text);
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** On one line, without control characters (a terminal would act on escape sequences). */
export function printable(text: string): string {
  return text.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}
