import { createHmac } from 'node:crypto';
import type { Params } from './api-error';
import { gatewayErrors } from './gateway-errors';
import type { IncomingApiRequest } from './incoming';
import { percentEncode } from './incoming';
import type { SignedClaim } from './signed-claim';
import { sameText } from './signed-claim';

/**
 * RPC signature v1 (HMAC-SHA1), as `@alicloud/rpc-client` computes it: every parameter but
 * `Signature`, from the query and the form body alike, sorted by name, percent-encoded, joined,
 * then `METHOD&%2F&encode(canonical)` signed with `secret + '&'`.
 */
export function readRpcClaim(incoming: IncomingApiRequest): SignedClaim {
  const params: Params = { ...incoming.query, ...incoming.form };
  const accessKeyId = required(params, 'AccessKeyId');
  const signature = required(params, 'Signature');
  const method = required(params, 'SignatureMethod');
  if (method !== 'HMAC-SHA1') throw gatewayErrors.signatureMethod();
  if (required(params, 'SignatureVersion') !== '1.0') throw gatewayErrors.invalidParameter('SignatureVersion');
  const signed = Object.fromEntries(Object.entries(params).filter(([name]) => name !== 'Signature'));
  const stringToSign = rpcStringToSign(incoming.method, signed);
  return {
    accessKeyId,
    securityToken: params.SecurityToken || undefined,
    timestamp: required(params, 'Timestamp'),
    nonce: required(params, 'SignatureNonce'),
    stringToSign,
    verify: (secret) => sameText(createHmac('sha1', `${secret}&`).update(stringToSign, 'utf8').digest('base64'), signature),
  };
}

/** `METHOD&%2F&` + the percent-encoded canonical query: every parameter, sorted, each percent-encoded. */
function rpcStringToSign(method: string, signed: Params): string {
  const canonical = Object.keys(signed)
    .sort()
    .map((name) => `${percentEncode(name)}=${percentEncode(signed[name])}`)
    .join('&');
  return `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

function required(params: Params, name: string): string {
  const value = params[name];
  if (!value) throw gatewayErrors.missingParameter(name);
  return value;
}
