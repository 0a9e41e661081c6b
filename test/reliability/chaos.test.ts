/**
 * `npm run chaos`: a fleet rotated by the built function on the local FC while a fifth of the calls fail, both
 * APIs throttle, calls are held past the client's timeout, writes lose their answer and KMS reads lag 1 s. Checked
 * with small fleets: the output's shape and verdict, the exit code when every instance rotates within two timer
 * runs and when it cannot (a function timeout too short to finish any rotation), and the command line. Never a speed.
 */
import { describe, expect, it } from 'vitest';
import { type ScriptRun, lines, runScript } from '../helpers/script';
import { parseChaosArgs, UsageError } from '../../scripts/chaos/options';

const RUN_TIMEOUT_MS = 240_000;

const chaos = (...args: string[]): Promise<ScriptRun> => runScript('chaos', args, RUN_TIMEOUT_MS);

describe('npm run chaos', () => {
  it('rotates a small fleet through the faults: the calls that failed, each run, no violation, every instance on ACSCurrent; exit 0', async () => {
    const run = await chaos('--instances', '10', '--seed', '7');

    expect(run.code, run.stdout + run.stderr).toBe(0);
    const out = lines(run.stdout);
    expect(out[0]).toBe('chaos: 10 instances (8 replica sets, 2 sharded clusters), seed "7"');
    expect(out).toContain('timer run 1 (triggerTime 2026-12-01T03:00:00Z, async as FC fires it): succeeded after 1 attempt(s)');
    expect(out).toContainEqual(expect.stringMatching(/^ {2}attempt 1: succeeded in [\d.]+ s: 10 rotated, 0 resumed, 0 skipped, 0 failed$/));
    expect(out).toContain('  after it: 10 of 10 instances rotated');
    // About a fifth of the calls failed, by action and code, and the run absorbed them.
    const calls = /^the function's calls: (\d+) \(DDS (\d+), KMS (\d+)\); failed: (\d+) \(([\d.]+)%\), held past the client's timeout: (\d+)$/.exec(
      out.find((line) => line.startsWith("the function's calls:")) ?? '',
    );
    expect(calls).not.toBeNull();
    const [total, failed] = [Number(calls![1]), Number(calls![4])];
    expect(failed).toBeGreaterThan(total * 0.08);
    expect(failed).toBeLessThan(total * 0.4);
    const from = out.findIndex((line) => line.startsWith("the function's calls:")) + 1;
    const table = out.slice(from, out.indexOf('', from));
    expect(table[0]).toMatch(/^ {2}action +code +calls$/);
    expect(table.join('\n')).toMatch(/ (ServiceUnavailable|ServiceUnavailableTemporary) +\d+$/m);
    expect(table.join('\n')).toMatch(/ (InternalError|InternalFailure) +\d+$/m);
    expect(table.slice(1).map((row) => Number(row.trim().split(/ +/).at(-1))).reduce((a, b) => a + b, 0)).toBe(failed + Number(calls![6]));
    expect(out).toContain('invariant violations (a role on a password neither ACSCurrent nor ACSPending holds): none');
    expect(out).toContain('passwords KMS lost (not even in ACSPrevious): none');
    expect(out).toContain('instances whose database differs from ACSCurrent: none');
    expect(out).toContain('instances not rotated: none');
    expect(out).toContain('versions added per instance: 1: 10 instance(s)');
    expect(out).toContain("passwords in the function's logs: none");
    expect(out).toContain('every instance rotated after 1 timer run(s)');
    expect(out.at(-1)).toBe('chaos: held (every instance rotated within 2 timer runs, no violation)');
  }, RUN_TIMEOUT_MS);

  it('fails, exit 1, when the instances cannot all be rotated within the runs (a timeout that leaves no time to see a write)', async () => {
    // FC timeout 2 s: the function keeps 1 s for its work, and KMS shows a write 60 s after it: no attempt, first or
    // retried, can see its own write, so no rotation can finish.
    const run = await chaos('--instances', '4', '--seed', '7', '--timeout-seconds', '2', '--kms-lag-ms', '60000', '--max-runs', '1');

    expect(run.code, run.stdout + run.stderr).toBe(1);
    const out = lines(run.stdout);
    expect(out).toContainEqual(expect.stringMatching(/^timer run 1 \(triggerTime 2026-12-01T03:00:00Z, async as FC fires it\): /));
    expect(out).toContain('  after it: 0 of 4 instances rotated');
    expect(out).toContainEqual(expect.stringMatching(/^instances not rotated: 4: dds-chaos000001/));
    // Cut off anywhere, a rotation still loses no password.
    expect(out).toContain('invariant violations (a role on a password neither ACSCurrent nor ACSPending holds): none');
    expect(out).toContain('instances whose database differs from ACSCurrent: none');
    expect(out).toContain('not every instance rotated after 1 timer run(s)');
    expect(out.at(-1)).toBe('chaos: FAILED');
  }, RUN_TIMEOUT_MS);

  it('refuses bad usage with exit 2, naming the flag, before building anything', async () => {
    const run = await chaos('--instances', '0');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)[0]).toBe('chaos: --instances must be a whole number from 1 to 10000, got "0"');
  }, RUN_TIMEOUT_MS);
});

describe('the command line of npm run chaos', () => {
  it("defaults to 200 instances, MAX_CONCURRENCY 16, and s.yaml's timeout and unset rates", () => {
    expect(parseChaosArgs([])).toEqual({
      instances: 200,
      shardedRatio: 0.2,
      seed: '1',
      concurrency: 16,
      timeoutSeconds: undefined,
      ddsQps: 10,
      kmsQps: 20,
      kmsLagMs: 1000,
      knownRates: false,
      maxRuns: 3,
      logsFile: undefined,
      help: false,
    });
    expect(parseChaosArgs(['--instances', '50', '--seed', 'abc', '--concurrency', '8', '--known-rates'])).toMatchObject({ instances: 50, seed: 'abc', concurrency: 8, knownRates: true });
    expect(parseChaosArgs(['--concurrency', 'yaml']).concurrency).toBeUndefined();
  });

  it.each([
    [['--concurrency', '65'], '--concurrency must be a whole number from 1 to 64, got "65"'],
    [['--sharded-ratio', '2'], '--sharded-ratio must be a number from 0 to 1, got "2"'],
    [['--seed', ' '], '--seed must not be empty, e.g. --seed 7'],
    [['--max-runs', '1.5'], '--max-runs must be a whole number from 1 to 30, got "1.5"'],
    [['--timeout-seconds', '0'], '--timeout-seconds must be a whole number from 1 to 86400, got "0"'],
    [['--logs', ''], '--logs must name a file, e.g. --logs chaos.log'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseChaosArgs(argv)).toThrow(new UsageError(message));
  });

  it('refuses an unknown flag', () => {
    expect(() => parseChaosArgs(['--fleet', '3'])).toThrow(/Unknown option '--fleet'/);
  });
});
