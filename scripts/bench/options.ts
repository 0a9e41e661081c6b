/** The command line of `npm run bench`. */
import { parseArgs } from 'node:util';

export type BenchMode = 'inline' | 'fanout';

export interface BenchOptions {
  instances: number;
  /** 0..1: the share of sharded clusters in the fleet. */
  shardedRatio: number;
  /** Added to every DDS and KMS call. */
  latencyMs: number;
  /** The local cloud's flow control, in calls a second. */
  ddsQps: number;
  kmsQps: number;
  /** inline: MAX_CONCURRENCY of the one rotate invocation; fanout: rotate instances at once (reserved concurrency). */
  concurrency: number;
  mode: BenchMode;
  /** Leave DDS_QPS/KMS_QPS unset: the function finds the rates by backing off when throttled. */
  unknownRates: boolean;
}

export const USAGE = `usage: npm run bench -- [--instances 100] [--sharded-ratio 0.2] [--latency-ms 20] [--dds-qps 20] [--kms-qps 50]
                     [--concurrency 16] [--mode inline|fanout] [--unknown-rates]`;

export class UsageError extends Error {}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      instances: { type: 'string', default: '100' },
      'sharded-ratio': { type: 'string', default: '0.2' },
      'latency-ms': { type: 'string', default: '20' },
      'dds-qps': { type: 'string', default: '20' },
      'kms-qps': { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '16' },
      mode: { type: 'string', default: 'inline' },
      'unknown-rates': { type: 'boolean', default: false },
    },
  });
  const mode = values.mode;
  if (mode !== 'inline' && mode !== 'fanout') throw new UsageError(`--mode must be inline or fanout, got ${JSON.stringify(mode)}`);
  return {
    instances: number('--instances', values.instances, { min: 1, max: 10_000, integer: true }),
    shardedRatio: number('--sharded-ratio', values['sharded-ratio'], { min: 0, max: 1 }),
    latencyMs: number('--latency-ms', values['latency-ms'], { min: 0, max: 10_000 }),
    ddsQps: number('--dds-qps', values['dds-qps'], { min: 0.5, max: 10_000 }),
    kmsQps: number('--kms-qps', values['kms-qps'], { min: 0.5, max: 10_000 }),
    // The rotate function's MAX_CONCURRENCY allows 1..64.
    concurrency: number('--concurrency', values.concurrency, { min: 1, max: 64, integer: true }),
    mode,
    unknownRates: values['unknown-rates']!,
  };
}

function number(flag: string, raw: string | undefined, range: { min: number; max: number; integer?: boolean }): number {
  const value = Number(raw);
  const ok = raw !== undefined && raw.trim() !== '' && Number.isFinite(value) && value >= range.min && value <= range.max && (!range.integer || Number.isInteger(value));
  if (!ok) throw new UsageError(`${flag} must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}, got ${JSON.stringify(raw)}`);
  return value;
}
