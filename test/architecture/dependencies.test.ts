/**
 * The dependency graph is one-way: the functions know nothing of the local cloud (what runs on FC is
 * what is tested), and the local cloud knows nothing of the functions (its FC loads built bundles by
 * path). Every relative import of every TypeScript file in both trees is checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|require\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mts|cts|js|cjs|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Every file of `tree` that imports something under `forbidden`, with what it imports. */
function crossings(tree: string, forbidden: string): string[] {
  return sourceFiles(join(ROOT, tree)).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(IMPORT)]
      .map((match) => relative(ROOT, resolve(dirname(file), match[1] ?? match[2] ?? match[3])))
      .filter((target) => target === forbidden || target.startsWith(`${forbidden}/`))
      .map((target) => `${relative(ROOT, file)} → ${target}`),
  );
}

it('keeps the functions free of the local cloud', () => {
  expect(crossings('functions', 'local-cloud')).toEqual([]);
});

it('keeps the local cloud free of the functions', () => {
  expect(crossings('local-cloud', 'functions')).toEqual([]);
});

it('keeps the two functions apart: what both need is in functions/shared', () => {
  expect(crossings('functions/dispatch', 'functions/rotate')).toEqual([]);
  expect(crossings('functions/rotate', 'functions/dispatch')).toEqual([]);
  expect(crossings('functions/shared', 'functions/rotate')).toEqual([]);
  expect(crossings('functions/shared', 'functions/dispatch')).toEqual([]);
});

it('sees the imports it checks (the scanner finds a known one)', () => {
  const imports = [...readFileSync(join(ROOT, 'functions/rotate/index.ts'), 'utf8').matchAll(IMPORT)];
  expect(imports.map((match) => match[1])).toContain('./engine');
});
