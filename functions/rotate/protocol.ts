/**
 * The rotation of one target (an instance and its KMS generic secret), design §3: inspect → stage → apply →
 * settle → promote. Like the AWS Secrets Manager rotation templates (createSecret, setSecret, testSecret,
 * finishSecret), every step is idempotent, so a run that dies anywhere is completed by the next one:
 * the password is in KMS (ACSPending) before the database is touched, and ACSCurrent moves to it only after
 * every role holds it.
 *
 * Runs of the same target are kept apart by the function's reserved concurrency of 1. For those that race all
 * the same: a run applies a password only while its version still carries its label (confirm), carries on with
 * the version that does when its own lost it (takeOver), and after its last reset checks the labels again, so
 * that racing runs end consistent. What no check closes is a PutSecretValue already on the wire when another
 * run applies its password: PutSecretValue moves ACSPending unconditionally (test/reliability/races.test.ts).
 */
import { type Clients, callOptions } from '../shared/clients';
import * as $Dds from '../shared/clients/dds';
import { OperationError, type ServiceError, toServiceError } from '../shared/clients/errors';
import { $Kms, ACS_CURRENT, ACS_PENDING, ACS_PREVIOUS, SECRET_NOT_FOUND } from '../shared/clients/kms';
import { ROOT_ACCOUNT, VERIFY_LOGIN_DEFAULTS, type VerifyLoginConfig } from '../shared/config';
import type { LogFields, Logger } from '../shared/logger';
import { generatePassword } from '../shared/password';
import { type Deadline, sleep, withRetry } from '../shared/retry';
import { type MongoAddress, VerifyAddressError, showAddress, verifyAddress } from '../shared/verify/address';
import { type OldPasswordStatus, VERIFY_LOGIN_FAILED, verifyFailureMessage } from '../shared/verify/failure';
import { type LoginResult, verifyLogin } from '../shared/verify/login';
import { type PlannedTarget, initialVersionId, isInitialVersion, replacementVersionId } from './plan';
import {
  INVALID_RESPONSE,
  type SecretVersion,
  accountPasswordOf,
  checkedLabels,
  has,
  readPendingPassword,
  shown,
  unreadableVersions,
  versionsOf,
} from './secret-versions';

export type Outcome = 'rotated' | 'resumed' | 'skipped' | 'planned' | 'failed';
export type Role = 'db' | 'cs' | 'normal';
export type Step = 'inspect' | 'stage' | 'apply' | 'settle' | 'verify' | 'promote';

export interface TargetResult {
  instanceId: string;
  secretName: string;
  outcome: Outcome;
  /** The version rotated, resumed or planned; for a skipped target, the current one. */
  versionId?: string;
  characterTypes: Role[];
  /** 1 + the number of retries of this target's calls. */
  attempts: number;
  durationMs: number;
  reason?: string;
  error?: { code: string; message: string; requestId?: string };
}

export interface ProtocolDeps {
  clients: Clients;
  deadline: Deadline;
  /** Bound to the run; rotateTarget binds the target. */
  logger: Logger;
  passwordLength: number;
  rotationIntervalDays: number;
  createMissingSecrets: boolean;
  dryRun: boolean;
  /** The login check before promotion; absent: only targets that say `"verify": true` check, with the defaults. */
  verifyLogin?: VerifyLoginConfig;
  now?: () => number;
  /** Backoff of retried calls and of the settle poll. */
  delays?: { retryBaseMs: number; retryMaxMs: number; settleFirstMs: number; settleMaxMs: number };
}

const DEFAULT_DELAYS = { retryBaseMs: 200, retryMaxMs: 5_000, settleFirstMs: 500, settleMaxMs: 5_000 };
const DAY_MS = 86_400_000;
const RUNNING = 'Running';
const ROLES_BY_TYPE = new Map<string, Role[]>([
  ['sharding', ['db', 'cs']],
  ['replicate', ['normal']],
]);
const MALFORMED_PASSWORD = 'InvalidAccountPassword.Malformed';
/** KMS keeps at most 10 versions of a secret: one page of 20 holds them all. */
const MAX_VERSION_PAGES = 5;
/** KMS's answer to a VersionId or a secret name that is taken. */
const RESOURCE_EXISTS = 'Rejected.ResourceExist';
/** How many concurrent runs' versions one run takes over before it gives up (each costs a full apply). */
const MAX_TAKEOVERS = 5;

type Runtime = ReturnType<typeof callOptions>;

