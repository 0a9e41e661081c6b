/** The command line of `npm run bench:app`. */
import { parseArgs } from 'node:util';

export const STRATEGIES = ['alternating', 'single', 'root'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export type InstanceType = 'replicate' | 'sharding';

export interface BenchAppOptions {
  /** alternating / single: the clients log in as an application user the function rotates so; root: as root. */
  strategy: Strategy;
  /** Forced rotations, one after another. */
  rotations: number;
  /** Application clients logging in and querying at once. */
  clients: number;
  /** Quiet time before the first rotation, between rotations and after the last. */
  intervalMs: number;
  /** Each client's pause between two requests. */
  thinkMs: number;
  /**
   * A client re-reads ACSCurrent once its login is this old (a secrets cache's TTL), besides on start and
   * after an authentication failure; undefined: never. Default: half of `intervalMs`.
   */
  refreshMs: number | undefined;
  instanceType: InstanceType;
  json: boolean;
}

export const USAGE = `usage: npm run bench:app -- [--strategy alternating|single|root] [--rotations 3] [--clients 4]
                         [--interval-ms 1000] [--think-ms 10] [--refresh-ms off|<ms>] [--instance-type replicate|sharding] [--json]`;

export class UsageError extends Error {}

export function parseBenchAppArgs(argv: string[]): BenchAppOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        strategy: { type: 'string', default: 'alternating' },
        rotations: { type: 'string', default: '3' },
        clients: { type: 'string', default: '4' },
        'interval-ms': { type: 'string', default: '1000' },
        'think-ms': { type: 'string', default: '10' },
        'refresh-ms': { type: 'string' },
        'instance-type': { type: 'string', default: 'replicate' },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const strategy = values.strategy as Strategy;
  if (!STRATEGIES.includes(strategy)) throw new UsageError(`--strategy must be ${STRATEGIES.join(', ')}, got ${JSON.stringify(values.strategy)}`);
  const instanceType = values['instance-type'];
  if (instanceType !== 'replicate' && instanceType !== 'sharding') {
    throw new UsageError(`--instance-type must be replicate or sharding, got ${JSON.stringify(instanceType)}`);
  }
  const intervalMs = whole('--interval-ms', values['interval-ms'], 0, 600_000);
  const refresh = values['refresh-ms'];
  return {
    strategy,
    rotations: whole('--rotations', values.rotations, 1, 1_000),
    clients: whole('--clients', values.clients, 1, 64),
    intervalMs,
    thinkMs: whole('--think-ms', values['think-ms'], 0, 60_000),
    refreshMs: refresh === undefined || refresh === 'off' ? undefined : whole('--refresh-ms', refresh, 1, 86_400_000, ' or off'),
    instanceType,
    json: values.json!,
  };
}

function whole(flag: string, raw: string | undefined, min: number, max: number, alternative = ''): number {
  const value = Number(raw);
  const ok = raw !== undefined && /^\d+$/.test(raw.trim()) && value >= min && value <= max;
  if (!ok) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}${alternative}, got ${JSON.stringify(raw)}`);
  return value;
}
