/**
 * The login check before promotion (docs/design.md §3, step 5), end to end: the function rotates through the
 * SDKs against a local cloud whose instances have MongoDB login peers, and the assertions log in with
 * the official driver.
 */
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fleet, secretName, target } from '../rotate/fixture';
import { kmsClient, kmsModels } from '../helpers/sdk';
import { describedAddress, login, stepLines, useVerifyCloud } from './cloud';
import { CA_FILE, OTHER_CA_FILE, startTlsProxy } from './tls-proxy';

const RS = 'dds-rs0verify01';
const RS2 = 'dds-rs0verify02';
const SHARDED = 'dds-sh0verify01';
const TIMER = { triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily', payload: '' };
// A refused password is given up at once here (after re-applying it); waiting for a late one: test/reliability/lag.test.ts.
const VERIFY = { VERIFY_LOGIN: 'true', VERIFY_TIMEOUT_MS: '3000', VERIFY_WAIT_SECONDS: '0' };
/** For the checks that fail whatever the wait: the driver waits out its selection timeout before giving up. */
const VERIFY_BRIEFLY = { VERIFY_LOGIN: 'true', VERIFY_TIMEOUT_MS: '500', VERIFY_WAIT_SECONDS: '0' };
const AUTHENTICATION_FAILED = 18;

/** A port nothing listens on: taken from the system, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function resets(cloud: { truth: { requests: ReadonlyArray<{ action: string; params: Record<string, string> }> } }): string[] {
  return cloud.truth.requests.filter((r) => r.action === 'ResetAccountPassword').map((r) => r.params.CharacterType ?? 'normal');
}

describe('rotation with the login check', () => {
  const v = useVerifyCloud();

  it.each([
    { kind: 'replica set', id: RS, type: 'replicate' as const, roles: ['normal'] },
    { kind: 'sharded cluster (the mongos checks cs)', id: SHARDED, type: 'sharding' as const, roles: ['db', 'cs'] },
  ])('proves the new password of a $kind before promoting it', async ({ id, type, roles }) => {
    const cloud = await v.start(fleet(target(id, { type, password: 'Old#Verify-Pw1' })));
    const run = await v.run({ event: TIMER, env: VERIFY });

    expect(run.error).toBeUndefined();
    expect(run.report?.results).toMatchObject([{ instanceId: id, outcome: 'rotated', characterTypes: roles }]);
    const address = await describedAddress(cloud, id);
    expect(address.host).toBe('127.0.0.1');
    expect(stepLines(run, 'verify')).toMatchObject([
      { level: 'info', msg: 'verify done', outcome: 'ok', at: `127.0.0.1:${address.port}`, reapplied: false },
    ]);
    const steps = run.logs.find((e) => e.outcome === 'ok' && typeof e.step === 'string').map((e) => e.step);
    expect(steps).toEqual(['inspect', 'stage', 'apply', 'settle', 'verify', 'promote']);

    const current = cloud.truth.secretPassword(secretName(id))!;
    expect(current).not.toBe('Old#Verify-Pw1');
    expect(await login(address, current)).toBe('ok');
    expect(await login(address, 'Old#Verify-Pw1')).toBe(AUTHENTICATION_FAILED);
    expect(resets(cloud)).toEqual(roles);
  });

  it('does not promote a password the instance refuses: ACSPending kept, a clear failure, who is locked out', async () => {
    const cloud = await v.start(fleet(target(RS, { password: 'Old#Refused-Pw1' })));
    const refusing = cloud.mongo.rejectLogins(RS);
    const run = await v.run({ event: TIMER, env: VERIFY });

    const [result] = run.report?.results ?? [];
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'VerifyLoginFailed' } });
    expect(result?.error?.message).toMatch(/^the new password was refused at 127\.0\.0\.1:\d+ \(auth-failed, code 18\), also after re-applying it; /);
    expect(result?.error?.message).toContain('the old password (ACSCurrent) is refused too: neither password logs in');
    expect(result?.error?.message).toContain(`Not promoted: version ${result?.versionId} keeps ACSPending`);
    expect(run.error?.message).toContain(RS);

    const name = secretName(RS);
    expect(cloud.truth.secretPassword(name)).toBe('Old#Refused-Pw1');
    const pending = cloud.truth.secret(name)!.versions.find((version) => version.stages.includes('ACSPending'));
    expect(pending?.versionId).toBe(result?.versionId);
    expect(cloud.truth.rootPassword(RS)).toBe(cloud.truth.secretPassword(name, 'ACSPending'));
    expect(resets(cloud)).toEqual(['normal', 'normal']); // applied, then re-applied once
    expect(refusing.hits).toBe(3); // the new password twice, the old one once
    expect(stepLines(run, 'verify').map((e) => e.msg)).toEqual([
      'the new password was refused; re-applying it once',
      'the new password did not log in; not promoting',
      'verify failed',
    ]);

    // Once the instance takes logins again, the next run resumes the pending version and promotes it.
    refusing.remove();
    const next = await v.run({ event: { ...TIMER, triggerTime: '2026-11-28T03:00:00Z' }, env: VERIFY });
    expect(next.report?.results).toMatchObject([{ outcome: 'resumed', versionId: result?.versionId }]);
    expect(await login(await describedAddress(cloud, RS), cloud.truth.secretPassword(name)!)).toBe('ok');
  });

  it('says when the old password still works: applications keep working', async () => {
    const cloud = await v.start(fleet(target(SHARDED, { type: 'sharding', password: 'Old#Frozen-Pw1' })));
    cloud.mongo.freezePassword(SHARDED); // the login path never sees the reset
    const run = await v.run({ event: TIMER, env: VERIFY });

    const [result] = run.report?.results ?? [];
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'VerifyLoginFailed' } });
    expect(result?.error?.message).toContain('the old password (ACSCurrent) still logs in: applications keep working');
    expect(cloud.truth.secretPassword(secretName(SHARDED))).toBe('Old#Frozen-Pw1');
    expect(cloud.truth.secretPassword(secretName(SHARDED), 'ACSPending')).toBeDefined();
    expect(stepLines(run, 'verify').find((e) => e.msg === 'the new password did not log in; not promoting')).toMatchObject({
      reason: 'auth-failed',
      previousLogin: 'works',
    });
  });

  it('re-applies the reset once when the first login is refused, then promotes', async () => {
    const cloud = await v.start(fleet(target(SHARDED, { type: 'sharding', password: 'Old#Transient-Pw1' })));
    const refusing = cloud.mongo.rejectLogins(SHARDED, { times: 1 });
    const run = await v.run({ event: TIMER, env: VERIFY });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(refusing.hits).toBe(1);
    expect(resets(cloud)).toEqual(['db', 'cs', 'db', 'cs']);
    expect(stepLines(run, 'verify').at(-1)).toMatchObject({ msg: 'verify done', reapplied: true });
    expect(await login(await describedAddress(cloud, SHARDED), cloud.truth.secretPassword(secretName(SHARDED))!)).toBe('ok');
  });

  it.each(['%', '^', '&', '(', '+', '=', '!#$%^&*()_+-='])('logs in with a password holding %s', async (special) => {
    const cloud = await v.start(fleet(target(RS, { password: 'Old#Special-Pw1' })));
    const password = `Ab3${special}xY9${special}`; // 32 characters at most
    const kms = kmsClient(cloud);
    await kms.putSecretValue(
      new kmsModels.PutSecretValueRequest({
        secretName: secretName(RS),
        versionId: 'v-special',
        secretData: JSON.stringify({ AccountName: 'root', AccountPassword: password, DBInstanceId: RS, CharacterTypes: ['normal'] }),
        secretDataType: 'text',
        versionStages: JSON.stringify(['ACSPending']),
      }),
    );
    const run = await v.run({ event: TIMER, env: VERIFY });

    expect(run.report?.results).toMatchObject([{ outcome: 'resumed', versionId: 'v-special' }]);
    expect(stepLines(run, 'verify').at(-1)).toMatchObject({ msg: 'verify done', reapplied: false });
    expect(cloud.truth.secretPassword(secretName(RS))).toBe(password);
    expect(await login(await describedAddress(cloud, RS), password)).toBe('ok');
  });

  it('fails clearly when the address cannot be reached, without re-applying, ACSPending kept', async () => {
    const cloud = await v.start(fleet(target(RS, { password: 'Old#Closed-Pw1' })));
    const port = await closedPort();
    const run = await v.run({ event: TIMER, env: VERIFY_BRIEFLY, targets: [{ instanceId: RS, connectionHost: `127.0.0.1:${port}` }] });

    const [result] = run.report?.results ?? [];
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'VerifyLoginFailed' } });
    expect(result?.error?.message).toMatch(new RegExp(`^the login check could not reach 127\\.0\\.0\\.1:${port} \\(unreachable\\); whether the old password \\(ACSCurrent\\) still logs in is unknown`));
    expect(cloud.truth.secretPassword(secretName(RS), 'ACSPending')).toBe(cloud.truth.rootPassword(RS));
    expect(cloud.truth.secretPassword(secretName(RS))).toBe('Old#Closed-Pw1');
    expect(resets(cloud)).toEqual(['normal']);
    expect(cloud.truth.requests.filter((r) => r.action === 'GetSecretValue')).toEqual([]);
  });

  it('tries a connection dropped under the login check once more, and promotes when that one logs in', async () => {
    const cloud = await v.start(fleet(target(RS, { password: 'Old#Dropped-Pw1' })));
    const dropped = cloud.mongo.drop({ instanceId: RS, command: 'ping', times: 1 });
    const run = await v.run({ event: TIMER, env: VERIFY });

    expect(dropped.hits).toBe(1);
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(stepLines(run, 'verify').map((e) => e.msg)).toEqual(['the login check did not get through; trying once more', 'verify done']);
    expect(resets(cloud)).toEqual(['normal']);
    expect(await login(await describedAddress(cloud, RS), cloud.truth.secretPassword(secretName(RS))!)).toBe('ok');
  });

  it('tries once more when the server sheds load at the login check (462, labelled RetryableError), and promotes', async () => {
    const cloud = await v.start(fleet(target(RS, { password: 'Old#Shedding-Pw1' })));
    const shed = cloud.mongo.error({ instanceId: RS, command: 'ping', code: 462, times: 1 });
    const run = await v.run({ event: TIMER, env: VERIFY });

    expect(shed.hits).toBe(1);
    expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(stepLines(run, 'verify')[0]).toMatchObject({ msg: 'the login check did not get through; trying once more', reason: 'busy' });
    expect(await login(await describedAddress(cloud, RS), cloud.truth.secretPassword(secretName(RS))!)).toBe('ok');
  });

  it('verifies per target: "verify": true without VERIFY_LOGIN, "verify": false despite it', async () => {
    await v.start(fleet(target(RS, { password: 'Old#PerTarget-Pw1' }), target(RS2, { password: 'Old#PerTarget-Pw2' })));
    const onlyFirst = await v.run({ event: TIMER, targets: [{ instanceId: RS, verify: true }, { instanceId: RS2 }] });
    expect(onlyFirst.report?.results).toMatchObject([{ outcome: 'rotated' }, { outcome: 'rotated' }]);
    expect(stepLines(onlyFirst, 'verify').map((e) => e.instanceId)).toEqual([RS]);

    const allButFirst = await v.run({
      event: { force: true },
      env: VERIFY,
      targets: [{ instanceId: RS, verify: false }, { instanceId: RS2 }],
    });
    expect(allButFirst.report?.results).toMatchObject([{ outcome: 'rotated' }, { outcome: 'rotated' }]);
    expect(stepLines(allButFirst, 'verify').map((e) => e.instanceId)).toEqual([RS2]);
  });

  it('never logs in during a dry run', async () => {
    const cloud = await v.start(fleet(target(RS, { password: 'Old#DryRun-Pw1' })));
    const watching = cloud.mongo.freezePassword(RS); // counts every login the peer checks
    const run = await v.run({ event: { dryRun: true }, env: VERIFY });
    expect(run.report?.results).toMatchObject([{ outcome: 'planned' }]);
    expect(stepLines(run, 'verify')).toEqual([]);
    expect(watching.hits).toBe(0);
  });

  describe('over TLS, to a connectionHost', () => {
    it('logs in through TLS with the CA of VERIFY_TLS_CA_FILE', async () => {
      const cloud = await v.start(fleet(target(RS, { password: 'Old#Tls-Pw1' })));
      const proxy = await startTlsProxy(cloud.mongo.peer(RS).port);
      try {
        const env = { ...VERIFY, VERIFY_TLS: 'true', VERIFY_TLS_CA_FILE: CA_FILE };
        const run = await v.run({ event: TIMER, env, targets: [{ instanceId: RS, connectionHost: `localhost:${proxy.port}` }] });
        expect(run.report?.results).toMatchObject([{ outcome: 'rotated' }]);
        expect(stepLines(run, 'verify').at(-1)).toMatchObject({ msg: 'verify done', at: `localhost:${proxy.port}` });
      } finally {
        await proxy.close();
      }
    });

    it('fails as tls when the server is not signed by that CA', async () => {
      const cloud = await v.start(fleet(target(RS, { password: 'Old#OtherCa-Pw1' })));
      const proxy = await startTlsProxy(cloud.mongo.peer(RS).port);
      try {
        const env = { ...VERIFY_BRIEFLY, VERIFY_TLS: 'true', VERIFY_TLS_CA_FILE: OTHER_CA_FILE };
        const run = await v.run({ event: TIMER, env, targets: [{ instanceId: RS, connectionHost: `localhost:${proxy.port}` }] });
        const [result] = run.report?.results ?? [];
        expect(result).toMatchObject({ outcome: 'failed', error: { code: 'VerifyLoginFailed' } });
        expect(result?.error?.message).toMatch(/^the TLS connection to localhost:\d+ failed \(tls\)/);
        expect(cloud.truth.secretPassword(secretName(RS), 'ACSPending')).toBeDefined();
      } finally {
        await proxy.close();
      }
    });
  });
});
