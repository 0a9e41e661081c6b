/**
 * EventBridge incidents through FC's own invocation path: at-least-once delivery rotates once, refusals
 * write nothing, and a run that fails or is killed is completed by the next one with the same password.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { fleet, secretName, target } from '../rotate/fixture';
import {
  buildBundle,
  closeCheckedCloud,
  deployRotation,
  type DeployOptions,
  expectRotatedTo,
  invoke,
  removeBundle,
  reportOf,
  reportOfRun,
  rotationRequests,
} from './deployed';

const SESSIONS = 'dds-bp17d3a9c5e1f2b64';
const CATALOG = 'dds-bp1e8f0b6c2a7d4e1';
const OLD = { [SESSIONS]: 'Old#Sessions-Pw1', [CATALOG]: 'Old#Catalog-Pw1' };

/** A CloudEvent as EventBridge delivers it to FC. */
function incident(data: object, overrides: Record<string, unknown> = {}) {
  return {
    specversion: '1.0',
    id: 'incident-0001',
    source: 'acs.actiontrail',
    type: 'actiontrail:ActionTrail:ApiCall',
    time: '2026-11-27T08:15:30Z',
    aliyunaccountid: '1234567890123456',
    data,
    ...overrides,
  };
}

const count = (cloud: LocalCloud, action: string) => cloud.truth.requests.filter((r) => r.action === action).length;

