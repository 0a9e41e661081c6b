/**
 * The figures of a bench run, from the requests the clients made and the rotations' windows: latency per
 * phase, failures by kind and by rotation, and the longest run of failures one client went through.
 */
import { percentile } from '../bench/measure';
import type { RequestSample } from './client';

export interface Window {
  start: number;
  end: number;
}

export interface PhaseFigures {
  /** Requests in the phase, failed ones included. */
  requests: number;
  failed: number;
  /** Latency of the phase's successful requests, in ms; null when there is none. */
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface FailureRun {
  client: number;
  /** Failed requests in a row. */
  requests: number;
  /** From the first failed request's start to the start of the client's next successful request (or the last failure's end). */
  ms: number;
  /** When it began, on the bench's clock. */
  start: number;
}

export interface Figures {
  requests: number;
  succeeded: number;
  failed: number;
  authFailed: number;
  otherFailed: number;
  /** Requests whose first login was refused and that succeeded once retried with ACSCurrent read again. */
  recovered: number;
  /** The reasons of the failures that were not authentication failures, with their counts, most first. */
  otherReasons: { reason: string; count: number }[];
  /** during: requests that overlap a rotation's invocation; outside: the others. */
  phases: { outside: PhaseFigures; during: PhaseFigures };
  /** Failed requests per rotation: those that ended after it started and before the next one started. */
  failedPerRotation: number[];
  /** Failed requests before the first rotation started. */
  failedBeforeRotations: number;
  longestFailureRun?: FailureRun;
}

export function summarize(samples: readonly RequestSample[], rotations: readonly Window[]): Figures {
  const failures = samples.filter((s) => !s.ok);
  const auth = failures.filter((s) => s.failure === 'auth').length;
  const overlaps = (s: RequestSample) => rotations.some((w) => s.start <= w.end && s.end >= w.start);
  const failedPerRotation = rotations.map(() => 0);
  let failedBeforeRotations = 0;
  for (const failure of failures) {
    const last = lastIndexWhere(rotations, (w) => w.start <= failure.end);
    if (last < 0) failedBeforeRotations++;
    else failedPerRotation[last]++;
  }
  return {
    requests: samples.length,
    succeeded: samples.length - failures.length,
    failed: failures.length,
    authFailed: auth,
    otherFailed: failures.length - auth,
    recovered: samples.filter((s) => s.ok && s.retried).length,
    otherReasons: countReasons(failures.filter((s) => s.failure !== 'auth')),
    phases: { outside: phase(samples.filter((s) => !overlaps(s))), during: phase(samples.filter(overlaps)) },
    failedPerRotation,
    failedBeforeRotations,
    longestFailureRun: longestFailureRun(samples),
  };
}

function phase(samples: RequestSample[]): PhaseFigures {
  const latencies = samples.filter((s) => s.ok).map((s) => s.end - s.start);
  const tenth = (ms: number) => (latencies.length === 0 ? null : Math.round(ms * 10) / 10);
  return { requests: samples.length, failed: samples.filter((s) => !s.ok).length, p50Ms: tenth(percentile(latencies, 50)), p99Ms: tenth(percentile(latencies, 99)) };
}

/** Per client, in the order it made them: the longest stretch of failed requests, by time. */
export function longestFailureRun(samples: readonly RequestSample[]): FailureRun | undefined {
  const byClient = new Map<number, RequestSample[]>();
  for (const sample of samples) byClient.set(sample.client, [...(byClient.get(sample.client) ?? []), sample]);
  let longest: FailureRun | undefined;
  for (const [client, own] of byClient) {
    own.sort((a, b) => a.start - b.start);
    let first: RequestSample | undefined;
    let count = 0;
    let lastEnd = 0;
    const close = (until: number) => {
      if (first === undefined) return;
      const run = { client, requests: count, ms: until - first.start, start: first.start };
      if (!longest || run.ms > longest.ms || (run.ms === longest.ms && run.requests > longest.requests)) longest = run;
      first = undefined;
      count = 0;
    };
    for (const sample of own) {
      if (sample.ok) {
        close(sample.start);
        continue;
      }
      first ??= sample;
      count++;
      lastEnd = sample.end;
    }
    close(lastEnd);
  }
  return longest;
}

function countReasons(failures: RequestSample[]): { reason: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const failure of failures) counts.set(failure.reason ?? 'unknown', (counts.get(failure.reason ?? 'unknown') ?? 0) + 1);
  return [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
}

function lastIndexWhere<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i])) return i;
  return -1;
}
