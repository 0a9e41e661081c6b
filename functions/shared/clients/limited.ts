/**
 * The clients with every API call passed through their product's shared rate (see ../rate/limiter.ts):
 * the official classes, only their one request method wrapped (`callApi` on @alicloud/openapi-core,
 * `doRequest` on @alicloud/rpc-client), so that every action of every client is paced the same way.
 */
import { OWN_CODES } from '../codes';
import type * as $dara from '@darabonba/typescript';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import type * as $RPC from '@alicloud/rpc-client';
import type { RateLimiter } from '../rate/limiter';
import DdsClient from './dds';
import { isThrottling, toServiceError } from './errors';
import { OperationError } from '../errors';
import { KmsClient } from './kms';

const throttled = (error: unknown) => isThrottling(toServiceError(error));

export class LimitedDdsClient extends DdsClient {
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

export class LimitedKmsClient extends KmsClient {
  constructor(
    config: $RPC.Config,
    private readonly limiter: RateLimiter,
  ) {
    super(config);
  }

  override doRequest(...args: Parameters<KmsClient['doRequest']>) {
    return paced(this.limiter, args[7], () => super.doRequest(...args));
  }
}

/** What the call's timeouts need: the runtime options both SDKs take. */
interface Timeouts {
  readTimeout?: number;
  connectTimeout?: number;
}

/**
 * Sends `send` when the shared rate allows. The runtime's timeouts were cut to the invocation's
 * deadline when the call was made: the time spent waiting for the rate comes off them, so that a
 * call that waited still ends by the deadline, and a call whose whole time went to the wait is not
 * sent at all (a request with no time to be answered could still be applied).
 */
export function paced<T>(limiter: RateLimiter, runtime: Timeouts | undefined, send: () => Promise<T>): Promise<T> {
  const asked = Date.now();
  return limiter.run(() => {
    const waited = Date.now() - asked;
    if (runtime?.readTimeout !== undefined && waited > 0) {
      const left = runtime.readTimeout - waited;
      if (left <= 0) throw OperationError.of(OWN_CODES.deadlineExceeded, `no time left for the call after waiting ${waited} ms for the shared API rate`, true);
      runtime.readTimeout = left;
      runtime.connectTimeout = Math.min(runtime.connectTimeout ?? left, left);
    }
    return send();
  }, throttled);
}
