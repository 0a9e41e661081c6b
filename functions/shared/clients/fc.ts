/** Function Compute 3.0 through the official `@alicloud/fc20230330` client (ROA, ACS3 signature). */
import { Readable } from 'node:stream';
import type * as $dara from '@darabonba/typescript';
import FcClient from '@alicloud/fc20230330';
import * as $Fc from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { type Config, ConfigError } from '../config';
import { credentialFor, type FcCredentials } from '../credentials';
import type { RateLimiter } from '../rate/limiter';
import { type CallSettings, callService } from '../call';
import { TIMEOUTS } from '.';
import { isThrottling, toServiceError } from './errors';
import { paced } from './limited';

export type { FcClient };

/** FC's answer to an async task id that was used before: the task exists, this call added nothing. */
const TASK_EXISTS_STATUS = 409;

/**
 * The FC client for the function's account and region: ROTATION_FC_ENDPOINT, else the account's public endpoint
 * `<account-id>.<region>.fc.aliyuncs.com` (the account id comes from the FC context).
 */
export function createFcClient(config: Config, regionId: string, accountId: string | undefined, fcCredentials: FcCredentials | undefined, limiter: RateLimiter): FcClient {
  const endpoint = config.endpoints.fc ?? (accountId ? { host: `${accountId}.${regionId}.fc.aliyuncs.com`, protocol: 'https' as const } : undefined);
  if (!endpoint) throw new ConfigError('ROTATION_FC_ENDPOINT', 'is not set and the FC context has no account id', 'https://1234567890123456.cn-hangzhou.fc.aliyuncs.com');
  const credential = credentialFor(fcCredentials);
  return new LimitedFcClient(new $OpenApiUtil.Config({ credential, regionId, endpoint: endpoint.host, protocol: endpoint.protocol, ...TIMEOUTS }), limiter);
}

export interface AsyncInvocation {
  functionName: string;
  event: unknown;
  /** `x-fc-async-task-id`: a letter or `_` first, then letters, digits, `_` and `-`, up to 128. */
  taskId: string;
}

/**
 * Queues one asynchronous invocation (`x-fc-invocation-type: Async`); FC answers 202 once it has
 * persisted the event. `exists`: the task id was used before, so this invocation is already queued or done.
 */
export async function invokeAsync(fc: FcClient, invocation: AsyncInvocation, settings: Omit<CallSettings, 'retryable'>): Promise<'queued' | 'exists'> {
  const send = (runtime: $dara.RuntimeOptions) =>
    fc.invokeFunctionWithOptions(
      invocation.functionName,
      new $Fc.InvokeFunctionRequest({ body: Readable.from([Buffer.from(JSON.stringify(invocation.event), 'utf8')]) }),
      new $Fc.InvokeFunctionHeaders({ xFcInvocationType: 'Async', xFcAsyncTaskId: invocation.taskId }),
      runtime,
    );
  try {
    const response = await callService('InvokeFunction', send, { ...settings, retryable: (error) => error.retryable || isThrottling(error) });
    response.body?.destroy();
    return 'queued';
  } catch (err) {
    if (toServiceError(err).httpStatus === TASK_EXISTS_STATUS) return 'exists';
    throw err;
  }
}

/** The FC client paced by the shared rate; kept here so only the dispatcher bundles the FC SDK. */
class LimitedFcClient extends FcClient {
  constructor(
    config: $OpenApiUtil.Config,
    private readonly limiter: RateLimiter,
  ) {
    super(config);
  }

  override callApi(params: $OpenApiUtil.Params, request: $OpenApiUtil.OpenApiRequest, runtime: $dara.RuntimeOptions) {
    return paced(this.limiter, runtime, () => super.callApi(params, request, runtime));
  }
}
