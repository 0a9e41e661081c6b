import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FunctionError, InvocationErrorType, RunStatus } from './types';

const RUNNER_PATH = fileURLToPath(new URL('./runner.cjs', import.meta.url));

/** What the runner needs to start an instance: the deployed code and the process environment. */
export interface InstanceLaunch {
  codeDir: string;
  handler: string;
  initializer?: string;
  memoryMB: number;
  env: Record<string, string>;
}

/** The context FC hands to the handler, minus `logger` (the runner adds it). */
export interface InvocationContext {
  requestId: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  function: { name: string; handler: string; memory: number; timeout: number };
  service: { logProject: string; logStore: string; qualifier: string; versionId: string };
  region: string;
  accountId: string;
}

export interface RunLimits {
  timeoutSeconds: number;
  initializerTimeoutSeconds: number;
}

export interface RunResult {
  status: RunStatus;
  body?: Buffer;
  errorType?: InvocationErrorType;
  error?: FunctionError;
  logs: string;
  durationMs: number;
  coldStart: boolean;
}

type RunnerReply =
  | { type: 'initialized' }
  | { type: 'succeeded'; body: string }
  | { type: 'failed'; errorType: InvocationErrorType; error: FunctionError };

type Exchange = { kind: 'reply'; reply: RunnerReply } | { kind: 'timeout' } | { kind: 'exited' };

/**
 * One function instance: a child process running runner.cjs. It serves one run at a time; a run
 * that times out or crashes ends the instance (the caller must not reuse it: see `usable`).
 */
export class FunctionInstance {
  readonly id = `c-${randomUUID()}`;
  private readonly child: ChildProcess;
  private readonly closed: Promise<void>;
  private initialized = false;
  private exited = false;
  /** Output not yet attributed to a finished run; it opens the log of the next one. */
  private output = '';
  private listener?: { reply(reply: RunnerReply): void; output(): void; exit(): void };

  constructor(private readonly launch: InstanceLaunch) {
    this.child = fork(RUNNER_PATH, [], {
      cwd: launch.codeDir,
      env: { ...launch.env, FC_INSTANCE_ID: this.id },
      execPath: process.execPath,
      execArgv: [`--max-old-space-size=${launch.memoryMB}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        this.output += text;
        this.listener?.output();
      });
    }
    this.child.on('message', (reply: RunnerReply) => this.listener?.reply(reply));
    this.closed = new Promise((resolve) => {
      const onGone = () => {
        this.exited = true;
        this.listener?.exit();
        resolve();
      };
      this.child.once('close', onGone);
      // A process that could not be spawned emits 'error' and no 'close'; later errors (a failed
      // kill or send) are followed by 'close' or by the run's own timeout.
      this.child.on('error', () => {
        if (this.child.pid === undefined && !this.exited) onGone();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** False once the process is gone or on its way out: such an instance takes no more runs. */
  get usable(): boolean {
    return !this.exited && this.child.connected && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Runs the initializer if this is the instance's first run, then the handler, within the limits. */
  async run(event: Buffer, context: InvocationContext, limits: RunLimits): Promise<RunResult> {
    const started = Date.now();
    const coldStart = !this.initialized;
    const finish = (result: Omit<RunResult, 'logs' | 'durationMs' | 'coldStart'>, marker?: string): RunResult => ({
      ...result,
      logs: this.takeLog(marker),
      durationMs: Date.now() - started,
      coldStart,
    });

    if (coldStart) {
      const init = await this.exchange(
        { type: 'init', codeDir: this.launch.codeDir, handler: this.launch.handler, initializer: this.launch.initializer, context },
        limits.initializerTimeoutSeconds,
      );
      if (init.kind !== 'reply' || init.reply.type !== 'initialized') {
        await this.kill();
        return finish(this.failure(init, `Function initialization time out after ${limits.initializerTimeoutSeconds} seconds`, started));
      }
      this.initialized = true;
    }

    const endMarker = `FC Invoke End RequestId: ${context.requestId}\n`;
    const invoke = await this.exchange({ type: 'invoke', event: event.toString('base64'), context }, limits.timeoutSeconds, endMarker);
    if (invoke.kind === 'reply' && invoke.reply.type === 'succeeded') {
      return finish({ status: 'succeeded', body: Buffer.from(invoke.reply.body, 'base64') }, endMarker);
    }
    if (invoke.kind !== 'reply') await this.kill();
    return finish(this.failure(invoke, `Function time out after ${limits.timeoutSeconds} seconds`, started), endMarker);
  }

  /** SIGKILL, resolved once the process is reaped and its output read. */
  async kill(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    await this.closed;
  }

  private failure(exchange: Exchange, timeoutMessage: string, started: number): Omit<RunResult, 'logs' | 'durationMs' | 'coldStart'> {
    if (exchange.kind === 'timeout') {
      return { status: 'timeout', errorType: 'UnhandledInvocationError', error: { errorMessage: timeoutMessage } };
    }
    if (exchange.kind === 'exited') {
      const errorMessage = `Process exited unexpectedly before completing request (duration: ${Date.now() - started}ms)`;
      return { status: 'failed', errorType: 'UnhandledInvocationError', error: { errorMessage } };
    }
    const reply = exchange.reply;
    if (reply.type === 'failed') return { status: 'failed', errorType: reply.errorType, error: reply.error };
    return { status: 'failed', errorType: 'UnhandledInvocationError', error: { errorMessage: `unexpected runner reply '${reply.type}'` } };
  }

  /**
   * Sends one message and waits for its reply and, when `marker` is given, for that line in the
   * output (stdout and IPC are separate pipes, so either may arrive first).
   */
  private exchange(message: object, timeoutSeconds: number, marker?: string): Promise<Exchange> {
    return new Promise((resolve) => {
      let reply: RunnerReply | undefined;
      let timedOut = false;
      const settle = (exchange: Exchange) => {
        clearTimeout(timer);
        this.listener = undefined;
        resolve(exchange);
      };
      const check = () => {
        if (reply && (!marker || this.output.includes(marker))) settle({ kind: 'reply', reply });
      };
      this.listener = {
        reply: (received) => {
          reply = received;
          check();
        },
        output: check,
        exit: () => {
          if (timedOut) settle({ kind: 'timeout' });
          else settle(reply ? { kind: 'reply', reply } : { kind: 'exited' });
        },
      };
      const timer = setTimeout(() => {
        timedOut = true;
        this.child.kill('SIGKILL');
      }, timeoutSeconds * 1000);
      if (!this.usable) {
        this.listener.exit();
        return;
      }
      this.child.send(message, (error) => {
        if (error) this.child.kill('SIGKILL');
      });
    });
  }

  /** The log of the run that just ended: the output up to its end line (all of it when there is none). */
  private takeLog(marker?: string): string {
    const end = marker ? this.output.indexOf(marker) : -1;
    const cut = end < 0 ? this.output.length : end + (marker?.length ?? 0);
    const log = this.output.slice(0, cut);
    this.output = this.output.slice(cut);
    return log;
  }
}
