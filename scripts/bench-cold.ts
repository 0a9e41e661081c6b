/**
 * `npm run bench:cold [-- --runs 15]`: how lean the rotate function's bundle is and how fast it
 * starts. Builds with scripts/build.mjs into a temporary folder, prints the bundle's size, its
 * largest inputs and the modules left out of it, checks that it holds only function code, then
 * times loading it in fresh `node` processes next to loading the same SDKs unbundled from the
 * repository's node_modules (and prints the ratio of the two medians), and the bundle plus the
 * `mongodb` driver that the first login check (VERIFY_LOGIN) imports lazily.
 * Exits 1 when a check fails.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { analyzeBundle, type BundleFacts, buildFunctions, PROJECT_ROOT, readMetafile } from './bench-cold/bundle';
import { measureAll, type Variant } from './bench-cold/measure';
import { bundleLines, type Check, checkLines, leftOutLine, ratioLine, timingLines } from './bench-cold/report';

const FUNCTION_NAME = 'rotate';
const DRIVER = 'mongodb';
const TOP_INPUTS = 10;

function parseRuns(argv: string[]): number {
  const { values } = parseArgs({ args: argv, strict: true, options: { runs: { type: 'string', default: '15' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new Error(`--runs must be a whole number from 1 to 1000, got ${JSON.stringify(values.runs)}`);
  return runs;
}

function nodeModulesAbove(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, 'node_modules'))) return join(current, 'node_modules');
    if (current === parse(current).root) return undefined;
  }
}

function checks(facts: BundleFacts, codeDir: string): Check[] {
  const found = nodeModulesAbove(dirname(codeDir));
  return [
    {
      label: 'no input from local-cloud/, test/ or scripts/ (only functions/ and node_modules/)',
      ok: facts.strayInputs.length === 0,
      detail: facts.strayInputs.slice(0, 5).join(', '),
    },
    { label: 'the bundle is loaded from a folder with no node_modules above it', ok: found === undefined, detail: found },
    {
      label: `the ${DRIVER} driver is not in index.js`,
      ok: !facts.eagerPackages.includes(DRIVER) && !facts.packages.some((p) => p.name === DRIVER),
      detail: 'bundled into index.js',
    },
  ];
}

function driverLine(facts: BundleFacts): string {
  if (!facts.lazyPackages.includes(DRIVER)) return `${DRIVER}  not shipped: the function does not import the driver`;
  const kib = Math.round(facts.lazyBytes / 1024);
  return `${DRIVER}  bundled apart (${kib} KiB in node_modules/${DRIVER}/index.js): read only by the first login check (VERIFY_LOGIN)`;
}

/** The timed variants; the driver's only when the function ships it. */
function variants(work: string, codeDir: string, facts: BundleFacts): { list: Variant[]; bundle: Variant; unbundled: Variant } {
  const shipped = `dist/${FUNCTION_NAME}/index.js`;
  const bundle: Variant = { name: `bundle (${shipped})`, cwd: codeDir, load: "require('./index.js');" };
  const unbundled: Variant = { name: 'same SDKs, unbundled', cwd: PROJECT_ROOT, load: facts.eagerPackages.map((p) => `require(${JSON.stringify(p)});`).join(' ') };
  const list: Variant[] = [{ name: 'node alone', cwd: work }, bundle, unbundled];
  if (facts.lazyPackages.includes(DRIVER)) {
    list.push({ name: `bundle + ${DRIVER} driver (first login check)`, cwd: codeDir, load: `require('./index.js'); require(${JSON.stringify(DRIVER)});` });
  }
  return { list, bundle, unbundled };
}

async function main(): Promise<number> {
  const runs = parseRuns(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  try {
    const distDir = join(work, 'dist');
    buildFunctions(distDir);
    const codeDir = join(distDir, FUNCTION_NAME);
    const facts = analyzeBundle(readMetafile(distDir, FUNCTION_NAME));
    const bundle = readFileSync(join(codeDir, 'index.js'));
    const results = checks(facts, codeDir);
    const lines = [
      `npm run bench:cold: the ${FUNCTION_NAME} function's bundle, built by scripts/build.mjs`,
      '',
      ...bundleLines(`dist/${FUNCTION_NAME}/index.js`, facts, gzipSync(bundle).length, TOP_INPUTS),
      leftOutLine(facts),
      ...checkLines(results),
      driverLine(facts),
      `unbundled: the packages the function's code imports, from the repository's node_modules: ${facts.eagerPackages.join(', ')}`,
      '',
    ];
    console.log(lines.join('\n'));
    const timed = variants(work, codeDir, facts);
    const samples = measureAll(timed.list, runs);
    console.log([...timingLines(samples, runs), ratioLine(samples, timed.bundle, timed.unbundled)].join('\n'));
    return results.every((c) => c.ok) ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench:cold failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
