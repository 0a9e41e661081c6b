/**
 * Vitest's global setup: the functions are built once per test run (`scripts/build.mjs --outdir … --metafile`,
 * as `npm run build` builds them), and every suite that needs the bundles reads them from there
 * (test/helpers/built.ts) instead of building its own copy.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const REPO = join(__dirname, '..', '..');

export default async function buildOnce(project: TestProject): Promise<() => void> {
  const root = mkdtempSync(join(tmpdir(), 'built-functions-'));
  await promisify(execFile)(process.execPath, [join(REPO, 'scripts', 'build.mjs'), '--outdir', join(root, 'dist'), '--metafile'], { cwd: REPO });
  project.provide('builtCodeRoot', root);
  return () => rmSync(root, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** A folder holding `dist/<function>/index.js` (and `dist/<function>.meta.json`), built once for the run. */
    builtCodeRoot: string;
  }
}
