// Bundles every function (functions/<name>/index.ts) into dist/<name>/index.js: CommonJS for FC's nodejs20
// runtime, every dependency inside, so that `code: ./dist/<name>` with `handler: index.handler` runs it as is.
// `--outdir DIR` builds into DIR/<name>/ instead of dist/ (the tests build into a temporary folder).
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const functionsDir = join(root, 'functions');
const { values: args } = parseArgs({ options: { outdir: { type: 'string' } } });
const distDir = args.outdir ? resolve(args.outdir) : join(root, 'dist');

const functionNames = readdirSync(functionsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(functionsDir, entry.name, 'index.ts')))
  .map((entry) => entry.name)
  .sort();

if (functionNames.length === 0) {
  console.error(`no function to build: expected functions/<name>/index.ts under ${functionsDir}`);
  process.exit(1);
}

for (const name of functionNames) {
  const outdir = join(distDir, name);
  const outfile = join(outdir, 'index.js');
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: [join(functionsDir, name, 'index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  const shown = outfile.startsWith(root) ? relative(root, outfile) : outfile;
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  console.log(`built ${shown} (${Math.round(bytes / 1024)} KiB)`);
}
