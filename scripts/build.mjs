// Bundles every function (functions/<name>/index.ts) into dist/<name>/index.js: CommonJS for FC's nodejs20
// runtime, every dependency inside, so that `code: ./dist/<name>` with `handler: index.handler` runs it as is.
// `--outdir DIR` builds into DIR/<name>/ instead of dist/ (the tests build into a temporary folder).
// `--metafile` also writes esbuild's metafile of each bundle to DIR/<name>.meta.json, beside the
// function's code folder rather than in it (scripts/bench-cold.ts reads it).
//
// Packages a function imports only lazily (the MongoDB driver, loaded for the login check) stay out
// of index.js: a function that imports one gets it bundled on its own into
// dist/<name>/node_modules/<package>/index.js, where Node's require finds it at the first import, so
// a function that never checks a login neither reads nor parses the driver when it starts.
//
// Modules the SDKs require but the functions never reach (WebSockets, local files, moment, lodash,
// building XML: see scripts/build/left-out.mjs) are left out of the bundles: a stub takes the place
// of each, which fails loudly, naming the module, if anything ever touches it.
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { leaveOut } from './build/left-out.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const functionsDir = join(root, 'functions');
const { values: args } = parseArgs({ options: { outdir: { type: 'string' }, metafile: { type: 'boolean', default: false } } });
const distDir = args.outdir ? resolve(args.outdir) : join(root, 'dist');

const functionNames = readdirSync(functionsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(functionsDir, entry.name, 'index.ts')))
  .map((entry) => entry.name)
  .sort();

const LAZY_PACKAGES = ['mongodb'];
const requireFromRoot = createRequire(join(root, 'package.json'));

const common = {
  // Metafile paths relative to the repository, wherever the build is started from.
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // import() becomes require(): the lazily loaded packages are CommonJS bundles in node_modules/.
  supported: { 'dynamic-import': false },
};

if (functionNames.length === 0) {
  console.error(`no function to build: expected functions/<name>/index.ts under ${functionsDir}`);
  process.exit(1);
}

for (const name of functionNames) {
  const outdir = join(distDir, name);
  const outfile = join(outdir, 'index.js');
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({ ...common, entryPoints: [join(functionsDir, name, 'index.ts')], outfile, external: LAZY_PACKAGES, plugins: [leaveOut()] });
  for (const pkg of lazyImportsOf(result.metafile)) {
    const lazy = await build({ ...common, entryPoints: [requireFromRoot.resolve(pkg)], outfile: join(outdir, 'node_modules', pkg, 'index.js') });
    mergeMetafile(result.metafile, lazy.metafile);
  }
  if (args.metafile) writeFileSync(join(distDir, `${name}.meta.json`), JSON.stringify(result.metafile));
  const shown = outfile.startsWith(root) ? relative(root, outfile) : outfile;
  const kib = (file) => `${Math.round(statSync(file).size / 1024)} KiB`;
  const lazy = lazyImportsOf(result.metafile).map((pkg) => `, ${pkg} loaded lazily: ${kib(join(outdir, 'node_modules', pkg, 'index.js'))}`);
  console.log(`built ${shown} (${kib(outfile)}${lazy.join('')})`);
}

/** The lazy packages a bundle imports (esbuild lists an external import with `external: true`). */
function lazyImportsOf(metafile) {
  const imported = Object.values(metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
  return LAZY_PACKAGES.filter((pkg) => imported.includes(pkg));
}

function mergeMetafile(into, from) {
  Object.assign(into.inputs, from.inputs);
  Object.assign(into.outputs, from.outputs);
}
