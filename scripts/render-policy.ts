/**
 * Renders the RAM policy of one of the two functions of s.yaml, each of which runs as its own role:
 *
 *   npm run --silent render-policy -- --function rotate --account 1234567890123456 --region cn-hangzhou \
 *     --instances dds-bp1aaaa,dds-bp1bbbb --secret-prefix mongodb/ [--tag-discovery] \
 *     [--create-missing-secrets] [--encryption-key-id key-hzz6...] \
 *     [--failure-destination acs:mns:cn-hangzhou:1234567890123456:/topics/rotation-failures/messages]
 *
 *   npm run --silent render-policy -- --function dispatch --account 1234567890123456 --region cn-hangzhou \
 *     [--tag-discovery --instances 'dds-*'] [--failure-destination ...]
 *
 *   npm run --silent render-policy -- --function status --account 1234567890123456 --region cn-hangzhou \
 *     --instances 'dds-*' --secret-prefix mongodb/ [--tag-discovery]
 *
 * `--function status` is the read-only policy for people who only look (`npm run status`): no secret
 * value, no write. `--instances` takes instance ids, their ARNs, or a pattern with `*`/`?` written on purpose
 * (`'dds-*'`): there is no default. Prints the policy JSON on stdout; attach the rotate policy to the
 * role named by ROTATION_ROLE_ARN, the dispatch policy to the one named by DISPATCH_ROLE_ARN.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { asList, parsePolicy, type PolicyDocument, type Statement } from '../local-cloud/ram';

export type PolicyFunction = 'rotate' | 'dispatch' | 'status';
export const POLICY_FUNCTIONS: readonly PolicyFunction[] = ['rotate', 'dispatch', 'status'];

/**
 * The templates, one per function. A statement with `When` is rendered only for that feature and
 * loses the field; `${instance}` in a resource gives one resource per `--instances` entry.
 *
 * The dispatcher's fc:InvokeFunction is granted on `*`: FC 3.0's InvokeFunction page lists its
 * resource type as "All Resources", and no Alibaba RAM page confirms that a function ARN
 * (`acs:fc:<region>:<account>:functions/<name>`) scopes it. A scoped grant that FC ignored would
 * refuse every invocation, so the documented form is used (README, "Threat model", says what
 * that allows).
 */
export const POLICY_TEMPLATE_PATHS: Record<PolicyFunction, string> = {
  rotate: fileURLToPath(new URL('../deploy/rotate-policy.template.json', import.meta.url)),
  dispatch: fileURLToPath(new URL('../deploy/dispatch-policy.template.json', import.meta.url)),
  status: fileURLToPath(new URL('../deploy/status-policy.template.json', import.meta.url)),
};

export interface RenderOptions {
  function: PolicyFunction;
  accountId: string;
  region: string;
  /**
   * Which instances the function may act on: ids, `acs:dds:<region>:<account>:dbinstance/<id>`
   * ARNs, or patterns with `*`/`?`. Required for the rotate function; for the dispatcher only
   * with tag discovery (it reads the named instances' tags).
   */
  instances: string[];
  /** Rotate only: every rotated secret's name starts with it, e.g. `mongodb/` for `mongodb/{instanceId}/root`. */
  secretPrefix?: string;
  /** ROTATION_TAG is used: instances are discovered with DescribeDBInstances. */
  tagDiscovery: boolean;
  /** Rotate only. CREATE_MISSING_SECRETS=true: the function may create a target's secret. */
  createMissingSecrets: boolean;
  /** Rotate only. The secrets are encrypted with this customer key. */
  encryptionKeyId?: string;
  /**
   * The function's asyncInvokeConfig failure destination (ROTATION_FAILURE_DESTINATION), an MNS
   * topic or queue: FC publishes failed async invocations there with the function's role.
   */
  failureDestination?: string;
}

export class RenderError extends Error {}

type Feature = 'tagDiscovery' | 'createMissingSecrets' | 'encryptionKey' | 'failureTopic' | 'failureQueue';

interface TemplateStatement extends Statement {
  When?: Feature;
}

const FEATURES: Record<Feature, (o: RenderOptions) => boolean> = {
  tagDiscovery: (o) => o.tagDiscovery,
  createMissingSecrets: (o) => o.createMissingSecrets,
  encryptionKey: (o) => o.encryptionKeyId !== undefined,
  failureTopic: (o) => destinationKind(o.failureDestination) === 'topics',
  failureQueue: (o) => destinationKind(o.failureDestination) === 'queues',
};

