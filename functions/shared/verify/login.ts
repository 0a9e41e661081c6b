/**
 * Proves a password by logging in with it: connect to one MongoDB address, authenticate, `ping`,
 * close. The `mongodb` driver is imported on first use, so a bundle that never verifies never
 * evaluates it (esbuild turns the dynamic import into a lazily run `require`).
 */
import type { MongoClientOptions } from 'mongodb';
import { showAddress } from './address';

export type Driver = typeof import('mongodb');

export interface LoginCheck {
  host: string;
  port: number;
  /** Default `root`. */
  username?: string;
  password: string;
  /** Default `admin`. */
  authSource?: string;
  tls?: { enabled: boolean; caFile?: string };
  /** Bounds each stage: reaching the server, the TLS and login handshake, the `ping`. */
  timeoutMs: number;
  /** When given, the server must answer as a member of this replica set. */
  replicaSet?: string;
}

/** `busy`: the server refused the command for now, shedding load (a label that says a later try can succeed). */
export type LoginFailureReason = 'auth-failed' | 'unreachable' | 'timeout' | 'tls' | 'busy' | 'error';

export type LoginResult =
  | { ok: true; durationMs: number }
  | { ok: false; reason: LoginFailureReason; code?: number; message: string };

export type LoginFailure = Extract<LoginResult, { ok: false }>;

const APP_NAME = 'mongodb-root-rotation';
const AUTHENTICATION_FAILED = 18;
/** A server shedding load labels its refusal so (462 IngressRequestRateLimitExceeded: the README's platform facts). */
const BUSY_LABELS = ['SystemOverloadedError', 'RetryableError'];
/**
 * Server selection outlasts the connect timeout by this much, so that a connection attempt that
 * failed or timed out is recorded before selection gives up, and the result can say why.
 */
const SELECTION_GRACE_MS = 500;
const CA_FILE_ERRORS = new Set(['ENOENT', 'EACCES', 'EISDIR', 'EPERM']);
const TLS_ERROR_CODE = /^(ERR_TLS_|ERR_SSL_|EPROTO$)|CERT|SELF_SIGNED|UNABLE_TO_/;

