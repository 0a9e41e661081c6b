/**
 * Reads the functions a Serverless Devs `s.yaml` (edition 3, component `fc3`) declares into
 * FunctionSpecs. Of the YAML's expressions it resolves `${vars.name}`, `${env(NAME)}`,
 * `${env('NAME', 'default')}` and `${config('AccountID')}`, and only in the fields the local FC
 * uses (the role ARN among them, to pick the function's STS key), so an account-specific value
 * elsewhere (a VPC id, a log project) needs no value here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { FunctionSpec, TimerTrigger } from './types';

export interface ServerlessYamlOptions {
  /** Override the file's `vars`. */
  vars?: Record<string, unknown>;
  /** The directory `code` paths are resolved against; default the file's directory. */
  codeRoot?: string;
  /** What `${env(...)}` reads; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** What `${config('AccountID')}` gives. */
  accountId?: string;
}

type Props = Record<string, unknown>;

/** FC 3.0's defaults where `props` leaves a value out. */
const DEFAULT_TIMEOUT_SECONDS = 3;
const DEFAULT_MEMORY_MB = 128;

export function readServerlessYaml(file: string, options: ServerlessYamlOptions = {}): FunctionSpec[] {
  const document = parse(readFileSync(file, 'utf8')) as { vars?: Props; resources?: Record<string, { component?: unknown; props?: Props }> };
  const where = (field: string) => `${path.basename(file)}: ${field}`;
  const resolver = new ExpressionResolver(options, where);
  resolver.vars = Object.fromEntries(
    Object.entries(document.vars ?? {}).map(([name, value]) => [name, resolver.resolve(value, `vars.${name}`)]),
  );
  Object.assign(resolver.vars, options.vars);

  const codeRoot = options.codeRoot ?? path.dirname(path.resolve(file));
  return Object.entries(document.resources ?? {})
    .filter(([, resource]) => /^fc3(@.+)?$/.test(String(resource.component ?? '')))
    .map(([key, resource]) => toFunctionSpec(resource.props ?? {}, `resources.${key}.props`, resolver, codeRoot));
}

function toFunctionSpec(props: Props, at: string, resolver: ExpressionResolver, codeRoot: string): FunctionSpec {
  const get = (field: string) => resolver.resolve(pick(props, field), `${at}.${field}`);
  const text = (field: string) => requireString(get(field), resolver.where(`${at}.${field}`));
  const optionalNumber = (field: string) => {
    const value = get(field);
    return value === undefined ? undefined : requireNumber(value, resolver.where(`${at}.${field}`));
  };
  const code = get('code');
  if (typeof code !== 'string') throw new Error(`${resolver.where(`${at}.code`)} must be a local directory (OSS code is not supported here)`);
  const initializer = get('instanceLifecycleConfig.initializer.handler');
  const onSuccess = get('asyncInvokeConfig.destinationConfig.onSuccess.destination');
  const onFailure = get('asyncInvokeConfig.destinationConfig.onFailure.destination');
  return {
    name: text('functionName'),
    codeDir: path.resolve(codeRoot, code),
    handler: text('handler'),
    initializer: initializer === undefined ? undefined : requireString(initializer, resolver.where(`${at}.instanceLifecycleConfig.initializer.handler`)),
    initializerTimeoutSeconds: optionalNumber('instanceLifecycleConfig.initializer.timeout'),
    timeoutSeconds: optionalNumber('timeout') ?? DEFAULT_TIMEOUT_SECONDS,
    memoryMB: optionalNumber('memorySize') ?? DEFAULT_MEMORY_MB,
    environment: environmentOf(pick(props, 'environmentVariables'), `${at}.environmentVariables`, resolver),
    maxAsyncRetryAttempts: optionalNumber('asyncInvokeConfig.maxAsyncRetryAttempts'),
    maxConcurrency: optionalNumber('concurrencyConfig.reservedConcurrency'),
    ...roleOf(get('role')),
    destinations: {
      onSuccess: onSuccess === undefined ? undefined : String(onSuccess),
      onFailure: onFailure === undefined ? undefined : String(onFailure),
    },
    triggers: timerTriggersOf(pick(props, 'triggers'), `${at}.triggers`, resolver),
  };
}

