/** The command line of `npm run chaos`. */
import { parseArgs } from 'node:util';

export interface ChaosOptions {
  instances: number;
  /** 0..1: the share of sharded clusters in the fleet. */
  shardedRatio: number;
  /** Names the random draws of the faults (scripts/chaos/faults.ts). */
  seed: string;
  /**
   * MAX_CONCURRENCY of the rotate function (s.yaml's when absent): 16 by default, four times s.yaml's 4, so that
   * the calls outrun both throttles and a fleet of 200 rotates in about 100 s instead of 250 s.
   */
  concurrency?: number;
  /** How far behind KMS reads are served, in ms. */
  kmsLagMs: number;
  /** The function's timeout in seconds; s.yaml's when absent. */
  timeoutSeconds?: number;
  /** The local cloud's flow control, in calls a second. */
  ddsQps: number;
  kmsQps: number;
  /** Set the function's DDS_QPS and KMS_QPS to those limits; by default they are unset, as s.yaml leaves them, and found by backing off. */
  knownRates: boolean;
  /** Timer runs fired at most, one a day, until every instance is rotated. */
  maxRuns: number;
  /** Write every run's function log here (JSON lines, as FC ships them to SLS). */
  logsFile?: string;
  help: boolean;
}

export const USAGE = `usage: npm run chaos -- [--instances 200] [--seed 1] [--sharded-ratio 0.2] [--concurrency 16|yaml] [--timeout-seconds S]
                     [--dds-qps 10] [--kms-qps 20] [--kms-lag-ms 1000] [--known-rates] [--max-runs 3] [--logs FILE]
  --concurrency is the function's MAX_CONCURRENCY (yaml: s.yaml's); --timeout-seconds defaults to s.yaml's timeout;
  --known-rates sets the function's DDS_QPS and KMS_QPS to the limits (s.yaml leaves them unset: the function finds
  them by backing off)`;

export class UsageError extends Error {}

export function parseChaosArgs(argv: string[]): ChaosOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      instances: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      'sharded-ratio': { type: 'string', default: '0.2' },
      concurrency: { type: 'string', default: '16' },
      'timeout-seconds': { type: 'string' },
      'known-rates': { type: 'boolean', default: false },
      'dds-qps': { type: 'string', default: '10' },
      'kms-qps': { type: 'string', default: '20' },
      'kms-lag-ms': { type: 'string', default: '1000' },
      'max-runs': { type: 'string', default: '3' },
      logs: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.seed.trim() === '') throw new UsageError('--seed must not be empty, e.g. --seed 7');
  return {
    instances: number('--instances', values.instances, { min: 1, max: 10_000, integer: true }),
    shardedRatio: number('--sharded-ratio', values['sharded-ratio'], { min: 0, max: 1 }),
    seed: values.seed,
    // The rotate function's MAX_CONCURRENCY allows 1..64.
    concurrency: values.concurrency === 'yaml' ? undefined : number('--concurrency', values.concurrency, { min: 1, max: 64, integer: true }),
    // FC 3.0 allows a function 1 s to 86,400 s.
    timeoutSeconds: values['timeout-seconds'] === undefined ? undefined : number('--timeout-seconds', values['timeout-seconds'], { min: 1, max: 86_400, integer: true }),
    knownRates: values['known-rates'],
    ddsQps: number('--dds-qps', values['dds-qps'], { min: 0.5, max: 10_000 }),
    kmsQps: number('--kms-qps', values['kms-qps'], { min: 0.5, max: 10_000 }),
    kmsLagMs: number('--kms-lag-ms', values['kms-lag-ms'], { min: 0, max: 600_000, integer: true }),
    maxRuns: number('--max-runs', values['max-runs'], { min: 1, max: 30, integer: true }),
    logsFile: values.logs === undefined ? undefined : nonEmpty('--logs', values.logs),
    help: values.help,
  };
}

function nonEmpty(flag: string, raw: string): string {
  if (raw.trim() === '') throw new UsageError(`${flag} must name a file, e.g. ${flag} chaos.log`);
  return raw;
}

function number(flag: string, raw: string, range: { min: number; max: number; integer?: boolean }): number {
  const value = Number(raw);
  const ok = raw.trim() !== '' && Number.isFinite(value) && value >= range.min && value <= range.max && (!range.integer || Number.isInteger(value));
  if (!ok) throw new UsageError(`${flag} must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}, got ${JSON.stringify(raw)}`);
  return value;
}