const INSTANCE_PATTERN = /^[A-Za-z0-9*?-]+$/;
const INSTANCE_ARN = /^acs:dds:([^:]*):([^:]*):dbinstance\/(.+)$/;
const DESTINATION = /^acs:mns:([a-z0-9-]+):(\d+):\/(topics|queues)\/([A-Za-z0-9-]{1,256})\/messages$/;

export function renderPolicy(options: RenderOptions): PolicyDocument {
  validate(options);
  const values: Record<string, string> = {
    accountId: options.accountId,
    region: options.region,
    secretPrefix: options.secretPrefix ?? '',
    encryptionKeyId: options.encryptionKeyId ?? '',
    failureDestination: options.failureDestination ?? '',
  };
  const instances = options.instances.map(instanceIdOf);
  const statements = readTemplate(options.function)
    .filter((s) => s.When === undefined || FEATURES[s.When](options))
    .map((s) => renderStatement(s, values, instances));
  return parsePolicy({ Version: '1', Statement: statements });
}

function readTemplate(fn: PolicyFunction): TemplateStatement[] {
  const template = JSON.parse(readFileSync(POLICY_TEMPLATE_PATHS[fn], 'utf8')) as { Statement: TemplateStatement[] };
  for (const statement of template.Statement) {
    if (statement.When !== undefined && !(statement.When in FEATURES)) {
      throw new RenderError(`the ${fn} policy template names an unknown feature "${statement.When}"`);
    }
  }
  return template.Statement;
}

function renderStatement(statement: TemplateStatement, values: Record<string, string>, instances: string[]): Statement {
  const substitute = (text: string) =>
    text.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      if (!(name in values)) throw new RenderError(`the policy template uses an unknown placeholder \${${name}}`);
      return values[name];
    });
  const expand = (text: string) => (text.includes('${instance}') ? instances.map((id) => text.replaceAll('${instance}', id)) : [text]);
  const resources = asList(statement.Resource).flatMap(expand).map(substitute);
  const resource = typeof statement.Resource === 'string' && resources.length === 1 ? resources[0] : resources;
  const action = typeof statement.Action === 'string' ? substitute(statement.Action) : statement.Action.map(substitute);
  return { Effect: statement.Effect, Action: action, Resource: resource };
}

/** An instance entry as an id or pattern: an ARN gives the one it ends with (validate checked its region and account). */
function instanceIdOf(entry: string): string {
  return INSTANCE_ARN.exec(entry)?.[3] ?? entry;
}

function destinationKind(destination: string | undefined): 'topics' | 'queues' | undefined {
  return destination === undefined ? undefined : (DESTINATION.exec(destination)?.[3] as 'topics' | 'queues' | undefined);
}

function validate(o: RenderOptions): void {
  const problems: string[] = [];
  if (!POLICY_FUNCTIONS.includes(o.function)) {
    problems.push('--function must be rotate or dispatch (the two functions of s.yaml, each with its own role), or status (read-only, for npm run status)');
  }
  if (!/^\d{6,32}$/.test(o.accountId)) problems.push('--account must be the numeric Alibaba Cloud account id (e.g. 1234567890123456)');
  if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(o.region)) problems.push('--region must be a region id (e.g. cn-hangzhou)');
  problems.push(...instanceProblems(o));
  if (o.function !== 'dispatch') {
    if (o.secretPrefix === undefined || !/^[A-Za-z0-9_/+=.@-]+$/.test(o.secretPrefix)) {
      problems.push(
        '--secret-prefix must be the non-empty start of every secret name, without wildcards ' +
          '(e.g. mongodb/ for SECRET_NAME_TEMPLATE mongodb/{instanceId}/root)',
      );
    }
    if (o.encryptionKeyId !== undefined && !/^[A-Za-z0-9-]+$/.test(o.encryptionKeyId)) {
      problems.push('--encryption-key-id must be a KMS key id (e.g. key-hzz62f1cb66fa42qo****)');
    }
  }
  if (o.function === 'status') {
    const writeOptions = [
      o.createMissingSecrets && '--create-missing-secrets',
      o.encryptionKeyId !== undefined && '--encryption-key-id',
      o.failureDestination !== undefined && '--failure-destination',
    ].filter((name): name is string => typeof name === 'string');
    if (writeOptions.length > 0) problems.push(`${writeOptions.join(', ')}: the status policy reads no secret value and writes nothing; leave them out`);
  } else if (o.function === 'dispatch') {
    const secretOptions = [
      o.secretPrefix !== undefined && '--secret-prefix',
      o.createMissingSecrets && '--create-missing-secrets',
      o.encryptionKeyId !== undefined && '--encryption-key-id',
    ].filter((name): name is string => typeof name === 'string');
    if (secretOptions.length > 0) problems.push(`${secretOptions.join(', ')}: the dispatcher reads no secret; give these to --function rotate only`);
  }
  if (o.failureDestination !== undefined) problems.push(...destinationProblems(o.failureDestination, o));
  if (problems.length > 0) throw new RenderError(problems.join('\n'));
}

