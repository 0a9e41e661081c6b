/**
 * The rotation function as FC runs it, on a local cloud of its own: the real bundle deployed to the
 * local FC (a child process per instance, FC's timeout enforced), invoked through the official FC
 * client, each invocation read back as FC recorded it together with the report the function
 * returned or, when it failed, logged. The fault matrix and the deadline tests drive the function
 * through one of these.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Outcome } from '../../functions/rotate/report';
import type { RotationReport } from '../../functions/rotate/report';
import { type LocalCloud, startLocalCloud } from '../../local-cloud';
import type { InvocationRecord } from '../../local-cloud/fc';

const require = createRequire(__filename);
const fc = require('@alicloud/fc20230330') as typeof import('@alicloud/fc20230330');
const openApi = require('@alicloud/openapi-core') as typeof import('@alicloud/openapi-core');
const dara = require('@darabonba/typescript') as typeof import('@darabonba/typescript');

const REPO = path.resolve(__dirname, '..', '..');
/** The key the rig's own calls (InvokeFunction) are signed with. */
export const RIG_KEY = { id: 'LTAI5tFaultRig000001', secret: 'fault-rig-secret-000001' };
/** How long the rig waits for one synchronous invocation's answer; FC's timeout ends the run well before. */
const INVOKE_TIMEOUTS = { readTimeout: 300_000, connectTimeout: 60_000 };

export interface Target {
  instanceId: string;
  secretName: string;
  /** An application user's target: the user (or the first of its pair) and how it is rotated; root's otherwise. */
  accountName?: string;
  strategy?: 'alternating' | 'single';
}

/** The built function: `codeDir` holds `index.js` as FC's `/code` would. */
export interface Bundle {
  codeDir: string;
  remove(): void;
}

