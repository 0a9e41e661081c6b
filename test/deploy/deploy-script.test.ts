/**
 * `npm run deploy` in a scratch copy of the project: its own s.yaml, package.json and
 * node_modules/.bin, with a stand-in for `npm` on PATH. The deploy flow runs against a stand-in
 * for `s` (the real one cannot reach its registry here); the credential pre-checks run against
 * the pinned `s` itself, offline, with HOME in the scratch directory so that no real Serverless
 * Devs configuration is read or written.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearTextEndpointProblems, isLoopbackUrl } from '../../scripts/deploy/preflight';
import { PROJECT_ROOT } from './s-yaml';

const REAL_S = path.join(PROJECT_ROOT, 'node_modules/.bin/s');
const PINNED_S = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies['@serverless-devs/s'];
const ACCOUNT = '1234567890123456';

const FAKE_S = `#!/bin/bash
echo "s $*" >> "$CALLS"
case "$1 \${FAKE_S_MODE:-ok}" in
  "--version old") echo "@serverless-devs/s: 3.0.1, s-home: $HOME/.s, linux-x64" ;;
  "--version "*) echo "@serverless-devs/s: ${PINNED_S}, s-home: $HOME/.s, linux-x64" ;;
  "config "*) printf 'Alias:      default\\nCredential: \\n  AccessKeyID:     *******\\n  AccessKeySecret: sec***val\\n  AccountID:       123**********456\\n' ;;
  "deploy offline") echo "Error: getaddrinfo ENOTFOUND api.devsapp.cn"; exit 1 ;;
  "deploy rejected") echo "Error: InvalidArgument: role is invalid"; exit 1 ;;
  "deploy "*) echo "rotate: deployed" ;;
  "rotate "*) echo "reservedConcurrency: $5" ;;
esac
`;

const FAKE_NPM = `#!/bin/bash
echo "npm $*" >> "$CALLS"
if [ "\${FAKE_BUILD:-ok}" = ok ]; then
  for fn in rotate dispatch; do mkdir -p dist/$fn && echo 'exports.handler = 1' > dist/$fn/index.js; done
fi
`;

const SETTINGS = {
  ROTATION_ROLE_ARN: `acs:ram::${ACCOUNT}:role/mongodb-rotation`,
  ROTATION_LOG_PROJECT: 'ops-logs',
  ROTATION_LOG_STORE: 'mongodb-rotation',
  ROTATION_FAILURE_DESTINATION: `acs:mns:cn-hangzhou:${ACCOUNT}:/topics/rotation-failures/messages`,
  ROTATION_TAG: 'rotation=enabled',
};
const ENV_CREDENTIALS = { AccessKeyID: 'LTAI5tDeployTest0001', AccessKeySecret: 'deploy-test-key-secret-0001', AccountID: ACCOUNT };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  calls: string[];
}

let project: string;

/**
 * The scratch project: deploy.sh, s.yaml and package.json copied (tests edit them); the other
 * sources linked; node_modules a folder of links to the real packages, with `.bin/s` left for the
 * test to install.
 */
beforeEach(() => {
  project = mkdtempSync(path.join(tmpdir(), 'deploy-script-'));
  for (const dir of ['scripts', 'bin', 'node_modules/.bin']) mkdirSync(path.join(project, dir), { recursive: true });
  copyFileSync(path.join(PROJECT_ROOT, 'scripts/deploy.sh'), path.join(project, 'scripts/deploy.sh'));
  symlinkSync(path.join(PROJECT_ROOT, 'scripts/deploy'), path.join(project, 'scripts/deploy'));
  for (const file of ['s.yaml', 'package.json']) copyFileSync(path.join(PROJECT_ROOT, file), path.join(project, file));
  for (const dir of ['local-cloud', 'functions', 'tsconfig.json']) symlinkSync(path.join(PROJECT_ROOT, dir), path.join(project, dir));
  const modules = path.join(PROJECT_ROOT, 'node_modules');
  for (const entry of readdirSync(modules).filter((name) => name !== '.bin')) symlinkSync(path.join(modules, entry), path.join(project, 'node_modules', entry));
  for (const entry of readdirSync(path.join(modules, '.bin')).filter((name) => name !== 's')) {
    symlinkSync(path.join(modules, '.bin', entry), path.join(project, 'node_modules/.bin', entry));
  }
  // What `s` writes after checking for its own updates: without it, `s` starts a daemon that tries the network.
  mkdirSync(path.join(project, '.s/config'), { recursive: true });
  writeFileSync(path.join(project, '.s/config/update-notifier.json'), JSON.stringify({ lastUpdateCheck: Date.now() }));
});

