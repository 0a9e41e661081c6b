/**
 * Renders the rotation function's RAM policy for one account, region and secret prefix:
 *
 *   npm run render-policy -- --account 1234567890123456 --region cn-hangzhou \
 *     --secret-prefix mongodb/ [--instances 'dds-*'] [--tag-discovery] \
 *     [--create-missing-secrets] [--encryption-key-id key-hzz6...] \
 *     [--dispatcher [--rotate-function mongodb-root-rotation]]
 *
 * Prints the policy JSON on stdout; attach it to the role named by ROTATION_ROLE_ARN (both
 * functions of s.yaml run with it).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { asList, parsePolicy, type PolicyDocument, type Statement } from '../local-cloud/ram';

export const POLICY_TEMPLATE_PATH = fileURLToPath(new URL('../deploy/ram-policy.template.json', import.meta.url));

export interface RenderOptions {
  accountId: string;
  region: string;
  /** Every rotated secret's name starts with it, e.g. `mongodb/` for `mongodb/{instanceId}/root`. */
  secretPrefix: string;
  /** Which instances may be reset, with `*`/`?` wildcards. */
  instancePattern: string;
  /** ROTATION_TAG is used: instances are discovered with DescribeDBInstances. */
  tagDiscovery: boolean;
  /** CREATE_MISSING_SECRETS=true: the function may create a target's secret. */
  createMissingSecrets: boolean;
  /** The secrets are encrypted with this customer key (KMS instance secrets). */
  encryptionKeyId?: string;
  /** Fleet mode: the dispatcher, running with the same role, invokes the rotate function. */
  dispatcher?: boolean;
  /** The rotate function's name (s.yaml's ROTATION_FUNCTION_NAME); default mongodb-root-rotation. */
  rotateFunctionName?: string;
}

export class RenderError extends Error {}

/** s.yaml's default for ROTATION_FUNCTION_NAME. */
export const DEFAULT_ROTATE_FUNCTION = 'mongodb-root-rotation';

// Statements the template holds for optional features, each recognised by one action it grants.
const OPTIONAL_STATEMENTS: { marker: string; wanted: (o: RenderOptions) => boolean }[] = [
  { marker: 'dds:DescribeDBInstances', wanted: (o) => o.tagDiscovery },
  { marker: 'kms:CreateSecret', wanted: (o) => o.createMissingSecrets },
  { marker: 'kms:Decrypt', wanted: (o) => o.encryptionKeyId !== undefined },
  { marker: 'fc:InvokeFunction', wanted: (o) => o.dispatcher === true },
];

export function renderPolicy(options: RenderOptions): PolicyDocument {
  validate(options);
  const template = parsePolicy(readFileSync(POLICY_TEMPLATE_PATH, 'utf8'));
  const values: Record<string, string> = {
    accountId: options.accountId,
    region: options.region,
    secretPrefix: options.secretPrefix,
    instancePattern: options.instancePattern,
    encryptionKeyId: options.encryptionKeyId ?? '',
    rotateFunctionName: options.rotateFunctionName ?? DEFAULT_ROTATE_FUNCTION,
  };
  const statements = template.Statement.filter((s) => isWanted(s, options)).map((s) => substituteStatement(s, values));
  return parsePolicy({ Version: '1', Statement: statements });
}

function isWanted(statement: Statement, options: RenderOptions): boolean {
  const actions = asList(statement.Action);
  return OPTIONAL_STATEMENTS.every(({ marker, wanted }) => !actions.includes(marker) || wanted(options));
}

function substituteStatement(statement: Statement, values: Record<string, string>): Statement {
  const substitute = (text: string) =>
    text.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      if (!(name in values)) throw new RenderError(`the policy template uses an unknown placeholder \${${name}}`);
      return values[name];
    });
  const map = (v: string | string[]) => (typeof v === 'string' ? substitute(v) : v.map(substitute));
  return { Effect: statement.Effect, Action: map(statement.Action), Resource: map(statement.Resource) };
}

function validate(o: RenderOptions): void {
  const problems: string[] = [];
  if (!/^\d{6,32}$/.test(o.accountId)) problems.push('--account must be the numeric Alibaba Cloud account id (e.g. 1234567890123456)');
  if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(o.region)) problems.push('--region must be a region id (e.g. cn-hangzhou)');
  if (!/^[A-Za-z0-9_/+=.@-]+$/.test(o.secretPrefix)) {
    problems.push(
      '--secret-prefix must be the non-empty start of every secret name, without wildcards ' +
        '(e.g. mongodb/ for SECRET_NAME_TEMPLATE mongodb/{instanceId}/root)',
    );
  }
  if (!/^[A-Za-z0-9*?-]+$/.test(o.instancePattern)) problems.push("--instances must be an instance id pattern (e.g. 'dds-*')");
  if (o.encryptionKeyId !== undefined && !/^[A-Za-z0-9-]+$/.test(o.encryptionKeyId)) {
    problems.push('--encryption-key-id must be a KMS key id (e.g. key-hzz62f1cb66fa42qo****)');
  }
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/.test(o.rotateFunctionName ?? DEFAULT_ROTATE_FUNCTION)) {
    problems.push('--rotate-function must be a function name (e.g. mongodb-root-rotation)');
  }
  if (problems.length > 0) throw new RenderError(problems.join('\n'));
}

export function parseRenderArgs(argv: string[]): RenderOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      account: { type: 'string' },
      region: { type: 'string' },
      'secret-prefix': { type: 'string' },
      instances: { type: 'string', default: 'dds-*' },
      'tag-discovery': { type: 'boolean', default: false },
      'create-missing-secrets': { type: 'boolean', default: false },
      'encryption-key-id': { type: 'string' },
      dispatcher: { type: 'boolean', default: false },
      'rotate-function': { type: 'string', default: DEFAULT_ROTATE_FUNCTION },
    },
  });
  const missing = (['account', 'region', 'secret-prefix'] as const).filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new RenderError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
  return {
    accountId: values.account!,
    region: values.region!,
    secretPrefix: values['secret-prefix']!,
    instancePattern: values.instances!,
    tagDiscovery: values['tag-discovery']!,
    createMissingSecrets: values['create-missing-secrets']!,
    encryptionKeyId: values['encryption-key-id'],
    dispatcher: values.dispatcher!,
    rotateFunctionName: values['rotate-function']!,
  };
}

const USAGE =
  'usage: npm run render-policy -- --account <id> --region <region> --secret-prefix <prefix> ' +
  "[--instances 'dds-*'] [--tag-discovery] [--create-missing-secrets] [--encryption-key-id <key-id>] " +
  '[--dispatcher [--rotate-function <name>]]';

function main(): void {
  try {
    const policy = renderPolicy(parseRenderArgs(process.argv.slice(2)));
    process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
  } catch (err) {
    process.stderr.write(`render-policy: ${(err as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
