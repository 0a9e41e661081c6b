/**
 * Finds the error codes a body of TypeScript can report, by reading it (the TypeScript compiler's syntax tree,
 * no type checking), and the codes the README's Runbook has a row for. The runbook test compares the two.
 *
 * A code is a string literal that lands where a code goes:
 * - the value of a property named `code`: a class field (`readonly code = 'InvalidEvent'`), an object literal
 *   (`{ code: 'RequestTimeout', … }`), an assignment (`err.code = '…'`) or a destructuring default
 *   (`const { code = 'InvalidInvocation' } = err`);
 * - an argument passed to a parameter named `code` of a function, method or constructor declared in the same
 *   sources (`OperationError.of('DeadlineExceeded', …)`, `new SomeError('…')`, `super('…')` in a subclass), and
 *   that parameter's default value;
 * - anything in a constant whose name ends in `CODES` (`OWN_CODES`, `TRANSPORT_CODES`, …): its strings, and its
 *   regular expressions read as exact codes (`/^InternalError$/`) or prefixes (`/^Throttling/`).
 * Through `a || 'X'`, `a ?? 'X'`, `c ? 'X' : 'Y'`, parentheses, `as`, and a `const` of the same file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface SourceFile {
  path: string;
  text: string;
}

/** A code the sources can report; `prefix`: a family (`Throttling…`) that any code beginning so belongs to. */
export interface FoundCode {
  code: string;
  prefix: boolean;
  /** `file:line`s (or the catalogue) it was found at. */
  where: string[];
}

/** What a code looks like: letters first, then letters, digits, `.` and `_` (`Forbidden.RAM`, `UND_ERR_SOCKET`). */
const CODE = /^[A-Za-z][A-Za-z0-9._]*$/;
const CATALOGUE_NAME = /CODES$/i;

export function readSources(files: string[]): SourceFile[] {
  return files.map((file) => ({ path: file, text: readFileSync(file, 'utf8') }));
}

/** Every `.ts` file under a directory. */
export function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return tsFilesUnder(full);
    return full.endsWith('.ts') && !full.endsWith('.d.ts') ? [full] : [];
  });
}

/** The string values of every exported object of strings in a module: the code catalogue, whatever its names. */
export function catalogueCodes(module: Record<string, unknown>, where: string): FoundCode[] {
  return Object.values(module)
    .filter((value): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value))
    .filter((object) => Object.values(object).length > 0 && Object.values(object).every((v) => typeof v === 'string'))
    .flatMap((object) => Object.values(object) as string[])
    .map((code) => ({ code, prefix: false, where: [where] }));
}

export function collectCodes(sources: SourceFile[], root = process.cwd()): FoundCode[] {
  const parsed = sources.map((s) => ({ ...s, tree: ts.createSourceFile(s.path, s.text, ts.ScriptTarget.ES2022, true) }));
  const callees = codeParameters(parsed.map((p) => p.tree));
  const found = new Map<string, FoundCode>();
  const add = (code: string, prefix: boolean, tree: ts.SourceFile, node: ts.Node) => {
    if (!CODE.test(code)) return;
    const line = tree.getLineAndCharacterOfPosition(node.getStart(tree)).line + 1;
    const where = `${path.relative(root, tree.fileName) || tree.fileName}:${line}`;
    const key = `${prefix ? 'prefix' : 'exact'}:${code}`;
    const entry = found.get(key) ?? { code, prefix, where: [] };
    if (!entry.where.includes(where)) entry.where.push(where);
    found.set(key, entry);
  };
  for (const { tree } of parsed) {
    const constants = fileConstants(tree);
    const literals = (expr: ts.Expression | undefined) => valueLiterals(expr, constants);
    const visit = (node: ts.Node): void => {
      for (const [code, at] of codesAt(node, callees, literals)) add(code, false, tree, at);
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && CATALOGUE_NAME.test(node.name.text) && node.initializer) {
        for (const { code, prefix, at } of catalogueLiterals(node.initializer)) add(code, prefix, tree, at);
      }
      ts.forEachChild(node, visit);
    };
    visit(tree);
  }
  return [...found.values()].sort((a, b) => a.code.localeCompare(b.code));
}

/** The codes one node puts where a code goes, each with the node to point at. */
function codesAt(node: ts.Node, callees: Callees, literals: (expr: ts.Expression | undefined) => string[]): Array<[string, ts.Node]> {
  const at = (expr: ts.Expression | undefined): Array<[string, ts.Node]> => literals(expr).map((code) => [code, expr!]);
  if ((ts.isPropertyDeclaration(node) || ts.isPropertyAssignment(node)) && isCodeName(node.name)) return at(node.initializer);
  if (ts.isBindingElement(node) && isCodeName(node.propertyName ?? node.name)) return at(node.initializer);
  if (ts.isParameter(node) && isCodeName(node.name)) return at(node.initializer);
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
    const target = node.left;
    if (ts.isPropertyAccessExpression(target) && target.name.text === 'code') return at(node.right);
  }
  if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
    return calleeNames(node).flatMap((name) => (callees.get(name) ?? []).flatMap((index) => at(node.arguments?.[index])));
  }
  return [];
}

