/** The fault matrix as text: per scenario, one row per call and one column per fault; then the totals. */
import { FAULT_KINDS } from './kinds';
import { type CellResult, type MatrixResult, type Scenario, scenarioLabel, totals } from './matrix';
import type { RunOutcome } from './rig';

const SHORT: Record<RunOutcome, string> = {
  rotated: 'rot',
  resumed: 'res',
  skipped: 'skip',
  planned: 'plan',
  failed: 'fail',
  killed: 'kill',
  timeout: 'FC-timeout',
  'no report': 'none',
};

const LEGEND =
  'each cell: run 1 → run 2 (rot rotated, res resumed, skip skipped "already rotated by this trigger", fail failed, kill killed); ✗ marks a cell that broke a rule';

export function formatMatrix(result: MatrixResult, scenarios: Scenario[]): string {
  const blocks = scenarios.map((scenario, index) => formatScenario(scenario, result.positions[index], result.cells.filter((c) => c.scenario === scenario)));
  return [LEGEND, '', ...blocks, formatProblems(result.cells), formatTotals(result)].filter((b) => b !== '').join('\n');
}

function formatScenario(scenario: Scenario, positions: MatrixResult['positions'][number], cells: CellResult[]): string {
  const kinds = FAULT_KINDS.filter((k) => cells.some((c) => c.fault.id === k.id));
  const header = ['call', ...kinds.map((k) => k.label)];
  const struck = positions.filter((position) => cells.some((c) => c.position.label === position.label));
  const rows = struck.map((position) => [
    position.label,
    ...kinds.map((kind) => {
      const cell = cells.find((c) => c.position.label === position.label && c.fault.id === kind.id);
      return cell ? formatCell(cell) : '';
    }),
  ]);
  const title = `${scenarioLabel(scenario)}: ${struck.length} calls × ${kinds.length} faults`;
  return [title, ...alignColumns([header, ...rows]), ''].join('\n');
}

function formatCell(cell: CellResult): string {
  const text = `${SHORT[cell.run1]} → ${SHORT[cell.run2]}`;
  return cell.problems.length > 0 ? `✗ ${text}` : text;
}

function alignColumns(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => [...row[column]].length)));
  return rows.map((row) => row.map((text, column) => text.padEnd(widths[column])).join('  ').trimEnd());
}

function formatProblems(cells: CellResult[]): string {
  const broken = cells.filter((c) => c.problems.length > 0);
  if (broken.length === 0) return '';
  const lines = broken.map((c) => `  ${scenarioLabel(c.scenario)} · ${c.position.label} · ${c.fault.label} (${c.instanceId}): ${c.problems.join('; ')}`);
  return ['cells that broke a rule:', ...lines, ''].join('\n');
}

function formatTotals(result: MatrixResult): string {
  const sum = totals(result);
  const byKind = sum.byKind.map((k) => `  ${k.kind.label.padEnd(14)} ${k.held}/${k.cells} cells held`);
  const verdict = sum.held === sum.cells ? 'every cell held' : `${sum.cells - sum.held} cell(s) broke a rule`;
  return [`faults survived, by kind:`, ...byKind, `total: ${sum.held}/${sum.cells} cells held, ${sum.violations} invariant violation(s): ${verdict}`].join('\n');
}
