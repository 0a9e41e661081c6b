/**
 * Managing MongoDB users over the database connection with the official `mongodb` driver, imported on first use
 * as the login check does (a function that rotates no application user never evaluates it): log in as an
 * administrator, read users (`usersInfo`), create them and change their passwords and roles.
 *
 * Every failure is a UserAdminError, an OperationError whose code tells the operator what to do and whose
 * `retryable` tells call.ts whether another try can succeed: a dropped connection, a timeout, a primary stepping
 * down can; a refused login, a missing privilege (13), a bad command cannot. No message carries a password: the
 * driver's never quote a command, and each is scrubbed of the passwords this session handled all the same.
 */
import type { Document, MongoClient } from 'mongodb';
import { OWN_CODES } from '../codes';
import { OperationError } from '../errors';
import { showAddress } from '../verify/address';
import { type Driver, type LoginCheck, classify, clientOptions, messageOf, withoutPassword } from '../verify/login';

export interface RoleRef {
  role: string;
  db: string;
}

/** A user as `usersInfo` shows it (never a password). */
export interface MongoUser {
  user: string;
  db: string;
  roles: RoleRef[];
  mechanisms: string[];
}

export interface NewUser {
  name: string;
  password: string;
  roles: RoleRef[];
  mechanisms?: string[];
}

export interface UserChange {
  password: string;
  /** Replaces the user's roles. */
  roles?: RoleRef[];
  /** The mechanisms its new credentials are made for. */
  mechanisms?: string[];
}

export interface UserAdminSession {
  /** The users of `db` with these names that exist. */
  users(db: string, names: string[]): Promise<MongoUser[]>;
  /** `exists` when the user is there already (MongoDB's 51003; 11000 before 4.2). */
  createUser(db: string, user: NewUser): Promise<'created' | 'exists'>;
  /** `missing` when there is no such user (11 UserNotFound). */
  updateUser(db: string, name: string, change: UserChange): Promise<'updated' | 'missing'>;
}

/**
 * What went wrong, for the caller to decide on: the administrator's login was refused (18), it lacks the
 * privilege (13), the server could not be reached or answered too late, TLS failed, or a command failed.
 */
export type UserAdminFailure = 'login-refused' | 'unauthorized' | 'unreachable' | 'timeout' | 'tls' | 'command';

export class UserAdminError extends OperationError {
  override readonly name: string = 'UserAdminError';

  constructor(
    readonly failure: UserAdminFailure,
    code: string,
    message: string,
    retryable: boolean,
    /** MongoDB's error code, when the server answered with one. */
    readonly mongoCode?: number,
    /** The address is no longer the primary: describe the instance again before the next try. */
    readonly notPrimary = false,
  ) {
    super({ code, message, retryable });
  }
}

const UNAUTHORIZED = 13;
const AUTHENTICATION_FAILED = 18;
const USER_NOT_FOUND = 11;
/** `User "x@db" already exists`: 51003 since MongoDB 4.2, a duplicate key (11000) before. */
const USER_EXISTS = new Set([51003, 11000]);
/** Errors a later try can get past: the driver's retryable write errors (a stepdown, a shutdown, the network behind the server). */
const RETRYABLE_SERVER_ERRORS = new Set([6, 7, 89, 91, 189, 262, 462, 9001, 10107, 11600, 11602, 13435, 13436]);
/** The labels that say so too; a server shedding load (462 IngressRequestRateLimitExceeded) labels its refusal RetryableError. */
const RETRYABLE_LABELS = ['RetryableWriteError', 'ResetPool', 'RetryableError', 'SystemOverloadedError'];
/** The ones that say the server is no longer the primary. */
const NOT_PRIMARY_ERRORS = new Set([189, 10107, 11602, 13435, 13436]);

/**
 * Logs in as `admin` (its `username`, `password`, `authSource`) at its address, runs `work`, and closes the
 * connection whatever happens. The password travels in the driver's auth options only, never in a URL.
 */
export async function withUserAdmin<T>(admin: LoginCheck, work: (session: UserAdminSession) => Promise<T>): Promise<T> {
  const scrub = new Set([admin.password]);
  const driver = await loadDriver(admin);
  let client: MongoClient | undefined;
  try {
    client = new driver.MongoClient(`mongodb://${showAddress(admin)}/`, clientOptions(admin));
    try {
      await client.connect();
    } catch (error) {
      throw loginError(error, driver, admin, scrub);
    }
    return await work(new Session(client, driver, admin, scrub));
  } finally {
    await client?.close().catch(() => undefined);
  }
}

async function loadDriver(admin: LoginCheck): Promise<Driver> {
  try {
    return await import('mongodb');
  } catch (error) {
    const detail = withoutPassword(messageOf(error).split('\n')[0]?.slice(0, 300) ?? '', admin.password);
    throw new UserAdminError('unreachable', OWN_CODES.userAdminUnreachable, `cannot load the mongodb driver: ${detail}`, false);
  }
}

class Session implements UserAdminSession {
  constructor(
    private readonly client: MongoClient,
    private readonly driver: Driver,
    private readonly admin: LoginCheck,
    private readonly scrub: Set<string>,
  ) {}

  async users(db: string, names: string[]): Promise<MongoUser[]> {
    const reply = await this.run(db, { usersInfo: names.map((user) => ({ user, db })) });
    const users: unknown = reply.users;
    if (!Array.isArray(users)) throw this.unexpected('usersInfo', 'no users list');
    return users.map((entry: Document) => ({
      user: String(entry.user),
      db: String(entry.db),
      roles: Array.isArray(entry.roles) ? entry.roles.map((role: Document) => ({ role: String(role.role), db: String(role.db) })) : [],
      mechanisms: Array.isArray(entry.mechanisms) ? entry.mechanisms.map(String) : [],
    }));
  }

