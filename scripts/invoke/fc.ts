/**
 * InvokeFunction of FC 3.0 through the official `@alicloud/fc20230330` client, read back as FC answers
 * it: a sync invocation's result or function error (`x-fc-error-type`, body `{errorMessage, errorType}`)
 * with the tail of its log, or an async invocation's acceptance (202 and its request id).
 */
import { Readable } from 'node:stream';
import Credential, { Config as CredentialConfig } from '@alicloud/credentials';
import FcClient, * as $Fc from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $dara from '@darabonba/typescript';

export interface Endpoint {
  host: string;
  protocol: 'http' | 'https';
}

export interface AccessKey {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface FcConnection {
  endpoint: Endpoint;
  regionId?: string;
  /** Unset: the default chain of @alicloud/credentials (environment, profile, instance role, …). */
  accessKey?: AccessKey;
}

/** A failed run as FC's error body describes it (`x-fc-error-type` only flags it: Handled/UnhandledInvocationError). */
export interface FunctionFailure {
  /** The error's name (e.g. RotationFailedError), else FC's `x-fc-error-type`. */
  errorType: string;
  errorMessage: string;
}

export type Invocation =
  | { mode: 'sync'; requestId: string; body: Buffer; failure?: FunctionFailure; logTail?: string }
  | { mode: 'async'; requestId: string };

/** FC 3.0's public endpoint: the account id is part of the host. */
export function publicEndpoint(accountId: string, regionId: string): Endpoint {
  return { host: `${accountId}.${regionId}.fc.aliyuncs.com`, protocol: 'https' };
}

export function createFcClient(connection: FcConnection): FcClient {
  const key = connection.accessKey;
  const credential = key
    ? new Credential(new CredentialConfig({ type: key.securityToken ? 'sts' : 'access_key', ...key }))
    : new Credential();
  return new FcClient(
    new $OpenApiUtil.Config({
      credential,
      regionId: connection.regionId,
      endpoint: connection.endpoint.host,
      protocol: connection.endpoint.protocol,
    }),
  );
}

export interface InvokeOptions {
  async?: boolean;
  /**
   * How long the answer may take: for a sync invocation, at least the function's timeout. It bounds the
   * connect timeout too, because httpx applies that one as the socket's idle timeout, which a silent,
   * long-running invocation would otherwise hit.
   */
  readTimeoutMs?: number;
}

/**
 * One InvokeFunction call. A sync invocation asks for the log tail (`x-fc-log-type: Tail`), where a failed
 * run's report is. API errors (unknown function, bad signature, throttling) are thrown by the client.
 */
export async function invokeFunction(client: FcClient, functionName: string, event: Buffer, options: InvokeOptions = {}): Promise<Invocation> {
  const response = await client.invokeFunctionWithOptions(
    functionName,
    new $Fc.InvokeFunctionRequest({ body: Readable.from([event]) }),
    new $Fc.InvokeFunctionHeaders({ xFcInvocationType: options.async ? 'Async' : 'Sync', xFcLogType: options.async ? 'None' : 'Tail' }),
    new $dara.RuntimeOptions({ readTimeout: options.readTimeoutMs, connectTimeout: options.readTimeoutMs, autoretry: false }),
  );
  const headers = response.headers ?? {};
  const body = await readAll(response.body);
  const requestId = headers['x-fc-request-id'] ?? '';
  if (options.async) return { mode: 'async', requestId };

  const invocation: Invocation = { mode: 'sync', requestId, body };
  const logResult = headers['x-fc-log-result'];
  if (logResult) invocation.logTail = Buffer.from(logResult, 'base64').toString('utf8');
  const flagged = headers['x-fc-error-type'];
  if (flagged) invocation.failure = failureOf(body, flagged);
  return invocation;
}

async function readAll(stream: Readable | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

function failureOf(body: Buffer, flagged: string): FunctionFailure {
  const text = body.toString('utf8');
  let parsed: { errorMessage?: unknown; errorType?: unknown } = {};
  try {
    parsed = JSON.parse(text) ?? {};
  } catch {
    // not FC's error body: shown as text
  }
  return {
    errorType: typeof parsed.errorType === 'string' && parsed.errorType !== '' ? parsed.errorType : flagged,
    errorMessage: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : text.slice(0, 1000),
  };
}
