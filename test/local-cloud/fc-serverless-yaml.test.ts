import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalFc, readServerlessYaml, type LocalFc } from '../../local-cloud/fc';

const REPO = path.resolve(__dirname, '../..');
const FIXTURES = path.join(REPO, 'test/fixtures/functions');
const ROLE_KEY = { id: 'STS.fc-role', secret: 'role-secret', securityToken: 'role-token' };

const S_YAML = `
edition: 3.0.0
name: fixtures
access: default
vars:
  region: \${env('REGION', 'cn-shanghai')}
  prefix: fx
  timeout: 7
resources:
  echo:
    component: fc3
    props:
      region: \${vars.region}
      functionName: \${vars.prefix}-echo
      runtime: nodejs20
      code: ./echo
      handler: index.handler
      role: acs:ram::\${config('AccountID')}:role/echo-runner
      vpcConfig:
        vpcId: \${env('NOT_SET_AND_NOT_READ')}
      timeout: \${vars.timeout}
      memorySize: 256
      instanceLifecycleConfig:
        initializer:
          handler: index.initialize
          timeout: 20
      concurrencyConfig:
        reservedConcurrency: 1
      environmentVariables:
        GREETING: hello from \${vars.region}
        TARGETS: \${env(TARGETS)}
        EMPTY: \${env("MISSING", '')}
        DDS_ENDPOINT: \${env('DDS_ENDPOINT', 'mongodb.cn-shanghai.aliyuncs.com')}
        ACCOUNT: \${config('AccountID')}
      asyncInvokeConfig:
        maxAsyncRetryAttempts: 1
        destinationConfig:
          onFailure:
            destination: acs:mns:\${vars.region}::/topics/failures/messages
      triggers:
        - triggerName: daily
          triggerType: timer
          qualifier: LATEST
          triggerConfig:
            cronExpression: '0 0 3 * * *'
            enable: true
            payload: '{"reason":"scheduled"}'
        - triggerName: paused
          triggerType: timer
          triggerConfig:
            cronExpression: '@every 5m'
            enable: false
            payload: plain text
        - triggerName: incidents
          triggerType: eventbridge
          triggerConfig:
            triggerEnable: true
            eventRuleFilterPattern: '{"source":["acs.actiontrail"]}'
  flaky:
    component: fc3
    props:
      functionName: \${vars.prefix}-flaky
      code: ./flaky
      handler: index.handler
      environmentVariables:
        COUNTER_FILE: \${env('COUNTER_FILE')}
        FAILURES: '1'
      triggers:
        - triggerName: hourly
          triggerType: timer
          triggerConfig:
            cronExpression: '0 0 * * * *'
            enable: true
            payload: ''
  bucket:
    component: oss
    props:
      bucket: not-a-function
`;

describe('local FC: s.yaml', () => {
  let dir: string;
  let yamlPath: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fc-yaml-'));
    yamlPath = path.join(dir, 's.yaml');
    writeFileSync(yamlPath, S_YAML);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads each fc3 function with its vars and env expressions resolved where the local FC uses them', () => {
    const specs = readServerlessYaml(yamlPath, {
      codeRoot: FIXTURES,
      env: { TARGETS: '[]', COUNTER_FILE: '/tmp/counter' },
      accountId: '1234567890123456',
    });
    expect(specs).toEqual([
      {
        name: 'fx-echo',
        codeDir: path.join(FIXTURES, 'echo'),
        handler: 'index.handler',
        initializer: 'index.initialize',
        initializerTimeoutSeconds: 20,
        timeoutSeconds: 7,
        memoryMB: 256,
        environment: {
          GREETING: 'hello from cn-shanghai',
          TARGETS: '[]',
          EMPTY: '',
          DDS_ENDPOINT: 'mongodb.cn-shanghai.aliyuncs.com',
          ACCOUNT: '1234567890123456',
        },
        maxAsyncRetryAttempts: 1,
        maxConcurrency: 1,
        role: 'acs:ram::1234567890123456:role/echo-runner',
        destinations: { onSuccess: undefined, onFailure: 'acs:mns:cn-shanghai::/topics/failures/messages' },
        triggers: [
          { name: 'daily', cronExpression: '0 0 3 * * *', payload: '{"reason":"scheduled"}', enable: true },
          { name: 'paused', cronExpression: '@every 5m', payload: 'plain text', enable: false },
        ],
      },
      {
        name: 'fx-flaky',
        codeDir: path.join(FIXTURES, 'flaky'),
        handler: 'index.handler',
        initializer: undefined,
        initializerTimeoutSeconds: undefined,
        timeoutSeconds: 3,
        memoryMB: 128,
        environment: { COUNTER_FILE: '/tmp/counter', FAILURES: '1' },
        maxAsyncRetryAttempts: undefined,
        maxConcurrency: undefined,
        destinations: { onSuccess: undefined, onFailure: undefined },
        triggers: [{ name: 'hourly', cronExpression: '0 0 * * * *', payload: '', enable: true }],
      },
    ]);
  });

  it('lets options override vars and resolves code paths against the file by default', () => {
    const [echo] = readServerlessYaml(yamlPath, {
      vars: { prefix: 'other', timeout: 11 },
      env: { TARGETS: '', COUNTER_FILE: 'x' },
      accountId: '1234567890123456',
    });
    expect(echo).toMatchObject({ name: 'other-echo', timeoutSeconds: 11, codeDir: path.join(dir, 'echo') });
  });

  it('names the field and the variable when an env() it needs has no value and no default', () => {
    expect(() => readServerlessYaml(yamlPath, { env: { COUNTER_FILE: 'x' } })).toThrow(
      /s\.yaml: resources\.echo\.props\.environmentVariables\.TARGETS: environment variable TARGETS is not set/,
    );
  });

  it('reads the project’s own s.yaml', () => {
    const [rotate, dispatch, ...others] = readServerlessYaml(path.join(REPO, 's.yaml'), { env: {} });
    expect(others).toEqual([]);
    expect(dispatch).toMatchObject({ codeDir: path.join(REPO, 'dist/dispatch'), handler: 'index.handler' });
    expect(rotate).toMatchObject({
      codeDir: path.join(REPO, 'dist/rotate'),
      handler: 'index.handler',
      initializer: 'index.initialize',
      maxConcurrency: 1,
    });
    expect(rotate.triggers?.some((trigger) => trigger.enable)).toBe(true);
  });
});

