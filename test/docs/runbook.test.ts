/**
 * The README's Runbook has a row for every error code the functions can report: the codes they raise and the
 * service codes they decide on (read from their source and from the code catalogue), the service codes the local
 * cloud can answer them with, and the documented service codes an operator meets on a real account.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as catalogue from '../../functions/shared/codes';
import {
  type FoundCode,
  type RunbookRow,
  catalogueCodes,
  collectCodes,
  describeCode,
  mergeCodes,
  readCodePattern,
  readSources,
  runbookRows,
  tsFilesUnder,
  withoutRow,
} from './error-codes';

const ROOT = path.resolve(__dirname, '../..');
const README = path.join(ROOT, 'README.md');
const rows = (): RunbookRow[] => runbookRows(readFileSync(README, 'utf8'));
const functionSources = () => readSources(tsFilesUnder(path.join(ROOT, 'functions')));
const missing = (found: FoundCode[], against = rows()) => withoutRow(found, against).map(describeCode);

/**
 * Codes of Alibaba Cloud's services that the functions pass through and an operator meets on a real account,
 * besides those the local cloud answers: DDS's and KMS's API references (ResetAccountPassword, CreateSecret, the
 * DDS error-code appendix, KMS's sample responses) and the API gateway's common codes.
 */
const DOCUMENTED_SERVICE_CODES = [
  'OperationDenied.AccountType',
  'InvalidInstanceId.NotFound',
  'ServiceUnavailable',
  'ServiceUnavailableTemporary',
  'InternalFailure',
  'InvalidAccessKeyId.Inactive',
  'InvalidSecurityToken.Expired',
  'InvalidSecurityToken.Malformed',
];

/** Codes the local cloud can answer that no call of the functions can meet, and why. */
const NOT_MET_BY_THE_FUNCTIONS: Record<string, string> = {
  PathNotSupported: 'the local FC answers it for paths other than InvokeFunction, which the FC client never calls',
  VersionNotFound: 'the dispatcher invokes the rotate function without a qualifier',
  AliasNotFound: 'the dispatcher invokes the rotate function without a qualifier',
  RequestEntityTooLarge: "the local gateway's cap on request bodies; the functions send a few kilobytes",
};

describe('the README runbook', () => {
  it('has a row for every code the functions raise or decide on', () => {
    const found = mergeCodes(collectCodes(functionSources(), ROOT), catalogueCodes(catalogue, 'functions/shared/codes.ts (catalogue)'));
    expect(found.length).toBeGreaterThan(30);
    expect(missing(found), 'error codes with no row in the README Runbook').toEqual([]);
  });

  it('has a row for every service code the local cloud can answer the functions with', () => {
    const found = collectCodes(readSources(tsFilesUnder(path.join(ROOT, 'local-cloud'))), ROOT).filter((c) => !(c.code in NOT_MET_BY_THE_FUNCTIONS));
    expect(found.map((c) => c.code)).toEqual(expect.arrayContaining(['Forbidden.RAM', 'Throttling.User', 'SignatureDoesNotMatch']));
    expect(missing(found), 'local-cloud codes with no row in the README Runbook').toEqual([]);
  });

  it('has a row for the documented service codes an operator meets', () => {
    const documented = DOCUMENTED_SERVICE_CODES.map((code) => ({ code, prefix: false, where: ['DOCUMENTED_SERVICE_CODES'] }));
    expect(missing(documented)).toEqual([]);
  });

  it('says, for each code, what it means, where the password is and what to do, once', () => {
    const all = rows();
    const incomplete = all.filter((r) => r.codes.length === 0 || r.cells.length !== 4 || r.cells.some((cell) => cell === '' || cell === '-'));
    expect(incomplete.map((r) => `README.md:${r.line} ${r.codes.join(', ')}`)).toEqual([]);
    const codes = all.flatMap((r) => r.codes);
    expect(codes.filter((code, i) => codes.indexOf(code) !== i)).toEqual([]);
  });
});

