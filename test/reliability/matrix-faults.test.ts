/**
 * The fault controls the matrix is built on: `nth` (strike one call of an action), the `arrive` hook
 * (kill the caller with its request on the wire, never applied) and `settled()` (wait for what a fault
 * held to land), through the official clients.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { ddsCall, kmsClient, kmsModels } from '../helpers/sdk';

const KEY = { id: 'LTAI5tMatrixFaults01', secret: 'matrix-faults-secret-01' };
const INSTANCE = 'dds-bp1matrixfault1';
const SECRET = `mongodb/${INSTANCE}/root`;
const PASSWORDS = ['Matrix#Start-01', 'Matrix#Next-02', 'Matrix#Then-03', 'Matrix#Last-04'];

/** These tests reset the password straight through DDS, with no KMS version behind it, to exercise the controls. */
const RAW_RESETS = { violationsAllowed: 'the tests reset the password through DDS alone, with no rotation behind it' };

const fixture = {
  region: 'cn-hangzhou',
  accessKeys: [KEY],
  instances: [{ id: INSTANCE, type: 'replicate', rootPassword: PASSWORDS[0] }],
  secrets: [
    {
      name: SECRET,
      instanceId: INSTANCE,
      versions: [{ versionId: 'v1', data: JSON.stringify({ AccountName: 'root', AccountPassword: PASSWORDS[0] }), stages: ['ACSCurrent'] }],
    },
  ],
};

describe('fault controls for the matrix', () => {
  let cloud: LocalCloud;

  beforeEach(async () => {
    cloud = await startCloud({ fixture }, RAW_RESETS);
  });
  afterEach(async () => {
    await cloud.close();
  });

  const reset = (password: string, readTimeout?: number) =>
    ddsCall(cloud, 'ResetAccountPassword', { DBInstanceId: INSTANCE, AccountName: 'root', AccountPassword: password }, KEY, { readTimeout });
  const outcome = (call: Promise<unknown>) =>
    call.then(
      () => 'ok',
      (err: { code?: string; name?: string }) => err.code ?? err.name ?? 'error',
    );

  describe('nth', () => {
    it('spares the first n-1 matching calls and strikes the nth (times: 1)', async () => {
      const fault = cloud.faults.error({ action: 'ResetAccountPassword', nth: 2, code: 'Throttling.User' });
      const results = [];
      for (const password of PASSWORDS.slice(1)) results.push(await outcome(reset(password)));
      expect(results).toEqual(['ok', 'Throttling.User', 'ok']);
      expect(fault.hits).toBe(1);
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(PASSWORDS[3]);
    });

    it('strikes from the nth call on with times: Infinity, counting only calls that match', async () => {
      const fault = cloud.faults.error({ action: 'ResetAccountPassword', nth: 2, times: Infinity, code: 'Forbidden.RAM' });
      const kms = kmsClient(cloud, KEY);
      await kms.getSecretValue(new kmsModels.GetSecretValueRequest({ secretName: SECRET }));
      const results = [];
      for (const password of PASSWORDS.slice(1)) results.push(await outcome(reset(password)));
      expect(results).toEqual(['ok', 'Forbidden.RAM', 'Forbidden.RAM']);
      expect(fault.hits).toBe(2);
    });

    it('counts, for hooks too, every matching call that arrives, the ones another fault rejects included', async () => {
      cloud.faults.error({ action: 'ResetAccountPassword', code: 'InvalidAccountPassword.Malformed' });
      const seen: string[] = [];
      cloud.faults.onAction({ action: 'ResetAccountPassword', nth: 2, phase: 'after' }, (req) => {
        seen.push(req.requestId);
      });
      const results = [];
      for (const password of PASSWORDS.slice(1)) results.push(await outcome(reset(password)));
      expect(results).toEqual(['InvalidAccountPassword.Malformed', 'ok', 'ok']);
      const resets = cloud.truth.requests.filter((r) => r.action === 'ResetAccountPassword');
      expect(seen).toEqual([resets[1].requestId, resets[2].requestId]);
    });

    it('refuses a count below 1', () => {
      expect(() => cloud.faults.drop({ nth: 0 })).toThrow(RangeError);
      expect(() => cloud.faults.error({ nth: 1.5, code: 'InternalError' })).toThrow(RangeError);
    });
  });

  describe("the 'arrive' hook", () => {
    it('runs as the request arrives, then drops it unapplied: the caller gets no answer', async () => {
      const seen: string[] = [];
      const hook = cloud.faults.onAction({ action: 'ResetAccountPassword', phase: 'arrive' }, (req) => {
        seen.push(`${req.action} ${req.params.DBInstanceId}`);
      });
      expect(await outcome(reset(PASSWORDS[1]))).toMatch(/^(ECONNRESET|UND_ERR_SOCKET|Error)$/);
      expect(seen).toEqual([`ResetAccountPassword ${INSTANCE}`]);
      expect(hook.hits).toBe(1);
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(PASSWORDS[0]);
      expect(cloud.truth.writeRequests()).toEqual([]);
      expect(cloud.truth.requests.at(-1)).toMatchObject({ action: 'ResetAccountPassword', status: 0 });
      hook.remove();
      await reset(PASSWORDS[1]);
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(PASSWORDS[1]);
    });
  });

  describe('settled()', () => {
    it('resolves once a request held past its caller’s timeout has been applied', async () => {
      cloud.faults.hang({ action: 'ResetAccountPassword', ms: 300 });
      expect(await outcome(reset(PASSWORDS[1], 50))).toMatch(/Timeout/);
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(PASSWORDS[0]);
      await cloud.faults.settled();
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(PASSWORDS[1]);
      expect(cloud.truth.writeRequests()).toHaveLength(1);
    });

    it('waits out latency too, and resolves at once when nothing is held', async () => {
      await cloud.faults.settled();
      let arrived!: () => void;
      const arrival = new Promise<void>((resolve) => (arrived = resolve));
      const when = () => (arrived(), true);
      cloud.faults.latency({ action: 'ResetAccountPassword', when, ms: 100 });
      const call = reset(PASSWORDS[1]);
      await arrival;
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(PASSWORDS[0]);
      await cloud.faults.settled();
      expect(cloud.truth.rootPassword(INSTANCE)).toBe(PASSWORDS[1]);
      await call;
    });
  });

  it('reads nth from a fixture fault', async () => {
    await cloud.close();
    cloud = await startCloud({ fixture: { ...fixture, faults: [{ kind: 'error', action: 'ResetAccountPassword', nth: 2, code: 'InternalError' }] } }, RAW_RESETS);
    expect([await outcome(reset(PASSWORDS[1])), await outcome(reset(PASSWORDS[2]))]).toEqual(['ok', 'InternalError']);
    await expect(startCloud({ port: 0, fixture: { ...fixture, faults: [{ kind: 'drop', nth: 0.5 }] } })).rejects.toThrow(/faults\[0\]\.nth: must be a whole number/);
  });
});
