/**
 * `npm run status` against the local cloud: every state staged on a small fleet and then seen, each with
 * the one thing to do; the table, JSON and --only; the exit statuses; bad usage refused before any request;
 * and only read calls that return no secret value.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { STATUS_ACTIONS } from '../../scripts/status/read';
import { findLeaks } from '../helpers/rotate';
import { REPO } from '../triggers/deployed';
import { type JsonTarget, status, statusJson } from './run';
import { expectedCounts, refuseUnreadable, stagedFleet, statusEnv } from './staged-fleet';

const READ_ONLY = new Set(STATUS_ACTIONS.map((a) => a.split(':')[1]));

describe('npm run status on a staged fleet', () => {
  const staged = stagedFleet(10);
  let cloud: LocalCloud;
  let env: NodeJS.ProcessEnv;
  /** Everything the command printed, scanned for passwords at the end. */
  const printed: string[] = [];

  const run = async (args: string[], overrides: Record<string, string | undefined> = {}) => {
    const result = await status(args, statusEnv(cloud, staged, overrides));
    printed.push(result.stdout, result.stderr);
    return result;
  };
  const runJson = async (args: string[] = [], overrides: Record<string, string | undefined> = {}) => {
    const result = await statusJson(args, statusEnv(cloud, staged, overrides));
    printed.push(result.stdout, result.stderr);
    return result;
  };
  const byId = (targets: JsonTarget[]) => new Map(targets.map((t) => [t.instanceId, t]));
  const idOf = (state: string) => [...staged.expected].find(([, s]) => s === state)![0];

  beforeAll(async () => {
    cloud = await startCloud({ port: 0, fixture: staged.fixture });
    refuseUnreadable(cloud, staged);
    env = statusEnv(cloud, staged);
  });

  afterAll(async () => {
    if (!cloud) return;
    try {
      // Status reads only: the one rule cannot break, and no password reached its output.
      expect(cloud.truth.violations).toEqual([]);
      expect(findLeaks(printed, cloud.truth.passwordsSeen())).toEqual([]);
    } finally {
      await cloud.close();
    }
  });

  it('sees every staged state, and exits 1', async () => {
    const { code, report } = await runJson();
    expect(code).toBe(1);
    expect(Object.fromEntries(report.targets.map((t) => [t.instanceId, t.state]))).toEqual(Object.fromEntries(staged.expected));
    expect(report.summary).toEqual({ targets: 10, attention: 7, states: expect.objectContaining(expectedCounts(staged)) });
    expect(report.targets.filter((t) => t.attention).map((t) => t.state).sort()).toEqual(
      ['instance-missing', 'unreadable', 'secret-missing', 'locked', 'stuck', 'many-versions', 'overdue'].sort(),
    );
  });

  it('shows each target’s instance, ACSCurrent, pending rotation and versions', async () => {
    const targets = byId((await runJson()).report.targets);

    const fresh = targets.get(idOf('fresh'))!;
    expect(fresh).toMatchObject({ source: 'ROTATION_TAG', instance: { status: 'Running', lockMode: 'Unlock' }, pending: null, versions: { used: 1, max: 10 }, action: null });
    expect(['replicate', 'sharding']).toContain(fresh.instance?.type);
    expect(fresh.current).toMatchObject({ versionId: `v-${fresh.instanceId}-1`, ageDays: 2 });
    // Due 30 days after its creation.
    expect(Date.parse(fresh.current!.dueAt!) - Date.parse(fresh.current!.createTime)).toBe(30 * 86_400_000);

    const due = targets.get(idOf('due'))!;
    expect(due).toMatchObject({ attention: false, problems: [], action: null });
    expect(due.current!.ageDays).toBeGreaterThanOrEqual(30);

    const rotating = targets.get(idOf('rotating'))!;
    expect(rotating).toMatchObject({ attention: false, pending: { versionId: `r-pending-${rotating.instanceId}` } });
    expect(rotating.pending!.ageMinutes).toBeGreaterThanOrEqual(10);
    expect(rotating.pending!.ageMinutes).toBeLessThan(60);

    const stuck = targets.get(idOf('stuck'))!;
    expect(stuck.pending!.ageMinutes).toBeGreaterThanOrEqual(180);
    expect(stuck.action).toBe(`resume it: npm run invoke -- --instance ${stuck.instanceId} (the pending password is applied, never replaced); if that fails, look up r-pending-${stuck.instanceId} in the function's logs`);

    expect(targets.get(idOf('overdue'))).toMatchObject({ source: 'ROTATION_TARGETS', action: expect.stringMatching(/^rotate it: npm run invoke -- --instance dds-stat\d+;/) });
    expect(targets.get(idOf('locked'))).toMatchObject({ instance: { lockMode: 'ManualLock' }, action: expect.stringMatching(/^unlock it/) });
    expect(targets.get(idOf('many-versions'))).toMatchObject({ versions: { used: 9, max: 10 }, problems: [{ state: 'many-versions', message: '9 of the 10 versions KMS keeps are used' }] });
    expect(targets.get(idOf('secret-missing'))).toMatchObject({ current: null, versions: null, action: expect.stringMatching(/^create the secret mongodb\/dds-stat\d+\/root/) });

    const missing = targets.get(staged.missingInstanceId)!;
    expect(missing).toMatchObject({ source: 'ROTATION_TARGETS', instance: null, state: 'instance-missing', action: 'correct the instance id in ROTATION_TARGETS, or remove it' });
    expect(missing.current).not.toBeNull(); // its secret is still read

    const unreadable = targets.get(idOf('unreadable'))!;
    expect(unreadable.problems[0].message).toMatch(/^ListSecretVersionIds failed: Forbidden\.NoPermission: .+ \(request id .+\)$/);
    expect(unreadable.action).toMatch(/read-only policy/);
  });

  it('prints a table, attention first, the reasons, and a summary line counting the states; progress goes to stderr', async () => {
    const { code, stdout, stderr } = await run([]);
    expect(code).toBe(1);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Rotation status of 10 targets in cn-hangzhou at .+: interval 30 days, overdue after 24 h more, a pending rotation stuck after 60 min$/);
    expect(lines[1].trim().split(/\s{2,}/).map((c) => c.trim())).toEqual(['instance', 'type', 'status', 'lock', 'secret', 'current', 'age', 'due', 'pending', 'versions', 'state', 'to do']);
    const rows = lines.slice(3, 13);
    expect(rows.map((row) => row.trim().split(/\s+/)[0])).toEqual([
      staged.missingInstanceId,
      idOf('unreadable'),
      idOf('secret-missing'),
      idOf('locked'),
      idOf('stuck'),
      idOf('overdue'),
      idOf('many-versions'),
      ...[...staged.expected].filter(([id, s]) => id !== staged.missingInstanceId && ['rotating', 'due', 'fresh'].includes(s)).map(([id]) => id),
    ]);
    expect(rows.find((row) => row.includes(idOf('many-versions')))).toMatch(/ 9\/10 +many-versions /);
    expect(rows.find((row) => row.includes(idOf('locked')))).toMatch(/ ManualLock /);
    expect(rows.find((row) => row.includes(idOf('fresh')))).toMatch(/ 2d +\d{4}-\d\d-\d\d \(in 2[78]d\) +- +1\/10 +fresh +-$/);
    expect(stdout).toContain('  why they need attention:');
    expect(lines.at(-1)).toBe(
      '  summary: 10 targets, 7 need attention: 1 instance-missing, 1 unreadable, 1 secret-missing, 1 locked, 1 stuck, 1 overdue, 1 many-versions, 1 rotating, 1 due, 1 fresh',
    );
    expect(stderr).toContain('status: listing the instances tagged rotation=enabled…');
    expect(stderr).toMatch(/status: reading 10 targets, 8 at once/);
    expect(stderr).toMatch(/status: 10\/10 read in \d+\.\d s\n/);
  });

  it('--only attention lists only what needs attention; the summary still counts every target', async () => {
    const { code, report } = await runJson(['--only', 'attention']);
    expect(code).toBe(1);
    expect(report.targets).toHaveLength(7);
    expect(report.targets.every((t) => t.attention)).toBe(true);
    expect(report.summary.targets).toBe(10);

    const table = await run(['--only', 'stuck,locked']);
    const rows = table.stdout.split('\n').filter((line) => /^ {2}dds-/.test(line));
    expect(rows.map((row) => row.trim().split(/\s+/)[0])).toEqual([idOf('locked'), idOf('stuck')]);
  });

  it('--grace-hours moves the line between due and overdue', async () => {
    const none = byId((await runJson(['--grace-hours', '0'])).report.targets);
    expect(none.get(idOf('due'))!.state).toBe('overdue');
    const long = byId((await runJson(['--grace-hours', '300'])).report.targets);
    expect(long.get(idOf('overdue'))!.state).toBe('due');
    expect((await runJson(['--grace-hours', '300'])).report.graceHours).toBe(300);
  });

  it('calls only DescribeDBInstances, DescribeDBInstanceAttribute and ListSecretVersionIds: never a secret value, never a write', async () => {
    const before = cloud.truth.requests.length;
    await run(['--concurrency', '3']);
    const requests = cloud.truth.requests.slice(before);
    const actions = new Set(requests.map((r) => r.action));
    expect([...actions].sort()).toEqual([...READ_ONLY].sort());
    expect(cloud.truth.requests.filter((r) => !READ_ONLY.has(r.action))).toEqual([]);
    expect(cloud.truth.writeRequests()).toEqual([]);
    // What the listing of tagged instances showed is not asked again: only the configured instance it lacks is described.
    const described = requests.filter((r) => r.action === 'DescribeDBInstanceAttribute').map((r) => r.params.DBInstanceId);
    expect(described).toEqual([staged.missingInstanceId]);
    expect(requests.filter((r) => r.action === 'ListSecretVersionIds')).toHaveLength(10);
  });

  it('exits 1 and says why when the tagged instances cannot be listed', async () => {
    const refusal = cloud.faults.error({ product: 'dds', action: 'DescribeDBInstances', code: 'Forbidden.RAM', httpStatus: 403, message: 'User not authorized to operate on the specified resource.' });
    try {
      const { code, stdout, stderr } = await run([]);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/listing the instances tagged by ROTATION_TAG failed: Forbidden\.RAM: User not authorized/);
      expect(stderr).toMatch(/grant dds:DescribeDBInstances/);
    } finally {
      refusal.remove();
    }
  });

  it.each([
    [['--concurrency', '0'], {}, /--concurrency must be a whole number from 1 to 64, got "0"; for example --concurrency 8/],
    [['--concurrency', 'lots'], {}, /--concurrency must be a whole number/],
    [['--grace-hours=-1'], {}, /--grace-hours must be a number of hours from 0 to 8760, got "-1"; for example --grace-hours 24/],
    [['--only', 'late'], {}, /--only takes "attention" or states \(instance-missing, .*\), got "late"; for example --only attention/],
    [['--html', '/nonexistent-dir/status.html'], {}, /--html "\/nonexistent-dir\/status.html": the directory "\/nonexistent-dir" does not exist/],
    [['--colour'], {}, /Unknown option '--colour'/],
    [['overdue'], {}, /Unexpected argument 'overdue'/],
    [[], { ROTATION_INTERVAL_DAYS: '0' }, /ROTATION_INTERVAL_DAYS must be a whole number from 1 to 3650, got "0"; for example ROTATION_INTERVAL_DAYS=30 \(status reads the rotation function's configuration/],
    [[], { ALIBABA_CLOUD_REGION_ID: undefined }, /ALIBABA_CLOUD_REGION_ID is not set: .* for example ALIBABA_CLOUD_REGION_ID=cn-hangzhou/],
  ] as Array<[string[], Record<string, string | undefined>, RegExp]>)('refuses %j %j with exit 2 and the fix, before any request', async (args, overrides, message) => {
    const before = cloud.truth.requests.length;
    const { code, stdout, stderr } = await run(args, overrides);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toContain('Usage: npm run status -- [options]');
    expect(cloud.truth.requests.length).toBe(before);
  });

  /** The package script in a child process, with nothing of this process's environment but PATH, and an empty HOME. */
  function spawnStatus(childEnv: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
    const home = mkdtempSync(join(tmpdir(), 'status-home-'));
    return new Promise((resolve) => {
      execFile('npm', ['run', '--silent', 'status'], { cwd: REPO, env: { PATH: process.env.PATH, HOME: home, ...childEnv }, timeout: 60_000 }, (error, stdout, stderr) => {
        printed.push(stdout, stderr);
        rmSync(home, { recursive: true, force: true });
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  it('runs as the package script: a table on stdout, progress on stderr, exit status 1', async () => {
    const child = await spawnStatus(env);
    expect(child.stderr).toMatch(/status: 10\/10 read/);
    expect(child.stdout).toMatch(/summary: 10 targets, 7 need attention/);
    expect(child.code).toBe(1);
  });

  it('says once that there are no credentials, and exits 2 before any request', async () => {
    const before = cloud.truth.requests.length;
    const { ALIBABA_CLOUD_ACCESS_KEY_ID: _, ALIBABA_CLOUD_ACCESS_KEY_SECRET: __, ...withoutKeys } = env;
    const child = await spawnStatus({ ...withoutKeys, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' });
    expect(child.stdout).toBe('');
    expect(child.stderr).toMatch(/^npm run status: no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET .*, or configure the @alicloud\/credentials chain \(.+\)\n$/);
    expect(child.code).toBe(2);
    expect(cloud.truth.requests.length).toBe(before);
  });
});

describe('npm run status on a calm fleet', () => {
  it('exits 0 when nothing needs attention (fresh, due, a rotation under way)', async () => {
    const staged = stagedFleet(10);
    // Keep only the calm ones, and no ROTATION_TARGETS beyond a calm one.
    const calm = new Set([...staged.expected].filter(([, s]) => ['fresh', 'due', 'rotating'].includes(s)).map(([id]) => id));
    staged.fixture.instances = staged.fixture.instances.filter((i) => calm.has(i.id));
    staged.fixture.secrets = staged.fixture.secrets.filter((s) => calm.has(s.name.split('/')[1]));
    const cloud = await startCloud({ port: 0, fixture: staged.fixture });
    try {
      const { code, stdout } = await status([], statusEnv(cloud, staged, { ROTATION_TARGETS: undefined }));
      expect(stdout.trimEnd().split('\n').at(-1)).toBe('  summary: 3 targets, nothing needs attention: 1 rotating, 1 due, 1 fresh');
      expect(stdout).not.toContain('why they need attention');
      expect(code).toBe(0);
      const only = await status(['--only', 'attention'], statusEnv(cloud, staged, { ROTATION_TARGETS: undefined }));
      expect(only.stdout).toContain('  no target matches --only');
      expect(only.code).toBe(0);
    } finally {
      await cloud.close();
    }
  });
});
