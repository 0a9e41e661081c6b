/**
 * `npm run deploy` against stand-ins for `s` and `npm` (the real `s` cannot reach its registry
 * here): a copy of the script runs in a scratch project whose PATH holds the stand-ins, which
 * record their arguments and answer as the scenario says.
 */
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './s-yaml';

const FAKE_S = `#!/bin/bash
echo "s $*" >> "$CALLS"
case "$1 \${FAKE_S_MODE:-ok}" in
  "config no-access") echo "Access default not found"; exit 1 ;;
  "config "*) printf 'default:\\n  AccessKeyID: LTAI****\\n  AccessKeySecret: ****\\n' ;;
  "deploy offline") echo "Error: getaddrinfo ENOTFOUND api.devsapp.cn"; exit 1 ;;
  "deploy rejected") echo "Error: InvalidArgument: role is invalid"; exit 1 ;;
  "deploy "*) echo "rotate: deployed" ;;
  "rotate "*) echo "reservedConcurrency: $5" ;;
esac
`;

const FAKE_NPM = `#!/bin/bash
echo "npm $*" >> "$CALLS"
if [ "\${FAKE_BUILD:-ok}" = ok ]; then mkdir -p dist/rotate && echo 'exports.handler = 1' > dist/rotate/index.js; fi
`;

const SETTINGS = {
  ROTATION_ROLE_ARN: 'acs:ram::1234567890123456:role/mongodb-rotation',
  ROTATION_LOG_PROJECT: 'ops-logs',
  ROTATION_LOG_STORE: 'mongodb-rotation',
  ROTATION_FAILURE_DESTINATION: 'acs:mns:cn-hangzhou:1234567890123456:/topics/rotation-failures/messages',
  ROTATION_TAG: 'rotation=enabled',
};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  calls: string[];
}

let project: string;

beforeEach(() => {
  project = mkdtempSync(path.join(tmpdir(), 'deploy-script-'));
  mkdirSync(path.join(project, 'scripts'));
  mkdirSync(path.join(project, 'bin'));
  copyFileSync(path.join(PROJECT_ROOT, 'scripts/deploy.sh'), path.join(project, 'scripts/deploy.sh'));
  copyFileSync(path.join(PROJECT_ROOT, 's.yaml'), path.join(project, 's.yaml'));
});

afterEach(() => {
  rmSync(project, { recursive: true, force: true });
});

function install(name: string, script: string): void {
  writeFileSync(path.join(project, 'bin', name), script);
  chmodSync(path.join(project, 'bin', name), 0o755);
}

function deploy(env: Record<string, string>, { withS = true } = {}): Promise<Result> {
  install('npm', FAKE_NPM);
  if (withS) install('s', FAKE_S);
  const callsFile = path.join(project, 'calls.log');
  const fullEnv = { PATH: `${project}/bin:/usr/bin:/bin`, HOME: project, CALLS: callsFile, ...env };
  return new Promise((resolve) => {
    execFile('bash', [path.join(project, 'scripts/deploy.sh')], { env: fullEnv }, (err, stdout, stderr) => {
      const calls = existsSync(callsFile) ? readFileSync(callsFile, 'utf8').trim().split('\n') : [];
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr, calls });
    });
  });
}

describe('npm run deploy', () => {
  it('is the package script', () => {
    const { scripts } = JSON.parse(readFileSync(`${PROJECT_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.deploy).toBe('bash scripts/deploy.sh');
  });

  it('builds, deploys, then caps the rotate function at one instance', async () => {
    const result = await deploy(SETTINGS);
    expect(result.code).toBe(0);
    expect(result.calls).toEqual([
      's config get -a default',
      'npm run build',
      's deploy -y -a default',
      's rotate concurrency put --reserved-concurrency 1 -a default',
    ]);
    expect(result.stdout).toContain('rotate: deployed');
  });

  it('caps the rotate function at the reserved concurrency s.yaml declares for it (fleet mode raises it)', async () => {
    const file = path.join(project, 's.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/(\n {2}rotate:[\s\S]*?reservedConcurrency: )1\n/, '$18\n'));
    const raised = await deploy(SETTINGS);
    expect(raised.calls.at(-1)).toBe('s rotate concurrency put --reserved-concurrency 8 -a default');

    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n +reservedConcurrency: 8\n/, '\n'));
    const undeclared = await deploy(SETTINGS);
    expect(undeclared.code).not.toBe(0);
    expect(undeclared.stderr).toContain('s.yaml declares no reserved concurrency for the rotate function');
  });

  it('uses credentials from the environment and the access alias named by S_ACCESS', async () => {
    const withKeys = await deploy({ ...SETTINGS, ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'x' });
    expect(withKeys.calls).not.toContain('s config get -a default');
    expect(withKeys.code).toBe(0);

    rmSync(path.join(project, 'calls.log'));
    const withAlias = await deploy({ ...SETTINGS, S_ACCESS: 'prod' });
    expect(withAlias.calls).toContain('s deploy -y -a prod');
  });

  it('says how to install Serverless Devs when `s` is missing', async () => {
    const result = await deploy(SETTINGS, { withS: false });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('npm i -g @serverless-devs/s');
    expect(result.calls).toEqual([]);
  });

  it('names the missing settings before touching anything', async () => {
    const { ROTATION_LOG_STORE: _, ROTATION_TAG: __, ...partial } = SETTINGS;
    const result = await deploy(partial);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('missing settings: ROTATION_LOG_STORE ROTATION_TARGETS or ROTATION_TAG');
    expect(result.calls).toEqual([]);

    const badRole = await deploy({ ...SETTINGS, ROTATION_ROLE_ARN: 'mongodb-rotation' });
    expect(badRole.stderr).toContain('acs:ram::<account-id>:role/<role-name>');
  });

  it('says how to add credentials when s has none', async () => {
    const result = await deploy({ ...SETTINGS, FAKE_S_MODE: 'no-access' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('s config add -a default');
    expect(result.stderr).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID');
    expect(result.calls).toEqual(['s config get -a default']);
  });

  it('never shows what s config get prints', async () => {
    const result = await deploy(SETTINGS);
    expect(result.stdout + result.stderr).not.toContain('AccessKeySecret');
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
