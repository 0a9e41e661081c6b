/**
 * An application user, changed over the database connection (docs/design.md §9): the function logs in as root
 * with the instance's root secret (ACSCurrent; after a refused login, ACSPending once, since a root rotation may be
 * half done), reads the users (`usersInfo`), then creates or updates the user the new password is for, and the
 * login check logs in as that user.
 *
 * - `alternating`: two users, `<name>` and `<name>_clone`. A new password is for the user ACSCurrent does not
 *   name, which gets the current user's roles (and mechanisms) every time, created on the first rotation. The user
 *   ACSCurrent names keeps its password: nothing here sets any other password on it.
 * - `single`: the one user's password changes (its roles and mechanisms stay).
 *
 * User commands carry the password, so they go over TLS unless the target allows plain text.
 */
import type DdsClient from '../../shared/clients/dds';
import * as $Dds from '../../shared/clients/dds';
import { toServiceError } from '../../shared/clients/errors';
import { OWN_CODES, SERVICE_CODES } from '../../shared/codes';
import { CLONE_SUFFIX, ROOT_ACCOUNT } from '../../shared/config';
import { OperationError } from '../../shared/errors';
import { shown } from '../../shared/format';
import type { Logger } from '../../shared/logger';
import { type MongoUser, UserAdminError, type UserAdminSession, withUserAdmin } from '../../shared/mongo/user-admin';
import { checkPassword } from '../../shared/password';
import { type Deadline, sleep } from '../../shared/retry';
import type { PlannedUserTarget } from '../../shared/targets';
import { type MongoAddress, VerifyAddressError, mongosAddresses, showAddress, verifyAddress } from '../../shared/verify/address';
import { type LoginCheck, type LoginResult, verifyLogin } from '../../shared/verify/login';
import type { AccountApplier, Applied, Credential, ReadCredential, Role } from './applier';
import { describeInstance, rotatableType } from './instance';
import type { SecretStore, SendCall } from './secret-store';
import { ACS_CURRENT, ACS_PENDING } from './versions';

export interface UserApplierDeps {
  dds: DdsClient;
  call: SendCall;
  log: Logger;
  deadline: Deadline;
  /** The target's own secret: its ACSCurrent names the user applications log in as now. */
  store: SecretStore;
  /** The instance's root secret, whose password the function logs in with. */
  rootStore: SecretStore;
  /**
   * Each stage of a connection (VERIFY_TIMEOUT_MS), the CA of TLS connections (VERIFY_TLS_CA_FILE; else the
   * system's), and how long a refused new password is tried again (VERIFY_WAIT_SECONDS).
   */
  connection: { timeoutMs: number; caFile?: string; waitMs: number };
  /** How long settle waits for every mongos of a sharded cluster to take a new password, and how often it looks. */
  settleDelays: { firstMs: number; maxMs: number; limitMs: number };
}

/** The account a version labelled ACSCurrent names; its password is absent in a secret created without one. */
interface CurrentAccount {
  accountName: string;
  password?: string;
}

/** Root's password, and the label of the root secret it came from. */
interface RootLogin {
  stage: typeof ACS_CURRENT | typeof ACS_PENDING;
  password: string;
}

export class UserApplier implements AccountApplier {
  private sent = false;
  private described?: $Dds.DBInstanceAttribute;
  /** Set when the address stopped being the primary: the next try describes the instance again. */
  private addressStale = false;
  private current?: CurrentAccount;
  private root?: RootLogin;
  /** The credential last applied, which settle waits for. */
  private applied?: Credential;

  constructor(
    private readonly target: PlannedUserTarget,
    private readonly deps: UserApplierDeps,
  ) {}

  get touched(): boolean {
    return this.sent;
  }

  /** Always: an application user's new password is proved by logging in as it before applications read it. */
  get verifies(): boolean {
    return true;
  }

  get secretDescription(): string {
    const { accountName, authDatabase, strategy, instanceId } = this.target;
    return `password of MongoDB user ${accountName}@${authDatabase} (${strategy}) of ApsaraDB for MongoDB instance ${instanceId}, kept by the rotation function`;
  }

