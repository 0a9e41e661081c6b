import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../functions/shared/config';
import { environmentProblems, readServerlessYaml } from '../../local-cloud/fc';
import { cronProblems } from './cron';
import { manualEventProblems, matchesPattern, patternSources } from './event-shapes';
import { commentedVariables, PROJECT_ROOT, readSYaml, rotateFunction, S_YAML_PATH, type Trigger, triggerLayoutProblems } from './s-yaml';

const ACCOUNT_ENV = {
  ALIBABA_CLOUD_REGION_ID: 'cn-shanghai',
  ROTATION_FUNCTION_NAME: 'prod-mongodb-rotation',
  ROTATION_ROLE_ARN: 'acs:ram::1234567890123456:role/mongodb-rotation',
  ROTATION_LOG_PROJECT: 'ops-logs',
  ROTATION_LOG_STORE: 'mongodb-rotation',
  ROTATION_FAILURE_DESTINATION: 'acs:mns:cn-shanghai:1234567890123456:/topics/rotation-failures/messages',
  ROTATION_TARGETS: '[{"instanceId":"dds-uf6a1b2c3d4e5f6g","secretName":"mongodb/dds-uf6a1b2c3d4e5f6g/root"}]',
  ROTATION_TAG: 'rotation=enabled',
  CREATE_MISSING_SECRETS: 'true',
  KMS_INSTANCE_ID: 'kst-sha65f176a0ogplgq1a2b',
  DDS_ENDPOINT: 'mongodb-vpc.cn-shanghai.aliyuncs.com',
};

const triggersOfType = (type: string): Trigger[] => rotateFunction().triggers.filter((t) => t.triggerType === type);
const eventPattern = (trigger: Trigger) => JSON.parse(String(trigger.triggerConfig.eventRuleFilterPattern)) as Record<string, unknown>;
const readEvent = (file: string) => JSON.parse(readFileSync(`${PROJECT_ROOT}events/${file}`, 'utf8')) as Record<string, unknown>;

