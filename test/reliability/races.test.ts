/**
 * Runs racing for the same target with nothing keeping them apart (the local FC's reserved concurrency is
 * the subject of races-fc.test.ts): in-process, each run under its own access key and rotation id, forced.
 *
 * What the protocol does alone: a run applies a password only while its version still carries ACSPending
 * (else it takes over the version that does, applying the same password as its owner), moves ACSCurrent only
 * from where it saw it, and after its last reset checks the labels again, re-applying what they point to if
 * its own reset may have landed late: racing runs end consistent. What it cannot do alone: PutSecretValue
 * moves ACSPending unconditionally, so a run that listed the versions before another staged, and whose
 * PutSecretValue lands after that other run applied its password, breaks the invariant for as long as the
 * late run needs to apply its own. No check by either run closes that window (the late call is already on
 * the wire); the reserved concurrency of 1 closes it by never running two at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { excuseViolations } from '../helpers/cloud';
import { useSecrecyWatch } from '../helpers/secrecy';
import { kmsClient, kmsModels } from '../helpers/sdk';
import { secretData, secretName } from '../rotate/fixture';
import { Choreography, expectConsistent, forcedRun, KMS_BEHAVIOURS, newVersions, outcomes, raceFixture, recordRuns, RUN_KEYS, setKmsBehaviour } from './races-choreography';

const SHARDED = 'dds-sh0races00001';
const RS = 'dds-rs0races00001';
const [A, B, C, D, E] = RUN_KEYS;
/** Held before it is applied. */
const BEFORE = { phase: 'before' as const };

function seeded(id: string, type: 'replicate' | 'sharding') {
  const password = `Old#Race-${type}-Pw1`;
  return raceFixture({
    instances: [{ id, type, password }],
    secrets: [{ instanceId: id, versions: [{ versionId: 'v-seed', password, stages: ['ACSCurrent'], createTime: '-40d' }] }],
  });
}

