import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiError } from '../http/api-error';
import { DeployedFunction, FunctionRetiredError, type Platform } from './deployed-function';
import { assertEnvironmentAccepted } from './environment-limits';
import { acceptedResponse, errorResponse, fcErrors, invocationResponse, parseInvokeRequest, type InvokeRequest } from './invoke-api';
import { readServerlessYaml, type ServerlessYamlOptions } from './serverless-yaml';
import type {
  AsyncOutcome,
  FcGateway,
  FcHttpRequest,
  FcHttpResponse,
  FcRequestContext,
  FunctionError,
  FunctionSpec,
  InvocationRecord,
  RoleKey,
} from './types';

export interface LocalFcOptions {
  region: string;
  accountId: string;
  /** The function role's STS key: `context.credentials` and the `ALIBABA_CLOUD_*` variables of every function. */
  roleKey: RoleKey;
  /** STS keys by role ARN: a function whose `role` names one runs with it instead of `roleKey`. */
  roleKeys?: Record<string, RoleKey>;
  /** Variables every function gets (e.g. endpoints pointing back at the local cloud); a function's own `environment` wins. */
  env?: Record<string, string>;
  /** Pause before async retry `n` (1-based); default 100 ms × n (FC waits longer; tests should not). */
  asyncRetryDelayMs?: (retry: number) => number;
}

interface AsyncTask {
  taskId: string;
  requestId: string;
  event: Buffer;
}

/** FC's default number of retries of a failed async invocation. */
const DEFAULT_MAX_ASYNC_RETRY_ATTEMPTS = 3;

/**
 * The local Function Compute 3.0: the functions registered (or read from `s.yaml`), invoked over
 * the FC API through `handle()` (the gateway's hook) or by firing their timer triggers. Each run
 * happens in a child process (see instance.ts); every run is recorded in `invocations`, every
 * finished async task in `asyncOutcomes` (the destination a test reads).
 */
export class LocalFc implements FcGateway {
  readonly invocations: InvocationRecord[] = [];
  readonly asyncOutcomes: AsyncOutcome[] = [];
  private readonly functions = new Map<string, DeployedFunction>();
  private readonly usedTaskIds = new Map<string, Set<string>>();
  private readonly pauses = new Set<{ timer: NodeJS.Timeout; resume(): void }>();
  private readonly idleWaiters: Array<() => void> = [];
  private readonly retiring = new Set<Promise<void>>();
  private readonly platform: Platform;
  private readonly roleKeys: Map<string, RoleKey>;
  private readonly retryDelayMs: (retry: number) => number;
  private pendingAsync = 0;
  private deployments = 0;
  private workRoot?: string;
  private closed = false;

  constructor(options: LocalFcOptions) {
    this.platform = { region: options.region, accountId: options.accountId, roleKey: options.roleKey, env: { ...options.env } };
    this.roleKeys = new Map(Object.entries(options.roleKeys ?? {}).map(([arn, key]) => [arn.toLowerCase(), key]));
    this.retryDelayMs = options.asyncRetryDelayMs ?? ((retry) => 100 * retry);
  }

  /**
   * Deploys a function (a snapshot of its code is taken now); one with the same name is replaced.
   * Environment variables FC would refuse are refused with its `InvalidArgument` (environment-limits.ts).
   */
  register(spec: FunctionSpec): void {
    if (this.closed) throw new Error('the local FC is closed');
    validateSpec(spec);
    assertEnvironmentAccepted(spec.environment);
    const previous = this.functions.get(spec.name);
    this.deployments += 1;
    const codeDir = path.join(this.workDir(), `${this.deployments}-${spec.name}`, 'code');
    this.functions.set(spec.name, new DeployedFunction(spec, codeDir, { ...this.platform, roleKey: this.roleKeyFor(spec) }));
    if (previous) {
      const retired = previous.retire().finally(() => this.retiring.delete(retired));
      this.retiring.add(retired);
    }
  }

  /**
   * Registers every `fc3` function of an `s.yaml`; returns their specs. The file's `${env(...)}`
   * read the deployer's environment (`options.env`, default `process.env`) with this local FC's
   * own `env` on top, so that endpoint variables point back at the local cloud.
   */
  registerFromServerlessYaml(file: string, options: ServerlessYamlOptions = {}): FunctionSpec[] {
    const env = { ...(options.env ?? process.env), ...this.platform.env };
    const specs = readServerlessYaml(file, { accountId: this.platform.accountId, ...options, env });
    for (const spec of specs) this.register(spec);
    return specs;
  }

  /** RAM role names are case-insensitive, and so are their ARNs here. */
  private roleKeyFor(spec: FunctionSpec): RoleKey {
    return (spec.role && this.roleKeys.get(spec.role.toLowerCase())) || this.platform.roleKey;
  }

