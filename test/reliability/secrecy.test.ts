/**
 * One secrecy check over a broad scenario: every trigger kind, a dry run, failures and what resumes them,
 * faults, refusals, corrupted answers, in-process and through the local FC (sync with the base64 log tail,
 * async with its outcome, timers). Everything produced is scanned for every password the local clouds saw,
 * plain, JSON-escaped and base64-encoded; the scanner itself is checked on planted leaks first.
 */
import { Readable } from 'node:stream';
import * as $dara from '@darabonba/typescript';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { excuseViolations } from '../helpers/cloud';
import { type RotationRun, findLeaks, rotationEnv, runRotation } from '../helpers/rotate';
import { SecrecyWatch, useSecrecyWatch } from '../helpers/secrecy';
import { fcClient, fcModels } from '../helpers/sdk';
import { fixture, secretName } from '../rotate/fixture';
import { leaksIn } from '../../scripts/faults/rig';
import { buildBundle, deployRotation, FUNCTION_NAME, removeBundle } from '../triggers/deployed';

const RS = 'dds-rs0secrecy0001';
const SHARDED = 'dds-sh0secrecy0001';
const DRIFTED = 'dds-rs0secrecy0002';
const TARGETS = [RS, SHARDED, DRIFTED];
const TIME = '2026-11-27T03:00:00Z';

