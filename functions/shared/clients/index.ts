import * as $dara from '@darabonba/typescript';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $RPC from '@alicloud/rpc-client';
import { type Config, endpointFor } from '../config';
import { credentialFor, type FcCredentials } from '../credentials';
import type { Deadline } from '../retry';
import DdsClient from './dds';
import { KmsClient } from './kms';

export interface Clients {
  dds: DdsClient;
  kms: KmsClient;
}

/** A hung request must not eat the invocation: no single call waits longer than these. */
export const READ_TIMEOUT_MS = 10_000;
export const CONNECT_TIMEOUT_MS = 5_000;

/** Builds both clients; no network call (credentials resolve on first use). */
export function createClients(config: Config, regionId: string, fcCredentials: FcCredentials | undefined): Clients {
  const credential = credentialFor(fcCredentials);
  const dds = endpointFor('dds', config, regionId);
  const kms = endpointFor('kms', config, regionId);
  const timeouts = { readTimeout: READ_TIMEOUT_MS, connectTimeout: CONNECT_TIMEOUT_MS };
  return {
    dds: new DdsClient(new $OpenApiUtil.Config({ credential, regionId, endpoint: dds.host, protocol: dds.protocol, ...timeouts })),
    kms: new KmsClient(new $RPC.Config({ credential, regionId, endpoint: kms.host, protocol: kms.protocol, ...timeouts })),
  };
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
