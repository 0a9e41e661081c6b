// The server side of SCRAM (RFC 5802, RFC 7677) as MongoDB runs it. The peer holds the
// cleartext password, not stored credentials, so every conversation derives fresh keys with a
// fresh salt: a password change takes effect on the next login, like a real credential update.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { saslprep } from '@mongodb-js/saslprep';

export const SCRAM_MECHANISMS = ['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

export function isScramMechanism(value: unknown): value is ScramMechanism {
  return SCRAM_MECHANISMS.includes(value as ScramMechanism);
}

interface ScramProfile {
  hash: 'sha1' | 'sha256';
  keyLength: number;
  saltLength: number;
  /** MongoDB's defaults: scramIterationCount and scramSHA256IterationCount. */
  iterations: number;
  /** What MongoDB feeds to Hi(): its legacy digest for SHA-1, the SASLprep'd password for SHA-256. */
  secret(username: string, password: string): string;
}

const PROFILES: Record<ScramMechanism, ScramProfile> = {
  'SCRAM-SHA-1': {
    hash: 'sha1',
    keyLength: 20,
    saltLength: 16,
    iterations: 10_000,
    secret: (username, password) => createHash('md5').update(`${username}:mongo:${password}`, 'utf8').digest('hex'),
  },
  'SCRAM-SHA-256': {
    hash: 'sha256',
    keyLength: 32,
    saltLength: 28,
    iterations: 15_000,
    secret: (_username, password) => saslprep(password),
  },
};

const derive = promisify(pbkdf2);

/** The client-first message, already checked: `gs2-header client-first-message-bare`. */
export interface ClientFirst {
  gs2Header: string;
  bare: string;
  username: string;
  nonce: string;
}

/** Parses a client-first message; undefined when it is malformed or asks for what the peer lacks (channel binding, extensions). */
export function parseClientFirst(message: string): ClientFirst | undefined {
  const header = /^([ny]),(?:a=[^,]*)?,/.exec(message);
  if (!header) return undefined;
  const bare = message.slice(header[0].length);
  const [userPart, noncePart] = bare.split(',');
  if (!userPart?.startsWith('n=') || !noncePart?.startsWith('r=') || noncePart.length <= 2) return undefined;
  const username = decodeSaslName(userPart.slice(2));
  if (username === undefined) return undefined;
  return { gs2Header: header[0], bare, username, nonce: noncePart.slice(2) };
}

/** `=2C` and `=3D` stand for `,` and `=` in a SCRAM name; any other `=` is invalid. */
function decodeSaslName(name: string): string | undefined {
  if (/=(?!2C|3D)/.test(name)) return undefined;
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

export class ScramConversation {
  private constructor(
    private readonly profile: ScramProfile,
    private readonly clientFirst: ClientFirst,
    readonly serverFirst: string,
    private readonly combinedNonce: string,
    private readonly storedKey: Buffer,
    private readonly serverKey: Buffer,
  ) {}

  /** Answers the client-first message for a user whose current password is `password`. */
  static async start(mechanism: ScramMechanism, clientFirst: ClientFirst, password: string): Promise<ScramConversation> {
    const profile = PROFILES[mechanism];
    const salt = randomBytes(profile.saltLength);
    const combinedNonce = clientFirst.nonce + randomBytes(24).toString('base64');
    const secret = profile.secret(clientFirst.username, password);
    const saltedPassword = await derive(secret, salt, profile.iterations, profile.keyLength, profile.hash);
    const clientKey = hmac(profile, saltedPassword, 'Client Key');
    const storedKey = createHash(profile.hash).update(clientKey).digest();
    const serverKey = hmac(profile, saltedPassword, 'Server Key');
    const serverFirst = `r=${combinedNonce},s=${salt.toString('base64')},i=${profile.iterations}`;
    return new ScramConversation(profile, clientFirst, serverFirst, combinedNonce, storedKey, serverKey);
  }

  get username(): string {
    return this.clientFirst.username;
  }

  /**
   * Checks the client-final message. Returns the server-final message (`v=ServerSignature`) when
   * the proof shows the client knows the password, undefined otherwise.
   */
  finish(clientFinal: string): string | undefined {
    const proofAt = clientFinal.lastIndexOf(',p=');
    if (proofAt < 0) return undefined;
    const withoutProof = clientFinal.slice(0, proofAt);
    const [binding, nonce] = withoutProof.split(',');
    const expectedBinding = `c=${Buffer.from(this.clientFirst.gs2Header, 'utf8').toString('base64')}`;
    if (binding !== expectedBinding || nonce !== `r=${this.combinedNonce}`) return undefined;
    const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64');
    if (proof.length !== this.profile.keyLength) return undefined;

    const authMessage = `${this.clientFirst.bare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.profile, this.storedKey, authMessage);
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]));
    const candidate = createHash(this.profile.hash).update(clientKey).digest();
    if (!timingSafeEqual(candidate, this.storedKey)) return undefined;
    return `v=${hmac(this.profile, this.serverKey, authMessage).toString('base64')}`;
  }
}

function hmac(profile: ScramProfile, key: Buffer, text: string): Buffer {
  return createHmac(profile.hash, key).update(text, 'utf8').digest();
}