  /** The instance (not locked, a replica set or a sharded cluster, an address to connect to) and who ACSCurrent names. */
  async inspect(): Promise<Role[]> {
    const known = this.target.inspected;
    const instance = known?.addresses ? known.instance : await describeInstance(this.deps.dds, this.deps.call, this.target.instanceId);
    rotatableType(instance);
    this.described = instance;
    this.address();
    if (this.target.plaintextAllowedBy) {
      this.deps.log.warn('user commands and the login check go without TLS: they carry passwords in clear text', { step: 'inspect', allowedBy: this.target.plaintextAllowedBy });
    }
    this.current = await this.readCurrent();
    return [];
  }

  newCredential(password: string): Credential {
    const { accountName, strategy } = this.target;
    if (strategy === 'single') return { accountName, password };
    return { accountName: this.partnerOf(this.current?.accountName ?? accountName), password };
  }

  secretValue(credential?: Credential): string {
    const { accountName, instanceId, authDatabase } = this.target;
    if (!credential) return JSON.stringify({ AccountName: accountName, DBInstanceId: instanceId, AuthDatabase: authDatabase });
    return JSON.stringify({ AccountName: credential.accountName, AccountPassword: credential.password, DBInstanceId: instanceId, AuthDatabase: authDatabase });
  }

  /**
   * The credential a stored value holds, if it is for one of this target's users, on this instance and database,
   * and meets the password rule. For `alternating`, a password for the user ACSCurrent names can only be its own:
   * a pending version naming that user with another one (staged on a stale view) is replaced, never applied.
   */
  credentialOf(secretData: string | undefined): ReadCredential {
    const fields = parseObject(secretData);
    if (typeof fields === 'string') return { problem: fields };
    if (typeof fields.AccountPassword !== 'string') return { problem: 'it holds no AccountPassword' };
    const credential = { accountName: String(fields.AccountName), password: fields.AccountPassword };
    const mismatch = this.mismatch(fields);
    if (mismatch) return { credential, problem: mismatch };
    const current = this.current;
    if (this.target.strategy === 'alternating' && current?.password !== undefined && credential.accountName === current.accountName && credential.password !== current.password) {
      return { credential, problem: `it names ${credential.accountName}, the user ACSCurrent names, with another password; an alternating rotation changes the other user` };
    }
    const problems = checkPassword(credential.password);
    if (problems.length > 0) return { credential, problem: `its password ${problems.join('; ')}` };
    return { credential };
  }

  /**
   * Before a new password is staged: root logs in (ACSCurrent's password, else ACSPending's), and the user whose
   * roles or password the rotation changes exists. A missing root secret, a root refused, a missing user or a
   * missing privilege then fails the target with nothing written.
   */
  async prepare(): Promise<void> {
    const { authDatabase, strategy, accountName } = this.target;
    const name = strategy === 'single' ? accountName : (this.current?.accountName ?? accountName);
    await this.asRoot(async (session) => {
      const [user] = await session.users(authDatabase, [name]);
      if (!user) throw this.notFound(name, strategy === 'single' ? 'a single-user rotation changes the password of an existing user' : 'the user ACSCurrent names must exist: the other user gets its roles');
    });
  }

  /** usersInfo, then createUser or updateUser, as root; never a password other than ACSCurrent's on the user ACSCurrent names. */
  async apply(credential: Credential): Promise<Applied> {
    const current = await this.readCurrent();
    this.current = current;
    if (this.target.strategy === 'alternating' && current && credential.accountName === current.accountName && credential.password !== current.password) {
      throw OperationError.of(
        OWN_CODES.promoteGuard,
        `the pending password is for ${this.userName(credential.accountName)}, the user ACSCurrent names now (a concurrent run promoted meanwhile); not applied, so that applications keep logging in. The next run stages a password for the other user`,
      );
    }
    await this.asRoot((session) => (this.target.strategy === 'single' ? this.changeSingle(session, credential) : this.changeAlternating(session, credential, current)));
    this.applied = credential;
    return { applied: true };
  }

