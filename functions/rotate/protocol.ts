/**
 * The rotation of one target (an instance and its KMS generic secret), design §3: inspect → stage → apply →
 * settle → promote. Like the AWS Secrets Manager rotation templates (createSecret, setSecret, testSecret,
 * finishSecret), every step is idempotent, so a run that dies anywhere is completed by the next one:
 * the password is in KMS (ACSPending) before the database is touched, and ACSCurrent moves to it only after
 * every role holds it.
 */
import { type Clients, callOptions } from '../shared/clients';
import * as $Dds from '../shared/clients/dds';
import { OperationError, type ServiceError, toServiceError } from '../shared/clients/errors';
import { $Kms, ACS_CURRENT, ACS_PENDING, SECRET_NOT_FOUND } from '../shared/clients/kms';
import { ROOT_ACCOUNT } from '../shared/config';
import type { LogFields, Logger } from '../shared/logger';
import { checkPassword, generatePassword } from '../shared/password';
import { type Deadline, sleep, withRetry } from '../shared/retry';
import { type PlannedTarget, initialVersionId, isInitialVersion, replacementVersionId } from './plan';

export type Outcome = 'rotated' | 'resumed' | 'skipped' | 'planned' | 'failed';
export type Role = 'db' | 'cs' | 'normal';
export type Step = 'inspect' | 'stage' | 'apply' | 'settle' | 'promote';

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
  now?: () => number;
  /** Backoff of retried calls and of the settle poll. */
  delays?: { retryBaseMs: number; retryMaxMs: number; settleFirstMs: number; settleMaxMs: number };
}

const DEFAULT_DELAYS = { retryBaseMs: 200, retryMaxMs: 5_000, settleFirstMs: 500, settleMaxMs: 5_000 };
const DAY_MS = 86_400_000;
const RUNNING = 'Running';
const MALFORMED_PASSWORD = 'InvalidAccountPassword.Malformed';
/** KMS's answer to a VersionId or a secret name that is taken. */
const RESOURCE_EXISTS = 'Rejected.ResourceExist';

type Runtime = ReturnType<typeof callOptions>;

interface SecretVersion {
  versionId: string;
  stages: string[];
  createTime: string;
}

/** A password in KMS under ACSPending, ready to apply. */
interface Staged {
  versionId: string;
  password: string;
  /** `resumed`: staged by an earlier run. */
  origin: 'fresh' | 'resumed';
}

/** The run for this target ends at the stage step, with this outcome. */
interface Settled {
  outcome: Outcome;
  versionId?: string;
  reason: string;
}