/** A password in KMS under ACSPending, ready to apply. */
interface Staged {
  versionId: string;
  password: string;
  /**
   * `resumed`: staged by an earlier or a concurrent run. `restored`: ACSCurrent's password, put back on the
   * database after a concurrent run promoted its version over ours (see takeOver).
   */
  origin: 'fresh' | 'resumed' | 'restored';
}

/** The run for this target ends at the stage step, with this outcome. */
interface Settled {
  outcome: Outcome;
  versionId?: string;
  reason: string;
}

const ended = (outcome: Outcome, versionId: string | undefined, reason: string): Settled => ({ outcome, versionId, reason });

export async function rotateTarget(target: PlannedTarget, deps: ProtocolDeps): Promise<TargetResult> {
  return new TargetRotation(target, deps).run();
}

class TargetRotation {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly delays: typeof DEFAULT_DELAYS;
  private readonly started: number;
  private attempts = 1;
  private roles: Role[] = [];
  private replacedOnce = false;
  private takeovers = 0;
  /** Whether a password of this run may be on the database (a reset was sent, answered or not). */
  private resetSent = false;
  /** What this run did about concurrent runs, for its result's reason. */
  private concurrencyNote?: string;
  private freshVersionId?: string;
  private stagedVersionId?: string;
  /** The version this run last saw carrying ACSCurrent: its promote moves the label from there. */
  private currentVersionId?: string;

  constructor(
    private readonly target: PlannedTarget,
    private readonly deps: ProtocolDeps,
  ) {
    this.log = deps.logger.child({ instanceId: target.instanceId, secretName: target.secretName });
    this.now = deps.now ?? Date.now;
    this.delays = deps.delays ?? DEFAULT_DELAYS;
    this.started = this.now();
  }

  async run(): Promise<TargetResult> {
    try {
      this.roles = await this.step('inspect', () => this.inspect(), (roles) => ({ characterTypes: roles }));
      const stage = await this.step('stage', () => this.stage(), (s) =>
        'password' in s ? { versionId: s.versionId, origin: s.origin } : { versionId: s.versionId, decision: s.outcome, reason: s.reason },
      );
      if (!('password' in stage)) return this.finish(stage.outcome, stage.versionId, { reason: stage.reason });
      return await this.complete(stage);
    } catch (err) {
      const error = toServiceError(err);
      return this.finish('failed', this.stagedVersionId ?? this.target.versionId, { error: { code: error.code, message: error.message, requestId: error.requestId } });
    }
  }

  /** Apply → settle → verify → promote; a concurrent run's version taken over at promotion goes through them again. */
  private async complete(staged: Staged): Promise<TargetResult> {
    const applied = await this.step('apply', () => this.apply(staged), (s) =>
      'password' in s ? { versionId: s.versionId, origin: s.origin } : { versionId: s.versionId, decision: s.outcome, reason: s.reason },
    );
    if (!('password' in applied)) return this.finish(applied.outcome, applied.versionId, { reason: applied.reason });
    const settled = await this.step('settle', () => this.settle());
    if (this.verifying) await this.step('verify', () => this.verify(applied, settled), (proof) => proof);
    const next = await this.step('promote', () => this.promote(applied), (taken) => ({ versionId: applied.versionId, ...(taken && { takeOver: taken.versionId }) }));
    if (next) return this.complete(next);
    const outcome = applied.versionId === this.freshVersionId ? 'rotated' : 'resumed';
    return this.finish(outcome, applied.versionId, this.concurrencyNote ? { reason: this.concurrencyNote } : {});
  }

  // Steps

  /** The roles to reset; a missing, locked or unknown kind of instance fails here, before any write. */
  private async inspect(): Promise<Role[]> {
    // What planning read in this invocation serves (a lock set since then fails the reset, with nothing applied),
    // unless a login check needs the addresses a listing lacks.
    const known = this.target.inspected;
    const instance = known && (known.addresses || !this.verifying) ? known.instance : await this.describeInstance();
    if (instance.lockMode !== 'Unlock') {
      throw OperationError.of('IncorrectDBInstanceLockMode', `the instance is locked (LockMode ${shown(instance.lockMode)}); nothing was changed`);
    }
    const roles = ROLES_BY_TYPE.get(instance.DBInstanceType ?? '');
    if (roles) {
      if (this.verifying) this.loginAddress(instance); // a login check that cannot know where to log in fails before any write
      return roles;
    }
    throw OperationError.of('UnsupportedDBInstanceType', `instance type ${shown(instance.DBInstanceType)} is neither replicate nor sharding; nothing was changed`);
  }

