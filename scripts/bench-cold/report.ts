/** The text `npm run bench:cold` prints. */
import { LEFT_OUT, stubName } from '../build/left-out.mjs';
import type { BundleFacts } from './bundle';
import { type Sample, summarize, type Variant } from './measure';

export interface Check {
  label: string;
  ok: boolean;
  /** Shown when the check fails. */
  detail?: string;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const grouped = (n: number) => n.toLocaleString('en-US');
const ms = (value: number) => value.toFixed(1).padStart(7);

export function bundleLines(shown: string, facts: BundleFacts, gzipBytes: number, top: number): string[] {
  const lines = [
    `bundle   ${shown}: ${grouped(facts.outputBytes)} bytes (${kib(facts.outputBytes)}), gzip ${grouped(gzipBytes)} bytes (${kib(gzipBytes)})`,
    `largest inputs, by package (bytes in the bundle):`,
  ];
  for (const share of facts.packages.slice(0, top)) {
    const files = `${share.files} file${share.files === 1 ? '' : 's'}`;
    lines.push(`  ${kib(share.bytes).padStart(8)}  ${share.name} (${files})`);
  }
  const rest = facts.packages.slice(top);
  if (rest.length > 0) lines.push(`  ${kib(rest.reduce((sum, s) => sum + s.bytes, 0)).padStart(8)}  ${rest.length} more packages`);
  return lines;
}

/** The modules a stub stands in for; a package left out only where one importer requires it says so. */
export function leftOutLine(facts: BundleFacts): string {
  if (facts.leftOut.length === 0) return 'left out  nothing: every module the SDKs require is bundled';
  const shown = facts.leftOut.map((name) => {
    const entry = LEFT_OUT.find((candidate) => stubName(candidate) === name);
    return entry?.importer && !entry.module.startsWith('.') ? `${name} (as ${entry.importer} requires it)` : name;
  });
  return `left out  ${shown.join(', ')}: never reached, a stub that fails loudly stands in (scripts/build/left-out.mjs)`;
}

export function checkLines(checks: Check[]): string[] {
  return checks.map((c) => `check    ${c.label}: ${c.ok ? 'ok' : `FAILED${c.detail ? ` (${c.detail})` : ''}`}`);
}

export function timingLines(samples: Map<Variant, Sample[]>, runs: number): string[] {
  const nameWidth = Math.max(...[...samples.keys()].map((v) => v.name.length));
  const lines = [
    `time to load, ${runs} fresh node processes per variant (ms):`,
    `  ${''.padEnd(nameWidth)}   load: median     p90   process: median     p90`,
  ];
  for (const [variant, taken] of samples) {
    const loads = taken.flatMap((s) => (s.loadMs === undefined ? [] : [s.loadMs]));
    const load = loads.length > 0 ? summarize(loads) : undefined;
    const wall = summarize(taken.map((s) => s.processMs));
    const loadText = load ? `${ms(load.median)} ${ms(load.p90)}` : `${'-'.padStart(7)} ${'-'.padStart(7)}`;
    lines.push(`  ${variant.name.padEnd(nameWidth)}         ${loadText}            ${ms(wall.median)} ${ms(wall.p90)}`);
  }
  lines.push('  load: measured inside the child around the require()s; process: spawn to exit, Node start-up included');
  return lines;
}

/** The bundle's load median as a share of the unbundled SDKs' (and the same for whole processes). */
export function ratioLine(samples: Map<Variant, Sample[]>, bundle: Variant, unbundled: Variant): string {
  const median = (variant: Variant, pick: (s: Sample) => number | undefined) =>
    summarize((samples.get(variant) ?? []).map(pick).filter((value): value is number => value !== undefined)).median;
  const percent = (pick: (s: Sample) => number | undefined) => `${Math.round((100 * median(bundle, pick)) / median(unbundled, pick))}%`;
  return `ratio    bundle / unbundled SDKs, medians: load ${percent((s) => s.loadMs)}, whole process ${percent((s) => s.processMs)}`;
}