/** Builds every function with `scripts/build.mjs --outdir` into a temporary folder; the rotate function's folder is returned. */
export async function buildBundle(): Promise<Bundle> {
  const outDir = mkdtempSync(path.join(tmpdir(), 'rotate-bundle-'));
  try {
    await promisify(execFile)(process.execPath, [path.join(REPO, 'scripts', 'build.mjs'), '--outdir', outDir], { cwd: REPO });
  } catch (err) {
    rmSync(outDir, { recursive: true, force: true });
    throw err;
  }
  return { codeDir: path.join(outDir, 'rotate'), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

/** Functions built already (`build.mjs --outdir outDir`), left in place when the rig is done with them. */
export function prebuiltBundle(outDir: string): Bundle {
  return { codeDir: path.join(outDir, 'rotate'), remove: () => undefined };
}

export interface RigOptions {
  bundle: Bundle;
  /** The local cloud's fixture; its first access key must be RIG_KEY. */
  fixture: object;
  /**
   * The deployed functions' targets, in the file ROTATION_TARGETS_FILE names (a lane's targets take more than
   * FC's 4 KB of environment variables as ROTATION_TARGETS).
   */
  targets: Target[];
  /**
   * The bundle is deployed once per entry, under that name with that timeout (FC kills a run that
   * outlasts it; the function derives its deadline from it).
   */
  functions: Array<{ name: string; timeoutSeconds: number; environment?: Record<string, string> }>;
  /** More environment variables for the functions (a function's own `environment` wins). */
  environment?: Record<string, string>;
  /** MongoDB login peers for these instances (for a deployment with the login check on). */
  mongoPeers?: readonly string[];
}

/** What a run came to for one target: the report's outcome, or how FC ended a run that left none. */
export type RunOutcome = Outcome | 'killed' | 'timeout' | 'no report';

export interface Invocation {
  record: InvocationRecord;
  /** The handler's result, or the report it logged before failing. */
  report?: RotationReport;
}

export class Rig {
  private constructor(
    readonly cloud: LocalCloud,
    private readonly client: import('@alicloud/fc20230330').default,
    private readonly options: RigOptions,
    private readonly targetsFile: TargetsFile,
  ) {}

  static async start(options: RigOptions): Promise<Rig> {
    const cloud = await startLocalCloud({ port: 0, fixture: options.fixture, mongoPeers: options.mongoPeers?.length ? options.mongoPeers : false });
    const targetsFile = writeTargetsFile(options.targets);
    try {
      deploy(cloud, options, targetsFile.path);
      const config = new openApi.$OpenApiUtil.Config({
        accessKeyId: RIG_KEY.id,
        accessKeySecret: RIG_KEY.secret,
        endpoint: cloud.host,
        protocol: 'http',
        regionId: cloud.region,
      });
      return new Rig(cloud, new fc.default(config), options, targetsFile);
    } catch (err) {
      await cloud.close();
      targetsFile.remove();
      throw err;
    }
  }

  /** One synchronous InvokeFunction; resolves with FC's record of the run once the function has ended. */
  async invoke(functionName: string, event: object): Promise<Invocation> {
    const response = await this.client.invokeFunctionWithOptions(
      functionName,
      new fc.InvokeFunctionRequest({ body: Readable.from(Buffer.from(JSON.stringify(event), 'utf8')) }),
      new fc.InvokeFunctionHeaders({}),
      new dara.RuntimeOptions(INVOKE_TIMEOUTS),
    );
    for await (const chunk of response.body ?? []) void chunk; // drain the stream; the record holds the body
    const requestId = response.headers?.['x-fc-request-id'];
    const record = this.cloud.fc.invocations.find((r) => r.requestId === requestId);
    if (!record) throw new Error(`the local FC has no record of invocation ${requestId ?? '(no request id)'}`);
    return { record, report: reportOf(record) };
  }

  /**
   * SIGKILLs every function instance now. A rig runs one invocation at a time, so the one busy
   * instance is the caller; idle ones die with it, and stay dead in FC's pool until `redeploy()`.
   */
  killFunction(): number[] {
    return this.cloud.fc.pids().filter(kill);
  }

  /** Kills every instance and resolves once their processes are gone. */
  async killFunctionAndWait(): Promise<void> {
    const killed = this.killFunction();
    while (killed.some(isAlive)) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Deploys these functions again (default: all): their next runs start on fresh instances, with nothing left from earlier runs. */
  redeploy(names?: string[]): void {
    deploy(this.cloud, { ...this.options, functions: this.options.functions.filter((f) => !names || names.includes(f.name)) }, this.targetsFile.path);
  }

  async close(): Promise<void> {
    try {
      await this.cloud.close();
    } finally {
      this.targetsFile.remove();
    }
  }
}

interface TargetsFile {
  path: string;
  remove(): void;
}

/** The targets as the JSON array ROTATION_TARGETS_FILE names: their instance, secret and account, nothing else the caller keeps with them. */
function writeTargetsFile(targets: Target[]): TargetsFile {
  const dir = mkdtempSync(path.join(tmpdir(), 'rig-targets-'));
  const file = path.join(dir, 'targets.json');
  const items = targets.map(({ instanceId, secretName, accountName, strategy }) => ({ instanceId, secretName, ...(strategy && { accountName, strategy }) }));
  writeFileSync(file, JSON.stringify(items));
  return { path: file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function deploy(cloud: LocalCloud, options: RigOptions, targetsFile: string): void {
  for (const { name, timeoutSeconds, environment } of options.functions) {
    cloud.fc.register({
      name,
      codeDir: options.bundle.codeDir,
      handler: 'index.handler',
      initializer: 'index.initialize',
      initializerTimeoutSeconds: 30,
      timeoutSeconds,
      memoryMB: 512,
      maxAsyncRetryAttempts: 0,
      environment: { ROTATION_TARGETS_FILE: targetsFile, ...options.environment, ...environment },
    });
  }
}

/**
 * SIGKILLs the process; false when it is gone already (an idle instance a kill before left dead in FC's pool, which
 * FC drops when it next takes it).
 */
function kill(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Until the process is reaped (ours are, as soon as they die). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function outcomeOf(invocation: Invocation, instanceId: string): RunOutcome {
  const { record, report } = invocation;
  if (record.status === 'timeout') return 'timeout';
  if (record.status === 'failed' && record.error?.errorMessage.startsWith('Process exited unexpectedly')) return 'killed';
  return report?.results.find((r) => r.instanceId === instanceId)?.outcome ?? 'no report';
}

/** The handler's result, or the `report` field of the line the function logs before failing. */
export function reportOf(record: InvocationRecord): RotationReport | undefined {
  if (record.status === 'succeeded' && record.result) return JSON.parse(record.result.toString('utf8')) as RotationReport;
  for (const line of record.logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { report?: RotationReport };
    if (entry.report) return entry.report;
  }
  return undefined;
}

/** The texts of a run in which a password must never appear: its log, its answer, FC's error. */
export function runTexts(record: InvocationRecord): string[] {
  return [record.logs, record.result?.toString('utf8') ?? '', JSON.stringify(record.error ?? {})];
}

/** Texts holding any of the passwords, plain or JSON-escaped. A scan with no password or no text proves nothing: it throws. */
export function leaksIn(texts: string[], passwords: Iterable<string>): number {
  const scanned = texts.filter((text) => text !== '');
  const needles = [...passwords].filter((p) => p !== '').flatMap((p) => [p, JSON.stringify(p).slice(1, -1)]);
  if (needles.length === 0) throw new Error('the leak scan has no password to look for');
  if (scanned.length === 0) throw new Error('the leak scan has no text to look in');
  return scanned.filter((text) => needles.some((needle) => text.includes(needle))).length;
}
