/**
 * The official Alibaba Cloud clients, pointed at a local cloud: only their endpoint (and plain
 * HTTP) differs from what runs against the real cloud. The packages are CommonJS; they are loaded
 * with `require` so that their `default` export means the same under vitest and tsx.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const openApi = require('@alicloud/openapi-core') as typeof import('@alicloud/openapi-core');
const rpc = require('@alicloud/rpc-client') as typeof import('@alicloud/rpc-client');
const dara = require('@darabonba/typescript') as typeof import('@darabonba/typescript');
const kms = require('@alicloud/kms20160120') as typeof import('@alicloud/kms20160120');
const fc = require('@alicloud/fc20230330') as typeof import('@alicloud/fc20230330');

export type KmsClient = import('@alicloud/kms20160120').default;
export type FcClient = import('@alicloud/fc20230330').default;
export { kms as kmsModels, fc as fcModels };

export interface AccessKeyLike {
  id: string;
  secret: string;
  securityToken?: string;
}

/** What the factories need of a local cloud (`startLocalCloud`'s result has it). */
export interface CloudEndpoint {
  host: string;
  region: string;
  accessKeys: readonly AccessKeyLike[];
}

/** The fixture's first key without a security token, else its first key. */
export function defaultKey(cloud: CloudEndpoint): AccessKeyLike {
  const key = cloud.accessKeys.find((k) => k.securityToken === undefined) ?? cloud.accessKeys[0];
  if (!key) throw new Error('the local cloud has no access key');
  return key;
}

/** `@alicloud/kms20160120` (RPC, HMAC-SHA1 through `@alicloud/rpc-client`). */
export function kmsClient(cloud: CloudEndpoint, key: AccessKeyLike = defaultKey(cloud)): KmsClient {
  return new kms.default(
    new rpc.Config({
      accessKeyId: key.id,
      accessKeySecret: key.secret,
      securityToken: key.securityToken,
      endpoint: cloud.host,
      protocol: 'http',
      regionId: cloud.region,
    }),
  );
}

/** `@alicloud/fc20230330` (ROA, ACS3-HMAC-SHA256 through `@alicloud/openapi-core`). */
export function fcClient(cloud: CloudEndpoint, key: AccessKeyLike = defaultKey(cloud)): FcClient {
  return new fc.default(openApiConfig(cloud, key));
}

export interface DdsCallOptions {
  /** Extra request headers; they override the SDK's own (`x-acs-date`, `x-acs-signature-nonce`) and are signed. */
  headers?: Record<string, string>;
  /** Send the parameters as a form body instead of the query string. */
  inBody?: boolean;
  /** Milliseconds the SDK waits for the answer. */
  readTimeout?: number;
}

/**
 * Calls a DDS 2015-12-01 action the way the generated `@alicloud/dds20151201` client does: RPC
 * style through `@alicloud/openapi-core`'s `callApi` (ACS3-HMAC-SHA256). Returns the body.
 */
export async function ddsCall(
  cloud: CloudEndpoint,
  action: string,
  params: Record<string, unknown> = {},
  key: AccessKeyLike = defaultKey(cloud),
  options: DdsCallOptions = {},
): Promise<Record<string, unknown>> {
  const client = new openApi.default(openApiConfig(cloud, key));
  const flat = openApi.OpenApiUtil.query(params);
  const request = new openApi.$OpenApiUtil.OpenApiRequest(
    options.inBody ? { headers: options.headers, body: flat } : { headers: options.headers, query: flat },
  );
  const apiParams = new openApi.$OpenApiUtil.Params({
    action,
    version: '2015-12-01',
    protocol: 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  const runtime = new dara.RuntimeOptions({ readTimeout: options.readTimeout });
  const response = await client.callApi(apiParams, request, runtime);
  return response.body as Record<string, unknown>;
}

function openApiConfig(cloud: CloudEndpoint, key: AccessKeyLike) {
  return new openApi.$OpenApiUtil.Config({
    accessKeyId: key.id,
    accessKeySecret: key.secret,
    securityToken: key.securityToken,
    endpoint: cloud.host,
    protocol: 'http',
    regionId: cloud.region,
  });
}

/** What an SDK error carries: rpc-client keeps the body in `data`, openapi-core adds `statusCode`. */
export interface SdkError {
  code: string;
  message: string;
  statusCode?: number;
  data?: Record<string, unknown>;
}

/** The error a call through an official client fails with; the test fails if it succeeds. */
export async function sdkFailure(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the call to fail');
}