  /**
   * A sharded cluster: waits until every mongos takes the new password (a mongos other than the one the change went
   * through sees it once it looks at the config servers again: MongoDB's userCacheInvalidationIntervalSecs, 30 s by
   * default). A replica set's primary has it at once.
   */
  async settle(): Promise<void> {
    const applied = this.applied;
    if (!applied || this.target.connectionHost !== undefined || this.described?.DBInstanceType !== 'sharding') return;
    const addresses = mongosAddresses(this.described);
    if (addresses.length < 2) return; // the login check logs in at the one
    const started = Date.now();
    for (const address of addresses) await this.waitForLogin(address, applied, started);
  }

  loginAt(): string {
    return showAddress(this.address());
  }

  get loginWaitMs(): number {
    return this.deps.connection.waitMs;
  }

  /** Logs in as the user, against its authentication database. */
  login(credential: Credential): Promise<LoginResult> {
    this.deps.deadline.ensure('log in with the new password');
    return verifyLogin(this.check(this.address(), credential.accountName, credential.password, this.target.authDatabase));
  }

  private async changeSingle(session: UserAdminSession, credential: Credential): Promise<void> {
    const { authDatabase } = this.target;
    const [user] = await session.users(authDatabase, [credential.accountName]);
    if (!user) throw this.notFound(credential.accountName, 'a single-user rotation changes the password of an existing user');
    this.sent = true;
    const changed = await session.updateUser(authDatabase, user.user, { password: credential.password, mechanisms: user.mechanisms });
    if (changed === 'missing') throw this.notFound(credential.accountName, 'it was dropped during the rotation');
    this.deps.log.info('changed the password of the user', { step: 'apply', user: this.userName(user.user) });
  }

  private async changeAlternating(session: UserAdminSession, credential: Credential, current: CurrentAccount | undefined): Promise<void> {
    const { authDatabase } = this.target;
    const source = current?.accountName ?? this.target.accountName;
    const users = await session.users(authDatabase, this.names());
    const find = (name: string): MongoUser | undefined => users.find((user) => user.user === name && user.db === authDatabase);
    const from = find(source);
    if (!from) throw this.notFound(source, 'the user ACSCurrent names must exist: the other user gets its roles');
    const name = credential.accountName;
    this.sent = true;
    if (name === source) {
      // Putting ACSCurrent's own password back (a restore after a concurrent run): the password it has, nothing else.
      await this.update(session, name, { password: credential.password });
      this.deps.log.info("put ACSCurrent's password back on the user it names", { step: 'apply', user: this.userName(name) });
      return;
    }
    const change = { password: credential.password, roles: from.roles, mechanisms: from.mechanisms };
    if (!find(name) && (await session.createUser(authDatabase, { name, ...change })) === 'created') {
      this.deps.log.info("created the other user with the current user's roles", { step: 'apply', user: this.userName(name), from: this.userName(source), roles: from.roles.length });
      return;
    }
    await this.update(session, name, change);
    this.deps.log.info("changed the other user's password and copied the current user's roles", { step: 'apply', user: this.userName(name), from: this.userName(source), roles: from.roles.length });
  }

  private async update(session: UserAdminSession, name: string, change: Parameters<UserAdminSession['updateUser']>[2]): Promise<void> {
    if ((await session.updateUser(this.target.authDatabase, name, change)) === 'missing') {
      // Dropped between usersInfo and the update: the next try reads the users again.
      throw new UserAdminError('command', OWN_CODES.userCommandFailed, `${this.userName(name)} disappeared during the rotation`, true);
    }
  }

  /** Runs user commands logged in as root: ACSCurrent's password, or ACSPending's once ACSCurrent's was refused. */
  private async asRoot<T>(work: (session: UserAdminSession) => Promise<T>): Promise<T> {
    const first = this.root ?? (await this.rootLogin(ACS_CURRENT));
    if (!first) throw this.rootSecretMissing('has no ACSCurrent version');
    this.root = first;
    try {
      return await this.session(first, work);
    } catch (err) {
      if (!refused(err) || first.stage === ACS_PENDING) throw err;
    }
    const pending = await this.rootLogin(ACS_PENDING);
    if (!pending) throw this.rootRefused(`its password in ACSCurrent of ${this.target.rootSecretName} was refused, and that secret has no ACSPending version`);
    this.deps.log.warn("root's ACSCurrent password was refused; logging in with ACSPending (a root rotation is half done)", { step: 'apply', at: this.loginAt() });
    this.root = pending;
    try {
      return await this.session(pending, work);
    } catch (err) {
      if (refused(err)) throw this.rootRefused(`both passwords of ${this.target.rootSecretName}, ACSCurrent's and ACSPending's, were refused`);
      throw err;
    }
  }

