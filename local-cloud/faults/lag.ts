import type { Params } from '../http/api-error';

/** The reads a `lag` fault can serve late, per product: every read action the local cloud answers. */
export const LAGGING_READS = {
  kms: ['GetSecretValue', 'ListSecretVersionIds', 'DescribeSecret'],
  dds: ['DescribeDBInstanceAttribute', 'DescribeDBInstances', 'DescribeAccounts'],
} as const;

export type LaggingProduct = keyof typeof LAGGING_READS;

/**
 * Reads of a product served from the state as it was some time ago, as a replica that has not
 * caught up would. Each request draws its own lag, uniformly from `ms - jitterMs` to `ms`, on its
 * own: two successive reads may go back in time (no monotonic reads), as real replicas promise
 * nothing of the kind. Writes always apply to the state as it is.
 */
export interface LagFault {
  product: LaggingProduct;
  /** The largest lag, in ms. */
  ms: number;
  /** How much less than `ms` a request may lag (0..ms); 0 (the default): every read lags `ms`. */
  jitterMs?: number;
  /** The reads that lag; every read action of the product by default (`LAGGING_READS`). */
  actions?: readonly string[];
  /** Only the requests whose parameters satisfy it lag (e.g. one secret's). */
  when?: (params: Params) => boolean;
}

/** The spec, checked: each problem names the field and what to give instead. */
export function checkedLag(spec: LagFault): LagFault {
  const reads: readonly string[] | undefined = LAGGING_READS[spec.product];
  if (!reads) throw new RangeError(`lag: product must be "kms" or "dds", got ${JSON.stringify(spec.product)}`);
  if (!(Number.isFinite(spec.ms) && spec.ms >= 0)) throw new RangeError(`lag: ms must be a number of at least 0, got ${spec.ms}`);
  const jitter = spec.jitterMs ?? 0;
  if (!(Number.isFinite(jitter) && jitter >= 0 && jitter <= spec.ms)) {
    throw new RangeError(`lag: jitterMs must be from 0 to ms (${spec.ms}), got ${spec.jitterMs}`);
  }
  for (const action of spec.actions ?? []) {
    if (!reads.includes(action)) {
      throw new RangeError(`lag: actions may only name reads of ${spec.product} (${reads.join(', ')}); writes never lag, got "${action}"`);
    }
  }
  return spec;
}

export function lagSelects(spec: LagFault, product: string, action: string, params: Params): boolean {
  const actions: readonly string[] = spec.actions ?? LAGGING_READS[spec.product];
  return spec.product === product && actions.includes(action) && (spec.when === undefined || spec.when(params));
}

/** A delay drawn uniformly from `ms - jitterMs` to `ms`. */
export function drawDelay(spec: { ms: number; jitterMs?: number }): number {
  return spec.ms - Math.random() * (spec.jitterMs ?? 0);
}
