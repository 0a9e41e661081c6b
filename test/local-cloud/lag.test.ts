import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { StateHistory } from '../../local-cloud/state/history';
import type { InstanceState, SecretState } from '../../local-cloud/state/model';
import { useCloudPerTest } from '../helpers/cloud';
import { type KmsClient, ddsCall, kmsClient, kmsModels as $, sdkFailure } from '../helpers/sdk';

/** KMS's code and HTTP status of a failed call (`@alicloud/rpc-client` keeps the body in `data`, the status in its message). */
async function kmsFailure(call: Promise<unknown>): Promise<{ code: string; status: number }> {
  const err = await sdkFailure(call);
  return { code: String(err.data?.Code), status: Number(/code: (\d+)/.exec(err.message)?.[1]) };
}

const INSTANCE = 'dds-bp1lagtest000001';
const SECRET = `mongodb/${INSTANCE}/root`;
const PASSWORD = 'Lag#Start-Pass01';
const NEXT = 'Lag#Next-Pass02';
const data = (password: string) => JSON.stringify({ AccountName: 'root', AccountPassword: password, DBInstanceId: INSTANCE });

function fixture(faults?: unknown[]) {
  return {
    region: 'cn-hangzhou',
    accessKeys: [{ id: 'LTAI5tLagTestKey01', secret: 'lag-secret-01' }],
    instances: [
      { id: INSTANCE, type: 'replicate', rootPassword: PASSWORD },
      { id: 'dds-bp1lagtest000002', type: 'replicate', rootPassword: 'Lag#Other-Pass03' },
    ],
    secrets: [{ name: SECRET, instanceId: INSTANCE, versions: [{ versionId: 'v1', data: data(PASSWORD), stages: ['ACSCurrent'], createTime: '-2d' }] }],
    ...(faults && { faults }),
  };
}