  /** Puts the password to apply under ACSPending, or decides that this target is done (skipped, planned, resumed). */
  private async stage(): Promise<Staged | Settled> {
    let versions = await this.listVersions();
    if (!versions) {
      const created = await this.createMissingSecret();
      if (created) return created;
      versions = await this.requireVersions();
    }
    const cutOff = versions.find((v) => has(v, ACS_CURRENT) && has(v, ACS_PENDING));
    if (cutOff) {
      if (this.deps.dryRun) return ended('planned', cutOff.versionId, 'would finish a promote that was cut off (remove ACSPending)');
      await this.removePending(cutOff.versionId);
      const ours = [this.target.versionId, replacementVersionId(this.target.versionId)];
      if (ours.includes(cutOff.versionId)) return ended('resumed', cutOff.versionId, 'finished a promote that was cut off');
      cutOff.stages = cutOff.stages.filter((s) => s !== ACS_PENDING);
    }
    this.currentVersionId = versions.find((v) => has(v, ACS_CURRENT))?.versionId;
    const own = versions.find((v) => v.versionId === this.target.versionId);
    const pending = has(own, ACS_PENDING) ? own : versions.find((v) => has(v, ACS_PENDING));
    // Our version without ACSPending was promoted, unless it lost the label first: to its replacement (the database
    // rejected its password) or to a concurrent run's version. Then that pending version is resumed, as any is.
    if (own && !has(own, ACS_PENDING) && (has(own, ACS_CURRENT) || has(own, ACS_PREVIOUS) || !pending)) {
      return ended('skipped', own.versionId, 'already rotated by this trigger');
    }
    if (pending) {
      if (this.deps.dryRun) return ended('planned', pending.versionId, 'would resume the pending version');
      return this.resume(pending.versionId);
    }
    const current = versions.find((v) => has(v, ACS_CURRENT));
    const due = this.dueness(current);
    if (!due.due && !this.target.force) return ended('skipped', current?.versionId, due.reason);
    const why = due.due ? due.reason : `forced (${due.reason})`;
    if (this.deps.dryRun) return ended('planned', this.target.versionId, `would rotate: ${why}`);
    this.log.info('staging a new password', { step: 'stage', reason: why });
    return this.stageFresh(this.target.versionId);
  }

  /**
   * ResetAccountPassword for every role, the same password for all (a resumed rotation re-applies them all), once
   * the version is confirmed to still carry its label; a run that finds it gone ends here or takes over (confirm).
   */
  private async apply(toApply: Staged): Promise<Staged | Settled> {
    const staged = await this.confirm(toApply);
    if (!('password' in staged)) return staged;
    let accepted = 0;
    try {
      for (const role of this.roles) {
        await this.resetPassword(role, staged.password);
        accepted++;
      }
      return staged;
    } catch (err) {
      // Malformed means no role took the password: stage a fresh one, once, rather than loop on it.
      if (toServiceError(err).code !== MALFORMED_PASSWORD || accepted > 0 || this.replacedOnce) throw err;
      this.log.warn('the database rejected the pending password as malformed; staging a fresh one', { step: 'apply', versionId: staged.versionId });
      this.replacedOnce = true;
      return this.apply(await this.stageFresh(replacementVersionId(staged.versionId)));
    }
  }

  /** Waits until the instance is Running again, within the invocation's time; returns how it describes itself then. */
  private async settle(): Promise<$Dds.DBInstanceAttribute> {
    for (let delay = this.delays.settleFirstMs; ; delay = Math.min(delay * 2, this.delays.settleMaxMs)) {
      const instance = await this.describeInstance();
      const status = instance.DBInstanceStatus;
      if (status === RUNNING) return instance;
      if (delay >= this.deps.deadline.remainingMs()) {
        throw OperationError.of('DeadlineExceeded', `the instance is still ${shown(status)} and the invocation's time is up; the pending password stays for the next run`, true);
      }
      this.log.info('waiting for the instance to be Running', { step: 'settle', status, delayMs: delay });
      await sleep(delay);
    }
  }

