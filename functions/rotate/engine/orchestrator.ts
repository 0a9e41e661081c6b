/**
 * The rotation of one target, as five steps each safe to re-run (after AWS's rotation templates):
 * inspect → stage (the write-ahead record: the new password in the store under ACSPending before the
 * database is touched) → apply → settle (and verify) → promote. A run that dies anywhere is completed by
 * the next one, which finds the pending version and applies the same password.
 *
 * The orchestrator reads, asks decide.ts what to do, and acts through the SecretStore and the
 * AccountApplier. Runs of the same target are kept apart by the function's reserved concurrency of 1;
 * for those that race all the same, a run applies a password only while its version still carries its
 * label, carries on with the version that does when its own lost it (take-over), and moves ACSCurrent
 * only from where it saw it (a guarded promote), so that racing runs end consistent.
 */
import { OperationError, toServiceError } from '../../shared/clients/errors';
import { OWN_CODES, SERVICE_CODES } from '../../shared/codes';
import { briefError } from '../../shared/call';
import type { LogFields, Logger } from '../../shared/logger';
import { generatePassword } from '../../shared/password';
import { type OldPasswordStatus, verifyFailureMessage } from '../../shared/verify/failure';
import { type PlannedTarget, replacementVersionId } from '../plan';
import type { Outcome, Step, TargetResult } from '../report';
import type { AccountApplier, Credential, ReadCredential, Role } from './applier';
import {
  type Ended,
  type Origin,
  decideConfirm,
  decideLostAtStage,
  decidePromote,
  decideResume,
  decideStage,
  decideTakeOver,
  initialVersionId,
} from './decide';
import type { SecretStore } from './secret-store';
import { ACS_CURRENT, ACS_PENDING, type SecretVersion, find, has, labelled, withoutStage } from './versions';

/** A password in the store under ACSPending (ACSCurrent for a restore), ready to apply. */
interface Staged {
  kind: 'staged';
  versionId: string;
  credential: Credential;
  origin: Origin;
}

type Next = Staged | (Ended & { kind: 'ended' });

export interface EngineSettings {
  passwordLength: number;
  rotationIntervalDays: number;
  createMissingSecrets: boolean;
  dryRun: boolean;
  now: () => number;
  /** How many of this target's calls were retried so far (its result's `attempts` is one more). */
  retries: () => number;
}

/** How many concurrent runs' versions one run takes over before it gives up (each costs a full apply). */
const MAX_TAKEOVERS = 5;

const ended = (outcome: Ended['outcome'], versionId: string | undefined, reason?: string): Next => ({ kind: 'ended', outcome, versionId, reason });
const staged = (versionId: string, credential: Credential, origin: Origin): Staged => ({ kind: 'staged', versionId, credential, origin });

/** What a step's log line says of where the rotation goes next. */
const nextFields = (next: Next): LogFields =>
  next.kind === 'staged' ? { versionId: next.versionId, origin: next.origin } : { versionId: next.versionId, decision: next.outcome, reason: next.reason };

export class Rotation {
  private readonly started: number;
  private roles: Role[] = [];
  /** Version ids: staged fresh by this run, last staged or resumed, last seen carrying ACSCurrent. */
  private readonly trail: { fresh?: string; staged?: string; current?: string } = {};
  /** What this run has spent of its one replacement and its take-overs. */
  private readonly spent = { replaced: false, takeovers: 0 };
  /** What this run did about concurrent runs, for its result's reason. */
  private concurrencyNote?: string;

  constructor(
    private readonly target: PlannedTarget,
    private readonly store: SecretStore,
    private readonly applier: AccountApplier,
    private readonly settings: EngineSettings,
    private readonly log: Logger,
  ) {
    this.started = settings.now();
  }

  async run(): Promise<TargetResult> {
    try {
      this.roles = await this.step('inspect', () => this.applier.inspect(), (roles) => ({ characterTypes: roles }));
      let next = await this.step('stage', () => this.stage(), nextFields);
      while (next.kind === 'staged') {
        const toApply = next;
        const applied = await this.step('apply', () => this.apply(toApply), nextFields);
        if (applied.kind === 'ended') return this.finish(applied.outcome, applied.versionId, { reason: applied.reason });
        await this.step('settle', () => this.applier.settle());
        if (this.applier.verifies) await this.step('verify', () => this.verify(applied), (proof) => proof);
        next = await this.step('promote', () => this.promote(applied), (after) => ({ versionId: applied.versionId, ...(after.kind === 'staged' && { takeOver: after.versionId }) }));
      }
      return this.finish(next.outcome, next.versionId, next.reason === undefined ? {} : { reason: next.reason });
    } catch (err) {
      const { code, message, requestId } = toServiceError(err);
      return this.finish('failed', this.trail.staged ?? this.target.versionId, { error: { code, message, requestId } });
    }
  }

