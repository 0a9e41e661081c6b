/**
 * An application client as the README tells applications to behave: it reads its login from KMS
 * `ACSCurrent` (the user name and the password together, from one version) when it starts, and when
 * a login is refused it reads ACSCurrent again and retries the request once with what it read; it
 * serves requests that each log in and run a query through the official `mongodb` driver. A request
 * fails when that retry fails too (or anything else fails).
 *
 * Alternating rotation keeps the login an application holds valid until the rotation after the one
 * that replaced it: the refusal then comes once, and the re-read and retry absorb it. With
 * `refreshMs` it also re-reads ACSCurrent once its login is that old, as a secrets cache with a TTL
 * does (a failed refresh keeps the login it had, as a cache keeps a stale entry).
 *
 * Every request opens its own connection, and so logs in. A pooled connection stays logged in
 * after its password changes (MongoDB does not log connections out), so an application with a warm
 * pool would notice a rotation only when it opens a new connection (pool growth, an idle or
 * failed connection replaced, a restart). Logging in on every request makes each request such a
 * moment: the strictest test a rotation can face, and one where a failed request is a failed login
 * or query, nothing hidden behind a connection opened earlier.
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient, MongoServerError } from 'mongodb';
import { APP_COLLECTION, APP_DATABASE } from './fixture';

const require = createRequire(import.meta.url);
const rpc = require('@alicloud/rpc-client') as typeof import('@alicloud/rpc-client');
const kms = require('@alicloud/kms20160120') as typeof import('@alicloud/kms20160120');

type KmsClient = import('@alicloud/kms20160120').default;

const AUTHENTICATION_FAILED = 18;
const TIMEOUT_MS = 5_000;

/** One request: a login and a query, or the read of the login it needed. Times in ms since the bench's clock started. */
export interface RequestSample {
  client: number;
  start: number;
  end: number;
  ok: boolean;
  /** auth: the login was refused (code 18); other: anything else, the reading of the secret included. */
  failure?: 'auth' | 'other';
  /** For a failure: the error's class and code, never its details (no password can be in it). */
  reason?: string;
  /** The first login was refused; the request was retried once with ACSCurrent read again. */
  retried?: boolean;
}

export interface ClientConnection {
  /** The local cloud's API endpoint (`127.0.0.1:port`) and region. */
  apiHost: string;
  region: string;
  accessKey: { id: string; secret: string };
  secretName: string;
  /** The instance's MongoDB address. */
  host: string;
  port: number;
}

interface Login {
  username: string;
  password: string;
  authSource: string;
}

export interface ClientCounters {
  /** ACSCurrent reads, the first included. */
  secretReads: number;
  /** Periodic re-reads that failed (the client kept its login). */
  refreshFailures: number;
}

export interface ClientPace {
  /** Pause between two requests. */
  thinkMs: number;
  /** Re-read ACSCurrent once the login is this old; undefined: only on start and after a refused login. */
  refreshMs: number | undefined;
}

