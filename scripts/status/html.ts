/**
 * The fleet's status as one self-contained page: no script, no external style, font or image, and a
 * Content-Security-Policy that forbids fetching anything, so that it opens the same from a file, a mail
 * attachment or an offline laptop. The attention list comes first, then the secrets' ages as a chart
 * (inline SVG) against the interval and the grace, then every target in a table.
 */
import { byUrgency, formatAge, STATE_MEANINGS, STATES, type State, STUCK_AFTER_MS, type TargetStatus } from './assess';
import { COLUMNS, rowOf, type StatusReport, summaryLine } from './print';

const DAY_MS = 86_400_000;
/** A group of more targets than this starts folded, so that the chart stays near the top. */
const OPEN_GROUP_LIMIT = 20;

const COLOURS: Record<State, string> = {
  'instance-missing': '#37474f',
  unreadable: '#546e7a',
  'secret-missing': '#ad1457',
  locked: '#6d4c41',
  stuck: '#6a1b9a',
  overdue: '#c62828',
  'many-versions': '#ef6c00',
  rotating: '#1565c0',
  due: '#f9a825',
  fresh: '#2e7d32',
};

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#212121;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#616161;margin:0}.summary{font-weight:600;margin:8px 0 0}
.state{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px;font-weight:600;white-space:nowrap}
#attention details{margin:6px 0}#attention summary{cursor:pointer;font-weight:600}
#attention ol{padding-left:28px;margin:4px 0}#attention li{margin:2px 0}
#attention .why{color:#424242}#attention .todo{color:#0d47a1}
.calm{color:#2e7d32;font-weight:600}
svg{background:#fff;border:1px solid #e0e0e0;max-width:100%;height:auto}
.legend span{margin-right:12px;white-space:nowrap}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.scroll{overflow-x:auto}table{border-collapse:collapse;background:#fff;font-size:13px}
th,td{border:1px solid #e0e0e0;padding:3px 6px;text-align:left;vertical-align:top}td:first-child{white-space:nowrap}td:last-child{min-width:20em}
th{background:#eeeeee;position:sticky;top:0}tr.attention td:first-child{border-left:4px solid #c62828}
`;

export function renderHtml(report: StatusReport): string {
  const { summary } = report;
  const title = `Rotation status: ${summary.targets} targets, ${summary.attention === 0 ? 'nothing needs attention' : `${summary.attention} need attention`}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>MongoDB root rotation: status</h1>
<p class="meta">${esc(`Region ${report.region}, read at ${report.generatedAt}. Interval ${report.intervalDays} days; overdue after ${report.graceHours} h more; a pending rotation is stuck after ${STUCK_AFTER_MS / 60_000} min. No secret value was read.`)}</p>
<p class="summary" id="summary">${esc(summaryLine(summary))}</p>
</header>
${attentionSection(report)}
${chartSection(report)}
${tableSection(report)}
</body>
</html>
`;
}

/** The targets that need attention, grouped by state, most urgent first; a large group starts folded. */
function attentionSection(report: StatusReport): string {
  const rows = byUrgency(report.targets).filter((t) => t.attention);
  if (rows.length === 0) return `<section id="attention"><h2>Needs attention</h2><p class="calm">Nothing needs attention.</p></section>`;
  const groups = STATES.map((state) => ({ state, targets: rows.filter((t) => t.state === state) })).filter((g) => g.targets.length > 0);
  const details = groups.map(({ state, targets }) => {
    const items = targets.map(
      (t) =>
        `<li data-instance="${esc(t.instanceId)}" data-state="${t.state}"><strong>${esc(t.instanceId)}</strong> ` +
        `<span class="why">${esc(t.problems.map((p) => p.message).join('; '))}</span> <span class="todo">To do: ${esc(t.action ?? '-')}</span></li>`,
    );
    const count = `${targets.length} target${targets.length === 1 ? '' : 's'}`;
    return (
      `<details${targets.length <= OPEN_GROUP_LIMIT ? ' open' : ''} data-state="${state}"><summary>${badge(state)} ${count}: ${esc(STATE_MEANINGS[state])}</summary>` +
      `<ol>\n${items.join('\n')}\n</ol></details>`
    );
  });
  return `<section id="attention"><h2>Needs attention (${rows.length})</h2>\n${details.join('\n')}\n</section>`;
}

function chartSection(report: StatusReport): string {
  const charted = report.targets.filter((t) => t.current?.ageMs !== undefined).sort((a, b) => b.current!.ageMs! - a.current!.ageMs!);
  const left = report.targets.length - charted.length;
  const note = left > 0 ? `<p class="meta">${left} target${left === 1 ? ' has' : 's have'} no age to chart (no secret, or it could not be read): see the list above.</p>` : '';
  const states = STATES.filter((s) => charted.some((t) => t.state === s));
  const legend = states.map((s) => `<span><i class="swatch" style="background:${COLOURS[s]}"></i>${s}: ${esc(STATE_MEANINGS[s])}</span>`).join('');
  return `<section id="ages"><h2>Age of each secret’s ACSCurrent against the interval</h2>
${chart(charted, report.intervalDays, report.graceHours)}
<p class="legend">${legend}</p>${note}</section>`;
}

/** One bar per target, oldest first; lines at the interval and at the interval plus the grace. */
function chart(targets: TargetStatus[], intervalDays: number, graceHours: number): string {
  const [width, height] = [1000, 320];
  const margin = { top: 24, right: 16, bottom: 28, left: 48 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const overdueDays = intervalDays + graceHours / 24;
  const ages = targets.map((t) => t.current!.ageMs! / DAY_MS);
  const highest = ages.reduce((max, age) => Math.max(max, age * 1.05), overdueDays * 1.15);
  const tickStep = niceStep(highest / 4);
  const top = tickStep * Math.ceil(highest / tickStep);
  const y = (days: number) => margin.top + plotHeight - (Math.min(days, top) / top) * plotHeight;
  const step = plotWidth / Math.max(targets.length, 1);
  const barWidth = Math.max(step * 0.8, 0.5);

  const ticks = Array.from({ length: Math.round(top / tickStep) + 1 }, (_, i) => tickStep * i).map(
    (days) =>
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${fix(y(days))}" y2="${fix(y(days))}" stroke="#eeeeee"/>` +
      `<text x="${margin.left - 6}" y="${fix(y(days) + 4)}" text-anchor="end" font-size="11" fill="#757575">${Math.round(days)}d</text>`,
  );
  const bars = targets.map((t, i) => {
    const age = ages[i];
    const x = margin.left + i * step + (step - barWidth) / 2;
    const label = `${t.instanceId}: ${formatAge(t.current!.ageMs!)} old, ${t.state}`;
    return (
      `<rect class="bar" data-instance="${esc(t.instanceId)}" data-state="${t.state}" x="${fix(x)}" y="${fix(y(age))}" width="${fix(barWidth)}" ` +
      `height="${fix(Math.max(y(0) - y(age), 1))}" fill="${COLOURS[t.state]}"><title>${esc(label)}</title></rect>`
    );
  });
  // The two lines can lie close together: one is labelled on the left, the other on the right.
  const threshold = (id: string, days: number, colour: string, text: string, side: 'start' | 'end') =>
    `<g id="${id}"><line x1="${margin.left}" x2="${width - margin.right}" y1="${fix(y(days))}" y2="${fix(y(days))}" stroke="${colour}" stroke-width="1.5" stroke-dasharray="6 4"/>` +
    `<text x="${side === 'start' ? margin.left + 4 : width - margin.right}" y="${fix(side === 'start' ? y(days) + 13 : y(days) - 5)}" text-anchor="${side}" font-size="11" font-weight="600" ` +
    `fill="${colour}" stroke="#fff" stroke-width="3" paint-order="stroke">${esc(text)}</text></g>`;
  const empty = targets.length === 0 ? `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#757575">no secret to chart</text>` : '';
  return (
    `<svg id="age-chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
    `aria-label="${esc(`Age in days of ${targets.length} secrets against the ${intervalDays}-day interval`)}">\n` +
    `${ticks.join('\n')}\n${bars.join('\n')}\n` +
    `${threshold('interval-line', intervalDays, '#e65100', `interval: ${intervalDays}d (due)`, 'start')}\n` +
    `${threshold('overdue-line', overdueDays, '#c62828', `overdue after ${fix(overdueDays)}d`, 'end')}\n` +
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${fix(y(0))}" y2="${fix(y(0))}" stroke="#9e9e9e"/>` +
    `<text x="${margin.left}" y="${height - 8}" font-size="11" fill="#757575">${targets.length} secrets, oldest first</text>${empty}\n</svg>`
  );
}

function tableSection(report: StatusReport): string {
  const now = Date.parse(report.generatedAt);
  const rows = byUrgency(report.targets).map((t) => {
    const row = rowOf(t, now);
    const cells = COLUMNS.map((column) => {
      if (column === 'state') return badge(t.state) + esc(row.state.slice(t.state.length));
      if (column === 'secret') return esc(row.secret).replaceAll('/', '/<wbr>');
      return esc(row[column]);
    });
    return `<tr class="${t.attention ? 'attention' : 'calm-row'}" data-instance="${esc(t.instanceId)}">${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  return `<section id="fleet"><h2>Every target (${report.targets.length})</h2><div class="scroll"><table>
<thead><tr>${COLUMNS.map((h) => `<th>${h}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div></section>`;
}

const badge = (state: State) => `<span class="state" style="background:${COLOURS[state]}">${state}</span>`;
const fix = (n: number) => String(Math.round(n * 10) / 10);

/** The axis step: the least of 1, 2 or 5 times a power of ten (at least a day) that is at least `value`. */
function niceStep(value: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(value, 1)));
  return [1, 2, 5, 10].map((m) => m * power).find((n) => n >= value) ?? 10 * power;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
