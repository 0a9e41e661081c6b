/** What `npm run bench:app` prints: the rotations, the requests, latency per phase, and last `failed requests: N`. */
import type { BenchAppOptions } from './options';
import type { Rotation } from './rotator';
import type { Figures, PhaseFigures } from './stats';

export interface BenchAppReport {
  strategy: BenchAppOptions['strategy'];
  instanceType: BenchAppOptions['instanceType'];
  instanceId: string;
  clients: number;
  intervalMs: number;
  thinkMs: number;
  /** A client re-reads ACSCurrent once its login is this old; null: only on start and after a refused login. */
  refreshMs: number | null;
  /** Requests per login: every request logs in on a connection of its own. */
  loginsPerRequest: 1;
  rotations: { asked: number; done: number; verified: number; list: (Omit<Rotation, 'start' | 'end'> & { durationMs: number; failedRequests: number })[] };
  requests: Omit<Figures, 'phases' | 'failedPerRotation' | 'longestFailureRun'> & { secretReads: number; refreshFailures: number };
  latency: { outside: PhaseFigures; during: PhaseFigures };
  longestFailureRun: { client: number; requests: number; ms: number } | null;
  invariantViolations: number;
  durationMs: number;
  failedRequests: number;
}

export function buildReport(
  options: BenchAppOptions,
  run: { instanceId: string; rotations: Rotation[]; figures: Figures; secretReads: number; refreshFailures: number; violations: number; durationMs: number },
): BenchAppReport {
  const { figures } = run;
  const { phases, failedPerRotation, longestFailureRun, ...requests } = figures;
  return {
    strategy: options.strategy,
    instanceType: options.instanceType,
    instanceId: run.instanceId,
    clients: options.clients,
    intervalMs: options.intervalMs,
    thinkMs: options.thinkMs,
    refreshMs: options.refreshMs ?? null,
    loginsPerRequest: 1,
    rotations: {
      asked: options.rotations,
      done: run.rotations.filter((r) => r.outcome === 'rotated').length,
      verified: run.rotations.filter((r) => r.verified).length,
      list: run.rotations.map(({ start, end, ...rotation }, i) => ({ ...rotation, durationMs: Math.round(end - start), failedRequests: failedPerRotation[i] ?? 0 })),
    },
    requests: { ...requests, secretReads: run.secretReads, refreshFailures: run.refreshFailures },
    latency: phases,
    longestFailureRun: longestFailureRun ? { client: longestFailureRun.client, requests: longestFailureRun.requests, ms: Math.round(longestFailureRun.ms) } : null,
    invariantViolations: run.violations,
    durationMs: Math.round(run.durationMs),
    failedRequests: figures.failed,
  };
}

export function printText(report: BenchAppReport): string {
  const type = report.instanceType === 'sharding' ? 'sharded cluster' : 'replica set';
  const lines = [
    `bench:app: strategy ${report.strategy}, ${type} ${report.instanceId}, ${report.clients} client${report.clients === 1 ? '' : 's'} ` +
      `(a login per request, ${report.thinkMs} ms between requests, ACSCurrent re-read ${report.refreshMs === null ? 'after a refused login, then the request retried once' : `every ${report.refreshMs} ms, and after a refused login, then the request retried once`}), ${report.rotations.asked} rotation${report.rotations.asked === 1 ? '' : 's'} ${report.intervalMs} ms apart`,
    ...report.rotations.list.map(
      (r) =>
        `rotation ${r.index}: ${r.outcome} in ${r.durationMs} ms, ` +
        (r.verified ? `verified (the database's password for ${r.accountName} equals KMS ACSCurrent ${r.versionId})` : `NOT verified: ${r.problem ?? 'unknown'}`) +
        `; ${r.failedRequests} failed request${r.failedRequests === 1 ? '' : 's'} from its start to the next`,
    ),
    `rotations: ${report.rotations.done} of ${report.rotations.asked} done, ${report.rotations.verified} verified`,
    `requests: ${report.requests.requests} (${report.latency.outside.requests} outside rotations, ${report.latency.during.requests} during), ` +
      `${report.requests.succeeded} succeeded; ACSCurrent read ${report.requests.secretReads} times` +
      (report.requests.refreshFailures > 0 ? ` (${report.requests.refreshFailures} periodic re-reads failed; the clients kept their login)` : ''),
    `recovered: ${report.requests.recovered} request${report.requests.recovered === 1 ? '' : 's'} refused once, then served after reading ACSCurrent again`,
    `failed: ${report.requests.authFailed} authentication failure${report.requests.authFailed === 1 ? '' : 's'}, ${report.requests.otherFailed} other` +
      (report.requests.otherReasons.length > 0 ? ` (${report.requests.otherReasons.map((r) => `${r.reason}: ${r.count}`).join(', ')})` : ''),
    report.longestFailureRun
      ? `longest run of failures: ${report.longestFailureRun.requests} request${report.longestFailureRun.requests === 1 ? '' : 's'} over ${report.longestFailureRun.ms} ms (client ${report.longestFailureRun.client}, until its next successful request)`
      : 'longest run of failures: none',
    `invariant violations: ${report.invariantViolations}`,
    `run: ${(report.durationMs / 1000).toFixed(1)} s`,
    phaseLine('outside rotations', report.latency.outside),
    phaseLine('during rotations', report.latency.during),
    `failed requests: ${report.failedRequests}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** One line with the whole report, then the same last line as the text. */
export function printJson(report: BenchAppReport): string {
  return `${JSON.stringify(report)}\nfailed requests: ${report.failedRequests}\n`;
}

function phaseLine(name: string, phase: PhaseFigures): string {
  const successful = phase.requests - phase.failed;
  if (phase.p50Ms === null || phase.p99Ms === null) return `latency ${name}: p50 none, p99 none (no successful request)`;
  return `latency ${name}: p50 ${ms(phase.p50Ms)}, p99 ${ms(phase.p99Ms)} (${successful} successful request${successful === 1 ? '' : 's'})`;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}
