/** An invocation's outcome as a person reads it (a table per target) or as a machine does (JSON). */
import type { RotationReport } from '../../functions/rotate/report';
import type { TriggerSummary } from '../../functions/shared/trigger';
import type { InvokeOutcome, ReportMissing } from './outcome';

export interface Printed {
  stdout: string;
  stderr: string;
}

const REPORT_MISSING: Record<ReportMissing, string> = {
  cut: "the function logged its report, but not within the last 4 KB of log that FC returns; read it in the function's logs",
  'no-log': "the function logged its report, but FC returned no log (is the function's logConfig set?); read it in the function's logs",
};

export function printJson(outcome: InvokeOutcome): Printed {
  const json = (value: unknown) => ({ stdout: `${JSON.stringify(value, null, 2)}\n`, stderr: '' });
  switch (outcome.kind) {
    case 'accepted':
      return json({ accepted: true, requestId: outcome.requestId });
    case 'report':
      return json(outcome.report);
    case 'failed':
      return json({
        error: { type: outcome.failure.errorType, message: outcome.failure.errorMessage, requestId: outcome.requestId },
        ...(outcome.reportMissing && { note: REPORT_MISSING[outcome.reportMissing] }),
      });
    case 'error':
      return json({ error: outcome.error });
  }
}

export function printText(outcome: InvokeOutcome, functionName: string): Printed {
  switch (outcome.kind) {
    case 'accepted':
      return {
        stdout:
          `Accepted: asynchronous invocation of ${functionName}, request id ${outcome.requestId}.\n` +
          `Follow it in the function's logs (search for the request id); a failed run is retried as the function's ` +
          `async configuration says, then sent to its failure destination.\n`,
        stderr: '',
      };
    case 'report':
      return { stdout: reportText(outcome.report, outcome.requestId), stderr: outcome.failure ? failureText(outcome.report, outcome.failure.errorMessage) : '' };
    case 'failed':
      return {
        stdout: '',
        stderr:
          `The invocation failed (${printable(outcome.failure.errorType)}): ${printable(outcome.failure.errorMessage)}\n` +
          `Request id: ${outcome.requestId}\n${outcome.reportMissing ? `Note: ${REPORT_MISSING[outcome.reportMissing]}.\n` : ''}`,
      };
    case 'error': {
      const { code, message, requestId } = outcome.error;
      return { stdout: '', stderr: `InvokeFunction failed: ${printable(code)}: ${printable(message)}${requestId ? ` (request id ${printable(requestId)})` : ''}\n` };
    }
  }
}

function reportText(report: RotationReport, requestId: string): string {
  const request = requestId === report.rotationId ? '' : `; request id ${requestId}`;
  const lines = [printable(`Rotation ${report.rotationId}: ${describeTrigger(report.trigger)}${report.dryRun ? ' (dry run: nothing was changed)' : ''}${request}`)];
  // An account column when application users are among the targets: which user, and how it is rotated.
  const accounts = report.results.some((result) => result.accountName !== undefined);
  const columns = ['instance', ...(accounts ? ['account'] : []), 'roles', 'outcome', 'version', 'attempts', 'duration', 'note'];
  if (report.results.length === 0) lines.push('  no target to rotate');
  else lines.push(...table(columns, report.results.map((result) => resultCells(result, accounts))));
  const summary = Object.entries(report.summary).map(([outcome, count]) => `${count} ${outcome}`);
  lines.push(`  summary: ${summary.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function failureText(report: RotationReport, errorMessage: string): string {
  const resume = report.trigger.kind === 'manual' && !report.dryRun ? `\nRun again with --rotation-id ${report.rotationId} to resume this rotation rather than start another.` : '';
  return `The invocation failed: ${printable(errorMessage)}${resume}\n`;
}

function describeTrigger(trigger: TriggerSummary): string {
  switch (trigger.kind) {
    case 'timer':
      return `timer ${trigger.triggerName} at ${trigger.triggerTime}`;
    case 'event':
      return `event from ${trigger.source} (${trigger.type})${reasonOf(trigger.reason)}`;
    case 'manual':
      return `manual${trigger.force ? ', forced' : ''}${reasonOf(trigger.reason)}`;
  }
}

const reasonOf = (reason: string | undefined) => (reason === undefined ? '' : `: ${JSON.stringify(shorten(reason, 80))}`);

function resultCells(result: RotationReport['results'][number], accounts: boolean): string[] {
  const note = result.error ? `${result.error.code}: ${result.error.message}${result.error.requestId ? ` (request id ${result.error.requestId})` : ''}` : (result.reason ?? '');
  const account = result.accountName === undefined ? 'root' : `${printable(result.accountName)} (${printable(result.strategy ?? '?')})`;
  return [
    printable(result.instanceId),
    ...(accounts ? [account] : []),
    result.characterTypes.join('+') || '-',
    result.outcome,
    printable(result.versionId ?? '-'),
    String(result.attempts),
    `${result.durationMs} ms`,
    shorten(note, 120),
  ];
}

function table(columns: string[], rows: string[][]): string[] {
  const widths = columns.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `  ${cells.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd();
  return [line(columns), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}

function shorten(text: string, max: number): string {
  const flat = printable(text);
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** On one line, without control characters (a terminal would act on escape sequences). */
function printable(text: string): string {
  return text.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}
