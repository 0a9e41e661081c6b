/**
 * The local Function Compute 3.0 (API 2023-03-30).
 *
 *   const fc = createLocalFc({ region, accountId, roleKey, env });   // env: e.g. endpoints back at the local cloud
 *   fc.register(spec) | fc.registerFromServerlessYaml('s.yaml', { vars, codeRoot, env })
 *   fc.handle(req, ctx)            the gateway's hook for paths under /2023-03-30/ (InvokeFunction)
 *   fc.fireTimer(fn, trigger, { triggerTime }) / fc.fireTimerAsync(...)
 *   fc.putConcurrency(fn, n)       like `s concurrency put --reserved-concurrency n`
 *   fc.invocations, fc.asyncOutcomes, fc.pids(), await fc.whenIdle(), await fc.close()
 *
 * How it behaves, and where that comes from:
 * - Deploying refuses environment variables FC refuses (`InvalidArgument`): names beginning with
 *   `FC_` (reserved), names that are not a letter then letters, digits and `_`, and more than
 *   4 KB in all (environment-limits.ts says how that is counted).
 * - Deploying snapshots the code into a temporary directory with no `node_modules` above it (as
 *   FC's `/code`), so a bundle that is not self-contained fails here as it would there.
 * - Each instance is a child process (`node runner.cjs`, no loader, no inherited environment but
 *   PATH). It gets the spec's `environment` over the local FC's `env`, then FC's own variables
 *   (`FC_FUNC_CODE_PATH`, `FC_FUNCTION_NAME`, `FC_FUNCTION_HANDLER`, `FC_FUNCTION_MEMORY_SIZE`,
 *   `FC_REGION`, `FC_ACCOUNT_ID`, `FC_INSTANCE_ID`) and the role's STS key as
 *   `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`/`ALIBABA_CLOUD_SECURITY_TOKEN` (FC's documented
 *   system variables). Instances stay warm: the initializer runs once per instance.
 * - Context: `requestId`, `credentials` (the role key), `function` {name, handler, memory,
 *   timeout}, `service` {logProject, logStore, qualifier, versionId}, `region`, `accountId`,
 *   `logger` (lines `<time> <requestId> [LEVEL] <message>` on stdout). The event is a Buffer.
 * - Sync errors: HTTP 200 with `x-fc-error-type` and `{ errorMessage, errorType, stackTrace }`
 *   (FC's Node.js error page); a timeout kills the instance (SIGKILL) and answers
 *   `Function time out after N seconds`; an exit answers `Process exited unexpectedly before
 *   completing request (duration: …)`. API errors are `{ Code, Message, RequestId }`.
 * - Async: 202 at once; runs queue per function within its reserved concurrency; a failed or
 *   timed-out run is retried up to `maxAsyncRetryAttempts` (default 3) with the same event and,
 *   as inferred, the same request id; the outcome goes to `asyncOutcomes` (onSuccess/onFailure).
 *   A reused `x-fc-async-task-id` is refused with 409. A sync call finding every reserved slot
 *   busy gets 429. Unlike FC, events have no maximum age and timers do not fire on a schedule.
 */
export {
  assertEnvironmentAccepted,
  ENVIRONMENT_SIZE_LIMIT_BYTES,
  environmentProblems,
  environmentSize,
  InvalidEnvironmentError,
} from './environment-limits';
export { createLocalFc, LocalFc, type LocalFcOptions } from './local-fc';
export { readServerlessYaml, type ServerlessYamlOptions } from './serverless-yaml';
export type {
  AsyncOutcome,
  FcGateway,
  FcHttpRequest,
  FcHttpResponse,
  FcRequestContext,
  FunctionError,
  FunctionSpec,
  InvocationErrorType,
  InvocationRecord,
  RoleKey,
  RunStatus,
  TimerTrigger,
} from './types';