afterEach(() => {
  rmSync(project, { recursive: true, force: true });
});

function install(file: string, script: string): void {
  writeFileSync(path.join(project, file), script);
  chmodSync(path.join(project, file), 0o755);
}

function editSYaml(edit: (text: string) => string): void {
  const file = path.join(project, 's.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
}

type S = 'fake' | 'pinned' | 'none';

function deploy(env: Record<string, string>, { s = 'fake' as S } = {}): Promise<Result> {
  install('bin/npm', FAKE_NPM);
  // Never write through a link to the real s.
  rmSync(path.join(project, 'node_modules/.bin/s'), { force: true });
  if (s === 'fake') install('node_modules/.bin/s', FAKE_S);
  if (s === 'pinned') symlinkSync(REAL_S, path.join(project, 'node_modules/.bin/s'));
  const callsFile = path.join(project, 'calls.log');
  rmSync(callsFile, { force: true });
  const fullEnv = { PATH: `${project}/bin:${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: project, CALLS: callsFile, ...env };
  return new Promise((resolve) => {
    execFile('bash', [path.join(project, 'scripts/deploy.sh')], { env: fullEnv, timeout: 120_000 }, (err, stdout, stderr) => {
      const calls = existsSync(callsFile) ? readFileSync(callsFile, 'utf8').trim().split('\n') : [];
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr, calls });
    });
  });
}

describe('npm run deploy', () => {
  it('is the package script, and runs the pinned @serverless-devs/s 3.1.10, a devDependency', () => {
    const pkg = JSON.parse(readFileSync(`${PROJECT_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.scripts.deploy).toBe('bash scripts/deploy.sh');
    expect(pkg.devDependencies['@serverless-devs/s']).toBe('3.1.10');
    expect(execFileSync(REAL_S, ['--version'], { env: { ...process.env, HOME: project }, encoding: 'utf8' })).toContain('@serverless-devs/s: 3.1.10');
  });

  it('builds, deploys, then caps the rotate function at one instance', async () => {
    const result = await deploy(SETTINGS);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.calls).toEqual([
      's --version',
      's config get -a default',
      'npm run build',
      's deploy -y -a default',
      's rotate concurrency put --reserved-concurrency 1 -a default',
    ]);
    expect(result.stdout).toContain('rotate: deployed');
  });

  it('caps the rotate function at the reserved concurrency s.yaml declares for it (fleet mode raises it)', async () => {
    editSYaml((text) => text.replace(/(\n {2}rotate:[\s\S]*?reservedConcurrency: )1\n/, '$18\n'));
    const raised = await deploy(SETTINGS);
    expect(raised.calls.at(-1)).toBe('s rotate concurrency put --reserved-concurrency 8 -a default');

    editSYaml((text) => text.replace(/\n +reservedConcurrency: 8\n/, '\n'));
    const undeclared = await deploy(SETTINGS);
    expect(undeclared.code).not.toBe(0);
    expect(undeclared.stderr).toContain('s.yaml declares no reserved concurrency for the rotate function');
  });

  it('uses the access alias named by S_ACCESS', async () => {
    const withAlias = await deploy({ ...SETTINGS, S_ACCESS: 'prod' });
    expect(withAlias.calls).toContain('s config get -a prod');
    expect(withAlias.calls).toContain('s deploy -y -a prod');
  });

  it('says to run npm ci when node_modules has no s, or another version of it, and touches nothing', async () => {
    const none = await deploy(SETTINGS, { s: 'none' });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('Serverless Devs (@serverless-devs/s 3.1.10) is not installed in node_modules');
    expect(none.stderr).toContain('Run npm ci');
    expect(none.calls).toEqual([]);

    const old = await deploy({ ...SETTINGS, FAKE_S_MODE: 'old' });
    expect(old.stderr).toContain('node_modules holds @serverless-devs/s 3.0.1, not the pinned 3.1.10');
    expect(old.calls).toEqual(['s --version']);
  });

  it('names the missing settings before touching anything', async () => {
    const { ROTATION_LOG_STORE: _, ...partial } = SETTINGS;
    const result = await deploy(partial);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('missing settings: ROTATION_LOG_STORE');
    expect(result.calls).toEqual(['s --version']);

    const badRole = await deploy({ ...SETTINGS, ROTATION_ROLE_ARN: 'mongodb-rotation' });
    expect(badRole.stderr).toContain('acs:ram::<account-id>:role/<role-name>');
  });

  it('never shows what s config get prints', async () => {
    const result = await deploy(SETTINGS);
    expect(result.stdout + result.stderr).not.toContain('AccessKeySecret');
    expect(result.stdout + result.stderr).not.toContain('sec***val');
  });

  it('explains an unreachable registry and stops', async () => {
    const result = await deploy({ ...SETTINGS, FAKE_S_MODE: 'offline' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/could not reach the network[\s\S]*registry/);
    expect(result.calls.at(-1)).toBe('s deploy -y -a default');
  });

  it('stops on any other failure of s, pointing at its output', async () => {
    const result = await deploy({ ...SETTINGS, FAKE_S_MODE: 'rejected' });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain('InvalidArgument: role is invalid');
    expect(result.stderr).toContain('s deploy -y failed; see its output above');
    expect(result.stderr).not.toContain('network');
  });

  it('refuses to deploy when the build produced no bundle', async () => {
    const result = await deploy({ ...SETTINGS, FAKE_BUILD: 'nothing' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('no dist/rotate/index.js');
    expect(result.calls).not.toContain('s deploy -y -a default');
  });
});

describe('npm run deploy: the credentials the pinned s will use (offline, HOME in a scratch folder)', () => {
  /** Stops the run right after the pre-checks: the build produces nothing, so nothing reaches `s deploy`. */
  const PRECHECKS_ONLY = { FAKE_BUILD: 'nothing' };
  const passedPrechecks = (result: Result) => result.calls.includes('npm run build');

  const addAlias = (alias: string, accountId = ACCOUNT) =>
    execFileSync(REAL_S, ['config', 'add', '-a', alias, '-f', '--AccessKeyID', 'LTAI5tAliasKey000001', '--AccessKeySecret', 'alias-key-secret-000001', '--AccountID', accountId], {
      env: { PATH: process.env.PATH, HOME: project },
      encoding: 'utf8',
    });

  it('with neither an alias nor the environment: says how to add either, and builds nothing', async () => {
    const result = await deploy({ ...SETTINGS, ...PRECHECKS_ONLY }, { s: 'pinned' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Serverless Devs has no credentials: no alias "default", and AccessKeyID, AccessKeySecret, AccountID are not in the environment');
    expect(result.stderr).toContain('npx s config add -a default --AccessKeyID <id> --AccessKeySecret <secret> --AccountID <account-id>');
    expect(passedPrechecks(result)).toBe(false);
  });

  it('does not take ALIBABA_CLOUD_ACCESS_KEY_ID for s, and says so', async () => {
    const result = await deploy(
      { ...SETTINGS, ...PRECHECKS_ONLY, ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tSdkOnly0000001', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'sdk-only-secret' },
      { s: 'pinned' },
    );
    expect(result.stderr).toContain('s does not read ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    expect(passedPrechecks(result)).toBe(false);
  });

  it('uses the alias S_ACCESS names, as s config add made it', async () => {
    addAlias('prod');
    const result = await deploy({ ...SETTINGS, ...PRECHECKS_ONLY, S_ACCESS: 'prod' }, { s: 'pinned' });
    expect(result.stdout).toContain('deploy: s will use the credentials of the alias "prod".');
    expect(passedPrechecks(result)).toBe(true);
    expect(result.stdout + result.stderr).not.toMatch(/alias-key-secret|ali\*+001|LTAI5tAliasKey/);

    const otherAlias = await deploy({ ...SETTINGS, ...PRECHECKS_ONLY }, { s: 'pinned' });
    expect(otherAlias.stderr).toContain('no alias "default"');
  });

  it('uses AccessKeyID, AccessKeySecret and AccountID from the environment only when all three are set', async () => {
    const all = await deploy({ ...SETTINGS, ...PRECHECKS_ONLY, ...ENV_CREDENTIALS }, { s: 'pinned' });
    expect(all.stdout).toContain(`deploy: s will use the credentials in the environment (AccessKeyID, AccessKeySecret, AccountID ${ACCOUNT}).`);
    expect(passedPrechecks(all)).toBe(true);

    addAlias('default');
    const { AccountID: _, ...twoOfThree } = ENV_CREDENTIALS;
    const two = await deploy({ ...SETTINGS, ...PRECHECKS_ONLY, ...twoOfThree }, { s: 'pinned' });
    expect(two.stderr).toContain('AccessKeyID AccessKeySecret set, but not AccountID: s takes credentials from the environment only when');
    expect(two.stderr).toContain('Export AccountID too, or unset AccessKeyID AccessKeySecret to deploy with the alias.');
    expect(passedPrechecks(two)).toBe(false);
  });

  it('refuses environment credentials that are empty, or of another account than the role', async () => {
    const empty = await deploy({ ...SETTINGS, ...PRECHECKS_ONLY, ...ENV_CREDENTIALS, AccessKeySecret: '' }, { s: 'pinned' });
    expect(empty.stderr).toContain('AccessKeySecret is empty');
    const other = await deploy({ ...SETTINGS, ...PRECHECKS_ONLY, ...ENV_CREDENTIALS, AccountID: '9999999999999999' }, { s: 'pinned' });
    expect(other.stderr).toContain(`ROTATION_ROLE_ARN is a role of account ${ACCOUNT}, but s would deploy to AccountID 9999999999999999`);
    expect([empty, other].map(passedPrechecks)).toEqual([false, false]);
  });
});

describe('npm run deploy: what s deploy would create, checked first', () => {
  it('refuses an http:// endpoint for a host that is not loopback, naming the variable, and builds nothing', async () => {
    for (const name of ['DDS_ENDPOINT', 'KMS_ENDPOINT', 'ROTATION_FC_ENDPOINT']) {
      const result = await deploy({ ...SETTINGS, [name]: 'http://mongodb.cn-hangzhou.aliyuncs.com' });
      expect(result.code, name).not.toBe(0);
      expect(result.stderr).toContain(`${name}=http://mongodb.cn-hangzhou.aliyuncs.com would send requests in clear text`);
      expect(result.stderr).toContain(`${name}=https://mongodb.cn-hangzhou.aliyuncs.com`);
      expect(result.calls).not.toContain('npm run build');
    }
    const loopback = await deploy({ ...SETTINGS, DDS_ENDPOINT: 'http://127.0.0.1:9000', KMS_ENDPOINT: 'https://kms-vpc.cn-hangzhou.aliyuncs.com' });
    expect(loopback.code).toBe(0);
  });

  it('refuses environment variables FC would refuse: a reserved FC_ name, more than 4 KB', async () => {
    editSYaml((text) => text.replace("ROTATION_FC_ENDPOINT: ${env('ROTATION_FC_ENDPOINT', '')}", "FC_ENDPOINT: ${env('ROTATION_FC_ENDPOINT', '')}"));
    const reserved = await deploy(SETTINGS);
    expect(reserved.stderr).toContain("mongodb-root-rotation: FC would refuse it: The environment variable name 'FC_ENDPOINT' is reserved by Function Compute.");
    expect(reserved.calls).not.toContain('npm run build');
  });

  it('refuses a ROTATION_TARGETS beyond 4 KB, and points at the targets file', async () => {
    const targets = JSON.stringify(Array.from({ length: 120 }, (_, i) => ({ instanceId: `dds-bp1a2b3c4d5e${String(i).padStart(4, '0')}` })));
    const result = await deploy({ ...SETTINGS, ROTATION_TARGETS: targets });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/FC would refuse it: The environment variables take \d+ bytes, more than Function Compute's limit of 4 KB \(4096 bytes\) \(the largest is ROTATION_TARGETS/);
    expect(result.stderr).toContain('put it at deploy/code/targets.json, uncomment ROTATION_TARGETS_FILE in s.yaml');
  });

  it('ships deploy/code/ in every package, so ROTATION_TARGETS_FILE=/code/targets.json is there', async () => {
    editSYaml((text) => text.replaceAll('# ROTATION_TARGETS_FILE: /code/targets.json', 'ROTATION_TARGETS_FILE: /code/targets.json'));
    const { ROTATION_TAG: _, ...withoutTag } = SETTINGS;
    const missing = await deploy(withoutTag);
    expect(missing.stderr).toContain('ROTATION_TARGETS_FILE=/code/targets.json, but deploy/code/targets.json does not exist');

    mkdirSync(path.join(project, 'deploy/code'), { recursive: true });
    const targets = JSON.stringify([{ instanceId: 'dds-bp1a2b3c4d5e6f7g' }]);
    writeFileSync(path.join(project, 'deploy/code/targets.json'), targets);
    const shipped = await deploy(withoutTag);
    expect(shipped.code, shipped.stderr).toBe(0);
    for (const fn of ['rotate', 'dispatch']) expect(readFileSync(path.join(project, 'dist', fn, 'targets.json'), 'utf8')).toBe(targets);
  });

  it('refuses to deploy with nothing to rotate', async () => {
    const { ROTATION_TAG: _, ...nothing } = SETTINGS;
    const result = await deploy(nothing);
    expect(result.stderr).toContain('nothing to rotate: export ROTATION_TARGETS or ROTATION_TAG, or ship a targets file');
  });

  it('keeps the dispatcher off the rotate function’s role, and gives it one in fleet mode', async () => {
    const shared = await deploy({ ...SETTINGS, DISPATCH_ROLE_ARN: SETTINGS.ROTATION_ROLE_ARN });
    expect(shared.stderr).toContain("DISPATCH_ROLE_ARN is the rotate function's role: the dispatcher would read every root password");

    editSYaml((text) => text.replace(/(- triggerName: fleet-dispatch[\s\S]*?enable: )false/, '$1true'));
    const roleless = await deploy(SETTINGS);
    expect(roleless.stderr).toContain('fleet-dispatch is enabled but DISPATCH_ROLE_ARN is empty');
    const own = await deploy({ ...SETTINGS, DISPATCH_ROLE_ARN: `acs:ram::${ACCOUNT}:role/mongodb-rotation-dispatch` });
    expect(own.code, own.stderr).toBe(0);
  });
});

describe('loopback endpoints', () => {
  it('are 127.0.0.0/8, ::1 and localhost, any port', () => {
    for (const url of ['http://127.0.0.1:9000', 'http://127.255.0.9', 'http://localhost:80/x', 'http://[::1]:9000', 'HTTP://LOCALHOST']) {
      expect(isLoopbackUrl(url), url).toBe(true);
    }
    for (const url of ['http://128.0.0.1', 'http://127.0.0.1.example.com', 'http://localhost.example.com', 'http://10.0.0.1', 'http://[::2]', 'http://[::ffff:7f00:1]']) {
      expect(isLoopbackUrl(url), url).toBe(false);
    }
  });

  it('alone may be reached over http://; a bare host or https:// is always fine', () => {
    const spec = (environment: Record<string, string>) => ({ name: 'fn', environment });
    expect(clearTextEndpointProblems(spec({ DDS_ENDPOINT: 'mongodb.aliyuncs.com', KMS_ENDPOINT: 'https://kms.cn-hangzhou.aliyuncs.com', ROTATION_FC_ENDPOINT: '' }))).toEqual([]);
    expect(clearTextEndpointProblems(spec({ KMS_ENDPOINT: 'http://10.0.0.8:8080' }))).toHaveLength(1);
  });
});
