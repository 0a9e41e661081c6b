/**
 * Concurrent invocations of the deployed function through the local FC, with its reserved concurrency off
 * (as many instances as invocations) and at 1 (as `npm run deploy` sets it): what the protocol keeps
 * consistent on its own, and what the reserved concurrency adds on top.
 *
 * Off: the runs race. Each ends consistent and the last one leaves the database on ACSCurrent's password;
 * races merge (a run whose version lost ACSPending takes the newer one over), so five forced invocations give
 * one to five rotations. In the window races.test.ts forces (a PutSecretValue already on the wire when
 * another run applied its password) the invariant breaks until the late run applies its own: with real
 * processes that window is hit now and then, so this suite does not count violations when concurrency is off.
 * At 1: FC runs one invocation at a time, async ones queue, so no window ever opens: every forced invocation
 * is a rotation of its own, none overlaps another, and the monitor stays silent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import type { RotationReport } from '../../functions/rotate/report';
import { useSecrecyWatch } from '../helpers/secrecy';
import { fleet, secretName, target } from '../rotate/fixture';
import { buildBundle, deployRotation, FUNCTION_NAME, invoke, removeBundle, reportOf, reportOfRun } from '../triggers/deployed';
import { expectConsistent, KMS_BEHAVIOURS, setKmsBehaviour } from './races-choreography';

const SHARDED = 'dds-sh0racesfc001';
const TIMER = 'daily-rotation';
const FORCED = (i: number) => ({ force: true, rotationId: `fc-race-${i}`, reason: 'race drill' });

/** What EventBridge delivers for an incident naming the instance. */
const incident = (id: string) => ({
  specversion: '1.0',
  id,
  source: 'acs.actiontrail',
  type: 'actiontrail:ActionTrail:ApiCall',
  time: '2026-11-27T08:15:30Z',
  data: { requestParameters: { DBInstanceId: SHARDED } },
});

