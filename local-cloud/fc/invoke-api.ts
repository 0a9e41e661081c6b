/**
 * The wire format of FC 2023-03-30 `InvokeFunction`, as `@alicloud/fc20230330` sends and reads it
 * (`invokeFunctionWithOptions`: ROA, `POST /2023-03-30/functions/{functionName}/invocations`,
 * query `qualifier`, headers `x-fc-invocation-type`, `x-fc-log-type`, `x-fc-async-task-id`, body =
 * the event bytes; the response body is read as raw bytes, its headers are handed to the caller).
 */
import { ApiError } from '../http/api-error';
import type { FcHttpRequest, FcHttpResponse, InvocationRecord } from './types';

/** FC's rule for async task ids: a letter or `_` first, then letters, digits, `_` and `-`, up to 128. */
const ASYNC_TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const INVOCATIONS_PATH = /^\/2023-03-30\/functions\/([^/]+)\/invocations\/?$/;
/** FC returns the last 4 KB of the log in `x-fc-log-result` when asked with `x-fc-log-type: Tail`. */
const LOG_TAIL_BYTES = 4096;

export interface InvokeRequest {
  functionName: string;
  qualifier?: string;
  invocationType: 'Sync' | 'Async';
  logType: 'None' | 'Tail';
  asyncTaskId?: string;
  event: Buffer;
}

/**
 * Codes and statuses from FC's error table where it lists them; `StatefulAsyncInvocationAlreadyExists`
 * is FC 2.0's code for a reused async task id (3.0's is not documented; callers should match 409),
 * and `ResourceThrottled` for a full reserved concurrency is inferred (FC documents the 429 only).
 */
export const fcErrors = {
  pathNotSupported: (method: string, path: string) =>
    new ApiError('PathNotSupported', `'${method}' against '${path}' is not supported`, 400),
  invalidArgument: (message: string) => new ApiError('InvalidArgument', message, 400),
  functionNotFound: (name: string) => new ApiError('FunctionNotFound', `function '${name}' not found`, 404),
  qualifierNotFound: (name: string, qualifier: string) =>
    /^\d+$/.test(qualifier)
      ? new ApiError('VersionNotFound', `version '${qualifier}' of function '${name}' does not exist`, 404)
      : new ApiError('AliasNotFound', `alias '${qualifier}' of function '${name}' does not exist`, 404),
  asyncTaskExists: (name: string, taskId: string) =>
    new ApiError('StatefulAsyncInvocationAlreadyExists', `async task '${taskId}' of function '${name}' already exists`, 409),
  throttled: (name: string) =>
    new ApiError('ResourceThrottled', `the reserved concurrency of function '${name}' is exhausted, try again later`, 429),
};

export function parseInvokeRequest(req: FcHttpRequest): InvokeRequest | ApiError {
  const match = INVOCATIONS_PATH.exec(req.path);
  if (!match || req.method.toUpperCase() !== 'POST') return fcErrors.pathNotSupported(req.method, req.path);
  const headers = lowerCaseKeys(req.headers);
  const invocationType = oneOf(headers['x-fc-invocation-type'] ?? 'Sync', ['Sync', 'Async'] as const);
  if (!invocationType) return fcErrors.invalidArgument(`x-fc-invocation-type must be Sync or Async`);
  const logType = oneOf(headers['x-fc-log-type'] ?? 'None', ['None', 'Tail'] as const);
  if (!logType) return fcErrors.invalidArgument(`x-fc-log-type must be None or Tail`);
  const asyncTaskId = headers['x-fc-async-task-id'] || undefined;
  if (asyncTaskId !== undefined && !ASYNC_TASK_ID.test(asyncTaskId)) {
    return fcErrors.invalidArgument(`x-fc-async-task-id must start with a letter or '_' and hold at most 128 letters, digits, '_' or '-'`);
  }
  return {
    functionName: decodeURIComponent(match[1]),
    qualifier: req.query.qualifier || undefined,
    invocationType,
    logType,
    asyncTaskId,
    event: req.body,
  };
}

/** FC 3.0's error body: `{ Code, Message, RequestId }`. */
export function errorResponse(error: ApiError, requestId: string): FcHttpResponse {
  return {
    status: error.httpStatus,
    headers: { 'x-fc-request-id': requestId, 'content-type': 'application/json' },
    body: { Code: error.code, Message: error.message, RequestId: requestId },
  };
}

/**
 * A sync invocation's answer: 200 whatever the function did. A function error is flagged by
 * `x-fc-error-type` and the body `{ errorMessage, errorType, stackTrace }`; callers read the header.
 */
export function invocationResponse(record: InvocationRecord, codeChecksum: string, logType: InvokeRequest['logType']): FcHttpResponse {
  const headers: Record<string, string> = {
    'x-fc-request-id': record.requestId,
    'x-fc-code-checksum': codeChecksum,
    'x-fc-invocation-service-version': 'LATEST',
    'content-type': 'application/octet-stream',
  };
  if (logType === 'Tail') headers['x-fc-log-result'] = logTail(record.logs).toString('base64');
  if (record.status === 'succeeded') return { status: 200, headers, body: record.result ?? Buffer.alloc(0) };
  headers['x-fc-error-type'] = record.errorType ?? 'UnhandledInvocationError';
  headers['content-type'] = 'application/json';
  return { status: 200, headers, body: Buffer.from(JSON.stringify(record.error ?? {}), 'utf8') };
}

/** An async invocation is accepted at once: 202 and no body. */
export function acceptedResponse(requestId: string, taskId: string): FcHttpResponse {
  return { status: 202, headers: { 'x-fc-request-id': requestId, 'x-fc-async-task-id': taskId }, body: Buffer.alloc(0) };
}

function logTail(logs: string): Buffer {
  const bytes = Buffer.from(logs, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES));
}

function oneOf<T extends string>(value: string, allowed: readonly T[]): T | undefined {
  return allowed.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