  /**
   * Moves ACSCurrent to our version, only while it still carries ACSPending, then removes ACSPending. If it lost
   * ACSPending to a concurrent run meanwhile, returns the version to take over (apply, settle and promote) instead.
   */
  private async promote(staged: Staged): Promise<Staged | undefined> {
    if (staged.origin !== 'restored' && (await this.moveCurrentFrom(this.currentVersionId, staged.versionId))) return this.releasePending(staged);
    const { versionId } = staged;
    const versions = await this.requireVersions();
    const own = versions.find((v) => v.versionId === versionId);
    if (!has(own, ACS_PENDING)) {
      // Promoted by a concurrent run (or a restored ACSCurrent): done, unless a newer rotation is pending, whose
      // password ours may have overwritten if our reset landed late; that one is taken over (applied again).
      const newer = versions.some((v) => has(v, ACS_PENDING) && !has(v, ACS_CURRENT));
      if (has(own, ACS_CURRENT) && !newer) return undefined;
      return this.takeOverApplied(versions, versionId);
    }
    if (has(own, ACS_CURRENT)) {
      await this.removePending(versionId); // a promote that was cut off
      return undefined;
    }
    await this.kms('UpdateSecretVersionStage', (kms, runtime) =>
      kms.updateSecretVersionStageEx(new $Kms.UpdateSecretVersionStageRequest({ secretName: this.target.secretName, versionStage: ACS_CURRENT, moveToVersion: versionId }), runtime),
    );
    await this.removePending(versionId);
    return undefined;
  }

  /**
   * Moves ACSCurrent from the version this run saw current to ours in one call. KMS refuses a RemoveFromVersion
   * that does not carry the label, so the move happens only if no other run promoted since this one listed: the
   * check and the move are one call, with no list before or after it. False when refused (or when this run saw
   * no current version): promote then decides on a fresh list.
   */
  private async moveCurrentFrom(from: string | undefined, to: string): Promise<boolean> {
    if (from === undefined || from === to) return false;
    const request = new $Kms.UpdateSecretVersionStageRequest({ secretName: this.target.secretName, versionStage: ACS_CURRENT, removeFromVersion: from, moveToVersion: to });
    try {
      await this.kms('UpdateSecretVersionStage', (kms, runtime) => kms.updateSecretVersionStageEx(request, runtime));
    } catch (err) {
      this.log.info('ACSCurrent is not where this run saw it; deciding on a fresh list', { step: 'promote', versionId: to, error: briefError(toServiceError(err)) });
      return false;
    }
    this.currentVersionId = to;
    return true;
  }

  /**
   * Removes ACSPending from our version once it is current. If a concurrent run staged a newer version meanwhile
   * (ours lost the label to it), the database may hold that one's password: this run takes it over.
   */
  private async releasePending(staged: Staged): Promise<Staged | undefined> {
    const listed = await this.removePending(staged.versionId);
    if (!listed?.some((v) => has(v, ACS_PENDING))) return undefined;
    return this.takeOverApplied(listed, staged.versionId);
  }

  // Concurrent runs (design §3: the reserved concurrency of 1 keeps them apart; this covers what slips through)

  /**
   * Right before the database is touched, the version must still carry its label (ACSPending; ACSCurrent for a
   * restore). A concurrent run that listed the versions before this one staged puts its own under ACSPending, taking
   * the label from ours: applying ours then would leave the database on a password no label points to. This run
   * takes that version over instead (it applies the same password as its owner), or ends if the secret was rotated.
   */
  private async confirm(staged: Staged): Promise<Staged | Settled> {
    const versions = await this.requireVersions();
    const own = versions.find((v) => v.versionId === staged.versionId);
    if (staged.origin !== 'restored' && has(own, ACS_PENDING)) return staged;
    // ACSCurrent goes back on the database only while no newer rotation is pending: that one is taken over instead.
    const newer = versions.some((v) => has(v, ACS_PENDING) && !has(v, ACS_CURRENT));
    if (has(own, ACS_CURRENT) && !newer) {
      if (staged.origin === 'restored') return staged;
      // Its owner promoted it meanwhile. With nothing of this run on the database, that is the end of it; else a
      // password of ours may have reached the database after the owner's did.
      return this.resetSent ? { ...staged, origin: 'restored' } : ended('skipped', staged.versionId, 'a concurrent run completed this rotation');
    }
    const next = await this.takeOver(versions, staged.versionId);
    return 'password' in next ? this.confirm(next) : next;
  }

