/**
 * The checks `npm run deploy` makes on what `s deploy` would create, before it builds or deploys
 * anything: s.yaml read with the deployer's environment, as Serverless Devs resolves it, function
 * by function.
 *
 *   - environment variables Function Compute accepts: no reserved `FC_` name, 4 KB at most in all
 *     (the local FC's own rule, local-cloud/fc/environment-limits.ts);
 *   - endpoints over https: `http://` only for loopback hosts, since a request in clear text carries
 *     the new password in its query, with the STS token;
 *   - something to rotate: ROTATION_TARGETS, ROTATION_TAG or ROTATION_TARGETS_FILE;
 *   - files the functions read from their code package (`/code/...`: ROTATION_TARGETS_FILE,
 *     VERIFY_TLS_CA_FILE) present in deploy/code/, which is copied into every package;
 *   - the dispatcher never runs as the rotate function's role, and has a role once fleet-dispatch is on.
 *
 * Prints one problem per line, each with its fix, and exits 1; prints nothing and exits 0 when all is well.
 *
 *   tsx scripts/deploy/preflight.ts [s.yaml]
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVIRONMENT_SIZE_LIMIT_BYTES, environmentProblems, environmentSize, type FunctionSpec, readServerlessYaml } from '../../local-cloud/fc';

/** The endpoint overrides the functions read (README, Configuration). */
export const ENDPOINT_VARIABLES = ['DDS_ENDPOINT', 'KMS_ENDPOINT', 'ROTATION_FC_ENDPOINT'] as const;
/** Variables naming a file the function reads from its code package. */
export const PACKAGE_FILE_VARIABLES = ['ROTATION_TARGETS_FILE', 'VERIFY_TLS_CA_FILE'] as const;
/** Where FC puts the code package of a Node.js function. */
export const CODE_ROOT = '/code/';
/** Copied into every function's code package by `npm run deploy`, so `deploy/code/x` is `/code/x`. */
export const PACKAGE_FILES_DIR = 'deploy/code';
const TARGET_VARIABLES = ['ROTATION_TARGETS', 'ROTATION_TAG', 'ROTATION_TARGETS_FILE'];

export interface PreflightContext {
  /** The project directory (s.yaml's, where deploy/code/ lives). */
  projectDir: string;
}

/** Every problem of the functions s.yaml declares, each with its fix; empty when `s deploy` may go ahead. */
export function preflightProblems(specs: FunctionSpec[], context: PreflightContext): string[] {
  const rotate = specs.find((spec) => spec.codeDir.endsWith(`${path.sep}rotate`));
  const dispatch = specs.find((spec) => spec.codeDir.endsWith(`${path.sep}dispatch`));
  return [
    ...specs.flatMap((spec) => [...environmentLimitProblems(spec), ...clearTextEndpointProblems(spec), ...packageFileProblems(spec, context)]),
    ...(rotate ? targetProblems(rotate) : []),
    ...(dispatch ? dispatcherRoleProblems(dispatch, rotate) : []),
  ];
}

function environmentLimitProblems(spec: FunctionSpec): string[] {
  return environmentProblems(spec.environment).map((problem) => {
    if (environmentSize(spec.environment) <= ENVIRONMENT_SIZE_LIMIT_BYTES || !problem.includes('4 KB')) return `${spec.name}: FC would refuse it: ${problem}.`;
    const largest = Object.entries(spec.environment).sort(([, a], [, b]) => b.length - a.length)[0];
    return (
      `${spec.name}: FC would refuse it: ${problem} (the largest is ${largest[0]}, ${Buffer.byteLength(largest[1])} bytes). ` +
      `List the targets in a file instead: put it at ${PACKAGE_FILES_DIR}/targets.json, uncomment ROTATION_TARGETS_FILE in s.yaml, ` +
      'and leave ROTATION_TARGETS empty; or select the instances with ROTATION_TAG (README, Deploy).'
    );
  });
}

