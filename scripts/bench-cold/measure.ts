/**
 * Cold-load timing: each sample is a fresh `node -e` process with nothing but PATH in its
 * environment (as FC starts an instance). The child times its own loading with hrtime; the parent
 * times the whole process, from spawn to exit, which includes Node's own start-up.
 */
import { spawnSync } from 'node:child_process';

export interface Variant {
  name: string;
  /** Where the child runs (module resolution starts there). */
  cwd: string;
  /** Code the child times, run inside an async function; none for the bare `node` baseline. */
  load?: string;
}

export interface Sample {
  /** What the child measured around `load`. */
  loadMs?: number;
  /** Spawn to exit, as the parent saw it. */
  processMs: number;
}

export interface Summary {
  median: number;
  p90: number;
}

function childScript(load: string | undefined): string {
  if (load === undefined) return '';
  return [
    'const started = process.hrtime.bigint();',
    `(async () => { ${load} })().then(`,
    "  () => process.stdout.write('\\n' + JSON.stringify({ loadMs: Number(process.hrtime.bigint() - started) / 1e6 })),",
    '  (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); },',
    ');',
  ].join('\n');
}

export function measureOnce(variant: Variant): Sample {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['-e', childScript(variant.load)], {
    cwd: variant.cwd,
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) {
    const why = child.error?.message ?? child.stderr.trim().split('\n').slice(0, 3).join(' | ');
    throw new Error(`${variant.name}: the node process failed (${why || `exit ${child.status ?? child.signal}`})`);
  }
  if (variant.load === undefined) return { processMs };
  // The last line: what the loaded code printed, if anything, comes before it.
  const { loadMs } = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as { loadMs: number };
  return { loadMs, processMs };
}

/**
 * `runs` samples per variant after one warm-up each (file cache), taken round-robin so that the
 * machine's background noise falls on every variant alike.
 */
export function measureAll(variants: Variant[], runs: number): Map<Variant, Sample[]> {
  for (const variant of variants) measureOnce(variant);
  const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
  for (let run = 0; run < runs; run++) {
    for (const variant of variants) samples.get(variant)!.push(measureOnce(variant));
  }
  return samples;
}

/** Median and 90th percentile (nearest rank). */
export function summarize(values: number[]): Summary {
  if (values.length === 0) throw new Error('no sample to summarize');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  const p90 = sorted[Math.ceil(0.9 * sorted.length) - 1];
  return { median, p90 };
}