/** Logs in and pings. Never throws: every failure, a refused password included, is a result. */
export async function verifyLogin(check: LoginCheck): Promise<LoginResult> {
  const started = performance.now();
  let driver: Driver;
  try {
    driver = await import('mongodb');
  } catch (error) {
    const detail = messageOf(error).split('\n')[0]?.slice(0, 300);
    return redacted({ ok: false, reason: 'error', message: `cannot load the mongodb driver: ${detail}` }, check.password);
  }
  let client: InstanceType<Driver['MongoClient']> | undefined;
  try {
    client = new driver.MongoClient(`mongodb://${showAddress(check)}/`, clientOptions(check));
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return { ok: true, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    return redacted(classify(error, driver, check), check.password);
  } finally {
    await client?.close().catch(() => undefined);
  }
}

/** The password travels only in `auth`, never in the connection string. */
export function clientOptions(check: LoginCheck): MongoClientOptions {
  const tls = check.tls?.enabled === true;
  return {
    auth: { username: check.username ?? 'root', password: check.password },
    authSource: check.authSource ?? 'admin',
    directConnection: true,
    ...(check.replicaSet === undefined ? {} : { replicaSet: check.replicaSet }),
    tls,
    ...(tls && check.tls?.caFile !== undefined ? { tlsCAFile: check.tls.caFile } : {}),
    connectTimeoutMS: check.timeoutMs,
    socketTimeoutMS: check.timeoutMs,
    serverSelectionTimeoutMS: check.timeoutMs + SELECTION_GRACE_MS,
    // One monitoring connection is enough for a single ping; streaming would open a second one.
    serverMonitoringMode: 'poll',
    maxPoolSize: 1,
    retryReads: false,
    retryWrites: false,
    appName: APP_NAME,
  };
}

/** Why connecting and logging in failed: refused, unreachable, timed out, TLS, or another error. */
export function classify(error: unknown, driver: Driver, check: LoginCheck): LoginFailure {
  const at = showAddress(check);
  if (isAuthenticationFailure(error, driver)) {
    const message = `login as ${check.username ?? 'root'} (authSource ${check.authSource ?? 'admin'}) at ${at} was refused: ${messageOf(error)}`;
    return { ok: false, reason: 'auth-failed', code: AUTHENTICATION_FAILED, message };
  }
  if (isCaFileError(error, check)) {
    return { ok: false, reason: 'tls', message: `cannot read the TLS CA file: ${messageOf(error)}` };
  }
  const network = networkError(error, driver);
  if (network) return classifyNetwork(network, driver, check);
  if (error instanceof driver.MongoServerSelectionError) {
    if (check.replicaSet !== undefined) {
      const message = `${at} did not answer as a member of replica set '${check.replicaSet}' within ${check.timeoutMs} ms`;
      return { ok: false, reason: 'error', message };
    }
    return { ok: false, reason: 'timeout', message: `${at} did not answer within ${check.timeoutMs} ms: ${messageOf(error)}` };
  }
  const code = error instanceof driver.MongoServerError && typeof error.code === 'number' ? { code: error.code } : {};
  if (error instanceof driver.MongoError && BUSY_LABELS.some((label) => error.hasErrorLabel(label))) {
    return { ok: false, reason: 'busy', ...code, message: `${at} refused the login check for now: ${messageOf(error)}` };
  }
  return { ok: false, reason: 'error', ...code, message: `login check at ${at} failed: ${messageOf(error)}` };
}

function classifyNetwork(error: Error, driver: Driver, check: LoginCheck): LoginFailure {
  const at = showAddress(check);
  const detail = messageOf(error);
  if (isTlsFailure(error)) return { ok: false, reason: 'tls', message: `TLS with ${at} failed: ${detail}` };
  if (error instanceof driver.MongoNetworkTimeoutError) {
    return { ok: false, reason: 'timeout', message: `${at} did not answer within ${check.timeoutMs} ms: ${detail}` };
  }
  return { ok: false, reason: 'unreachable', message: `cannot reach ${at}: ${detail}` };
}

/** Code 18 from the server, whether thrown by `connect()` itself or recorded by server selection. */
function isAuthenticationFailure(error: unknown, driver: Driver): boolean {
  return causes(error, driver).some((cause) => cause instanceof driver.MongoServerError && cause.code === AUTHENTICATION_FAILED);
}

/** The driver reads `tlsCAFile` itself when it connects. */
function isCaFileError(error: unknown, check: LoginCheck): boolean {
  const caFile = check.tls?.enabled ? check.tls.caFile : undefined;
  if (caFile === undefined || !(error instanceof Error)) return false;
  const { code, path } = error as NodeJS.ErrnoException;
  return code !== undefined && CA_FILE_ERRORS.has(code) && path === caFile;
}

/** The network error behind a failure, if any: the error itself, or what server selection recorded. */
function networkError(error: unknown, driver: Driver): Error | undefined {
  return causes(error, driver).find((cause): cause is Error => cause instanceof driver.MongoNetworkError);
}

function isTlsFailure(error: Error): boolean {
  const code = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && TLS_ERROR_CODE.test(code);
}

/** The error, the errors server selection recorded for each server, and their causes. */
function causes(error: unknown, driver: Driver): unknown[] {
  const found: unknown[] = [];
  const pending: unknown[] = [error];
  while (pending.length > 0 && found.length < 16) {
    const next = pending.shift();
    if (next === undefined || next === null || found.includes(next)) continue;
    found.push(next);
    if (next instanceof driver.MongoServerSelectionError) {
      for (const server of next.reason?.servers.values() ?? []) pending.push(server.error);
    }
    if (next instanceof Error) pending.push(next.cause);
  }
  return found;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The driver does not put the password in its messages; this makes sure no path ever does, in any
 * case (host names come back lower-cased) and URI-encoded.
 */
function redacted(failure: LoginFailure, password: string): LoginFailure {
  return { ...failure, message: withoutPassword(failure.message, password) };
}

/** `text` without `password`, in any case and URI-encoded. */
export function withoutPassword(text: string, password: string): string {
  if (password.length === 0) return text;
  const forms = [...new Set([password, encodeURIComponent(password)])].map((form) => form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return text.replace(new RegExp(forms.join('|'), 'gi'), '[redacted]');
}
