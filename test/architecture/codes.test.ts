/**
 * One code catalogue (functions/shared/codes.ts): every error code the functions raise or decide on is written
 * there and only there, so that a code cannot drift between the place that raises it and the place that
 * matches it, and the README's runbook (test/docs/runbook.test.ts) lists them from one source.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { OWN_CODES, SERVICE_CODES } from '../../functions/shared/codes';

const ROOT = resolve(__dirname, '..', '..');
const CATALOGUE = 'functions/shared/codes.ts';
const CODES = new Set<string>([...Object.values(OWN_CODES), ...Object.values(SERVICE_CODES)]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every string literal of a file that is a catalogued code, where it stands. */
function codeLiterals(file: string, codes: ReadonlySet<string>): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && codes.has(node.text)) {
      found.push(`${relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1} '${node.text}'`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

it('writes every catalogued code once, in the catalogue', () => {
  const outside = sourceFiles(join(ROOT, 'functions'))
    .filter((file) => relative(ROOT, file) !== CATALOGUE)
    .flatMap((file) => codeLiterals(file, CODES));
  expect(outside, `name these codes through ${CATALOGUE} (OWN_CODES, SERVICE_CODES)`).toEqual([]);
});

it('would see a code written outside the catalogue', () => {
  const planted = join(ROOT, CATALOGUE); // the catalogue itself holds every code as a literal
  expect(codeLiterals(planted, CODES).length).toBe(CODES.size);
});
