/**
 * Error text cannot carry a password out. The API gateway's SignatureDoesNotMatch quotes the string it
 * signed, every parameter percent-encoded twice: for PutSecretValue that is the new secret value. A client
 * timeout's message holds the request's URL, query and all. Whatever a service or the SDK says, no password
 * may reach a log line, the report or the rejection, in any form: plain, JSON-escaped, URL-encoded (once or
 * twice, either case, either flavour), or base64.
 */
import { describe, expect, it } from 'vitest';
import { kmsClient, kmsModels, sdkFailure } from '../helpers/sdk';
import { runTexts } from '../helpers/rotate';
import { fixture, secretName } from '../rotate/fixture';
import { useHarness } from '../rotate/harness';

const RS = 'dds-rs0errortext1';
const OLD = 'Old#ErrorText-Pw1';
const TIMER = { triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily', payload: '' };

/** Every way a password can be written into a text by an SDK, a gateway or a log. */
function forms(password: string): Record<string, string> {
  const rfc3986 = encodeURIComponent(password).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return {
    plain: password,
    'json-escaped': JSON.stringify(password).slice(1, -1),
    'uri-component': encodeURIComponent(password),
    rfc3986,
    'rfc3986-lower': rfc3986.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
    form: new URLSearchParams({ p: password }).toString().slice(2),
    'double-encoded': encodeURIComponent(rfc3986),
    base64: Buffer.from(password, 'utf8').toString('base64'),
  };
}

function leaks(texts: string[], passwords: string[]): string[] {
  return passwords.flatMap((password) =>
    Object.entries(forms(password)).flatMap(([form, needle]) => texts.filter((text) => text.includes(needle)).map(() => form)),
  );
}

describe('error text', () => {
  const h = useHarness();
  const start = () =>
    h.start(fixture({ instances: [{ id: RS, password: OLD }], secrets: [{ instanceId: RS, versions: [{ versionId: 'v1', password: OLD, stages: ['ACSCurrent'] }] }] }));

  it("the gateway's SignatureDoesNotMatch quotes the secret value it was sent, encoded twice", async () => {
    const cloud = await start();
    cloud.faults.error({ product: 'kms', action: 'PutSecretValue', code: 'SignatureDoesNotMatch' });
    const sent = 'Sent#Quoted-Pw1';
    const request = new kmsModels.PutSecretValueRequest({ secretName: secretName(RS), versionId: 'v-quoted', secretData: JSON.stringify({ AccountPassword: sent }), versionStages: '["ACSPending"]' });
    const failure = await sdkFailure(kmsClient(cloud).putSecretValue(request));
    const message = String(failure.data?.Message);
    expect(failure.data?.Code).toBe('SignatureDoesNotMatch');
    expect(message).toContain('server string to sign is:POST&%2F&');
    expect(message).toContain(forms(sent)['double-encoded']);
  });

  it('keeps the new password out of everything when PutSecretValue is refused with that message', async () => {
    const cloud = await start();
    const refusal = cloud.faults.error({ product: 'kms', action: 'PutSecretValue', code: 'SignatureDoesNotMatch' });
    const run = await h.run({ event: TIMER });

    expect(refusal.hits).toBe(1);
    const [result] = run.report?.results ?? [];
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'SignatureDoesNotMatch', message: expect.stringContaining('server string to sign is:') } });
    const generated = cloud.truth.passwordsSeen().filter((password) => password !== OLD);
    expect(generated).toHaveLength(1); // the password sent, and quoted back
    const texts = runTexts(run);
    expect(texts.length).toBeGreaterThan(5);
    expect(leaks(texts, generated)).toEqual([]);
    expect(cloud.truth.rootPassword(RS)).toBe(OLD);
  });

  it('keeps it out of a service error that echoes the request URL, query and all, retried or final', async () => {
    const cloud = await start();
    const echoed = (req: { params: Record<string, string> }) => `upstream failed: POST https://kms.cn-hangzhou.aliyuncs.com/?${new URLSearchParams(req.params).toString()}`;
    // Two 503s (retried, as a 503 may succeed later), then a refusal that ends the run: no race with its deadline.
    const retried = cloud.faults.error({ product: 'kms', action: 'PutSecretValue', code: 'ServiceUnavailable', httpStatus: 503, times: 2, message: echoed });
    const final = cloud.faults.error({ product: 'kms', action: 'PutSecretValue', code: 'Forbidden.NoPermission', httpStatus: 403, times: Infinity, message: echoed });
    const run = await h.run({ event: TIMER });

    expect([retried.hits, final.hits]).toEqual([2, 1]);
    const [result] = run.report?.results ?? [];
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'Forbidden.NoPermission', message: expect.stringContaining('upstream failed: POST https://kms.cn-hangzhou.aliyuncs.com/?') } });
    expect(result?.error?.message).not.toMatch(/SecretData|Signature=|AccessKeyId=/);
    const generated = cloud.truth.passwordsSeen().filter((password) => password !== OLD);
    expect(generated.length).toBeGreaterThan(0);
    const texts = runTexts(run);
    expect(texts.filter((text) => text.includes('upstream failed')).length).toBeGreaterThan(1); // the retries' warnings and the error
    expect(leaks(texts, generated)).toEqual([]);
  });

  it('a refusal (the tagged instances cannot be listed) shows a service message without the URL query it echoed', async () => {
    const cloud = await start();
    const token = 'STS-token-that-must-not-be-shown';
    const echo = cloud.faults.error({
      product: 'dds',
      action: 'DescribeDBInstances',
      code: 'InvalidParameter',
      message: () => `bad request: POST https://mongodb.aliyuncs.com/?Action=DescribeDBInstances&SecurityToken=${token}`,
    });
    const run = await h.run({ event: {}, env: { ROTATION_TARGETS: undefined, ROTATION_TAG: 'rotation=enabled' } });

    expect(echo.hits).toBe(1);
    expect(run.error).toMatchObject({ code: 'InvalidParameter', message: expect.stringContaining('https://mongodb.aliyuncs.com/?…') });
    const refused = run.logs.find((e) => e.msg === 'invocation refused; nothing was changed');
    expect(refused).toMatchObject([{ error: { code: 'InvalidParameter', message: expect.stringContaining('POST https://mongodb.aliyuncs.com/?…') } }]);
    expect(runTexts(run).filter((text) => text.includes(token))).toEqual([]);
    expect(cloud.truth.writeRequests()).toEqual([]);
  });

  it('keeps it out when the call times out with the request URL in the SDK message', async () => {
    // FC timeout 8 s: 5 s of working time, so the put's read timeout is at most 5 s, and the put is held 7 s.
    const cloud = await start();
    const hold = cloud.faults.hang({ product: 'kms', action: 'PutSecretValue', ms: 7_000, times: Infinity });
    const run = await h.run({ event: TIMER, context: { function: { name: 'mongodb-root-rotation', timeout: 8 } } });
    await cloud.faults.settled();

    expect(hold.hits).toBeGreaterThan(0);
    expect(run.report?.results[0]).toMatchObject({ outcome: 'failed', error: { code: 'RequestTimeout' } });
    const texts = runTexts(run);
    expect(leaks(texts, cloud.truth.passwordsSeen())).toEqual([]);
  });
});