const has = (version: SecretVersion | undefined, stage: string) => version?.stages.includes(stage) ?? false;
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
  private stagedVersionId?: string;

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
      const applied = await this.step('apply', () => this.apply(stage), (s) => ({ versionId: s.versionId }));
      await this.step('settle', () => this.settle());
      await this.step('promote', () => this.promote(applied.versionId), () => ({ versionId: applied.versionId }));
      return this.finish(applied.origin === 'resumed' ? 'resumed' : 'rotated', applied.versionId);
    } catch (err) {
      const error = toServiceError(err);
      return this.finish('failed', this.stagedVersionId ?? this.target.versionId, { error: { code: error.code, message: error.message, requestId: error.requestId } });
    }
  }

  // Steps

  /** The roles to reset; a missing, locked or unknown kind of instance fails here, before any write. */
  private async inspect(): Promise<Role[]> {
    const instance = await this.describeInstance();
    if (instance.lockMode !== 'Unlock') {
      throw OperationError.of('IncorrectDBInstanceLockMode', `the instance is locked (LockMode ${instance.lockMode ?? 'unknown'}); nothing was changed`);
    }
    if (instance.DBInstanceType === 'sharding') return ['db', 'cs'];
    if (instance.DBInstanceType === 'replicate') return ['normal'];
    throw OperationError.of('UnsupportedDBInstanceType', `instance type ${JSON.stringify(instance.DBInstanceType ?? '')} is neither replicate nor sharding; nothing was changed`);
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
      if (cutOff.versionId === this.target.versionId) return ended('resumed', cutOff.versionId, 'finished a promote that was cut off');
      cutOff.stages = cutOff.stages.filter((s) => s !== ACS_PENDING);
    }
    const own = versions.find((v) => v.versionId === this.target.versionId);
    if (own && !has(own, ACS_PENDING)) return ended('skipped', own.versionId, 'already rotated by this trigger');
    const pending = own ?? versions.find((v) => has(v, ACS_PENDING));
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

  /** ResetAccountPassword for every role, the same password for all (a resumed rotation re-applies them all). */
  private async apply(staged: Staged): Promise<Staged> {
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

  /** Waits until the instance is Running again, within the invocation's time. */
  private async settle(): Promise<void> {
    for (let delay = this.delays.settleFirstMs; ; delay = Math.min(delay * 2, this.delays.settleMaxMs)) {
      const status = (await this.describeInstance()).DBInstanceStatus;
      if (status === RUNNING) return;
      if (delay >= this.deps.deadline.remainingMs()) {
        throw OperationError.of('DeadlineExceeded', `the instance is still ${JSON.stringify(status ?? '')} and the invocation's time is up; the pending password stays for the next run`, true);
      }
      this.log.info('waiting for the instance to be Running', { step: 'settle', status, delayMs: delay });
      await sleep(delay);
    }
  }

  /** Moves ACSCurrent to our version, only while it still carries ACSPending, then removes ACSPending. */
  private async promote(versionId: string): Promise<void> {
    const own = (await this.requireVersions()).find((v) => v.versionId === versionId);
    if (!has(own, ACS_PENDING)) {
      if (has(own, ACS_CURRENT)) return; // another run promoted it
      throw OperationError.of('PromoteGuard', `version ${versionId} no longer carries ACSPending (another run staged a newer password); not promoting`);
    }
    if (!has(own, ACS_CURRENT)) {
      await this.kms('UpdateSecretVersionStage', (kms, runtime) =>
        kms.updateSecretVersionStageEx(new $Kms.UpdateSecretVersionStageRequest({ secretName: this.target.secretName, versionStage: ACS_CURRENT, moveToVersion: versionId }), runtime),
      );
    }
    await this.removePending(versionId);
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
    return { versionId, password, origin: 'fresh' };
  }

  private async resumeOrFail(versionId: string): Promise<Staged> {
    const staged = await this.resume(versionId);
    if ('password' in staged) return staged;
    throw OperationError.of('PromoteGuard', `version ${versionId} exists but is not pending (${staged.reason})`);
  }

  /** Reads a pending version; one whose password cannot be used is replaced by a fresh password, once. */
  private async resume(versionId: string): Promise<Staged | Settled> {
    const value = await this.kms('GetSecretValue', (kms, runtime) =>
      kms.getSecretValueEx(new $Kms.GetSecretValueRequest({ secretName: this.target.secretName, versionId }), runtime),
    );
    const stages = value.versionStages?.versionStage ?? [];
    if (!stages.includes(ACS_PENDING)) {
      if (stages.includes(ACS_CURRENT)) return ended('skipped', versionId, 'already rotated by this trigger');
      throw OperationError.of('PromoteGuard', `version ${versionId} lost ACSPending while this run read it (another run is rotating this target)`);
    }
    this.stagedVersionId = versionId;
    const pending = readPendingPassword(value.secretData, this.target.instanceId);
    if (pending.password !== undefined) this.log.keepSecret(pending.password);
    if (pending.problem !== undefined) {
      if (this.replacedOnce) throw OperationError.of(MALFORMED_PASSWORD, `the replacement pending version ${versionId} is unusable too: ${pending.problem}`);
      this.replacedOnce = true;
      this.log.warn('the pending password cannot be used; staging a fresh one', { step: 'stage', versionId, problem: pending.problem });
      return this.stageFresh(replacementVersionId(versionId));
    }
    this.log.info('resuming the pending version', { step: 'stage', versionId });
    return { versionId, password: pending.password, origin: 'resumed' };
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
      const items = page.versionIds?.versionId ?? [];
      versions.push(...items.map((v) => ({ versionId: v.versionId, createTime: v.createTime, stages: v.versionStages?.versionStage ?? [] })));
      if (items.length === 0 || versions.length >= (page.totalCount ?? 0)) return versions;
    }
  }

  private async requireVersions(): Promise<SecretVersion[]> {
    const versions = await this.listVersions();
    if (!versions) throw OperationError.of(SECRET_NOT_FOUND, `the secret ${JSON.stringify(this.target.secretName)} disappeared during the rotation`);
    return versions;
  }

  /** Removes ACSPending from a version; a retried call whose first try took effect counts as done. */
  private async removePending(versionId: string): Promise<void> {
    const request = new $Kms.UpdateSecretVersionStageRequest({ secretName: this.target.secretName, versionStage: ACS_PENDING, removeFromVersion: versionId });
    try {
      await this.kms('UpdateSecretVersionStage', (kms, runtime) => kms.updateSecretVersionStageEx(request, runtime));
    } catch (err) {
      const version = (await this.listVersions())?.find((v) => v.versionId === versionId);
      if (version && !has(version, ACS_PENDING)) return;
      throw err;
    }
  }

  private async describeInstance(): Promise<$Dds.DBInstanceAttribute> {
    const request = new $Dds.DescribeDBInstanceAttributeRequest({ DBInstanceId: this.target.instanceId });
    const response = await this.call('DescribeDBInstanceAttribute', (runtime) => this.deps.clients.dds.describeDBInstanceAttributeWithOptions(request, runtime));
    const instance = response.body?.DBInstances?.DBInstance?.[0];
    if (!instance) throw OperationError.of('InvalidInstanceId.NotFound', `DescribeDBInstanceAttribute returned no instance ${this.target.instanceId}`);
    return instance;
  }

  private async resetPassword(role: Role, password: string): Promise<void> {
    const request = new $Dds.ResetAccountPasswordRequest({ DBInstanceId: this.target.instanceId, accountName: this.target.accountName, accountPassword: password });
    // A replica set takes CharacterType empty or `normal`: it is left out.
    if (role !== 'normal') request.characterType = role;
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

/** The password of a pending version, and why it cannot be used if it cannot (never quoting it). */
export type PendingPassword = { password: string; problem?: undefined } | { password?: string; problem: string };

export function readPendingPassword(data: string | undefined, instanceId: string): PendingPassword {
  let value: unknown;
  try {
    value = JSON.parse(data ?? '');
  } catch {
    return { problem: 'its data is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'its data is not a JSON object' };
  const fields = value as Record<string, unknown>;
  if (typeof fields.AccountPassword !== 'string') return { problem: 'it holds no AccountPassword' };
  const password = fields.AccountPassword;
  if (fields.AccountName !== ROOT_ACCOUNT) return { password, problem: 'its AccountName is not root' };
  if (fields.DBInstanceId !== instanceId) return { password, problem: 'its DBInstanceId names another instance' };
  const problems = checkPassword(password);
  if (problems.length > 0) return { password, problem: `its password ${problems.join('; ')}` };
  return { password };
}