  /**
   * Our version lost its label to a concurrent run's (that run listed the versions before we staged). Carry on
   * with the version a label now points to: the pending one, or, once its run has promoted it, ACSCurrent, whose
   * password is put back on the database in case ours reached it last.
   */
  private async takeOver(versions: SecretVersion[], lost: string): Promise<Staged | Settled> {
    this.countTakeover(lost);
    const pending = versions.find((v) => has(v, ACS_PENDING) && !has(v, ACS_CURRENT));
    const current = versions.find((v) => has(v, ACS_CURRENT))!; // checkedLabels: there is one
    // With nothing of this run on the database, a secret another run rotated needs nothing more from this one.
    if (!pending && !this.resetSent) return ended('skipped', current.versionId, 'a concurrent run rotated the secret meanwhile');
    const taken = pending ?? current;
    this.concurrencyNote = 'took over the version of a concurrent run';
    this.log.warn('a concurrent run staged another version; taking it over', { versionId: taken.versionId, lost, stage: pending ? ACS_PENDING : ACS_CURRENT });
    if (pending) {
      const resumed = await this.resume(pending.versionId);
      return 'password' in resumed ? resumed : this.takeOver(await this.requireVersions(), lost);
    }
    return { versionId: current.versionId, password: await this.readPassword(current.versionId), origin: 'restored' };
  }

  /** takeOver once this run's password has been applied: there is always a version to carry on with. */
  private async takeOverApplied(versions: SecretVersion[], lost: string): Promise<Staged | undefined> {
    const next = await this.takeOver(versions, lost);
    return 'password' in next ? next : undefined;
  }

  private countTakeover(versionId: string): void {
    if (++this.takeovers > MAX_TAKEOVERS) {
      throw OperationError.of('PromoteGuard', `concurrent runs keep changing the labels of this secret (version ${versionId}); giving up after ${MAX_TAKEOVERS} takeovers`);
    }
  }

  /** The password a version holds (checked as a pending one is), kept out of the logs. */
  private async readPassword(versionId: string): Promise<string> {
    const read = readPendingPassword((await this.readVersion(versionId)).secretData, this.target.instanceId);
    if (read.password !== undefined) this.log.keepSecret(read.password);
    if (read.problem !== undefined) throw OperationError.of('PromoteGuard', `version ${versionId} cannot be put back on the database: ${read.problem}`);
    return read.password;
  }

  // Verify helpers

  /** Whether this target proves its new password by logging in with it; never in a dry run. */
  private get verifying(): boolean {
    return !this.deps.dryRun && (this.target.verify ?? this.deps.verifyLogin?.enabled ?? false);
  }

  /**
   * Logs in with the new password before it is promoted. A refused login re-applies the reset once (the
   * login path may not have taken it yet) and tries again; a login that still fails keeps ACSPending.
   */
  private async verify(staged: Staged, settled: $Dds.DBInstanceAttribute): Promise<LogFields> {
    let address = this.loginAddress(settled);
    let login = await this.login(address, staged.password);
    let reapplied = false;
    if (!login.ok && login.reason === 'auth-failed') {
      this.log.warn('the new password was refused; re-applying it once', { step: 'verify', at: showAddress(address), versionId: staged.versionId });
      const again = await this.apply(staged); // confirms the label first, as every write to the database does
      if (!('password' in again) || again.versionId !== staged.versionId) {
        throw OperationError.of('PromoteGuard', `version ${staged.versionId} lost its label to a concurrent run during the login check; not promoting it`);
      }
      address = this.loginAddress(await this.settle());
      login = await this.login(address, staged.password);
      reapplied = true;
    }
    if (login.ok) return { at: showAddress(address), reapplied, loginMs: login.durationMs };
    const old: OldPasswordStatus =
      login.reason === 'auth-failed' ? await this.oldPasswordStatus(address) : { status: 'unknown', why: 'the login check did not get as far as authentication' };
    this.log.warn('the new password did not log in; not promoting', { step: 'verify', at: showAddress(address), reason: login.reason, previousLogin: old.status });
    throw OperationError.of(VERIFY_LOGIN_FAILED, verifyFailureMessage({ at: showAddress(address), versionId: staged.versionId, reapplied, failure: login, old }));
  }

  /** The target's connectionHost, else the primary or a mongos the instance describes. */
  private loginAddress(instance: $Dds.DBInstanceAttribute): MongoAddress {
    try {
      return verifyAddress(instance, this.target.connectionHost);
    } catch (err) {
      if (!(err instanceof VerifyAddressError)) throw err;
      throw OperationError.of(VERIFY_LOGIN_FAILED, `cannot tell where to log in to verify the new password: ${err.message}; set "connectionHost" for this target`);
    }
  }