  /** Like `s concurrency put --reserved-concurrency n` (undefined removes the limit). */
  putConcurrency(functionName: string, reservedConcurrency: number | undefined): void {
    if (reservedConcurrency !== undefined && !(Number.isInteger(reservedConcurrency) && reservedConcurrency >= 1)) {
      throw new Error(`reserved concurrency must be a positive integer, got ${reservedConcurrency}`);
    }
    this.deployed(functionName).setMaxConcurrency(reservedConcurrency);
  }

  /** The spec a function runs with (a copy). */
  spec(functionName: string): FunctionSpec {
    return structuredClone(this.deployed(functionName).spec);
  }

  /** Pids of every function instance alive now. */
  pids(): number[] {
    return [...this.functions.values()].flatMap((fn) => fn.pids());
  }

  async handle(req: FcHttpRequest, ctx: FcRequestContext): Promise<FcHttpResponse> {
    const invoke = parseInvokeRequest(req);
    if (invoke instanceof ApiError) return errorResponse(invoke, ctx.requestId);
    const fn = this.functions.get(invoke.functionName);
    if (!fn) return errorResponse(fcErrors.functionNotFound(invoke.functionName), ctx.requestId);
    if (invoke.qualifier !== undefined && invoke.qualifier !== 'LATEST') {
      return errorResponse(fcErrors.qualifierNotFound(fn.name, invoke.qualifier), ctx.requestId);
    }

    return invoke.invocationType === 'Async'
      ? this.acceptAsync(fn, invoke.event, ctx.requestId, invoke.asyncTaskId)
      : this.invokeSync(fn, invoke.event, ctx.requestId, invoke.logType);
  }

  /**
   * Fires a timer trigger now, as a sync invocation with FC's timer event
   * `{ triggerTime, triggerName, payload }` (waiting for a free slot rather than being throttled).
   */
  async fireTimer(functionName: string, triggerName: string, options: { triggerTime?: string } = {}): Promise<InvocationRecord> {
    const { fn, event } = this.timerEvent(functionName, triggerName, options.triggerTime);
    return this.runWhenFree(fn, randomUUID(), event, 'sync', 1);
  }

  /** Fires a timer trigger as an async invocation; resolves with the task's outcome once it has one. */
  async fireTimerAsync(functionName: string, triggerName: string, options: { triggerTime?: string } = {}): Promise<AsyncOutcome> {
    const { fn, event } = this.timerEvent(functionName, triggerName, options.triggerTime);
    const requestId = randomUUID();
    return this.runAsyncTask(fn, { taskId: requestId, requestId, event });
  }

  /** Resolves once no async task is queued, running or waiting to retry. */
  whenIdle(): Promise<void> {
    if (this.pendingAsync === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Kills every instance (waiting for each process to be reaped), ends async work, removes the code snapshots. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pause of this.pauses) {
      clearTimeout(pause.timer);
      pause.resume();
    }
    await Promise.all([...this.functions.values()].map((fn) => fn.retire()).concat([...this.retiring]));
    await this.whenIdle();
    if (this.workRoot) rmSync(this.workRoot, { recursive: true, force: true });
  }

  private acceptAsync(fn: DeployedFunction, event: Buffer, requestId: string, asyncTaskId?: string): FcHttpResponse {
    const taskId = asyncTaskId ?? requestId;
    const used = this.usedTaskIds.get(fn.name) ?? new Set<string>();
    this.usedTaskIds.set(fn.name, used);
    if (used.has(taskId)) return errorResponse(fcErrors.asyncTaskExists(fn.name, taskId), requestId);
    used.add(taskId);
    void this.runAsyncTask(fn, { taskId, requestId, event });
    return acceptedResponse(requestId, taskId);
  }

  private async invokeSync(fn: DeployedFunction, event: Buffer, requestId: string, logType: InvokeRequest['logType']): Promise<FcHttpResponse> {
    if (!fn.tryAcquire()) return errorResponse(fcErrors.throttled(fn.name), requestId);
    try {
      const record = await this.runOnce(fn, requestId, event, 'sync', 1);
      return invocationResponse(record, fn.codeChecksum, logType);
    } catch (error) {
      if (error instanceof FunctionRetiredError) return errorResponse(fcErrors.functionNotFound(fn.name), requestId);
      throw error;
    } finally {
      fn.release();
    }
  }

  private deployed(functionName: string): DeployedFunction {
    const fn = this.functions.get(functionName);
    if (!fn) throw new Error(`no function '${functionName}' is registered`);
    return fn;
  }

  private timerEvent(functionName: string, triggerName: string, triggerTime?: string): { fn: DeployedFunction; event: Buffer } {
    const fn = this.deployed(functionName);
    const trigger = fn.spec.triggers?.find((candidate) => candidate.name === triggerName);
    if (!trigger) throw new Error(`function '${functionName}' has no timer trigger '${triggerName}'`);
    if (!trigger.enable) throw new Error(`timer trigger '${triggerName}' of function '${functionName}' is disabled`);
    const time = triggerTime ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { fn, event: Buffer.from(JSON.stringify({ triggerTime: time, triggerName, payload: trigger.payload }), 'utf8') };
  }

