/**
 * Configuration that reaches outside the environment: ROTATION_TARGETS_FILE (targets past FC's 4 KB of
 * environment variables) and the endpoint overrides, which may use plain http only on loopback.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, endpointFor, loadConfig } from '../../functions/shared/config';
import { configProblem } from '../helpers/config';
import { fleet, secretName, target } from './fixture';
import { expectRotated, useHarness } from './harness';

const TARGET = { instanceId: 'dds-bp1a2b3c4d5e6f7g' };
/** The FC endpoint override, whatever it is called (FC reserves the FC_ prefix for itself). */
const FC_ENDPOINT_VARIABLE = CONFIG_VARIABLES.find((name) => name.endsWith('FC_ENDPOINT'))!;

describe('ROTATION_TARGETS_FILE', () => {
  let dir: string;
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'targets-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the targets from a JSON file: a list far past the 4 KB FC allows its environment variables', () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ instanceId: `dds-bp1fleet${String(i).padStart(6, '0')}`, verify: i % 2 === 0 }));
    const path = file('fleet.json', JSON.stringify(many, null, 2));
    expect(JSON.stringify(many).length).toBeGreaterThan(4096);
    const config = loadConfig({ ROTATION_TARGETS_FILE: path });
    expect(config.targets).toHaveLength(300);
    expect(config.targets[299]).toEqual({ instanceId: 'dds-bp1fleet000299', secretName: 'mongodb/dds-bp1fleet000299/root', accountName: 'root', verify: false });
  });

  it('takes exactly one of ROTATION_TARGETS and ROTATION_TARGETS_FILE', () => {
    const path = file('one.json', JSON.stringify([TARGET]));
    expect(configProblem({ ROTATION_TARGETS: JSON.stringify([TARGET]), ROTATION_TARGETS_FILE: path })).toBe(
      "ROTATION_TARGETS_FILE is set and so is ROTATION_TARGETS: set only one of them (the file for lists past FC's 4 KB of environment); for example ROTATION_TARGETS_FILE=/code/targets.json",
    );
    expect(loadConfig({ ROTATION_TARGETS: ' ', ROTATION_TARGETS_FILE: path }).targets).toHaveLength(1);
    expect(loadConfig({ ROTATION_TARGETS_FILE: file('empty-list.json', '[]'), ROTATION_TAG: 'rotation=enabled' }).targets).toEqual([]);
  });

  it('names the file and the item in every problem, and never quotes the file back', () => {
    const problem = (content: string) => {
      const path = file('bad.json', content);
      return configProblem({ ROTATION_TARGETS_FILE: path }).replaceAll(path, '<file>');
    };
    expect(problem('[{"instanceId":"dds-a"},\n {"instanceId":"dds-b","accountName":"root","strategy":"single"}]')).toBe(
      'ROTATION_TARGETS_FILE "<file>": item 1 ("dds-b", accountName "root") has "strategy", a field of application users: root is reset through ResetAccountPassword, one user, over the API; remove "strategy", or name the application user in "accountName"; for example ROTATION_TARGETS_FILE=/code/targets.json',
    );
    expect(problem('[{"instanceId":"dds-a"},{"instanceID":"dds-b"}]')).toMatch(/^ROTATION_TARGETS_FILE "<file>": item 1 has unknown field "instanceID"/);
    expect(problem('[{"instanceId":"dds-a"},{"instanceId":"dds-a","secretName":"x"}]')).toMatch(/^ROTATION_TARGETS_FILE "<file>": names instanceId "dds-a" twice/);
    expect(problem('[{"instanceId":"dds-a","connectionHost":7}]')).toMatch(/^ROTATION_TARGETS_FILE "<file>": item 0 "connectionHost" must be host:port/);
    expect(problem('{"targets":[]}')).toMatch(/^ROTATION_TARGETS_FILE "<file>": must be a JSON array of targets; for example/);
    expect(problem('[]')).toMatch(/^ROTATION_TARGETS_FILE "<file>": is an empty array and ROTATION_TAG is not set/);
    expect(problem('  \n')).toMatch(/^ROTATION_TARGETS_FILE "<file>" is empty; it must hold the JSON array of targets/);
    const broken = problem('[\n  {"instanceId": "dds-a", "secretName": "Hunter2-like-text"\n]');
    expect(broken).toMatch(/^ROTATION_TARGETS_FILE "<file>": is not valid JSON \(line 3, column 1\); for example/);
    expect(broken).not.toContain('Hunter2');
  });

  it('is read at start: a missing file or a directory stops the run before any request', () => {
    const missing = join(dir, 'nowhere.json');
    expect(configProblem({ ROTATION_TARGETS_FILE: missing })).toBe(
      `ROTATION_TARGETS_FILE cannot be read (no such file): "${missing}"; ship it in the code package; for example ROTATION_TARGETS_FILE=/code/targets.json`,
    );
    const directory = join(dir, 'a-directory');
    mkdirSync(directory);
    expect(configProblem({ ROTATION_TARGETS_FILE: directory })).toMatch(/^ROTATION_TARGETS_FILE must name a file, got the directory/);
    expect(configProblem({ ROTATION_TARGETS_FILE: file('huge.json', `[${' '.repeat(1024 * 1024)}]`) })).toMatch(/is larger than 1048576 bytes/);
  });
});

