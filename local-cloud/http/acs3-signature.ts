import { createHash, createHmac } from 'node:crypto';
import { gatewayErrors } from './gateway-errors';
import type { IncomingApiRequest } from './incoming';
import { percentEncode } from './incoming';
import type { SignedClaim } from './signed-claim';
import { sameText } from './signed-claim';

const ALGORITHM = 'ACS3-HMAC-SHA256';

/**
 * ACS3-HMAC-SHA256, as `@alicloud/openapi-core` computes it:
 * `METHOD\nURI\nQUERY\nHEADERS\nSIGNED_HEADERS\nPAYLOAD_SHA256`, hashed with SHA-256, the hex digest
 * prefixed with the algorithm and signed with HMAC-SHA256 under the secret. The query names are
 * sorted and left as they are, the values percent-encoded; the headers are `host`, `content-type`
 * and every `x-acs-*`, all of which must be signed.
 */
export function readAcs3Claim(incoming: IncomingApiRequest): SignedClaim {
  const authorization = parseAuthorization(incoming.headers.authorization ?? '');
  const { headers } = incoming;
  for (const name of ['x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
    if (!headers[name]) throw gatewayErrors.missingParameter(name);
  }
  const unsigned = Object.keys(headers).filter(
    (name) => (name === 'host' || name === 'content-type' || name.startsWith('x-acs-')) && !authorization.signedHeaders.includes(name),
  );
  if (unsigned.length > 0) throw gatewayErrors.incompleteSignature(`Header ${unsigned[0]} is not signed.`);
  return {
    accessKeyId: authorization.accessKeyId,
    securityToken: headers['x-acs-security-token'] || undefined,
    timestamp: headers['x-acs-date'],
    nonce: headers['x-acs-signature-nonce'],
    verify: (secret) =>
      sameText(sha256Hex(incoming.body), headers['x-acs-content-sha256']) &&
      sameText(acs3Signature(incoming, authorization.signedHeaders, secret), authorization.signature),
  };
}

function acs3Signature(incoming: IncomingApiRequest, signedHeaders: string[], secret: string): string {
  const canonicalUri = incoming.rawPath.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
  const canonicalQuery = Object.keys(incoming.query)
    .sort()
    .map((name) => `${name}=${percentEncode(incoming.query[name])}`)
    .join('&');
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${(incoming.headers[name] ?? '').trim()}\n`).join('');
  const canonicalRequest = [
    incoming.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    incoming.headers['x-acs-content-sha256'],
  ].join('\n');
  const stringToSign = `${ALGORITHM}\n${sha256Hex(Buffer.from(canonicalRequest, 'utf8'))}`;
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('hex');
}

interface Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(header: string): Authorization {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) throw gatewayErrors.signatureMethod();
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || !signedHeaders || !signature) {
    throw gatewayErrors.incompleteSignature('Authorization needs Credential, SignedHeaders and Signature.');
  }
  return { accessKeyId, signedHeaders: signedHeaders.split(';'), signature };
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