/** An empty role (s.yaml's `${env('ROTATION_ROLE_ARN', '')}` unset) is no role. */
function roleOf(value: unknown): { role?: string } {
  return typeof value === 'string' && value !== '' ? { role: value } : {};
}

function environmentOf(value: unknown, at: string, resolver: ExpressionResolver): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${resolver.where(at)} must be a map of names to values`);
  return Object.fromEntries(
    Object.entries(value).map(([name, raw]) => {
      const resolved = resolver.resolve(raw, `${at}.${name}`);
      return [name, resolved === undefined || resolved === null ? '' : String(resolved)];
    }),
  );
}

function timerTriggersOf(value: unknown, at: string, resolver: ExpressionResolver): TimerTrigger[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error(`${resolver.where(at)} must be a list`);
  return value.flatMap((trigger: Props, index): TimerTrigger[] => {
    const field = (name: string) => resolver.resolve(pick(trigger, name), `${at}[${index}].${name}`);
    if (field('triggerType') !== 'timer') return [];
    const payload = field('triggerConfig.payload');
    return [
      {
        name: requireString(field('triggerName'), resolver.where(`${at}[${index}].triggerName`)),
        cronExpression: String(field('triggerConfig.cronExpression') ?? ''),
        payload: payload === undefined || payload === null ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload),
        enable: field('triggerConfig.enable') !== false && field('triggerConfig.enable') !== 'false',
      },
    ];
  });
}

class ExpressionResolver {
  vars: Record<string, unknown> = {};

  constructor(
    private readonly options: ServerlessYamlOptions,
    readonly where: (field: string) => string,
  ) {}

  /** Resolves `${…}` in strings, deeply; a string that is one whole expression takes the value's type. */
  resolve(value: unknown, at: string): unknown {
    if (typeof value === 'string') {
      const whole = /^\$\{([^}]+)\}$/.exec(value.trim());
      if (whole) return this.evaluate(whole[1].trim(), at);
      return value.replace(/\$\{([^}]+)\}/g, (_, expression: string) => String(this.evaluate(expression.trim(), at) ?? ''));
    }
    if (Array.isArray(value)) return value.map((item, index) => this.resolve(item, `${at}[${index}]`));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.resolve(item, `${at}.${key}`)]));
    }
    return value;
  }

  private evaluate(expression: string, at: string): unknown {
    const variable = /^vars\.(.+)$/.exec(expression);
    if (variable) {
      const value = pick(this.vars, variable[1]);
      if (value === undefined) throw new Error(`${this.where(at)}: \${${expression}} names no variable in vars`);
      return value;
    }
    const env = /^env\(\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z_][A-Za-z0-9_]*))\s*(?:,\s*(?:'([^']*)'|"([^"]*)"))?\s*\)$/.exec(expression);
    if (env) {
      const name = env[1] ?? env[2] ?? env[3];
      const fallback = env[4] ?? env[5];
      const value = (this.options.env ?? process.env)[name];
      if (value !== undefined) return value;
      if (fallback !== undefined) return fallback;
      throw new Error(`${this.where(at)}: environment variable ${name} is not set and \${${expression}} gives no default`);
    }
    if (/^config\(\s*['"]AccountID['"]\s*\)$/.test(expression)) {
      if (this.options.accountId) return this.options.accountId;
      throw new Error(`${this.where(at)}: \${${expression}} needs the account id (option accountId)`);
    }
    throw new Error(`${this.where(at)}: \${${expression}} is not an expression the local FC resolves`);
  }
}

/** `a.b.c` inside nested objects. */
function pick(source: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Props)[key] : undefined), source);
}

function requireString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`${where} must be a non-empty string`);
  return value;
}

function requireNumber(value: unknown, where: string): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) throw new Error(`${where} must be a number`);
  return number;
}
