import * as $dara from '@darabonba/typescript';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $RPC from '@alicloud/rpc-client';
import { type Config, endpointFor } from '../config';
import { credentialFor, type FcCredentials } from '../credentials';
import { RateLimiter, type RateStats } from '../rate/limiter';
import type { Deadline } from '../retry';
import type DdsClient from './dds';
import type { KmsClient } from './kms';
import { LimitedDdsClient, LimitedKmsClient } from './limited';

export interface Clients {
  dds: DdsClient;
  kms: KmsClient;
  /** The rate each product's calls share, as it stands now. */
  rates(): { dds: RateStats; kms: RateStats };
}

/**
 * A hung request must not eat the invocation: no single call waits longer than these. The SDKs' HTTP
 * layer (httpx) also uses the connect timeout as the socket's idle timeout, which would cut a slow
 * answer short of the read timeout: the two are kept equal.
 */
export const READ_TIMEOUT_MS = 10_000;
export const CONNECT_TIMEOUT_MS = READ_TIMEOUT_MS;
export const TIMEOUTS = { readTimeout: READ_TIMEOUT_MS, connectTimeout: CONNECT_TIMEOUT_MS };

/** Where a rate that is not configured starts; it doubles every second until the service throttles. */
export const UNKNOWN_RATE_START_QPS = 10;

/**
 * The rate one product's calls share: the configured one (DDS_QPS, KMS_QPS) as a ceiling to back off
 * from, else one found out by speeding up until throttled.
 */
export function rateLimiterFor(configuredQps: number | undefined): RateLimiter {
  return configuredQps === undefined ? new RateLimiter({ qps: UNKNOWN_RATE_START_QPS, maxQps: Infinity }) : new RateLimiter({ qps: configuredQps });
}

/** Builds both clients, each behind its product's rate; no network call (credentials resolve on first use). */
export function createClients(config: Config, regionId: string, fcCredentials: FcCredentials | undefined): Clients {
  const kms = endpointFor('kms', config, regionId);
  const rates = { dds: rateLimiterFor(config.apiRates.dds), kms: rateLimiterFor(config.apiRates.kms) };
  return {
    dds: createDdsClient(config, regionId, fcCredentials, rates.dds),
    kms: new LimitedKmsClient(new $RPC.Config({ credential: credentialFor(fcCredentials), regionId, endpoint: kms.host, protocol: kms.protocol, ...TIMEOUTS }), rates.kms),
    rates: () => ({ dds: rates.dds.stats(), kms: rates.kms.stats() }),
  };
}

/** The DDS client alone (the dispatcher lists instances and nothing else), behind `limiter`. */
export function createDdsClient(config: Config, regionId: string, fcCredentials: FcCredentials | undefined, limiter: RateLimiter): DdsClient {
  const dds = endpointFor('dds', config, regionId);
  return new LimitedDdsClient(new $OpenApiUtil.Config({ credential: credentialFor(fcCredentials), regionId, endpoint: dds.host, protocol: dds.protocol, ...TIMEOUTS }), limiter);
}

/** Runtime options for one call: the client's timeouts, shortened to what is left before the deadline. */
export function callOptions(deadline: Deadline): $dara.RuntimeOptions {
  const left = Math.max(1, deadline.remainingMs());
  return new $dara.RuntimeOptions({
    readTimeout: Math.min(READ_TIMEOUT_MS, left),
    connectTimeout: Math.min(CONNECT_TIMEOUT_MS, left),
    autoretry: false,
  });
}