  async createUser(db: string, user: NewUser): Promise<'created' | 'exists'> {
    this.scrub.add(user.password);
    const command: Document = { createUser: user.name, pwd: user.password, roles: user.roles };
    if (user.mechanisms?.length) command.mechanisms = user.mechanisms;
    try {
      await this.run(db, command);
      return 'created';
    } catch (error) {
      if (error instanceof UserAdminError && error.mongoCode !== undefined && USER_EXISTS.has(error.mongoCode)) return 'exists';
      throw error;
    }
  }

  async updateUser(db: string, name: string, change: UserChange): Promise<'updated' | 'missing'> {
    this.scrub.add(change.password);
    const command: Document = { updateUser: name, pwd: change.password };
    if (change.roles) command.roles = change.roles;
    if (change.mechanisms?.length) command.mechanisms = change.mechanisms;
    try {
      await this.run(db, command);
      return 'updated';
    } catch (error) {
      if (error instanceof UserAdminError && error.mongoCode === USER_NOT_FOUND) return 'missing';
      throw error;
    }
  }

  private async run(db: string, command: Document): Promise<Document> {
    try {
      return await this.client.db(db).command(command);
    } catch (error) {
      throw commandError(error, this.driver, Object.keys(command)[0] ?? 'command', db, this.admin, this.scrub);
    }
  }

  private unexpected(command: string, what: string): UserAdminError {
    return new UserAdminError('command', OWN_CODES.userCommandFailed, `${command} at ${showAddress(this.admin)} answered ${what}`, false);
  }
}

/**
 * Node's words when a server closes the connection during the TLS handshake, as one that does not speak TLS does
 * (it cannot read a ClientHello): trying again cannot help.
 */
const NO_TLS_SERVER = /before secure TLS connection was established/;

/** Connecting and logging in failed: classified as the login check does. */
function loginError(error: unknown, driver: Driver, admin: LoginCheck, scrub: Set<string>): UserAdminError {
  const failure = classify(error, driver, admin);
  const message = scrubbed(failure.message, scrub);
  if (admin.tls?.enabled && failure.reason === 'unreachable' && NO_TLS_SERVER.test(failure.message)) {
    const hint = 'the server closed the connection during the TLS handshake: it may not use TLS (enable SSL on the instance, or allow plain text for this target)';
    return new UserAdminError('tls', OWN_CODES.userAdminUnreachable, `${hint}; ${message}`, false);
  }
  switch (failure.reason) {
    case 'auth-failed':
      return new UserAdminError('login-refused', OWN_CODES.rootLoginFailed, message, false, AUTHENTICATION_FAILED);
    case 'unreachable':
      return new UserAdminError('unreachable', OWN_CODES.userAdminUnreachable, message, true);
    case 'timeout':
      return new UserAdminError('timeout', OWN_CODES.userAdminUnreachable, message, true);
    case 'tls':
      return new UserAdminError('tls', OWN_CODES.userAdminUnreachable, message, false);
    case 'busy':
    case 'error':
      return serverError(failure.code, message, error, driver);
  }
}

/** A command failed: the server's answer, or the connection under it. */
function commandError(error: unknown, driver: Driver, command: string, db: string, admin: LoginCheck, scrub: Set<string>): UserAdminError {
  const at = showAddress(admin);
  if (error instanceof driver.MongoServerError) {
    const code = typeof error.code === 'number' ? error.code : undefined;
    const name = error.codeName ? ` ${error.codeName}` : '';
    const message = scrubbed(`${command} on ${db} at ${at} failed: ${error.message} (code ${code ?? 'none'}${name})`, scrub);
    return serverError(code, message, error, driver);
  }
  if (error instanceof driver.MongoNetworkTimeoutError) {
    return new UserAdminError('timeout', OWN_CODES.userAdminUnreachable, scrubbed(`${command} at ${at} got no answer within ${admin.timeoutMs} ms: ${messageOf(error)}`, scrub), true);
  }
  if (error instanceof driver.MongoNetworkError || error instanceof driver.MongoServerSelectionError) {
    return new UserAdminError('unreachable', OWN_CODES.userAdminUnreachable, scrubbed(`${command} at ${at} lost the connection: ${messageOf(error)}`, scrub), true);
  }
  return new UserAdminError('command', OWN_CODES.userCommandFailed, scrubbed(`${command} at ${at} failed: ${messageOf(error)}`, scrub), false);
}

function serverError(code: number | undefined, message: string, error: unknown, driver: Driver): UserAdminError {
  if (code === UNAUTHORIZED) return new UserAdminError('unauthorized', OWN_CODES.userAdminUnauthorized, message, false, code);
  if (code === AUTHENTICATION_FAILED) return new UserAdminError('login-refused', OWN_CODES.rootLoginFailed, message, false, code);
  const labelled = error instanceof driver.MongoError && RETRYABLE_LABELS.some((label) => error.hasErrorLabel(label));
  const retryable = labelled || (code !== undefined && RETRYABLE_SERVER_ERRORS.has(code));
  return new UserAdminError('command', OWN_CODES.userCommandFailed, message, retryable, code, code !== undefined && NOT_PRIMARY_ERRORS.has(code));
}

function scrubbed(text: string, passwords: Set<string>): string {
  let clean = text;
  for (const password of passwords) clean = withoutPassword(clean, password);
  return clean;
}