  // Steps

  /** Puts the password to apply under ACSPending, or decides that this target is done (skipped, planned, resumed). */
  private async stage(): Promise<Next> {
    let versions = (await this.store.versions()) ?? (await this.createMissingSecret());
    if (!Array.isArray(versions)) return versions;
    this.trail.current = labelled(versions, ACS_CURRENT)?.versionId;
    for (;;) {
      const decision = decideStage(versions, this.stageContext());
      switch (decision.action) {
        case 'finish-cutoff':
          await this.removePending(decision.versionId);
          if (decision.ours) return ended('resumed', decision.versionId, 'finished a promote that was cut off');
          versions = withoutStage(versions, decision.versionId, ACS_PENDING);
          continue;
        case 'skip':
          return ended('skipped', decision.versionId, decision.reason);
        case 'plan':
          return ended('planned', decision.versionId, decision.reason);
        case 'resume':
          return this.resume(decision.versionId);
        case 'fresh':
          this.log.info('staging a new password', { step: 'stage', reason: decision.reason });
          return this.stageFresh(decision.versionId);
      }
    }
  }

  /** Applies the password once its version is confirmed to still carry its label; a malformed one is replaced, once. */
  private async apply(toApply: Staged): Promise<Next> {
    for (let candidate = toApply; ; ) {
      const confirmed = await this.confirm(candidate);
      if (confirmed.kind === 'ended') return confirmed;
      const result = await this.applier.apply(confirmed.credential);
      if (result.applied) return confirmed;
      if (this.spent.replaced) throw result.rejected;
      this.log.warn('the database rejected the pending password as malformed; staging a fresh one', { step: 'apply', versionId: confirmed.versionId });
      this.spent.replaced = true;
      candidate = await this.stageFresh(replacementVersionId(confirmed.versionId));
    }
  }

  /**
   * Moves ACSCurrent to our version, only from where this run saw it, then removes ACSPending. If our version
   * lost ACSPending to a concurrent run meanwhile, returns the version to take over (apply, settle, promote).
   */
  private async promote(applied: Staged): Promise<Next> {
    const { versionId } = applied;
    if (applied.origin !== 'restored' && (await this.moveCurrentFrom(this.trail.current, versionId))) {
      const listed = await this.removePending(versionId);
      // A concurrent run staged a newer version meanwhile: the database may hold its password.
      return listed?.some((v) => has(v, ACS_PENDING)) ? this.takeOverApplied(listed, applied) : this.promoted(applied);
    }
    const versions = await this.requireVersions();
    switch (decidePromote(versions, versionId).action) {
      case 'done':
        return this.promoted(applied);
      case 'take-over':
        return this.takeOverApplied(versions, applied);
      case 'finish-cutoff':
        await this.removePending(versionId);
        return this.promoted(applied);
      case 'move':
        await this.store.moveCurrent(versionId);
        await this.removePending(versionId);
        return this.promoted(applied);
    }
  }

  /**
   * Logs in with the new password before it is promoted. A refused login re-applies it once (the login path
   * may not have taken it yet) and tries again; a login that still fails keeps ACSPending.
   */
  private async verify(applied: Staged): Promise<LogFields> {
    let login = await this.applier.login(applied.credential);
    let reapplied = false;
    if (!login.ok && login.reason === 'auth-failed') {
      this.log.warn('the new password was refused; re-applying it once', { step: 'verify', at: this.applier.loginAt(), versionId: applied.versionId });
      const again = await this.apply(applied); // confirms the label first, as every write to the database does
      if (again.kind !== 'staged' || again.versionId !== applied.versionId) {
        throw OperationError.of(OWN_CODES.promoteGuard, `version ${applied.versionId} lost its label to a concurrent run during the login check; not promoting it`);
      }
      await this.applier.settle();
      login = await this.applier.login(applied.credential);
      reapplied = true;
    }
    const at = this.applier.loginAt();
    if (login.ok) return { at, reapplied, loginMs: login.durationMs };
    const old: OldPasswordStatus = login.reason === 'auth-failed' ? await this.oldPasswordStatus() : { status: 'unknown', why: 'the login check did not get as far as authentication' };
    this.log.warn('the new password did not log in; not promoting', { step: 'verify', at, reason: login.reason, previousLogin: old.status });
    throw OperationError.of(OWN_CODES.verifyLoginFailed, verifyFailureMessage({ at, versionId: applied.versionId, reapplied, failure: login, old }));
  }

  // Staging