describe('the lag fault', () => {
  const start = useCloudPerTest();
  let cloud: LocalCloud;
  let kms: KmsClient;
  const open = async (faults?: unknown[]) => {
    cloud = await start({ fixture: fixture(faults) });
    kms = kmsClient(cloud);
  };

  const put = (versionId: string, password: string) =>
    kms.putSecretValue(new $.PutSecretValueRequest({ secretName: SECRET, versionId, secretData: data(password), versionStages: '["ACSPending"]' }));
  /** Every version with its stages, as ListSecretVersionIds shows them. */
  const versions = async () => {
    const listed = await kms.listSecretVersionIds(new $.ListSecretVersionIdsRequest({ secretName: SECRET, includeDeprecated: 'true' }));
    return Object.fromEntries(listed.versionIds.versionId.map((v) => [v.versionId, v.versionStages.versionStage]));
  };
  const pending = () => kms.getSecretValue(new $.GetSecretValueRequest({ secretName: SECRET, versionStage: 'ACSPending' }));
  const status = async (instanceId = INSTANCE) => {
    const body = await ddsCall(cloud, 'DescribeDBInstanceAttribute', { DBInstanceId: instanceId });
    return (body.DBInstances as { DBInstance: Array<{ DBInstanceStatus: string }> }).DBInstance[0].DBInstanceStatus;
  };

  it('serves KMS reads from the state before a write until the lag has passed; the write itself answers at once', async () => {
    await open();
    const lag = cloud.faults.lag({ product: 'kms', ms: 1_500 });
    const written = Date.now();
    const answer = await put('v2', NEXT);
    expect(answer.versionStages.versionStage).toEqual(['ACSPending']);

    expect(await versions()).toEqual({ v1: ['ACSCurrent'] });
    expect(await kmsFailure(pending())).toMatchObject({ code: 'Forbidden.ResourceNotFound' });
    expect(await kmsFailure(kms.getSecretValue(new $.GetSecretValueRequest({ secretName: SECRET, versionId: 'v2' })))).toMatchObject({
      code: 'Forbidden.ResourceNotFound',
    });
    expect(Date.now() - written).toBeLessThan(1_500); // the reads above were served lagging

    await sleep(1_600 - (Date.now() - written));
    expect(await versions()).toEqual({ v1: ['ACSCurrent'], v2: ['ACSPending'] });
    expect((await pending()).versionId).toBe('v2');
    expect(lag.hits).toBe(5);
  });

  it('applies writes to the state as it is, whatever reads show', async () => {
    await open();
    cloud.faults.lag({ product: 'kms', ms: 5_000 });
    await put('v2', NEXT);
    // v2 is not visible to reads for 5 s, yet a write that names it succeeds and sees its label.
    await kms.updateSecretVersionStage(new $.UpdateSecretVersionStageRequest({ secretName: SECRET, versionStage: 'ACSPending', removeFromVersion: 'v2' }));
    expect(await versions()).toEqual({ v1: ['ACSCurrent'] });
    expect(cloud.truth.secret(SECRET)?.versions.map((v) => [v.versionId, v.stages])).toEqual([
      ['v1', ['ACSCurrent']],
      ['v2', []],
    ]);
    // The same VersionId again with other data is refused: the write sees the version a read does not.
    expect(await kmsFailure(put('v2', 'Lag#Other-Pass09'))).toEqual({ code: 'Rejected.ResourceExist', status: 409 });
  });

  it('answers Forbidden.ResourceNotFound for a secret created within the lag, as KMS does for a secret it lacks', async () => {
    await open();
    cloud.faults.lag({ product: 'kms', ms: 1_500 });
    const name = 'mongodb/dds-bp1lagtest000002/root';
    const created = Date.now();
    await kms.createSecret(new $.CreateSecretRequest({ secretName: name, versionId: 'v1', secretData: JSON.stringify({ AccountName: 'root', AccountPassword: 'Lag#Other-Pass03', DBInstanceId: 'dds-bp1lagtest000002' }) }));
    const reads = [
      () => kms.describeSecret(new $.DescribeSecretRequest({ secretName: name })),
      () => kms.getSecretValue(new $.GetSecretValueRequest({ secretName: name })),
      () => kms.listSecretVersionIds(new $.ListSecretVersionIdsRequest({ secretName: name })),
    ];
    for (const read of reads) expect(await kmsFailure(read())).toEqual({ code: 'Forbidden.ResourceNotFound', status: 404 });
    expect(Date.now() - created).toBeLessThan(1_500);
    await sleep(1_600 - (Date.now() - created));
    expect((await kms.describeSecret(new $.DescribeSecretRequest({ secretName: name }))).secretName).toBe(name);
  });

  it('lags DDS Describe* behind a status change, and only the product named', async () => {
    await open();
    cloud.faults.lag({ product: 'dds', ms: 1_500 });
    const changed = Date.now();
    cloud.faults.instanceStatus(INSTANCE, 'HASwitching', 60_000);
    expect(await status()).toBe('Running');
    const listed = await ddsCall(cloud, 'DescribeDBInstances', { DBInstanceStatus: 'HASwitching' });
    expect(listed.TotalCount).toBe(0);
    await put('v2', NEXT); // KMS does not lag: its reads see the write at once
    expect(await versions()).toEqual({ v1: ['ACSCurrent'], v2: ['ACSPending'] });
    expect(Date.now() - changed).toBeLessThan(1_500);
    await sleep(1_600 - (Date.now() - changed));
    expect(await status()).toBe('HASwitching');
    expect((await ddsCall(cloud, 'DescribeDBInstances', { DBInstanceStatus: 'HASwitching' })).TotalCount).toBe(1);
    cloud.faults.clear();
  });

  it('lags only the actions named and the requests `when` selects', async () => {
    await open();
    const lag = cloud.faults.lag({ product: 'kms', ms: 5_000, actions: ['GetSecretValue'], when: (params) => params.VersionStage === 'ACSPending' });
    await put('v2', NEXT);
    expect(await versions()).toEqual({ v1: ['ACSCurrent'], v2: ['ACSPending'] });
    expect((await kms.getSecretValue(new $.GetSecretValueRequest({ secretName: SECRET, versionId: 'v2' }))).versionId).toBe('v2');
    expect(await kmsFailure(pending())).toMatchObject({ code: 'Forbidden.ResourceNotFound' });
    expect(lag.hits).toBe(1);
    lag.remove();
    expect((await pending()).versionId).toBe('v2');
  });

  it('draws each read its own lag: successive reads may go back in time, none lags more than ms', async () => {
    await open();
    const lag = cloud.faults.lag({ product: 'kms', ms: 3_000, jitterMs: 3_000 });
    const written = Date.now();
    await put('v2', NEXT);
    await sleep(750);
    // Between 750 and 2250 ms after the write, each read sees it with a chance from 1/4 to 3/4.
    const seen: boolean[] = [];
    while (seen.length < 80 && Date.now() - written < 2_250) seen.push('v2' in (await versions()));
    // Each read saw the state before the write or after it, nothing else, and both were seen, in no fixed order.
    expect(seen).toContain(true);
    expect(seen).toContain(false);
    expect(seen.some((sawWrite, i) => sawWrite && seen[i + 1] === false)).toBe(true);

    await sleep(3_100 - (Date.now() - written));
    for (let i = 0; i < 10; i++) expect(await versions()).toEqual({ v1: ['ACSCurrent'], v2: ['ACSPending'] });
    expect(lag.hits).toBe(seen.length + 10);
  });

  it('refuses a lag on a write, a jitter above ms, or a product without reads, naming the field', async () => {
    await open();
    expect(() => cloud.faults.lag({ product: 'kms', ms: 100, actions: ['PutSecretValue'] })).toThrow(/actions may only name reads of kms.*writes never lag/);
    expect(() => cloud.faults.lag({ product: 'kms', ms: 100, jitterMs: 200 })).toThrow(/jitterMs must be from 0 to ms \(100\)/);
    expect(() => cloud.faults.lag({ product: 'fc' as 'kms', ms: 100 })).toThrow(/product must be "kms" or "dds"/);
    expect(() => cloud.faults.lag({ product: 'dds', ms: -1 })).toThrow(/ms must be a number of at least 0/);
  });

  describe('from a fixture', () => {
    it('lags from the start', async () => {
      await open([{ kind: 'lag', product: 'kms', ms: 1_500, actions: ['ListSecretVersionIds'] }]);
      const written = Date.now();
      await put('v2', NEXT);
      expect(await versions()).toEqual({ v1: ['ACSCurrent'] });
      expect((await pending()).versionId).toBe('v2');
      expect(Date.now() - written).toBeLessThan(1_500);
      await sleep(1_600 - (Date.now() - written));
      expect(await versions()).toEqual({ v1: ['ACSCurrent'], v2: ['ACSPending'] });
    });

    it("shows a MongoDB peer as the instance's endpoint from the start, however far reads lag", async () => {
      cloud = await start({ fixture: fixture([{ kind: 'lag', product: 'dds', ms: 5_000 }]), mongoPeers: [INSTANCE] });
      const body = await ddsCall(cloud, 'DescribeDBInstanceAttribute', { DBInstanceId: INSTANCE });
      const [primary] = (body.DBInstances as { DBInstance: Array<{ ReplicaSets: { ReplicaSet: Array<{ ConnectionDomain: string; ConnectionPort: string }> } }> })
        .DBInstance[0].ReplicaSets.ReplicaSet;
      const peer = cloud.mongo.peer(INSTANCE);
      expect([primary.ConnectionDomain, primary.ConnectionPort]).toEqual([peer.host, String(peer.port)]);
    });

    it('refuses a bad lag with every problem by its path', async () => {
      const bad = [
        { kind: 'lag', product: 'fc', ms: 100 },
        { kind: 'lag', product: 'kms', ms: 100, jitterMs: 500 },
        { kind: 'lag', product: 'dds', ms: 100, actions: ['ResetAccountPassword'] },
        { kind: 'lag', product: 'kms', ms: 100, actions: 'GetSecretValue' },
        { kind: 'lag', ms: 100 },
      ];
      await expect(start({ fixture: fixture(bad) })).rejects.toThrow(
        /faults\[0\]\.product: a lag needs "kms" or "dds", got "fc"[\s\S]*faults\[1\]: lag: jitterMs must be from 0 to ms \(100\)[\s\S]*faults\[2\]: lag: actions may only name reads of dds[\s\S]*faults\[3\]\.actions: must be a non-empty array[\s\S]*faults\[4\]\.product: a lag needs "kms" or "dds", got nothing/,
      );
    });
  });
});

