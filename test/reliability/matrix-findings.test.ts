/**
 * Defects the fault matrix found (its `malformed` start: the database rejects the first password as
 * malformed, so the run stages a replacement version), pinned down in-process:
 * - a retry of the trigger found its own version unlabelled (ACSPending had moved to the replacement)
 *   and reported "skipped: already rotated by this trigger", leaving the replacement pending and the
 *   forced rotation undone until some later trigger;
 * - a retry that finished the cut-off promote of the replacement reported it as skipped, not resumed.
 */
import { describe, expect, it } from 'vitest';
import { replacementVersionId, versionIdFor } from '../../functions/shared/targets';
import { fixture, secretName } from '../rotate/fixture';
import { expectRotated, useHarness } from '../rotate/harness';

const SHARDED = 'dds-sh0findings01';
const SECRET = secretName(SHARDED);
const OLD = 'Old#Findings-Pw1';
const event = { force: true, rotationId: 'incident-42' };
const own = versionIdFor(`manual\n${event.rotationId}`, SHARDED);
const replacement = replacementVersionId(own);

const stagesOf = (versions: Array<{ versionId: string; stages: string[] }>) => Object.fromEntries(versions.map((v) => [v.versionId, v.stages]));

describe('a retried trigger whose password the database rejected', () => {
  const h = useHarness();

  it('resumes the replacement its first run staged, instead of calling the rotation done', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: SHARDED, type: 'sharding', password: OLD }],
        secrets: [{ instanceId: SHARDED, versions: [{ versionId: 'v1', password: OLD, stages: ['ACSCurrent'] }] }],
      }),
    );
    cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'InvalidAccountPassword.Malformed' });
    const refused = cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', nth: 2, code: 'Forbidden.RAM' });

    const first = await h.run({ event });
    expect(first.report?.results).toMatchObject([{ outcome: 'failed', versionId: replacement, error: { code: 'Forbidden.RAM' } }]);
    expect(stagesOf(cloud.truth.secret(SECRET)!.versions)).toEqual({ v1: ['ACSCurrent'], [own]: [], [replacement]: ['ACSPending'] });
    expect(refused.hits).toBe(1);

    const retry = await h.run({ event });
    expect(retry.report?.results).toMatchObject([{ outcome: 'resumed', versionId: replacement }]);
    expectRotated(cloud, SHARDED, OLD);
    expect(stagesOf(cloud.truth.secret(SECRET)!.versions)).toEqual({ v1: ['ACSPrevious'], [own]: [], [replacement]: ['ACSCurrent'] });
  });

  it('reports the promote of the replacement it finishes as resumed', async () => {
    const applied = 'New#Findings-Pw2';
    const cloud = await h.start(
      fixture({
        instances: [{ id: SHARDED, type: 'sharding', password: applied }],
        secrets: [
          {
            instanceId: SHARDED,
            versions: [
              { versionId: 'v1', password: OLD, stages: ['ACSPrevious'] },
              { versionId: own, password: 'Rejected#Findings-Pw3', stages: [] },
              { versionId: replacement, password: applied, stages: ['ACSCurrent', 'ACSPending'] },
            ],
          },
        ],
      }),
    );
    const retry = await h.run({ event });
    expect(retry.report?.results).toMatchObject([{ outcome: 'resumed', versionId: replacement, reason: 'finished a promote that was cut off' }]);
    expect(stagesOf(cloud.truth.secret(SECRET)!.versions)).toEqual({ v1: ['ACSPrevious'], [own]: [], [replacement]: ['ACSCurrent'] });
    expect(cloud.truth.writeRequests().map((r) => r.action)).toEqual(['UpdateSecretVersionStage']);
  });

  it('still calls a trigger whose version was promoted and then rotated past done', async () => {
    const cloud = await h.start(
      fixture({
        instances: [{ id: SHARDED, type: 'sharding', password: 'Later#Findings-Pw4' }],
        secrets: [
          {
            instanceId: SHARDED,
            versions: [
              { versionId: own, password: 'New#Findings-Pw2', stages: ['ACSPrevious'] },
              { versionId: 'v-later', password: 'Later#Findings-Pw4', stages: ['ACSCurrent'] },
              { versionId: 'v-pending', password: 'Pending#Findings-Pw5', stages: ['ACSPending'] },
            ],
          },
        ],
      }),
    );
    const retry = await h.run({ event });
    expect(retry.report?.results).toMatchObject([{ outcome: 'skipped', versionId: own, reason: 'already rotated by this trigger' }]);
    expect(cloud.truth.writeRequests()).toEqual([]);
  });
});
