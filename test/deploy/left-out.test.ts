/**
 * The packages left out of the bundles (scripts/build/left-out.mjs) are never reached. The built
 * functions run on the local FC, which keeps everything a run writes to stdout and stderr: whole
 * rotations (replica set and sharded cluster, with and without the login check), their error paths
 * (throttling, a refused call, a timeout, a dropped connection) and the dispatcher handing a fleet
 * over to the rotate function. No run logged a stub's `LeftOutModuleReached` line. First, a function
 * that does reach a stub shows that the line lands in its run's log, even where the error is swallowed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import type { Params } from '../../local-cloud/http/api-error';
import { LEFT_OUT_MARKER, leaveOut } from '../../scripts/build/left-out.mjs';
import { generateFleet } from '../../scripts/bench/fleet';
import { createFcClient, type Invocation, invokeFunction } from '../../scripts/invoke/fc';
import { findLeaks } from '../helpers/rotate';
import { defaultKey } from '../helpers/sdk';
import { fleet, secretName, target } from '../rotate/fixture';
import { buildBundle, deployRotation, FUNCTION_NAME, REPO, removeBundle, reportOfRun } from '../triggers/deployed';

/** The lines of every run's log (and FC's error of it) in which a stub was reached. */
function stubsReached(cloud: LocalCloud): string[] {
  return cloud.fc.invocations
    .flatMap((record) => [...record.logs.split('\n'), JSON.stringify(record.error ?? {})])
    .filter((line) => line.includes(LEFT_OUT_MARKER));
}

function invokeSync(cloud: LocalCloud, functionName: string, event: object): Promise<Invocation> {
  const key = defaultKey(cloud);
  const client = createFcClient({ endpoint: { host: cloud.host, protocol: 'http' }, regionId: cloud.region, accessKey: { accessKeyId: key.id, accessKeySecret: key.secret } });
  return invokeFunction(client, functionName, Buffer.from(JSON.stringify(event), 'utf8'), { readTimeoutMs: 60_000 });
}

describe('a stub that is reached', () => {
  let dir: string;
  let cloud: LocalCloud | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'left-out-reached-'));
    // A function that reaches three stubs: moment and lodash (packages), and a file @darabonba/typescript re-exports.
    const contents = `
      const moment = require('moment');
      const _ = require('lodash');
      const $dara = require('@darabonba/typescript');
      exports.handler = async (event) => {
        const { use } = JSON.parse(event);
        if (use === 'moment') return moment().format();
        if (use === 'websocket') return typeof $dara.newWebSocketClientAndConnect;
        try { _.merge({}, { a: 1 }); } catch {}
        return 'swallowed';
      };`;
    const options = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent' } as const;
    await build({ ...options, stdin: { contents, resolveDir: REPO }, outfile: join(dir, 'code', 'index.js'), plugins: [leaveOut()] });
  });

  afterEach(async () => {
    await cloud?.close();
    cloud = undefined;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails the run with LeftOutModuleReached, and names the module in the log even when the error is swallowed', async () => {
    cloud = await startCloud({ port: 0, fixture: fleet() });
    cloud.fc.register({ name: 'reaches-a-stub', codeDir: join(dir, 'code'), handler: 'index.handler', timeoutSeconds: 30, memoryMB: 128, environment: {} });
    const failure = (invocation: Invocation) => (invocation.mode === 'sync' ? invocation.failure : undefined);

    const called = await invokeSync(cloud, 'reaches-a-stub', { use: 'moment' });
    expect(failure(called)).toMatchObject({ errorType: LEFT_OUT_MARKER, errorMessage: expect.stringMatching(/^moment was left out of this bundle by scripts\/build\.mjs/) });
    const reExported = await invokeSync(cloud, 'reaches-a-stub', { use: 'websocket' });
    expect(failure(reExported)).toMatchObject({ errorType: LEFT_OUT_MARKER, errorMessage: expect.stringMatching(/^@darabonba\/typescript\/websocket was left out/) });
    const swallowed = await invokeSync(cloud, 'reaches-a-stub', { use: 'lodash' });
    expect(swallowed.mode === 'sync' && swallowed.body.toString('utf8')).toBe('swallowed');

    expect(cloud.fc.invocations.map((record) => record.logs.split('\n').find((line) => line.startsWith(`${LEFT_OUT_MARKER}: `)))).toEqual([
      `${LEFT_OUT_MARKER}: moment called`,
      `${LEFT_OUT_MARKER}: @darabonba/typescript/websocket read .newWebSocketClientAndConnect`,
      `${LEFT_OUT_MARKER}: lodash read .merge`,
    ]);
    expect(stubsReached(cloud).length).toBeGreaterThanOrEqual(3);
  });
});

