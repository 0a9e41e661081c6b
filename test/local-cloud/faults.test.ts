import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Readable } from 'node:stream';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import type { ArrivingRequest } from '../../local-cloud/faults/fault-controls';
import { ddsCall, fcClient, fcModels, kmsClient, kmsModels, sdkFailure as failure, type SdkError } from '../helpers/sdk';

const KEY = { id: 'LTAI5tFaultsTest01', secret: 'faults-secret-01' };
const INSTANCE = 'dds-bp1faultstest01';
const SECRET = `mongodb/${INSTANCE}/root`;
const PASSWORD = 'Faults#Start-01';
const NEXT_PASSWORD = 'Faults#Next-02';

const fixture = {
  region: 'cn-shanghai',
  accessKeys: [KEY],
  instances: [{ id: INSTANCE, type: 'replicate', rootPassword: PASSWORD }],
  secrets: [
    {
      name: SECRET,
      instanceId: INSTANCE,
      versions: [
        { versionId: 'v1', data: JSON.stringify({ AccountName: 'root', AccountPassword: PASSWORD }), stages: ['ACSCurrent'] },
        { versionId: 'v2', data: JSON.stringify({ AccountName: 'root', AccountPassword: NEXT_PASSWORD }), stages: ['ACSPending'] },
      ],
    },
  ],
};

