/** The shapes of the local Function Compute 3.0: function specs, the gateway contract, and what it records. */

/** A timer trigger as `s.yaml` declares it (`triggerType: timer`). */
export interface TimerTrigger {
  name: string;
  /** `@every 4m` or six-field cron (seconds first); kept for reference: timers fire on demand only. */
  cronExpression: string;
  payload: string;
  enable: boolean;
}

/** An FC 3.0 function: where its built code lives and how FC runs it. */
export interface FunctionSpec {
  name: string;
  /** Absolute path of the directory holding the bundle (FC's `/code`). */
  codeDir: string;
  /** `<module>.<export>`, e.g. `index.handler`. */
  handler: string;
  /** `<module>.<export>`, e.g. `index.initialize`; run once per instance, before its first invocation. */
  initializer?: string;
  /** Defaults to `timeoutSeconds`. */
  initializerTimeoutSeconds?: number;
  timeoutSeconds: number;
  memoryMB: number;
  environment: Record<string, string>;
  /** Retries after a failed async run (0..8); FC's default is 3. */
  maxAsyncRetryAttempts?: number;
  /** The function's reserved concurrency: instances that may run at once. Unset: unlimited. */
  maxConcurrency?: number;
  /**
   * The RAM role the function runs as (s.yaml's `role`, an ARN): the local FC hands the function the
   * STS key it holds for that role, else its default role key.
   */
  role?: string;
  /** ARNs of the async destinations, as `asyncInvokeConfig.destinationConfig` names them. */
  destinations?: { onSuccess?: string; onFailure?: string };
  triggers?: TimerTrigger[];
}

/** The STS key of the function's role: handed to the function as `context.credentials`. */
export interface RoleKey {
  id: string;
  secret: string;
  securityToken: string;
}

/** A request for a path under `/2023-03-30/`, as the gateway hands it over after checking its signature. */
export interface FcHttpRequest {
  method: string;
  /** Still percent-encoded, without the query string. */
  path: string;
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface FcRequestContext {
  requestId: string;
  accessKeyId: string;
}

export interface FcHttpResponse {
  status: number;
  headers?: Record<string, string>;
  body: Buffer | string | object;
}

export interface FcGateway {
  handle(req: FcHttpRequest, ctx: FcRequestContext): Promise<FcHttpResponse>;
}

/** `HandledInvocationError`: the handler passed an error to its callback; `Unhandled…`: it threw, crashed or timed out. */
export type InvocationErrorType = 'HandledInvocationError' | 'UnhandledInvocationError';

/** The body FC answers a failed invocation with. */
export interface FunctionError {
  errorMessage: string;
  errorType?: string;
  stackTrace?: string[];
}

export type RunStatus = 'succeeded' | 'failed' | 'timeout';

/** One run of a function: a sync invocation, or one attempt of an async task. */
export interface InvocationRecord {
  requestId: string;
  functionName: string;
  kind: 'sync' | 'async';
  /** 1 for the first run; async retries count up. */
  attempt: number;
  /** The event bytes exactly as the caller sent them. */
  event: Buffer;
  status: RunStatus;
  /** The handler's result as FC returns it (a Buffer as is, a string as UTF-8, anything else as JSON). */
  result?: Buffer;
  errorType?: InvocationErrorType;
  error?: FunctionError;
  /** What the function wrote to stdout and stderr during this run, with FC's start and end lines. */
  logs: string;
  durationMs: number;
  instanceId: string;
  /** Whether this run started a new instance (and ran the initializer). */
  coldStart: boolean;
}

export interface AsyncOutcome {
  taskId: string;
  requestId: string;
  functionName: string;
  /** Runs made: 1 + retries. */
  attempts: number;
  status: RunStatus;
  error?: FunctionError;
  destination: 'onSuccess' | 'onFailure';
  /** The destination ARN the function's async config names, if any. */
  destinationArn?: string;
}