describe('the state history behind the lag', () => {
  const instance = (status: string): InstanceState => ({
    id: INSTANCE,
    type: 'replicate',
    status,
    lockMode: 'Unlock',
    description: '',
    engineVersion: '5.0',
    creationTime: '2026-01-01T00:00:00Z',
    tags: {},
    rootPasswords: { normal: PASSWORD },
  });
  const live = { instances: new Map([[INSTANCE, instance('Running')]]), secrets: new Map<string, SecretState>() };

  it('answers as of a time, keeps only what the largest lag needs, and shares what did not change', () => {
    const history = new StateHistory(() => live);
    history.record(1_000);
    expect(history.size).toBe(0); // nothing is kept while no read lags
    history.retain(500);
    const first = history.asOf(0)!;
    const base = Date.now() + 1_000;
    for (let t = 1; t <= 100; t++) {
      live.instances.set(INSTANCE, instance(`S${t}`));
      history.record(base + t * 100);
    }
    // 100 changes 100 ms apart: only the last 500 ms of them, and the one before, are kept.
    expect(history.size).toBe(6);
    const end = base + 100 * 100;
    expect(history.asOf(end)?.instances.get(INSTANCE)?.status).toBe('S100');
    expect(history.asOf(end - 250)?.instances.get(INSTANCE)?.status).toBe('S97');
    expect(history.asOf(0)?.instances.get(INSTANCE)?.status).toBe('S95'); // older than kept: the oldest kept
    expect(first.instances.get(INSTANCE)?.rootPasswords).toEqual({}); // a read shows no password: none is copied

    history.record(end + 1); // unchanged: no new snapshot
    expect(history.size).toBe(6);
    const copy = history.asOf(end)!.instances.get(INSTANCE)!;
    expect(Object.isFrozen(copy)).toBe(true);
    live.secrets.set(SECRET, {
      name: SECRET,
      description: '',
      tags: {},
      createTime: '2026-01-01T00:00:00Z',
      updateTime: '2026-01-01T00:00:00Z',
      versions: [],
    });
    history.record(end + 2);
    expect(history.asOf(end + 2)!.instances.get(INSTANCE)).toBe(copy); // the unchanged instance is shared
    expect(history.asOf(end)!.secrets.has(SECRET)).toBe(false);

    history.retain(0);
    expect(history.size).toBe(0);
    expect(history.asOf(end)).toBeUndefined();
  });
});
