/**
 * `npm run bench -- [--instances 100] [--sharded-ratio 0.2] [--latency-ms 20] [--dds-qps 20] [--kms-qps 50]
 *                   [--concurrency 16] [--mode inline|fanout] [--unknown-rates]`
 *
 * Rotates a generated fleet, every instance tagged rotation=enabled, on a local cloud whose DDS and KMS
 * answer after `--latency-ms` and throttle above `--dds-qps`/`--kms-qps`; the functions run from a fresh
 * build on the local FC as s.yaml deploys them (ROTATION_TAG discovery). Prints the rotation's wall time
 * (first API call to last answer: starting the cloud, building and generating the fleet are not counted),
 * the lower bound the limits and the latency allow (scripts/bench/bound.ts), their ratio, API calls per
 * rotation, time per target, the function process's peak RSS, invariant violations and failures.
 * Progress goes to stderr. Exits 1 if a target failed or the invariant was broken.
 *
 * inline: one rotate invocation, `--concurrency` workers sharing one rate per API (DDS_QPS, KMS_QPS set to
 * the limits unless --unknown-rates). fanout: the dispatcher queues one rotate invocation per target; the
 * rotate function runs `--concurrency` instances at once, each keeping to 1/concurrency of each limit.
 */
import { exitWith, optionsOrExit } from './cli';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { startLocalCloud } from '../local-cloud';
import { lowerBound } from './bench/bound';
import { buildBundles, deployFunctions, ROTATE_FUNCTION } from './bench/deploy';
import { FLEET_ACCESS_KEY, FLEET_ROLE_KEY, generateFleet } from './bench/fleet';
import { countCalls, functionCalls, peakRssBytes, percentile, targetResults, unfinishedTargets, wallSeconds } from './bench/measure';
import { type BenchOptions, parseBenchArgs, USAGE, UsageError } from './bench/options';
import { showProgress } from './bench/progress';

const require = createRequire(import.meta.url);
const fc = require('@alicloud/fc20230330') as typeof import('@alicloud/fc20230330');
const openApi = require('@alicloud/openapi-core') as typeof import('@alicloud/openapi-core');
const dara = require('@darabonba/typescript') as typeof import('@darabonba/typescript');

const ROTATION_ID = 'bench';