describe('s.yaml', () => {
  it('is a Serverless Devs 3 project with two fc3 functions (rotate, and the fleet dispatcher), every expression in it resolvable', () => {
    const project = readSYaml();
    expect(project.edition).toBe('3.0.0');
    expect(Object.entries(project.resources).map(([key, r]) => [key, r.component])).toEqual([['rotate', 'fc3'], ['dispatch', 'fc3']]);
  });

  it('deploys the built rotate bundle on Node.js 20 with its handler and initializer', () => {
    const fn = rotateFunction();
    expect(fn).toMatchObject({ runtime: 'nodejs20', code: './dist/rotate', handler: 'index.handler' });
    expect(fn.instanceLifecycleConfig.initializer.handler).toBe('index.initialize');
    expect(fn.instanceLifecycleConfig.initializer.timeout).toBeGreaterThan(0);
    expect(fn.instanceLifecycleConfig.initializer.timeout).toBeLessThanOrEqual(fn.timeout);
  });

  it('takes every account-specific value from the deployer environment', () => {
    const fn = rotateFunction(ACCOUNT_ENV);
    expect(fn).toMatchObject({
      region: 'cn-shanghai',
      functionName: 'prod-mongodb-rotation',
      role: ACCOUNT_ENV.ROTATION_ROLE_ARN,
      logConfig: { project: 'ops-logs', logstore: 'mongodb-rotation' },
    });
    expect(fn.asyncInvokeConfig.destinationConfig.onFailure.destination).toBe(ACCOUNT_ENV.ROTATION_FAILURE_DESTINATION);
    expect(fn.environmentVariables).toMatchObject({
      ROTATION_TARGETS: ACCOUNT_ENV.ROTATION_TARGETS,
      ROTATION_TAG: 'rotation=enabled',
      CREATE_MISSING_SECRETS: 'true',
      ALIBABA_CLOUD_REGION_ID: 'cn-shanghai',
      DDS_ENDPOINT: ACCOUNT_ENV.DDS_ENDPOINT,
    });
  });

  it('sets only environment variables the config module reads, and every one of them, or shows it as an example to uncomment', () => {
    const set = Object.keys(rotateFunction().environmentVariables);
    expect(set.filter((name) => !(CONFIG_VARIABLES as readonly string[]).includes(name)), 'set, but never read').toEqual([]);
    const shown = new Set([...set, ...commentedVariables()]);
    expect(CONFIG_VARIABLES.filter((name) => !shown.has(name)), 'read, but missing from s.yaml').toEqual([]);
    expect(commentedVariables()).toEqual(['ROTATION_TARGETS_FILE', 'ROTATION_TARGETS_FILE']);
  });

  it('gives the function an environment the config module accepts', () => {
    const config = loadConfig(rotateFunction(ACCOUNT_ENV).environmentVariables);
    expect(config).toMatchObject({ regionId: 'cn-shanghai', createMissingSecrets: true, dryRun: false });
    expect(config.targets.map((t) => t.instanceId)).toEqual(['dds-uf6a1b2c3d4e5f6g']);
  });

  it('gives every function environment variables FC accepts: no reserved FC_ name, 4 KB at most', () => {
    for (const [key, resource] of Object.entries(readSYaml(ACCOUNT_ENV).resources)) {
      expect(environmentProblems(resource.props.environmentVariables), key).toEqual([]);
    }
  });

  it('caps the function at one instance so runs for the same targets queue', () => {
    expect(rotateFunction().concurrencyConfig).toEqual({ reservedConcurrency: 1 });
  });

  it('sizes the function within FC 3.0 limits', () => {
    const { timeout, memorySize, cpu } = rotateFunction();
    expect(timeout).toBeGreaterThanOrEqual(60);
    expect(timeout).toBeLessThanOrEqual(86_400);
    expect(memorySize % 64).toBe(0);
    const gbPerVcpu = memorySize / 1024 / cpu;
    expect(gbPerVcpu).toBeGreaterThanOrEqual(1);
    expect(gbPerVcpu).toBeLessThanOrEqual(4);
  });

  it('retries a failed asynchronous run twice within an hour, then sends it to the failure destination', () => {
    const { asyncInvokeConfig } = rotateFunction(ACCOUNT_ENV);
    expect(asyncInvokeConfig).toMatchObject({ maxAsyncRetryAttempts: 2, maxAsyncEventAgeInSeconds: 3600 });
  });

  it('logs one entry per line to the configured Logstore', () => {
    expect(rotateFunction().logConfig).toMatchObject({ logBeginRule: 'None' });
  });

  describe('timer trigger', () => {
    const [timer] = triggersOfType('timer');

    it('runs daily on a valid six-field cron expression', () => {
      expect(triggersOfType('timer')).toHaveLength(1);
      const cron = String(timer.triggerConfig.cronExpression);
      expect(cronProblems(cron)).toEqual([]);
      expect(cron.split(/\s+/).slice(3)).toEqual(['*', '*', '*']);
      expect(timer.triggerConfig.enable).toBe(true);
    });

    it('delivers a manual event as its payload', () => {
      expect(manualEventProblems(JSON.parse(String(timer.triggerConfig.payload)))).toEqual([]);
    });

    it('is what events/timer.json shows', () => {
      const event = readEvent('timer.json');
      expect(event.triggerName).toBe(timer.triggerName);
      expect(event.payload).toBe(timer.triggerConfig.payload);
    });
  });

  describe('triggers, as fc3 deploys them', () => {
    it('lets fc3 deploy every trigger: one EventBridge trigger per function at most, listed last', () => {
      for (const [key, resource] of Object.entries(readSYaml().resources)) {
        expect(triggerLayoutProblems(resource.props.triggers ?? []), key).toEqual([]);
      }
    });

    it('would catch a layout fc3 can leave half deployed', () => {
      const timer = { triggerName: 'daily', triggerType: 'timer' };
      const incident = (name: string) => ({ triggerName: name, triggerType: 'eventbridge' });
      expect(triggerLayoutProblems([timer, incident('a'), incident('b')])).toEqual([
        '2 EventBridge triggers (a, b): fc3 skips those after the first unchanged one; merge their patterns into one',
        'b follows the EventBridge trigger a: fc3 skips them while it is unchanged; list it last',
      ]);
      expect(triggerLayoutProblems([incident('a'), timer])).toHaveLength(1);
      expect(triggerLayoutProblems([timer, incident('a')])).toEqual([]);
    });
  });

  describe('EventBridge trigger', () => {
    const triggers = triggersOfType('eventbridge');

    it('invoke asynchronously from the default event bus', () => {
      expect(triggers.length).toBeGreaterThan(0);
      for (const trigger of triggers) {
        expect(trigger.triggerConfig).toMatchObject({ asyncInvocationType: true, eventSourceConfig: { eventSourceType: 'Default' } });
      }
    });

    it('accept exactly the sources the function acts on by default', () => {
      const sources = triggers.flatMap((t) => patternSources(eventPattern(t)));
      const defaults = loadConfig({ ROTATION_TAG: 'rotation=enabled' }).eventSources;
      expect(new Set(sources)).toEqual(new Set(defaults));
      expect(sources).toHaveLength(new Set(sources).size);
      expect(rotateFunction().environmentVariables.EVENT_SOURCES.split(',')).toEqual(defaults);
    });

    it('deliver the ActionTrail example event', () => {
      const event = readEvent('incident-actiontrail.json');
      expect(triggers.filter((t) => matchesPattern(eventPattern(t), event)).map((t) => t.triggerName)).toEqual(['incident-response']);
    });

    it('narrow ActionTrail to DDS, and never to the resets the function makes itself', () => {
      const event = readEvent('incident-actiontrail.json');
      const data = event.data as Record<string, unknown>;
      const variant = (changes: Record<string, unknown>) => ({ ...event, data: { ...data, ...changes } });
      const delivered = (e: Record<string, unknown>) => triggers.some((t) => matchesPattern(eventPattern(t), e));
      expect(delivered(variant({ serviceName: 'Rds' }))).toBe(false);
      expect(delivered(variant({ eventName: 'ResetAccountPassword' }))).toBe(false);
    });

    it('never delivers a call that failed (ActionTrail sets errorCode): it changed nothing', () => {
      const event = readEvent('incident-actiontrail.json');
      const failed = { ...event, data: { ...(event.data as Record<string, unknown>), errorCode: 'Forbidden.RAM', errorMessage: 'denied' } };
      expect(triggers.some((t) => matchesPattern(eventPattern(t), failed))).toBe(false);
    });
  });

  it('is readable by the local FC, which runs the same function with the same limits', () => {
    const [spec] = readServerlessYaml(S_YAML_PATH, { env: {} });
    const fn = rotateFunction();
    expect(spec).toMatchObject({
      name: fn.functionName,
      handler: 'index.handler',
      initializer: 'index.initialize',
      timeoutSeconds: fn.timeout,
      maxConcurrency: 1,
      environment: fn.environmentVariables,
    });
    expect(spec.triggers?.map((t) => t.name)).toEqual(['daily-rotation']);
  });
});