export function clearTextEndpointProblems(spec: Pick<FunctionSpec, 'name' | 'environment'>): string[] {
  return ENDPOINT_VARIABLES.flatMap((name) => {
    const value = spec.environment[name]?.trim() ?? '';
    if (!/^http:\/\//i.test(value) || isLoopbackUrl(value)) return [];
    return [
      `${spec.name}: ${name}=${value} would send requests in clear text, and they carry the new password in their query, with the ` +
        `function's STS token. Use https:// (or the bare host name), e.g. ${name}=https://${value.replace(/^http:\/\//i, '')}; ` +
        'http:// is only for loopback hosts (127.0.0.0/8, ::1, localhost).',
    ];
  });
}

/** http://127.x.x.x, http://[::1] and http://localhost, any port. */
export function isLoopbackUrl(value: string): boolean {
  let host: string;
  try {
    host = new URL(value).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host);
}

function packageFileProblems(spec: FunctionSpec, context: PreflightContext): string[] {
  return PACKAGE_FILE_VARIABLES.flatMap((name) => {
    const value = spec.environment[name]?.trim() ?? '';
    if (value === '') return [];
    if (!value.startsWith(CODE_ROOT)) {
      return [`${spec.name}: ${name}=${value} is not in the code package: give a path under ${CODE_ROOT}, e.g. ${CODE_ROOT}${path.basename(value)}, and put the file in ${PACKAGE_FILES_DIR}/.`];
    }
    const local = path.join(context.projectDir, PACKAGE_FILES_DIR, value.slice(CODE_ROOT.length));
    if (!existsSync(local)) {
      return [`${spec.name}: ${name}=${value}, but ${path.relative(context.projectDir, local)} does not exist: npm run deploy ships ${PACKAGE_FILES_DIR}/ as ${CODE_ROOT}; put the file there.`];
    }
    if (name === 'ROTATION_TARGETS_FILE' && !isJson(local)) return [`${spec.name}: ${path.relative(context.projectDir, local)} is not valid JSON: it holds the ROTATION_TARGETS array.`];
    return [];
  });
}

function isJson(file: string): boolean {
  try {
    JSON.parse(readFileSync(file, 'utf8'));
    return true;
  } catch {
    return false;
  }
}

function targetProblems(rotate: FunctionSpec): string[] {
  if (TARGET_VARIABLES.some((name) => (rotate.environment[name]?.trim() ?? '') !== '')) return [];
  return [`${rotate.name}: nothing to rotate: export ROTATION_TARGETS or ROTATION_TAG, or ship a targets file (ROTATION_TARGETS_FILE in s.yaml).`];
}

function dispatcherRoleProblems(dispatch: FunctionSpec, rotate: FunctionSpec | undefined): string[] {
  if (dispatch.role && rotate?.role && dispatch.role.toLowerCase() === rotate.role.toLowerCase()) {
    return [
      `${dispatch.name}: DISPATCH_ROLE_ARN is the rotate function's role: the dispatcher would read every root password. ` +
        'Give it a role of its own with the policy of npm run render-policy -- --function dispatch.',
    ];
  }
  const fleetMode = (dispatch.triggers ?? []).some((trigger) => trigger.enable);
  if (fleetMode && !dispatch.role) {
    return [
      `${dispatch.name}: fleet-dispatch is enabled but DISPATCH_ROLE_ARN is empty: the dispatcher could invoke nothing. ` +
        'Create a role for it with the policy of npm run render-policy -- --function dispatch, and export DISPATCH_ROLE_ARN.',
    ];
  }
  return [];
}

function main(): void {
  const file = path.resolve(process.argv[2] ?? 's.yaml');
  let problems: string[];
  try {
    problems = preflightProblems(readServerlessYaml(file, { env: process.env }), { projectDir: path.dirname(file) });
  } catch (err) {
    problems = [`${path.basename(file)} cannot be read as s deploy would: ${(err as Error).message}`];
  }
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  process.exitCode = problems.length > 0 ? 1 : 0;
}

const isMain = process.argv[1] !== undefined && existsSync(process.argv[1]) && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (isMain) main();
