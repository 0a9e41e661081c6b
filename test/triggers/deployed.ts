/**
 * The rotation function deployed to a local cloud's FC as `s.yaml` declares it, from the bundle built once
 * per test run, and invoked the way FC's callers do: the official `@alicloud/fc20230330` client over HTTP.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { readServerlessYaml } from '../../local-cloud/fc';
import type { FunctionSpec, InvocationRecord } from '../../local-cloud/fc/types';
import type { RotationReport } from '../../functions/rotate/report';
import { createFcClient, type Invocation, invokeFunction } from '../../scripts/invoke/fc';
import { builtCodeRoot } from '../helpers/built';
import { findLeaks } from '../helpers/rotate';
import { defaultKey } from '../helpers/sdk';
import { secretName } from '../rotate/fixture';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const EVENTS_DIR = join(REPO, 'events');
export const FUNCTION_NAME = 'mongodb-root-rotation';

/** `node scripts/build.mjs --outdir <tmp>/dist`: returns the folder that s.yaml's `code: ./dist/rotate` is relative to. */
/** The functions built once for the test run (test/helpers/built.ts): the folder holding `dist/`. */
export async function buildBundle(): Promise<string> {
  return builtCodeRoot();
}

/** The shared build stays for the other suites; the run's global setup removes it. */
export function removeBundle(_codeRoot: string | undefined): void {}

export interface DeployOptions {
  /** The instances of ROTATION_TARGETS; their secrets are named as in the fixture. */
  targets: string[];
  /** Variables over s.yaml's (e.g. EVENT_SOURCES). */
  environment?: Record<string, string>;
  timeoutSeconds?: number;
  maxAsyncRetryAttempts?: number;
}

/**
 * Deploys s.yaml's rotate function with its environment resolved as `s deploy` would, from a deployer's
 * environment that points the endpoints at the local cloud.
 */
export function deployRotation(cloud: LocalCloud, codeRoot: string, options: DeployOptions): FunctionSpec {
  const specs = readServerlessYaml(join(REPO, 's.yaml'), {
    codeRoot,
    accountId: cloud.accountId,
    env: {
      ALIBABA_CLOUD_REGION_ID: cloud.region,
      DDS_ENDPOINT: cloud.endpoint,
      KMS_ENDPOINT: cloud.endpoint,
      ROTATION_FC_ENDPOINT: cloud.endpoint,
      ROTATION_TARGETS: JSON.stringify(options.targets.map((instanceId) => ({ instanceId, secretName: secretName(instanceId) }))),
    },
  });
  const spec = specs.find((candidate) => candidate.name === FUNCTION_NAME);
  if (!spec) throw new Error(`s.yaml declares no function ${FUNCTION_NAME}`);
  const deployed: FunctionSpec = {
    ...spec,
    environment: { ...spec.environment, ...options.environment },
    timeoutSeconds: options.timeoutSeconds ?? spec.timeoutSeconds,
    maxAsyncRetryAttempts: options.maxAsyncRetryAttempts ?? spec.maxAsyncRetryAttempts,
  };
  cloud.fc.register(deployed);
  return deployed;
}

export function readEvent(file: string): Buffer {
  return readFileSync(join(EVENTS_DIR, file));
}

/** InvokeFunction through the official client with the cloud's plain access key. */
export function invoke(cloud: LocalCloud, event: Buffer | object, options: { async?: boolean } = {}): Promise<Invocation> {
  const key = defaultKey(cloud);
  const client = createFcClient({
    endpoint: { host: cloud.host, protocol: 'http' },
    regionId: cloud.region,
    accessKey: { accessKeyId: key.id, accessKeySecret: key.secret },
  });
  const bytes = Buffer.isBuffer(event) ? event : Buffer.from(JSON.stringify(event), 'utf8');
  return invokeFunction(client, FUNCTION_NAME, bytes, { ...options, readTimeoutMs: 60_000 });
}

/** The report a sync invocation returned; fails the test if the invocation failed. */
export function reportOf(invocation: Invocation): RotationReport {
  expect(invocation.mode).toBe('sync');
  if (invocation.mode !== 'sync') throw new Error('not a sync invocation');
  expect(invocation.failure).toBeUndefined();
  return JSON.parse(invocation.body.toString('utf8')) as RotationReport;
}

/** The report a run returned, or logged before it failed. */
export function reportOfRun(record: InvocationRecord): RotationReport | undefined {
  if (record.status === 'succeeded' && record.result) return JSON.parse(record.result.toString('utf8')) as RotationReport;
  for (const line of record.logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { report?: RotationReport };
    if (entry.report) return entry.report;
  }
  return undefined;
}

/** The DDS and KMS requests the cloud received (its log also holds the FC API's). */
export function rotationRequests(cloud: LocalCloud): LocalCloud['truth']['requests'] {
  return cloud.truth.requests.filter((request) => request.product !== 'fc');
}

/** Every role of the instance holds the password of KMS ACSCurrent, nothing is pending, and the old password is gone. */
export function expectRotatedTo(cloud: LocalCloud, instanceId: string, oldPassword: string): string {
  const name = secretName(instanceId);
  const current = cloud.truth.secretPassword(name);
  expect(current).toBeDefined();
  expect(current).not.toBe(oldPassword);
  for (const held of Object.values(cloud.truth.rootPasswords(instanceId))) expect(held).toBe(current);
  expect(cloud.truth.secretPassword(name, 'ACSPending')).toBeUndefined();
  return current!;
}

/**
 * Closes the cloud after checking it: no invariant violation, and no password in anything the function
 * printed or answered (nor in `printed`).
 */
export async function closeCheckedCloud(cloud: LocalCloud | undefined, printed: string[] = []): Promise<void> {
  if (!cloud) return;
  try {
    expect(cloud.truth.violations).toEqual([]);
    const answered = cloud.fc.invocations.flatMap((record) => [record.logs, record.result?.toString('utf8') ?? '', JSON.stringify(record.error ?? {})]);
    expect(findLeaks([...answered, ...printed], cloud.truth.passwordsSeen())).toEqual([]);
  } finally {
    await cloud.close();
  }
}