describe('EventBridge incidents through the local FC', () => {
  let codeRoot: string;
  let cloud: LocalCloud | undefined;

  beforeAll(async () => {
    codeRoot = await buildBundle();
  });

  afterAll(() => removeBundle(codeRoot));

  afterEach(async () => {
    await closeCheckedCloud(cloud);
    cloud = undefined;
  });

  /** Both instances rotated two days ago: not due, so only a forced run rotates them. */
  async function start(options: Partial<DeployOptions> = {}): Promise<LocalCloud> {
    cloud = await startCloud({
      port: 0,
      fixture: fleet(target(SESSIONS, { password: OLD[SESSIONS], age: '-2d' }), target(CATALOG, { type: 'sharding', password: OLD[CATALOG], age: '-2d' })),
    });
    deployRotation(cloud, codeRoot, { targets: [SESSIONS, CATALOG], ...options });
    return cloud;
  }

  it('the same event delivered three times rotates once: one new version, one reset', async () => {
    const cloud = await start();
    const event = Buffer.from(JSON.stringify(incident({ requestParameters: { DBInstanceId: SESSIONS } })));
    const deliveries = await Promise.all([1, 2, 3].map(() => invoke(cloud, event, { async: true })));
    await cloud.fc.whenIdle();

    expect(new Set(deliveries.map((d) => d.requestId)).size).toBe(3);
    expect(cloud.fc.asyncOutcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const results = cloud.fc.invocations.map((run) => reportOfRun(run)!.results[0]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['rotated', 'skipped', 'skipped']);
    expect(new Set(results.map((r) => r.versionId)).size).toBe(1);
    expect(results.filter((r) => r.outcome === 'skipped').map((r) => r.reason)).toEqual(['already rotated by this trigger', 'already rotated by this trigger']);
    expect(cloud.truth.secret(secretName(SESSIONS))?.versions).toHaveLength(2);
    expect(count(cloud, 'PutSecretValue')).toBe(1);
    expect(count(cloud, 'ResetAccountPassword')).toBe(1);
    expectRotatedTo(cloud, SESSIONS, OLD[SESSIONS]);
  });

  it('another event for the same instance waits out the cooldown, then is another rotation', async () => {
    const cloud = await start();
    reportOf(await invoke(cloud, incident({ instanceId: SESSIONS })));
    const first = expectRotatedTo(cloud, SESSIONS, OLD[SESSIONS]);
    const resets = rotationRequests(cloud).filter((r) => r.action === 'ResetAccountPassword').length;

    const cooling = reportOf(await invoke(cloud, incident({ instanceId: SESSIONS }, { id: 'incident-0002' })));
    expect(cooling.results).toMatchObject([{ instanceId: SESSIONS, outcome: 'skipped', reason: expect.stringMatching(/^cooldown: ACSCurrent is 0 minutes old/) }]);
    expect(rotationRequests(cloud).filter((r) => r.action === 'ResetAccountPassword')).toHaveLength(resets);

    deployRotation(cloud, codeRoot, { targets: [SESSIONS, CATALOG], environment: { FORCED_ROTATION_COOLDOWN_MINUTES: '0' } });
    const again = reportOf(await invoke(cloud, incident({ instanceId: SESSIONS }, { id: 'incident-0003' })));
    expect(again.results).toMatchObject([{ instanceId: SESSIONS, outcome: 'rotated' }]);
    expectRotatedTo(cloud, SESSIONS, first);
  });

  it('refuses an event that names no instance (incidents fail closed), sync and async, reading and writing nothing', async () => {
    const cloud = await start();
    const event = incident({ eventName: 'DeleteDisk', referencedResources: { 'ACS::ECS::Disk': ['d-8vbf8rpv2nn0l1zm0001'] } });
    const sync = await invoke(cloud, event);
    await invoke(cloud, incident({}, { id: 'incident-0002', source: 'acs.sas', type: 'sas:Incident' }), { async: true });
    await cloud.fc.whenIdle();

    expect(sync.mode === 'sync' && sync.failure).toEqual({
      errorType: 'EventScopeError',
      errorMessage: expect.stringMatching(/^Refusing the event: it names no instance .*to rotate every target, the event must say "allTargets": true in its data\. Nothing was changed$/),
    });
    expect(cloud.fc.asyncOutcomes).toMatchObject([{ status: 'failed', destination: 'onFailure' }]);
    expect(rotationRequests(cloud)).toEqual([]);
  });

  it('an event whose data says "allTargets": true forces every target', async () => {
    const cloud = await start();
    const report = reportOf(await invoke(cloud, incident({ allTargets: true, reason: 'SOC: credentials exposed' }, { source: 'acs.sas', type: 'sas:Incident' })));

    expect(report.results.map((r) => [r.instanceId, r.outcome])).toEqual([
      [SESSIONS, 'rotated'],
      [CATALOG, 'rotated'],
    ]);
    expectRotatedTo(cloud, SESSIONS, OLD[SESSIONS]);
    expectRotatedTo(cloud, CATALOG, OLD[CATALOG]);
  });

  it('takes the instances from ActionTrail referencedResources, as EventBridge delivers them without requestParameters', async () => {
    const cloud = await start();
    const data = { eventName: 'ModifySecurityIps', eventRW: 'Write', serviceName: 'Dds', referencedResources: { 'ACS::Dds::DBInstance': [CATALOG], 'ACS::VPC::VSwitch': ['vsw-bp1a2b3c'] } };
    const report = reportOf(await invoke(cloud, incident(data)));

    expect(report.trigger).toMatchObject({ kind: 'event', instanceIds: [CATALOG] });
    expect(report.results).toMatchObject([{ instanceId: CATALOG, outcome: 'rotated' }]);
    expectRotatedTo(cloud, CATALOG, OLD[CATALOG]);
    expect(cloud.truth.rootPassword(SESSIONS)).toBe(OLD[SESSIONS]);
  });

  it('skips an ActionTrail record of a call that failed (errorCode): a warning in the log, nothing read or written', async () => {
    const cloud = await start();
    const data = { eventName: 'AllocatePublicNetworkAddress', errorCode: 'Forbidden.RAM', errorMessage: 'User not authorized', referencedResources: { 'ACS::Dds::DBInstance': [SESSIONS] } };
    const invocation = await invoke(cloud, incident(data));

    expect(invocation.mode === 'sync' && invocation.failure).toBeUndefined();
    const [run] = cloud.fc.invocations;
    const warnings = run.logs.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: string; msg: string }).filter((e) => e.level === 'warn');
    expect(warnings.map((e) => e.msg)).toEqual([
      'skipping the event: it records a call "AllocatePublicNetworkAddress" that failed (errorCode "Forbidden.RAM") and so changed nothing; nothing is rotated',
    ]);
    expect(rotationRequests(cloud).filter((r) => r.write)).toEqual([]);
    expect(cloud.truth.rootPassword(SESSIONS)).toBe(OLD[SESSIONS]);
  });

  it('takes the instance from an ActionTrail resourceName, plain or as an ARN', async () => {
    const cloud = await start();
    const arn = `acs:dds:cn-hangzhou:1234567890123456:dbinstance/${CATALOG}`;
    const report = reportOf(await invoke(cloud, incident({ resourceName: arn })));

    expect(report.trigger).toMatchObject({ kind: 'event', instanceIds: [CATALOG] });
    expectRotatedTo(cloud, CATALOG, OLD[CATALOG]);
    expect(cloud.truth.rootPassword(SESSIONS)).toBe(OLD[SESSIONS]);
  });

  it('refuses a source outside EVENT_SOURCES, sync and async, and writes nothing', async () => {
    const cloud = await start();
    const event = incident({ instanceId: SESSIONS }, { source: 'acs.ecs' });
    const sync = await invoke(cloud, event);
    await invoke(cloud, event, { async: true });
    await cloud.fc.whenIdle();

    expect(sync.mode === 'sync' && sync.failure).toEqual({
      errorType: 'EventSourceError',
      errorMessage: 'Refusing the event: its source "acs.ecs" is not in EVENT_SOURCES (acs.actiontrail,acs.sas); add it there to let it force rotations. Nothing was changed',
    });
    expect(cloud.fc.asyncOutcomes).toMatchObject([{ status: 'failed', attempts: 3, destination: 'onFailure' }]);
    expect(rotationRequests(cloud)).toEqual([]);
  });

  it('refuses an event naming an instance that is not a target, even next to one that is', async () => {
    const cloud = await start();
    for (const data of [{ instanceId: 'dds-bp15f9e3d7b1c8a20' }, { instanceIds: [SESSIONS, 'dds-bp15f9e3d7b1c8a20'] }]) {
      const invocation = await invoke(cloud, incident(data));
      expect(invocation.mode === 'sync' && invocation.failure).toEqual({
        errorType: 'PlanError',
        errorMessage: 'Refusing the invocation: "dds-bp15f9e3d7b1c8a20" is not a rotation target (ROTATION_TARGETS); nothing was changed',
      });
    }
    expect(rotationRequests(cloud)).toEqual([]);
    expect(cloud.truth.rootPassword(SESSIONS)).toBe(OLD[SESSIONS]);
  });

  it("an async run that fails on a retryable fault is completed by FC's retry, with the same password", async () => {
    // Deadline at half of 4 s: the first run retries the promote until then, fails, and FC retries the event.
    const cloud = await start({ timeoutSeconds: 4 });
    const firstRunOngoing = () => cloud.fc.invocations.length === 0;
    cloud.faults.error({ product: 'kms', action: 'UpdateSecretVersionStage', code: 'ServiceUnavailable', httpStatus: 503, rate: 1, when: firstRunOngoing });
    const applied = new Set<string>();
    cloud.faults.onAction({ product: 'kms', action: 'UpdateSecretVersionStage', phase: 'before' }, () => {
      applied.add(cloud.truth.rootPassword(SESSIONS));
    });

    await invoke(cloud, incident({ instanceId: SESSIONS }), { async: true });
    await cloud.fc.whenIdle();

    expect(cloud.fc.asyncOutcomes).toMatchObject([{ status: 'succeeded', attempts: 2 }]);
    const [first, retry] = cloud.fc.invocations;
    expect(first.status).toBe('failed');
    // Given up at its deadline: on the last 503, or, on a loaded machine, as the next try found no time left.
    expect(reportOfRun(first)?.results).toMatchObject([{ outcome: 'failed', error: { code: expect.stringMatching(/^(ServiceUnavailable|DeadlineExceeded)$/) } }]);
    expect(reportOfRun(retry)?.results).toMatchObject([{ outcome: 'resumed' }]);
    const current = expectRotatedTo(cloud, SESSIONS, OLD[SESSIONS]);
    expect([...applied]).toEqual([current]);
    expect(count(cloud, 'PutSecretValue')).toBe(1);
  });

  it('a run killed by the function timeout leaves ACSPending; redelivered once the timeout is raised, it resumes', async () => {
    // Freezing the instance right after the reset stands for work that outlasts the timeout: FC kills it.
    const cloud = await start({ timeoutSeconds: 3 });
    let frozen = false;
    cloud.faults.onAction({ product: 'dds', action: 'ResetAccountPassword', phase: 'after' }, () => {
      if (frozen) return;
      frozen = true;
      for (const pid of cloud.fc.pids()) process.kill(pid, 'SIGSTOP');
    });
    const event = incident({ instanceId: SESSIONS });

    const killed = await invoke(cloud, event);
    expect(killed.mode === 'sync' && killed.failure?.errorMessage).toBe('Function time out after 3 seconds');
    expect(cloud.fc.invocations[0].status).toBe('timeout');
    const name = secretName(SESSIONS);
    const pending = cloud.truth.secretPassword(name, 'ACSPending');
    expect(pending).toBeDefined();
    expect(cloud.truth.rootPassword(SESSIONS)).toBe(pending);
    expect(cloud.truth.secretPassword(name)).toBe(OLD[SESSIONS]);

    // The timeout goes back to s.yaml's (a new deployment), and the event is delivered again.
    deployRotation(cloud, codeRoot, { targets: [SESSIONS, CATALOG] });
    const resumed = reportOf(await invoke(cloud, event));
    expect(resumed.results).toMatchObject([{ instanceId: SESSIONS, outcome: 'resumed' }]);
    expect(expectRotatedTo(cloud, SESSIONS, OLD[SESSIONS])).toBe(pending);
    expect(count(cloud, 'PutSecretValue')).toBe(1);
  });
});
