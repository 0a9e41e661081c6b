import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, endpointFor, loadConfig } from '../../functions/shared/config';
import { configProblem } from '../helpers/config';

const TARGETS = JSON.stringify([{ instanceId: 'dds-bp1a2b3c4d5e6f7g', secretName: 'mongodb/dds-bp1a2b3c4d5e6f7g/root' }]);

const problem = (env: Record<string, string>) => configProblem({ ROTATION_TARGETS: TARGETS, ...env });

describe('configuration', () => {
  it('fills in the defaults of docs/design.md §5', () => {
    const config = loadConfig({ ROTATION_TARGETS: TARGETS });
    expect(config).toEqual({
      targets: [{ instanceId: 'dds-bp1a2b3c4d5e6f7g', secretName: 'mongodb/dds-bp1a2b3c4d5e6f7g/root', accountName: 'root' }],
      secretNameTemplate: 'mongodb/{instanceId}/{accountName}',
      rotationIntervalDays: 30,
      passwordLength: 32,
      maxConcurrency: 4,
      eventSources: ['acs.actiontrail', 'acs.sas'],
      dryRun: false,
      createMissingSecrets: false,
      forcedRotationCooldownMinutes: 15,
      endpoints: { dds: undefined, kms: undefined, fc: undefined },
      apiRates: { dds: undefined, kms: undefined },
      verifyLogin: { enabled: false, timeoutMs: 5000, waitMs: 30_000, tls: { enabled: false } },
      allowPlaintextUserAdmin: false,
    });
    expect(endpointFor('dds', config, 'cn-shanghai')).toEqual({ host: 'mongodb.aliyuncs.com', protocol: 'https' });
    expect(endpointFor('dds', config, 'ap-southeast-1')).toEqual({ host: 'mongodb.ap-southeast-1.aliyuncs.com', protocol: 'https' });
    expect(endpointFor('kms', config, 'cn-shanghai')).toEqual({ host: 'kms.cn-shanghai.aliyuncs.com', protocol: 'https' });
  });

  it('reads every variable it lists', () => {
    const config = loadConfig({
      ROTATION_TARGETS: JSON.stringify([{ instanceId: 'dds-a1' }, { instanceId: 'dds-b2', secretName: 'custom/b2', accountName: 'root' }]),
      ROTATION_TAG: 'rotation = enabled',
      SECRET_NAME_TEMPLATE: 'db/{instanceId}',
      ROTATION_INTERVAL_DAYS: '7',
      PASSWORD_LENGTH: '16',
      MAX_CONCURRENCY: '2',
      EVENT_SOURCES: 'acs.actiontrail, custom.soc',
      DRY_RUN: 'TRUE',
      CREATE_MISSING_SECRETS: 'true',
      KMS_INSTANCE_ID: 'kst-sgp64f0a1b2c3d4e5f6g7',
      FORCED_ROTATION_COOLDOWN_MINUTES: '0',
      ALIBABA_CLOUD_REGION_ID: 'ap-southeast-1',
      DDS_ENDPOINT: 'http://127.0.0.1:8080',
      KMS_ENDPOINT: 'kms-vpc.ap-southeast-1.aliyuncs.com',
      ROTATION_FC_ENDPOINT: 'https://123.ap-southeast-1.fc.aliyuncs.com/',
      VERIFY_LOGIN: 'true',
      VERIFY_TIMEOUT_MS: '2500',
      VERIFY_TLS: 'true',
      DDS_QPS: '20',
      KMS_QPS: '2.5',
      ALLOW_PLAINTEXT_USER_ADMIN: 'true',
    });
    expect(config).toMatchObject({
      targets: [
        { instanceId: 'dds-a1', secretName: 'db/dds-a1' },
        { instanceId: 'dds-b2', secretName: 'custom/b2' },
      ],
      rotationTag: { key: 'rotation', value: 'enabled' },
      rotationIntervalDays: 7,
      passwordLength: 16,
      maxConcurrency: 2,
      eventSources: ['acs.actiontrail', 'custom.soc'],
      dryRun: true,
      createMissingSecrets: true,
      kmsInstanceId: 'kst-sgp64f0a1b2c3d4e5f6g7',
      forcedRotationCooldownMinutes: 0,
      regionId: 'ap-southeast-1',
      endpoints: {
        dds: { host: '127.0.0.1:8080', protocol: 'http' },
        kms: { host: 'kms-vpc.ap-southeast-1.aliyuncs.com', protocol: 'https' },
        fc: { host: '123.ap-southeast-1.fc.aliyuncs.com', protocol: 'https' },
      },
      verifyLogin: { enabled: true, timeoutMs: 2500, waitMs: 30_000, tls: { enabled: true } },
      apiRates: { dds: 20, kms: 2.5 },
      allowPlaintextUserAdmin: true,
    });
    expect([...CONFIG_VARIABLES].sort()).toEqual(
      [
        'ROTATION_TARGETS', 'ROTATION_TARGETS_FILE', 'ROTATION_TAG', 'SECRET_NAME_TEMPLATE', 'ROTATION_INTERVAL_DAYS', 'PASSWORD_LENGTH',
        'MAX_CONCURRENCY', 'EVENT_SOURCES', 'DRY_RUN', 'CREATE_MISSING_SECRETS', 'KMS_INSTANCE_ID', 'FORCED_ROTATION_COOLDOWN_MINUTES', 'ALIBABA_CLOUD_REGION_ID', 'DDS_ENDPOINT', 'KMS_ENDPOINT', 'ROTATION_FC_ENDPOINT',
        'VERIFY_LOGIN', 'VERIFY_TIMEOUT_MS', 'VERIFY_WAIT_SECONDS', 'VERIFY_TLS', 'VERIFY_TLS_CA_FILE', 'DDS_QPS', 'KMS_QPS', 'ALLOW_PLAINTEXT_USER_ADMIN',
      ].sort(),
    );
  });

  it("documents every variable in the README's Configuration table", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration\n') + 1));
    const tableRows = section.split('\n').filter((line) => line.startsWith('| `'));
    const documented = new Set(tableRows.flatMap((row) => [...row.split('|')[1].matchAll(/`([A-Z_]+)`/g)].map((m) => m[1])));
    expect(CONFIG_VARIABLES.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ ROTATION_TARGETS: TARGETS, PASSWORD_LENGTH: '', DDS_ENDPOINT: '  ' })).toMatchObject({ passwordLength: 32, endpoints: { dds: undefined } });
  });

  it.each([
    [{ PASSWORD_LENGTH: '15' }, 'PASSWORD_LENGTH must be a whole number from 16 to 32 (ApsaraDB accepts 8, but a root password shorter than 16 is refused here), got "15"; for example PASSWORD_LENGTH=32'],
    [{ PASSWORD_LENGTH: '8' }, 'PASSWORD_LENGTH must be a whole number from 16 to 32 (ApsaraDB accepts 8, but a root password shorter than 16 is refused here), got "8"; for example PASSWORD_LENGTH=32'],
    [{ FORCED_ROTATION_COOLDOWN_MINUTES: '1441' }, 'FORCED_ROTATION_COOLDOWN_MINUTES must be a whole number from 0 to 1440 (0 turns the cooldown off), got "1441"; for example FORCED_ROTATION_COOLDOWN_MINUTES=15'],
    [{ FORCED_ROTATION_COOLDOWN_MINUTES: '-5' }, 'FORCED_ROTATION_COOLDOWN_MINUTES must be a whole number from 0 to 1440 (0 turns the cooldown off), got "-5"; for example FORCED_ROTATION_COOLDOWN_MINUTES=15'],
    [{ CREATE_MISSING_SECRETS: 'true' }, 'KMS_INSTANCE_ID is not set but CREATE_MISSING_SECRETS=true needs it: the KMS instance (kst-…) that new secrets go in, as the KMS console lists it; for example KMS_INSTANCE_ID=kst-hzz65f176a0ogplgq1a2b'],
    [{ KMS_INSTANCE_ID: 'key-hzz62f1cb66fa42qo' }, 'KMS_INSTANCE_ID must be a KMS instance id (kst- and up to 60 lower-case letters and digits), got "key-hzz62f1cb66fa42qo"; for example KMS_INSTANCE_ID=kst-hzz65f176a0ogplgq1a2b'],
    [{ ROTATION_INTERVAL_DAYS: '1.5' }, 'ROTATION_INTERVAL_DAYS must be a whole number from 1 to 3650, got "1.5"; for example ROTATION_INTERVAL_DAYS=30'],
    [{ MAX_CONCURRENCY: '0' }, 'MAX_CONCURRENCY must be a whole number from 1 to 64, got "0"; for example MAX_CONCURRENCY=4'],
    [{ DRY_RUN: 'yes' }, 'DRY_RUN must be true or false, got "yes"; for example DRY_RUN=false'],
    [{ CREATE_MISSING_SECRETS: '1' }, 'CREATE_MISSING_SECRETS must be true or false, got "1"; for example CREATE_MISSING_SECRETS=false'],
    [{ ALIBABA_CLOUD_REGION_ID: 'Hangzhou' }, 'ALIBABA_CLOUD_REGION_ID must be a region id, got "Hangzhou"; for example ALIBABA_CLOUD_REGION_ID=cn-hangzhou'],
    [{ ROTATION_TAG: 'enabled' }, 'ROTATION_TAG must be key=value, got "enabled"; for example ROTATION_TAG=rotation=enabled'],
    [{ SECRET_NAME_TEMPLATE: 'mongodb/root' }, 'SECRET_NAME_TEMPLATE must contain {instanceId}, got "mongodb/root"; for example SECRET_NAME_TEMPLATE=mongodb/{instanceId}/{accountName}'],
    [{ EVENT_SOURCES: 'acs.sas,,x' }, 'EVENT_SOURCES must be a comma-separated list of event sources, got "" in "acs.sas,,x"; for example EVENT_SOURCES=acs.actiontrail,acs.sas'],
    [{ KMS_ENDPOINT: 'ftp://kms.example.com' }, 'KMS_ENDPOINT must use http or https, got "ftp://kms.example.com"; for example KMS_ENDPOINT=kms.cn-hangzhou.aliyuncs.com'],
    [{ DDS_ENDPOINT: 'https://mongodb.example.com/v1' }, 'DDS_ENDPOINT must be a scheme and host only (no path, query or user), got "https://mongodb.example.com/v1"; for example DDS_ENDPOINT=mongodb.cn-hangzhou.aliyuncs.com'],
  ])('names the variable, the problem and an example: %j', (env, message) => {
    expect(problem(env)).toBe(message);
  });

  it.each([
    ['not json', /^ROTATION_TARGETS is not valid JSON, got "not json"/],
    ['{}', /^ROTATION_TARGETS must be a JSON array of targets/],
    ['[]', /^ROTATION_TARGETS is an empty array and ROTATION_TAG is not set/],
    ['[{"instanceID":"dds-a"}]', /^ROTATION_TARGETS item 0 has unknown field "instanceID"; the fields are instanceId, secretName, accountName/],
    ['[{"instanceId":"DDS A"}]', /^ROTATION_TARGETS item 0 needs "instanceId", an instance id such as "dds-bp1a2b3c4d5e6f7g", got "DDS A"/],
    ['[{"instanceId":"dds-a","secretName":"acs/x"}]', /^ROTATION_TARGETS item 0 "secretName" must be a KMS secret name/],
    ['[{"instanceId":"dds-a","accountName":"bad name"}]', /^ROTATION_TARGETS item 0 "accountName" must be "root" or the name of a MongoDB user/],
    ['[{"instanceId":"dds-a"},{"instanceId":"dds-a","secretName":"other"}]', /^ROTATION_TARGETS names instanceId "dds-a" twice/],
    ['[{"instanceId":"dds-a","secretName":"s"},{"instanceId":"dds-b","secretName":"s"}]', /^ROTATION_TARGETS names secretName "s" twice/],
  ])('checks ROTATION_TARGETS %s', (targets, message) => {
    expect(problem({ ROTATION_TARGETS: targets })).toMatch(message);
  });

  it('needs targets or a tag', () => {
    expect(() => loadConfig({})).toThrow(/^ROTATION_TARGETS is not set and neither is ROTATION_TARGETS_FILE nor ROTATION_TAG/);
    expect(loadConfig({ ROTATION_TAG: 'rotation=enabled' }).targets).toEqual([]);
  });

  it('caps and escapes the values it echoes, and never echoes a URL user', () => {
    const long = problem({ DRY_RUN: `x${'y'.repeat(200)}\n\u0007` });
    expect(long).toContain(`"x${'y'.repeat(79)}…"`);
    expect(long).not.toContain('\n');
    const withUser = problem({ KMS_ENDPOINT: 'https://admin:hunter2@kms.example.com' });
    expect(withUser).not.toContain('hunter2');
    expect(withUser).not.toContain('admin');
  });
});
