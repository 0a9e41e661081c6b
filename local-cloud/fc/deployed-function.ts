import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { FunctionInstance, type InvocationContext } from './instance';
import type { FunctionSpec, RoleKey, RunStatus, FunctionError, InvocationErrorType } from './types';

export interface Platform {
  region: string;
  accountId: string;
  roleKey: RoleKey;
  /** Variables every function gets under its own `environment`. */
  env: Record<string, string>;
}

export interface Run {
  status: RunStatus;
  body?: Buffer;
  errorType?: InvocationErrorType;
  error?: FunctionError;
  logs: string;
  durationMs: number;
  instanceId: string;
  coldStart: boolean;
}

/** Thrown to callers waiting for a slot of a function that was replaced or shut down. */
export class FunctionRetiredError extends Error {
  constructor(name: string) {
    super(`function '${name}' was deleted or replaced before the invocation ran`);
    this.name = 'FunctionRetiredError';
  }
}

/**
 * A registered function as FC holds it: a snapshot of its code (taken at deploy time, in a
 * directory with no `node_modules` above it, as `/code` is), a pool of warm instances, and its
 * reserved concurrency, which caps the instances busy at once.
 */
export class DeployedFunction {
  readonly spec: FunctionSpec;
  readonly codeChecksum: string;
  private readonly idle: FunctionInstance[] = [];
  private readonly instances = new Set<FunctionInstance>();
  private readonly slotWaiters: Array<{ grant(): void; refuse(error: Error): void }> = [];
  private busy = 0;
  private retired = false;

  constructor(
    spec: FunctionSpec,
    private readonly codeDir: string,
    private readonly platform: Platform,
  ) {
    this.spec = { ...spec, environment: { ...spec.environment } };
    cpSync(spec.codeDir, codeDir, { recursive: true });
    this.codeChecksum = checksumOf(codeDir);
  }

  get name(): string {
    return this.spec.name;
  }

  get maxConcurrency(): number {
    return this.spec.maxConcurrency ?? Number.POSITIVE_INFINITY;
  }

  setMaxConcurrency(limit: number | undefined): void {
    this.spec.maxConcurrency = limit;
    this.grantWaiting();
  }

  /** Takes a slot if one is free now (sync invocations are throttled, not queued). */
  tryAcquire(): boolean {
    if (this.retired || this.busy >= this.maxConcurrency) return false;
    this.busy += 1;
    return true;
  }

  /** Waits for a slot in arrival order (async invocations queue). */
  acquire(): Promise<void> {
    if (this.retired) return Promise.reject(new FunctionRetiredError(this.name));
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((grant, refuse) => this.slotWaiters.push({ grant, refuse }));
  }

  release(): void {
    this.busy -= 1;
    this.grantWaiting();
  }

  /** One run on a warm instance, or a new one; an instance that timed out or crashed is not reused. */
  async run(requestId: string, event: Buffer): Promise<Run> {
    if (this.retired) throw new FunctionRetiredError(this.name);
    const instance = this.takeIdle() ?? this.startInstance();
    const result = await instance.run(event, this.contextFor(requestId), {
      timeoutSeconds: this.spec.timeoutSeconds,
      initializerTimeoutSeconds: this.spec.initializerTimeoutSeconds ?? this.spec.timeoutSeconds,
    });
    if (instance.usable && !this.retired) this.idle.push(instance);
    else await this.discard(instance);
    return { ...result, instanceId: instance.id };
  }

  /** A warm instance whose process is still alive; one killed while idle is dropped, as FC replaces it. */
  private takeIdle(): FunctionInstance | undefined {
    for (let instance = this.idle.pop(); instance; instance = this.idle.pop()) {
      if (instance.usable) return instance;
      void this.discard(instance);
    }
    return undefined;
  }

  /** Pids of the instance processes alive now. */
  pids(): number[] {
    return [...this.instances].flatMap((instance) => (instance.pid === undefined ? [] : [instance.pid]));
  }

  /** Refuses waiting callers, kills every instance (runs in progress fail) and removes the code snapshot. */
  async retire(): Promise<void> {
    this.retired = true;
    for (const waiter of this.slotWaiters.splice(0)) waiter.refuse(new FunctionRetiredError(this.name));
    this.idle.length = 0;
    await Promise.all([...this.instances].map((instance) => this.discard(instance)));
    rmSync(this.codeDir, { recursive: true, force: true });
  }

  private grantWaiting(): void {
    while (this.slotWaiters.length > 0 && this.busy < this.maxConcurrency) {
      this.busy += 1;
      this.slotWaiters.shift()?.grant();
    }
  }

  private startInstance(): FunctionInstance {
    const instance = new FunctionInstance({
      codeDir: this.codeDir,
      handler: this.spec.handler,
      initializer: this.spec.initializer,
      memoryMB: this.spec.memoryMB,
      env: this.environment(),
    });
    this.instances.add(instance);
    return instance;
  }

  private async discard(instance: FunctionInstance): Promise<void> {
    await instance.kill();
    this.instances.delete(instance);
  }

  /**
   * The function's configured variables over the platform's, then what FC itself sets (its
   * `FC_*` variables and the role's STS key): nothing from the parent process but `PATH`.
   */
  private environment(): Record<string, string> {
    const { spec, platform } = this;
    return {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      TZ: 'UTC',
      ...platform.env,
      ...spec.environment,
      FC_FUNC_CODE_PATH: this.codeDir,
      FC_FUNCTION_NAME: spec.name,
      FC_FUNCTION_HANDLER: spec.handler,
      FC_FUNCTION_MEMORY_SIZE: String(spec.memoryMB),
      FC_REGION: platform.region,
      FC_ACCOUNT_ID: platform.accountId,
      ALIBABA_CLOUD_ACCESS_KEY_ID: platform.roleKey.id,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: platform.roleKey.secret,
      ALIBABA_CLOUD_SECURITY_TOKEN: platform.roleKey.securityToken,
    };
  }

  private contextFor(requestId: string): InvocationContext {
    const { spec, platform } = this;
    return {
      requestId,
      credentials: {
        accessKeyId: platform.roleKey.id,
        accessKeySecret: platform.roleKey.secret,
        securityToken: platform.roleKey.securityToken,
      },
      function: { name: spec.name, handler: spec.handler, memory: spec.memoryMB, timeout: spec.timeoutSeconds },
      service: { logProject: '', logStore: '', qualifier: 'LATEST', versionId: '' },
      region: platform.region,
      accountId: platform.accountId,
    };
  }
}

/**
 * Stands in for FC's `x-fc-code-checksum` (a CRC-64 of the code package, in decimal): here the
 * first 64 bits of a SHA-256 over the snapshot's files, in decimal.
 */
function checksumOf(dir: string): string {
  const hash = createHash('sha256');
  const walk = (relative: string) => {
    for (const name of readdirSync(path.join(dir, relative)).sort()) {
      const entry = path.join(relative, name);
      if (statSync(path.join(dir, entry)).isDirectory()) walk(entry);
      else hash.update(entry).update('\0').update(readFileSync(path.join(dir, entry)));
    }
  };
  walk('');
  return hash.digest().readBigUInt64BE(0).toString();
}
