/**
 * The root account, reset through the DDS API: `ResetAccountPassword` for every role of the instance (a
 * sharded cluster's `db` and `cs`, a replica set's one), the same password for all, then a wait until the
 * instance is `Running` again; the login check logs in as root at the primary or a mongos.
 */
import type DdsClient from '../../shared/clients/dds';
import * as $Dds from '../../shared/clients/dds';
import { toServiceError } from '../../shared/clients/errors';
import { OperationError } from '../../shared/errors';
import { OWN_CODES, SERVICE_CODES } from '../../shared/codes';
import { ROOT_ACCOUNT, VERIFY_LOGIN_DEFAULTS, type VerifyLoginConfig } from '../../shared/config';
import { shown } from '../../shared/format';
import type { Logger } from '../../shared/logger';
import { checkPassword } from '../../shared/password';
import { type Deadline, sleep } from '../../shared/retry';
import { type MongoAddress, VerifyAddressError, showAddress, verifyAddress } from '../../shared/verify/address';
import { type LoginResult, verifyLogin } from '../../shared/verify/login';
import type { PlannedTarget } from '../../shared/targets';
import type { AccountApplier, Applied, Credential, ReadCredential, Role } from './applier';
import { type InstanceType, describeInstance, rotatableType } from './instance';
import type { SendCall } from './secret-store';

const RUNNING = 'Running';
const ROLES_BY_TYPE: Record<InstanceType, Role[]> = { sharding: ['db', 'cs'], replicate: ['normal'] };

export interface RootApplierDeps {
  dds: DdsClient;
  call: SendCall;
  log: Logger;
  deadline: Deadline;
  /** The settle poll's first and longest wait. */
  settleDelays: { firstMs: number; maxMs: number };
  /** Whether this target logs in with its new password before promoting it, and how. */
  verify: { enabled: boolean; settings?: VerifyLoginConfig };
}

export class RootApplier implements AccountApplier {
  private roles: Role[] = [];
  private resetSent = false;
  /** How the instance last described itself: where the login check logs in. */
  private described?: $Dds.DBInstanceAttribute;

  constructor(
    private readonly target: PlannedTarget,
    private readonly deps: RootApplierDeps,
  ) {}

  get touched(): boolean {
    return this.resetSent;
  }

  get verifies(): boolean {
    return this.deps.verify.enabled;
  }

  /** The roles to reset; a missing, locked or unknown kind of instance fails here, before any write. */
  async inspect(): Promise<Role[]> {
    // What planning read in this invocation serves (a lock set since then fails the reset, with nothing applied),
    // unless a login check needs the addresses a listing lacks.
    const known = this.target.inspected;
    const instance = known && (known.addresses || !this.verifies) ? known.instance : await describeInstance(this.deps.dds, this.deps.call, this.target.instanceId);
    const roles = ROLES_BY_TYPE[rotatableType(instance)];
    this.described = instance;
    if (this.verifies) this.loginAddress(); // a login check that cannot know where to log in fails before any write
    this.roles = roles;
    return roles;
  }

  get secretDescription(): string {
    return `root password of ApsaraDB for MongoDB instance ${this.target.instanceId}, kept by the rotation function`;
  }

  newCredential(password: string): Credential {
    return { accountName: ROOT_ACCOUNT, password };
  }

  secretValue(credential?: Credential): string {
    const { instanceId } = this.target;
    if (!credential) return JSON.stringify({ AccountName: ROOT_ACCOUNT, DBInstanceId: instanceId, CharacterTypes: this.roles });
    return JSON.stringify({ AccountName: ROOT_ACCOUNT, AccountPassword: credential.password, DBInstanceId: instanceId, CharacterTypes: this.roles });
  }

  /** The root password a stored value holds, if it is root's, for this instance, and meets the API's rule. */
  credentialOf(secretData: string | undefined): ReadCredential {
    let value: unknown;
    try {
      value = JSON.parse(secretData ?? '');
    } catch {
      return { problem: 'its data is not JSON' };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'its data is not a JSON object' };
    const fields = value as Record<string, unknown>;
    if (typeof fields.AccountPassword !== 'string') return { problem: 'it holds no AccountPassword' };
    const credential = { accountName: ROOT_ACCOUNT, password: fields.AccountPassword };
    if (fields.AccountName !== ROOT_ACCOUNT) return { credential, problem: 'its AccountName is not root' };
    if (fields.DBInstanceId !== this.target.instanceId) return { credential, problem: 'its DBInstanceId names another instance' };
    const problems = checkPassword(credential.password);
    if (problems.length > 0) return { credential, problem: `its password ${problems.join('; ')}` };
    return { credential };
  }

  /** ResetAccountPassword for every role; a password refused as malformed before any role took it is rejected. */
  async apply({ password }: Credential): Promise<Applied> {
    for (const [index, role] of this.roles.entries()) {
      try {
        await this.reset(role, password);
      } catch (err) {
        if (index === 0 && toServiceError(err).code === SERVICE_CODES.malformedPassword) return { applied: false, rejected: err };
        throw err;
      }
    }
    return { applied: true };
  }

  /** Waits until the instance is Running again, within the invocation's time. */
  async settle(): Promise<void> {
    const { firstMs, maxMs } = this.deps.settleDelays;
    for (let delay = firstMs; ; delay = Math.min(delay * 2, maxMs)) {
      const instance = await describeInstance(this.deps.dds, this.deps.call, this.target.instanceId);
      this.described = instance;
      const status = instance.DBInstanceStatus;
      if (status === RUNNING) return;
      if (delay >= this.deps.deadline.remainingMs()) {
        throw OperationError.of(OWN_CODES.deadlineExceeded, `the instance is still ${shown(status)} and the invocation's time is up; the pending password stays for the next run`, true);
      }
      this.deps.log.info('waiting for the instance to be Running', { step: 'settle', status, delayMs: delay });
      await sleep(delay);
    }
  }

  get loginWaitMs(): number {
    return (this.deps.verify.settings ?? VERIFY_LOGIN_DEFAULTS).waitMs;
  }

  loginAt(): string {
    return showAddress(this.loginAddress());
  }

  login({ password }: Credential): Promise<LoginResult> {
    const settings = this.deps.verify.settings ?? VERIFY_LOGIN_DEFAULTS;
    this.deps.deadline.ensure('log in with the new password');
    const timeoutMs = Math.min(settings.timeoutMs, this.deps.deadline.remainingMs());
    return verifyLogin({ ...this.loginAddress(), username: ROOT_ACCOUNT, password, timeoutMs, tls: settings.tls });
  }

  /** The target's connectionHost, else the primary or a mongos the instance describes. */
  private loginAddress(): MongoAddress {
    try {
      return verifyAddress(this.described ?? new $Dds.DBInstanceAttribute({}), this.target.connectionHost);
    } catch (err) {
      if (!(err instanceof VerifyAddressError)) throw err;
      throw OperationError.of(OWN_CODES.verifyLoginFailed, `cannot tell where to log in to verify the new password: ${err.message}; set "connectionHost" for this target`);
    }
  }

  private async reset(role: Role, password: string): Promise<void> {
    const request = new $Dds.ResetAccountPasswordRequest({ DBInstanceId: this.target.instanceId, accountName: ROOT_ACCOUNT, accountPassword: password });
    // A replica set takes CharacterType empty or `normal`: it is left out.
    if (role !== 'normal') request.characterType = role;
    this.resetSent = true;
    await this.deps.call('ResetAccountPassword', (runtime) => this.deps.dds.resetAccountPasswordWithOptions(request, runtime));
    this.deps.log.info('reset the root password', { step: 'apply', characterType: role });
  }
}
