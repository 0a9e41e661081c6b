/**
 * The faults of a chaos run, on every DDS and KMS call the function makes: a fifth fail, half with 503 and half
 * with 500, as each service names them (DDS `ServiceUnavailable`, `InternalError`; KMS `ServiceUnavailableTemporary`,
 * `InternalFailure`); some are held past the client's read timeout (then applied); some writes are applied and
 * their answer lost; both APIs are throttled; and KMS reads are served 1 s behind the writes.
 *
 * Which call meets which fault is drawn from the seed: each call is named by its action, the instance or secret
 * it concerns and how many calls of that action for it came before, and that name hashed with the seed gives
 * its draw. The same seed strikes the same calls of each target, whatever the order in which the targets' calls
 * interleave (throttling and retries, which depend on timing, still make two runs alike rather than identical).
 */
import { createHash } from 'node:crypto';
import type { LocalCloud } from '../../local-cloud';
import type { FaultHandle } from '../../local-cloud/faults/fault-controls';
import type { Params } from '../../local-cloud/http/api-error';

type Product = 'dds' | 'kms';

/** The calls the rotate function makes, by product; writes apart (only their answers are lost after applying). */
export const FUNCTION_CALLS: Record<Product, { reads: string[]; writes: string[] }> = {
  dds: { reads: ['DescribeDBInstances', 'DescribeDBInstanceAttribute'], writes: ['ResetAccountPassword'] },
  kms: { reads: ['ListSecretVersionIds', 'GetSecretValue', 'DescribeSecret'], writes: ['PutSecretValue', 'UpdateSecretVersionStage'] },
};

/** 5xx codes as each service names them (both retried by the function). */
const UNAVAILABLE: Record<Product, string> = { dds: 'ServiceUnavailable', kms: 'ServiceUnavailableTemporary' };
const INTERNAL: Record<Product, string> = { dds: 'InternalError', kms: 'InternalFailure' };

export interface ChaosFaultSettings {
  seed: string;
  /** Share of calls answered 503 or 500 (half each). */
  errorRate: number;
  /** Share of calls held `holdMs` before they are applied: longer than the client's read timeout. */
  holdRate: number;
  holdMs: number;
  /** Share of writes applied whose answer is lost (the connection dropped). */
  lostAnswerRate: number;
  /** The local cloud's flow control, in calls a second. */
  ddsQps: number;
  kmsQps: number;
  /** Every KMS read is served from the state as it was this long ago. */
  kmsLagMs: number;
}

/** A call held past the client's timeout, or a write whose answer was lost: counted by action (the request log shows neither as failed). */
export interface SilentFaults {
  held: Map<string, number>;
  lost: Map<string, number>;
}

type Fate = 'unavailable' | 'internal' | 'held' | 'lost' | 'none';

/** Sets the faults on the cloud; returns the handles and how to count what the request log does not show. */
export function applyChaosFaults(cloud: LocalCloud, settings: ChaosFaultSettings): { handles: FaultHandle[]; silent(): SilentFaults } {
  const { faults } = cloud;
  const fates = new WeakMap<Params, Fate>();
  const seen = new Map<string, number>();
  /** A call's fate, drawn once per request (the fault rules below all ask for the same params object). */
  const fate = (product: Product, action: string, params: Params): Fate => {
    const known = fates.get(params);
    if (known) return known;
    const name = `${product}|${action}|${params.DBInstanceId ?? params.SecretName ?? ''}`;
    const nth = (seen.get(name) ?? 0) + 1;
    seen.set(name, nth);
    const drawn = decide(draw(settings.seed, `${name}|${nth}`), FUNCTION_CALLS[product].writes.includes(action), settings);
    fates.set(params, drawn);
    return drawn;
  };
  const handles: FaultHandle[] = [faults.throttle({ product: 'dds', qps: settings.ddsQps }), faults.throttle({ product: 'kms', qps: settings.kmsQps })];
  const held = new Map<string, FaultHandle>();
  const lost = new Map<string, FaultHandle>();
  for (const product of ['dds', 'kms'] as const) {
    const { reads, writes } = FUNCTION_CALLS[product];
    for (const action of [...reads, ...writes]) {
      const is = (wanted: Fate) => (params: Params) => fate(product, action, params) === wanted;
      handles.push(
        faults.error({ product, action, code: UNAVAILABLE[product], httpStatus: 503, times: Infinity, when: is('unavailable') }),
        faults.error({ product, action, code: INTERNAL[product], httpStatus: 500, times: Infinity, when: is('internal') }),
      );
      held.set(action, faults.hang({ product, action, ms: settings.holdMs, times: Infinity, when: is('held') }));
      if (writes.includes(action)) lost.set(action, faults.drop({ product, action, after: true, times: Infinity, when: is('lost') }));
    }
  }
  handles.push(...held.values(), ...lost.values(), faults.lag({ product: 'kms', ms: settings.kmsLagMs }));
  const counts = (of: Map<string, FaultHandle>) => new Map([...of].filter(([, handle]) => handle.hits > 0).map(([action, handle]) => [action, handle.hits]));
  return { handles, silent: () => ({ held: counts(held), lost: counts(lost) }) };
}

/** One fate from a draw in [0, 1): the error share first (half 503, half 500), then held calls, then lost answers (writes only). */
function decide(u: number, write: boolean, settings: ChaosFaultSettings): Fate {
  const { errorRate, holdRate, lostAnswerRate } = settings;
  if (u < errorRate / 2) return 'unavailable';
  if (u < errorRate) return 'internal';
  if (u < errorRate + holdRate) return 'held';
  if (write && u < errorRate + holdRate + lostAnswerRate) return 'lost';
  return 'none';
}

/** A number in [0, 1) from the seed and a name: the first 48 bits of their SHA-256. */
function draw(seed: string, name: string): number {
  const digest = createHash('sha256').update(`${seed}\n${name}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
