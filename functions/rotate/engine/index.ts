/**
 * The rotation engine: rotateTarget wires one target's SecretStore (KMS) and AccountApplier to the
 * orchestrator, with every call retried within the invocation's deadline and counted.
 */
import { callService } from '../../shared/call';
import type { Clients } from '../../shared/clients';
import { type VerifyLoginConfig, VERIFY_LOGIN_DEFAULTS, isApplicationUser } from '../../shared/config';
import type { Logger } from '../../shared/logger';
import type { Deadline } from '../../shared/retry';
import type { PlannedTarget, PlannedUserTarget } from '../../shared/targets';
import type { TargetResult } from '../report';
import { Rotation } from './orchestrator';
import { RootApplier } from './root-applier';
import { KmsSecretStore, type SendCall } from './secret-store';
import { TargetRun } from './target-run';
import { UserApplier } from './user-applier';

export interface EngineDeps {
  clients: Clients;
  deadline: Deadline;
  /** Bound to the run; rotateTarget binds the target. */
  logger: Logger;
  passwordLength: number;
  rotationIntervalDays: number;
  forcedCooldownMinutes: number;
  createMissingSecrets: boolean;
  /** The KMS 3.0 instance a created secret goes in (required with createMissingSecrets). */
  kmsInstanceId?: string;
  dryRun: boolean;
  /** The login check before promotion; absent: only targets that say `"verify": true` check, with the defaults. */
  verifyLogin?: VerifyLoginConfig;
  now?: () => number;
  /**
   * Backoff of retried calls and of the settle poll, and how long a read may trail the run's own write
   * (`ownWriteWaitMs`) before the run concludes another run overtook it.
   */
  delays?: { retryBaseMs: number; retryMaxMs: number; settleFirstMs: number; settleMaxMs: number; ownWriteWaitMs?: number };
}

const DEFAULT_DELAYS = { retryBaseMs: 200, retryMaxMs: 5_000, settleFirstMs: 500, settleMaxMs: 5_000 };
/** KMS documents no read-after-write: a read that trails by up to this much is waited for (seconds are seen on other clouds). */
const OWN_WRITE_WAIT_MS = 10_000;
/** How long an application user's settle waits for every mongos to take its new password (their user caches look every 30 s). */
const USER_CACHE_WAIT_MS = 45_000;

export function rotateTarget(target: PlannedTarget, deps: EngineDeps): Promise<TargetResult> {
  const user = isApplicationUser(target) ? target : undefined;
  const log = deps.logger.child({ instanceId: target.instanceId, secretName: target.secretName, ...(user && { accountName: user.accountName, strategy: user.strategy }) });
  const delays: NonNullable<EngineDeps['delays']> = deps.delays ?? DEFAULT_DELAYS;
  let retries = 0;
  const call: SendCall = (action, send) =>
    callService(action, send, { deadline: deps.deadline, log, backoff: { baseMs: delays.retryBaseMs, maxMs: delays.retryMaxMs }, onRetry: () => retries++ });
  const store = new KmsSecretStore(target.secretName, deps.clients.kms, call, deps.kmsInstanceId);
  const common = { dds: deps.clients.dds, call, log, deadline: deps.deadline };
  const settleDelays = { firstMs: delays.settleFirstMs, maxMs: delays.settleMaxMs };
  let applier;
  if (user) {
    const { timeoutMs, waitMs, tls } = deps.verifyLogin ?? VERIFY_LOGIN_DEFAULTS;
    const rootStore = new KmsSecretStore(user.rootSecretName, deps.clients.kms, call);
    const connection = { timeoutMs, waitMs, ...(tls.caFile !== undefined && { caFile: tls.caFile }) };
    applier = new UserApplier(user, { ...common, store, rootStore, connection, settleDelays: { ...settleDelays, limitMs: USER_CACHE_WAIT_MS } });
  } else {
    const verifies = !deps.dryRun && (target.verify ?? deps.verifyLogin?.enabled ?? false);
    applier = new RootApplier(target, { ...common, settleDelays, verify: { enabled: verifies, settings: deps.verifyLogin } });
  }
  const { passwordLength, rotationIntervalDays, forcedCooldownMinutes, createMissingSecrets, dryRun } = deps;
  const settings = {
    passwordLength,
    rotationIntervalDays,
    forcedCooldownMinutes,
    createMissingSecrets,
    dryRun,
    now: deps.now ?? Date.now,
    retries: () => retries,
    deadline: deps.deadline,
    ownWrites: { boundMs: delays.ownWriteWaitMs ?? OWN_WRITE_WAIT_MS, firstDelayMs: 100, maxDelayMs: 2_000 },
  };
  const rotation = new Rotation(new TargetRun(target, store, applier, settings, log)).rotate();
  return user ? rotation.then((result) => withAccount(result, user)) : rotation;
}

/** An application user's result names the account and the strategy, after the secret. */
function withAccount(result: TargetResult, target: PlannedUserTarget): TargetResult {
  const { instanceId, secretName, ...rest } = result;
  return { instanceId, secretName, accountName: target.accountName, strategy: target.strategy, ...rest };
}
