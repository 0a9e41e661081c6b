import { timingSafeEqual } from 'node:crypto';

/** What a signed request claims about its caller, and how to check the claim with the key's secret. */
export interface SignedClaim {
  accessKeyId: string;
  securityToken?: string;
  /** As sent: `Timestamp` (RPC) or `x-acs-date` (ACS3), ISO 8601 UTC. */
  timestamp: string;
  nonce: string;
  /** RPC v1: the string the signature covers; the gateway quotes it when the signature does not match. */
  stringToSign?: string;
  verify(secret: string): boolean;
}

export function sameText(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