  /** Runs an async task to its end, records its outcome and keeps `whenIdle()` informed. */
  private async runAsyncTask(fn: DeployedFunction, task: AsyncTask): Promise<AsyncOutcome> {
    this.pendingAsync += 1;
    try {
      const outcome = await this.attemptAsyncTask(fn, task);
      this.asyncOutcomes.push(outcome);
      return outcome;
    } finally {
      this.pendingAsync -= 1;
      if (this.pendingAsync === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /**
   * Runs the task until it succeeds or has run 1 + maxAsyncRetryAttempts times, with the same
   * event and the same request id each time (an inference: FC keeps one request per task). A
   * function deleted or replaced meanwhile ends the task as failed.
   */
  private async attemptAsyncTask(fn: DeployedFunction, task: AsyncTask): Promise<AsyncOutcome> {
    const maxRetries = fn.spec.maxAsyncRetryAttempts ?? DEFAULT_MAX_ASYNC_RETRY_ATTEMPTS;
    const runs: InvocationRecord[] = [];
    let abandoned: FunctionError | undefined;
    try {
      while (runs.length <= maxRetries && runs.at(-1)?.status !== 'succeeded') {
        if (runs.length > 0) await this.pause(this.retryDelayMs(runs.length));
        runs.push(await this.runWhenFree(fn, task.requestId, task.event, 'async', runs.length + 1));
      }
    } catch (error) {
      if (!(error instanceof FunctionRetiredError)) throw error;
      abandoned = { errorMessage: error.message };
    }
    const last = runs.at(-1);
    const succeeded = !abandoned && last?.status === 'succeeded';
    return {
      taskId: task.taskId,
      requestId: task.requestId,
      functionName: fn.name,
      attempts: runs.length,
      status: abandoned || !last ? 'failed' : last.status,
      error: abandoned ?? last?.error,
      destination: succeeded ? 'onSuccess' : 'onFailure',
      destinationArn: succeeded ? fn.spec.destinations?.onSuccess : fn.spec.destinations?.onFailure,
    };
  }

  /** Waits for a slot within the function's reserved concurrency, then runs. */
  private async runWhenFree(fn: DeployedFunction, requestId: string, event: Buffer, kind: 'sync' | 'async', attempt: number): Promise<InvocationRecord> {
    await fn.acquire();
    try {
      return await this.runOnce(fn, requestId, event, kind, attempt);
    } finally {
      fn.release();
    }
  }

  private async runOnce(fn: DeployedFunction, requestId: string, event: Buffer, kind: 'sync' | 'async', attempt: number): Promise<InvocationRecord> {
    const run = await fn.run(requestId, event);
    const record: InvocationRecord = {
      requestId,
      functionName: fn.name,
      kind,
      attempt,
      event,
      status: run.status,
      result: run.body,
      errorType: run.errorType,
      error: run.error,
      logs: run.logs,
      durationMs: run.durationMs,
      instanceId: run.instanceId,
      coldStart: run.coldStart,
    };
    this.invocations.push(record);
    return record;
  }

  /** A retry delay that close() cuts short. */
  private pause(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const pause = {
        timer: setTimeout(() => pause.resume(), ms),
        resume: () => {
          this.pauses.delete(pause);
          resolve();
        },
      };
      this.pauses.add(pause);
    });
  }

  private workDir(): string {
    this.workRoot ??= mkdtempSync(path.join(tmpdir(), 'local-fc-'));
    return this.workRoot;
  }
}

export function createLocalFc(options: LocalFcOptions): LocalFc {
  return new LocalFc(options);
}

function validateSpec(spec: FunctionSpec): void {
  const problems: string[] = [];
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/.test(spec.name)) problems.push(`name '${spec.name}' is not a valid function name`);
  if (!path.isAbsolute(spec.codeDir) || !existsSync(spec.codeDir) || !statSync(spec.codeDir).isDirectory()) {
    problems.push(`codeDir '${spec.codeDir}' is not an existing absolute directory`);
  }
  for (const [field, entry] of [['handler', spec.handler], ['initializer', spec.initializer]] as const) {
    if (entry !== undefined && !/^[^.\s]+(\.[^.\s]+)*\.[A-Za-z_$][\w$]*$/.test(entry)) problems.push(`${field} '${entry}' is not of the form module.export`);
  }
  const positive = (value: number | undefined) => value === undefined || (Number.isFinite(value) && value > 0);
  if (!positive(spec.timeoutSeconds)) problems.push(`timeoutSeconds must be positive`);
  if (!positive(spec.initializerTimeoutSeconds)) problems.push(`initializerTimeoutSeconds must be positive`);
  if (!positive(spec.memoryMB)) problems.push(`memoryMB must be positive`);
  const retries = spec.maxAsyncRetryAttempts;
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0 && retries <= 8)) problems.push(`maxAsyncRetryAttempts must be 0..8`);
  const concurrency = spec.maxConcurrency;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) problems.push(`maxConcurrency must be a positive integer`);
  if (problems.length > 0) throw new Error(`function spec '${spec.name}': ${problems.join('; ')}`);
}