function instanceProblems(o: RenderOptions): string[] {
  const needed = o.function !== 'dispatch' || o.tagDiscovery;
  if (o.instances.length === 0) {
    if (!needed) return [];
    return [
      `--instances is required${o.function === 'dispatch' ? ' with --tag-discovery' : ''}: the instance ids (dds-bp1…), ` +
        "their ARNs, or a pattern you mean, such as 'dds-*' for every instance of the account in the region",
    ];
  }
  if (!needed) return ['--instances: the dispatcher reads instances only with --tag-discovery; leave it out'];
  return o.instances.flatMap((entry) => {
    if (entry.startsWith('acs:')) {
      const arn = INSTANCE_ARN.exec(entry);
      if (!arn || !INSTANCE_PATTERN.test(arn[3])) return [`--instances: "${entry}" is not an instance ARN (acs:dds:<region>:<account>:dbinstance/<id>)`];
      if (arn[1] !== o.region || arn[2] !== o.accountId) return [`--instances: "${entry}" is not in --region ${o.region} of --account ${o.accountId}`];
      return [];
    }
    return INSTANCE_PATTERN.test(entry) ? [] : [`--instances: "${entry}" is not an instance id or pattern (e.g. dds-bp1a2b3c4d5e6f7g, or 'dds-*')`];
  });
}

function destinationProblems(destination: string, o: RenderOptions): string[] {
  const parsed = DESTINATION.exec(destination);
  if (!parsed) {
    return [
      '--failure-destination must be the MNS topic or queue ARN of s.yaml\'s ROTATION_FAILURE_DESTINATION, ' +
        'e.g. acs:mns:cn-hangzhou:1234567890123456:/topics/rotation-failures/messages (grant other kinds yourself)',
    ];
  }
  if (parsed[1] !== o.region || parsed[2] !== o.accountId) return [`--failure-destination is not in --region ${o.region} of --account ${o.accountId}`];
  return [];
}

export function parseRenderArgs(argv: string[]): RenderOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      function: { type: 'string' },
      account: { type: 'string' },
      region: { type: 'string' },
      instances: { type: 'string', multiple: true },
      'secret-prefix': { type: 'string' },
      'tag-discovery': { type: 'boolean', default: false },
      'create-missing-secrets': { type: 'boolean', default: false },
      'encryption-key-id': { type: 'string' },
      'failure-destination': { type: 'string' },
    },
  });
  const missing = (['function', 'account', 'region'] as const).filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new RenderError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
  return {
    function: values.function as PolicyFunction,
    accountId: values.account!,
    region: values.region!,
    instances: (values.instances ?? []).flatMap((list) => list.split(',')).map((entry) => entry.trim()).filter((entry) => entry !== ''),
    secretPrefix: values['secret-prefix'],
    tagDiscovery: values['tag-discovery']!,
    createMissingSecrets: values['create-missing-secrets']!,
    encryptionKeyId: values['encryption-key-id'],
    failureDestination: values['failure-destination'],
  };
}

const USAGE = [
  'usage: npm run --silent render-policy -- --function rotate --account <id> --region <region> --instances <ids|ARNs|pattern> \\',
  '         --secret-prefix <prefix> [--tag-discovery] [--create-missing-secrets] [--encryption-key-id <key-id>] [--failure-destination <mns-arn>]',
  '       npm run --silent render-policy -- --function dispatch --account <id> --region <region> \\',
  '         [--tag-discovery --instances <ids|ARNs|pattern>] [--failure-destination <mns-arn>]',
  '       npm run --silent render-policy -- --function status --account <id> --region <region> --instances <ids|ARNs|pattern> \\',
  '         --secret-prefix <prefix> [--tag-discovery]',
].join('\n');

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
