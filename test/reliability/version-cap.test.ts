/**
 * KMS keeps at most 10 versions of a generic secret and, past that, deletes unlabelled versions first
 * (the local KMS follows the Secret object model page). Which failures add versions at all: only the
 * replacement of a pending password the database rejects as malformed (a run resumes a pending
 * version rather than staging a second one, whatever else went wrong). So twenty failed rotations in a
 * row are twenty malformed rejections, and twenty successful ones with a failure before each fill the
 * secret the ordinary way; either way ACSCurrent and ACSPrevious stay readable and right.
 */
import { describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { kmsClient, kmsModels } from '../helpers/sdk';
import { fixture, secretName } from '../rotate/fixture';
import { useHarness } from '../rotate/harness';

const RS = 'dds-rs0versioncap1';
const SECRET = secretName(RS);
const PREVIOUS = 'Cap#Previous-Pw0';
const CURRENT = 'Cap#Current-Pw1';
const MAX_VERSIONS = 10;

const seeded = () =>
  fixture({
    instances: [{ id: RS, password: CURRENT }],
    secrets: [
      {
        instanceId: RS,
        versions: [
          { versionId: 'v0', password: PREVIOUS, stages: ['ACSPrevious'], createTime: '-70d' },
          { versionId: 'v1', password: CURRENT, stages: ['ACSCurrent'], createTime: '-40d' },
        ],
      },
    ],
  });

/** What an application reads, through the official client. */
async function readStage(cloud: LocalCloud, stage: string): Promise<string> {
  const value = await kmsClient(cloud).getSecretValue(new kmsModels.GetSecretValueRequest({ secretName: SECRET, versionStage: stage }));
  return JSON.parse(value.secretData).AccountPassword as string;
}

async function listedVersions(cloud: LocalCloud): Promise<number> {
  const page = await kmsClient(cloud).listSecretVersionIds(new kmsModels.ListSecretVersionIdsRequest({ secretName: SECRET, includeDeprecated: 'true', pageSize: 100 }));
  return page.totalCount ?? 0;
}

const versionsPut = (cloud: LocalCloud) => cloud.truth.requests.filter((r) => r.action === 'PutSecretValue' && r.status === 200).length;

describe('the 10-version cap of a generic secret', () => {
  const h = useHarness();

  it('keeps ACSCurrent and ACSPrevious readable through twenty failed rotations in a row', async () => {
    const cloud = await h.start(seeded());
    cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'InvalidAccountPassword.Malformed', times: Infinity });

    for (let day = 1; day <= 20; day++) {
      const run = await h.run({ event: { force: true, rotationId: `failing-${day}` } });
      expect(run.report?.results).toMatchObject([{ outcome: 'failed', error: { code: 'InvalidAccountPassword.Malformed' } }]);
      expect(await listedVersions(cloud)).toBeLessThanOrEqual(MAX_VERSIONS);
      expect(await readStage(cloud, 'ACSCurrent')).toBe(CURRENT);
      expect(await readStage(cloud, 'ACSPrevious')).toBe(PREVIOUS);
      expect(cloud.truth.rootPassword(RS)).toBe(CURRENT);
    }
    // The first run staged a password and its replacement, each later one a replacement: the cap was passed.
    expect(versionsPut(cloud)).toBe(21);
    expect(await listedVersions(cloud)).toBe(MAX_VERSIONS);

    cloud.faults.clear();
    const pending = await readStage(cloud, 'ACSPending');
    const recovered = await h.run({ event: { force: true, rotationId: 'recovered' } });
    expect(recovered.report?.results).toMatchObject([{ outcome: 'resumed' }]);
    expect(await readStage(cloud, 'ACSCurrent')).toBe(pending);
    expect(await readStage(cloud, 'ACSPrevious')).toBe(CURRENT);
    expect(cloud.truth.rootPassword(RS)).toBe(pending);
  });

  it('keeps ACSCurrent and ACSPrevious right through twenty rotations, each completing one that failed after staging', async () => {
    const cloud = await h.start(seeded());
    let previous = PREVIOUS;
    let current = CURRENT;

    for (let day = 1; day <= 20; day++) {
      const refused = cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'Forbidden.RAM', times: 1 });
      const failed = await h.run({ event: { force: true, rotationId: `refused-${day}` } });
      expect(failed.report?.results).toMatchObject([{ outcome: 'failed', error: { code: 'Forbidden.RAM' } }]);
      refused.remove();
      const pending = await readStage(cloud, 'ACSPending');

      const next = await h.run({ event: { force: true, rotationId: `next-${day}` } });
      expect(next.report?.results).toMatchObject([{ outcome: 'resumed' }]);
      [previous, current] = [current, pending];
      expect(await readStage(cloud, 'ACSCurrent')).toBe(current);
      expect(await readStage(cloud, 'ACSPrevious')).toBe(previous);
      expect(cloud.truth.rootPassword(RS)).toBe(current);
      expect(await listedVersions(cloud)).toBeLessThanOrEqual(MAX_VERSIONS);
    }
    expect(versionsPut(cloud)).toBe(20);
    expect(cloud.truth.secret(SECRET)!.versions.filter((v) => v.stages.length > 0).map((v) => v.stages)).toEqual([['ACSPrevious'], ['ACSCurrent']]);
  });
});
