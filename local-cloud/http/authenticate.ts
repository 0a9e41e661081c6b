import type { PolicyDocument } from '../ram';
import { readAcs3Claim } from './acs3-signature';
import { gatewayErrors } from './gateway-errors';
import type { IncomingApiRequest } from './incoming';
import { readRpcClaim } from './rpc-signature';
import type { SignedClaim } from './signed-claim';
import { sameText } from './signed-claim';

/** An access key the gateway accepts (the fixture's shape). An STS key carries the token issued with it. */
export interface AccessKey {
  id: string;
  secret: string;
  securityToken?: string;
  /** A RAM policy: when present, every request signed with this key must be allowed by it. */
  policy?: PolicyDocument;
}

/** How far a request's own time may be from ours, either way. */
const CLOCK_SKEW_MS = 15 * 60 * 1000;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** What the request claims, from whichever signature it carries: RPC v1 (parameters) or ACS3 (`Authorization`). */
export function readClaim(incoming: IncomingApiRequest): SignedClaim {
  return incoming.headers.authorization ? readAcs3Claim(incoming) : readRpcClaim(incoming);
}

/**
 * Checks a claim against the known keys: the key, its security token, the request's time, the
 * signature, then the nonce, which is spent only once everything else holds. Returns the
 * caller's key or throws the gateway's ApiError.
 */
export function authenticate(
  claim: SignedClaim,
  findKey: (accessKeyId: string) => AccessKey | undefined,
  nonces: NonceRegistry,
  now = Date.now(),
): AccessKey {
  const key = findKey(claim.accessKeyId);
  if (!key) throw gatewayErrors.accessKeyNotFound();
  checkSecurityToken(key, claim);
  const requestTime = parseTimestamp(claim.timestamp);
  if (Math.abs(now - requestTime) > CLOCK_SKEW_MS) throw gatewayErrors.timestampExpired();
  if (!claim.verify(key.secret)) throw gatewayErrors.signatureMismatch(claim.stringToSign);
  nonces.spend(claim.nonce, requestTime + CLOCK_SKEW_MS, now);
  return key;
}

/** An `STS.` key, or any key issued with a token, is accepted only with that very token. */
function checkSecurityToken(key: AccessKey, claim: SignedClaim): void {
  if (!key.id.startsWith('STS.') && key.securityToken === undefined) return;
  if (!claim.securityToken) throw gatewayErrors.missingSecurityToken();
  if (key.securityToken === undefined || !sameText(key.securityToken, claim.securityToken)) {
    throw gatewayErrors.securityTokenMismatch();
  }
}

function parseTimestamp(text: string): number {
  const time = ISO_UTC.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time)) throw gatewayErrors.timestampFormat();
  return time;
}

/**
 * Nonces seen recently. A nonce is remembered until its request's timestamp leaves the accepted
 * window: after that a replay fails on its time anyway.
 */
export class NonceRegistry {
  private readonly forgetAt = new Map<string, number>();
  private spentSinceSweep = 0;

  spend(nonce: string, forgetAt: number, now: number): void {
    const known = this.forgetAt.get(nonce);
    if (known !== undefined && known > now) throw gatewayErrors.nonceUsed();
    this.forgetAt.set(nonce, Math.max(forgetAt, now));
    if (++this.spentSinceSweep >= 1024) this.sweep(now);
  }

  private sweep(now: number): void {
    this.spentSinceSweep = 0;
    for (const [nonce, forgetAt] of this.forgetAt) {
      if (forgetAt <= now) this.forgetAt.delete(nonce);
    }
  }
}
