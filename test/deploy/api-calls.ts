/**
 * Derives the cloud API actions a function can call from its source: follows the relative
 * imports from the entry file, and maps every call of an SDK client method to its RAM action.
 * A call of a client method the table does not map is an error, so a new API call cannot slip
 * past the policy unnoticed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Client method (without the SDKs' `WithOptions`/`Ex` suffixes) → RAM action. */
export const CLIENT_CALLS: Readonly<Record<string, string>> = {
  describeDBInstanceAttribute: 'dds:DescribeDBInstanceAttribute',
  describeDBInstances: 'dds:DescribeDBInstances',
  resetAccountPassword: 'dds:ResetAccountPassword',
  getSecretValue: 'kms:GetSecretValue',
  putSecretValue: 'kms:PutSecretValue',
  updateSecretVersionStage: 'kms:UpdateSecretVersionStage',
  listSecretVersionIds: 'kms:ListSecretVersionIds',
  describeSecret: 'kms:DescribeSecret',
  createSecret: 'kms:CreateSecret',
  invokeFunction: 'fc:InvokeFunction',
};

export function apiMethodName(method: string): string {
  return method.replace(/(WithOptions|Ex)$/, '');
}

export interface ApiCall {
  file: string;
  line: number;
  method: string;
  action?: string;
}

/**
 * Every call, in the files reachable from `entry`, of a method in `clientMethods` (the API
 * methods of the SDK clients). Calls on `this` are a client delegating to itself and skipped.
 */
export function findApiCalls(entry: string, clientMethods: ReadonlySet<string>): ApiCall[] {
  return reachableFiles(entry).flatMap((file) => callsIn(file, clientMethods));
}

function callsIn(file: string, clientMethods: ReadonlySet<string>): ApiCall[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const calls: ApiCall[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = apiMethodName(node.expression.name.text);
      const onThis = node.expression.expression.kind === ts.SyntaxKind.ThisKeyword;
      const mapped = Object.hasOwn(CLIENT_CALLS, method);
      if (!onThis && (mapped || clientMethods.has(method))) {
        const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
        calls.push({ file, line, method, action: mapped ? CLIENT_CALLS[method] : undefined });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return calls;
}

/** The entry file and every project file it imports, directly or not. */
export function reachableFiles(entry: string): string[] {
  const seen = new Set<string>();
  const pending = [path.resolve(entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    pending.push(...relativeImports(file).map((specifier) => resolveImport(file, specifier)));
  }
  return [...seen].sort();
}

function relativeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!isTypeOnly(node)) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteral(argument)) specifiers.push(argument.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.filter((s) => s.startsWith('.'));
}

function resolveImport(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base, `${base}.ts`, path.join(base, 'index.ts'), base.replace(/\.js$/, '.ts')];
  const found = candidates.find((c) => c.endsWith('.ts') && existsSync(c));
  if (!found) throw new Error(`${from}: cannot resolve import "${specifier}"`);
  return found;
}

function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) return node.isTypeOnly;
  const clause = node.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}
