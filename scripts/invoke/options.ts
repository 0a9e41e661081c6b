/** The command line of `npm run invoke`, read into what to send and where. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type AccessKey, type Endpoint, publicEndpoint } from './fc';

export const DEFAULT_FUNCTION_NAME = 'mongodb-root-rotation';

export const USAGE = `Usage: npm run invoke -- [options]

Invokes the deployed rotation function through Function Compute (InvokeFunction) and prints its report.

What to rotate (a manual event; with none of these, every target under the scheduled rules):
  --instance ID        an instance to rotate; repeat for more (default: every configured target)
  --force              rotate whatever the age of the current secret
  --ignore-cooldown    with --force and --reason: rotate even within FORCED_ROTATION_COOLDOWN_MINUTES (logged as a warning)
  --dry-run            report what would happen, change nothing
  --reason TEXT        why, for the logs and the report
  --rotation-id ID     name the rotation; invoking again with the same id resumes it instead of rotating twice
  --event-file FILE    send this event instead (e.g. events/incident-actiontrail.json); excludes the options above

How:
  --async              invoke asynchronously (as timers and EventBridge do); prints the request id to follow
  --json               print the report (or an error object) as JSON
  --function-name NAME default ${DEFAULT_FUNCTION_NAME}
  --region ID          default $ALIBABA_CLOUD_REGION_ID
  --endpoint HOST|URL  default $ROTATION_FC_ENDPOINT, else <account-id>.<region>.fc.aliyuncs.com
  --account-id ID      for the default endpoint; default $ALIBABA_CLOUD_ACCOUNT_ID
  -h, --help           this text

Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN),
else the default chain of @alicloud/credentials (profile file, instance role, …).
Exit status: 0 every target fine, 1 a target or the invocation failed, 2 bad usage.`;

/** The command line cannot be used: shown with the usage text, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface InvokeCommand {
  functionName: string;
  event: Buffer;
  async: boolean;
  json: boolean;
  endpoint: Endpoint;
  regionId?: string;
  /** From the environment; unset: the default credential chain. */
  accessKey?: AccessKey;
}

export type ParsedCommand = { help: true } | ({ help: false } & InvokeCommand);

const PAYLOAD_OPTIONS = ['instance', 'force', 'ignore-cooldown', 'dry-run', 'reason', 'rotation-id'] as const;

export function parseCommand(argv: string[], env: NodeJS.ProcessEnv): ParsedCommand {
  const { values } = parseOrExplain(argv);
  if (values.help) return { help: true };

  const regionId = values.region ?? nonEmpty(env.ALIBABA_CLOUD_REGION_ID);
  const command: InvokeCommand = {
    functionName: values['function-name'] ?? DEFAULT_FUNCTION_NAME,
    event: eventOf(values),
    async: values.async ?? false,
    json: values.json ?? false,
    endpoint: endpointOf(values.endpoint ?? nonEmpty(env.ROTATION_FC_ENDPOINT), regionId, values['account-id'] ?? nonEmpty(env.ALIBABA_CLOUD_ACCOUNT_ID)),
  };
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/.test(command.functionName)) throw new UsageError(`--function-name ${JSON.stringify(command.functionName)} is not a function name`);
  if (regionId) command.regionId = regionId;
  const accessKey = accessKeyOf(env);
  if (accessKey) command.accessKey = accessKey;
  return { help: false, ...command };
}

function parseOrExplain(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        instance: { type: 'string', multiple: true },
        force: { type: 'boolean' },
        'ignore-cooldown': { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        reason: { type: 'string' },
        'rotation-id': { type: 'string' },
        'event-file': { type: 'string' },
        async: { type: 'boolean' },
        json: { type: 'boolean' },
        'function-name': { type: 'string' },
        region: { type: 'string' },
        endpoint: { type: 'string' },
        'account-id': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

type Values = ReturnType<typeof parseOrExplain>['values'];

/** The manual event (docs/design.md §4) the options describe, or the bytes of --event-file. */
function eventOf(values: Values): Buffer {
  const file = values['event-file'];
  if (file !== undefined) {
    const clash = PAYLOAD_OPTIONS.find((name) => values[name] !== undefined);
    if (clash) throw new UsageError(`--event-file sends the file as it is: it cannot be combined with --${clash}`);
    try {
      return readFileSync(file);
    } catch (error) {
      throw new UsageError(`cannot read --event-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (values['ignore-cooldown'] && (!values.force || values.reason?.trim() === undefined || values.reason.trim() === '')) {
    throw new UsageError('--ignore-cooldown needs --force and a --reason: the function logs the override with it');
  }
  const instanceIds = values.instance ?? [];
  const empty = instanceIds.find((id) => id.trim() === '');
  if (empty !== undefined) throw new UsageError('--instance needs an instance id, such as dds-bp1a2b3c4d5e6f7g');
  const payload = {
    ...(instanceIds.length > 0 && { instanceIds }),
    ...(values.force && { force: true }),
    ...(values['ignore-cooldown'] && { ignoreCooldown: true }),
    ...(values['dry-run'] && { dryRun: true }),
    ...(values.reason !== undefined && { reason: values.reason }),
    ...(values['rotation-id'] !== undefined && { rotationId: values['rotation-id'] }),
  };
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

function endpointOf(raw: string | undefined, regionId: string | undefined, accountId: string | undefined): Endpoint {
  if (raw !== undefined) return parseEndpoint(raw);
  if (!regionId || !accountId) {
    throw new UsageError('no FC endpoint: give --endpoint (or ROTATION_FC_ENDPOINT), or --region and --account-id (or ALIBABA_CLOUD_REGION_ID and ALIBABA_CLOUD_ACCOUNT_ID)');
  }
  if (!/^\d{1,32}$/.test(accountId)) throw new UsageError(`the account id must be digits, got ${JSON.stringify(accountId)}`);
  if (!/^[a-z]{2,}(-[a-z0-9]+)+$/.test(regionId)) throw new UsageError(`the region must be a region id such as cn-hangzhou, got ${JSON.stringify(regionId)}`);
  return publicEndpoint(accountId, regionId);
}

/** A host (HTTPS), or an http(s) URL with nothing after the host. */
function parseEndpoint(raw: string): Endpoint {
  if (!raw.includes('://')) {
    if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(raw)) throw new UsageError(`the endpoint must be a host or an http(s) URL, got ${JSON.stringify(raw)}`);
    return { host: raw, protocol: 'https' };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`the endpoint is not a valid URL: ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash || url.pathname.length > 1) {
    throw new UsageError(`the endpoint must be http(s)://host[:port] and nothing more, got ${JSON.stringify(url.origin)}`);
  }
  return { host: url.host, protocol: url.protocol === 'http:' ? 'http' : 'https' };
}

function accessKeyOf(env: NodeJS.ProcessEnv): AccessKey | undefined {
  const accessKeyId = nonEmpty(env.ALIBABA_CLOUD_ACCESS_KEY_ID);
  const accessKeySecret = nonEmpty(env.ALIBABA_CLOUD_ACCESS_KEY_SECRET);
  if (!accessKeyId || !accessKeySecret) return undefined;
  const securityToken = nonEmpty(env.ALIBABA_CLOUD_SECURITY_TOKEN);
  return { accessKeyId, accessKeySecret, ...(securityToken && { securityToken }) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
