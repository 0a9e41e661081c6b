/**
 * Finding the targets of a run (functions/rotate/plan.ts) against the local cloud, through the clients:
 * ROTATION_TAG discovery over both instance types and every page, merged with ROTATION_TARGETS without
 * duplicates, and the lookups a fanned-out invocation makes instead of listing the fleet.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { PlanError, resolveTargets } from '../../functions/shared/targets';
import { parseTrigger } from '../../functions/shared/trigger';
import { createClients } from '../../functions/shared/clients';
import { type Env, loadConfig } from '../../functions/shared/config';
import { Logger } from '../../functions/shared/logger';
import { Deadline } from '../../functions/shared/retry';
import { FLEET_ACCESS_KEY, generateFleet } from '../../scripts/bench/fleet';
import { LogCapture } from '../helpers/rotate';

const TAG = 'rotation=enabled';

describe('finding the targets', () => {
  let cloud: LocalCloud | undefined;

  afterEach(async () => {
    await cloud?.close();
    cloud = undefined;
  });

  /** A cloud holding the tagged fleet plus instances that must never be found. */
  async function start(tagged: { instances: number; shardedRatio: number }) {
    const fleet = generateFleet(tagged);
    const others = generateFleet({ instances: 3, shardedRatio: 0.5, prefix: 'other', tags: { rotation: 'disabled' } });
    const fixture = fleet.fixture as { instances: object[]; secrets: object[] };
    const otherFixture = others.fixture as typeof fixture;
    cloud = await startCloud({ port: 0, fixture: { ...fixture, instances: [...fixture.instances, ...otherFixture.instances], secrets: [...fixture.secrets, ...otherFixture.secrets] } });
    return { fleet, others, cloud };
  }

  async function resolve(current: LocalCloud, env: Env, event: object = {}) {
    const config = loadConfig({ DDS_ENDPOINT: current.endpoint, KMS_ENDPOINT: current.endpoint, ...env });
    const clients = createClients(config, current.region, { accessKeyId: FLEET_ACCESS_KEY.id, accessKeySecret: FLEET_ACCESS_KEY.secret });
    const logs = new LogCapture();
    const targets = await resolveTargets(config, parseTrigger(event, { requestId: 'req-1' }, config), clients.dds, current.region, new Deadline(Date.now() + 30_000), Logger.create({ sink: logs }));
    return { targets, logs };
  }

  const listCalls = (current: LocalCloud) =>
    current.truth.requests.filter((r) => r.action === 'DescribeDBInstances').map((r) => ({ type: r.params.DBInstanceType, page: r.params.PageNumber, size: r.params.PageSize }));

  it('lists both instance types, every page of 100, and stops at TotalCount', async () => {
    const { fleet, cloud: current } = await start({ instances: 250, shardedRatio: 0.2 });
    const { targets } = await resolve(current, { ROTATION_TAG: TAG });

    expect(targets.map((t) => t.instanceId)).toEqual(fleet.instances.map((i) => i.id));
    expect(targets.every((t) => t.secretName === `mongodb/${t.instanceId}/root`)).toBe(true);
    // Each listing serves as the target's inspection (type, status, lock mode), without its addresses.
    expect(targets.map((t) => [t.inspected?.instance.DBInstanceType, t.inspected?.instance.lockMode, t.inspected?.addresses])).toEqual(
      fleet.instances.map((i) => [i.type, 'Unlock', false]),
    );
    // 200 replica sets: two full pages and no empty third; 50 sharded clusters: one page.
    expect(listCalls(current)).toEqual([
      { type: 'replicate', page: '1', size: '100' },
      { type: 'replicate', page: '2', size: '100' },
      { type: 'sharding', page: '1', size: '100' },
    ]);
    expect(current.truth.requests.filter((r) => r.action === 'DescribeDBInstances').every((r) => r.params['Tag.1.Key'] === 'rotation' && r.params['Tag.1.Value'] === 'enabled')).toBe(true);
  });

  it('merges ROTATION_TARGETS and discovered instances without duplicates, the configured first and as configured', async () => {
    const { fleet, others, cloud: current } = await start({ instances: 4, shardedRatio: 0.5 });
    const [first, second] = fleet.instances;
    const configured = [
      { instanceId: others.instances[0].id, secretName: others.instances[0].secretName },
      { instanceId: second.id, secretName: 'custom/name/for-second' },
    ];
    const { targets } = await resolve(current, { ROTATION_TAG: TAG, ROTATION_TARGETS: JSON.stringify(configured) });

    expect(targets.map((t) => [t.instanceId, t.secretName])).toEqual([
      [others.instances[0].id, others.instances[0].secretName],
      [second.id, 'custom/name/for-second'],
      [first.id, first.secretName],
      ...fleet.instances.slice(2).map((i) => [i.id, i.secretName]),
    ]);
    expect(new Set(targets.map((t) => t.versionId)).size).toBe(targets.length);
  });

  it('looks up a few named instances one by one instead of listing the fleet, and keeps what it read as their inspection', async () => {
    const { fleet, cloud: current } = await start({ instances: 120, shardedRatio: 0.5 });
    const named = [fleet.instances[7].id, fleet.instances[100].id];
    const { targets, logs } = await resolve(current, { ROTATION_TAG: TAG }, { instanceIds: named });

    expect(targets.map((t) => t.instanceId)).toEqual(named);
    expect(targets.map((t) => [t.inspected?.instance.DBInstanceType, t.inspected?.addresses])).toEqual(named.map((id) => [fleet.instances.find((i) => i.id === id)!.type, true]));
    expect(listCalls(current)).toEqual([]);
    expect(current.truth.requests.map((r) => r.action)).toEqual(['DescribeDBInstanceAttribute', 'DescribeDBInstanceAttribute']);
    expect(logs.find((e) => e.msg === 'looked up the named instances')).toMatchObject([{ named: 2, tagged: 2 }]);
  });

  it('refuses a named instance that does not carry the tag or does not exist, after reading only', async () => {
    const { fleet, others, cloud: current } = await start({ instances: 2, shardedRatio: 0 });
    const named = [fleet.instances[0].id, others.instances[0].id, 'dds-doesnotexist'];
    await expect(resolve(current, { ROTATION_TAG: TAG }, { instanceIds: named })).rejects.toThrow(PlanError);
    await expect(resolve(current, { ROTATION_TAG: TAG }, { instanceIds: named })).rejects.toThrow(/"dds-other000001", "dds-doesnotexist" are not rotation targets/);
    expect(current.truth.writeRequests()).toEqual([]);
  });

  it('lists the fleet when more instances are named than are worth looking up', async () => {
    const { fleet, cloud: current } = await start({ instances: 30, shardedRatio: 0 });
    const named = fleet.instances.slice(0, 11).map((i) => i.id);
    const { targets } = await resolve(current, { ROTATION_TAG: TAG }, { instanceIds: named });

    expect(targets.map((t) => t.instanceId)).toEqual(named);
    expect(listCalls(current)).toHaveLength(2);
    expect(current.truth.requests.some((r) => r.action === 'DescribeDBInstanceAttribute')).toBe(false);
  });

  it('reads nothing when the trigger names configured instances only', async () => {
    const { fleet, cloud: current } = await start({ instances: 3, shardedRatio: 0 });
    const configured = fleet.instances.map((i) => ({ instanceId: i.id }));
    const { targets } = await resolve(current, { ROTATION_TAG: TAG, ROTATION_TARGETS: JSON.stringify(configured) }, { instanceIds: [fleet.instances[1].id] });

    expect(targets.map((t) => t.instanceId)).toEqual([fleet.instances[1].id]);
    expect(current.truth.requests).toEqual([]);
  });
});
