/**
 * `npm run chaos -- [--instances 200] [--seed 1] [--sharded-ratio 0.2] [--concurrency 16|yaml] [--timeout-seconds S]
 *                    [--dds-qps 10] [--kms-qps 20] [--kms-lag-ms 1000] [--known-rates] [--max-runs 3] [--logs FILE]`
 *
 * A soak at fleet scale: a generated fleet, every instance tagged rotation=enabled, rotated by the freshly built
 * function deployed to the local FC as s.yaml deploys it (ROTATION_TAG discovery; its timeout and unset
 * DDS_QPS/KMS_QPS unless the options say otherwise; MAX_CONCURRENCY 16 unless `--concurrency yaml`), on a local cloud where a fifth of the calls fail, both APIs throttle,
 * some calls are held past the client's timeout, some writes lose their answer, and KMS reads lag 1 s
 * (scripts/chaos/faults.ts). Its daily timer fires as FC fires it (async, retried as s.yaml says), one day after
 * another, until every instance is rotated or `--max-runs` have fired; between two runs, every held call lands.
 *
 * Prints each timer run's attempts and outcomes, the calls that failed (by action and code), invariant
 * violations, the instances whose database differs from ACSCurrent. Exits 0 when every instance ended rotated
 * within two timer runs, with no violation and no password in the function's logs; 1 otherwise; 2 on bad usage.
 */
import { exitWith, optionsOrExit } from './cli';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LocalCloud, startLocalCloud } from '../local-cloud';
import type { FunctionSpec } from '../local-cloud/fc/types';
import { buildBundles, PROJECT_ROOT, ROTATE_FUNCTION } from './bench/deploy';
import { FLEET_ROLE_KEY, FLEET_TAG, generateFleet } from './bench/fleet';
import { showProgress } from './bench/progress';
import { applyChaosFaults, type ChaosFaultSettings } from './chaos/faults';
import { attemptsOf, failedCalls, functionCalls, instanceEnds, type TimerRun } from './chaos/fleet-state';
import { type ChaosOptions, parseChaosArgs, USAGE, UsageError } from './chaos/options';
import { formatCalls, formatEnds, formatTimerRun, formatViolations } from './chaos/print';
import { leaksIn, runTexts } from './faults/rig';

const TIMER = 'daily-rotation';
/** Every instance must end rotated within this many timer runs. */
const RUNS_ALLOWED = 2;
/** The rotate function's clients give up on a call after 10 s (functions/shared/clients: READ_TIMEOUT_MS). */
const CLIENT_TIMEOUT_MS = 10_000;

const faultSettings = (options: ChaosOptions): ChaosFaultSettings => ({
  seed: options.seed,
  errorRate: 0.2,
  holdRate: 0.01,
  holdMs: CLIENT_TIMEOUT_MS + 2_000,
  lostAnswerRate: 0.02,
  ddsQps: options.ddsQps,
  kmsQps: options.kmsQps,
  kmsLagMs: options.kmsLagMs,
});