describe('the code collector', () => {
  /** The functions' sources plus one more file, as if it had just been written. */
  const collect = (text: string) => collectCodes([...functionSources(), { path: path.join(ROOT, 'synthetic/new-code.ts'), text }], ROOT);
  const synthetic = (found: FoundCode[]) => found.filter((c) => c.where.some((w) => w.startsWith('synthetic/')));
  const codesOf = (text: string) => synthetic(collect(text)).map((c) => c.code);

  it('reports a code added to the functions without a row, naming the code and where it is raised', () => {
    const found = collect(`
      import { OperationError } from '../functions/shared/clients/errors';
      export class QuotaError extends Error { readonly code = 'QuotaExhausted'; }
      export const halt = () => { throw OperationError.of('RotationHalted', 'stopped by the operator'); };
    `);
    expect(missing(found)).toEqual(['QuotaExhausted (synthetic/new-code.ts:3)', 'RotationHalted (synthetic/new-code.ts:4)']);
  });

  it('finds codes wherever a code goes', () => {
    expect(
      codesOf(`
        const FALLBACK = 'FallbackCode';
        export class BaseError extends Error { constructor(readonly code: string, message: string) { super(message); } }
        export class LeafError extends BaseError { constructor() { super('FromSuper', 'm'); } }
        export class MiddleError extends BaseError {}
        export class DeepError extends MiddleError { constructor() { super('FromDeepSuper', 'm'); } }
        export const h = () => new MiddleError('FromInheritedConstructor', 'm');
        export const a = () => new BaseError('FromConstructor', 'm');
        export const b = (err: { code?: string }) => { const { code = 'FromDefault' } = err; return code; };
        export const c = (flag: boolean) => ({ code: flag ? 'FromTernary' : FALLBACK, message: 'm' });
        export const d = (err: { code?: string }) => { err.code = 'FromAssignment'; };
        export function e(code = 'FromParameterDefault') { return code; }
        export const f = (raw?: string) => ({ code: raw || 'FromOr' });
      `).sort(),
    ).toEqual([
      'FallbackCode',
      'FromAssignment',
      'FromConstructor',
      'FromDeepSuper',
      'FromDefault',
      'FromInheritedConstructor',
      'FromOr',
      'FromParameterDefault',
      'FromSuper',
      'FromTernary',
    ]);
  });

  it('reads code catalogues: strings and patterns, not property names or messages', () => {
    const found = synthetic(collect(`
      export const NEW_CODES = { someKey: 'CatalogueCode', 'quoted key': 'OtherCode' };
      const RETRIED_CODES = [/^Busy\\.Instance$/, /^(Slow|Late\\.Call)/];
      const MESSAGE = 'not a code: a sentence';
      export const g = () => ({ message: 'Looks.LikeACode' });
    `));
    expect(found.map((c) => `${c.code}${c.prefix ? '…' : ''}`).sort()).toEqual(['Busy.Instance', 'CatalogueCode', 'Late.Call…', 'OtherCode', 'Slow…']);
  });

  it('counts a family of codes as documented by a row of one of its members', () => {
    const row: RunbookRow = { codes: ['Throttling.User'], cells: [], line: 1 };
    expect(withoutRow([{ code: 'Throttling', prefix: true, where: [] }], [row])).toEqual([]);
    expect(withoutRow([{ code: 'Throttling', prefix: false, where: [] }], [row])).toHaveLength(1);
  });

  it('refuses a catalogue pattern it cannot read, rather than miss its codes', () => {
    expect(readCodePattern('/^(A\\.B|C)$/')).toEqual([
      { code: 'A.B', prefix: false },
      { code: 'C', prefix: false },
    ]);
    expect(() => readCodePattern('/Throttl(ing|ed)/')).toThrow(/cannot read/);
  });

  it('takes the catalogue from whatever the codes module exports', () => {
    const codes = catalogueCodes({ A: { x: 'One', y: 'Two' }, helper: () => 0, mixed: { n: 1, s: 'Three' } }, 'codes.ts').map((c) => c.code);
    expect(codes).toEqual(['One', 'Two']);
    expect(catalogueCodes(catalogue, 'codes.ts').map((c) => c.code)).toEqual(expect.arrayContaining([catalogue.OWN_CODES.verifyLoginFailed, catalogue.SERVICE_CODES.lockedInstance]));
  });

  it('reads the rows of the code tables of the Runbook section, and nothing else', () => {
    const readme = [
      '## Status',
      '| code | a | b | c |',
      '|---|---|---|---|',
      '| `Outside` | a | b | c |',
      '## Runbook',
      '| step | holds |',
      '|---|---|',
      '| `apply` | either |',
      '',
      '| code | meaning | password | to do |',
      '|---|---|---|---|',
      '| `First.Code`, `Second` | it means | `ACSCurrent` | a \\| b `x|y` |',
      '## Next',
      '| code | a | b | c |',
      '|---|---|---|---|',
      '| `After` | a | b | c |',
    ].join('\n');
    expect(runbookRows(readme)).toEqual([{ codes: ['First.Code', 'Second'], cells: ['`First.Code`, `Second`', 'it means', '`ACSCurrent`', 'a \\| b `x|y`'], line: 12 }]);
  });
});
