/**
 * `npm run status`: the rotation state of every target of the function, read with the function's own
 * configuration, clients and shared API rates, without reading a secret's value. The same against a real
 * account and the local cloud: only the endpoints differ.
 */
import { writeFileSync } from 'node:fs';
import { createClients } from '../../functions/shared/clients';
import { type Config, ConfigError, loadConfig } from '../../functions/shared/config';
import { credentialFor, type FcCredentials } from '../../functions/shared/credentials';
import { assess, summarize, type TargetStatus } from './assess';
import { renderHtml } from './html';
import { parseCommand, type StatusCommand, USAGE, UsageError } from './options';
import { printable, printJson, printTable, type StatusReport } from './print';
import { DiscoveryError, readFleet } from './read';

export interface StatusIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Progress then rewrites one line instead of adding lines. */
  stderrIsTty?: boolean;
  now?: () => number;
}

const FINE = 0;
const ATTENTION = 1;
const USAGE_ERROR = 2;
/** Progress lines on a non-terminal stderr: at most one this often, plus the last. */
const PROGRESS_EVERY_MS = 1_000;

/** Runs the command; resolves to the exit status (0 nothing needs attention, 1 something does, 2 bad usage). */
export async function runStatus(argv: string[], io: StatusIo): Promise<number> {
  const now = io.now ?? Date.now;
  let command: StatusCommand;
  let config: Config;
  let regionId: string;
  try {
    const parsed = parseCommand(argv);
    if (parsed.help) {
      io.stdout(`${USAGE}\n`);
      return FINE;
    }
    command = parsed;
    config = configuration(io.env);
    regionId = config.regionId ?? missingRegion();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`npm run status: ${error.message}\n\n${USAGE}\n`);
    return USAGE_ERROR;
  }

  const credentials = credentialsOf(io.env);
  const missing = await missingCredentials(credentials);
  if (missing) {
    io.stderr(`npm run status: ${missing}\n`);
    return USAGE_ERROR;
  }
  const progress = new Progress(io, now);
  const clients = createClients(config, regionId, credentials);
  if (config.rotationTag) progress.note(`listing the instances tagged ${config.rotationTag.key}=${config.rotationTag.value}…`);
  let reads;
  try {
    reads = await readFleet(config, clients, regionId, {
      concurrency: command.concurrency,
      onDiscovered: (count) => progress.note(`${count} tagged instance${count === 1 ? '' : 's'}`),
      onProgress: ({ read, total }) => (read === 0 ? progress.start(total, command.concurrency, config) : progress.update(read, total)),
    });
  } catch (error) {
    if (!(error instanceof DiscoveryError)) throw error;
    io.stderr(`npm run status: ${printable(error.message)}\nWithout that list the fleet is unknown; grant dds:DescribeDBInstances (npm run render-policy -- --function status --tag-discovery) or check ROTATION_TAG.\n`);
    return ATTENTION;
  }

  const generatedAt = now();
  const statuses = reads.map((read) => assess(read, { intervalDays: config.rotationIntervalDays, graceHours: command.graceHours, now: generatedAt }));
  warnIfAllFailed(statuses, io);
  const full: StatusReport = {
    generatedAt: new Date(generatedAt).toISOString(),
    region: regionId,
    intervalDays: config.rotationIntervalDays,
    graceHours: command.graceHours,
    summary: summarize(statuses),
    targets: statuses,
  };
  const shown = { ...full, targets: statuses.filter((s) => picked(s, command.only)) };
  io.stdout(command.json ? printJson(shown) : printTable(shown, command.only !== undefined));

  if (command.html) {
    try {
      writeFileSync(command.html, renderHtml(full));
    } catch (error) {
      io.stderr(`npm run status: --html ${command.html}: cannot write it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})\n`);
      return USAGE_ERROR;
    }
    io.stderr(`status: wrote ${command.html}\n`);
  }
  return full.summary.attention > 0 ? ATTENTION : FINE;
}

/** The function's configuration; a bad value is the caller's to fix, like a bad flag. */
function configuration(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`${error.message} (status reads the rotation function's configuration from the environment)`);
    throw error;
  }
}

function missingRegion(): never {
  throw new UsageError('ALIBABA_CLOUD_REGION_ID is not set: status needs the region of the instances and secrets; for example ALIBABA_CLOUD_REGION_ID=cn-hangzhou');
}

/** Access keys from the environment (as the default chain reads them), so that `io.env` is the whole input. */
function credentialsOf(env: NodeJS.ProcessEnv): FcCredentials | undefined {
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim();
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim();
  if (!accessKeyId || !accessKeySecret) return undefined;
  const securityToken = env.ALIBABA_CLOUD_SECURITY_TOKEN?.trim();
  return { accessKeyId, accessKeySecret, ...(securityToken && { securityToken }) };
}

/** Why no credentials can be had, if none can: said once, rather than as every read's failure. */
async function missingCredentials(credentials: FcCredentials | undefined): Promise<string | undefined> {
  try {
    await credentialFor(credentials).getCredential();
    return undefined;
  } catch (error) {
    const reason = printable(error instanceof Error ? error.message : String(error));
    return (
      'no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for an STS key), ' +
      `or configure the @alicloud/credentials chain (${reason.length > 600 ? `${reason.slice(0, 599)}…` : reason})`
    );
  }
}

function picked(status: TargetStatus, only: StatusCommand['only']): boolean {
  if (!only) return true;
  return (only.attention && status.attention) || only.states.has(status.state);
}

/** Every read failing the same way is one problem (credentials, endpoint, network), not one per target. */
function warnIfAllFailed(statuses: TargetStatus[], io: StatusIo): void {
  const first = statuses[0]?.problems[0];
  if (!first || first.state !== 'unreadable' || !statuses.every((s) => s.state === 'unreadable')) return;
  io.stderr(`status: every read failed (first: ${printable(first.message)}); check the credentials, ALIBABA_CLOUD_REGION_ID and DDS_ENDPOINT/KMS_ENDPOINT\n`);
}

/** Progress on stderr: a line rewritten in place on a terminal, else a line a second at most. */
class Progress {
  private lastAt = 0;
  private started = 0;

  constructor(
    private readonly io: StatusIo,
    private readonly now: () => number,
  ) {}

  note(text: string): void {
    this.io.stderr(`status: ${text}\n`);
  }

  start(total: number, concurrency: number, config: Config): void {
    this.started = this.now();
    const rate = (qps: number | undefined) => (qps === undefined ? 'found by backing off' : `${qps}/s`);
    this.note(`reading ${total} target${total === 1 ? '' : 's'}, ${concurrency} at once (DDS ${rate(config.apiRates.dds)}, KMS ${rate(config.apiRates.kms)})`);
  }

  update(read: number, total: number): void {
    const done = read === total;
    const at = this.now();
    if (!done && at - this.lastAt < (this.io.stderrIsTty ? 100 : PROGRESS_EVERY_MS)) return;
    this.lastAt = at;
    const line = `status: ${read}/${total} read${done ? ` in ${((at - this.started) / 1000).toFixed(1)} s` : ''}`;
    if (this.io.stderrIsTty) this.io.stderr(`\r${line}${done ? '\n' : ''}`);
    else this.io.stderr(`${line}\n`);
  }
}