async function main(options: ChaosOptions): Promise<number> {
  const fleet = generateFleet({ instances: options.instances, shardedRatio: options.shardedRatio, prefix: 'chaos' });
  const sharded = fleet.instances.filter((i) => i.type === 'sharding').length;
  const settings = faultSettings(options);
  const build = await buildBundles();
  const cloud = await startLocalCloud({ port: 0, fixture: fleet.fixture });
  try {
    const deployed = deploy(cloud, build.codeRoot, options);
    const chaos = applyChaosFaults(cloud, settings);
    console.log(
      `chaos: ${fleet.instances.length} instances (${fleet.instances.length - sharded} replica sets, ${sharded} sharded clusters), seed ${JSON.stringify(options.seed)}\n` +
        `faults: ${settings.errorRate * 100}% of DDS and KMS calls fail (503/500), ${settings.holdRate * 100}% held ${settings.holdMs / 1000} s ` +
        `(the client gives up at ${CLIENT_TIMEOUT_MS / 1000} s), ${settings.lostAnswerRate * 100}% of writes lose their answer after applying, ` +
        `throttled at DDS ${options.ddsQps}/s and KMS ${options.kmsQps}/s, KMS reads ${settings.kmsLagMs / 1000} s behind\n` +
        `function: ${ROTATE_FUNCTION} from s.yaml, timeout ${deployed.timeoutSeconds} s, MAX_CONCURRENCY ${deployed.environment.MAX_CONCURRENCY}, ` +
        `${deployed.environment.DDS_QPS ? `DDS_QPS ${deployed.environment.DDS_QPS}, KMS_QPS ${deployed.environment.KMS_QPS}` : 'DDS_QPS and KMS_QPS unset (found by backing off)'}, ` +
        `async retries ${deployed.maxAsyncRetryAttempts ?? 'FC default'}\n`,
    );

    const runs: TimerRun[] = [];
    for (let run = 1; run <= options.maxRuns; run++) {
      const triggerTime = new Date(Date.UTC(2026, 11, run, 3)).toISOString().replace('.000Z', 'Z');
      const progress = showProgress(cloud, fleet.instances.length, `chaos run ${run}`);
      const outcome = await cloud.fc.fireTimerAsync(ROTATE_FUNCTION, TIMER, { triggerTime }).finally(() => progress.stop());
      await cloud.faults.settled(); // a day passes: whatever was held has landed
      const rotated = instanceEnds(cloud, fleet.instances).filter((end) => end.rotated).length;
      const timerRun: TimerRun = { run, triggerTime, outcome: outcome.status, attempts: attemptsOf(cloud, outcome), rotated };
      runs.push(timerRun);
      console.log(`${formatTimerRun(timerRun, fleet.instances.length)}\n`);
      if (rotated === fleet.instances.length) break;
    }

    const calls = functionCalls(cloud, FLEET_ROLE_KEY.id);
    const total = { dds: calls.filter((c) => c.product === 'dds').length, kms: calls.filter((c) => c.product === 'kms').length };
    const ends = instanceEnds(cloud, fleet.instances);
    const leaks = leaksIn(cloud.fc.invocations.flatMap(runTexts), cloud.truth.passwordsSeen());
    const { violations, unreadable } = cloud.truth;
    const runsNeeded = runs.findIndex((r) => r.rotated === fleet.instances.length) + 1;
    console.log(
      [
        formatCalls(total, failedCalls(calls), chaos.silent()),
        '',
        formatViolations('invariant violations (a role on a password neither ACSCurrent nor ACSPending holds)', violations),
        formatViolations('passwords KMS lost (not even in ACSPrevious)', unreadable),
        formatEnds(ends),
        `passwords in the function's logs: ${leaks === 0 ? 'none' : `in ${leaks} text(s)`}`,
        runsNeeded > 0 ? `every instance rotated after ${runsNeeded} timer run(s)` : `not every instance rotated after ${runs.length} timer run(s)`,
      ].join('\n'),
    );
    if (options.logsFile) {
      writeFileSync(options.logsFile, cloud.fc.invocations.map((record) => record.logs).join(''));
      console.log(`the function's logs: ${options.logsFile}`);
    }
    const held = runsNeeded > 0 && runsNeeded <= RUNS_ALLOWED && violations.length === 0 && unreadable.length === 0 && leaks === 0;
    console.log(held ? `chaos: held (every instance rotated within ${RUNS_ALLOWED} timer runs, no violation)` : 'chaos: FAILED');
    return held ? 0 : 1;
  } finally {
    await cloud.close();
    build.remove();
  }
}

/** The rotate function as s.yaml deploys it, finding the fleet by its tag; the options override its concurrency, timeout and rates. */
function deploy(cloud: LocalCloud, codeRoot: string, options: ChaosOptions): FunctionSpec {
  const specs = cloud.fc.registerFromServerlessYaml(join(PROJECT_ROOT, 's.yaml'), {
    codeRoot,
    accountId: cloud.accountId,
    env: { ROTATION_TAG: `${FLEET_TAG.key}=${FLEET_TAG.value}` },
  });
  const spec = specs.find((s) => s.name === ROTATE_FUNCTION);
  if (!spec) throw new Error(`s.yaml declares no function ${ROTATE_FUNCTION}`);
  const environment = {
    ...spec.environment,
    ...(options.concurrency !== undefined && { MAX_CONCURRENCY: String(options.concurrency) }),
    ...(options.knownRates && { DDS_QPS: String(options.ddsQps), KMS_QPS: String(options.kmsQps) }),
  };
  const deployed = { ...spec, environment, timeoutSeconds: options.timeoutSeconds ?? spec.timeoutSeconds };
  cloud.fc.register(deployed);
  return deployed;
}

const options: ChaosOptions = optionsOrExit('chaos', USAGE, () => parseChaosArgs(process.argv.slice(2)), (err) => err instanceof UsageError || err instanceof TypeError);
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
exitWith('chaos', main(options));