describe('the scanner', () => {
  it('finds a planted password in every form, at every base64 alignment, and never prints it', async () => {
    await fc.assert(
      fc.property(fc.string({ minLength: 8, maxLength: 40 }), fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), (password, before, after) => {
        const watch = new SecrecyWatch();
        watch.addPassword(password);
        watch.record('plain', `${before}${password}${after}`);
        watch.record('json', JSON.stringify({ line: `${before}${password}${after}` }));
        watch.record('base64', Buffer.from(`${before}${password}${after}`).toString('base64'));
        const leaks = watch.leaks();
        expect(leaks.map((l) => l.where)).toEqual(expect.arrayContaining(['plain', 'json', 'base64']));
        for (const leak of leaks) expect(leak.context.includes(password)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('a scan that covered nothing', () => {
  it('fails: no password to look for, or no text to look in, proves nothing', () => {
    const empty = new SecrecyWatch();
    expect(() => empty.expectClean()).toThrow(/covered no password/);
    empty.addPassword('Scanned#Only-Pw1');
    expect(() => empty.expectClean()).toThrow(/covered no text/);
    empty.record('a text', 'nothing secret here');
    expect(() => empty.expectClean()).not.toThrow();
    empty.record('a leak', 'Scanned#Only-Pw1');
    expect(() => empty.expectClean()).toThrow();
  });

  it('fails for the per-run scans too (findLeaks, and the fault rig’s leaksIn)', () => {
    expect(() => findLeaks(['a log line'], [])).toThrow(/no password/);
    expect(() => findLeaks(['', ''], ['Scanned#Only-Pw1'])).toThrow(/no text/);
    expect(findLeaks(['a log line', 'Scanned#Only-Pw1'], ['Scanned#Only-Pw1'])).toEqual(['Scanned#Only-Pw1']);
    expect(() => leaksIn(['a log line'], [''])).toThrow(/no password/);
    expect(() => leaksIn([], ['Scanned#Only-Pw1'])).toThrow(/no text/);
  });
});

describe('no password in anything a broad scenario produced', () => {
  const watch = useSecrecyWatch();
  let cloud: LocalCloud;
  let codeRoot: string;

  beforeAll(async () => {
    const current = (password: string) => [{ versionId: 'v1', password, stages: ['ACSCurrent'], createTime: '-40d' }];
    cloud = await watch.start({
      fixture: fixture({
        instances: [
          { id: RS, password: 'Old#Secrecy-Pw1' },
          { id: SHARDED, type: 'sharding', password: 'Old#Secrecy-Pw2' },
          // The database drifted from the secret: the first rotation brings them back in line.
          { id: DRIFTED, password: 'Drifted#Secrecy-Pw9' },
        ],
        secrets: [
          { instanceId: RS, versions: current('Old#Secrecy-Pw1') },
          { instanceId: SHARDED, versions: current('Old#Secrecy-Pw2') },
          { instanceId: DRIFTED, versions: current('Stale#Secrecy-Pw8') },
        ],
      }),
    });
    // The drift is the one violation this suite allows: the fixture's, recorded as it loads.
    expect(cloud.truth.violations.map((v) => [v.requestId, v.instanceId])).toEqual([['fixture', DRIFTED]]);
    excuseViolations(cloud, 'the fixture starts with one instance drifted from its secret');
    codeRoot = await buildBundle();
    deployRotation(cloud, codeRoot, { targets: TARGETS, timeoutSeconds: 60, maxAsyncRetryAttempts: 1, environment: { FORCED_ROTATION_COOLDOWN_MINUTES: '0' } });
  });

  afterAll(() => removeBundle(codeRoot));

  async function inProcess(label: string, event: unknown, env: Record<string, string> = {}): Promise<RotationRun> {
    const run = await runRotation(cloud, { env: rotationEnv(cloud, TARGETS.map((instanceId) => ({ instanceId, secretName: secretName(instanceId) })), env), event });
    watch.recordRun(label, run);
    return run;
  }

  /** A sync InvokeFunction through the official client, keeping its raw base64 log tail and body. */
  async function invokeWithTail(label: string, event: object): Promise<{ body: string; tail: string }> {
    const response = await fcClient(cloud).invokeFunctionWithOptions(
      FUNCTION_NAME,
      new fcModels.InvokeFunctionRequest({ body: Readable.from([Buffer.from(JSON.stringify(event))]) }),
      new fcModels.InvokeFunctionHeaders({ xFcInvocationType: 'Sync', xFcLogType: 'Tail' }),
      new $dara.RuntimeOptions({ readTimeout: 60_000 }),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of response.body ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
    const body = Buffer.concat(chunks).toString('utf8');
    const tail = response.headers?.['x-fc-log-result'] ?? '';
    watch.record(`${label} (FC body)`, body);
    watch.record(`${label} (FC log tail, base64)`, tail);
    watch.record(`${label} (FC log tail)`, Buffer.from(tail, 'base64').toString('utf8'));
    return { body, tail };
  }

  it('runs every trigger kind in-process: timer, manual, EventBridge, dry run', async () => {
    expect((await inProcess('timer', { triggerTime: TIME, triggerName: 'daily', payload: '' })).report?.summary.rotated).toBe(3);
    expect((await inProcess('manual', { force: true, reason: 'secrecy drill', instanceIds: [RS] })).report?.summary.rotated).toBe(1);
    const incident = { specversion: '1.0', id: 'secrecy-evt-1', source: 'acs.actiontrail', type: 'x', data: { requestParameters: { DBInstanceId: SHARDED } } };
    expect((await inProcess('event', incident)).report?.summary.rotated).toBe(1);
    expect((await inProcess('dry run', { force: true }, { DRY_RUN: 'true' })).report?.summary.planned).toBe(3);
  });

  it('fails, resumes and survives faults in-process', async () => {
    cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', when: (p) => p.CharacterType === 'cs', code: 'Forbidden.RAM' });
    expect((await inProcess('failed cs reset', { force: true, instanceIds: [SHARDED] })).error?.message).toContain('Forbidden.RAM');
    expect((await inProcess('resumed', { force: true, instanceIds: [SHARDED], rotationId: 'resume-1' })).report?.summary.resumed).toBe(1);

    cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'InvalidAccountPassword.Malformed' });
    cloud.faults.drop({ product: 'kms', action: 'PutSecretValue', after: true });
    cloud.faults.error({ product: 'kms', action: 'ListSecretVersionIds', code: 'Rejected.Throttling', times: 2 });
    const survived = await inProcess('faults', { force: true, instanceIds: [RS] });
    expect(survived.report?.results[0].outcome).toMatch(/rotated|resumed/);

    cloud.faults.corrupt({ action: 'GetSecretValue', mutate: (body) => ({ ...body, SecretData: '{"AccountPassword":"x"}' }) });
    cloud.faults.error({ product: 'kms', action: 'UpdateSecretVersionStage', code: 'Forbidden.NoPermission', times: 2 });
    await inProcess('cut before promote', { force: true, instanceIds: [RS] });
    await inProcess('garbled pending', { force: true, instanceIds: [RS] });
    cloud.faults.clear();
    await inProcess('after the garbling', { force: true, instanceIds: [RS] });
  });

  it('refuses bad events and configurations in-process', async () => {
    expect((await inProcess('malformed', '{"force":"yes"')).error?.message).toContain('not JSON');
    expect((await inProcess('stranger', { instanceIds: ['dds-stranger0001'] })).error?.message).toContain('not a rotation target');
    expect((await inProcess('bad config', {}, { PASSWORD_LENGTH: '99' })).error?.message).toContain('PASSWORD_LENGTH');
  });

  it('survives fuzzed payloads and corrupted answers in-process', async () => {
    const payload = fc.record(
      { force: fc.oneof(fc.boolean(), fc.string()), instanceIds: fc.array(fc.constantFrom(...TARGETS, 'dds-stranger0001'), { minLength: 1, maxLength: 3 }), reason: fc.string({ unit: 'binary', maxLength: 30 }) },
      { requiredKeys: [] },
    );
    const answer = fc.constantFrom('DescribeDBInstanceAttribute', 'ListSecretVersionIds', 'GetSecretValue');
    await fc.assert(
      fc.asyncProperty(payload, answer, fc.jsonValue({ maxDepth: 1 }), async (event, action, junk) => {
        const fault = cloud.faults.corrupt({ action, mutate: (body) => ({ ...body, [Object.keys(body)[1] ?? 'x']: junk }) });
        await inProcess('fuzzed', event).finally(() => fault.remove());
      }),
      { numRuns: 40 },
    );
    await inProcess('after the fuzzing', { force: true });
  });

  it('runs through the local FC: sync with the log tail, a failure, async with retries, the timer', async () => {
    const ok = await invokeWithTail('FC manual', { force: true, reason: 'secrecy via FC' });
    expect(JSON.parse(ok.body).summary.rotated).toBe(3);

    cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'Forbidden.RAM', times: Infinity, when: (p) => p.DBInstanceId === DRIFTED });
    const failed = await invokeWithTail('FC failing', { force: true, instanceIds: [DRIFTED] });
    expect(JSON.parse(failed.body).errorMessage).toContain('Forbidden.RAM');

    await fcClient(cloud).invokeFunctionWithOptions(
      FUNCTION_NAME,
      new fcModels.InvokeFunctionRequest({ body: Readable.from([Buffer.from(JSON.stringify({ force: true, instanceIds: [DRIFTED] }))]) }),
      new fcModels.InvokeFunctionHeaders({ xFcInvocationType: 'Async' }),
      new $dara.RuntimeOptions({}),
    );
    await cloud.fc.whenIdle();
    expect(cloud.fc.asyncOutcomes.at(-1)).toMatchObject({ status: 'failed', attempts: 2 });
    cloud.faults.clear();

    const timer = await cloud.fc.fireTimer(FUNCTION_NAME, 'daily-rotation', { triggerTime: TIME });
    expect(timer.status).toBe('succeeded');
  });

  it('finds none of the passwords the cloud saw in any of it, plain, JSON-escaped or base64', () => {
    const coverage = watch.coverage();
    // Old, drifted and stale passwords, and every one the function generated.
    expect(coverage.passwords).toBeGreaterThanOrEqual(15);
    expect(coverage.texts).toBeGreaterThanOrEqual(150);
    expect(watch.leaks()).toEqual([]);
  });
});