describe('the built functions never reach a stub', () => {
  let codeRoot: string;
  let cloud: LocalCloud | undefined;

  beforeAll(async () => {
    codeRoot = await buildBundle();
  }, 60_000);

  afterEach(async () => {
    if (!cloud) return;
    const current = cloud;
    cloud = undefined;
    try {
      expect(current.truth.violations).toEqual([]);
      expect(findLeaks(current.fc.invocations.map((r) => r.logs), current.truth.passwordsSeen())).toEqual([]);
    } finally {
      await current.close();
    }
  });

  afterAll(() => removeBundle(codeRoot));

  const RS = 'dds-rs0leftout01';
  const SHARDED = 'dds-sh0leftout01';
  const RS_VERIFIED = 'dds-rs0leftout02';
  const SHARDED_VERIFIED = 'dds-sh0leftout02';
  const THROTTLED = 'dds-rs0leftout03';
  const REFUSED_DDS = 'dds-rs0leftout04';
  const REFUSED_KMS = 'dds-sh0leftout04';
  const DROPPED = 'dds-rs0leftout05';
  const TIMED_OUT = 'dds-sh0leftout06';
  const SHORT = 'rotation-short';

  const instance = (params: Params) => params.DBInstanceId;
  const secretOf = (params: Params) => params.SecretName;

  /** One sync invocation; each target's outcome as the run's report gives it. */
  async function rotate(functionName: string, instanceIds: string[]): Promise<Record<string, string | undefined>> {
    const invocation = await invokeSync(cloud!, functionName, { instanceIds });
    const record = cloud!.fc.invocations.find((r) => r.requestId === invocation.requestId);
    const report = record && reportOfRun(record);
    return Object.fromEntries(instanceIds.map((id) => [id, report?.results.find((r) => r.instanceId === id)?.outcome]));
  }

  it('rotates replica sets and sharded clusters, with and without the login check, through throttling, refusals, a dropped connection and a timeout', async () => {
    const sharded = { type: 'sharding' as const };
    cloud = await startCloud({
      port: 0,
      fixture: fleet(
        target(RS),
        target(SHARDED, sharded),
        target(RS_VERIFIED),
        target(SHARDED_VERIFIED, sharded),
        target(THROTTLED),
        target(REFUSED_DDS),
        target(REFUSED_KMS, sharded),
        target(DROPPED),
        target(TIMED_OUT, sharded),
      ),
      mongoPeers: [RS_VERIFIED, SHARDED_VERIFIED],
    });
    const ids = [RS, SHARDED, RS_VERIFIED, SHARDED_VERIFIED, THROTTLED, REFUSED_DDS, REFUSED_KMS, DROPPED, TIMED_OUT];
    const targets = ids.map((instanceId) => ({ instanceId, secretName: secretName(instanceId), verify: instanceId === RS_VERIFIED || instanceId === SHARDED_VERIFIED }));
    const spec = deployRotation(cloud, codeRoot, { targets: ids, environment: { ROTATION_TARGETS: JSON.stringify(targets) } });
    // FC's timeout of 4 s leaves the function 2 s of work: a held call times out quickly.
    cloud.fc.register({ ...spec, name: SHORT, timeoutSeconds: 4 });

    expect(await rotate(FUNCTION_NAME, [RS, SHARDED])).toEqual({ [RS]: 'rotated', [SHARDED]: 'rotated' });

    expect(await rotate(FUNCTION_NAME, [RS_VERIFIED, SHARDED_VERIFIED])).toEqual({ [RS_VERIFIED]: 'rotated', [SHARDED_VERIFIED]: 'rotated' });
    const verified = cloud.fc.invocations.at(-1)!.logs.split('\n').filter((line) => line.includes('"step":"verify"'));
    const byInstance = (a: { instanceId: string }, b: { instanceId: string }) => a.instanceId.localeCompare(b.instanceId);
    expect(verified.map((line) => JSON.parse(line) as { instanceId: string }).sort(byInstance)).toMatchObject([
      { instanceId: RS_VERIFIED, outcome: 'ok' },
      { instanceId: SHARDED_VERIFIED, outcome: 'ok' },
    ]);

    cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', when: (p) => instance(p) === THROTTLED, code: 'Throttling.User', times: 2 });
    cloud.faults.error({ product: 'kms', action: 'PutSecretValue', when: (p) => secretOf(p) === secretName(THROTTLED), code: 'Rejected.Throttling', times: 2 });
    cloud.faults.throttle({ product: 'kms', qps: 5 });
    cloud.faults.drop({ product: 'dds', action: 'DescribeDBInstanceAttribute', when: (p) => instance(p) === DROPPED, times: 1 });
    expect(await rotate(FUNCTION_NAME, [THROTTLED, DROPPED])).toEqual({ [THROTTLED]: 'rotated', [DROPPED]: 'rotated' });

    cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', when: (p) => instance(p) === REFUSED_DDS, code: 'Forbidden.RAM', times: Infinity });
    cloud.faults.error({ product: 'kms', action: 'PutSecretValue', when: (p) => secretOf(p) === secretName(REFUSED_KMS), code: 'Forbidden.NoPermission', times: Infinity });
    expect(await rotate(FUNCTION_NAME, [REFUSED_DDS, REFUSED_KMS])).toEqual({ [REFUSED_DDS]: 'failed', [REFUSED_KMS]: 'failed' });

    cloud.faults.hang({ product: 'dds', action: 'ResetAccountPassword', when: (p) => instance(p) === TIMED_OUT, ms: 3_000, times: 1 });
    expect(await rotate(SHORT, [TIMED_OUT])).toEqual({ [TIMED_OUT]: 'failed' });
    expect(cloud.fc.invocations.at(-1)!.logs).toMatch(/RequestTimeout|DeadlineExceeded/);
    await cloud.faults.settled();
    cloud.faults.clear();
    expect(await rotate(FUNCTION_NAME, [TIMED_OUT])).toEqual({ [TIMED_OUT]: 'resumed' });

    expect(cloud.fc.invocations).toHaveLength(6);
    expect(stubsReached(cloud)).toEqual([]);
  }, 120_000);

  it('dispatches a fleet to the rotate function, a refused hand-over included', async () => {
    const generated = generateFleet({ instances: 3, shardedRatio: 0.34 });
    cloud = await startCloud({ port: 0, fixture: generated.fixture });
    cloud.fc.registerFromServerlessYaml(join(REPO, 's.yaml'), { codeRoot, accountId: cloud.accountId, env: { ROTATION_TAG: 'rotation=enabled' } });
    cloud.fc.putConcurrency(FUNCTION_NAME, 3);
    const dispatcher = cloud.fc.spec('mongodb-root-rotation-dispatch');
    cloud.fc.register({ ...dispatcher, triggers: dispatcher.triggers?.map((t) => ({ ...t, enable: true })) });
    cloud.faults.error({ product: 'fc', action: 'InvokeFunction', code: 'AccessDenied', httpStatus: 403, times: 1 });

    const dispatched = await cloud.fc.fireTimer('mongodb-root-rotation-dispatch', 'fleet-dispatch', { triggerTime: '2026-11-27T03:00:00Z' });
    expect(dispatched.status).toBe('failed');
    expect(dispatched.error?.errorMessage).toMatch(/could not hand over 1 targets?: dds-fleet\d+ \(AccessDenied\)$/);
    await cloud.fc.whenIdle();

    expect(cloud.fc.asyncOutcomes.filter((o) => o.functionName === FUNCTION_NAME && o.status === 'succeeded')).toHaveLength(2);
    expect(stubsReached(cloud)).toEqual([]);
  }, 60_000);
});
