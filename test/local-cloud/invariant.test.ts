import { breachSubject } from '../../local-cloud/state';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { type KmsClient, ddsCall, kmsClient, kmsModels as $ } from '../helpers/sdk';

const RS = 'dds-bp1rs000000000001';
const SH = 'dds-bp1sh000000000001';
const RS_SECRET = `mongodb/${RS}/root`;
const SH_SECRET = `mongodb/${SH}/root`;
const FREE = 'dds-bp1free00000000001';
const data = (instanceId: string, password: string) => JSON.stringify({ AccountName: 'root', AccountPassword: password, DBInstanceId: instanceId });

function fixture(options: { drift?: boolean } = {}) {
  return {
    region: 'cn-hangzhou',
    accessKeys: [{ id: 'LTAI5tLocalTestKey01', secret: 'localsecret01' }],
    instances: [
      { id: RS, type: 'replicate', rootPassword: 'Initial#Pass01' },
      { id: SH, type: 'sharding', rootPassword: 'Initial#Pass02' },
      { id: 'dds-bp1free00000000001', type: 'replicate', rootPassword: 'Initial#Pass03' },
    ],
    secrets: [
      {
        name: RS_SECRET,
        instanceId: RS,
        versions: [{ versionId: 'v1', data: data(RS, options.drift ? 'Drifted#Pass01' : 'Initial#Pass01'), stages: ['ACSCurrent'], createTime: '-40d' }],
      },
      { name: SH_SECRET, instanceId: SH, versions: [{ versionId: 'v1', data: data(SH, 'Initial#Pass02'), stages: ['ACSCurrent'], createTime: '-40d' }] },
    ],
  };
}

