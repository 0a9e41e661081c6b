/**
 * A local cloud with MongoDB peers per test for the application-user suites, the rotation function run in-process
 * against it: started in a test, closed after it. The invariant monitor (root's rule and the application users')
 * must stay silent unless the test says why (test/helpers/cloud.ts), and every run's logs, errors and reports go
 * into the file's secrecy scan (test/helpers/secrecy.ts). Assertions log in through the official driver.
 */
import { expect } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import type { Env } from '../../functions/shared/config';
import { useCloudSlot } from '../helpers/cloud';
import { type ConnectTo, type Login, loginOutcome, useMongoClients } from '../helpers/mongo';
import { type RotationRun, type RunOptions, rotationEnv, runRotation } from '../helpers/rotate';
import { useSecrecyWatch } from '../helpers/secrecy';
import { CA_FILE } from '../verify/tls-proxy';
import { PEER_TLS, userSecretName } from './fixture';

type Violations = LocalCloud['truth']['violations'];

/** A ROTATION_TARGETS item as the operator writes it. */
export type TargetItem = Record<string, unknown> & { instanceId: string };

export interface StartOptions {
  /** TLS-only peers, and the function told to trust their CA (VERIFY_TLS_CA_FILE); else plain peers and ALLOW_PLAINTEXT_USER_ADMIN. */
  tls?: boolean;
}

export interface AppHarness {
  cloud(): LocalCloud;
  start(fixture: object, options?: StartOptions): Promise<LocalCloud>;
  run(options: Omit<RunOptions, 'env'> & { targets: TargetItem[]; env?: Env }): Promise<RotationRun>;
  /** `ok` or the server's code for a login as `login` on the instance, through the official driver. */
  login(instanceId: string, login: Login): Promise<'ok' | number>;
  connect: ConnectTo;
  /** Text the test produced that the secrecy scan must cover too (e.g. a process's output). */
  record(where: string, ...texts: string[]): void;
  /** The test stages violations on purpose: `check` asserts them after the test, which they then do not fail. */
  allowViolations(reason: string, check: (violations: Violations) => void): void;
}

export function useAppHarness(): AppHarness {
  const watch = useSecrecyWatch();
  const connect = useMongoClients();
  const slot = useCloudSlot();
  const started = slot.cloud;
  let tls = false;

  return {
    cloud: started,
    connect,
    record: (where, ...texts) => watch.record(where, ...texts),
    async start(fixture, options = {}) {
      tls = options.tls ?? false;
      return slot.hold(await watch.start({ fixture, mongoPeers: true, ...(tls && { mongoTls: PEER_TLS }) }));
    },
    async run({ targets, env = {}, ...options }) {
      const current = started();
      const transport = tls ? { VERIFY_TLS_CA_FILE: CA_FILE } : { ALLOW_PLAINTEXT_USER_ADMIN: 'true' };
      const run = await runRotation(current, { ...options, env: rotationEnv(current, targets, { ...transport, ...env }) });
      watch.recordRun(expect.getState().currentTestName ?? 'run', run);
      return run;
    },
    login(instanceId, login) {
      return loginOutcome(connect, started(), instanceId, login, tls ? { tls: true, tlsCAFile: CA_FILE } : {});
    },
    allowViolations: slot.allowViolations,
  };
}

/** A manual event forcing a rotation, with its own rotation id (so that its VersionIds are known). */
export const forced = (rotationId: string, instanceIds?: string[]) => ({ force: true, rotationId, ...(instanceIds && { instanceIds }) });

/** The user and password of the version labelled `stage` of an application user's secret. */
export function labelled(cloud: LocalCloud, instanceId: string, user: string, stage = 'ACSCurrent'): { user: string; password: string } | undefined {
  const version = cloud.truth.secret(userSecretName(instanceId, user))?.versions.find((v) => v.stages.includes(stage));
  if (!version) return undefined;
  const data = JSON.parse(version.data) as { AccountName: string; AccountPassword: string };
  return { user: data.AccountName, password: data.AccountPassword };
}

/** The stages of every version of a secret, by VersionId. */
export function stagesOf(cloud: LocalCloud, secretName: string): Record<string, string[]> {
  return Object.fromEntries((cloud.truth.secret(secretName)?.versions ?? []).map((v) => [v.versionId, v.stages]));
}

/** The user commands the peers applied (hellos and logins aside), as `command user`. */
export function userCommands(cloud: LocalCloud, instanceId: string): string[] {
  return cloud.mongo.commands.filter((c) => c.instanceId === instanceId && ['usersInfo', 'createUser', 'updateUser', 'dropUser'].includes(c.command)).map((c) => c.command);
}
