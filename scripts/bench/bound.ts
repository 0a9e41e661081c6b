/**
 * The lower bound on a fleet's rotation time that the API rate limits and the latency allow, from the
 * fewest calls a rotation needs; no schedule of those calls can beat it. Against the local cloud's flow
 * control, a token bucket that admits a burst of max(1, qps) calls and then qps a second, N calls of a
 * product need at least (N − burst) / qps seconds between the first and the last.
 */
import type { BenchMode, BenchOptions } from './options';

type Product = 'dds' | 'kms';
type Calls = Record<Product, number>;

/**
 * A fresh rotation's calls (docs/design.md §3), in the order made. KMS: ListSecretVersionIds (stage), PutSecretValue,
 * ListSecretVersionIds (the version still carries ACSPending right before the database is touched),
 * UpdateSecretVersionStage twice (ACSCurrent moved from the version seen current, ACSPending removed),
 * ListSecretVersionIds (where the labels landed). DDS:
 * ResetAccountPassword per role (a sharded cluster has two), DescribeDBInstanceAttribute (settle); inline,
 * the inspection is the instance's entry in discovery's listing, fanned out it is the lookup that admits
 * the named instance, one DescribeDBInstanceAttribute more.
 */
export function minimumCalls(type: 'replicate' | 'sharding', mode: BenchMode): Calls {
  const resets = type === 'sharding' ? 2 : 1;
  return { dds: resets + 1 + (mode === 'fanout' ? 1 : 0), kms: 6 };
}

/** Calls a rotation makes after its last DDS call (the three of its promote), each waiting its latency. */
const CALLS_AFTER_LAST_DDS = 3;
const PAGE_SIZE = 100;

export interface LowerBound {
  seconds: number;
  /** Each term of the bound, in seconds. */
  terms: { discovery: number; dds: number; kms: number; path: number; concurrency: number };
  /** The formula with the fleet's numbers in it. */
  explained: string[];
}

export function lowerBound(options: BenchOptions, fleet: { replicaSets: number; sharded: number }): LowerBound {
  const L = options.latencyMs / 1000;
  const rs = minimumCalls('replicate', options.mode);
  const sh = minimumCalls('sharding', options.mode);
  const calls = (p: Product) => fleet.replicaSets * rs[p] + fleet.sharded * sh[p];
  const perTarget = { replicate: rs.dds + rs.kms, sharding: sh.dds + sh.kms };
  const longest = fleet.sharded > 0 ? perTarget.sharding : perTarget.replicate;
  const sequential = fleet.replicaSets * perTarget.replicate + fleet.sharded * perTarget.sharding;
  // Discovery lists each instance type page after page before any rotation starts.
  const pages = Math.max(1, Math.ceil(fleet.replicaSets / PAGE_SIZE)) + Math.max(1, Math.ceil(fleet.sharded / PAGE_SIZE));
  const burst = (qps: number) => Math.max(1, qps);
  const terms = {
    discovery: pages * L,
    dds: Math.max(0, calls('dds') - burst(options.ddsQps)) / options.ddsQps + (1 + CALLS_AFTER_LAST_DDS) * L,
    kms: Math.max(0, calls('kms') - burst(options.kmsQps)) / options.kmsQps + L,
    path: longest * L,
    concurrency: (sequential * L) / options.concurrency,
  };
  const seconds = terms.discovery + Math.max(terms.dds, terms.kms, terms.path, terms.concurrency);
  const s = (value: number) => `${value.toFixed(2)} s`;
  const explained = [
    `lower bound = discovery + max(DDS, KMS, path, concurrency) = ${s(seconds)}, where (L = ${options.latencyMs} ms latency per call)`,
    `  discovery   ${pages} pages of DescribeDBInstances one after another: ${pages} × L = ${s(terms.discovery)}`,
    `  DDS         (${calls('dds')} calls − burst ${burst(options.ddsQps)}) / ${options.ddsQps} qps + the last one's L and the ${CALLS_AFTER_LAST_DDS} KMS calls after it: ${s(terms.dds)}`,
    `  KMS         (${calls('kms')} calls − burst ${burst(options.kmsQps)}) / ${options.kmsQps} qps + L: ${s(terms.kms)}`,
    `  path        the longest rotation's ${longest} calls one after another: ${longest} × L = ${s(terms.path)}`,
    `  concurrency ${sequential} calls × L spread over ${options.concurrency} ${options.mode === 'inline' ? 'workers' : 'instances'}: ${s(terms.concurrency)}`,
    `  calls per rotation counted: replica set DDS ${rs.dds} + KMS ${rs.kms}, sharded cluster DDS ${sh.dds} + KMS ${sh.kms} (scripts/bench/bound.ts lists them)`,
  ];
  return { seconds, terms, explained };
}
