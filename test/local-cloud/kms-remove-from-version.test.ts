/**
 * The one KMS behaviour Alibaba's UpdateSecretVersionStage page leaves open: a RemoveFromVersion naming a version
 * that does not carry the stage. The local cloud refuses it by default (InvalidParameter, nothing changed) and can
 * be set to accept it (the stage moves from wherever it is; a bare remove removes nothing), on demand or by a
 * fixture, so that the rotation can be tried under both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { FixtureError } from '../../local-cloud/state';
import { startCloud } from '../helpers/cloud';
import { type KmsClient, kmsClient, kmsModels as $, sdkFailure } from '../helpers/sdk';

// Bound to no instance: these tests move labels alone, which the invariant monitor need not judge.
const SECRET = 'app/labels-only';
const data = (value: string) => JSON.stringify({ value });

function fixture(faults?: object[]) {
  return {
    region: 'cn-hangzhou',
    accessKeys: [{ id: 'LTAI5tRemoveFromVer1', secret: 'remove-from-version-secret-1' }],
    instances: [],
    secrets: [
      {
        name: SECRET,
        versions: [
          { versionId: 'v1', data: data('one'), stages: ['ACSPrevious'], createTime: '-3d' },
          { versionId: 'v2', data: data('two'), stages: ['ACSCurrent'], createTime: '-2d' },
          { versionId: 'v3', data: data('three'), stages: ['ACSPending'], createTime: '-1d' },
        ],
      },
    ],
    ...(faults && { faults }),
  };
}

describe('UpdateSecretVersionStage with a RemoveFromVersion that lacks the stage', () => {
  let cloud: LocalCloud;
  let kms: KmsClient;
  const start = async (faults?: object[]) => {
    cloud = await startCloud({ fixture: fixture(faults) });
    kms = kmsClient(cloud);
  };
  afterEach(() => cloud.close());

  const stages = () => Object.fromEntries(cloud.truth.secret(SECRET)!.versions.map((v) => [v.versionId, v.stages]));
  /** ACSCurrent moved to v3 "from v1", which does not carry it (a promote that another one overtook). */
  const staleMove = () =>
    kms.updateSecretVersionStage(new $.UpdateSecretVersionStageRequest({ secretName: SECRET, versionStage: 'ACSCurrent', removeFromVersion: 'v1', moveToVersion: 'v3' }));
  /** ACSPending removed "from v2", which does not carry it. */
  const staleRemove = () => kms.updateSecretVersionStage(new $.UpdateSecretVersionStageRequest({ secretName: SECRET, versionStage: 'ACSPending', removeFromVersion: 'v2' }));
  const SEEDED = { v1: ['ACSPrevious'], v2: ['ACSCurrent'], v3: ['ACSPending'] };

  it('is refused by default: InvalidParameter naming RemoveFromVersion, nothing changed', async () => {
    await start();
    for (const call of [staleMove, staleRemove]) {
      const error = await sdkFailure(call());
      expect(error.data).toMatchObject({ Code: 'InvalidParameter', Message: expect.stringContaining('RemoveFromVersion') });
    }
    expect(stages()).toEqual(SEEDED);
  });

  it('is accepted once switched on demand: the stage moves from wherever it is, a bare remove removes nothing', async () => {
    await start();
    const lenient = cloud.faults.kmsRemoveFromVersionWithoutStage('accept');
    await staleRemove();
    expect(stages()).toEqual(SEEDED);
    await staleMove();
    expect(stages()).toEqual({ v1: [], v2: ['ACSPrevious'], v3: ['ACSPending', 'ACSCurrent'] });
    expect(lenient.hits).toBe(2);

    // A RemoveFromVersion that does carry the stage is no leniency: not counted.
    await kms.updateSecretVersionStage(new $.UpdateSecretVersionStageRequest({ secretName: SECRET, versionStage: 'ACSPending', removeFromVersion: 'v3' }));
    expect(lenient.hits).toBe(2);

    // clear() removes faults, not the behaviour; the handle's remove() puts the refusal back.
    cloud.faults.clear();
    await staleRemove();
    expect(lenient.hits).toBe(3);
    lenient.remove();
    expect((await sdkFailure(staleRemove())).data).toMatchObject({ Code: 'InvalidParameter' });
    expect(lenient.hits).toBe(3);
  });

  it('is set by a fixture, and a fixture asking for something else is refused naming the field', async () => {
    await start([{ kind: 'kmsRemoveFromVersionWithoutStage', behaviour: 'accept' }]);
    await staleMove();
    expect(stages()).toEqual({ v1: [], v2: ['ACSPrevious'], v3: ['ACSPending', 'ACSCurrent'] });
    await cloud.close();

    await start([{ kind: 'kmsRemoveFromVersionWithoutStage', behaviour: 'refuse' }]);
    expect((await sdkFailure(staleMove())).data).toMatchObject({ Code: 'InvalidParameter' });

    const refused = startCloud({ fixture: fixture([{ kind: 'kmsRemoveFromVersionWithoutStage', behaviour: 'lenient' }]) });
    await expect(refused).rejects.toThrow(FixtureError);
    await expect(refused).rejects.toThrow('faults[0].behaviour: must be "refuse" or "accept", got "lenient"');
  });
});
