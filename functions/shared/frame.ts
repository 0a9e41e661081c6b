/**
 * What every function of this project does around its work: FC's context, the configuration read and
 * validated once per function instance (a bad one refuses every invocation, each time with the same
 * message), the region, one logger per invocation (so the passwords it scrubs are forgotten when the
 * invocation ends), and refusals: logged, sanitized, then rejected before anything was written.
 */
import { toServiceError } from './clients/errors';
import type { Env } from './config';
import type { FcCredentials } from './credentials';
import { ConfigError, OperationError, RotationError } from './errors';
import { type LogSink, Logger } from './logger';
import { Deadline } from './retry';

const OWN_MESSAGE_LIMIT = 2_000;

/** The part of FC's context object the functions read. */
export interface FcContext {
  requestId: string;
  credentials?: FcCredentials;
  function?: { name?: string; timeout?: number };
  region?: string;
  /** Names the default FC endpoint, `<accountId>.<region>.fc.aliyuncs.com`. */
  accountId?: string;
}

export interface FrameOptions {
  /** Default: process.env, read once per function instance. */
  env?: Env;
  /** Default: process.stdout. */
  logSink?: LogSink;
  now?: () => number;
}

/** One invocation: its logger, its deadline, and how it refuses. */
export interface Invocation {
  log: Logger;
  deadline: Deadline;
  started: number;
  /** `what` runs; whatever it throws is logged and rejected as a refusal (nothing was changed). */
  guard<T>(what: () => T | Promise<T>): Promise<T>;
}

export class Frame<Settings extends { regionId?: string }> {
  private loaded?: { settings: Settings } | { error: unknown };
  readonly now: () => number;

  constructor(
    private readonly options: FrameOptions,
    private readonly load: (env: Env) => Settings,
    /** What a refusal's log line says was not done. */
    private readonly nothingDone = 'nothing was changed',
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The settings of this function instance; the error of a bad configuration, every time it is asked. */
  settings(): Settings {
    this.loaded ??= this.tryLoad();
    if ('error' in this.loaded) throw this.loaded.error;
    return this.loaded.settings;
  }

  /** ALIBABA_CLOUD_REGION_ID, else the region FC runs the function in. */
  regionOf(context: FcContext): string {
    const regionId = this.settings().regionId ?? context.region;
    if (!regionId) throw new ConfigError('ALIBABA_CLOUD_REGION_ID', 'is not set and the FC context has no region', 'cn-hangzhou');
    return regionId;
  }

  invocation(context: FcContext): Invocation {
    const started = this.now();
    const log = Logger.create({ sink: this.options.logSink, fields: { requestId: context.requestId } });
    const deadline = Deadline.forInvocation(context.function?.timeout, started, this.now);
    return {
      log,
      deadline,
      started,
      guard: async (what) => {
        try {
          return await what();
        } catch (err) {
          throw this.refusal(log, err);
        }
      },
    };
  }

  /**
   * Logs a refusal and returns the error to reject with: our own errors as they are (their message
   * sanitized), anything else (an SDK's error, whose message may hold a request URL) as an OperationError
   * carrying only its code and sanitized message.
   */
  refusal(log: Logger, err: unknown): RotationError {
    let refused: RotationError;
    if (err instanceof RotationError) {
      // Written for the operator, and may be long; scrubbed all the same, stack included.
      refused = err;
      const clean = log.sanitize(err.message, OWN_MESSAGE_LIMIT);
      if (clean !== err.message) {
        refused.stack = refused.stack?.replace(err.message, clean);
        refused.message = clean;
      }
    } else {
      const detail = toServiceError(err);
      refused = new OperationError({ ...detail, message: log.sanitize(detail.message) });
    }
    log.error(`invocation refused; ${this.nothingDone}`, { error: { code: refused.code, message: refused.message } });
    return refused;
  }

  private tryLoad(): { settings: Settings } | { error: unknown } {
    try {
      return { settings: this.load(this.options.env ?? process.env) };
    } catch (error) {
      return { error };
    }
  }
}
