/**
 * Fleet mode end to end on the local FC: both functions deployed from s.yaml out of a bundle built once for
 * the suite, each run in its own process. The dispatcher, invoked through the official FC client, lists the
 * tagged fleet and queues one asynchronous rotate invocation per target; a repeated dispatch of the same
 * rotation queues nothing twice.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as $dara from '@darabonba/typescript';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { builtCodeRoot } from '../helpers/built';
import { startCloud } from '../helpers/cloud';
import { type DispatchReport, asyncTaskIdFor, createDispatchFunction } from '../../functions/dispatch';
import { versionIdFor } from '../../functions/shared/targets';
import { FLEET_ACCESS_KEY, type Fleet, generateFleet } from '../../scripts/bench/fleet';
import { LogCapture, findLeaks } from '../helpers/rotate';
import { fcClient, fcModels } from '../helpers/sdk';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ROTATE = 'mongodb-root-rotation';
const DISPATCH = 'mongodb-root-rotation-dispatch';

/** InvokeFunction (sync) through the official client; the body as FC returns it. */
async function invokeSync(cloud: LocalCloud, functionName: string, event: object) {
  const response = await fcClient(cloud, FLEET_ACCESS_KEY).invokeFunctionWithOptions(
    functionName,
    new fcModels.InvokeFunctionRequest({ body: Readable.from([Buffer.from(JSON.stringify(event))]) }),
    new fcModels.InvokeFunctionHeaders({ xFcInvocationType: 'Sync' }),
    new $dara.RuntimeOptions({ readTimeout: 60_000 }),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of response.body ?? []) chunks.push(Buffer.from(chunk as Buffer));
  return { errorType: response.headers?.['x-fc-error-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> };
}

describe('fleet mode: the dispatcher fans targets out to the rotate function', () => {
  let codeRoot: string;
  let cloud: LocalCloud | undefined;

  beforeAll(() => {
    codeRoot = builtCodeRoot();
  });

  afterEach(async () => {
    await cloud?.close();
    cloud = undefined;
  });

  /** Both functions as s.yaml declares them, for a deployer whose fleet is tagged rotation=enabled. */
  async function deploy(fleet: Fleet, rotations: number): Promise<LocalCloud> {
    cloud = await startCloud({ port: 0, fixture: fleet.fixture });
    const specs = cloud.fc.registerFromServerlessYaml(join(REPO, 's.yaml'), { codeRoot, accountId: cloud.accountId, env: { ROTATION_TAG: 'rotation=enabled' } });
    expect(specs.map((s) => s.name)).toEqual([ROTATE, DISPATCH]);
    // Fleet mode: several rotate instances at once (s.yaml's inline default is 1).
    cloud.fc.putConcurrency(ROTATE, rotations);
    return cloud;
  }

  it('queues one rotate invocation per target, each rotated by its own task; a repeated dispatch queues none', async () => {
    const fleet = generateFleet({ instances: 6, shardedRatio: 0.34 });
    const current = await deploy(fleet, 3);
    const event = { rotationId: 'fleet-2026-11-27', reason: 'quarterly' };

    const first = await invokeSync(current, DISPATCH, event);
    expect(first.errorType).toBeUndefined();
    expect(first.body).toMatchObject({ rotationId: 'fleet-2026-11-27', rotateFunction: ROTATE, summary: { dispatched: 6, alreadyDispatched: 0, failed: 0 }, failures: [] });
    await current.fc.whenIdle();

    const outcomes = current.fc.asyncOutcomes.filter((o) => o.functionName === ROTATE);
    expect(outcomes.map((o) => [o.taskId, o.status, o.attempts]).sort()).toEqual(
      fleet.instances.map((i) => [asyncTaskIdFor('fleet-2026-11-27', i.id, false), 'succeeded', 1]).sort(),
    );
    const runs = current.fc.invocations.filter((r) => r.functionName === ROTATE);
    expect(runs.map((r) => JSON.parse(r.event.toString('utf8'))).sort((a, b) => a.instanceIds[0].localeCompare(b.instanceIds[0]))).toEqual(
      fleet.instances.map((i) => ({ instanceIds: [i.id], rotationId: 'fleet-2026-11-27', force: false, dryRun: false, reason: 'quarterly' })),
    );
    for (const { id, secretName } of fleet.instances) {
      const secret = current.truth.secret(secretName)!;
      const versionId = versionIdFor('manual\nfleet-2026-11-27', id);
      expect(secret.versions.find((v) => v.stages.includes('ACSCurrent'))?.versionId).toBe(versionId);
      expect(current.truth.secretPassword(secretName)).toBe(current.truth.rootPassword(id));
    }
    // The fleet is listed once, by the dispatcher; each rotate invocation reads only its own instance.
    expect(current.truth.requests.filter((r) => r.action === 'DescribeDBInstances')).toHaveLength(2);
    expect(current.truth.violations).toEqual([]);
    const logs = current.fc.invocations.map((r) => r.logs);
    expect(findLeaks(logs, current.truth.passwordsSeen())).toEqual([]);

    const again = await invokeSync(current, DISPATCH, event);
    expect(again.body).toMatchObject({ summary: { dispatched: 0, alreadyDispatched: 6, failed: 0 } });
    await current.fc.whenIdle();
    expect(current.fc.invocations.filter((r) => r.functionName === ROTATE)).toHaveLength(6);
  });

  it('fails a timer dispatch when targets could not be handed over; FC’s retry of it hands over only those', async () => {
    const fleet = generateFleet({ instances: 4, shardedRatio: 0 });
    const current = await deploy(fleet, 2);
    // Fleet mode as s.yaml describes it: the dispatcher's timer enabled.
    const spec = current.fc.spec(DISPATCH);
    current.fc.register({ ...spec, triggers: spec.triggers?.map((t) => ({ ...t, enable: true })) });
    current.faults.error({ product: 'fc', action: 'InvokeFunction', code: 'AccessDenied', httpStatus: 403, times: 2 });
    const triggerTime = '2026-11-27T03:00:00Z';

    const first = await current.fc.fireTimer(DISPATCH, 'fleet-dispatch', { triggerTime });
    expect(first.status).toBe('failed');
    expect(first.error?.errorMessage).toMatch(/^dispatch fleet-dispatch@2026-11-27T03:00:00Z could not hand over 2 targets: dds-fleet\d+ \(AccessDenied\), dds-fleet\d+ \(AccessDenied\)$/);
    const retried = await current.fc.fireTimer(DISPATCH, 'fleet-dispatch', { triggerTime });
    expect(JSON.parse(retried.result!.toString('utf8'))).toMatchObject({ summary: { dispatched: 2, alreadyDispatched: 2, failed: 0 } });
    await current.fc.whenIdle();

    expect(current.fc.asyncOutcomes.filter((o) => o.functionName === ROTATE && o.status === 'succeeded')).toHaveLength(4);
    for (const { id, secretName } of fleet.instances) expect(current.truth.secretPassword(secretName)).toBe(current.truth.rootPassword(id));
    expect(current.truth.violations).toEqual([]);
  });
});

describe('the dispatcher’s configuration', () => {
  it('refuses to run without the rotate function to hand targets to, before any call', async () => {
    const logs = new LogCapture();
    const dispatcher = createDispatchFunction({ env: { ROTATION_TAG: 'rotation=enabled' }, logSink: logs });
    const refused = dispatcher.handler({}, { requestId: 'req-1' }) as Promise<DispatchReport>;
    await expect(refused).rejects.toThrow('ROTATE_FUNCTION_NAME is not set: the dispatcher hands every target to that function; for example ROTATE_FUNCTION_NAME=mongodb-root-rotation');
    expect(logs.find((e) => e.msg === 'invocation refused; nothing was dispatched')).toHaveLength(1);
  });

  it('names each target’s task after the rotation and the instance, within FC’s rule for task ids', () => {
    const id = asyncTaskIdFor('daily@2026-11-27T03:00:00Z', 'dds-bp1a2b3c4d5e6f7g', false);
    expect(id).toMatch(/^rot-[0-9a-f]{24}$/);
    expect(asyncTaskIdFor('daily@2026-11-27T03:00:00Z', 'dds-bp1a2b3c4d5e6f7g', false)).toBe(id);
    expect(asyncTaskIdFor('daily@2026-11-27T03:00:00Z', 'dds-bp1a2b3c4d5e6f7g', true)).not.toBe(id);
    expect(asyncTaskIdFor('daily@2026-11-28T03:00:00Z', 'dds-bp1a2b3c4d5e6f7g', false)).not.toBe(id);
  });
});
