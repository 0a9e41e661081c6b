/**
 * `npm run status` over a generated fleet of 200 with every state staged: each instance seen in its
 * state, at the function's shared API rates (DDS_QPS, KMS_QPS) whatever --concurrency says.
 */
import { describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { useCloudPerTest } from '../helpers/cloud';
import { statusJson } from './run';
import { expectedCounts, refuseUnreadable, stagedFleet, statusEnv } from './staged-fleet';

const FLEET_SIZE = 200;
const throttledAnswers = (cloud: LocalCloud) => cloud.truth.requests.filter((r) => r.code === 'Throttling.User' || r.code === 'Rejected.Throttling');

describe('npm run status on a fleet of 200', () => {
  const startCloud = useCloudPerTest();

  async function start() {
    const staged = stagedFleet(FLEET_SIZE);
    const cloud = await startCloud({ fixture: staged.fixture });
    refuseUnreadable(cloud, staged);
    return { staged, cloud };
  }

  it('sees every instance in its staged state, with progress on stderr', async () => {
    const { staged, cloud } = await start();
    const { code, report, stderr } = await statusJson(['--concurrency', '16'], statusEnv(cloud, staged));

    expect(code).toBe(1);
    expect(report.targets).toHaveLength(FLEET_SIZE);
    expect(new Map(report.targets.map((t) => [t.instanceId, t.state]))).toEqual(staged.expected);
    expect(report.summary.states).toMatchObject(expectedCounts(staged));
    expect(report.summary.attention).toBe(report.targets.filter((t) => t.attention).length);
    expect(stderr).toMatch(/status: 199 tagged instances\n/); // the 200th is a configured target without an instance
    expect(stderr).toMatch(/status: reading 200 targets, 16 at once/);
    expect(stderr).toMatch(/status: 200\/200 read in \d+\.\d s\n$/);
    // Listing pages of 100 per instance type, one version listing per target, one description for the configured
    // target no tag finds.
    const pages = ['replicate', 'sharding'].reduce((sum, type) => sum + Math.ceil(staged.fixture.instances.filter((i) => i.type === type).length / 100), 0);
    expect(cloud.truth.requests.filter((r) => r.action === 'DescribeDBInstances')).toHaveLength(pages);
    expect(cloud.truth.requests.filter((r) => r.action === 'ListSecretVersionIds')).toHaveLength(FLEET_SIZE);
    expect(cloud.truth.requests.filter((r) => r.action === 'DescribeDBInstanceAttribute')).toHaveLength(1);
  });

  it('keeps to DDS_QPS and KMS_QPS the APIs grant: nothing is throttled, whatever the concurrency', async () => {
    const { staged, cloud } = await start();
    cloud.faults.throttle({ product: 'dds', qps: 5 });
    cloud.faults.throttle({ product: 'kms', qps: 40 });
    const { report, stderr } = await statusJson(['--concurrency', '64'], statusEnv(cloud, staged, { DDS_QPS: '5', KMS_QPS: '40' }));

    expect(stderr).toMatch(/64 at once \(DDS 5\/s, KMS 40\/s\)/);
    expect(throttledAnswers(cloud)).toEqual([]);
    expect(report.targets.filter((t) => t.state === 'unreadable')).toHaveLength(1); // the one staged
  });

  it('finds the rate by backing off when none is configured, and still reads every target', async () => {
    const { staged, cloud } = await start();
    cloud.faults.throttle({ product: 'kms', qps: 25 });
    const { report } = await statusJson(['--concurrency', '32'], statusEnv(cloud, staged));

    expect(new Map(report.targets.map((t) => [t.instanceId, t.state]))).toEqual(staged.expected);
    const throttled = throttledAnswers(cloud);
    expect(throttled.length).toBeLessThan((cloud.truth.requests.length - throttled.length) / 2);
  });
});