  private login(address: MongoAddress, password: string): Promise<LoginResult> {
    const settings = this.deps.verifyLogin ?? VERIFY_LOGIN_DEFAULTS;
    this.deps.deadline.ensure('log in with the new password');
    const timeoutMs = Math.min(settings.timeoutMs, this.deps.deadline.remainingMs());
    return verifyLogin({ ...address, username: this.target.accountName, password, timeoutMs, tls: settings.tls });
  }

  /** Read only when the new password is refused: whether ACSCurrent's password still logs in, i.e. who is locked out. */
  private async oldPasswordStatus(address: MongoAddress): Promise<OldPasswordStatus> {
    let data: string | undefined;
    try {
      const request = new $Kms.GetSecretValueRequest({ secretName: this.target.secretName, versionStage: ACS_CURRENT });
      data = (await this.kms('GetSecretValue', (kms, runtime) => kms.getSecretValueEx(request, runtime))).secretData;
    } catch (err) {
      return { status: 'unknown', why: `ACSCurrent could not be read (${toServiceError(err).code})` };
    }
    const password = accountPasswordOf(data);
    if (password === undefined) return { status: 'unknown', why: 'ACSCurrent holds no password' };
    this.log.keepSecret(password);
    const login = await this.login(address, password);
    if (login.ok) return { status: 'works' };
    if (login.reason === 'auth-failed') return { status: 'refused' };
    return { status: 'unknown', why: `its own login check failed (${login.reason})` };
  }

  // Stage helpers

  /** Generates a password and stages it; the same VersionId already staged (a race, a lost answer) is resumed. */
  private async stageFresh(versionId: string): Promise<Staged> {
    const password = generatePassword(this.deps.passwordLength);
    this.log.keepSecret(password);
    const request = new $Kms.PutSecretValueRequest({
      secretName: this.target.secretName,
      versionId,
      secretData: this.secretData(password),
      secretDataType: 'text',
      versionStages: JSON.stringify([ACS_PENDING]),
    });
    try {
      await this.kms('PutSecretValue', (kms, runtime) => kms.putSecretValueEx(request, runtime));
    } catch (err) {
      if (toServiceError(err).code !== RESOURCE_EXISTS) throw err;
      return this.resumeOrFail(versionId);
    }
    this.stagedVersionId = versionId;
    this.freshVersionId = versionId;
    return { versionId, password, origin: 'fresh' };
  }

  private async resumeOrFail(versionId: string): Promise<Staged> {
    const staged = await this.resume(versionId);
    if ('password' in staged) return staged;
    throw OperationError.of('PromoteGuard', `version ${versionId} exists but is not pending (${staged.reason})`);
  }

  /** Reads a pending version; one whose password cannot be used is replaced by a fresh password, once. */
  private async resume(versionId: string): Promise<Staged | Settled> {
    const value = await this.readVersion(versionId);
    const stages = value.stages;
    if (!stages.includes(ACS_PENDING)) {
      if (stages.includes(ACS_CURRENT)) return ended('skipped', versionId, 'already rotated by this trigger');
      // A concurrent run staged another version while this one was read: go on with that one, if still pending.
      const versions = await this.requireVersions();
      if (!versions.some((v) => has(v, ACS_PENDING))) return ended('skipped', versions.find((v) => has(v, ACS_CURRENT))?.versionId, 'a concurrent run rotated the secret meanwhile');
      return this.takeOver(versions, versionId);
    }
    this.stagedVersionId = versionId;
    let pending = readPendingPassword(value.secretData, this.target.instanceId);
    if (pending.password !== undefined) this.log.keepSecret(pending.password);
    if (pending.problem !== undefined) {
      // Its password may be on the database already: it is given up only if a second read says the same.
      pending = readPendingPassword((await this.readVersion(versionId)).secretData, this.target.instanceId);
      if (pending.password !== undefined) this.log.keepSecret(pending.password);
    }
    if (pending.problem !== undefined) {
      if (this.replacedOnce) throw OperationError.of(MALFORMED_PASSWORD, `the replacement pending version ${versionId} is unusable too: ${pending.problem}`);
      this.replacedOnce = true;
      this.log.warn('the pending password cannot be used; staging a fresh one', { step: 'stage', versionId, problem: pending.problem });
      return this.stageFresh(replacementVersionId(versionId));
    }
    this.log.info('resuming the pending version', { step: 'stage', versionId });
    return { versionId, password: pending.password, origin: 'resumed' };
  }