async function main(options: BenchOptions): Promise<number> {
  const fleet = generateFleet({ instances: options.instances, shardedRatio: options.shardedRatio });
  const sharded = fleet.instances.filter((i) => i.type === 'sharding').length;
  const bound = lowerBound(options, { replicaSets: fleet.instances.length - sharded, sharded });
  const build = await buildBundles();
  const cloud = await startLocalCloud({ port: 0, fixture: fleet.fixture });
  try {
    for (const product of ['dds', 'kms'] as const) cloud.faults.latency({ product, ms: options.latencyMs });
    cloud.faults.throttle({ product: 'dds', qps: options.ddsQps });
    cloud.faults.throttle({ product: 'kms', qps: options.kmsQps });
    const timeoutSeconds = bound.seconds * 4 + 120;
    const entry = deployFunctions(cloud, build.codeRoot, options, timeoutSeconds);

    const progress = showProgress(cloud, fleet.instances.length);
    const answer = await invoke(cloud, entry, { rotationId: ROTATION_ID, reason: 'bench' }, timeoutSeconds).finally(() => cloud.fc.whenIdle()).finally(() => progress.stop());

    const calls = functionCalls(cloud, FLEET_ROLE_KEY.id);
    const wall = wallSeconds(calls, options.latencyMs);
    const results = targetResults(cloud.fc.invocations.filter((r) => r.functionName === ROTATE_FUNCTION));
    const rotated = new Set(results.filter((r) => r.outcome === 'rotated').map((r) => r.instanceId));
    const unfinished = new Set([...unfinishedTargets(cloud, fleet.instances), ...fleet.instances.filter((i) => !rotated.has(i.id)).map((i) => i.id)]);
    const durations = results.map((r) => r.durationMs);
    const rss = cloud.fc.pids().flatMap((pid) => peakRssBytes(pid) ?? []);
    const counts = countCalls(calls, fleet.instances);

    const lines = [
      `bench: ${fleet.instances.length} instances (${fleet.instances.length - sharded} replica sets, ${sharded} sharded clusters), ` +
        `${options.latencyMs} ms latency, limits DDS ${options.ddsQps}/s KMS ${options.kmsQps}/s, concurrency ${options.concurrency}, mode ${options.mode}` +
        `${options.unknownRates ? ', rates unknown to the function' : ', DDS_QPS/KMS_QPS configured'}`,
      `wall time: ${wall.toFixed(2)} s (first API call to last answer)`,
      ...bound.explained,
      `ratio: ${(wall / bound.seconds).toFixed(3)}`,
      'API calls per rotation (answered; average, most):',
      ...(['replicate', 'sharding'] as const).map((type) => {
        const row = counts.perRotation[type];
        if (row.targets === 0) return `  ${type.padEnd(9)} none in the fleet`;
        const { dds, kms } = row.average;
        return `  ${type.padEnd(9)} ${row.targets} targets: DDS ${dds.toFixed(2)} + KMS ${kms.toFixed(2)} = ${(dds + kms).toFixed(2)}, at most ${row.most}`;
      }),
      `  per run   DescribeDBInstances ${counts.discovery}${options.mode === 'fanout' ? `, InvokeFunction ${counts.invocations}` : ''}; throttled and retried: DDS ${counts.throttled.dds}, KMS ${counts.throttled.kms}`,
      `time per target: p50 ${percentile(durations, 50)} ms, p95 ${percentile(durations, 95)} ms (as the rotate function measured each)`,
      `peak RSS: ${rss.length > 0 ? `${(Math.max(...rss) / 2 ** 20).toFixed(1)} MB` : 'unknown'} (largest of ${rss.length} function process${rss.length === 1 ? '' : 'es'}, VmHWM)`,
      `invariant violations: ${cloud.truth.violations.length}`,
      `failures: ${unfinished.size}`,
    ];
    if (answer.errorType) lines.push(`the ${entry} invocation failed: ${answer.errorMessage}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return unfinished.size === 0 && cloud.truth.violations.length === 0 ? 0 : 1;
  } finally {
    await cloud.close();
    build.remove();
  }
}

/** InvokeFunction (sync) through the official client, as an operator would call it. */
async function invoke(cloud: { host: string; region: string }, functionName: string, event: object, timeoutSeconds: number) {
  const client = new fc.default(
    new openApi.$OpenApiUtil.Config({ accessKeyId: FLEET_ACCESS_KEY.id, accessKeySecret: FLEET_ACCESS_KEY.secret, endpoint: cloud.host, protocol: 'http', regionId: cloud.region }),
  );
  const response = await client.invokeFunctionWithOptions(
    functionName,
    new fc.InvokeFunctionRequest({ body: Readable.from([Buffer.from(JSON.stringify(event))]) }),
    new fc.InvokeFunctionHeaders({ xFcInvocationType: 'Sync' }),
    // httpx times the whole exchange with connectTimeout until the answer's headers: the run's length.
    new dara.RuntimeOptions({ connectTimeout: timeoutSeconds * 1000 + 10_000, readTimeout: timeoutSeconds * 1000 + 10_000 }),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of response.body ?? []) chunks.push(Buffer.from(chunk as Buffer));
  const body = Buffer.concat(chunks).toString('utf8');
  const errorType = response.headers?.['x-fc-error-type'];
  return { errorType, errorMessage: errorType ? String((JSON.parse(body) as { errorMessage?: unknown }).errorMessage) : undefined };
}

const options: BenchOptions = optionsOrExit('bench', USAGE, () => parseBenchArgs(process.argv.slice(2)), (err) => err instanceof UsageError || err instanceof TypeError);
exitWith('bench', main(options));
