/**
 * Forcing interleavings of concurrent in-process runs, deterministically: each run signs its calls with its
 * own access key, and hooks on the local cloud hold one run's nth call of an action (before it is applied,
 * or after, with its answer not yet sent) until the test releases it.
 */
import { expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import type { HookPhase } from '../../local-cloud/faults/fault-controls';
import type { RemoveFromVersionWithoutStage } from '../../local-cloud/kms/service';
import type { Params } from '../../local-cloud/http/api-error';
import { type RotationRun, rotationEnv, runRotation } from '../helpers/rotate';
import type { SecrecyWatch } from '../helpers/secrecy';
import { fixture, type InstanceSeed, type SecretSeed, secretName } from '../rotate/fixture';

export interface RunKey {
  id: string;
  secret: string;
}

/** One access key per concurrent run: the local cloud's request log and hooks tell the runs apart by it. */
export const RUN_KEYS: RunKey[] = ['A', 'B', 'C', 'D', 'E'].map((name) => ({ id: `LTAI5tRaceRun${name}0000001`, secret: `race-run-${name}-secret` }));

/** A fixture whose access keys are RUN_KEYS. */
export function raceFixture(parts: { instances: InstanceSeed[]; secrets: SecretSeed[] }): object {
  return { ...fixture(parts), accessKeys: RUN_KEYS };
}

export interface Hold {
  /** Resolves when the call has reached the hook. */
  reached: Promise<void>;
  release(): void;
}

export class Choreography {
  private readonly releases: Array<() => void> = [];

  constructor(private readonly cloud: LocalCloud) {}

  /**
   * Holds `key`'s nth call (1-based) of `action` at `phase` (`before`: not applied yet; `after`: applied, not
   * answered) until released. `when` narrows which of its calls count.
   */
  hold(key: RunKey, action: string, options: { nth?: number; phase: Exclude<HookPhase, 'arrive'>; when?: (params: Params) => boolean }): Hold {
    let count = 0;
    let reach!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.releases.push(release);
    this.cloud.faults.onAction({ action, phase: options.phase, when: options.when }, async (req) => {
      if (req.accessKeyId !== key.id || ++count !== (options.nth ?? 1)) return;
      reach();
      await released;
    });
    return { reached, release };
  }

  /** Releases `held` once `then` has reached its hook, and `then` with it. */
  after(then: Hold, held: Hold): void {
    void then.reached.then(() => {
      held.release();
      then.release();
    });
  }

  /** Lets every held call go (a test that failed half-way must not leave runs waiting). */
  releaseAll(): void {
    for (const release of this.releases) release();
  }
}

/** Runs the function in-process as `key`, forced, under its own rotation id. */
export function forcedRun(cloud: LocalCloud, instanceIds: string[], key: RunKey, rotationId: string, event: object = { force: true, rotationId }): Promise<RotationRun> {
  const env = rotationEnv(cloud, instanceIds.map((instanceId) => ({ instanceId, secretName: secretName(instanceId) })));
  return runRotation(cloud, { env, event, context: { credentials: { accessKeyId: key.id, accessKeySecret: key.secret } } });
}

/**
 * The end state docs/design.md §3 asks for: every role holds ACSCurrent's password and nothing is pending. Compared
 * as booleans, so that a failure never prints a password.
 */
export function expectConsistent(cloud: LocalCloud, instanceId: string): void {
  const name = secretName(instanceId);
  const current = cloud.truth.secretPassword(name);
  const roles = Object.entries(cloud.truth.rootPasswords(instanceId)).map(([role, held]) => [role, current !== undefined && held === current]);
  expect(Object.fromEntries(roles), 'every role holds the password of ACSCurrent').toEqual(Object.fromEntries(roles.map(([role]) => [role, true])));
  expect(cloud.truth.secretPassword(name, 'ACSPending') === undefined, 'nothing left pending').toBe(true);
}

/** What each run's result says, in run order. */
export function outcomes(runs: RotationRun[]): string[] {
  return runs.map((run) => run.report?.results[0]?.outcome ?? `rejected: ${run.error?.message ?? 'no report'}`);
}

export function recordRuns(watch: SecrecyWatch, label: string, runs: RotationRun[]): void {
  runs.forEach((run, index) => watch.recordRun(`${label} run ${index}`, run));
}

/** Versions of the secret created after the fixture's, and the stages each carries. */
export function newVersions(cloud: LocalCloud, instanceId: string, seeded: number): Array<{ versionId: string; stages: string[] }> {
  return cloud.truth.secret(secretName(instanceId))!.versions.slice(seeded).map((v) => ({ versionId: v.versionId, stages: v.stages }));
}

/**
 * The two answers KMS may give an UpdateSecretVersionStage whose RemoveFromVersion names a version without the
 * stage (its page does not say): the race and duplicate suites run under both.
 */
export const KMS_BEHAVIOURS: RemoveFromVersionWithoutStage[] = ['refuse', 'accept'];

/** Sets the cloud's KMS to `behaviour` (it refuses by default). */
export function setKmsBehaviour(cloud: LocalCloud, behaviour: RemoveFromVersionWithoutStage): void {
  if (behaviour !== 'refuse') cloud.faults.kmsRemoveFromVersionWithoutStage(behaviour);
}