describe('faults', () => {
  let cloud: LocalCloud;

  beforeEach(async () => {
    cloud = await startCloud({ port: 0, fixture });
  });
  afterEach(async () => {
    await cloud.close();
  });

  const describeInstance = (options = {}) => ddsCall(cloud, 'DescribeDBInstanceAttribute', { DBInstanceId: INSTANCE }, KEY, options);
  const instanceStatus = async () => {
    const body = await describeInstance();
    return (body.DBInstances as { DBInstance: { DBInstanceStatus: string }[] }).DBInstance[0].DBInstanceStatus;
  };
  const reset = (options = {}) =>
    ddsCall(cloud, 'ResetAccountPassword', { DBInstanceId: INSTANCE, AccountName: 'root', AccountPassword: NEXT_PASSWORD }, KEY, options);
  const getSecret = () => kmsClient(cloud, KEY).getSecretValue(new kmsModels.GetSecretValueRequest({ secretName: SECRET }));

  it('latency delays the matching product only', async () => {
    const slow = cloud.faults.latency({ product: 'dds', ms: 150 });
    const started = Date.now();
    await describeInstance();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await getSecret();
    expect(slow.hits).toBe(1);
  });

  describe('error', () => {
    it('fails the matching action once by default, without applying it', async () => {
      const fault = cloud.faults.error({ action: 'ResetAccountPassword', code: 'InternalError' });
      const err = await failure(reset());
      expect(err).toMatchObject({ code: 'InternalError', statusCode: 500 });
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(PASSWORD);
      expect(cloud.truth.writeRequests()).toEqual([]);
      await reset();
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(NEXT_PASSWORD);
      expect(fault.hits).toBe(1);
    });

    it('fails N times with the given status and message, and only requests that match `when`', async () => {
      const fault = cloud.faults.error({
        product: 'kms',
        code: 'ServiceUnavailableTemporary',
        httpStatus: 503,
        message: 'Try later.',
        times: 2,
        when: (params) => params.SecretName === SECRET,
      });
      for (let i = 0; i < 2; i++) {
        const err = await failure(getSecret());
        expect(err.code).toBe('ServiceUnavailableTemporaryError');
        expect(err.data).toMatchObject({ Code: 'ServiceUnavailableTemporary', Message: 'Try later.' });
        expect(err.message).toContain('code: 503');
      }
      await getSecret();
      expect(fault.hits).toBe(2);
    });

    it('fails at a rate: 1 always, 0 never', async () => {
      const always = cloud.faults.error({ product: 'dds', code: 'Throttling.User', rate: 1 });
      for (let i = 0; i < 3; i++) expect((await failure(describeInstance())).code).toBe('Throttling.User');
      always.remove();
      const never = cloud.faults.error({ product: 'dds', code: 'Throttling.User', rate: 0 });
      await describeInstance();
      expect(always.hits).toBe(3);
      expect(never.hits).toBe(0);
    });

    it('fails about half the requests at rate 0.5', async () => {
      const fault = cloud.faults.error({ product: 'dds', code: 'InternalError', rate: 0.5 });
      const outcomes = await Promise.allSettled(Array.from({ length: 60 }, () => describeInstance()));
      const failed = outcomes.filter((o) => o.status === 'rejected').length;
      expect(failed).toBe(fault.hits);
      expect(failed).toBeGreaterThan(5);
      expect(failed).toBeLessThan(55);
    });
  });

  describe('throttle', () => {
    it('answers DDS beyond the QPS with Throttling.User (400), not applied and not a write', async () => {
      const fault = cloud.faults.throttle({ product: 'dds', qps: 1 });
      const outcomes = await Promise.allSettled([reset(), reset(), reset(), reset()]);
      const rejected = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as SdkError] : []));
      expect(rejected.length).toBeGreaterThanOrEqual(1);
      expect(rejected.length).toBe(fault.hits);
      for (const err of rejected) expect(err).toMatchObject({ code: 'Throttling.User', statusCode: 400 });
      expect(cloud.truth.writeRequests()).toHaveLength(4 - rejected.length);
      expect(cloud.truth.requests.filter((r) => r.code === 'Throttling.User')).toHaveLength(rejected.length);
    });

    it('answers KMS beyond the QPS with Rejected.Throttling (429)', async () => {
      cloud.faults.throttle({ product: 'kms', qps: 1 });
      const outcomes = await Promise.allSettled([getSecret(), getSecret(), getSecret()]);
      const rejected = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as SdkError] : []));
      expect(rejected.length).toBeGreaterThanOrEqual(1);
      for (const err of rejected) {
        expect(err.data?.Code).toBe('Rejected.Throttling');
        expect(err.message).toContain('code: 429');
      }
    });
  });

  describe('drop', () => {
    it('ends the connection before the action, once by default: nothing changes', async () => {
      const fault = cloud.faults.drop({ action: 'ResetAccountPassword' });
      const err = await failure(reset());
      expect(err.statusCode).toBeUndefined();
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(PASSWORD);
      expect(cloud.truth.requests.at(-1)).toMatchObject({ action: 'ResetAccountPassword', status: 0, write: false });
      expect(fault.hits).toBe(1);
      await reset();
    });

    it('with after, applies the action and then ends the connection: the answer is lost', async () => {
      const fault = cloud.faults.drop({ action: 'ResetAccountPassword', after: true, times: 2 });
      await failure(reset());
      await failure(reset());
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(NEXT_PASSWORD);
      expect(cloud.truth.writeRequests()).toHaveLength(2);
      expect(fault.hits).toBe(2);
      await reset();
    });
  });

  describe('hang', () => {
    it('holds the request past the client timeout; closing the cloud releases it unapplied', async () => {
      const fault = cloud.faults.hang({ action: 'ResetAccountPassword', ms: 60_000 });
      const err = await failure(reset({ readTimeout: 200 }));
      expect(err.statusCode).toBeUndefined();
      expect(fault.hits).toBe(1);
      await cloud.close();
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(PASSWORD);
    });

    it('holds once by default, then answers at once', async () => {
      cloud.faults.hang({ product: 'kms', ms: 60_000 });
      const client = kmsClient(cloud, KEY);
      const held = client.getSecretValueEx(new kmsModels.GetSecretValueRequest({ secretName: SECRET }), { readTimeout: 200 } as never);
      expect(await failure(held)).toBeInstanceOf(Error);
      expect((await getSecret()).secretName).toBe(SECRET);
    });

    it('with after, applies the action and then holds the answer', async () => {
      cloud.faults.hang({ action: 'ResetAccountPassword', ms: 60_000, after: true });
      await failure(reset({ readTimeout: 200 }));
      await vi.waitFor(() => expect(cloud.truth.rootPassword(INSTANCE)).toBe(NEXT_PASSWORD));
    });
  });

  describe('instanceStatus', () => {
    it('shows the status for a while, then the previous one again', async () => {
      const fault = cloud.faults.instanceStatus(INSTANCE, 'HASwitching', 100);
      expect(await instanceStatus()).toBe('HASwitching');
      expect((await failure(reset())).code).toBe('IncorrectDBInstanceState');
      await vi.waitFor(async () => expect(await instanceStatus()).toBe('Running'));
      expect(fault.hits).toBe(1);
    });

    it('is put back at once by remove() or clear()', async () => {
      cloud.faults.instanceStatus(INSTANCE, 'Rebooting', 60_000).remove();
      expect(await instanceStatus()).toBe('Running');
      cloud.faults.instanceStatus(INSTANCE, 'Rebooting', 60_000);
      cloud.faults.clear();
      expect(await instanceStatus()).toBe('Running');
    });
  });

  describe('onAction', () => {
    it('calls the hook before the action is applied and after, awaiting each', async () => {
      const seen: string[] = [];
      let arriving: ArrivingRequest | undefined;
      const before = cloud.faults.onAction({ action: 'ResetAccountPassword', phase: 'before' }, async (req) => {
        arriving = req;
        await new Promise((resolve) => setTimeout(resolve, 20));
        seen.push(`before: ${cloud.truth.rootPassword(INSTANCE) === PASSWORD ? 'old' : 'new'}`);
      });
      cloud.faults.onAction({ action: 'ResetAccountPassword', phase: 'after' }, () => {
        seen.push(`after: ${cloud.truth.rootPassword(INSTANCE) === PASSWORD ? 'old' : 'new'}`);
      });
      const body = await reset();
      expect(seen).toEqual(['before: old', 'after: new']);
      expect(arriving).toMatchObject({ requestId: body.RequestId, product: 'dds', action: 'ResetAccountPassword', accessKeyId: KEY.id });
      expect(arriving?.params.DBInstanceId).toBe(INSTANCE);
      expect(before.hits).toBe(1);
      await describeInstance();
      expect(before.hits).toBe(1);
    });
  });

  it('applies to Function Compute as well', async () => {
    const fault = cloud.faults.error({ product: 'fc', action: 'InvokeFunction', code: 'ResourceThrottled', httpStatus: 429 });
    const invoke = fcClient(cloud, KEY).invokeFunction('rotate', new fcModels.InvokeFunctionRequest({ body: Readable.from([Buffer.from('{}')]) }));
    expect(await failure(invoke)).toMatchObject({ code: 'ResourceThrottled', statusCode: 429 });
    expect(fault.hits).toBe(1);
  });

  it('clear() removes every fault', async () => {
    cloud.faults.error({ product: 'dds', code: 'InternalError', times: 5 });
    cloud.faults.drop({ product: 'kms' });
    cloud.faults.clear();
    await describeInstance();
    await getSecret();
  });
});

describe('faults from the fixture', () => {
  let cloud: LocalCloud | undefined;
  afterEach(async () => {
    await cloud?.close();
    cloud = undefined;
  });

  it('applies the fixture `faults` array', async () => {
    cloud = await startCloud({
      port: 0,
      fixture: { ...fixture, faults: [{ kind: 'error', product: 'kms', action: 'GetSecretValue', code: 'Rejected.Throttling', times: 1 }] },
    });
    const err = await failure(kmsClient(cloud, KEY).getSecretValue(new kmsModels.GetSecretValueRequest({ secretName: SECRET })));
    expect(err.data?.Code).toBe('Rejected.Throttling');
    expect(err.message).toContain('code: 429');
  });

  it('refuses a bad fault, naming the field', async () => {
    const faults = [{ kind: 'throttle', product: 'fc', qps: 5 }, { kind: 'latency', ms: 'slow' }, { kind: 'explode' }];
    await expect(startCloud({ port: 0, fixture: { ...fixture, faults } })).rejects.toThrow(
      /faults\[0\]\.product: a throttle needs "dds" or "kms"[\s\S]*faults\[1\]\.ms: must be a number[\s\S]*faults\[2\]\.kind: must be one of/,
    );
  });
});
