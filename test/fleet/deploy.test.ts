/** The dispatcher as s.yaml deploys it, checked against the code that reads its configuration. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DISPATCH_VARIABLES, loadDispatchConfig } from '../../functions/dispatch/config';
import { CONFIG_VARIABLES, loadConfig } from '../../functions/shared/config';
import { cronProblems } from '../deploy/cron';
import { manualEventProblems } from '../deploy/event-shapes';
import { PROJECT_ROOT, readSYaml } from '../deploy/s-yaml';

const DEPLOYER_ENV = {
  ALIBABA_CLOUD_REGION_ID: 'cn-shanghai',
  ROTATION_FUNCTION_NAME: 'prod-mongodb-rotation',
  DISPATCH_FUNCTION_NAME: 'prod-mongodb-dispatch',
  ROTATION_TAG: 'rotation=enabled',
  DDS_QPS: '20',
};

const resources = (env: Record<string, string> = {}) => readSYaml(env).resources;

describe('s.yaml: the fleet dispatcher', () => {
  it('deploys the built dispatch bundle on Node.js 20, under the deployer’s name for it', () => {
    const { dispatch } = resources(DEPLOYER_ENV);
    expect(dispatch.props).toMatchObject({ runtime: 'nodejs20', code: './dist/dispatch', handler: 'index.handler', functionName: 'prod-mongodb-dispatch', region: 'cn-shanghai' });
  });

  it('runs as a role of its own, apart from the rotate function’s (least privilege per function)', () => {
    const roles = { ROTATION_ROLE_ARN: 'acs:ram::1234567890123456:role/rotate', DISPATCH_ROLE_ARN: 'acs:ram::1234567890123456:role/dispatch' };
    const { rotate, dispatch } = resources({ ...DEPLOYER_ENV, ...roles });
    expect(rotate.props.role).toBe(roles.ROTATION_ROLE_ARN);
    expect(dispatch.props.role).toBe(roles.DISPATCH_ROLE_ARN);
    expect(resources(DEPLOYER_ENV).dispatch.props.role, 'no role until one is given').toBe('');
  });

  it('hands targets to the rotate function of the same file', () => {
    const { rotate, dispatch } = resources(DEPLOYER_ENV);
    expect(dispatch.props.environmentVariables.ROTATE_FUNCTION_NAME).toBe(rotate.props.functionName);
    expect(loadDispatchConfig(dispatch.props.environmentVariables)).toEqual({ rotateFunctionName: 'prod-mongodb-rotation' });
  });

  it('sets only variables its code reads, and those it shares with the rotate function to the same values', () => {
    const { rotate, dispatch } = resources(DEPLOYER_ENV);
    const known = new Set<string>([...CONFIG_VARIABLES, ...DISPATCH_VARIABLES]);
    const variables = dispatch.props.environmentVariables;
    expect(Object.keys(variables).filter((name) => !known.has(name))).toEqual([]);
    // The rotate function refuses an instance outside its own targets: both must see the same fleet.
    for (const name of ['ROTATION_TARGETS', 'ROTATION_TAG', 'SECRET_NAME_TEMPLATE', 'EVENT_SOURCES', 'ALIBABA_CLOUD_REGION_ID', 'DDS_ENDPOINT', 'ROTATION_FC_ENDPOINT']) {
      expect(variables[name], name).toBe(rotate.props.environmentVariables[name]);
    }
    expect(loadConfig(variables)).toMatchObject({ rotationTag: { key: 'rotation', value: 'enabled' }, regionId: 'cn-shanghai', apiRates: { dds: 20 } });
  });

  it('has a timer of its own, off until fleet mode is chosen, delivering a manual event', () => {
    const [timer, ...others] = resources().dispatch.props.triggers;
    expect(others).toEqual([]);
    expect(timer).toMatchObject({ triggerName: 'fleet-dispatch', triggerType: 'timer', triggerConfig: { enable: false } });
    expect(cronProblems(String(timer.triggerConfig.cronExpression))).toEqual([]);
    expect(manualEventProblems(JSON.parse(String(timer.triggerConfig.payload)))).toEqual([]);
  });

  it('runs the rotate function in task mode, so a task id FC has seen is refused and a retried dispatch queues nothing twice', () => {
    const { rotate } = resources();
    expect(rotate.props.asyncInvokeConfig).toMatchObject({ asyncTask: true });
  });

  it('is the npm script `bench` for the benchmark', () => {
    const { scripts } = JSON.parse(readFileSync(`${PROJECT_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.bench).toBe('tsx scripts/bench.ts');
  });
});