  /** One session as root, tried again (a new connection each time) while what failed can succeed later. */
  private session<T>(root: RootLogin, work: (session: UserAdminSession) => Promise<T>): Promise<T> {
    return this.deps.call('MongoDB user commands', async () => {
      if (this.addressStale && this.target.connectionHost === undefined) {
        this.described = await describeInstance(this.deps.dds, this.deps.call, this.target.instanceId);
        this.addressStale = false;
      }
      this.deps.deadline.ensure('run the user commands');
      try {
        return await withUserAdmin(this.check(this.address(), ROOT_ACCOUNT, root.password, 'admin'), work);
      } catch (err) {
        if (err instanceof UserAdminError && err.notPrimary) this.addressStale = true;
        throw err;
      }
    });
  }

  private async waitForLogin(address: MongoAddress, credential: Credential, started: number): Promise<void> {
    const { firstMs, maxMs, limitMs } = this.deps.settleDelays;
    for (let delay = firstMs; ; delay = Math.min(delay * 2, maxMs)) {
      this.deps.deadline.ensure('wait for every mongos to take the new password');
      const login = await verifyLogin(this.check(address, credential.accountName, credential.password, this.target.authDatabase));
      // A mongos that cannot be reached is the login check's business; one that refuses has not looked yet.
      if (login.ok || login.reason !== 'auth-failed') return;
      const waited = Date.now() - started;
      if (waited + delay > limitMs || delay >= this.deps.deadline.remainingMs()) {
        throw OperationError.of(
          OWN_CODES.verifyLoginFailed,
          `mongos ${showAddress(address)} still refuses the new password of ${this.userName(credential.accountName)} after ${Math.round(waited / 1000)} s ` +
            `(its user cache: userCacheInvalidationIntervalSecs); not promoted, the pending version keeps ACSPending and the next run applies and checks it again`,
        );
      }
      this.deps.log.info('waiting for a mongos to take the new password', { step: 'settle', at: showAddress(address), delayMs: delay });
      await sleep(delay);
    }
  }

  /** What ACSCurrent of the target's secret names, checked to be one of this target's users; none without a secret. */
  private async readCurrent(): Promise<CurrentAccount | undefined> {
    let data: string | undefined;
    try {
      data = await this.deps.store.readStage(ACS_CURRENT);
    } catch (err) {
      if (toServiceError(err).code === SERVICE_CODES.secretNotFound) return undefined; // the stage step says so, or creates it
      throw err;
    }
    const fields = parseObject(data);
    const problem = typeof fields === 'string' ? fields : this.mismatch(fields);
    if (typeof fields === 'string' || problem) {
      throw OperationError.of(
        OWN_CODES.invalidSecretValue,
        `the ACSCurrent version of ${this.deps.store.secretName} cannot be this target's: ${problem}. An application user's secret holds ` +
          `{"AccountName","AccountPassword","DBInstanceId","AuthDatabase"} for ${this.names().map((value) => shown(value)).join(' or ')} of ${this.target.instanceId}, AuthDatabase ${shown(this.target.authDatabase)}; nothing was changed`,
      );
    }
    const password = typeof fields.AccountPassword === 'string' && fields.AccountPassword !== '' ? fields.AccountPassword : undefined;
    if (password !== undefined) this.deps.log.keepSecret(password);
    return { accountName: String(fields.AccountName), ...(password !== undefined && { password }) };
  }

