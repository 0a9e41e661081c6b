// The server side of SCRAM (RFC 5802, RFC 7677) as MongoDB runs it. A user's credentials are
// derived once per password, with a salt of their own (as createUser/updateUser store them), and
// every conversation checks the client's proof against them.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { saslprep } from '@mongodb-js/saslprep';
import { type UserMechanism, USER_MECHANISMS } from '../state/mongo-users';

export const SCRAM_MECHANISMS = USER_MECHANISMS;
export type ScramMechanism = UserMechanism;

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

/** What MongoDB stores for a user and mechanism (`credentials.SCRAM-SHA-256` of its user document). */
export interface ScramCredentials {
  iterationCount: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** Derives a user's credentials for a password, with a fresh salt. */
export async function deriveCredentials(mechanism: ScramMechanism, username: string, password: string): Promise<ScramCredentials> {
  const profile = PROFILES[mechanism];
  const salt = randomBytes(profile.saltLength);
  const saltedPassword = await derive(profile.secret(username, password), salt, profile.iterations, profile.keyLength, profile.hash);
  const clientKey = hmac(profile, saltedPassword, 'Client Key');
  return {
    iterationCount: profile.iterations,
    salt,
    storedKey: createHash(profile.hash).update(clientKey).digest(),
    serverKey: hmac(profile, saltedPassword, 'Server Key'),
  };
}

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

  /** Answers the client-first message for a user with these stored credentials. */
  static start(mechanism: ScramMechanism, clientFirst: ClientFirst, credentials: ScramCredentials): ScramConversation {
    const profile = PROFILES[mechanism];
    const combinedNonce = clientFirst.nonce + randomBytes(24).toString('base64');
    const serverFirst = `r=${combinedNonce},s=${credentials.salt.toString('base64')},i=${credentials.iterationCount}`;
    return new ScramConversation(profile, clientFirst, serverFirst, combinedNonce, credentials.storedKey, credentials.serverKey);
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
