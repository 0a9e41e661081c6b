/**
 * Reads the project's s.yaml as Serverless Devs would: YAML first, then the `${env('NAME')}`,
 * `${env('NAME', 'default')}` and `${vars.name}` expressions in values. Any other expression is
 * an error, so a typo in the file fails here rather than at deploy time.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const S_YAML_PATH = `${PROJECT_ROOT}s.yaml`;

export interface Trigger {
  triggerName: string;
  triggerType: string;
  qualifier?: string;
  triggerConfig: Record<string, unknown>;
}

export interface FunctionProps {
  region: string;
  functionName: string;
  runtime: string;
  code: string;
  handler: string;
  timeout: number;
  memorySize: number;
  cpu: number;
  role: string;
  instanceLifecycleConfig: { initializer: { handler: string; timeout: number } };
  concurrencyConfig: { reservedConcurrency: number };
  environmentVariables: Record<string, string>;
  logConfig: Record<string, unknown>;
  asyncInvokeConfig: {
    maxAsyncRetryAttempts: number;
    maxAsyncEventAgeInSeconds: number;
    destinationConfig: { onFailure: { destination: string } };
  };
  triggers: Trigger[];
}

export interface SYaml {
  edition: string;
  name: string;
  access: string;
  vars: Record<string, unknown>;
  resources: Record<string, { component: string; props: FunctionProps }>;
}

export function readSYaml(env: Record<string, string> = {}): SYaml {
  const raw = parse(readFileSync(S_YAML_PATH, 'utf8')) as SYaml;
  const vars = resolve(raw.vars, env, {}) as Record<string, unknown>;
  return { ...(resolve(raw, env, vars) as SYaml), vars };
}

/**
 * Why fc3 could leave one of these triggers undeployed: it stops deploying a function's triggers
 * at the first EventBridge trigger that has not changed (devsapp/fc3
 * src/subCommands/deploy/impl/trigger.ts returns from its loop there), so no trigger may follow
 * an EventBridge one, and there is room for one at most.
 */
export function triggerLayoutProblems(triggers: readonly Pick<Trigger, 'triggerName' | 'triggerType'>[]): string[] {
  const eventbridge = triggers.flatMap((t, index) => (t.triggerType === 'eventbridge' ? [index] : []));
  const problems: string[] = [];
  if (eventbridge.length > 1) {
    const names = eventbridge.map((i) => triggers[i].triggerName).join(', ');
    problems.push(`${eventbridge.length} EventBridge triggers (${names}): fc3 skips those after the first unchanged one; merge their patterns into one`);
  }
  const [first] = eventbridge;
  if (first !== undefined && first < triggers.length - 1) {
    const after = triggers.slice(first + 1).map((t) => t.triggerName).join(', ');
    problems.push(`${after} follow${first === triggers.length - 2 ? 's' : ''} the EventBridge trigger ${triggers[first].triggerName}: fc3 skips them while it is unchanged; list it last`);
  }
  return problems;
}

/**
 * The environment variables the file shows as commented-out examples (`# NAME: value` at the
 * indentation of a function's environmentVariables), for the operator to uncomment.
 */
export function commentedVariables(): string[] {
  return [...readFileSync(S_YAML_PATH, 'utf8').matchAll(/^ {8}# ([A-Z][A-Z0-9_]*): \S/gm)].map((m) => m[1]);
}

/** The single fc3 resource of the file, as the tests expect it. */
export function rotateFunction(env: Record<string, string> = {}): FunctionProps {
  return readSYaml(env).resources.rotate.props;
}

function resolve(value: unknown, env: Record<string, string>, vars: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    if (whole) return evaluate(whole[1], env, vars);
    return value.replace(/\$\{([^}]*)\}/g, (_, expression: string) => String(evaluate(expression, env, vars)));
  }
  if (Array.isArray(value)) return value.map((item) => resolve(item, env, vars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, env, vars)]));
  }
  return value;
}

function evaluate(expression: string, env: Record<string, string>, vars: Record<string, unknown>): unknown {
  const fromEnv = /^env\('([A-Z0-9_]+)'(?:, '([^']*)')?\)$/.exec(expression);
  if (fromEnv) {
    const [, name, fallback] = fromEnv;
    const value = env[name] ?? fallback;
    if (value === undefined) throw new Error(`s.yaml: ${name} has no value and no default`);
    return value;
  }
  const fromVars = /^vars\.(\w+)$/.exec(expression);
  if (fromVars) {
    if (!(fromVars[1] in vars)) throw new Error(`s.yaml: \${${expression}} names no variable in vars`);
    return vars[fromVars[1]];
  }
  throw new Error(`s.yaml: \${${expression}} is not an expression this project uses`);
}