describe('local FC: timer triggers fired on demand', () => {
  let dir: string;
  let fc: LocalFc;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fc-timer-'));
    writeFileSync(path.join(dir, 's.yaml'), S_YAML);
    fc = createLocalFc({
      region: 'cn-shanghai',
      accountId: '1234567890123456',
      roleKey: ROLE_KEY,
      env: { DDS_ENDPOINT: 'http://127.0.0.1:9' },
      asyncRetryDelayMs: () => 10,
    });
    fc.registerFromServerlessYaml(path.join(dir, 's.yaml'), {
      codeRoot: FIXTURES,
      env: { TARGETS: '[]', COUNTER_FILE: path.join(dir, 'runs') },
    });
  });

  afterEach(async () => {
    await fc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the functions with the local FC’s own variables over the deployer’s', async () => {
    expect(fc.spec('fx-echo').environment.DDS_ENDPOINT).toBe('http://127.0.0.1:9');
    const record = await fc.fireTimer('fx-echo', 'daily');
    expect(JSON.parse(record.result!.toString()).env.DDS_ENDPOINT).toBe('http://127.0.0.1:9');
  });

  it('invokes the function with FC’s timer event', async () => {
    const record = await fc.fireTimer('fx-echo', 'daily', { triggerTime: '2026-11-27T03:00:00Z' });
    expect(record.status).toBe('succeeded');
    const event = JSON.parse(JSON.parse(record.result!.toString()).event);
    expect(event).toEqual({ triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily', payload: '{"reason":"scheduled"}' });
  });

  it('stamps the trigger time in FC’s format when none is given', async () => {
    const record = await fc.fireTimer('fx-echo', 'daily');
    const event = JSON.parse(record.event.toString());
    expect(event.triggerTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('fires a timer as an async invocation, with retries, and resolves with its outcome', async () => {
    const outcome = await fc.fireTimerAsync('fx-flaky', 'hourly', { triggerTime: '2026-11-27T04:00:00Z' });
    expect(outcome).toMatchObject({ functionName: 'fx-flaky', attempts: 2, status: 'succeeded', destination: 'onSuccess' });
    const runs = fc.invocations.filter((r) => r.functionName === 'fx-flaky');
    expect(runs.map((r) => [r.kind, r.attempt, r.status])).toEqual([
      ['async', 1, 'failed'],
      ['async', 2, 'succeeded'],
    ]);
    expect(JSON.parse(runs[1].event.toString())).toEqual({ triggerTime: '2026-11-27T04:00:00Z', triggerName: 'hourly', payload: '' });
  });

  it('refuses a disabled or unknown trigger', async () => {
    await expect(fc.fireTimer('fx-echo', 'paused')).rejects.toThrow(/disabled/);
    await expect(fc.fireTimer('fx-echo', 'incidents')).rejects.toThrow(/no timer trigger 'incidents'/);
  });
});
