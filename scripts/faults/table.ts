/** The fault matrix as text: per scenario and family of faults, one row per call and one column per fault; then the totals. */
import type { KindFamily } from './kinds';
import { type CellResult, type MatrixResult, type Scenario, kindsOf, scenarioLabel, totals } from './matrix';
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

const LEGEND = [
  'each cell: run 1 → run 2 (rot rotated, res resumed, skip skipped "already rotated by this trigger", fail failed, kill killed); ✗ marks a cell that broke a rule',
  'a cloud that lags: "lag 2s" KMS reads up to 2 s behind from that call on; "late 10s" that reset lands 10 s late, the instance staying Running',
  '(or showing NodeRestarting until it lands: "status"); "+login" with the login check on',
].join('\n');

const FAMILIES: Record<KindFamily, string> = { call: 'faults of one call', 'read-lag': 'KMS reads that lag', 'late-apply': 'resets that land late' };

export function formatMatrix(result: MatrixResult, scenarios: Scenario[]): string {
  const blocks = scenarios.flatMap((scenario, index) =>
    (Object.keys(FAMILIES) as KindFamily[]).map((family) =>
      formatScenario(scenario, family, result.positions[index], result.cells.filter((c) => c.scenario === scenario && c.fault.family === family)),
    ),
  );
  return [LEGEND, '', ...blocks, formatProblems(result.cells), formatTotals(result)].filter((b) => b !== '').join('\n');
}

function formatScenario(scenario: Scenario, family: KindFamily, positions: MatrixResult['positions'][number], cells: CellResult[]): string {
  if (cells.length === 0) return '';
  const kinds = kindsOf(cells);
  const header = ['call', ...kinds.map((k) => k.label)];
  const struck = positions.filter((position) => cells.some((c) => c.position.label === position.label));
  const rows = struck.map((position) => [
    position.label,
    ...kinds.map((kind) => {
      const cell = cells.find((c) => c.position.label === position.label && c.fault.id === kind.id);
      return cell ? formatCell(cell) : '·';
    }),
  ]);
  const title = `${scenarioLabel(scenario)}, ${FAMILIES[family]}: ${struck.length} calls × ${kinds.length} faults, ${cells.length} cells`;
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
  const width = Math.max(...sum.byKind.map((k) => k.kind.label.length)) + 1;
  const byKind = sum.byKind.map((k) => `  ${k.kind.label.padEnd(width)} ${k.held}/${k.cells} cells held`);
  const verdict = sum.held === sum.cells ? 'every cell held' : `${sum.cells - sum.held} cell(s) broke a rule`;
  return [
    `faults survived, by kind:`,
    ...byKind,
    ...lagFigures(result.cells),
    `total: ${sum.held}/${sum.cells} cells held, ${sum.violations} breach(es) of the rule each cell keeps: ${verdict}`,
  ].join('\n');
}

/** What a cloud that lags made the function do: wait for its own writes; promote before a late reset landed, where nothing showed it. */
function lagFigures(cells: CellResult[]): string[] {
  const lagging = cells.filter((c) => c.fault.family === 'read-lag');
  const late = cells.filter((c) => c.fault.family === 'late-apply');
  const lines: string[] = [];
  if (lagging.length > 0) {
    const waited = lagging.filter((c) => c.ownWriteWaits > 0);
    lines.push(`read lag: run 1 waited for KMS to show its own write in ${waited.length} of ${lagging.length} cells (${waited.reduce((n, c) => n + c.ownWriteWaits, 0)} waits)`);
  }
  if (late.length > 0) {
    const unseen = late.filter((c) => c.fault.rule === 'readable');
    const early = (of: CellResult[]) => of.filter((c) => c.earlyPromotes > 0).length;
    lines.push(
      `late apply: ACSCurrent moved before the reset landed in ${early(unseen)} of ${unseen.length} cells where nothing showed it (Running, no login check; ` +
        `${unseen.reduce((n, c) => n + c.allowedBreaches, 0)} invariant breaches, all closed by the landing), in ${early(late) - early(unseen)} of ${late.length - unseen.length} others`,
    );
  }
  return lines;
}
