import type { Params, Product } from './api-error';
import { gatewayErrors } from './gateway-errors';
import type { IncomingApiRequest } from './incoming';

/** Where a request goes: the product, its action, and the action's own parameters. */
export interface Route {
  product: Product;
  action: string;
  params: Params;
}

export const FC_PATH_PREFIX = '/2023-03-30/';

const PRODUCT_BY_VERSION: Record<string, Product> = {
  '2015-12-01': 'dds',
  '2016-01-20': 'kms',
};

/** Parameters of the protocol itself, not of the action: the services never see them. */
const PROTOCOL_PARAMS = new Set([
  'Action',
  'Version',
  'Format',
  'AccessKeyId',
  'Signature',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureNonce',
  'SignatureType',
  'Timestamp',
  'SecurityToken',
]);

/**
 * RPC calls name their action in `Action`/`Version` (query or form body); ACS3 calls, which sign
 * headers rather than parameters, in `x-acs-action`/`x-acs-version`. FC paths are REST.
 */
export function resolveRoute(incoming: IncomingApiRequest): Route {
  if (incoming.rawPath.startsWith(FC_PATH_PREFIX)) return fcRoute(incoming);
  const all: Params = { ...incoming.query, ...incoming.form };
  const signedByHeaders = incoming.headers.authorization !== undefined;
  const action = signedByHeaders ? incoming.headers['x-acs-action'] : all.Action;
  const version = signedByHeaders ? incoming.headers['x-acs-version'] : all.Version;
  if (!action) throw gatewayErrors.missingParameter(signedByHeaders ? 'x-acs-action' : 'Action');
  if (!version) throw gatewayErrors.missingParameter(signedByHeaders ? 'x-acs-version' : 'Version');
  const product = PRODUCT_BY_VERSION[version];
  if (!product) throw gatewayErrors.invalidParameter('Version');
  const params = Object.fromEntries(Object.entries(all).filter(([name]) => !PROTOCOL_PARAMS.has(name)));
  return { product, action, params };
}

/** FC's action comes from `x-acs-action`; its params are the query plus the function named by the path. */
function fcRoute(incoming: IncomingApiRequest): Route {
  const params: Params = { ...incoming.query };
  const fn = /^\/2023-03-30\/functions\/([^/]+)/.exec(incoming.rawPath);
  if (fn) params.functionName = decodePathSegment(fn[1]);
  return { product: 'fc', action: incoming.headers['x-acs-action'] || `${incoming.method} ${incoming.rawPath}`, params };
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
