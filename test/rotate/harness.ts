/**
 * Per-test local cloud for the rotation suites: `start(fixture)` in a test, closed after it. The invariant
 * monitor must stay silent unless the test says why not (test/helpers/cloud.ts checks it after each test), and
 * every run's logs, errors and reports go into the file's secrecy scan (test/helpers/secrecy.ts).
 */
import { expect } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { useCloudSlot } from '../helpers/cloud';
import type { Env } from '../../functions/shared/config';
import { type RotationRun, type RunOptions, rotationEnv, runRotation } from '../helpers/rotate';
import { useSecrecyWatch } from '../helpers/secrecy';
import { secretName } from './fixture';

type Violations = LocalCloud['truth']['violations'];

export interface Harness {
  cloud(): LocalCloud;
  start(fixture: object): Promise<LocalCloud>;
  run(options: Omit<RunOptions, 'env'> & { env?: Env; targets?: string[] }): Promise<RotationRun>;
  /**
   * The invariant monitor may record what the test expects (a secret created for an instance whose password it
   * never held), for the reason given: after the test, `check` asserts the violations, which then do not fail it.
   */
  allowViolations(reason: string, check: (violations: Violations) => void): void;
}

export function useHarness(): Harness {
  const watch = useSecrecyWatch();
  let targets: string[] = [];
  const slot = useCloudSlot(() => (targets = []));
  const started = slot.cloud;

  return {
    cloud: started,
    async start(fixture) {
      const cloud = slot.hold(await watch.start({ fixture }));
      targets = cloud.state.listInstances().map((i) => i.id);
      return cloud;
    },
    async run({ env = {}, targets: only, ...options }) {
      const current = started();
      const configured = (only ?? targets).map((instanceId) => ({ instanceId, secretName: secretName(instanceId) }));
      const run = await runRotation(current, { ...options, env: rotationEnv(current, configured, env) });
      watch.recordRun(expect.getState().currentTestName ?? 'run', run);
      return run;
    },
    allowViolations: slot.allowViolations,
  };
}

/** The truth after a completed rotation: every role holds ACSCurrent's password, nothing pending, the old one gone. */
export function expectRotated(cloud: LocalCloud, instanceId: string, oldPassword: string): string {
  const name = secretName(instanceId);
  const current = cloud.truth.secretPassword(name);
  expect(current).toBeDefined();
  for (const [, held] of Object.entries(cloud.truth.rootPasswords(instanceId))) expect(held).toBe(current);
  expect(current).not.toBe(oldPassword);
  expect(cloud.truth.secretPassword(name, 'ACSPending')).toBeUndefined();
  return current!;
}
