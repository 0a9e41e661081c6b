/**
 * Per-test local cloud for the rotation suites: `start(fixture)` in a test, closed after it; every run's
 * logs, errors and reports are scanned for the passwords the cloud saw, and the invariant monitor must
 * stay silent unless the test says otherwise.
 */
import { afterEach, expect } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../local-cloud';
import type { Env } from '../../functions/shared/config';
import { type RotationRun, type RunOptions, findLeaks, rotationEnv, runRotation, runTexts } from '../helpers/rotate';
import { secretName } from './fixture';

export interface Harness {
  cloud(): LocalCloud;
  start(fixture: object): Promise<LocalCloud>;
  run(options: Omit<RunOptions, 'env'> & { env?: Env; targets?: string[] }): Promise<RotationRun>;
  /** The invariant monitor may record what the test expects (a secret created for an instance whose password it never held). */
  allowViolations(check: (violations: LocalCloud['truth']['violations']) => void): void;
}

export function useHarness(): Harness {
  let cloud: LocalCloud | undefined;
  let texts: string[] = [];
  let checkViolations: (violations: LocalCloud['truth']['violations']) => void = (v) => expect(v).toEqual([]);
  let targets: string[] = [];

  afterEach(async () => {
    if (!cloud) return;
    try {
      expect(findLeaks(texts, cloud.truth.passwordsSeen())).toEqual([]);
      checkViolations(cloud.truth.violations);
    } finally {
      await cloud.close();
      cloud = undefined;
      texts = [];
      targets = [];
      checkViolations = (v) => expect(v).toEqual([]);
    }
  });

  const started = (): LocalCloud => {
    if (!cloud) throw new Error('start(fixture) first');
    return cloud;
  };

  return {
    cloud: started,
    async start(fixture) {
      cloud = await startLocalCloud({ port: 0, fixture });
      targets = cloud.state.listInstances().map((i) => i.id);
      return cloud;
    },
    async run({ env = {}, targets: only, ...options }) {
      const current = started();
      const configured = (only ?? targets).map((instanceId) => ({ instanceId, secretName: secretName(instanceId) }));
      const run = await runRotation(current, { ...options, env: rotationEnv(current, configured, env) });
      texts.push(...runTexts(run));
      return run;
    },
    allowViolations(check) {
      checkViolations = check;
    },
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