describe.each(KMS_BEHAVIOURS)('concurrent invocations through the local FC (KMS: %s a RemoveFromVersion without the stage)', (behaviour) => {
  const watch = useSecrecyWatch();
  let codeRoot: string;
  let cloud: LocalCloud | undefined;

  beforeAll(async () => {
    codeRoot = await buildBundle();
  });
  afterAll(() => removeBundle(codeRoot));
  afterEach(async () => {
    await cloud?.close();
    cloud = undefined;
  });

  async function deploy(reservedConcurrency: number | undefined): Promise<LocalCloud> {
    const fixture = fleet(target(SHARDED, { type: 'sharding', password: 'Old#RaceFc-Pw1', age: '-40d' }));
    // Off, real processes race with nothing keeping them apart: the window races.test.ts forces opens now and then.
    const raced = { violationsAllowed: 'runs race through FC with reserved concurrency off, so the window of a late PutSecretValue opens at random' };
    cloud = await watch.start({ fixture }, reservedConcurrency === undefined ? raced : undefined);
    setKmsBehaviour(cloud, behaviour);
    // Every forced invocation here must be a rotation of its own: no cooldown between them.
    deployRotation(cloud, codeRoot, { targets: [SHARDED], timeoutSeconds: 60, environment: { FORCED_ROTATION_COOLDOWN_MINUTES: '0' } });
    cloud.fc.putConcurrency(FUNCTION_NAME, reservedConcurrency);
    return cloud;
  }

  const versionsAfterSeed = (c: LocalCloud) => c.truth.secret(secretName(SHARDED))!.versions.slice(1);
  const writes = (c: LocalCloud) => c.truth.writeRequests().map((r) => r.action);
  const results = (reports: RotationReport[]) => reports.map((report) => report.results[0]);

  it('off: five forced invocations at once all succeed and end consistent, in one to five rotations', async () => {
    const c = await deploy(undefined);
    const invocations = await Promise.all([0, 1, 2, 3, 4].map((i) => invoke(c, FORCED(i))));
    const reports = invocations.map(reportOf);

    for (const result of results(reports)) expect(['rotated', 'resumed', 'skipped']).toContain(result.outcome);
    expect(results(reports).filter((r) => r.outcome === 'rotated').length).toBeGreaterThanOrEqual(1);
    expectConsistent(c, SHARDED);
    const created = versionsAfterSeed(c);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(created.length).toBeLessThanOrEqual(5);
    // They did overlap: with five instances, more than one ran at a time.
    expect(new Set(c.fc.invocations.map((record) => record.instanceId)).size).toBeGreaterThan(1);
  });

  it('at 1: five forced async invocations queue, each is a rotation of its own, none overlaps another, no violation', async () => {
    const c = await deploy(1);
    await Promise.all([0, 1, 2, 3, 4].map((i) => invoke(c, FORCED(i), { async: true })));
    await c.fc.whenIdle();

    expect(c.fc.asyncOutcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    const reports = c.fc.invocations.map((record) => reportOfRun(record)!);
    expect(results(reports).map((r) => [r.outcome, r.reason])).toEqual(Array.from({ length: 5 }, () => ['rotated', undefined]));
    expect(new Set(c.fc.invocations.map((record) => record.instanceId)).size).toBe(1);
    // One after the other: each rotation's writes (stage, two resets, promote) form a block of their own.
    const rotation = ['PutSecretValue', 'ResetAccountPassword', 'ResetAccountPassword', 'UpdateSecretVersionStage', 'UpdateSecretVersionStage'];
    expect(writes(c)).toEqual(Array.from({ length: 5 }, () => rotation).flat());
    expect(versionsAfterSeed(c).map((v) => v.stages)).toEqual([[], [], [], ['ACSPrevious'], ['ACSCurrent']]);
    expectConsistent(c, SHARDED);
    expect(c.truth.violations).toEqual([]);
  });

  it('off: a timer run racing an incident run both succeed and end consistent', async () => {
    const c = await deploy(undefined);
    const [timer, event] = await Promise.all([
      c.fc.fireTimer(FUNCTION_NAME, TIMER, { triggerTime: '2026-11-27T03:00:00Z' }),
      invoke(c, incident('incident-race-off')),
    ]);

    expect(timer.status).toBe('succeeded');
    const timerResult = reportOfRun(timer)!.results[0];
    const eventResult = reportOf(event).results[0];
    for (const result of [timerResult, eventResult]) expect(['rotated', 'resumed', 'skipped']).toContain(result.outcome);
    expect([timerResult.outcome, eventResult.outcome]).toContain('rotated');
    expectConsistent(c, SHARDED);
  });

  it('at 1: a timer run and an incident run queue; the second finds the first one\'s work', async () => {
    const c = await deploy(1);
    await Promise.all([c.fc.fireTimerAsync(FUNCTION_NAME, TIMER, { triggerTime: '2026-11-27T03:00:00Z' }), invoke(c, incident('incident-race-one'), { async: true })]);
    await c.fc.whenIdle();

    const [first, second] = c.fc.invocations.map((record) => ({ kind: reportOfRun(record)!.trigger.kind, result: reportOfRun(record)!.results[0] }));
    expect(first.result.outcome).toBe('rotated');
    if (first.kind === 'timer') {
      // The incident is forced: it rotates again, on top of the timer's rotation.
      expect(second).toMatchObject({ kind: 'event', result: { outcome: 'rotated' } });
      expect(versionsAfterSeed(c).map((v) => v.stages)).toEqual([['ACSPrevious'], ['ACSCurrent']]);
    } else {
      // The incident rotated a moment ago: the scheduled run finds the secret fresh and skips it.
      expect(second).toMatchObject({ kind: 'timer', result: { outcome: 'skipped', reason: expect.stringMatching(/^not due/) } });
      expect(versionsAfterSeed(c).map((v) => v.stages)).toEqual([['ACSCurrent']]);
    }
    expectConsistent(c, SHARDED);
    expect(c.truth.violations).toEqual([]);
  });
});