describe('ROTATION_TARGETS_FILE in a run', () => {
  const h = useHarness();
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'targets-run-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates the targets the file lists, and only those', async () => {
    const cloud = await h.start(fleet(target('dds-bp1listed0000001', { password: 'Old#Listed-Pw1' }), target('dds-bp1unlisted00001', { password: 'Old#Unlisted-Pw1' })));
    const path = join(dir, 'targets.json');
    writeFileSync(path, JSON.stringify([{ instanceId: 'dds-bp1listed0000001', secretName: secretName('dds-bp1listed0000001') }]));

    const run = await h.run({ event: { triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily', payload: '' }, env: { ROTATION_TARGETS: undefined, ROTATION_TARGETS_FILE: path } });

    expect(run.report?.results).toMatchObject([{ instanceId: 'dds-bp1listed0000001', outcome: 'rotated' }]);
    expectRotated(cloud, 'dds-bp1listed0000001', 'Old#Listed-Pw1');
    expect(cloud.truth.rootPassword('dds-bp1unlisted00001')).toBe('Old#Unlisted-Pw1');
  });
});

describe('endpoint overrides', () => {
  const env = (name: string, value: string) => ({ ROTATION_TARGETS: JSON.stringify([TARGET]), [name]: value });

  it.each(['http://127.0.0.1:9000', 'http://127.8.9.10', 'http://127.1:9000', 'http://localhost:9000', 'http://LOCALHOST', 'http://[::1]:9000'])(
    'accept plain http for the loopback host of %s',
    (value) => {
      for (const name of ['DDS_ENDPOINT', 'KMS_ENDPOINT']) {
        expect(loadConfig(env(name, value)).endpoints[name === 'DDS_ENDPOINT' ? 'dds' : 'kms']).toMatchObject({ protocol: 'http' });
      }
    },
  );

  it.each(['http://10.0.0.5:8080', 'http://mongodb.cn-hangzhou.aliyuncs.com', 'http://128.0.0.1', 'http://localhost.example.com', 'http://[::ffff:7f00:1]', 'http://0.0.0.0:9000'])(
    'refuse plain http to %s, naming the variable and why',
    (value) => {
      for (const name of ['DDS_ENDPOINT', 'KMS_ENDPOINT', FC_ENDPOINT_VARIABLE]) {
        let error: unknown;
        try {
          loadConfig(env(name, value));
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).variable).toBe(name);
        expect((error as Error).message).toMatch(
          new RegExp(`^${name} may use http:// only for a loopback host \\(127\\.0\\.0\\.0/8, ::1, localhost\\): requests carry the new password and the STS token in their query; use https://`),
        );
      }
    },
  );

  it('keeps https and bare hosts (https) for any host', () => {
    expect(loadConfig(env('DDS_ENDPOINT', 'https://10.0.0.5:8443')).endpoints.dds).toEqual({ host: '10.0.0.5:8443', protocol: 'https' });
    expect(loadConfig(env('KMS_ENDPOINT', 'kst-hzz65f176a0ogplgq1a2b.cryptoservice.kms.aliyuncs.com')).endpoints.kms).toMatchObject({ protocol: 'https' });
  });
});

describe('default DDS endpoints, from the official SDK endpoint map', () => {
  const config = loadConfig({ ROTATION_TARGETS: JSON.stringify([TARGET]) });

  it.each([
    ['cn-hangzhou', 'mongodb.aliyuncs.com'],
    ['cn-shanghai', 'mongodb.aliyuncs.com'],
    ['cn-beijing', 'mongodb.aliyuncs.com'],
    ['cn-shenzhen', 'mongodb.aliyuncs.com'],
    ['cn-qingdao', 'mongodb.aliyuncs.com'],
    ['cn-heyuan', 'mongodb.aliyuncs.com'],
    ['cn-wulanchabu', 'mongodb.aliyuncs.com'],
    ['cn-zhangjiakou', 'mongodb.cn-zhangjiakou.aliyuncs.com'],
    ['cn-huhehaote', 'mongodb.cn-huhehaote.aliyuncs.com'],
    ['cn-chengdu', 'mongodb.cn-chengdu.aliyuncs.com'],
    ['cn-hongkong', 'mongodb.cn-hongkong.aliyuncs.com'],
    ['ap-southeast-1', 'mongodb.ap-southeast-1.aliyuncs.com'],
    ['eu-central-1', 'mongodb.eu-central-1.aliyuncs.com'],
    ['us-east-1', 'mongodb.us-east-1.aliyuncs.com'],
    ['cn-shanghai-finance-1', 'mongodb.cn-shanghai-finance-1.aliyuncs.com'],
    ['ap-northeast-2', 'mongodb.ap-northeast-2.aliyuncs.com'],
  ])('%s: %s', (region, host) => {
    expect(endpointFor('dds', config, region)).toEqual({ host, protocol: 'https' });
  });
});
