/** What a chaos run reads back from the local cloud: the function's calls, each timer run's attempts, and where every instance ended. */
import type { LocalCloud } from '../../local-cloud';
import type { AsyncOutcome, InvocationRecord } from '../../local-cloud/fc/types';
import type { RotationReport } from '../../functions/rotate/report';
import type { FleetInstance } from '../bench/fleet';
import { reportOf } from '../faults/rig';

type RequestRecord = LocalCloud['truth']['requests'][number];

/** One attempt of a timer run (FC retries a failed async run with the same event). */
export interface Attempt {
  attempt: number;
  status: InvocationRecord['status'];
  durationMs: number;
  report?: RotationReport;
  /** FC's error for a run that left no report (a timeout, a crash). */
  error?: string;
}

export interface TimerRun {
  run: number;
  triggerTime: string;
  outcome: AsyncOutcome['status'];
  attempts: Attempt[];
  /** Instances rotated once this run (and every call it left held) was over. */
  rotated: number;
}

export function attemptsOf(cloud: LocalCloud, outcome: AsyncOutcome): Attempt[] {
  return cloud.fc.invocations
    .filter((record) => record.requestId === outcome.requestId)
    .map((record) => ({
      attempt: record.attempt,
      status: record.status,
      durationMs: record.durationMs,
      report: reportOf(record),
      error: record.error?.errorMessage,
    }));
}

/** Where an instance ended: rotated (ACSCurrent moved to a new version that every role holds, nothing pending), or why not. */
export interface InstanceEnd {
  instanceId: string;
  rotated: boolean;
  /** Roles whose password is not ACSCurrent's. */
  apart: string[];
  pending: boolean;
  versionsAdded: number;
}

export function instanceEnds(cloud: LocalCloud, fleet: FleetInstance[]): InstanceEnd[] {
  return fleet.map(({ id, secretName }) => {
    const secret = cloud.truth.secret(secretName);
    const versions = secret?.versions ?? [];
    const current = versions.find((v) => v.stages.includes('ACSCurrent'));
    const password = cloud.truth.secretPassword(secretName);
    const apart = Object.entries(cloud.truth.rootPasswords(id))
      .filter(([, held]) => held !== password)
      .map(([role]) => role);
    const pending = versions.some((v) => v.stages.includes('ACSPending'));
    const moved = current !== undefined && current.versionId !== initialVersionId(id);
    return { instanceId: id, rotated: moved && !pending && apart.length === 0, apart, pending, versionsAdded: versions.length - 1 };
  });
}

/** The fleet generator's first version of an instance's secret (scripts/bench/fleet.ts). */
const initialVersionId = (instanceId: string) => `v-${instanceId}-1`;

/** The function's DDS and KMS calls: those signed with its role's key. */
export function functionCalls(cloud: LocalCloud, roleKeyId: string): RequestRecord[] {
  return cloud.truth.requests.filter((r) => r.accessKeyId === roleKeyId && r.product !== 'fc');
}

/** Calls the service did not answer with success, by action and code (a dropped connection has no code). */
export function failedCalls(calls: RequestRecord[]): Map<string, Map<string, number>> {
  const failed = new Map<string, Map<string, number>>();
  for (const call of calls) {
    if (call.status === 200) continue;
    const code = call.code ?? (call.status === 0 ? 'connection dropped' : `HTTP ${call.status}`);
    const byCode = failed.get(call.action) ?? new Map<string, number>();
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    failed.set(call.action, byCode);
  }
  return failed;
}
