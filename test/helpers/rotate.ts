/**
 * Running the rotation function in-process against a local cloud: the handler's environment points DDS and
 * KMS at the cloud, its context carries the cloud's access key as FC's role credentials, and its log lines
 * are captured. Also the secrecy scan every suite runs over what it captured.
 */
import { randomUUID } from 'node:crypto';
import type { LocalCloud } from '../../local-cloud';
import type { Env } from '../../functions/shared/config';
import type { LogSink } from '../../functions/shared/logger';
import { type FcContext, type HandlerOptions, createRotationFunction } from '../../functions/rotate';
import type { RotationReport } from '../../functions/rotate/report';
import { defaultKey } from './sdk';

export type RotationCloud = Pick<LocalCloud, 'endpoint' | 'region' | 'accessKeys' | 'host'>;

/** A log sink that keeps every line. */
export class LogCapture implements LogSink {
  readonly lines: string[] = [];

  write(text: string): void {
    this.lines.push(...text.split('\n').filter((line) => line !== ''));
  }

  /** Every line parsed; a line that is not one JSON object fails the test that reads it. */
  entries(): Array<Record<string, unknown>> {
    return this.lines.map((line) => {
      const entry: unknown = JSON.parse(line);
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`log line is not a JSON object: ${line}`);
      return entry as Record<string, unknown>;
    });
  }

  find(predicate: (entry: Record<string, unknown>) => boolean): Array<Record<string, unknown>> {
    return this.entries().filter(predicate);
  }
}

/**
 * The function's environment for a cloud: its endpoints and region, plus `overrides` (undefined unsets).
 * The suites force the same instances again and again, so forced rotations have no cooldown here unless a
 * test sets one (the cooldown's own suite: test/rotate/cooldown-kms-instances.test.ts).
 */
export function rotationEnv(cloud: RotationCloud, targets: Array<{ instanceId: string; secretName?: string }>, overrides: Env = {}): Env {
  const env: Record<string, string | undefined> = {
    ROTATION_TARGETS: JSON.stringify(targets),
    DDS_ENDPOINT: cloud.endpoint,
    KMS_ENDPOINT: cloud.endpoint,
    ALIBABA_CLOUD_REGION_ID: cloud.region,
    FORCED_ROTATION_COOLDOWN_MINUTES: '0',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}

/** An FC context whose role credentials are the cloud's first plain access key. */
export function fcContext(cloud: RotationCloud, overrides: Partial<FcContext> = {}): FcContext {
  const key = defaultKey(cloud);
  return {
    requestId: randomUUID(),
    credentials: { accessKeyId: key.id, accessKeySecret: key.secret, securityToken: key.securityToken },
    function: { name: 'mongodb-root-rotation', timeout: 60 },
    region: cloud.region,
    ...overrides,
  };
}

/** Backoffs short enough for tests; the logic is the production one. */
export const FAST_DELAYS = { retryBaseMs: 20, retryMaxMs: 200, settleFirstMs: 20, settleMaxMs: 100, ownWriteWaitMs: 1_000 };

export interface RotationRun {
  report?: RotationReport;
  /** The handler's rejection, if it rejected. */
  error?: Error & { code?: string; report?: RotationReport };
  logs: LogCapture;
}

export interface RunOptions {
  env: Env;
  event?: unknown;
  context?: Partial<FcContext>;
  options?: Omit<HandlerOptions, 'env' | 'logSink'>;
  /** Log lines go here too, e.g. to collect them across runs. */
  logs?: LogCapture;
}

/** One invocation of a fresh function instance (initializer, then handler), as FC runs it. */
export async function runRotation(cloud: RotationCloud, run: RunOptions): Promise<RotationRun> {
  const logs = run.logs ?? new LogCapture();
  const fn = createRotationFunction({ delays: FAST_DELAYS, ...run.options, env: run.env, logSink: logs });
  const context = fcContext(cloud, run.context);
  try {
    await fn.initialize(context);
    return { report: await fn.handler(run.event ?? {}, context), logs };
  } catch (err) {
    const error = err as RotationRun['error'];
    return { error, report: error?.report, logs };
  }
}

/**
 * The texts in which any password appears, plain or JSON-escaped (what a log line would hold). A scan with no
 * password to look for, or no text to look in, proves nothing: it throws.
 */
export function findLeaks(texts: Iterable<string>, passwords: Iterable<string>): string[] {
  const scanned = [...texts].filter((text) => text !== '');
  const needles = [...passwords].filter((p) => p !== '').flatMap((p) => [p, JSON.stringify(p).slice(1, -1)]);
  if (needles.length === 0) throw new Error('the leak scan has no password to look for');
  if (scanned.length === 0) throw new Error('the leak scan has no text to look in');
  return scanned.filter((text) => needles.some((needle) => text.includes(needle)));
}

/** Every text a run produced: log lines, the error's message and stack, the report. */
export function runTexts(run: RotationRun): string[] {
  const texts = [...run.logs.lines];
  if (run.error) texts.push(String(run.error.message), String(run.error.stack ?? ''));
  if (run.report) texts.push(JSON.stringify(run.report));
  return texts;
}
