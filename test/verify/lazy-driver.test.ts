/**
 * The `mongodb` driver is bundled with the function but must not run at start-up: esbuild turns
 * the dynamic `import('mongodb')` into a `require` wrapped in a promise, so the driver's module
 * body runs on the first login check only. The test bundles the verify module as the function's
 * build does (CommonJS, Node 20, minified) with a marker at the top of the driver's entry module.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterEach, expect, it } from 'vitest';
import type { verifyLogin } from '../../functions/shared/verify/login';
import { startMongoPeer, type MongoPeer } from '../../local-cloud/mongo';

const ENTRY = fileURLToPath(new URL('../../functions/shared/verify/login.ts', import.meta.url));
const MARKER = '__mongodbDriverEvaluated';
const DRIVER_ENTRY = /[\\/]node_modules[\\/]mongodb[\\/]lib[\\/]index\.js$/;

const markDriverEvaluation: Plugin = {
  name: 'mark-driver-evaluation',
  setup(esbuild) {
    esbuild.onLoad({ filter: DRIVER_ENTRY }, async (args) => ({
      contents: `globalThis.${MARKER} = true;\n${await readFile(args.path, 'utf8')}`,
      loader: 'js',
    }));
  },
};

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function driverEvaluated(): boolean {
  return (globalThis as Record<string, unknown>)[MARKER] === true;
}

/** Bundles as scripts/build.mjs does, into a temporary directory removed after the test. */
async function bundled(entry: { entryPoints: string[] } | { stdin: { contents: string; resolveDir: string } }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'verify-bundle-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => void delete (globalThis as Record<string, unknown>)[MARKER]);
  const outfile = join(dir, 'bundle.cjs');
  const options = { outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true } as const;
  await build({ ...entry, ...options, plugins: [markDriverEvaluation], logLevel: 'silent' });
  expect(readFileSync(outfile, 'utf8')).toContain(MARKER);
  return outfile;
}

it('marks the driver as evaluated when a bundle imports it statically', async () => {
  const outfile = await bundled({ stdin: { contents: "export { MongoClient } from 'mongodb';", resolveDir: dirname(ENTRY) } });
  createRequire(import.meta.url)(outfile);
  expect(driverEvaluated()).toBe(true);
});

it('bundles the driver but evaluates it only when a login is checked', async () => {
  const outfile = await bundled({ entryPoints: [ENTRY] });
  const bundle = createRequire(import.meta.url)(outfile) as { verifyLogin: typeof verifyLogin };
  expect(typeof bundle.verifyLogin).toBe('function');
  expect(driverEvaluated()).toBe(false);

  const peer: MongoPeer = await startMongoPeer({ password: () => 'Lazy#Driver-2026' });
  cleanups.push(() => peer.close());
  const result = await bundle.verifyLogin({ host: peer.host, port: peer.port, password: 'Lazy#Driver-2026', timeoutMs: 2_000 });
  expect(result).toMatchObject({ ok: true });
  expect(driverEvaluated()).toBe(true);
});
