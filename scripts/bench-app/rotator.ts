/**
 * The rotation side of the benchmark: the rotate function built fresh and deployed from s.yaml to the
 * local FC, invoked through the official FC client as an operator would (`npm run invoke -- --force`),
 * one forced manual rotation at a time, each checked afterwards: ACSCurrent moved to a new version, no
 * ACSPending is left, and the database holds ACSCurrent's password for the account it names.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { LocalCloud } from '../../local-cloud';
import { PROJECT_ROOT, ROTATE_FUNCTION } from '../bench/deploy';
import { createFcClient, type FunctionFailure, invokeFunction } from '../invoke/fc';
import { APP_KEY, INSTANCE_ID, type RotatedAccount, rotationTargets } from './fixture';
import type { Strategy } from './options';

const require = createRequire(import.meta.url);
const rpc = require('@alicloud/rpc-client') as typeof import('@alicloud/rpc-client');
const kms = require('@alicloud/kms20160120') as typeof import('@alicloud/kms20160120');

/** Covers s.yaml's timeout and a cold start. */
const INVOKE_TIMEOUT_MS = 960_000;

/** The bench cannot go on: it exits 1 with this message. */
export class BenchError extends Error {}

export interface Rotation {
  index: number;
  /** Invocation sent / answered, on the bench's clock. */
  start: number;
  end: number;
  outcome: string;
  /** ACSCurrent after it. */
  versionId?: string;
  accountName?: string;
  verified: boolean;
  /** Why it is not verified, or the function's error. Never a password. */
  problem?: string;
}

interface TargetResult {
  secretName?: string;
  outcome?: string;
  versionId?: string;
  error?: { code?: string; message?: string };
  reason?: string;
}

/**
 * What the bench sets in the rotate function's environment, over s.yaml's: the target, the forced-rotation
 * cooldown off (a load test forces rotation after rotation), the login check on (the local peers answer it),
 * and, for application users, user commands allowed without TLS (the local peers have none).
 */
export function benchEnvironment(strategy: Strategy): Record<string, string> {
  return {
    ROTATION_TARGETS: JSON.stringify(rotationTargets(strategy)),
    VERIFY_LOGIN: 'true',
    FORCED_ROTATION_COOLDOWN_MINUTES: '0',
    ...(strategy !== 'root' && { ALLOW_PLAINTEXT_USER_ADMIN: 'true' }),
  };
}

/** Registers s.yaml's rotate function with its code from `codeRoot`, configured for the strategy. */
export function deployRotateFunction(cloud: LocalCloud, codeRoot: string, strategy: Strategy): string {
  const specs = cloud.fc.registerFromServerlessYaml(join(PROJECT_ROOT, 's.yaml'), { codeRoot, accountId: cloud.accountId });
  const spec = specs.find((s) => s.name === ROTATE_FUNCTION);
  if (!spec) throw new BenchError(`s.yaml declares no function ${ROTATE_FUNCTION}`);
  cloud.fc.register({ ...spec, environment: { ...spec.environment, ...benchEnvironment(strategy) } });
  return spec.name;
}

export class Rotator {
  private readonly fc;
  private readonly kms;

  constructor(
    private readonly cloud: LocalCloud,
    private readonly functionName: string,
    private readonly strategy: Strategy,
    private readonly account: RotatedAccount,
    private readonly clock: () => number,
  ) {
    const key = { accessKeyId: APP_KEY.id, accessKeySecret: APP_KEY.secret };
    this.fc = createFcClient({ endpoint: { host: cloud.host, protocol: 'http' }, regionId: cloud.region, accessKey: key });
    this.kms = new kms.default(new rpc.Config({ ...key, endpoint: cloud.host, protocol: 'http', regionId: cloud.region }));
  }

  /**
   * A dry run before the clients start: it starts the function instance (the cold start stays out of the
   * figures) and shows whether the function takes the target at all. A function that refuses it (an
   * application-user target where only root is supported) stops the bench here, with its message.
   */
  async preflight(): Promise<void> {
    const answer = await this.invoke({ instanceIds: [INSTANCE_ID], force: true, dryRun: true, rotationId: 'bench-app-preflight', reason: 'bench:app preflight' });
    const refused = answer.failure ? describeFailure(answer.failure) : answer.result?.outcome === 'failed' ? describeResult(answer.result) : undefined;
    if (refused !== undefined) throw new BenchError(`the rotate function rejected the ${this.describeTarget()}: ${refused}`);
    if (answer.result?.outcome !== 'planned') throw new BenchError(`the rotate function's dry run did not plan the ${this.describeTarget()} (outcome ${answer.result?.outcome ?? 'none'})`);
  }

