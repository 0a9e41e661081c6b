import { describe, expect, it } from 'vitest';
import { OperationError } from '../../functions/shared/errors';
import { Logger } from '../../functions/shared/logger';
import { sanitizeMessage } from '../../functions/shared/scrub';
import { Deadline, withRetry } from '../../functions/shared/retry';
import { LogCapture } from '../helpers/rotate';

describe('logger', () => {
  it('writes one JSON object per line with the bound keys of its children', () => {
    const logs = new LogCapture();
    const root = Logger.create({ sink: logs, fields: { requestId: 'req-1' } });
    root.child({ rotationId: 'r' }).child({ instanceId: 'dds-a', step: 'apply' }).info('reset', { outcome: 'ok', durationMs: 3 });
    expect(logs.lines).toHaveLength(1);
    expect(logs.entries()[0]).toEqual({ time: expect.any(String), level: 'info', msg: 'reset', requestId: 'req-1', rotationId: 'r', instanceId: 'dds-a', step: 'apply', outcome: 'ok', durationMs: 3 });
  });

  it('cannot be made to forge a line by input strings', () => {
    const logs = new LogCapture();
    Logger.create({ sink: logs }).warn('x', { instanceId: 'dds-a"}\n{"level":"error","msg":"forged' });
    expect(logs.lines).toHaveLength(1);
    expect(logs.entries()[0].instanceId).toBe('dds-a"}\n{"level":"error","msg":"forged');
  });

  it('redacts keys named like passwords or secret data, at any depth', () => {
    const logs = new LogCapture();
    Logger.create({ sink: logs }).info('x', { AccountPassword: 'p1', nested: { secretData: 'p2', SecretData: 'p3', list: [{ password: 'p4' }] }, secretName: 'kept' });
    expect(logs.entries()[0]).toMatchObject({ AccountPassword: '[REDACTED]', nested: { secretData: '[REDACTED]', SecretData: '[REDACTED]', list: [{ password: '[REDACTED]' }] }, secretName: 'kept' });
  });

  it('scrubs registered secrets from every later line of every relative, plain or JSON-escaped', () => {
    const logs = new LogCapture();
    const root = Logger.create({ sink: logs });
    const child = root.child({ instanceId: 'dds-a' });
    child.keepSecret('Pw"with\\escapes1');
    child.keepSecret('Plain#Secret-1');
    root.error('failed', { message: 'server said Pw"with\\escapes1 and Plain#Secret-1' });
    expect(logs.lines[0]).not.toContain('escapes1');
    expect(logs.lines[0]).not.toContain('Plain#Secret-1');
    expect(logs.entries()[0].message).toBe('server said [REDACTED] and [REDACTED]');
  });
});

describe('scrubbing and sanitizing error text', () => {
  const secret = 'Ab1!#$%^&*()_+-=Zz';

  it.each([
    ['encodeURIComponent', encodeURIComponent(secret)],
    ['RFC 3986 (rpc-client, openapi-core)', encodeURIComponent(secret).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)],
    ['a form body', new URLSearchParams({ p: secret }).toString().slice(2)],
    ['lower-case hex', encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())],
    ['encoded twice (a string to sign)', encodeURIComponent(encodeURIComponent(secret))],
  ])('scrubs a registered secret written %s', (_, written) => {
    const logs = new LogCapture();
    const log = Logger.create({ sink: logs });
    log.keepSecret(secret);
    log.error('failed', { message: `POST&%2F&SecretData%3D${written}%26x` });
    expect(logs.lines[0]).not.toContain(written);
    expect(logs.entries()[0].message).toBe('POST&%2F&SecretData%3D[REDACTED]%26x');
    expect(log.sanitize(`said ${written}.`)).toBe('said [REDACTED].');
  });

  it('strips the query and user info of any URL in an error message, then caps it', () => {
    expect(sanitizeMessage('ReadTimeout(10000). POST http://user:pw@kms.example.com/path?SecretData=x&SecurityToken=t failed')).toBe(
      'ReadTimeout(10000). POST http://…@kms.example.com/path?… failed',
    );
    expect(sanitizeMessage('x'.repeat(400))).toHaveLength(301);
  });
});

describe('retry', () => {
  const throttled = () => OperationError.of('Throttling.User', 'slow down', true);

  it('retries what can succeed later, with full-jitter backoff under the cap', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 5) throw throttled();
        return 'done';
      },
      { deadline: new Deadline(Date.now() + 60_000), baseDelayMs: 4, maxDelayMs: 10, random: () => 0.999, onRetry: (_e, _n, delay) => delays.push(delay) },
    );
    expect(result).toBe('done');
    expect(delays).toEqual([3, 7, 9, 9]);
  });

  it('does not retry what cannot succeed later, and rethrows the original error', async () => {
    const denied = OperationError.of('InvalidParameter', 'no', false);
    let calls = 0;
    await expect(withRetry(async () => { calls++; throw denied; }, { deadline: new Deadline(Date.now() + 60_000) })).rejects.toBe(denied);
    expect(calls).toBe(1);
  });

  it('gives up when the next try would start past the deadline', async () => {
    let calls = 0;
    const error = throttled();
    await expect(withRetry(async () => { calls++; throw error; }, { deadline: new Deadline(Date.now() + 50), baseDelayMs: 1_000, random: () => 0.5 })).rejects.toBe(error);
    expect(calls).toBe(1);
    await expect(withRetry(async () => 'never', { deadline: new Deadline(Date.now() - 1) })).rejects.toMatchObject({ detail: { code: 'DeadlineExceeded' } });
  });

  it('keeps a safety margin from the function timeout', () => {
    const start = 1_000_000;
    expect(Deadline.forInvocation(60, start).at).toBe(start + 54_000);
    expect(Deadline.forInvocation(10, start).at).toBe(start + 7_000);
    expect(Deadline.forInvocation(4, start).at).toBe(start + 2_000);
    expect(Deadline.forInvocation(undefined, start).at).toBe(start + 54_000);
    expect(Deadline.forInvocation(600, start).at).toBe(start + 540_000);
  });
});