describe.each(KMS_BEHAVIOURS)('concurrent runs for the same target, without the reserved concurrency (KMS: %s a RemoveFromVersion without the stage)', (behaviour) => {
  const watch = useSecrecyWatch();
  let cloud: LocalCloud;
  let dance: Choreography | undefined;

  afterEach(async () => {
    dance?.releaseAll();
    dance = undefined;
    await cloud?.close();
  });

  async function start(id: string, type: 'replicate' | 'sharding'): Promise<LocalCloud> {
    cloud = await watch.start({ fixture: seeded(id, type) });
    setKmsBehaviour(cloud, behaviour);
    dance = new Choreography(cloud);
    return cloud;
  }

  it('five forced runs at once end consistent with no violation, one rotation or a few in turn', async () => {
    await start(SHARDED, 'sharding');
    const runs = await Promise.all(RUN_KEYS.map((key, i) => forcedRun(cloud, [SHARDED], key, `race-${i}`)));
    recordRuns(watch, 'five at once', runs);

    expect(runs.map((run) => run.error)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    for (const outcome of outcomes(runs)) expect(['rotated', 'resumed', 'skipped']).toContain(outcome);
    expectConsistent(cloud, SHARDED);
    expect(cloud.truth.violations).toEqual([]);
    // Each run stages at most one version of its own; the versions that lost the race are left unlabelled.
    const created = newVersions(cloud, SHARDED, 1);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(created.length).toBeLessThanOrEqual(5);
    expect(created.filter((v) => v.stages.includes('ACSPending'))).toEqual([]);
  });

  it('when all five list before any stages and all stage before any applies, the last staged wins and the others take it over', async () => {
    await start(SHARDED, 'sharding');
    const lists = RUN_KEYS.map((key) => dance!.hold(key, 'ListSecretVersionIds', { phase: 'after' }));
    const puts = RUN_KEYS.map((key) => dance!.hold(key, 'PutSecretValue', { phase: 'after' }));
    void Promise.all(lists.map((h) => h.reached)).then(() => lists.forEach((h) => h.release()));
    void Promise.all(puts.map((h) => h.reached)).then(() => puts.forEach((h) => h.release()));
    const runs = await Promise.all(RUN_KEYS.map((key, i) => forcedRun(cloud, [SHARDED], key, `barrier-${i}`)));
    recordRuns(watch, 'barrier', runs);

    const winner = cloud.truth.secret(secretName(SHARDED))!.versions.find((v) => v.stages.includes('ACSCurrent'))!.versionId;
    const reports = runs.map((run) => run.report!.results[0]);
    expect(reports.filter((r) => r.outcome === 'rotated').map((r) => r.versionId)).toEqual([winner]);
    // The others take the winner's version over (or, if slow, find it promoted already).
    const others = reports.filter((r) => r.outcome !== 'rotated');
    expect(others.map((r) => r.versionId)).toEqual([winner, winner, winner, winner]);
    for (const r of others) expect(['resumed', 'skipped']).toContain(r.outcome);
    expectConsistent(cloud, SHARDED);
    expect(cloud.truth.violations).toEqual([]);
    // Five versions staged, one rotation: the four that lost ACSPending are unlabelled (KMS deletes those first).
    const created = newVersions(cloud, SHARDED, 1);
    expect(created).toHaveLength(5);
    expect(created.filter((v) => v.stages.length === 0)).toHaveLength(4);
  });

  /** B lists the versions before A stages (B's PutSecretValue will move ACSPending off A's version). */
  function bListsBeforeAStages(): void {
    dance!.after(dance!.hold(B, 'ListSecretVersionIds', { phase: 'after' }), dance!.hold(A, 'PutSecretValue', BEFORE));
  }

  /** Once `held` is reached, B's PutSecretValue goes through, then `held` does. */
  function bStagesWhile(held: ReturnType<Choreography['hold']>): void {
    const bPut = dance!.hold(B, 'PutSecretValue', BEFORE);
    const bPutApplied = dance!.hold(B, 'PutSecretValue', { phase: 'after' });
    void held.reached.then(async () => {
      bPut.release();
      await bPutApplied.reached;
      bPutApplied.release();
      held.release();
    });
  }

  it('a run whose version lost ACSPending before it applied takes over the newer version instead of applying its own', async () => {
    await start(RS, 'replicate');
    bListsBeforeAStages();
    // B's PutSecretValue lands after A's, before A's answer: A's check before applying sees B's version pending.
    bStagesWhile(dance!.hold(A, 'PutSecretValue', { phase: 'after' }));
    const [a, b] = await Promise.all([forcedRun(cloud, [RS], A, 'lost-a'), forcedRun(cloud, [RS], B, 'lost-b')]);
    recordRuns(watch, 'lost before apply', [a, b]);

    const bVersion = b.report!.results[0].versionId;
    expect(outcomes([a, b])).toEqual(['resumed', 'rotated']);
    expect(a.report!.results[0]).toMatchObject({ versionId: bVersion, reason: 'took over the version of a concurrent run' });
    expectConsistent(cloud, RS);
    expect(cloud.truth.violations).toEqual([]);
    // A staged a version, but never applied it: it lost its label and stays unlabelled.
    expect(newVersions(cloud, RS, 1).filter((v) => v.versionId !== bVersion)).toEqual([{ versionId: expect.any(String), stages: [] }]);
  });

  it('a run that wrote nothing and finds the version it would take over already promoted ends without a write', async () => {
    await start(RS, 'replicate');
    bListsBeforeAStages();
    bStagesWhile(dance!.hold(A, 'PutSecretValue', { phase: 'after' }));
    // A goes to read B's version only once B has completed its rotation.
    const aRead = dance!.hold(A, 'GetSecretValue', BEFORE);
    const aRun = forcedRun(cloud, [RS], A, 'late-reader-a');
    const b = await forcedRun(cloud, [RS], B, 'late-reader-b');
    aRead.release();
    const a = await aRun;
    recordRuns(watch, 'late reader', [a, b]);

    expect(a.report!.results[0]).toMatchObject({ outcome: 'skipped', versionId: b.report!.results[0].versionId, reason: 'a concurrent run rotated the secret meanwhile' });
    expect(cloud.truth.requests.filter((r) => r.action === 'ResetAccountPassword' && r.accessKeyId === A.id)).toEqual([]);
    expect(cloud.truth.violations).toEqual([]);
    expectConsistent(cloud, RS);
  });

  it('the window no check closes: a PutSecretValue landing after another run applied its password breaks the invariant until the late run applies its own', async () => {
    await start(RS, 'replicate');
    bListsBeforeAStages();
    // B's PutSecretValue, sent before A staged, lands once A's reset has been applied.
    bStagesWhile(dance!.hold(A, 'ResetAccountPassword', { phase: 'after' }));
    const [a, b] = await Promise.all([forcedRun(cloud, [RS], A, 'window-a'), forcedRun(cloud, [RS], B, 'window-b')]);
    recordRuns(watch, 'late put', [a, b]);

    const bPut = cloud.truth.requests.find((r) => r.action === 'PutSecretValue' && r.accessKeyId === B.id)!;
    expect(cloud.truth.violations).toMatchObject([{ requestId: bPut.requestId, action: 'PutSecretValue', instanceId: RS }]);
    excuseViolations(cloud, 'the window this test forces is asserted above');
    // Both runs still finish, on B's version (A takes it over, or finds it done), and the end state is consistent again.
    expect(outcomes([a, b])[1]).toBe('rotated');
    expect(['resumed', 'skipped']).toContain(outcomes([a, b])[0]);
    expect(a.report!.results[0].versionId).toBe(b.report!.results[0].versionId);
    expectConsistent(cloud, RS);
  });

  it('a reset that lands after another run promoted is followed by ACSCurrent put back on the database', async () => {
    await start(RS, 'replicate');
    bListsBeforeAStages();
    // A has checked its version and sent its reset; B stages and completes a whole rotation before the reset lands.
    const aReset = dance!.hold(A, 'ResetAccountPassword', BEFORE);
    const bPut = dance!.hold(B, 'PutSecretValue', BEFORE);
    void aReset.reached.then(() => bPut.release());
    const bRun = forcedRun(cloud, [RS], B, 'late-reset-b');
    const aRun = forcedRun(cloud, [RS], A, 'late-reset-a');
    const b = await bRun;
    aReset.release();
    const a = await aRun;
    recordRuns(watch, 'late reset', [a, b]);

    const aResets = cloud.truth.requests.filter((r) => r.action === 'ResetAccountPassword' && r.accessKeyId === A.id);
    expect(cloud.truth.violations).toMatchObject([{ requestId: aResets[0].requestId, action: 'ResetAccountPassword' }]);
    excuseViolations(cloud, 'the late reset this test forces is asserted above');
    expect(aResets).toHaveLength(2);
    if (behaviour === 'refuse') {
      // KMS refuses A's stale promote: A takes B's version, now current, and puts it back on the database.
      expect(outcomes([a, b])).toEqual(['resumed', 'rotated']);
      expect(a.report!.results[0]).toMatchObject({ versionId: b.report!.results[0].versionId, reason: 'took over the version of a concurrent run' });
    } else {
      // KMS moves ACSCurrent from B's version to A's, the password the database holds since A's late reset; A sees
      // ACSPrevious where it did not expect it, and applies its own password again.
      expect(outcomes([a, b])).toEqual(['rotated', 'rotated']);
      const current = cloud.truth.secret(secretName(RS))!.versions.find((v) => v.stages.includes('ACSCurrent'));
      expect(current?.versionId).toBe(a.report!.results[0].versionId);
    }
    expectConsistent(cloud, RS);
  });

  it('a promote that comes after another run promoted does not take ACSCurrent from it, and ACSCurrent is put back on the database', async () => {
    await start(RS, 'replicate');
    bListsBeforeAStages();
    // A has applied its password and is about to promote; B stages (moving ACSPending off A's version) and
    // completes a whole rotation before A's promote goes on.
    const aPromote = dance!.hold(A, 'UpdateSecretVersionStage', { phase: 'before' });
    const bPut = dance!.hold(B, 'PutSecretValue', BEFORE);
    void aPromote.reached.then(() => bPut.release());
    const bRun = forcedRun(cloud, [RS], B, 'late-promote-b');
    const aRun = forcedRun(cloud, [RS], A, 'late-promote-a');
    const b = await bRun;
    aPromote.release();
    const a = await aRun;
    recordRuns(watch, 'late promote', [a, b]);

    // B's PutSecretValue takes ACSPending from the password A had applied; B's reset ends that break.
    const bPutRequest = cloud.truth.requests.find((r) => r.action === 'PutSecretValue' && r.accessKeyId === B.id)!;
    const aMove = cloud.truth.requests.find((r) => r.action === 'UpdateSecretVersionStage' && r.accessKeyId === A.id)!;
    if (behaviour === 'refuse') {
      // KMS refuses A's stale move: A takes over B's version and puts its password back. Nothing else breaks.
      expect(cloud.truth.violations).toMatchObject([{ requestId: bPutRequest.requestId, action: 'PutSecretValue' }]);
      expect(outcomes([a, b])).toEqual(['resumed', 'rotated']);
      expect(a.report!.results[0]).toMatchObject({ versionId: b.report!.results[0].versionId, reason: 'took over the version of a concurrent run' });
    } else {
      // KMS moves ACSCurrent to A's version although B had moved it on: the database holds B's password, now only in
      // ACSPrevious, until A, finding ACSPrevious on B's version rather than the one it saw current, applies its own
      // again. No compare-and-set is left to close that window: the reserved concurrency of 1 does (README).
      expect(cloud.truth.violations).toMatchObject([
        { requestId: bPutRequest.requestId, action: 'PutSecretValue' },
        { requestId: aMove.requestId, action: 'UpdateSecretVersionStage' },
      ]);
      expect(outcomes([a, b])).toEqual(['rotated', 'rotated']);
    }
    excuseViolations(cloud, 'the late put (and, when KMS accepts any move, the late promote) this test forces is asserted above');
    expectConsistent(cloud, RS);
    expect(cloud.truth.requests.filter((r) => r.action === 'ResetAccountPassword' && r.accessKeyId === A.id)).toHaveLength(2);
  });

  it('a reset that lands late, during a newer rotation, is followed by that rotation\'s password applied again', async () => {
    cloud = await watch.start({
      fixture: raceFixture({
        instances: [{ id: RS, password: 'Old#Race-Late-Pw1' }],
        secrets: [
          {
            instanceId: RS,
            versions: [
              { versionId: 'v-seed', password: 'Old#Race-Late-Pw1', stages: ['ACSCurrent'], createTime: '-40d' },
              { versionId: 'v-pending', password: 'Pending#Race-Late-Pw2', stages: ['ACSPending'], createTime: '-1d' },
            ],
          },
        ],
      }),
    });
    setKmsBehaviour(cloud, behaviour);
    dance = new Choreography(cloud);
    // A and B both resume the pending version; A's reset is held until C, a later rotation, has applied its own.
    const aReset = dance.hold(A, 'ResetAccountPassword', BEFORE);
    const bPromote = dance.hold(B, 'UpdateSecretVersionStage', BEFORE);
    void aReset.reached.then(() => bPromote.release());
    const cPromote = dance.hold(C, 'UpdateSecretVersionStage', BEFORE);
    const aRun = forcedRun(cloud, [RS], A, 'late-a');
    const b = await forcedRun(cloud, [RS], B, 'late-b');
    const cRun = forcedRun(cloud, [RS], C, 'late-c');
    await cPromote.reached;
    aReset.release();
    const a = await aRun;
    cPromote.release();
    const c = await cRun;
    recordRuns(watch, 'late resumed reset', [a, b, c]);

    expect(outcomes([a, b, c])).toEqual(['resumed', 'resumed', 'rotated']);
    expect(a.report!.results[0]).toMatchObject({ versionId: c.report!.results[0].versionId, reason: 'took over the version of a concurrent run' });
    expect(cloud.truth.violations).toEqual([]);
    expectConsistent(cloud, RS);
  });

  it('a run that keeps losing the label to new versions gives up after a bounded number of takeovers, having applied nothing', async () => {
    await start(RS, 'replicate');
    // Every time A checks its version before applying, another run's version has just taken ACSPending.
    const racers = [B, C, D, E, B, C];
    let lists = 0;
    let next = 0;
    cloud.faults.onAction({ product: 'kms', action: 'ListSecretVersionIds', phase: 'before' }, async (req) => {
      if (req.accessKeyId !== A.id || ++lists === 1 || next >= racers.length) return;
      const racer = racers[next++];
      const password = `Racer#${racer.id.slice(-8)}-${next}Aa1`;
      watch.addPassword(password);
      const kms = kmsClient(cloud, racer);
      await kms.putSecretValue(new kmsModels.PutSecretValueRequest({ secretName: secretName(RS), versionId: `v-racer-${next}`, secretData: secretData(RS, password), versionStages: '["ACSPending"]' }));
    });
    const a = await forcedRun(cloud, [RS], A, 'unlucky');
    watch.recordRun('unlucky', a);

    expect(a.report!.results[0]).toMatchObject({ outcome: 'failed', error: { code: 'PromoteGuard', message: expect.stringContaining('giving up after 5 takeovers') } });
    expect(cloud.truth.requests.filter((r) => r.action === 'ResetAccountPassword')).toEqual([]);
    expect(cloud.truth.violations).toEqual([]);
  });
});