const isCodeName = (name: ts.Node | undefined): boolean => name !== undefined && (ts.isIdentifier(name) || ts.isStringLiteral(name)) && name.text === 'code';

/** Callee name → the positions of its parameters named `code`. */
type Callees = Map<string, number[]>;

/**
 * Functions, methods and constructors with a parameter named `code`, by the name they are called with:
 * `f` (a function, or a const arrow), `C.m` (static method), `.m` (instance method), `new C` (constructor; also
 * `super` in a class that extends C).
 */
function codeParameters(trees: ts.SourceFile[]): Callees {
  const callees: Callees = new Map();
  const record = (name: string, params: ts.NodeArray<ts.ParameterDeclaration>) => {
    const indexes = params.flatMap((p, i) => (isCodeName(p.name) ? [i] : []));
    if (indexes.length > 0) callees.set(name, indexes);
  };
  const subclasses: Array<{ child: string; parent: string }> = [];
  const ownConstructors = new Set<string>();
  for (const tree of trees) {
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionDeclaration(node) && node.name) record(node.name.text, node.parameters);
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))) {
        record(node.name.text, node.initializer.parameters);
      }
      if (ts.isClassDeclaration(node) && node.name) {
        const className = node.name.text;
        const parent = node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
        if (parent && ts.isIdentifier(parent)) subclasses.push({ child: className, parent: parent.text });
        for (const member of node.members) {
          if (ts.isConstructorDeclaration(member)) {
            ownConstructors.add(className);
            record(`new ${className}`, member.parameters);
          }
          if (ts.isMethodDeclaration(member) && ts.isIdentifier(member.name)) {
            const isStatic = member.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword) ?? false;
            record(isStatic ? `${className}.${member.name.text}` : `.${member.name.text}`, member.parameters);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(tree);
  }
  // A class without a constructor of its own is built with its parent's; `super(…)` calls the parent's.
  for (let changed = true; changed; ) {
    changed = false;
    for (const { child, parent } of subclasses) {
      const inherited = callees.get(`new ${parent}`);
      if (inherited && !ownConstructors.has(child) && !callees.has(`new ${child}`)) {
        callees.set(`new ${child}`, inherited);
        changed = true;
      }
    }
  }
  for (const { child, parent } of subclasses) {
    const indexes = callees.get(`new ${parent}`);
    if (indexes) callees.set(`super in ${child}`, indexes);
  }
  return callees;
}

/** The names a call may be recorded under (see codeParameters). */
function calleeNames(node: ts.CallExpression | ts.NewExpression): string[] {
  const callee = node.expression;
  if (ts.isNewExpression(node)) return ts.isIdentifier(callee) ? [`new ${callee.text}`] : [];
  if (callee.kind === ts.SyntaxKind.SuperKeyword) {
    const owner = enclosingClass(node);
    return owner?.name ? [`super in ${owner.name.text}`] : [];
  }
  if (ts.isIdentifier(callee)) return [callee.text];
  if (ts.isPropertyAccessExpression(callee)) {
    const names = [`.${callee.name.text}`];
    if (ts.isIdentifier(callee.expression)) names.push(`${callee.expression.text}.${callee.name.text}`);
    return names;
  }
  return [];
}

function enclosingClass(node: ts.Node): ts.ClassDeclaration | undefined {
  for (let at = node.parent; at; at = at.parent) if (ts.isClassDeclaration(at)) return at;
  return undefined;
}

/** The file's `const` names with an initializer, to follow `{ code }` and `code: CONSTANT`. */
function fileConstants(tree: ts.SourceFile): Map<string, ts.Expression> {
  const constants = new Map<string, ts.Expression>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclarationList(node) && node.flags & ts.NodeFlags.Const) {
      for (const d of node.declarations) if (ts.isIdentifier(d.name) && d.initializer) constants.set(d.name.text, d.initializer);
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return constants;
}

/** The string literals an expression can evaluate to, as far as they can be read from it. */
function valueLiterals(expr: ts.Expression | undefined, constants: Map<string, ts.Expression>, seen = new Set<string>()): string[] {
  if (!expr) return [];
  if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return [expr.text];
  if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isNonNullExpression(expr) || ts.isSatisfiesExpression(expr)) {
    return valueLiterals(expr.expression, constants, seen);
  }
  if (ts.isConditionalExpression(expr)) return [...valueLiterals(expr.whenTrue, constants, seen), ...valueLiterals(expr.whenFalse, constants, seen)];
  if (ts.isBinaryExpression(expr) && [ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.AmpersandAmpersandToken].includes(expr.operatorToken.kind)) {
    return [...valueLiterals(expr.left, constants, seen), ...valueLiterals(expr.right, constants, seen)];
  }
  if (ts.isIdentifier(expr) && !seen.has(expr.text) && constants.has(expr.text)) {
    return valueLiterals(constants.get(expr.text), constants, new Set([...seen, expr.text]));
  }
  return [];
}

