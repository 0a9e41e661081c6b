/**
 * The invariant is checked after every test that writes, by construction: every local cloud a test starts goes
 * through test/helpers/cloud.ts, whose guard (the setup file test/helpers/invariant-guard.ts) fails a test after
 * which a cloud has recorded a violation, unless the test opted out with a written reason. This suite checks the
 * construction: no test file starts a cloud any other way, the guard is installed, and it does fail.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { excuseViolations, guardInstalled, startCloud, uncheckedViolations } from '../helpers/cloud';

const ROOT = path.resolve(__dirname, '..', '..');
const TEST_DIR = path.join(ROOT, 'test');
const HELPER = 'test/helpers/cloud.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return /\.(m|c)?[jt]s$/.test(entry.name) ? [path.relative(ROOT, full)] : [];
  });
}

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const RS = 'dds-bp1guard0000001';
const fixture = {
  region: 'cn-hangzhou',
  accessKeys: [{ id: 'LTAI5tGuardTestKey01', secret: 'guard-test-secret-01' }],
  instances: [{ id: RS, type: 'replicate', rootPassword: 'Guard#Start-Pw1' }],
  secrets: [
    {
      name: `mongodb/${RS}/root`,
      instanceId: RS,
      versions: [{ versionId: 'v1', data: JSON.stringify({ AccountName: 'root', AccountPassword: 'Guard#Start-Pw1' }), stages: ['ACSCurrent'] }],
    },
  ],
};

describe('every local cloud a test starts is guarded', () => {
  it(`no test file calls startLocalCloud except ${HELPER}`, () => {
    const direct = sourceFiles(TEST_DIR).filter((file) => file !== HELPER && /\bstartLocalCloud\s*\(/.test(read(file)));
    expect(direct, 'start clouds with startCloud() from test/helpers/cloud.ts (or a helper built on it)').toEqual([]);
  });

  it('a test file that starts a cloud through a script (the fault rig) guards it', () => {
    const unguarded = sourceFiles(TEST_DIR).filter((file) => /\bRig\.start\s*\(/.test(read(file)) && !/\bguardInvariant\s*\(/.test(read(file)));
    expect(unguarded).toEqual([]);
  });

  it('the guard is the setup file of every test file', () => {
    expect(guardInstalled()).toBe(true);
    expect(read('vitest.config.mts')).toMatch(/setupFiles:\s*\[[^\]]*'test\/helpers\/invariant-guard\.ts'/);
  });

  it('reports a violation once, names no password, and lets an excused one pass', async () => {
    const cloud = await startCloud({ fixture });
    try {
      cloud.truth.setRootPassword(RS, 'Guard#Drift-Pw2');
      const found = uncheckedViolations();
      expect(found).toEqual([expect.objectContaining({ instanceId: RS, action: 'setRootPassword', ongoing: false })]);
      expect(JSON.stringify(found)).not.toContain('Guard#Drift-Pw2');
      expect(uncheckedViolations()).toEqual([]);

      cloud.truth.setRootPassword(RS, 'Guard#Drift-Pw3');
      excuseViolations(cloud, 'the test drifted the password on purpose');
      expect(uncheckedViolations()).toEqual([]);
      cloud.truth.setRootPassword(RS, 'Guard#Drift-Pw4');
      expect(uncheckedViolations()).toHaveLength(1);
    } finally {
      await cloud.close();
    }
  });

  it('counts nothing for a cloud that opted out, and only with a reason in words', async () => {
    await expect(startCloud({ fixture }, { violationsAllowed: 'racy' })).rejects.toThrow(/written reason/);
    const cloud = await startCloud({ fixture }, { violationsAllowed: 'this test drifts the password on purpose' });
    try {
      cloud.truth.setRootPassword(RS, 'Guard#Drift-Pw5');
      expect(uncheckedViolations()).toEqual([]);
      expect(() => excuseViolations(cloud, 'ok')).toThrow(/written reason/);
    } finally {
      await cloud.close();
    }
  });

  it('fails, in a vitest run with the project’s configuration, the test that broke the invariant without a word', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'invariant-guard-'));
    const report = path.join(dir, 'report.json');
    try {
      const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
      const config = path.join(ROOT, 'test', 'architecture', 'guard-fixture', 'vitest.config.mts');
      await promisify(execFile)(process.execPath, [vitest, 'run', '--config', config, '--reporter=json', `--outputFile=${report}`], { cwd: ROOT }).catch(() => undefined);
      const results = (JSON.parse(readFileSync(report, 'utf8')) as { testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }> })
        .testResults.flatMap((file) => file.assertionResults);
      expect(results.map((r) => [r.title, r.status])).toEqual([
        ['breaks the invariant without a word', 'failed'],
        ['breaks it with a written reason', 'passed'],
        ['keeps it', 'passed'],
      ]);
      expect(results[0].failureMessages.join('\n')).toContain('dds-bp1guardcheck01 normal out of line after truth setRootPassword');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
