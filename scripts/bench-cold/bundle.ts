/**
 * What a function's bundle is made of, read from esbuild's metafile (written by
 * `scripts/build.mjs --metafile`): its size per package, inputs that are not function code, the
 * packages the function's own files import eagerly, those bundled apart to be loaded lazily, and
 * those left out (a stub in their place: scripts/build/left-out.mjs).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { LEFT_OUT_NAMESPACE } from '../build/left-out.mjs';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where a function's code and its dependencies come from; anything else in a bundle is a mistake. */
const FUNCTION_CODE = /^(functions|node_modules)\//;

export interface PackageShare {
  /** `@scope/name` or `name` for a dependency, the folder (`functions/shared`) for project code. */
  name: string;
  /** Bytes this package contributes to the bundle (after minification). */
  bytes: number;
  files: number;
}

export interface BundleFacts {
  outputBytes: number;
  /** Largest first. */
  packages: PackageShare[];
  /** Inputs from outside functions/ and node_modules/ (local-cloud/, test/, scripts/…), stubs aside. */
  strayInputs: string[];
  /** Modules left out (their stub names): a stub that fails loudly if reached stands in for each. */
  leftOut: string[];
  /** Packages the function's own files import statically: what runs when the bundle is loaded. */
  eagerPackages: string[];
  /** Packages bundled apart beside the function (`node_modules/<package>/index.js`), read on first use only. */
  lazyPackages: string[];
  /** Their size: what the first use adds, nothing at start-up. */
  lazyBytes: number;
}

/** Builds every function into `outDir` with `scripts/build.mjs`, writing `<name>.meta.json` beside each. */
export function buildFunctions(outDir: string): void {
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build.mjs'), '--outdir', outDir, '--metafile'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export function readMetafile(outDir: string, functionName: string): Metafile {
  return JSON.parse(readFileSync(join(outDir, `${functionName}.meta.json`), 'utf8')) as Metafile;
}

export function analyzeBundle(metafile: Metafile): BundleFacts {
  const outputs = Object.entries(metafile.outputs);
  const lazyOutputs = outputs.filter(([path]) => LAZY_OUTPUT.test(path));
  const main = outputs.filter(([path]) => !LAZY_OUTPUT.test(path));
  if (main.length !== 1) throw new Error(`expected one bundle beside the lazily loaded packages, found ${main.length}`);
  const [[, output]] = main;
  const stubPrefix = `${LEFT_OUT_NAMESPACE}:`;
  const stubs = Object.keys(metafile.inputs).filter((path) => path.startsWith(stubPrefix));
  const inputPaths = Object.keys(metafile.inputs).filter((path) => !path.startsWith(stubPrefix));
  const ownFiles = inputPaths.filter((path) => path.startsWith('functions/'));
  const eagerPackages = distinctSorted(
    ownFiles.flatMap((path) =>
      metafile.inputs[path].imports
        .filter((i) => STATIC_IMPORTS.has(i.kind) && i.path.includes('node_modules/') && i.original !== undefined)
        .map((i) => packageOfSpecifier(i.original!)),
    ),
  );
  return {
    outputBytes: output.bytes,
    packages: packageShares(Object.fromEntries(Object.entries(output.inputs).filter(([path]) => !path.startsWith(stubPrefix)))),
    strayInputs: inputPaths.filter((path) => !FUNCTION_CODE.test(path)).sort(),
    leftOut: distinctSorted(stubs.map((path) => path.slice(stubPrefix.length))),
    eagerPackages,
    lazyPackages: distinctSorted(lazyOutputs.map(([path]) => LAZY_OUTPUT.exec(path)![1])),
    lazyBytes: lazyOutputs.reduce((sum, [, lazy]) => sum + lazy.bytes, 0),
  };
}

const STATIC_IMPORTS = new Set(['import-statement', 'require-call']);
/** scripts/build.mjs bundles a lazily imported package apart, as `<code>/node_modules/<package>/index.js`. */
const LAZY_OUTPUT = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/index\.js$/;

function packageShares(inputs: Metafile['outputs'][string]['inputs']): PackageShare[] {
  const shares = new Map<string, PackageShare>();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const name = packageOfInput(path);
    const share = shares.get(name) ?? { name, bytes: 0, files: 0 };
    share.bytes += bytesInOutput;
    share.files += 1;
    shares.set(name, share);
  }
  return [...shares.values()].sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}

/** `node_modules/a/node_modules/@s/b/x.js` → `@s/b`; `functions/shared/clients/dds.ts` → `functions/shared`. */
export function packageOfInput(path: string): string {
  const parts = path.split('/');
  const last = parts.lastIndexOf('node_modules');
  if (last === -1) return parts.slice(0, Math.min(2, parts.length - 1)).join('/') || path;
  const scoped = parts[last + 1]?.startsWith('@');
  return parts.slice(last + 1, last + (scoped ? 3 : 2)).join('/');
}

/** `@alicloud/openapi-core/dist/x` → `@alicloud/openapi-core`; `lodash/fp` → `lodash`. */
function packageOfSpecifier(specifier: string): string {
  const parts = specifier.split('/');
  return parts.slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
}

const distinctSorted = (values: string[]) => [...new Set(values)].sort();
