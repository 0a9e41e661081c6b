/**
 * `npm run bench:app -- [--strategy alternating|single|root] [--rotations 3] [--clients 4] [--interval-ms 1000]
 *                       [--think-ms 10] [--refresh-ms <interval/2>|off] [--instance-type replicate|sharding] [--json]`
 *
 * The proof applications care about: do their requests keep working while their password rotates? Starts
 * the local cloud with a MongoDB peer, one instance with its root secret and (alternating, single) the
 * application user `orders` with its secret; deploys the freshly built rotate function from s.yaml to the
 * local FC; runs `--clients` application clients that log in and query, request after request, reading
 * their login from KMS ACSCurrent on start, after any authentication failure and once it is `--refresh-ms`
 * old (scripts/bench-app/client.ts);
 * and meanwhile forces `--rotations` rotations of the clients' account through InvokeFunction, `--interval-ms`
 * apart, checking after each that the database holds KMS ACSCurrent's password.
 *
 * Prints each rotation, the requests, failures (authentication ones apart) and the longest run of them, then
 * p50/p99 latency outside and during rotations, and last `failed requests: N`. Progress goes to stderr.
 * Exits 0 when the run completed (whatever N), 1 when the bench could not run (the function refused the
 * target, a rotation failed or did not verify, the invariant broke), 2 on bad usage.
 */
import { exitWith, optionsOrExit } from './cli';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalCloud } from '../local-cloud';
import { buildBundles } from './bench/deploy';
import { AppClient, type RequestSample } from './bench-app/client';
import { APP_KEY, benchFixture, INSTANCE_ID, rotatedAccount } from './bench-app/fixture';
import { type BenchAppOptions, parseBenchAppArgs, USAGE, UsageError } from './bench-app/options';
import { buildReport, printJson, printText } from './bench-app/report';
import { BenchError, deployRotateFunction, type Rotation, Rotator } from './bench-app/rotator';
import { summarize } from './bench-app/stats';

/** How long the clients may take to make their first successful request before any rotation. */
const WARM_UP_TIMEOUT_MS = 30_000;

async function main(options: BenchAppOptions): Promise<number> {
  const build = await buildBundles();
  const cloud = await startLocalCloud({ port: 0, mongoPeers: true, fixture: benchFixture(options) });
  const started = performance.now();
  const clock = () => performance.now() - started;
  const progress = (line: string) => process.stderr.write(`bench:app: ${line}\n`);
  const clients: AppClient[] = [];
  try {
    const account = rotatedAccount(options.strategy);
    const rotator = new Rotator(cloud, deployRotateFunction(cloud, build.codeRoot, options.strategy), options.strategy, account, clock);
    await rotator.preflight();

    const samples: RequestSample[] = [];
    const { host, port } = cloud.mongo.peer(INSTANCE_ID);
    for (let i = 1; i <= options.clients; i++) {
      const connection = { apiHost: cloud.host, region: cloud.region, accessKey: APP_KEY, secretName: account.secretName, host, port };
      clients.push(new AppClient(i, connection, (sample) => samples.push(sample), clock, { thinkMs: options.thinkMs, refreshMs: options.refreshMs }));
    }
    clients.forEach((client) => client.start());
    await warmUp(samples, options.clients, clock);
    progress(`${options.clients} clients logging in as ${account.accountName}; rotating ${options.rotations} times`);

    const rotations: Rotation[] = [];
    await sleep(options.intervalMs);
    for (let index = 1; index <= options.rotations; index++) {
      const rotation = await rotator.rotate(index);
      rotations.push(rotation);
      const failed = samples.filter((s) => !s.ok).length;
      progress(`rotation ${index}/${options.rotations}: ${rotation.outcome} in ${Math.round(rotation.end - rotation.start)} ms, ${rotation.verified ? 'verified' : `NOT verified (${rotation.problem})`}; ${samples.length} requests, ${failed} failed so far`);
      if (!rotation.verified) break;
      await sleep(options.intervalMs);
    }
    await Promise.all(clients.map((client) => client.stop()));

    const report = buildReport(options, {
      instanceId: INSTANCE_ID,
      rotations,
      figures: summarize(samples, rotations),
      secretReads: clients.reduce((sum, client) => sum + client.counters.secretReads, 0),
      refreshFailures: clients.reduce((sum, client) => sum + client.counters.refreshFailures, 0),
      violations: cloud.truth.violations.length,
      durationMs: clock(),
    });
    process.stdout.write(options.json ? printJson(report) : printText(report));
    const problems = [
      ...rotations.filter((r) => !r.verified).map((r) => `rotation ${r.index} ${r.outcome === 'rotated' ? 'did not verify' : 'failed'}: ${r.problem ?? 'unknown'}`),
      ...(cloud.truth.violations.length > 0 ? [`the invariant monitor recorded ${cloud.truth.violations.length} violation(s)`] : []),
    ];
    for (const problem of problems) process.stderr.write(`bench:app: ${problem}\n`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await Promise.all(clients.map((client) => client.stop()));
    await cloud.close();
    build.remove();
  }
}

/** Every client has made a successful request: the figures start from a working application. */
async function warmUp(samples: RequestSample[], clients: number, clock: () => number): Promise<void> {
  const deadline = clock() + WARM_UP_TIMEOUT_MS;
  while (new Set(samples.filter((s) => s.ok).map((s) => s.client)).size < clients) {
    if (clock() > deadline) {
      const reasons = [...new Set(samples.filter((s) => !s.ok).map((s) => s.reason))].join(', ');
      throw new BenchError(`the clients could not log in and query before any rotation${reasons ? ` (${reasons})` : ''}`);
    }
    await sleep(20);
  }
}

const options: BenchAppOptions = optionsOrExit('bench:app', USAGE, () => parseBenchAppArgs(process.argv.slice(2)), (err) => err instanceof UsageError);
exitWith('bench:app', main(options), (err) => (err instanceof BenchError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)));
