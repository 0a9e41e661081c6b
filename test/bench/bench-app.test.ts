/**
 * `npm run bench:app`: application clients log in and query while the rotate function, built and deployed to
 * the local FC, rotates their account. Checked: the figures it derives from the requests (by hand-made
 * samples), its command line, and small real runs: the output's shape, that every rotation was verified
 * against the database, the last line. Never a speed: the machines are small and shared.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../deploy/s-yaml';
import { type ScriptRun, lines, runScript } from '../helpers/script';
import { loadConfig } from '../../functions/shared/config';
import { ConfigError } from '../../functions/shared/errors';
import type { RequestSample } from '../../scripts/bench-app/client';
import { parseBenchAppArgs, UsageError } from '../../scripts/bench-app/options';
import type { BenchAppReport } from '../../scripts/bench-app/report';
import { benchEnvironment } from '../../scripts/bench-app/rotator';
import { summarize } from '../../scripts/bench-app/stats';

const RUN_TIMEOUT_MS = 150_000;

const bench = (...args: string[]): Promise<ScriptRun> => runScript('bench-app', args, RUN_TIMEOUT_MS);

const ok = (client: number, start: number, end: number): RequestSample => ({ client, start, end, ok: true });
const refused = (client: number, start: number, end: number): RequestSample => ({ client, start, end, ok: false, failure: 'auth', reason: 'MongoServerError AuthenticationFailed' });

describe('the figures of a bench run', () => {
  // Two rotations: [100, 200] and [500, 600].
  const rotations = [
    { start: 100, end: 200 },
    { start: 500, end: 600 },
  ];
  const samples: RequestSample[] = [
    ok(1, 0, 10),
    ok(1, 20, 50),
    refused(1, 150, 160),
    refused(1, 170, 180),
    refused(1, 190, 260), // overlaps the first rotation, ends after it
    ok(1, 300, 340),
    ok(2, 90, 110), // overlaps the first rotation
    { client: 2, start: 400, end: 420, ok: false, failure: 'other', reason: 'MongoNetworkError' },
    ok(2, 450, 470),
    refused(2, 550, 560),
    { ...ok(2, 580, 590), retried: true }, // refused once, then served after ACSCurrent was read again
    ok(2, 700, 800),
  ];
  const figures = summarize(samples, rotations);

  it('counts failures, authentication ones apart, with the other reasons', () => {
    expect(figures).toMatchObject({ requests: 12, succeeded: 7, failed: 5, authFailed: 4, otherFailed: 1, recovered: 1, otherReasons: [{ reason: 'MongoNetworkError', count: 1 }] });
  });

  it('splits latency by phase: a request that overlaps a rotation is during it; only successful requests are timed', () => {
    expect(figures.phases.during).toEqual({ requests: 6, failed: 4, p50Ms: 10, p99Ms: 20 });
    expect(figures.phases.outside).toEqual({ requests: 6, failed: 1, p50Ms: 30, p99Ms: 100 });
    // No successful request: no latency, rather than a made-up 0.
    expect(summarize([ok(1, 0, 5)], rotations).phases.during).toEqual({ requests: 0, failed: 0, p50Ms: null, p99Ms: null });
  });

  it('gives each failure to the last rotation started before it ended', () => {
    expect(figures.failedPerRotation).toEqual([4, 1]);
    expect(figures.failedBeforeRotations).toBe(0);
  });

  it('measures the longest run of failures of one client, until its next successful request', () => {
    expect(figures.longestFailureRun).toEqual({ client: 1, requests: 3, ms: 150, start: 150 });
    expect(summarize([ok(1, 0, 5)], rotations).longestFailureRun).toBeUndefined();
    // A run that lasts until the bench stops ends with its last failure.
    expect(summarize([ok(3, 0, 5), refused(3, 10, 20), refused(3, 30, 45)], []).longestFailureRun).toEqual({ client: 3, requests: 2, ms: 35, start: 10 });
  });
});

describe('the command line', () => {
  it('has defaults, and re-reads ACSCurrent every half interval unless told otherwise', () => {
    expect(parseBenchAppArgs([])).toEqual({ strategy: 'alternating', rotations: 3, clients: 4, intervalMs: 1000, thinkMs: 10, refreshMs: undefined, instanceType: 'replicate', json: false });
    expect(parseBenchAppArgs(['--refresh-ms', 'off']).refreshMs).toBeUndefined();
    expect(parseBenchAppArgs(['--strategy', 'root', '--instance-type', 'sharding', '--json', '--refresh-ms', '250'])).toMatchObject({ strategy: 'root', instanceType: 'sharding', json: true, refreshMs: 250 });
  });

  it.each([
    [['--strategy', 'dual'], '--strategy must be alternating, single, root, got "dual"'],
    [['--rotations', '0'], '--rotations must be a whole number from 1 to 1000'],
    [['--clients', '2.5'], '--clients must be a whole number'],
    [['--instance-type', 'shard'], '--instance-type must be replicate or sharding'],
    [['--refresh-ms', 'never'], '--refresh-ms must be a whole number from 1 to 86400000 or off'],
    [['--fast'], "Unknown option '--fast'"],
  ])('refuses %j, naming the flag', (argv, message) => {
    expect(() => parseBenchAppArgs(argv)).toThrow(UsageError);
    expect(() => parseBenchAppArgs(argv)).toThrow(message);
  });

  it('is the package script, and exits 2 on bad usage with the usage', async () => {
    const { scripts } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts['bench:app']).toBe('tsx scripts/bench-app.ts');
    const run = await bench('--strategy', 'dual');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--strategy must be');
    expect(run.stderr).toContain('usage: npm run bench:app');
    expect(run.stdout).toBe('');
  }, 30_000);
});

describe('a small run, root rotated', () => {
  it('verifies every rotation against the database, and ends with the p99 figures and `failed requests: N`', async () => {
    const run = await bench('--strategy', 'root', '--rotations', '2', '--clients', '2', '--interval-ms', '400');
    expect(run.code, run.stderr).toBe(0);
    const out = lines(run.stdout);
    expect(out[0]).toMatch(/^bench:app: strategy root, replica set dds-\w+, 2 clients \(a login per request, .*\), 2 rotations 400 ms apart$/);
    const rotations = out.filter((line) => line.startsWith('rotation '));
    expect(rotations).toHaveLength(2);
    for (const [i, line] of rotations.entries()) {
      expect(line).toMatch(new RegExp(`^rotation ${i + 1}: rotated in \\d+ ms, verified \\(the database's password for root equals KMS ACSCurrent r-[0-9a-f]{24}\\); \\d+ failed requests? from its start to the next$`));
    }
    expect(out).toContain('rotations: 2 of 2 done, 2 verified');
    expect(out).toContain('invariant violations: 0');
    expect(run.stdout).toMatch(/^failed: \d+ authentication failures?, 0 other$/m);
    expect(run.stdout).toMatch(/^longest run of failures: (none|\d+ requests? over \d+ ms \(client \d, until its next successful request\))$/m);
    const [outside, during, last] = out.slice(-3);
    expect(outside).toMatch(/^latency outside rotations: p50 [\d.]+ ms, p99 [\d.]+ ms \(\d+ successful requests?\)$/);
    // Every request during a rotation may have been refused: then there is no latency to show.
    expect(during).toMatch(/^latency during rotations: (p50 [\d.]+ ms, p99 [\d.]+ ms \(\d+ successful requests?\)|p50 none, p99 none \(no successful request\))$/);
    expect(last).toMatch(/^failed requests: \d+$/);
    const failed = Number(/^failed: (\d+) authentication/m.exec(run.stdout)![1]);
    expect(last).toBe(`failed requests: ${failed}`);
    // The clients did work on both sides of the rotations.
    expect(Number(/\((\d+) successful requests?\)$/.exec(outside)![1])).toBeGreaterThan(0);
  }, RUN_TIMEOUT_MS);

  it('--json prints the report on one line before the same last line; a sharded cluster has root rotated for both roles', async () => {
    const run = await bench('--strategy', 'root', '--rotations', '1', '--clients', '2', '--interval-ms', '300', '--instance-type', 'sharding', '--json');
    expect(run.code, run.stderr).toBe(0);
    const out = lines(run.stdout);
    expect(out).toHaveLength(2);
    const report = JSON.parse(out[0]) as BenchAppReport;
    expect(out[1]).toBe(`failed requests: ${report.failedRequests}`);
    expect(report).toMatchObject({ strategy: 'root', instanceType: 'sharding', clients: 2, rotations: { asked: 1, done: 1, verified: 1 }, invariantViolations: 0 });
    expect(report.rotations.list[0]).toMatchObject({ index: 1, outcome: 'rotated', verified: true, accountName: 'root' });
    expect(report.requests.failed).toBe(report.requests.authFailed + report.requests.otherFailed);
    expect(report.failedRequests).toBe(report.requests.failed);
    expect(report.latency.outside.requests + report.latency.during.requests).toBe(report.requests.requests);
    expect(run.stdout + run.stderr).not.toMatch(/Bench#/);
  }, RUN_TIMEOUT_MS);
});

/** Whether the rotate function, as this code base has it, takes the bench's application-user target. */
function functionTakesApplicationUsers(): { yes: true } | { yes: false; message: string } {
  try {
    loadConfig({ ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou', ...benchEnvironment('alternating') });
    return { yes: true };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { yes: false, message: err.message };
  }
}

describe('a small run, an application user rotated alternating', () => {
  const support = functionTakesApplicationUsers();

  it(
    support.yes
      ? 'fails no request: the clients switch users with ACSCurrent, and each rotation verified'
      : 'stops before any client starts, with the function’s refusal of the application-user target (exit 1)',
    async () => {
      const run = await bench('--strategy', 'alternating', '--rotations', '2', '--clients', '2', '--interval-ms', '400', '--json');
      if (!support.yes) {
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('bench:app: the rotate function rejected the application-user target (orders@admin, strategy alternating): ConfigError:');
        expect(run.stderr).toContain(support.message);
        expect(run.stdout).toBe('');
        return;
      }
      expect(run.code, run.stderr).toBe(0);
      const [json, last] = lines(run.stdout);
      const report = JSON.parse(json) as BenchAppReport;
      expect(report.rotations).toMatchObject({ asked: 2, done: 2, verified: 2 });
      expect(report.rotations.list.map((r) => r.accountName)).toEqual(['orders_clone', 'orders']);
      expect(report.invariantViolations).toBe(0);
      expect(last).toBe('failed requests: 0');
    },
    RUN_TIMEOUT_MS,
  );
});