  /** Generates a password and stages it; the same VersionId already staged (a race, a lost answer) is resumed. */
  private async stageFresh(versionId: string): Promise<Staged> {
    const credential = this.applier.newCredential(generatePassword(this.settings.passwordLength));
    this.log.keepSecret(credential.password);
    if ((await this.store.stagePending(versionId, this.applier.secretValue(credential))) === 'exists') {
      const resumed = await this.resume(versionId);
      if (resumed.kind === 'staged') return resumed;
      throw OperationError.of(OWN_CODES.promoteGuard, `version ${versionId} exists but is not pending (${resumed.reason})`);
    }
    this.trail.staged = this.trail.fresh = versionId;
    return staged(versionId, credential, 'fresh');
  }

  /** Reads a pending version; one whose password cannot be used is replaced by a fresh password, once. */
  private async resume(versionId: string): Promise<Next> {
    const read = await this.store.read(versionId);
    const decision = decideResume(read.stages);
    if (decision.action === 'skip') return ended('skipped', versionId, decision.reason);
    if (decision.action === 'lost') {
      const versions = await this.requireVersions();
      const lost = decideLostAtStage(versions);
      return lost.action === 'skip' ? ended('skipped', lost.versionId, lost.reason) : this.takeOver(versions, versionId);
    }
    this.trail.staged = versionId;
    // Its password may be on the database already: it is given up only if a second read says the same.
    let value = this.readCredential(read.secretData);
    if (value.problem !== undefined) value = this.readCredential((await this.store.read(versionId)).secretData);
    if (value.problem === undefined) {
      this.log.info('resuming the pending version', { step: 'stage', versionId });
      return staged(versionId, value.credential, 'resumed');
    }
    if (this.spent.replaced) throw OperationError.of(SERVICE_CODES.malformedPassword, `the replacement pending version ${versionId} is unusable too: ${value.problem}`);
    this.spent.replaced = true;
    this.log.warn('the pending password cannot be used; staging a fresh one', { step: 'stage', versionId, problem: value.problem });
    return this.stageFresh(replacementVersionId(versionId));
  }

  /** A target without a secret fails, or gets one (CREATE_MISSING_SECRETS) whose first version holds no password. */
  private async createMissingSecret(): Promise<SecretVersion[] | Next> {
    const { secretName } = this.target;
    if (!this.settings.createMissingSecrets) {
      throw OperationError.of(SERVICE_CODES.secretNotFound, `the secret ${JSON.stringify(secretName)} does not exist; create it, or set CREATE_MISSING_SECRETS=true`);
    }
    if (this.settings.dryRun) return ended('planned', this.target.versionId, 'would create the secret, then rotate');
    const created = await this.store.create(initialVersionId(this.target.versionId), this.applier.secretValue(), this.applier.secretDescription);
    if (created === 'created') this.log.info('created the missing secret', { step: 'stage' });
    return this.requireVersions();
  }

  // Concurrent runs

  /** Right before the database is touched, the version must still carry its label; else take over or end. */
  private async confirm(toConfirm: Staged): Promise<Next> {
    for (let next: Staged = toConfirm; ; ) {
      const versions = await this.requireVersions();
      const decision = decideConfirm(versions, next, this.applier.touched);
      if (decision.action === 'apply') return next;
      if (decision.action === 'restore') return { ...next, origin: 'restored' };
      if (decision.action === 'skip') return ended('skipped', next.versionId, decision.reason);
      const taken = await this.takeOver(versions, next.versionId);
      if (taken.kind === 'ended') return taken;
      next = taken;
    }
  }

  /**
   * Our version lost its label to a concurrent run's. Carry on with the version a label now points to: the
   * pending one, or, once its run has promoted it, ACSCurrent, whose password goes back on the database.
   */
  private async takeOver(listed: SecretVersion[], lost: string): Promise<Next> {
    for (let versions = listed; ; versions = await this.requireVersions()) {
      if (++this.spent.takeovers > MAX_TAKEOVERS) {
        throw OperationError.of(OWN_CODES.promoteGuard, `concurrent runs keep changing the labels of this secret (version ${lost}); giving up after ${MAX_TAKEOVERS} takeovers`);
      }
      const decision = decideTakeOver(versions, this.applier.touched);
      if (decision.action === 'skip') return ended('skipped', decision.versionId, decision.reason);
      this.concurrencyNote = 'took over the version of a concurrent run';
      const stage = decision.action === 'resume' ? ACS_PENDING : ACS_CURRENT;
      this.log.warn('a concurrent run staged another version; taking it over', { versionId: decision.versionId, lost, stage });
      if (decision.action === 'restore') return staged(decision.versionId, await this.restorable(decision.versionId), 'restored');
      const resumed = await this.resume(decision.versionId);
      if (resumed.kind === 'staged') return resumed;
    }
  }

  /** takeOver once this run's password has been applied: there is always a version to carry on with. */
  private async takeOverApplied(versions: SecretVersion[], applied: Staged): Promise<Next> {
    const next = await this.takeOver(versions, applied.versionId);
    return next.kind === 'staged' ? next : this.promoted(applied);
  }

