/**
 * The rollback the README describes: put ACSPending on the version labelled ACSPrevious, then
 * invoke the function for that instance with `force`. It resumes that pending version as it
 * would any other: the old password goes back on every role, then becomes ACSCurrent again,
 * and the invariant holds throughout.
 */
import { describe, expect, it } from 'vitest';
import { kmsClient, kmsModels as $ } from '../helpers/sdk';
import { fleet, secretName, target } from '../rotate/fixture';
import { expectRotated, useHarness } from '../rotate/harness';

const RS = 'dds-rs0rollback01';
const SHARDED = 'dds-sh0rollback01';
const TIMER = { triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily-rotation', payload: '' };

describe('rolling back a rotation to ACSPrevious', () => {
  const h = useHarness();

  it.each([
    [RS, 'replicate', 'Old#Rollback-Pw1'],
    [SHARDED, 'sharding', 'Old#Rollback-Pw2'],
  ] as const)('puts the previous password back on %s (%s)', async (instanceId, type, oldPassword) => {
    const cloud = await h.start(fleet(target(instanceId, { type, password: oldPassword })));
    const name = secretName(instanceId);
    expect((await h.run({ event: TIMER })).report?.results).toMatchObject([{ outcome: 'rotated' }]);
    const rotated = expectRotated(cloud, instanceId, oldPassword);

    // What the operator runs: find the ACSPrevious version, label it ACSPending.
    const kms = kmsClient(cloud);
    const versions = await kms.listSecretVersionIds(new $.ListSecretVersionIdsRequest({ secretName: name }));
    const previous = versions.versionIds?.versionId?.find((v) => v.versionStages?.versionStage?.includes('ACSPrevious'));
    expect(previous?.versionId).toBeDefined();
    await kms.updateSecretVersionStage(new $.UpdateSecretVersionStageRequest({ secretName: name, versionStage: 'ACSPending', moveToVersion: previous!.versionId }));

    const rollback = await h.run({ event: { instanceIds: [instanceId], force: true, rotationId: 'rollback-1', reason: 'roll back' } });

    expect(rollback.error).toBeUndefined();
    expect(rollback.report?.results).toMatchObject([{ instanceId, outcome: 'resumed', versionId: previous!.versionId }]);
    expect(cloud.truth.secretPassword(name)).toBe(oldPassword);
    expect(cloud.truth.secretPassword(name, 'ACSPrevious')).toBe(rotated);
    expect(cloud.truth.secretPassword(name, 'ACSPending')).toBeUndefined();
    for (const held of Object.values(cloud.truth.rootPasswords(instanceId))) expect(held).toBe(oldPassword);
  });
});
