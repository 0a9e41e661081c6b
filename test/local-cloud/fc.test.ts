import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import type { FunctionSpec } from '../../local-cloud/fc';
import { fcClient, fcModels, type FcClient } from '../helpers/sdk';

const require = createRequire(import.meta.url);
const dara = require('@darabonba/typescript') as typeof import('@darabonba/typescript');

const FIXTURES = path.resolve(__dirname, '../fixtures/functions');

function spec(name: string, fixture: string, extra: Partial<FunctionSpec> = {}): FunctionSpec {
  return { name, codeDir: path.join(FIXTURES, fixture), handler: 'index.handler', timeoutSeconds: 10, memoryMB: 128, environment: {}, ...extra };
}

interface InvokeOptions {
  type?: 'Sync' | 'Async';
  logType?: 'None' | 'Tail';
  taskId?: string;
  qualifier?: string;
}

/** InvokeFunction through the official client; the body is read as FC sends it (bytes). */
async function invoke(client: FcClient, name: string, event: string, options: InvokeOptions = {}) {
  const response = await client.invokeFunctionWithOptions(
    name,
    new fcModels.InvokeFunctionRequest({ body: Readable.from(Buffer.from(event, 'utf8')), qualifier: options.qualifier }),
    new fcModels.InvokeFunctionHeaders({ xFcInvocationType: options.type, xFcLogType: options.logType, xFcAsyncTaskId: options.taskId }),
    new dara.RuntimeOptions({}),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of response.body ?? []) chunks.push(Buffer.from(chunk as Buffer));
  const body = Buffer.concat(chunks);
  return { status: response.statusCode, headers: response.headers ?? {}, body, json: () => JSON.parse(body.toString('utf8')) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** The STS key the local cloud hands its functions: the demo fixture's role key. */
function roleKeyOf(cloud: LocalCloud) {
  const key = cloud.accessKeys.find((k) => k.securityToken !== undefined)!;
  return { id: key.id, secret: key.secret, securityToken: key.securityToken! };
}

describe('local FC: InvokeFunction through the gateway', () => {
  let cloud: LocalCloud;
  let fc: LocalCloud['fc'];
  let client: FcClient;
  let scratch: string;

  beforeAll(async () => {
    process.env.PARENT_ONLY = 'must not reach the function';
    cloud = await startCloud();
    fc = cloud.fc;
    fc.register(spec('echo', 'echo', { initializer: 'index.initialize', environment: { GREETING: 'hello' } }));
    fc.register(spec('echo-esm', 'echo-esm'));
    fc.register(spec('throws', 'throws'));
    fc.register(spec('sleeps', 'sleeps', { timeoutSeconds: 1, initializerTimeoutSeconds: 10, maxAsyncRetryAttempts: 1 }));
    client = fcClient(cloud);
  });

  afterAll(async () => {
    delete process.env.PARENT_ONLY;
    await cloud.close();
  });

  afterEach(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const newScratch = () => (scratch = mkdtempSync(path.join(tmpdir(), 'fc-test-')));

  it('runs the handler with the event as a Buffer and a context like FC’s', async () => {
    const response = await invoke(client, 'echo', '{"hello":"world"}');
    expect(response.status).toBe(200);
    expect(response.headers['x-fc-error-type']).toBeUndefined();
    expect(response.headers['x-fc-code-checksum']).toMatch(/^\d+$/);
    const requestId = response.headers['x-fc-request-id'];
    const result = response.json();
    expect(result).toMatchObject({ event: '{"hello":"world"}', eventIsBuffer: true, canResolveRepositoryPackages: false });
    const role = roleKeyOf(cloud);
    expect(result.context).toMatchObject({
      requestId,
      function: { name: 'echo', handler: 'index.handler', memory: 128, timeout: 10 },
      region: cloud.region,
      accountId: cloud.accountId,
      hasLogger: true,
      credentials: { accessKeyId: role.id },
    });
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(result.context.credentials.accessKeySecretSha256).toBe(sha256(role.secret));
    expect(result.context.credentials.securityTokenSha256).toBe(sha256(role.securityToken));
    expect(result.env).toMatchObject({
      GREETING: 'hello',
      DDS_ENDPOINT: cloud.endpoint,
      FC_FUNCTION_NAME: 'echo',
      FC_FUNCTION_HANDLER: 'index.handler',
      FC_FUNCTION_MEMORY_SIZE: '128',
      FC_REGION: cloud.region,
      FC_ACCOUNT_ID: cloud.accountId,
      ALIBABA_CLOUD_ACCESS_KEY_ID: role.id,
    });
    expect(result.env.PARENT_ONLY).toBeUndefined();
    expect(result.env.FC_FUNC_CODE_PATH).toBe(result.cwd);
  });

  it('records each run with its log: the function’s lines intact between FC’s start and end lines', async () => {
    const response = await invoke(client, 'echo', 'logged');
    const requestId = response.headers['x-fc-request-id'];
    const record = fc.invocations.find((r) => r.requestId === requestId);
    expect(record).toMatchObject({ functionName: 'echo', kind: 'sync', attempt: 1, status: 'succeeded' });
    expect(record?.event.toString()).toBe('logged');
    expect(record?.result?.toString()).toBe(response.body.toString());
    const lines = record!.logs.trimEnd().split('\n');
    expect(lines).toContain(`FC Invoke Start RequestId: ${requestId}`);
    expect(lines.at(-1)).toBe(`FC Invoke End RequestId: ${requestId}`);
    expect(lines).toContain(JSON.stringify({ msg: 'echo', requestId }));
    expect(lines).toContain('to stderr');
    expect(lines.some((line) => line.endsWith(`${requestId} [INFO] via the context logger`))).toBe(true);
  });

  it('returns the tail of the log in x-fc-log-result when asked', async () => {
    const response = await invoke(client, 'echo', 'tail', { logType: 'Tail' });
    const requestId = response.headers['x-fc-request-id'];
    const tail = Buffer.from(response.headers['x-fc-log-result'], 'base64').toString('utf8');
    expect(tail).toContain(JSON.stringify({ msg: 'echo', requestId }));
    expect(tail.endsWith(`FC Invoke End RequestId: ${requestId}\n`)).toBe(true);
  });

  it('keeps an instance warm: the initializer runs once, later runs reuse the process', async () => {
    fc.register(spec('warm', 'echo', { initializer: 'index.initialize' }));
    const first = (await invoke(client, 'warm', 'one')).json();
    const second = (await invoke(client, 'warm', 'two')).json();
    expect(second.pid).toBe(first.pid);
    expect([first.initializations, first.invocations, second.initializations, second.invocations]).toEqual([1, 1, 1, 2]);
    const records = fc.invocations.filter((r) => r.functionName === 'warm');
    expect(records.map((r) => r.coldStart)).toEqual([true, false]);
    expect(records[0].logs).toContain('FC Initialize Start RequestId');
    expect(records[1].logs).not.toContain('FC Initialize');
  });

  it('replaces a warm instance whose process died while idle, as FC does', async () => {
    fc.register(spec('idle-death', 'echo'));
    const first = (await invoke(client, 'idle-death', 'one')).json();
    process.kill(first.pid, 'SIGKILL');
    await until(() => !isAlive(first.pid));
    const second = await invoke(client, 'idle-death', 'two');
    expect(second.headers['x-fc-error-type']).toBeUndefined();
    expect(second.json()).toMatchObject({ event: 'two' });
    expect(second.json().pid).not.toBe(first.pid);
  });

  it('runs an ECMAScript-module handler', async () => {
    const response = await invoke(client, 'echo-esm', 'from esm');
    expect(response.json()).toMatchObject({ esm: true, event: 'from esm' });
  });

  it('answers a thrown error with 200, x-fc-error-type UnhandledInvocationError and FC’s error body', async () => {
    const response = await invoke(client, 'throws', 'throw');
    expect(response.status).toBe(200);
    expect(response.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    const body = response.json();
    expect(body).toMatchObject({ errorMessage: 'thrown failure', errorType: 'Error' });
    expect(body.stackTrace[0]).toBe('Error: thrown failure');
    const record = fc.invocations.find((r) => r.requestId === response.headers['x-fc-request-id']);
    expect(record).toMatchObject({ status: 'failed', errorType: 'UnhandledInvocationError', error: { errorMessage: 'thrown failure' } });
  });

  it('tells a callback error (HandledInvocationError) from a rejected promise (UnhandledInvocationError)', async () => {
    const handled = await invoke(client, 'throws', 'callback');
    expect(handled.headers['x-fc-error-type']).toBe('HandledInvocationError');
    expect(handled.json()).toMatchObject({ errorMessage: 'handled failure', errorType: 'TypeError' });
    const rejected = await invoke(client, 'throws', 'reject');
    expect(rejected.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(rejected.json()).toMatchObject({ errorMessage: 'rejected failure', errorType: 'RangeError' });
  });

  it('reports a process that exits mid-run like FC, and the next run gets a new instance', async () => {
    const exited = await invoke(client, 'throws', 'exit');
    expect(exited.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(exited.json().errorMessage).toMatch(/^Process exited unexpectedly before completing request \(duration: \d+ms\)$/);
    const next = await invoke(client, 'throws', 'throw');
    expect(next.json().errorMessage).toBe('thrown failure');
    const [exitRecord, nextRecord] = [exited, next].map((r) => fc.invocations.find((i) => i.requestId === r.headers['x-fc-request-id'])!);
    expect(nextRecord.instanceId).not.toBe(exitRecord.instanceId);
    expect(nextRecord.coldStart).toBe(true);
  });

  it('kills a run at the function’s timeout and answers like FC', async () => {
    const response = await invoke(client, 'sleeps', JSON.stringify({ ms: 30_000 }));
    expect(response.headers['x-fc-error-type']).toBe('UnhandledInvocationError');
    expect(response.json()).toEqual({ errorMessage: 'Function time out after 1 seconds' });
    const record = fc.invocations.find((r) => r.requestId === response.headers['x-fc-request-id'])!;
    expect(record.status).toBe('timeout');
    const started = JSON.parse(record.logs.split('\n').find((line) => line.includes('"sleeping"'))!);
    expect(isAlive(started.pid)).toBe(false);
  });

  it('answers an unknown function 404 FunctionNotFound and an unknown qualifier 404', async () => {
    await expect(invoke(client, 'missing', '{}')).rejects.toMatchObject({ statusCode: 404, code: 'FunctionNotFound' });
    await expect(invoke(client, 'echo', '{}', { qualifier: 'prod' })).rejects.toMatchObject({ statusCode: 404, code: 'AliasNotFound' });
    const latest = await invoke(client, 'echo', 'latest', { qualifier: 'LATEST' });
    expect(latest.json().event).toBe('latest');
  });

  it('accepts an async invocation at once (202), retries failures with the same event and request id, then succeeds', async () => {
    const counter = path.join(newScratch(), 'runs');
    fc.register(spec('flaky-ok', 'flaky', { maxAsyncRetryAttempts: 3, environment: { COUNTER_FILE: counter, FAILURES: '2' }, destinations: { onSuccess: 'acs:fc:cn-hangzhou:1234567890123456:functions/next-step' } }));
    const response = await invoke(client, 'flaky-ok', 'async event', { type: 'Async' });
    expect(response.status).toBe(202);
    expect(response.body.length).toBe(0);
    const requestId = response.headers['x-fc-request-id'];
    await fc.whenIdle();
    const runs = fc.invocations.filter((r) => r.functionName === 'flaky-ok');
    expect(runs.map((r) => [r.kind, r.attempt, r.status, r.requestId, r.event.toString()])).toEqual([
      ['async', 1, 'failed', requestId, 'async event'],
      ['async', 2, 'failed', requestId, 'async event'],
      ['async', 3, 'succeeded', requestId, 'async event'],
    ]);
    expect(fc.asyncOutcomes.filter((o) => o.functionName === 'flaky-ok')).toEqual([
      { taskId: requestId, requestId, functionName: 'flaky-ok', attempts: 3, status: 'succeeded', error: undefined, destination: 'onSuccess', destinationArn: 'acs:fc:cn-hangzhou:1234567890123456:functions/next-step' },
    ]);
  });

  it('stops after 1 + maxAsyncRetryAttempts runs and records the failure on the failure destination', async () => {
    const counter = path.join(newScratch(), 'runs');
    const onFailure = 'acs:mns:cn-hangzhou:1234567890123456:/topics/rotation-failures/messages';
    fc.register(spec('flaky-bad', 'flaky', { maxAsyncRetryAttempts: 2, environment: { COUNTER_FILE: counter, FAILURES: '9' }, destinations: { onFailure } }));
    await invoke(client, 'flaky-bad', '{}', { type: 'Async', taskId: 'rotation_1' });
    await fc.whenIdle();
    expect(fc.invocations.filter((r) => r.functionName === 'flaky-bad').map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(fc.asyncOutcomes.find((o) => o.functionName === 'flaky-bad')).toMatchObject({
      taskId: 'rotation_1',
      attempts: 3,
      status: 'failed',
      error: { errorMessage: 'failure 3 of 9' },
      destination: 'onFailure',
      destinationArn: onFailure,
    });
  });

  it('runs a sync invocation once: a failure goes back to the caller, never retried nor sent to the failure destination', async () => {
    const counter = path.join(newScratch(), 'runs');
    const onFailure = 'acs:mns:cn-hangzhou:1234567890123456:/topics/rotation-failures/messages';
    fc.register(spec('flaky-sync', 'flaky', { maxAsyncRetryAttempts: 2, environment: { COUNTER_FILE: counter, FAILURES: '9' }, destinations: { onFailure } }));
    const response = await invoke(client, 'flaky-sync', '{}');
    expect(response.status).toBe(200);
    expect(response.headers['x-fc-error-type']).toBeDefined();
    await fc.whenIdle();
    expect(fc.invocations.filter((r) => r.functionName === 'flaky-sync').map((r) => [r.kind, r.attempt, r.status])).toEqual([['sync', 1, 'failed']]);
    expect(fc.asyncOutcomes.filter((o) => o.functionName === 'flaky-sync')).toEqual([]);
  });

  it('retries an async run that timed out', async () => {
    await invoke(client, 'sleeps', JSON.stringify({ ms: 30_000 }), { type: 'Async', taskId: 'slow_task' });
    await fc.whenIdle();
    const outcome = fc.asyncOutcomes.find((o) => o.taskId === 'slow_task');
    expect(outcome).toMatchObject({ attempts: 2, status: 'timeout', destination: 'onFailure', error: { errorMessage: 'Function time out after 1 seconds' } });
  });

  it('refuses an async task id already used for the function (409), so a retried dispatch does not run twice', async () => {
    const counter = path.join(newScratch(), 'runs');
    fc.register(spec('once', 'flaky', { environment: { COUNTER_FILE: counter } }));
    const taskId = `task_${randomUUID()}`;
    expect((await invoke(client, 'once', '{}', { type: 'Async', taskId })).status).toBe(202);
    await expect(invoke(client, 'once', '{}', { type: 'Async', taskId })).rejects.toMatchObject({ statusCode: 409, code: 'StatefulAsyncInvocationAlreadyExists' });
    await expect(invoke(client, 'once', '{}', { type: 'Async', taskId: '9-starts-with-a-digit' })).rejects.toMatchObject({ statusCode: 400, code: 'InvalidArgument' });
    await fc.whenIdle();
    expect(fc.invocations.filter((r) => r.functionName === 'once')).toHaveLength(1);
    expect(fc.asyncOutcomes.filter((o) => o.taskId === taskId)).toHaveLength(1);
  });

  it('honours reserved concurrency: async runs queue one after another, a sync invocation beyond it is throttled (429)', async () => {
    const lock = path.join(newScratch(), 'lock');
    fc.register(spec('single', 'sleeps', { maxConcurrency: 1, environment: { LOCK_DIR: lock } }));
    for (let i = 0; i < 3; i++) await invoke(client, 'single', JSON.stringify({ ms: 150 }), { type: 'Async' });
    await until(() => existsSync(lock));
    await expect(invoke(client, 'single', JSON.stringify({ ms: 1 }))).rejects.toMatchObject({ statusCode: 429, code: 'ResourceThrottled' });
    await fc.whenIdle();
    const runs = fc.invocations.filter((r) => r.functionName === 'single');
    expect(runs).toHaveLength(3);
    expect(runs.map((r) => JSON.parse(r.result!.toString()).overlapped)).toEqual([false, false, false]);
    expect(new Set(runs.map((r) => r.instanceId)).size).toBe(1);
  });
});

describe('local FC: closing the local cloud', () => {
  it('kills every instance, a run in progress included, and leaves no process behind', async () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'fc-test-'));
    const cloud = await startCloud();
    try {
      const lock = path.join(scratch, 'lock');
      cloud.fc.register(spec('idle', 'echo'));
      cloud.fc.register(spec('busy', 'sleeps', { environment: { LOCK_DIR: lock } }));
      const client = fcClient(cloud);
      const idlePid = (await invoke(client, 'idle', '{}')).json().pid;
      await invoke(client, 'busy', JSON.stringify({ ms: 30_000 }), { type: 'Async', taskId: 'cut_short' });
      await until(() => existsSync(lock));
      const pids = cloud.fc.pids();
      expect(pids).toContain(idlePid);
      expect(pids).toHaveLength(2);

      await cloud.close();

      expect(pids.filter(isAlive)).toEqual([]);
      expect(cloud.fc.pids()).toEqual([]);
      await cloud.fc.whenIdle();
      expect(cloud.fc.asyncOutcomes.find((o) => o.taskId === 'cut_short')).toMatchObject({ status: 'failed', destination: 'onFailure' });
    } finally {
      await cloud.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