/** Every string (not a property name) and every regular expression in a catalogue constant. */
function catalogueLiterals(initializer: ts.Expression): Array<{ code: string; prefix: boolean; at: ts.Node }> {
  const out: Array<{ code: string; prefix: boolean; at: ts.Node }> = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && !isPropertyName(node)) out.push({ code: node.text, prefix: false, at: node });
    if (ts.isRegularExpressionLiteral(node)) for (const read of readCodePattern(node.text)) out.push({ ...read, at: node });
    ts.forEachChild(node, visit);
  };
  visit(initializer);
  return out;
}

const isPropertyName = (node: ts.Node): boolean => ts.isPropertyAssignment(node.parent) && node.parent.name === node;

/**
 * The codes a pattern of a code catalogue stands for: `/^A$/` is the code A, `/^A/` every code beginning with A,
 * `/^(A|B\.C)$/` A and B.C. A pattern it cannot read as such is an error, so that no code slips past unread.
 */
export function readCodePattern(literal: string): Array<{ code: string; prefix: boolean }> {
  const body = literal.slice(1, literal.lastIndexOf('/'));
  const match = /^\^(?:\((?<group>[^()]+)\)|(?<single>[^()|]+?))(?<end>\$?)$/.exec(body);
  const alternatives = match?.groups?.group?.split('|') ?? (match?.groups?.single !== undefined ? [match.groups.single] : undefined);
  const codes = alternatives?.map((alternative) => {
    const exact = alternative.endsWith('$') || match?.groups?.end === '$';
    const text = alternative.replace(/\$$/, '').replace(/\\\./g, '.');
    return { code: text, prefix: !exact };
  });
  if (!codes || codes.some(({ code }) => !CODE.test(code))) {
    throw new Error(`cannot read ${literal} as error codes: write it as /^Code$/, /^Prefix/ or /^(A|B)$/, or give its codes a row some other way`);
  }
  return codes;
}

/** A row of the runbook: the codes of its first cell and its other cells. */
export interface RunbookRow {
  codes: string[];
  cells: string[];
  line: number;
}

/**
 * The rows of the tables whose first column is headed `code`, under the README's `## Runbook` heading up to the
 * next `## ` heading.
 */
export function runbookRows(readme: string): RunbookRow[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => /^## Runbook\s*$/.test(l));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  const rows: RunbookRow[] = [];
  let header: string[] | undefined;
  lines.slice(start + 1, end < 0 ? undefined : end).forEach((text, i) => {
    if (!text.startsWith('|')) {
      header = undefined;
      return;
    }
    if (/^\|[\s|:-]+\|$/.test(text)) return;
    const cells = splitRow(text);
    if (!header) {
      header = cells;
      return;
    }
    if (header[0] !== 'code') return;
    const codes = [...(cells[0] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((c) => CODE.test(c));
    rows.push({ codes, cells, line: start + 2 + i });
  });
  return rows;
}

/** A table row's cells; `|` inside backticks or escaped (`\\|`) does not split. */
function splitRow(text: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let code = false;
  let escaped = false;
  for (const char of text.trim().replace(/^\||\|$/g, '')) {
    if (char === '`' && !escaped) code = !code;
    if (char === '|' && !code && !escaped) {
      cells.push(cell.trim());
      cell = '';
    } else cell += char;
    escaped = char === '\\' && !escaped;
  }
  cells.push(cell.trim());
  return cells;
}

/** One entry per code (and per family), with every place it was found at. */
export function mergeCodes(...lists: FoundCode[][]): FoundCode[] {
  const merged = new Map<string, FoundCode>();
  for (const { code, prefix, where } of lists.flat()) {
    const key = `${prefix}:${code}`;
    const entry = merged.get(key) ?? { code, prefix, where: [] };
    entry.where.push(...where.filter((w) => !entry.where.includes(w)));
    merged.set(key, entry);
  }
  return [...merged.values()].sort((a, b) => a.code.localeCompare(b.code));
}

/** The found codes that no row covers; a prefix is covered by a row whose code begins with it. */
export function withoutRow(found: FoundCode[], rows: RunbookRow[]): FoundCode[] {
  const documented = rows.flatMap((r) => r.codes);
  return found.filter(({ code, prefix }) => !documented.some((d) => (prefix ? d.startsWith(code) : d === code)));
}

export const describeCode = ({ code, prefix, where }: FoundCode): string => `${code}${prefix ? '…' : ''} (${where.slice(0, 3).join(', ')})`;