  /** GetSecretValue of one version: its stages (an answer without a list of them is refused) and its data. */
  private async readVersion(versionId: string): Promise<{ stages: string[]; secretData?: string }> {
    const value = await this.kms('GetSecretValue', (kms, runtime) =>
      kms.getSecretValueEx(new $Kms.GetSecretValueRequest({ secretName: this.target.secretName, versionId }), runtime),
    );
    const stages: unknown = value.versionStages?.versionStage ?? [];
    if (!Array.isArray(stages) || stages.some((stage) => typeof stage !== 'string')) {
      throw OperationError.of(INVALID_RESPONSE, `GetSecretValue answered something KMS does not: the stages of version ${versionId} are not a list of names`);
    }
    const data: unknown = value.secretData;
    return { stages: stages as string[], secretData: typeof data === 'string' ? data : undefined };
  }

  /** A target without a secret fails, or gets one (CREATE_MISSING_SECRETS) whose first version holds no password. */
  private async createMissingSecret(): Promise<Settled | undefined> {
    if (!this.deps.createMissingSecrets) {
      throw OperationError.of(SECRET_NOT_FOUND, `the secret ${JSON.stringify(this.target.secretName)} does not exist; create it, or set CREATE_MISSING_SECRETS=true`);
    }
    if (this.deps.dryRun) return ended('planned', this.target.versionId, 'would create the secret, then rotate');
    const data = JSON.stringify({ AccountName: ROOT_ACCOUNT, DBInstanceId: this.target.instanceId, CharacterTypes: this.roles });
    const request = new $Kms.CreateSecretRequest({
      secretName: this.target.secretName,
      versionId: initialVersionId(this.target.versionId),
      secretData: data,
      secretDataType: 'text',
      description: `root password of ApsaraDB for MongoDB instance ${this.target.instanceId}, kept by the rotation function`,
    });
    try {
      await this.kms('CreateSecret', (kms, runtime) => kms.createSecretEx(request, runtime));
      this.log.info('created the missing secret', { step: 'stage' });
    } catch (err) {
      if (toServiceError(err).code !== RESOURCE_EXISTS) throw err; // created meanwhile by another run
    }
    return undefined;
  }

  private dueness(current: SecretVersion | undefined): { due: boolean; reason: string } {
    const interval = this.deps.rotationIntervalDays;
    if (!current) return { due: true, reason: 'the secret has no ACSCurrent version' };
    if (isInitialVersion(current.versionId)) return { due: true, reason: 'the secret holds no password yet' };
    const created = Date.parse(current.createTime);
    if (Number.isNaN(created)) return { due: true, reason: 'the ACSCurrent version has no readable CreateTime' };
    const age = this.now() - created;
    const ageDays = Math.floor(age / DAY_MS);
    if (age >= interval * DAY_MS) return { due: true, reason: `ACSCurrent is ${ageDays} days old; the interval is ${interval} days` };
    return { due: false, reason: `not due: ACSCurrent is ${ageDays} days old; the interval is ${interval} days` };
  }

  private secretData(password: string): string {
    return JSON.stringify({ AccountName: ROOT_ACCOUNT, AccountPassword: password, DBInstanceId: this.target.instanceId, CharacterTypes: this.roles });
  }

  // KMS and DDS calls

  /** Every version, labelled or not; undefined when the secret does not exist. */
  private async listVersions(): Promise<SecretVersion[] | undefined> {
    const versions: SecretVersion[] = [];
    for (let pageNumber = 1; ; pageNumber++) {
      let page: $Kms.ListSecretVersionIdsResponse;
      try {
        page = await this.kms('ListSecretVersionIds', (kms, runtime) =>
          kms.listSecretVersionIdsEx(new $Kms.ListSecretVersionIdsRequest({ secretName: this.target.secretName, includeDeprecated: 'true', pageNumber, pageSize: 20 }), runtime),
        );
      } catch (err) {
        if (toServiceError(err).code === SECRET_NOT_FOUND) return undefined;
        throw err;
      }
      const items = versionsOf(page);
      versions.push(...items);
      if (items.length === 0 || versions.length >= (page.totalCount ?? 0)) return checkedLabels(versions);
      if (pageNumber >= MAX_VERSION_PAGES) throw unreadableVersions(`more than ${MAX_VERSION_PAGES} pages of versions`);
    }
  }

  private async requireVersions(): Promise<SecretVersion[]> {
    const versions = await this.listVersions();
    if (!versions) throw OperationError.of(SECRET_NOT_FOUND, `the secret ${JSON.stringify(this.target.secretName)} disappeared during the rotation`);
    return versions;
  }

