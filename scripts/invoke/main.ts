/**
 * `npm run invoke`: invokes the deployed rotation function through FC's InvokeFunction and prints what
 * it did. The same against a real account and the local cloud: only the endpoint differs.
 */
import { createFcClient, invokeFunction } from './fc';
import { exitCodeOf, type InvokeOutcome, outcomeOf } from './outcome';
import { parseCommand, USAGE, UsageError, type InvokeCommand } from './options';
import { printJson, printText } from './print';

export interface InvokeIo {
  env: NodeJS.ProcessEnv;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Covers the longest run s.yaml allows (timeout 900 s) and a cold start. */
const SYNC_READ_TIMEOUT_MS = 960_000;
const USAGE_ERROR = 2;

/** Runs the command; resolves to the exit status (0 fine, 1 failed, 2 bad usage). */
export async function runInvoke(argv: string[], io: InvokeIo): Promise<number> {
  let command: InvokeCommand;
  try {
    const parsed = parseCommand(argv, io.env);
    if (parsed.help) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    command = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`${error.message}\n\n${USAGE}\n`);
    return USAGE_ERROR;
  }

  const outcome = await invoke(command);
  const printed = command.json ? printJson(outcome) : printText(outcome, command.functionName);
  if (printed.stdout) io.stdout(printed.stdout);
  if (printed.stderr) io.stderr(printed.stderr);
  return exitCodeOf(outcome);
}

async function invoke(command: InvokeCommand): Promise<InvokeOutcome> {
  try {
    const client = createFcClient({ endpoint: command.endpoint, regionId: command.regionId, accessKey: command.accessKey });
    const invocation = await invokeFunction(client, command.functionName, command.event, { async: command.async, readTimeoutMs: SYNC_READ_TIMEOUT_MS });
    return outcomeOf(invocation);
  } catch (error) {
    return { kind: 'error', error: apiErrorOf(error) };
  }
}

/**
 * FC's own error (`{Code, Message, RequestId}`, which the client keeps in `data`), or what kept the call
 * from being answered (credentials, network).
 */
function apiErrorOf(error: unknown): { code: string; message: string; requestId?: string } {
  const err = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown; data?: Record<string, unknown> };
  const data = err.data ?? {};
  if (typeof data.Code === 'string') {
    return {
      code: data.Code,
      message: typeof data.Message === 'string' ? data.Message : data.Code,
      ...(typeof data.RequestId === 'string' && { requestId: data.RequestId }),
    };
  }
  const code = typeof err.code === 'string' && err.code !== '' ? err.code : 'InvocationError';
  return { code, message: typeof err.message === 'string' ? err.message : String(error) };
}