  /** Why a stored value is not this target's (its user, instance or database), if it is not. */
  private mismatch(fields: Record<string, unknown>): string | undefined {
    const { AccountName: name, DBInstanceId: instanceId, AuthDatabase: db = 'admin' } = fields;
    if (typeof name !== 'string' || !this.names().includes(name)) return `names the account ${shown(name)}, not ${this.names().map((value) => shown(value)).join(' or ')}`;
    if (instanceId !== this.target.instanceId) return `names the instance ${shown(instanceId)}, not ${this.target.instanceId}`;
    if (db !== this.target.authDatabase) return `names the AuthDatabase ${shown(db)}, not ${shown(this.target.authDatabase)}`;
    return undefined;
  }

  /** The root secret's password under `stage`; undefined when no version carries it. */
  private async rootLogin(stage: RootLogin['stage']): Promise<RootLogin | undefined> {
    let data: string | undefined;
    try {
      data = await this.deps.rootStore.readStage(stage);
    } catch (err) {
      if (toServiceError(err).code === SERVICE_CODES.secretNotFound) return undefined;
      throw err;
    }
    const fields = parseObject(data);
    const password = typeof fields === 'object' ? fields.AccountPassword : undefined;
    if (typeof password !== 'string' || password === '') {
      if (stage === ACS_PENDING) return undefined;
      throw this.rootSecretMissing('holds no root password in ACSCurrent (a secret created empty: its first rotation has not completed)');
    }
    this.deps.log.keepSecret(password);
    return { stage, password };
  }

  private check(address: MongoAddress, username: string, password: string, authSource: string): LoginCheck {
    const timeoutMs = Math.min(this.deps.connection.timeoutMs, this.deps.deadline.remainingMs());
    const tls = this.target.plaintextAllowedBy ? { enabled: false } : { enabled: true, ...(this.deps.connection.caFile !== undefined && { caFile: this.deps.connection.caFile }) };
    return { ...address, username, password, authSource, tls, timeoutMs };
  }

  /** The target's connectionHost, else the primary or a mongos the instance describes. */
  private address(): MongoAddress {
    try {
      return verifyAddress(this.described ?? new $Dds.DBInstanceAttribute({}), this.target.connectionHost);
    } catch (err) {
      if (!(err instanceof VerifyAddressError)) throw err;
      throw OperationError.of(OWN_CODES.userAdminUnreachable, `cannot tell where to connect to change ${this.userName(this.target.accountName)}: ${err.message}; set "connectionHost" for this target`);
    }
  }

  /** The users this target manages: the one, or the pair. */
  private names(): string[] {
    const { accountName, strategy } = this.target;
    return strategy === 'single' ? [accountName] : [accountName, `${accountName}${CLONE_SUFFIX}`];
  }

  private partnerOf(name: string): string {
    const [first, clone] = this.names();
    return name === clone ? first! : clone!;
  }

  private userName(name: string): string {
    return `${name}@${this.target.authDatabase}`;
  }

  private notFound(name: string, why: string): OperationError {
    return OperationError.of(
      OWN_CODES.applicationUserNotFound,
      `the user ${this.userName(name)} does not exist on ${this.target.instanceId} (${why}); create it with the password its secret's ACSCurrent holds, then run again. The database was not changed`,
    );
  }

  private rootSecretMissing(problem: string): OperationError {
    return OperationError.of(
      OWN_CODES.rootSecretNotFound,
      `the instance's root secret ${this.target.rootSecretName} ${problem}: an application user is changed by logging in as root with it. ` +
        `Create it with the root password (README, Deploy), or give the instance a root target whose "secretName" names it; the database was not changed`,
    );
  }

  private rootRefused(what: string): OperationError {
    return OperationError.of(
      OWN_CODES.rootLoginFailed,
      `cannot log in as root at ${this.loginAt()} to change ${this.userName(this.target.accountName)}: ${what}. Rotate root first (its pending version is applied), or put root's password in its secret; the database was not changed`,
    );
  }
}

const refused = (err: unknown): boolean => err instanceof UserAdminError && err.failure === 'login-refused';

/** A stored value as a JSON object, or what is wrong with it. */
function parseObject(data: string | undefined): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(data ?? '');
  } catch {
    return 'its data is not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'its data is not a JSON object';
  return value as Record<string, unknown>;
}