  /** One forced rotation, then its check. */
  async rotate(index: number): Promise<Rotation> {
    const before = await this.readCurrent();
    const start = this.clock();
    const answer = await this.invoke({ instanceIds: [INSTANCE_ID], force: true, rotationId: `bench-app-${index}`, reason: 'bench:app load test' });
    const end = this.clock();
    if (answer.failure) return { index, start, end, outcome: 'failed', verified: false, problem: describeFailure(answer.failure) };
    const outcome = answer.result?.outcome ?? 'none';
    if (outcome !== 'rotated') return { index, start, end, outcome, verified: false, problem: describeResult(answer.result) };
    const after = await this.readCurrent();
    const problem = this.check(before.versionId, after);
    return { index, start, end, outcome, versionId: after.versionId, accountName: after.accountName, verified: problem === undefined, ...(problem !== undefined && { problem }) };
  }

  /** Why ACSCurrent after the rotation is not what it must be, or undefined. */
  private check(before: string, after: CurrentVersion): string | undefined {
    if (after.versionId === before) return `ACSCurrent did not move from ${before}`;
    if (this.cloud.truth.secretPassword(this.account.secretName, 'ACSPending') !== undefined) return 'ACSPending is still on a version';
    const held = this.databasePasswords(after);
    if (held.length === 0) return `the instance has no user ${after.accountName}@${after.authDatabase}`;
    if (held.some((password) => password !== after.password)) return `the database's password for ${after.accountName}@${after.authDatabase} is not ACSCurrent's`;
    return undefined;
  }

  /** What the database holds for the account ACSCurrent names: root's password for every role, or the user's. */
  private databasePasswords(current: CurrentVersion): string[] {
    if (this.strategy === 'root') return Object.values(this.cloud.truth.rootPasswords(INSTANCE_ID));
    const password = this.cloud.truth.userPassword(INSTANCE_ID, current.accountName, current.authDatabase);
    return password === undefined ? [] : [password];
  }

  /** ACSCurrent as the clients read it: through KMS. */
  private async readCurrent(): Promise<CurrentVersion> {
    const response = await this.kms.getSecretValue(new kms.GetSecretValueRequest({ secretName: this.account.secretName, versionStage: 'ACSCurrent' }));
    const value = JSON.parse(response.secretData) as { AccountName: string; AccountPassword: string; AuthDatabase?: string };
    return { versionId: response.versionId, accountName: value.AccountName, password: value.AccountPassword, authDatabase: value.AuthDatabase ?? 'admin' };
  }

  private async invoke(event: object): Promise<{ failure?: FunctionFailure; result?: TargetResult }> {
    const invocation = await invokeFunction(this.fc, this.functionName, Buffer.from(JSON.stringify(event)), { readTimeoutMs: INVOKE_TIMEOUT_MS });
    if (invocation.mode !== 'sync') throw new BenchError('the rotate function was invoked asynchronously');
    if (invocation.failure) return { failure: invocation.failure };
    // The clients' secret's result: an invocation naming the instance may rotate its root first.
    const results = (JSON.parse(invocation.body.toString('utf8')) as { results?: TargetResult[] }).results ?? [];
    return { result: results.find((r) => r.secretName === this.account.secretName) };
  }

  private describeTarget(): string {
    return this.strategy === 'root' ? `root target of ${INSTANCE_ID}` : `application-user target (${this.account.accountName}@${this.account.authDatabase}, strategy ${this.strategy})`;
  }
}

interface CurrentVersion {
  versionId: string;
  accountName: string;
  password: string;
  authDatabase: string;
}

function describeFailure(failure: FunctionFailure): string {
  return `${failure.errorType}: ${failure.errorMessage}`;
}

function describeResult(result: TargetResult | undefined): string {
  if (!result) return 'the report names no target';
  if (result.error) return `${result.outcome ?? 'no outcome'}: ${result.error.code ?? ''} ${result.error.message ?? ''}`.trim();
  return `${result.outcome ?? 'no outcome'}${result.reason ? `: ${result.reason}` : ''}`;
}