export class AppClient {
  readonly counters: ClientCounters = { secretReads: 0, refreshFailures: 0 };
  private readonly kms: KmsClient;
  private login: Login | undefined;
  /** When the login was read, on the bench's clock. */
  private loginReadAt = 0;
  private stopping = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly index: number,
    private readonly connection: ClientConnection,
    private readonly record: (sample: RequestSample) => void,
    private readonly clock: () => number,
    private readonly pace: ClientPace,
  ) {
    this.kms = new kms.default(
      new rpc.Config({ accessKeyId: connection.accessKey.id, accessKeySecret: connection.accessKey.secret, endpoint: connection.apiHost, protocol: 'http', regionId: connection.region }),
    );
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Lets the request in flight finish (it is counted as it ends), then resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.login === undefined) await this.readLogin();
      else if (this.pace.refreshMs !== undefined && this.clock() - this.loginReadAt >= this.pace.refreshMs) await this.refreshLogin();
      else await this.request(this.login);
      if (this.pace.thinkMs > 0 && !this.stopping) await sleep(this.pace.thinkMs);
    }
  }

  /** With no login to use, a failed read fails the request the application was about to serve. */
  private async readLogin(): Promise<void> {
    const start = this.clock();
    try {
      this.login = await this.readCurrent();
      this.loginReadAt = start;
    } catch (err) {
      this.record({ client: this.index, start, end: this.clock(), ok: false, failure: 'other', reason: `reading ACSCurrent: ${kmsReason(err)}` });
    }
  }

  private async refreshLogin(): Promise<void> {
    const start = this.clock();
    try {
      this.login = await this.readCurrent();
    } catch {
      this.counters.refreshFailures++;
    }
    this.loginReadAt = start;
  }

  /** ACSCurrent, read as one version: the name and the password can never come from two rotations. */
  private async readCurrent(): Promise<Login> {
    this.counters.secretReads++;
    const response = await this.kms.getSecretValue(new kms.GetSecretValueRequest({ secretName: this.connection.secretName, versionStage: 'ACSCurrent' }));
    const value = JSON.parse(response.secretData ?? '') as { AccountName?: unknown; AccountPassword?: unknown; AuthDatabase?: unknown };
    if (typeof value.AccountName !== 'string' || typeof value.AccountPassword !== 'string') throw new Error('ACSCurrent lacks AccountName or AccountPassword');
    return { username: value.AccountName, password: value.AccountPassword, authSource: typeof value.AuthDatabase === 'string' ? value.AuthDatabase : 'admin' };
  }

  /** One request as the application serves it: on a refused login, ACSCurrent is read again and the request retried once. */
  private async request(login: Login): Promise<void> {
    const start = this.clock();
    let attempt = await this.attempt(login);
    if (attempt.ok || attempt.failure !== 'auth') return this.record({ client: this.index, start, end: this.clock(), ...attempt });
    try {
      this.login = await this.readCurrent();
      this.loginReadAt = start;
    } catch (err) {
      this.login = undefined;
      return this.record({ client: this.index, start, end: this.clock(), ok: false, failure: 'other', reason: `reading ACSCurrent again: ${kmsReason(err)}`, retried: true });
    }
    attempt = await this.attempt(this.login);
    if (!attempt.ok && attempt.failure === 'auth') this.login = undefined;
    this.record({ client: this.index, start, end: this.clock(), ...attempt, retried: true });
  }

  /** A login and a query on a connection of its own. */
  private async attempt(login: Login): Promise<Pick<RequestSample, 'ok' | 'failure' | 'reason'>> {
    const client = new MongoClient(`mongodb://${this.connection.host}:${this.connection.port}/`, {
      auth: { username: login.username, password: login.password },
      authSource: login.authSource,
      directConnection: true,
      maxPoolSize: 1,
      serverMonitoringMode: 'poll',
      connectTimeoutMS: TIMEOUT_MS,
      socketTimeoutMS: TIMEOUT_MS,
      serverSelectionTimeoutMS: TIMEOUT_MS,
      // A failed request counts as failed: no retry hides it.
      retryReads: false,
      retryWrites: false,
      appName: 'bench-app',
    });
    try {
      await client.connect();
      await client.db(APP_DATABASE).collection(APP_COLLECTION).find({}).toArray();
      return { ok: true };
    } catch (err) {
      return { ok: false, failure: isAuthenticationFailure(err) ? 'auth' : 'other', reason: mongoReason(err) };
    } finally {
      await client.close().catch(() => undefined);
    }
  }
}

/** Code 18, thrown by connect() itself or recorded by server selection as the cause. */
function isAuthenticationFailure(err: unknown): boolean {
  for (let cause = err, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    if (cause instanceof MongoServerError && cause.code === AUTHENTICATION_FAILED) return true;
  }
  return false;
}

function mongoReason(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown error';
  const code = (err as { code?: unknown; codeName?: unknown }).codeName ?? (err as { code?: unknown }).code;
  return code === undefined ? err.name : `${err.name} ${String(code)}`;
}

function kmsReason(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown error';
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err.name;
}
