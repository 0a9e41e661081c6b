/**
 * RAM policy documents: parsing with strict validation, and the matching rules of the
 * policy language (`*` and `?` wildcards; action names compare case-insensitively).
 */

export type Effect = 'Allow' | 'Deny';

export interface Statement {
  Effect: Effect;
  Action: string | string[];
  Resource: string | string[];
}

export interface PolicyDocument {
  Version: '1';
  Statement: Statement[];
}

/** A policy this evaluator cannot judge faithfully; refused rather than half-evaluated. */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

const UNSUPPORTED_ELEMENTS = ['Condition', 'NotAction', 'NotResource', 'Principal'] as const;
const KNOWN_ELEMENTS = new Set(['Effect', 'Action', 'Resource', 'Sid', ...UNSUPPORTED_ELEMENTS]);

/** Validates a policy document (an object or its JSON text) and returns it typed. */
export function parsePolicy(input: unknown): PolicyDocument {
  const doc = typeof input === 'string' ? parseJson(input) : input;
  if (!isObject(doc)) throw new PolicyError('a policy document must be a JSON object');
  if (doc.Version !== '1') {
    throw new PolicyError(`policy Version must be "1", got ${JSON.stringify(doc.Version)}`);
  }
  if (!Array.isArray(doc.Statement) || doc.Statement.length === 0) {
    throw new PolicyError('policy Statement must be a non-empty array');
  }
  return { Version: '1', Statement: doc.Statement.map(parseStatement) };
}

function parseStatement(raw: unknown, index: number): Statement {
  const where = `Statement[${index}]`;
  if (!isObject(raw)) throw new PolicyError(`${where} must be an object`);
  for (const key of Object.keys(raw)) {
    if (!KNOWN_ELEMENTS.has(key)) throw new PolicyError(`${where} has an unknown element "${key}"`);
  }
  for (const element of UNSUPPORTED_ELEMENTS) {
    if (element in raw) {
      throw new PolicyError(
        `${where} uses "${element}", which this evaluator does not support; ` +
          'remove it or express the grant with Action and Resource only',
      );
    }
  }
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') {
    throw new PolicyError(`${where}.Effect must be "Allow" or "Deny", got ${JSON.stringify(raw.Effect)}`);
  }
  return {
    Effect: raw.Effect,
    Action: stringOrList(raw.Action, `${where}.Action`),
    Resource: stringOrList(raw.Resource, `${where}.Resource`),
  };
}

function stringOrList(value: unknown, where: string): string | string[] {
  const valid = (s: unknown): s is string => typeof s === 'string' && s.length > 0;
  if (valid(value)) return value;
  if (Array.isArray(value) && value.length > 0 && value.every(valid)) return value;
  throw new PolicyError(`${where} must be a non-empty string or a non-empty array of strings`);
}

export function asList(value: string | string[]): string[] {
  return typeof value === 'string' ? [value] : value;
}

/** `*` matches any run of characters (including none), `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

/** Action names (`dds:ResetAccountPassword`) compare case-insensitively, service prefix included. */
export function actionMatches(pattern: string, action: string): boolean {
  return wildcardMatch(pattern, action, true);
}

export function resourceMatches(pattern: string, resource: string): boolean {
  return wildcardMatch(pattern, resource);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`a policy document must be valid JSON: ${(err as Error).message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
