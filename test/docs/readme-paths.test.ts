/**
 * Every file or folder of this repository that the README (and docs/) names exists: a claim "held by
 * test/…" points at a test that runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const DOCS = ['README.md', 'docs/design.md', 'docs/architecture.md', 'local-cloud/fixtures/README.md', 'local-cloud/mongo/README.md'];
/** A repository path in backquotes: `test/…`, `scripts/…`, and so on; a placeholder (`<…>`, `…`, `*`) is not one. */
const PATH = /`((?:test|scripts|functions|local-cloud|deploy|events|docs|examples|\.ci)\/[\w./-]*)`/g;

export function namedPaths(text: string): string[] {
  return [...new Set([...text.matchAll(PATH)].map((match) => match[1]))];
}

/** Paths the operator creates: `npm run deploy` ships deploy/code/ (a targets file, a CA file) as each function's /code/. */
const OPERATORS_OWN = ['deploy/code/', 'deploy/code/targets.json'];

it.each(DOCS)('%s names only paths that exist', (doc) => {
  const missing = namedPaths(readFileSync(join(ROOT, doc), 'utf8')).filter((path) => !OPERATORS_OWN.includes(path) && !existsSync(join(ROOT, path)));
  expect(missing).toEqual([]);
});

it('finds the paths a text names, and only those', () => {
  expect(namedPaths('held by `test/deploy/policy.test.ts` and `scripts/faults/`; not `dist/rotate` nor `test/<suite>`')).toEqual(['test/deploy/policy.test.ts', 'scripts/faults/']);
});
