/**
 * The API calls one rotation makes, counted from the local cloud's request log: at the rate limits, every
 * call the protocol does not need is time the fleet waits. A tagged replica set takes 8 calls, a tagged
 * sharded cluster 9 (its second reset); a target named in ROTATION_TARGETS one more (its inspection).
 */
import { describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { useCloudPerTest } from '../helpers/cloud';
import { generateFleet } from '../../scripts/bench/fleet';
import { type RotationRun, rotationEnv, runRotation } from '../helpers/rotate';

const TAGGED = { ROTATION_TAG: 'rotation=enabled', ROTATION_TARGETS: undefined };
const INSPECT = 'DescribeDBInstanceAttribute';

/** A fresh rotation, in the order the protocol makes its calls. */
const ROTATION = {
  stage: ['ListSecretVersionIds', 'PutSecretValue', 'ListSecretVersionIds'],
  // Move ACSCurrent, remove ACSPending, then one list to see where the labels landed.
  promote: ['UpdateSecretVersionStage', 'UpdateSecretVersionStage', 'ListSecretVersionIds'],
};
const replicaSetCalls = [...ROTATION.stage, 'ResetAccountPassword', INSPECT, ...ROTATION.promote];
const shardedCalls = [...ROTATION.stage, 'ResetAccountPassword', 'ResetAccountPassword', INSPECT, ...ROTATION.promote];

describe('API calls per rotation', () => {
  const startCloud = useCloudPerTest();

  async function rotate(env: Record<string, string | undefined>, event: object = {}) {
    const fleet = generateFleet({ instances: 4, shardedRatio: 0.5 });
    const cloud = await startCloud({ fixture: fleet.fixture });
    const configured = fleet.instances.map(({ id, secretName }) => ({ instanceId: id, secretName }));
    const run = await runRotation(cloud, { env: rotationEnv(cloud, configured, { MAX_CONCURRENCY: '1', ...env }), event });
    return { fleet, run, current: cloud };
  }

  /** Each target's calls in order: DDS ones by DBInstanceId, KMS ones by SecretName. */
  function callsOf(current: LocalCloud, instanceId: string): string[] {
    return current.truth.requests.filter((r) => r.params.DBInstanceId === instanceId || r.params.SecretName === `mongodb/${instanceId}/root`).map((r) => r.action);
  }

  const expectRotated = (run: RotationRun, count: number) => expect(run.report?.summary).toMatchObject({ rotated: count, failed: 0 });

  it('tagged: 8 for a replica set, 9 for a sharded cluster; discovery lists once per instance type', async () => {
    const { fleet, run, current } = await rotate(TAGGED);

    expectRotated(run, 4);
    for (const { id, type } of fleet.instances) expect(callsOf(current, id), `${type} ${id}`).toEqual(type === 'sharding' ? shardedCalls : replicaSetCalls);
    expect(current.truth.requests.filter((r) => r.action === 'DescribeDBInstances')).toHaveLength(2);
    expect(current.truth.requests).toHaveLength(2 + 2 * 8 + 2 * 9);
  });

  it('configured in ROTATION_TARGETS: one more, the inspection, at most 9 and 10', async () => {
    const { fleet, run, current } = await rotate({});

    expectRotated(run, 4);
    for (const { id, type } of fleet.instances) {
      expect(callsOf(current, id)).toEqual([INSPECT, ...(type === 'sharding' ? shardedCalls : replicaSetCalls)]);
    }
    expect(current.truth.requests).toHaveLength(2 * 9 + 2 * 10);
  });

  it('named in a fanned-out invocation: the lookup that admits the instance is its inspection', async () => {
    const probe = generateFleet({ instances: 4, shardedRatio: 0.5 }).instances;
    const { run, current } = await rotate(TAGGED, { instanceIds: [probe[0].id], rotationId: 'fleet-7' });

    expectRotated(run, 1);
    expect(callsOf(current, probe[0].id)).toEqual([INSPECT, ...replicaSetCalls]);
    expect(current.truth.requests).toHaveLength(1 + replicaSetCalls.length);
  });
});