  /**
   * Removes ACSPending from a version; a retried call whose first try took effect counts as done. Returns the
   * versions it had to list to tell (when the call failed).
   */
  private async removePending(versionId: string): Promise<SecretVersion[] | undefined> {
    const request = new $Kms.UpdateSecretVersionStageRequest({ secretName: this.target.secretName, versionStage: ACS_PENDING, removeFromVersion: versionId });
    try {
      await this.kms('UpdateSecretVersionStage', (kms, runtime) => kms.updateSecretVersionStageEx(request, runtime));
      return undefined;
    } catch (err) {
      const versions = await this.listVersions();
      const version = versions?.find((v) => v.versionId === versionId);
      if (version && !has(version, ACS_PENDING)) return versions;
      throw err;
    }
  }

  private async describeInstance(): Promise<$Dds.DBInstanceAttribute> {
    const request = new $Dds.DescribeDBInstanceAttributeRequest({ DBInstanceId: this.target.instanceId });
    const response = await this.call('DescribeDBInstanceAttribute', (runtime) => this.deps.clients.dds.describeDBInstanceAttributeWithOptions(request, runtime));
    const instances: unknown = response.body?.DBInstances?.DBInstance;
    const instance = Array.isArray(instances) ? (instances[0] as $Dds.DBInstanceAttribute | undefined) : undefined;
    if (!instance) throw OperationError.of('InvalidDBInstanceId.NotFound', `DescribeDBInstanceAttribute returned no instance ${this.target.instanceId}`);
    if (instance.DBInstanceId !== this.target.instanceId) {
      throw OperationError.of(INVALID_RESPONSE, `DescribeDBInstanceAttribute answered for instance ${shown(instance.DBInstanceId)}, not ${this.target.instanceId}`);
    }
    return instance;
  }

  private async resetPassword(role: Role, password: string): Promise<void> {
    const request = new $Dds.ResetAccountPasswordRequest({ DBInstanceId: this.target.instanceId, accountName: this.target.accountName, accountPassword: password });
    // A replica set takes CharacterType empty or `normal`: it is left out.
    if (role !== 'normal') request.characterType = role;
    this.resetSent = true;
    await this.call('ResetAccountPassword', (runtime) => this.deps.clients.dds.resetAccountPasswordWithOptions(request, runtime));
    this.log.info('reset the root password', { step: 'apply', characterType: role });
  }

  private kms<T>(action: string, send: (kms: Clients['kms'], runtime: Runtime) => Promise<T>): Promise<T> {
    return this.call(action, (runtime) => send(this.deps.clients.kms, runtime));
  }

  private call<T>(action: string, send: (runtime: Runtime) => Promise<T>): Promise<T> {
    return withRetry(() => send(callOptions(this.deps.deadline)), {
      deadline: this.deps.deadline,
      baseDelayMs: this.delays.retryBaseMs,
      maxDelayMs: this.delays.retryMaxMs,
      onRetry: (error, retry, delayMs) => {
        this.attempts++;
        this.log.warn(`retrying ${action}`, { action, retry, delayMs, error: briefError(error) });
      },
    });
  }

  // Logging

  private async step<T>(step: Step, work: () => Promise<T>, details?: (result: T) => LogFields): Promise<T> {
    const started = this.now();
    try {
      const result = await work();
      this.log.info(`${step} done`, { step, outcome: 'ok', durationMs: this.now() - started, ...details?.(result) });
      return result;
    } catch (err) {
      this.log.error(`${step} failed`, { step, outcome: 'failed', durationMs: this.now() - started, error: briefError(toServiceError(err)) });
      throw err;
    }
  }

  private finish(outcome: Outcome, versionId: string | undefined, extra: Pick<TargetResult, 'reason' | 'error'> = {}): TargetResult {
    const result: TargetResult = {
      instanceId: this.target.instanceId,
      secretName: this.target.secretName,
      outcome,
      characterTypes: this.roles,
      attempts: this.attempts,
      durationMs: this.now() - this.started,
      ...extra,
    };
    if (versionId !== undefined) result.versionId = versionId;
    const fields = { outcome, versionId, characterTypes: result.characterTypes, attempts: result.attempts, durationMs: result.durationMs, ...extra };
    if (outcome === 'failed') this.log.error(`target ${outcome}`, fields);
    else this.log.info(`target ${outcome}`, fields);
    return result;
  }
}

function briefError(error: ServiceError): LogFields {
  return { code: error.code, message: error.message, requestId: error.requestId };
}