  // Labels

  /**
   * Moves ACSCurrent from the version this run saw current to ours in one call: KMS refuses a RemoveFromVersion
   * that does not carry the label, so the move happens only if no other run promoted since. False when refused
   * (or when this run saw no other current version): promote then decides on a fresh list.
   */
  private async moveCurrentFrom(from: string | undefined, to: string): Promise<boolean> {
    if (from === undefined || from === to) return false;
    try {
      await this.store.moveCurrent(to, from);
    } catch (err) {
      this.log.info('ACSCurrent is not where this run saw it; deciding on a fresh list', { step: 'promote', versionId: to, error: briefError(toServiceError(err)) });
      return false;
    }
    this.trail.current = to;
    return true;
  }

  /** Removes ACSPending; a retried call whose first try took effect counts as done. Returns what it listed to tell. */
  private async removePending(versionId: string): Promise<SecretVersion[] | undefined> {
    try {
      await this.store.removePending(versionId);
      return undefined;
    } catch (err) {
      const versions = await this.store.versions();
      const version = versions && find(versions, versionId);
      if (version && !has(version, ACS_PENDING)) return versions;
      throw err;
    }
  }

  private async requireVersions(): Promise<SecretVersion[]> {
    const versions = await this.store.versions();
    if (!versions) throw OperationError.of(SERVICE_CODES.secretNotFound, `the secret ${JSON.stringify(this.target.secretName)} disappeared during the rotation`);
    return versions;
  }

  // Passwords

  /** A stored value's credential, its password kept out of the logs. */
  private readCredential(secretData: string | undefined): ReadCredential {
    const read = this.applier.credentialOf(secretData);
    if (read.credential) this.log.keepSecret(read.credential.password);
    return read;
  }

  /** The credential a version holds, checked as a pending one is, to put back on the database. */
  private async restorable(versionId: string): Promise<Credential> {
    const read = this.readCredential((await this.store.read(versionId)).secretData);
    if (read.problem !== undefined) throw OperationError.of(OWN_CODES.promoteGuard, `version ${versionId} cannot be put back on the database: ${read.problem}`);
    return read.credential;
  }

  /** Read only when the new password is refused: whether ACSCurrent's password still logs in, i.e. who is locked out. */
  private async oldPasswordStatus(): Promise<OldPasswordStatus> {
    let data: string | undefined;
    try {
      data = await this.store.readStage(ACS_CURRENT);
    } catch (err) {
      return { status: 'unknown', why: `ACSCurrent could not be read (${toServiceError(err).code})` };
    }
    const { credential } = this.readCredential(data);
    if (!credential || credential.password === '') return { status: 'unknown', why: 'ACSCurrent holds no password' };
    const login = await this.applier.login(credential);
    if (login.ok) return { status: 'works' };
    if (login.reason === 'auth-failed') return { status: 'refused' };
    return { status: 'unknown', why: `its own login check failed (${login.reason})` };
  }

  // Results and logging

  private stageContext() {
    const { force, versionId } = this.target;
    const { dryRun, rotationIntervalDays, now } = this.settings;
    return { ownVersionId: versionId, replacementVersionId: replacementVersionId(versionId), force, dryRun, now: now(), rotationIntervalDays };
  }

  /** The end of a rotation whose version is now ACSCurrent: rotated if this run staged it, else resumed. */
  private promoted(applied: Staged): Next {
    return ended(applied.versionId === this.trail.fresh ? 'rotated' : 'resumed', applied.versionId, this.concurrencyNote);
  }

  private async step<T>(step: Step, work: () => Promise<T>, details?: (result: T) => LogFields): Promise<T> {
    const started = this.settings.now();
    try {
      const result = await work();
      this.log.info(`${step} done`, { step, outcome: 'ok', durationMs: this.settings.now() - started, ...details?.(result) });
      return result;
    } catch (err) {
      this.log.error(`${step} failed`, { step, outcome: 'failed', durationMs: this.settings.now() - started, error: briefError(toServiceError(err)) });
      throw err;
    }
  }

  private finish(outcome: Outcome, versionId: string | undefined, extra: Pick<TargetResult, 'reason' | 'error'> = {}): TargetResult {
    const { instanceId, secretName } = this.target;
    const durationMs = this.settings.now() - this.started;
    const attempts = 1 + this.settings.retries();
    const result: TargetResult = { instanceId, secretName, outcome, characterTypes: this.roles, attempts, durationMs, ...extra };
    if (versionId !== undefined) result.versionId = versionId;
    const fields = { outcome, versionId, characterTypes: this.roles, attempts, durationMs, ...extra };
    if (outcome === 'failed') this.log.error(`target ${outcome}`, fields);
    else this.log.info(`target ${outcome}`, fields);
    return result;
  }
}
