/**
 * `npm run invoke` against the local cloud: the command line as an operator uses it, its output and exit
 * status. Most cases run the command's code in-process (runInvoke); two spawn it as the real command.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import type { RotationReport } from '../../functions/rotate/report';
import { runInvoke } from '../../scripts/invoke/main';
import { ACCESS_KEY, fleet, secretName, target } from '../rotate/fixture';
import { buildBundle, closeCheckedCloud, deployRotation, expectRotatedTo, removeBundle, REPO, rotationRequests } from './deployed';

const RS = 'dds-bp1invoke00001';
const SHARDED = 'dds-bp1invoke00002';
const SESSIONS = 'dds-bp17d3a9c5e1f2b64';
const LOCKED = 'dds-bp1invokelock1';
/** Enough failing targets that the report line outgrows the 4 KB of log FC returns. */
const MANY_LOCKED = Array.from({ length: 25 }, (_, i) => `dds-bp1manylock${String(i).padStart(3, '0')}`);
const OLD = { [RS]: 'Old#Invoke-Pw1', [SHARDED]: 'Old#Invoke-Pw2', [SESSIONS]: 'Old#Invoke-Pw3' };

interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

describe('npm run invoke', () => {
  let codeRoot: string;
  let home: string;
  let cloud: LocalCloud;
  let env: NodeJS.ProcessEnv;
  /** Everything the command printed, scanned for passwords at the end. */
  const printed: string[] = [];

  beforeAll(async () => {
    codeRoot = await buildBundle();
    home = mkdtempSync(join(tmpdir(), 'invoke-home-'));
    cloud = await startCloud({
      port: 0,
      fixture: fleet(
        target(RS, { password: OLD[RS] }),
        target(SHARDED, { type: 'sharding', password: OLD[SHARDED] }),
        target(SESSIONS, { password: OLD[SESSIONS] }),
        target(LOCKED, { lockMode: 'ManualLock' }),
        ...MANY_LOCKED.map((id) => target(id, { lockMode: 'ManualLock' })),
      ),
    });
    // The tests of this file force the same instances one after another: no cooldown between them.
    deployRotation(cloud, codeRoot, { targets: [RS, SHARDED, SESSIONS, LOCKED, ...MANY_LOCKED], environment: { FORCED_ROTATION_COOLDOWN_MINUTES: '0' } });
    env = {
      ROTATION_FC_ENDPOINT: cloud.endpoint,
      ALIBABA_CLOUD_REGION_ID: cloud.region,
      ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY.id,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: ACCESS_KEY.secret,
    };
  });

  afterAll(async () => {
    await closeCheckedCloud(cloud, printed);
    removeBundle(codeRoot);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  async function invokeCommand(args: string[], overrides: NodeJS.ProcessEnv = {}): Promise<CommandRun> {
    const run = { stdout: '', stderr: '' };
    const code = await runInvoke(args, { env: { ...env, ...overrides }, stdout: (t) => (run.stdout += t), stderr: (t) => (run.stderr += t) });
    printed.push(run.stdout, run.stderr);
    return { code, ...run };
  }

  /** The real command in a child process, with nothing of this process's environment but PATH. */
  function spawnCommand(command: string, args: string[], childEnv: NodeJS.ProcessEnv): Promise<CommandRun> {
    return new Promise((resolve) => {
      execFile(command, args, { cwd: REPO, env: { PATH: process.env.PATH, HOME: home, ...childEnv }, timeout: 60_000 }, (error, stdout, stderr) => {
        printed.push(stdout, stderr);
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  it('rotates the named instances and prints a table (spawned as `npm run invoke`)', async () => {
    const run = await spawnCommand('npm', ['run', '--silent', 'invoke', '--', '--instance', SESSIONS, '--force', '--reason', 'key found in a ticket'], env);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Rotation \S+: manual, forced: "key found in a ticket"$/);
    expect(lines[1].split(/\s{2,}/).filter(Boolean)).toEqual(['instance', 'roles', 'outcome', 'version', 'attempts', 'duration', 'note']);
    expect(lines[3]).toMatch(new RegExp(`^  ${SESSIONS}\\s+normal\\s+rotated\\s+r-[0-9a-f]{24}\\s+1\\s+\\d+ ms$`));
    expect(lines.at(-1)).toBe('  summary: 1 rotated, 0 resumed, 0 skipped, 0 planned, 0 failed');
    expectRotatedTo(cloud, SESSIONS, OLD[SESSIONS]);
  });

  it('prints the report as JSON with --json, and writes nothing with --dry-run', async () => {
    const writes = cloud.truth.writeRequests().length;
    const run = await invokeCommand(['--instance', RS, '--instance', SHARDED, '--dry-run', '--json']);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(run.stdout) as RotationReport;
    expect(report).toMatchObject({ dryRun: true, trigger: { kind: 'manual', force: false, instanceIds: [RS, SHARDED] } });
    expect(report.results.map((r) => [r.instanceId, r.outcome])).toEqual([
      [RS, 'planned'],
      [SHARDED, 'planned'],
    ]);
    expect(cloud.truth.writeRequests()).toHaveLength(writes);
  });

  it('shows a failed target with its error, says how to resume, and exits 1', async () => {
    const run = await invokeCommand(['--instance', LOCKED, '--force', '--rotation-id', 'change-4711']);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^  ${LOCKED}\\s+-\\s+failed\\s+\\S+\\s+1\\s+\\d+ ms\\s+\\S*Lock\\S*: .*lock`, 'im'));
    expect(run.stdout).toContain('summary: 0 rotated, 0 resumed, 0 skipped, 0 planned, 1 failed');
    expect(run.stderr).toBe(
      `The invocation failed: rotation change-4711 failed for 1 of 1 targets: ${LOCKED} (${/\((\S+)\)/.exec(run.stderr)?.[1]})\n` +
        'Run again with --rotation-id change-4711 to resume this rotation rather than start another.\n',
    );
  });

  it('falls back to the error message when the report is beyond the log tail FC returns, and says so', async () => {
    const args = MANY_LOCKED.flatMap((id) => ['--instance', id]);
    const text = await invokeCommand([...args, '--force']);
    const json = await invokeCommand([...args, '--force', '--json']);

    expect(text.code).toBe(1);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/^The invocation failed \(RotationFailedError\): rotation \S+ failed for 25 of 25 targets: .* and 15 more\nRequest id: \S+\nNote: the function logged its report, but not within the last 4 KB of log that FC returns/);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { type: 'RotationFailedError', message: expect.stringContaining('failed for 25 of 25 targets'), requestId: expect.any(String) },
      note: expect.stringContaining('not within the last 4 KB'),
    });
  });

  it('shows a refused invocation with the function\'s own error', async () => {
    const run = await invokeCommand(['--instance', 'dds-bp1notatarget0', '--force']);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^The invocation failed \(PlanError\): Refusing the invocation: "dds-bp1notatarget0" is not a rotation target .*\nRequest id: \S+\n$/);
  });

  it('shows an error of InvokeFunction itself', async () => {
    const missing = await invokeCommand(['--function-name', 'no-such-function']);
    const denied = await invokeCommand([], { ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong-secret' });

    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^InvokeFunction failed: FunctionNotFound: function 'no-such-function' not found \(request id \S+\)\n$/);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^InvokeFunction failed: SignatureDoesNotMatch: /);
    expect(denied.stderr).not.toContain('wrong-secret');
  });

  it('invokes asynchronously with --async: prints the request id to follow, and FC runs it', async () => {
    const run = await invokeCommand(['--instance', RS, '--force', '--async']);
    await cloud.fc.whenIdle();

    expect(run).toMatchObject({ code: 0, stderr: '' });
    const requestId = /request id (\S+)\.\n/.exec(run.stdout)?.[1];
    expect(cloud.fc.asyncOutcomes.find((outcome) => outcome.requestId === requestId)).toMatchObject({ status: 'succeeded' });
    expectRotatedTo(cloud, RS, OLD[RS]);
  });

  it('forces past the cooldown with --ignore-cooldown and a reason, which the function logs as a warning', async () => {
    const first = await invokeCommand(['--instance', SHARDED, '--force', '--rotation-id', 'cooldown-1']);
    expect(first.code).toBe(0);
    deployRotation(cloud, codeRoot, { targets: [RS, SHARDED, SESSIONS, LOCKED, ...MANY_LOCKED] }); // the default cooldown, 15 minutes
    onTestFinished(() => void deployRotation(cloud, codeRoot, { targets: [RS, SHARDED, SESSIONS, LOCKED, ...MANY_LOCKED], environment: { FORCED_ROTATION_COOLDOWN_MINUTES: '0' } }));
    const held = await invokeCommand(['--instance', SHARDED, '--force', '--rotation-id', 'cooldown-2', '--json']);
    expect(JSON.parse(held.stdout).results).toMatchObject([{ outcome: 'skipped', reason: expect.stringMatching(/^cooldown: /) }]);
    const before = cloud.truth.secretPassword(secretName(SHARDED))!;
    const forced = await invokeCommand(['--instance', SHARDED, '--force', '--ignore-cooldown', '--reason', 'key leaked in a ticket', '--rotation-id', 'cooldown-3']);
    expect(forced.code).toBe(0);
    expectRotatedTo(cloud, SHARDED, before);
    const warning = cloud.fc.invocations.at(-1)?.logs.split('\n').find((line) => line.includes('the forced-rotation cooldown is ignored on request'));
    expect(JSON.parse(warning ?? '{}')).toMatchObject({ level: 'warn', reason: 'key leaked in a ticket', instanceIds: [SHARDED] });
  });

  it('sends an event file as it is (--event-file), here an ActionTrail incident', async () => {
    const before = cloud.truth.secretPassword(secretName(SESSIONS))!;
    const run = await invokeCommand(['--event-file', join(REPO, 'events', 'incident-actiontrail.json')]);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Rotation 7b1f3c2e-5d4a-4e8f-9c6b-2a1d0e9f8c7b: event from acs\.actiontrail \(actiontrail:ActionTrail:ApiCall\); request id \S+\n/);
    expectRotatedTo(cloud, SESSIONS, before);
  });

  it('takes credentials from the default chain (a credentials file) when the environment has none (spawned)', async () => {
    const credentials = join(home, 'credentials');
    writeFileSync(credentials, `[default]\ntype = access_key\naccess_key_id = ${ACCESS_KEY.id}\naccess_key_secret = ${ACCESS_KEY.secret}\n`);
    const requests = rotationRequests(cloud).length;
    const run = await spawnCommand(process.execPath, ['--import', 'tsx', 'scripts/invoke.ts', '--instance', RS, '--dry-run', '--json'], {
      ROTATION_FC_ENDPOINT: cloud.endpoint,
      ALIBABA_CLOUD_CREDENTIALS_FILE: credentials,
    });

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: true, results: [{ instanceId: RS, outcome: 'skipped' }] });
    expect(rotationRequests(cloud).length).toBeGreaterThan(requests);
  });

  it.each([
    [['--instance'], /^Option '--instance <value>' argument missing/],
    [['--bogus'], /^Unknown option '--bogus'/],
    [['stray'], /^Unexpected argument 'stray'/],
    [['--event-file', 'events/timer.json', '--force'], /^--event-file sends the file as it is: it cannot be combined with --force/],
    [['--event-file', 'no/such/file.json'], /^cannot read --event-file no\/such\/file\.json: ENOENT/],
    [['--endpoint', 'ftp://example.com'], /^the endpoint must be http\(s\):\/\/host\[:port\] and nothing more/],
    [['--function-name', 'bad name'], /^--function-name "bad name" is not a function name/],
    [['--instance', 'dds-x', '--force', '--ignore-cooldown'], /^--ignore-cooldown needs --force and a --reason/],
  ])('refuses %j with the usage text and exit status 2', async (args, message) => {
    const run = await invokeCommand(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage: npm run invoke -- [options]');
  });

  it('needs an endpoint, or a region and an account id for the public one', async () => {
    const run = await invokeCommand([], { ROTATION_FC_ENDPOINT: undefined });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^no FC endpoint: give --endpoint \(or ROTATION_FC_ENDPOINT\), or --region and --account-id/);
  });

  it('prints its usage with --help', async () => {
    const run = await invokeCommand(['--help']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^Usage: npm run invoke -- \[options\]/);
  });
});