describe('the invariant monitor', () => {
  let cloud: LocalCloud;
  let kms: KmsClient;
  const start = async (options: { drift?: boolean } = {}) => {
    cloud = await startCloud({ fixture: fixture(options) }, { violationsAllowed: 'this suite tests the invariant monitor and asserts every violation itself' });
    kms = kmsClient(cloud);
  };
  afterEach(async () => {
    await cloud.close();
  });

  const stagePending = (secretName: string, versionId: string, secretData: string) =>
    kms.putSecretValue(new $.PutSecretValueRequest({ secretName, versionId, secretData, versionStages: '["ACSPending"]' }));
  const reset = async (instanceId: string, password: string, characterType?: string) =>
    (await ddsCall(cloud, 'ResetAccountPassword', { DBInstanceId: instanceId, AccountName: 'root', AccountPassword: password, CharacterType: characterType }))
      .RequestId as string;
  const moveStage = (secretName: string, versionStage: string, versions: { moveToVersion?: string; removeFromVersion?: string }) =>
    kms.updateSecretVersionStage(new $.UpdateSecretVersionStageRequest({ secretName, versionStage, ...versions }));

  /** Design §3's protocol for one target: stage, apply every role, promote, drop the pending label. */
  async function rotate(instanceId: string, secretName: string, password: string, roles: Array<string | undefined>) {
    await stagePending(secretName, 'r-1', data(instanceId, password));
    for (const role of roles) await reset(instanceId, password, role);
    await moveStage(secretName, 'ACSCurrent', { moveToVersion: 'r-1' });
    await moveStage(secretName, 'ACSPending', { removeFromVersion: 'r-1' });
  }

  it('stays quiet through rotations that follow the protocol', async () => {
    await start();
    await rotate(RS, RS_SECRET, 'Rotated#Pass01', [undefined]);
    await rotate(SH, SH_SECRET, 'Rotated#Pass02', ['db', 'cs']);
    expect(cloud.truth.violations).toEqual([]);
    expect(cloud.truth.rootPasswords(SH)).toEqual({ db: 'Rotated#Pass02', cs: 'Rotated#Pass02' });
    expect(cloud.truth.secretPassword(SH_SECRET)).toBe('Rotated#Pass02');
  });

  it('records a reset to a password no secret version holds, with the request that caused it', async () => {
    await start();
    const requestId = await reset(RS, 'Unstaged#Pass01');
    expect(cloud.truth.violations).toEqual([
      { time: expect.any(String), secretName: RS_SECRET, instanceId: RS, role: 'normal', requestId, product: 'dds', action: 'ResetAccountPassword', ongoing: false },
    ]);
  });

  it('records a breach when it opens, again for every write that loses another password while it is open, and when it comes back', async () => {
    await start();
    const opened = await reset(RS, 'Unstaged#Pass01');
    const worse = await reset(RS, 'Unstaged#Pass02');
    await stagePending(SH_SECRET, 'unrelated', data(SH, 'Whatever#Pass01'));
    expect(cloud.truth.violations.map((v) => [v.requestId, v.ongoing])).toEqual([
      [opened, false],
      [worse, true],
    ]);
    await stagePending(RS_SECRET, 'fix', data(RS, 'Unstaged#Pass02'));
    expect(cloud.state.checkInvariant({ requestId: 'check', product: 'dds', action: 'Check' })).toEqual([]);
    const reopened = await reset(RS, 'Unstaged#Pass03');
    expect(cloud.truth.violations.map((v) => [v.requestId, v.ongoing])).toEqual([
      [opened, false],
      [worse, true],
      [reopened, false],
    ]);
  });

  it('while an allowed breach stays open (a secret created without the old password), counts each later breach of the same role', async () => {
    await start();
    const created = await kms.createSecret(new $.CreateSecretRequest({ secretName: 'mongodb/free/root', versionId: 'v1', secretData: data(FREE, 'Unknown#Pass01') }));
    // Labels change, the database keeps its password: nothing new is lost, nothing is recorded.
    await stagePending('mongodb/free/root', 'r-1', data(FREE, 'Staged#Pass01'));
    // A reset to a password no label holds loses a password of its own, although the role was out of line already.
    const lost = await reset(FREE, 'Unstaged#Pass01');
    await moveStage('mongodb/free/root', 'ACSCurrent', { moveToVersion: 'r-1' });
    const lostAgain = await reset(FREE, 'Unstaged#Pass02');
    expect(cloud.truth.violations).toEqual([
      expect.objectContaining({ instanceId: FREE, role: 'normal', requestId: created.requestId, action: 'CreateSecret', ongoing: false }),
      expect.objectContaining({ instanceId: FREE, role: 'normal', requestId: lost, action: 'ResetAccountPassword', ongoing: true }),
      expect.objectContaining({ instanceId: FREE, role: 'normal', requestId: lostAgain, action: 'ResetAccountPassword', ongoing: true }),
    ]);
    // The rotation's own reset brings the role in line: nothing more is recorded.
    await reset(FREE, 'Staged#Pass01');
    expect(cloud.truth.violations).toHaveLength(3);
    expect(cloud.state.checkInvariant({ requestId: 'check', product: 'dds', action: 'Check' })).toEqual([]);
  });

  it('counts a breach per role: a sharded cluster losing its cs password while its db breach is open', async () => {
    await start();
    const db = await reset(SH, 'Unstaged#Pass01', 'db');
    const dbAgain = await reset(SH, 'Unstaged#Pass01', 'db');
    const cs = await reset(SH, 'Unstaged#Pass02', 'cs');
    expect(cloud.truth.violations.map((v) => [breachSubject(v), v.requestId, v.ongoing])).toEqual([
      ['db', db, false],
      ['cs', cs, false],
    ]);
    expect(dbAgain).not.toBe(db); // the same password again lost nothing new
  });

  it('catches a promote made before the database took the password', async () => {
    await start();
    await stagePending(RS_SECRET, 'r-1', data(RS, 'Rotated#Pass01'));
    expect(cloud.truth.violations).toEqual([]);
    // The old password was ACSCurrent; once ACSCurrent moves onto the pending version, no label holds it.
    const promoted = await moveStage(RS_SECRET, 'ACSCurrent', { moveToVersion: 'r-1' });
    expect(cloud.truth.violations).toEqual([
      expect.objectContaining({ secretName: RS_SECRET, role: 'normal', requestId: promoted.requestId, product: 'kms', action: 'UpdateSecretVersionStage' }),
    ]);
  });

  it('catches a new ACSCurrent written straight over the old one', async () => {
    await start();
    const put = await kms.putSecretValue(new $.PutSecretValueRequest({ secretName: RS_SECRET, versionId: 'v2', secretData: data(RS, 'Direct#Pass01') }));
    expect(cloud.truth.violations).toEqual([expect.objectContaining({ requestId: put.requestId, product: 'kms', action: 'PutSecretValue' })]);
  });

  it('checks every role of a sharded cluster', async () => {
    await start();
    const requestId = await reset(SH, 'Unstaged#Pass01', 'cs');
    expect(cloud.truth.violations).toEqual([expect.objectContaining({ secretName: SH_SECRET, instanceId: SH, role: 'cs', requestId })]);
  });

  it('binds a secret created through the API by the DBInstanceId in its data', async () => {
    await start();
    const create = (secretName: string, instanceId: string) =>
      kms.createSecret(new $.CreateSecretRequest({ secretName, versionId: 'v1', secretData: data(instanceId, 'Wrong#Pass0001') }));
    await create('mongodb/unknown/root', 'dds-bp1nothere000001');
    expect(cloud.truth.violations).toEqual([]);
    const created = await create('mongodb/free/root', 'dds-bp1free00000000001');
    expect(cloud.truth.violations).toEqual([
      expect.objectContaining({ secretName: 'mongodb/free/root', instanceId: 'dds-bp1free00000000001', requestId: created.requestId, action: 'CreateSecret' }),
    ]);
    expect(cloud.truth.secret('mongodb/free/root')?.instanceId).toBe('dds-bp1free00000000001');
  });

  it('attributes a drift staged through the truth to the truth, and a rotation brings it back in line', async () => {
    await start();
    cloud.truth.setRootPassword(RS, 'Drifted#Pass01');
    expect(cloud.truth.violations).toEqual([expect.objectContaining({ product: 'truth', action: 'setRootPassword', role: 'normal' })]);
    await rotate(RS, RS_SECRET, 'Rotated#Pass01', [undefined]);
    expect(cloud.truth.violations).toHaveLength(1);
    expect(cloud.state.checkInvariant({ requestId: 'check', product: 'dds', action: 'Check' })).toEqual([]);
  });

  it('records a fixture that starts out of line', async () => {
    await start({ drift: true });
    expect(cloud.truth.violations).toEqual([expect.objectContaining({ requestId: 'fixture', product: 'truth', secretName: RS_SECRET })]);
  });

  it('never records a password', async () => {
    await start();
    await reset(RS, 'Unstaged#Pass01');
    await reset(SH, 'Unstaged#Pass02', 'db');
    const recorded = JSON.stringify(cloud.truth.violations);
    expect(cloud.truth.violations).toHaveLength(2);
    for (const password of cloud.truth.passwordsSeen()) expect(recorded).not.toContain(password);
    expect(Object.keys(cloud.truth.violations[0]).sort()).toEqual(['action', 'instanceId', 'ongoing', 'product', 'requestId', 'role', 'secretName', 'time']);
  });
});
