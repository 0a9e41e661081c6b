/** The command line of `npm run status`. */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_GRACE_HOURS, STATES, type State } from './assess';

export const DEFAULT_CONCURRENCY = 8;
const MAX_CONCURRENCY = 64;
const MAX_GRACE_HOURS = 8_760;

export const USAGE = `Usage: npm run status -- [options]

Shows, for every target of the rotation function, its instance (type, status, lock mode), its secret's
ACSCurrent (version, age, due date), a pending rotation if any, the versions used out of 10, and the one
thing to do. It reads the function's configuration from the environment (ROTATION_TARGETS, ROTATION_TAG,
SECRET_NAME_TEMPLATE, ROTATION_INTERVAL_DAYS, ALIBABA_CLOUD_REGION_ID, DDS_ENDPOINT, KMS_ENDPOINT, DDS_QPS,
KMS_QPS) and calls only DescribeDBInstances, DescribeDBInstanceAttribute and ListSecretVersionIds: never a
secret's value.

Options:
  --json               print JSON instead of a table
  --only attention     list only the targets that need attention (or --only STATE[,STATE…])
  --html FILE          also write a self-contained page: a chart of the secrets' ages, the attention list, the table
  --concurrency N      targets read at once, 1-${MAX_CONCURRENCY} (default ${DEFAULT_CONCURRENCY}); calls still keep to DDS_QPS and KMS_QPS
  --grace-hours H      hours past the interval before a secret counts as overdue (default ${DEFAULT_GRACE_HOURS}: the daily timer's period)
  -h, --help           this text

States: ${STATES.join(', ')}.
Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN),
else the default chain of @alicloud/credentials.
Exit status: 0 nothing needs attention, 1 something does (or the fleet could not be listed), 2 bad usage
(a bad option or configuration value, or no credentials).`;

/** The command line cannot be used: shown with the usage text, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface StatusCommand {
  json: boolean;
  /** Undefined: every target. */
  only?: { attention: boolean; states: ReadonlySet<State> };
  /** Absolute path of the page to write. */
  html?: string;
  concurrency: number;
  graceHours: number;
}

export type ParsedCommand = { help: true } | ({ help: false } & StatusCommand);

export function parseCommand(argv: string[]): ParsedCommand {
  const values = parseOrExplain(argv);
  if (values.help) return { help: true };
  const command: StatusCommand = {
    json: values.json ?? false,
    concurrency: wholeNumber('--concurrency', values.concurrency, DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY, '8'),
    graceHours: hours('--grace-hours', values['grace-hours'], DEFAULT_GRACE_HOURS),
  };
  if (values.only !== undefined) command.only = onlyOf(values.only);
  if (values.html !== undefined) command.html = htmlPath(values.html);
  return { help: false, ...command };
}

function parseOrExplain(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: 'boolean' },
        only: { type: 'string' },
        html: { type: 'string' },
        concurrency: { type: 'string' },
        'grace-hours': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function wholeNumber(flag: string, raw: string | undefined, fallback: number, min: number, max: number, example: string): number {
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}; for example ${flag} ${example}`);
  }
  return value;
}

function hours(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!(value >= 0 && value <= MAX_GRACE_HOURS)) {
    throw new UsageError(`${flag} must be a number of hours from 0 to ${MAX_GRACE_HOURS}, got ${JSON.stringify(raw)}; for example ${flag} 24`);
  }
  return value;
}

function onlyOf(raw: string): NonNullable<StatusCommand['only']> {
  const words = raw.split(',').map((w) => w.trim());
  const unknown = words.filter((w) => w !== 'attention' && !(STATES as readonly string[]).includes(w));
  if (unknown.length > 0 || words.length === 0) {
    throw new UsageError(`--only takes "attention" or states (${STATES.join(', ')}), got ${JSON.stringify(unknown[0] ?? raw)}; for example --only attention`);
  }
  return { attention: words.includes('attention'), states: new Set(words.filter((w): w is State => w !== 'attention')) };
}

/** Checked before anything is read, so that a long read does not end in a page it cannot write. */
function htmlPath(raw: string): string {
  if (raw.trim() === '') throw new UsageError('--html needs a file name; for example --html status.html');
  const path = resolve(raw);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`--html ${JSON.stringify(raw)}: the directory ${JSON.stringify(dir)} does not exist; create it or write the page elsewhere`);
  }
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`--html ${JSON.stringify(raw)} is a directory; give a file name, for example --html status.html`);
  return path;
}
