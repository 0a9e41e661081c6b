/**
 * At-least-once delivery: the same timer event, the same manual rotationId and the same EventBridge event,
 * each delivered three times, one after another and all at once, rotate once. The VersionId comes from the
 * trigger's identity, so the duplicates find the version the first delivery staged: they resume it while it
 * is pending, and skip it once it is ACSCurrent. In-process, then through the local FC's invocation path.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { versionIdFor } from '../../functions/shared/targets';
import { type RotationRun, rotationEnv, runRotation } from '../helpers/rotate';
import { useSecrecyWatch } from '../helpers/secrecy';
import { fleet, secretName, target } from '../rotate/fixture';
import { buildBundle, deployRotation, FUNCTION_NAME, invoke, removeBundle, reportOf, reportOfRun } from '../triggers/deployed';
import { expectConsistent, KMS_BEHAVIOURS, setKmsBehaviour } from './races-choreography';

const RS = 'dds-rs0duplicate1';
const SHARDED = 'dds-sh0duplicate1';

const deliveries = {
  timer: {
    event: { triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily-rotation', payload: '' },
    identity: 'timer\ndaily-rotation\n2026-11-27T03:00:00Z',
  },
  manual: {
    event: { force: true, rotationId: 'change-4711', reason: 'operator drill' },
    identity: 'manual\nchange-4711',
  },
  eventbridge: {
    event: {
      specversion: '1.0',
      id: 'evt-7b1f3c2e',
      source: 'acs.sas',
      type: 'sas:Alert:CredentialLeak',
      time: '2026-11-27T08:15:30Z',
      data: { instanceIds: [RS, SHARDED] },
    },
    identity: 'event\nacs.sas\nevt-7b1f3c2e',
  },
};
type Kind = keyof typeof deliveries;

const outcomesOf = (run: RotationRun) => run.report?.results.map((r) => r.outcome) ?? [`rejected: ${run.error?.message}`];

describe.each(KMS_BEHAVIOURS)('duplicate deliveries rotate once (KMS: %s a RemoveFromVersion without the stage)', (behaviour) => {
  const watch = useSecrecyWatch();
  let cloud: LocalCloud | undefined;

  afterEach(async () => {
    await cloud?.close();
    cloud = undefined;
  });

  async function start(): Promise<LocalCloud> {
    cloud = await watch.start({
      fixture: fleet(target(RS, { password: 'Old#Duplicate-Pw1', age: '-40d' }), target(SHARDED, { type: 'sharding', password: 'Old#Duplicate-Pw2', age: '-40d' })),
    });
    setKmsBehaviour(cloud, behaviour);
    return cloud;
  }

  function deliver(c: LocalCloud, kind: Kind): Promise<RotationRun> {
    const env = rotationEnv(c, [RS, SHARDED].map((instanceId) => ({ instanceId, secretName: secretName(instanceId) })));
    return runRotation(c, { env, event: structuredClone(deliveries[kind].event) });
  }

  /** One new version per target, the trigger's own, ACSCurrent now; the seeded one ACSPrevious. */
  function expectRotatedOnce(c: LocalCloud, kind: Kind): void {
    for (const id of [RS, SHARDED]) {
      const versions = c.truth.secret(secretName(id))!.versions.map((v) => [v.versionId, v.stages]);
      expect(versions).toEqual([
        [`v-${id}-1`, ['ACSPrevious']],
        [versionIdFor(deliveries[kind].identity, id), ['ACSCurrent']],
      ]);
      expectConsistent(c, id);
    }
    expect(c.truth.violations).toEqual([]);
  }

  for (const kind of Object.keys(deliveries) as Kind[]) {
    it(`the same ${kind} delivery three times in a row: one rotation, then "already rotated by this trigger" without a write`, async () => {
      const c = await start();
      const first = await deliver(c, kind);
      const writesAfterFirst = c.truth.writeRequests().length;
      const again = [await deliver(c, kind), await deliver(c, kind)];
      for (const [i, run] of [first, ...again].entries()) watch.recordRun(`${kind} in a row ${i}`, run);

      expect(outcomesOf(first)).toEqual(['rotated', 'rotated']);
      for (const run of again) {
        expect(run.report?.results.map((r) => [r.outcome, r.reason])).toEqual([
          ['skipped', 'already rotated by this trigger'],
          ['skipped', 'already rotated by this trigger'],
        ]);
      }
      expect(c.truth.writeRequests()).toHaveLength(writesAfterFirst);
      expectRotatedOnce(c, kind);
    });

    it(`the same ${kind} delivery three times at once: one rotation, the others resume or skip it`, async () => {
      const c = await start();
      const runs = await Promise.all([deliver(c, kind), deliver(c, kind), deliver(c, kind)]);
      runs.forEach((run, i) => watch.recordRun(`${kind} at once ${i}`, run));

      expect(runs.map((run) => run.error)).toEqual([undefined, undefined, undefined]);
      for (const target of [0, 1]) {
        const perTarget = runs.map((run) => run.report!.results[target]);
        expect(perTarget.filter((r) => r.outcome === 'rotated')).toHaveLength(1);
        for (const r of perTarget.filter((r) => r.outcome !== 'rotated')) expect(['resumed', 'skipped']).toContain(r.outcome);
        expect(new Set(perTarget.map((r) => r.versionId)).size).toBe(1);
      }
      expect(c.truth.requests.filter((r) => r.action === 'PutSecretValue' && r.status === 200)).toHaveLength(2);
      expectRotatedOnce(c, kind);
    });
  }

  describe('through the local FC', () => {
    let codeRoot: string;

    beforeAll(async () => {
      codeRoot = await buildBundle();
    });
    afterAll(() => removeBundle(codeRoot));

    async function deploy(reservedConcurrency: number | undefined): Promise<LocalCloud> {
      const c = await start();
      deployRotation(c, codeRoot, { targets: [RS, SHARDED], timeoutSeconds: 60, environment: { EVENT_SOURCES: 'acs.actiontrail,acs.sas' } });
      c.fc.putConcurrency(FUNCTION_NAME, reservedConcurrency);
      return c;
    }

    it('an EventBridge event delivered three times at once to three instances rotates once', async () => {
      const c = await deploy(undefined);
      const reports = (await Promise.all([0, 1, 2].map(() => invoke(c, deliveries.eventbridge.event)))).map(reportOf);

      for (const target of [0, 1]) expect(reports.map((r) => r.results[target].outcome).filter((o) => o === 'rotated')).toHaveLength(1);
      expectRotatedOnce(c, 'eventbridge');
    });

    it('a timer event delivered three times, queued at reserved concurrency 1: rotated, then skipped twice', async () => {
      const c = await deploy(1);
      const timerAt = { triggerTime: '2026-11-27T03:00:00Z' };
      await Promise.all([0, 1, 2].map(() => c.fc.fireTimerAsync(FUNCTION_NAME, 'daily-rotation', timerAt)));

      const results = c.fc.invocations.map((record) => reportOfRun(record)!.results.map((r) => r.outcome));
      expect(results).toEqual([
        ['rotated', 'rotated'],
        ['skipped', 'skipped'],
        ['skipped', 'skipped'],
      ]);
      expectRotatedOnce(c, 'timer');
    });
  });
});
