/**
 * How a password reaches the database, behind an interface: the engine stages and promotes; an applier
 * knows the account. Root is reset through the DDS API (root-applier.ts); application users will be
 * changed over the database connection.
 */
import type { LoginResult } from '../../shared/verify/login';

export type Role = 'db' | 'cs' | 'normal';

/** An account and its password, as a secret's value holds them. */
export interface Credential {
  accountName: string;
  password: string;
}

/** A stored value's credential, or why it cannot be used (never quoting the password). */
export type ReadCredential = { credential: Credential; problem?: undefined } | { credential?: Credential; problem: string };

/** `rejected`: the database refused the password as malformed before any part of it took the password. */
export type Applied = { applied: true } | { applied: false; rejected: unknown };

export interface AccountApplier {
  /** Whether a password of this run may be on the database (a change was sent, answered or not). */
  readonly touched: boolean;
  /** Whether a new password is proved by logging in with it before it is promoted. */
  readonly verifies: boolean;
  /** How a secret created for this target describes itself. */
  readonly secretDescription: string;
  /** Reads what applying needs; a target that cannot be rotated fails here, before any write. */
  inspect(): Promise<Role[]>;
  /**
   * Checks, right before a new password is staged, what only the database can tell (that the account exists and
   * can be changed), so that such a target fails with nothing written. Absent: nothing to check.
   */
  prepare?(): Promise<void>;
  /** The account a new password is for. */
  newCredential(password: string): Credential;
  /** The secret's value holding a credential; without one, the value a created secret starts with. */
  secretValue(credential?: Credential): string;
  credentialOf(secretData: string | undefined): ReadCredential;
  /** Puts the credential on the database, or says why the database refused it before taking it anywhere. */
  apply(credential: Credential): Promise<Applied>;
  /** Waits until the change is in effect, within the invocation's time. */
  settle(): Promise<void>;
  /** Where the login check logs in, as a message shows it. */
  loginAt(): string;
  /** How long a refused new password is tried again before the login check gives up (a change that lands late). */
  readonly loginWaitMs: number;
  /** Logs in with the credential; never throws for a refused login. */
  login(credential: Credential): Promise<LoginResult>;
}
