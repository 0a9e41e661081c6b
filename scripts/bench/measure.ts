/** What the benchmark reads back after a run: from the local cloud's request log, the functions' logs and /proc. */
import { readFileSync } from 'node:fs';
import type { LocalCloud } from '../../local-cloud';
import type { InvocationRecord } from '../../local-cloud/fc/types';
import type { FleetInstance, InstanceType } from './fleet';

type Product = 'dds' | 'kms';
type RequestRecord = LocalCloud['truth']['requests'][number];

export interface CallCounts {
  /** Per instance type: answered calls per rotation, on average and at most. */
  perRotation: Record<InstanceType, { targets: number; average: Record<Product, number>; most: number }>;
  /** DescribeDBInstances, once per page of each instance type per run. */
  discovery: number;
  /** InvokeFunction calls of the dispatcher. */
  invocations: number;
  /** Answers that were throttling (each retried). */
  throttled: Record<Product, number>;
}

/** The functions' calls (those signed with the functions' role key), in the order they arrived. */
export function functionCalls(cloud: LocalCloud, roleKeyId: string): RequestRecord[] {
  return cloud.truth.requests.filter((r) => r.accessKeyId === roleKeyId);
}

/** From the first call's arrival to the last one's answer (its latency after its arrival). */
export function wallSeconds(calls: RequestRecord[], latencyMs: number): number {
  if (calls.length === 0) return 0;
  const times = calls.map((r) => Date.parse(r.time));
  return (Math.max(...times) - Math.min(...times) + latencyMs) / 1000;
}

const THROTTLING = new Set(['Throttling.User', 'Rejected.Throttling']);
const SECRET_NAME = /^mongodb\/(.+)\/root$/;

export function countCalls(calls: RequestRecord[], fleet: FleetInstance[]): CallCounts {
  const byInstance = new Map<string, Record<Product, number>>(fleet.map((i) => [i.id, { dds: 0, kms: 0 }]));
  const counts: CallCounts = { perRotation: emptyPerRotation(), discovery: 0, invocations: 0, throttled: { dds: 0, kms: 0 } };
  for (const call of calls) {
    if (call.product === 'fc') {
      counts.invocations++;
      continue;
    }
    if (call.code !== undefined && THROTTLING.has(call.code)) {
      counts.throttled[call.product]++;
      continue;
    }
    if (call.action === 'DescribeDBInstances') {
      counts.discovery++;
      continue;
    }
    const instanceId = call.params.DBInstanceId ?? SECRET_NAME.exec(call.params.SecretName ?? '')?.[1];
    const tally = instanceId === undefined ? undefined : byInstance.get(instanceId);
    if (tally) tally[call.product]++;
  }
  for (const instance of fleet) {
    const tally = byInstance.get(instance.id)!;
    const row = counts.perRotation[instance.type];
    row.targets++;
    row.average.dds += tally.dds;
    row.average.kms += tally.kms;
    row.most = Math.max(row.most, tally.dds + tally.kms);
  }
  for (const row of Object.values(counts.perRotation)) {
    if (row.targets > 0) row.average = { dds: row.average.dds / row.targets, kms: row.average.kms / row.targets };
  }
  return counts;
}

function emptyPerRotation(): CallCounts['perRotation'] {
  const row = () => ({ targets: 0, average: { dds: 0, kms: 0 }, most: 0 });
  return { replicate: row(), sharding: row() };
}

export interface TargetResult {
  instanceId: string;
  outcome: string;
  durationMs: number;
}

/** The per-target results every run of the rotate function logged with its last line ("rotation finished…"). */
export function targetResults(records: InvocationRecord[]): TargetResult[] {
  return records.flatMap((record) => {
    const finished = record.logs
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; report?: { results?: TargetResult[] } })
      .find((entry) => entry.msg?.startsWith('rotation finished'));
    return finished?.report?.results ?? [];
  });
}

/** The `p`-th percentile (0..100), nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A process's peak resident set size (VmHWM) in bytes; undefined where /proc does not tell. */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Targets whose end state is not a completed rotation: ACSCurrent moved, nothing pending, every role on it. */
export function unfinishedTargets(cloud: LocalCloud, fleet: FleetInstance[]): string[] {
  return fleet
    .filter(({ id, secretName }) => {
      const secret = cloud.truth.secret(secretName);
      const current = secret?.versions.find((v) => v.stages.includes('ACSCurrent'));
      const held = Object.values(cloud.truth.rootPasswords(id));
      const password = cloud.truth.secretPassword(secretName);
      return current?.versionId === `v-${id}-1` || cloud.truth.secretPassword(secretName, 'ACSPending') !== undefined || held.some((p) => p !== password);
    })
    .map(({ id }) => id);
}
