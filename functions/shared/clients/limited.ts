/**
 * The clients with every API call passed through their product's shared rate (see ../rate/limiter.ts):
 * the official classes, only their one request method wrapped (`callApi` on @alicloud/openapi-core,
 * `doRequest` on @alicloud/rpc-client), so that every action of every client is paced the same way.
 */
import type * as $dara from '@darabonba/typescript';
import FcClient from '@alicloud/fc20230330';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import type * as $RPC from '@alicloud/rpc-client';
import type { RateLimiter } from '../rate/limiter';
import DdsClient from './dds';
import { isThrottling, toServiceError } from './errors';
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
    return this.limiter.run(() => super.callApi(params, request, runtime), throttled);
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
    return this.limiter.run(() => super.doRequest(...args), throttled);
  }
}

export class LimitedFcClient extends FcClient {
  constructor(
    config: $OpenApiUtil.Config,
    private readonly limiter: RateLimiter,
  ) {
    super(config);
  }

  override callApi(params: $OpenApiUtil.Params, request: $OpenApiUtil.OpenApiRequest, runtime: $dara.RuntimeOptions) {
    return this.limiter.run(() => super.callApi(params, request, runtime), throttled);
  }
}
