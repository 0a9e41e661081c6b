/**
 * The fleet dispatcher, an FC 3.0 function of its own (runtime nodejs20, handler `index.handler`): parse
 * the trigger → find the targets as the rotate function would → hand each target to the rotate function
 * as one asynchronous invocation. Each target then has FC's own retries and failure destination, and the
 * fleet is rotated by as many rotate instances as its reserved concurrency allows.
 *
 * A target's invocation carries the single-target manual event `{instanceIds:[id], rotationId, force,
 * dryRun, reason}`, so the rotate function derives the same VersionId however often it runs it, and an
 * async task id derived from the rotation id and the instance: dispatching the same rotation again (a
 * retried dispatcher) queues nothing twice, as FC refuses a task id it has seen (409).
 */
import { createHash } from 'node:crypto';
import { createDdsClient, rateLimiterFor } from '../shared/clients';
import { toServiceError } from '../shared/clients/errors';
import { createFcClient, type FcClient, invokeAsync } from '../shared/clients/fc';
import { mapWithConcurrency } from '../shared/concurrency';
import { type Config, ConfigError, type Env, loadConfig } from '../shared/config';
import type { FcCredentials } from '../shared/credentials';
import { type LogSink, Logger } from '../shared/logger';
import { Deadline } from '../shared/retry';
import { type PlannedTarget, resolveTargets } from '../rotate/plan';
import { type TriggerSummary, summarizeTrigger } from '../rotate/report';
import { type Trigger, parseTrigger } from '../rotate/trigger';
import { type DispatchConfig, loadDispatchConfig } from './config';

/** The part of FC's context the dispatcher reads. */
export interface DispatchContext {
  requestId: string;
  credentials?: FcCredentials;
  function?: { timeout?: number };
  region?: string;
  /** Names the default FC endpoint, `<accountId>.<region>.fc.aliyuncs.com`. */
  accountId?: string;
}

export type DispatchOutcome = 'dispatched' | 'alreadyDispatched' | 'failed';

export interface DispatchReport {
  rotationId: string;
  trigger: TriggerSummary;
  dryRun: boolean;
  rotateFunction: string;
  summary: Record<DispatchOutcome, number>;
  failures: Array<{ instanceId: string; taskId: string; error: { code: string; message: string; requestId?: string } }>;
}

/** What the rotate function receives for one target (design §4's manual payload). */
export interface TargetEvent {
  instanceIds: [string];
  rotationId: string;
  force: boolean;
  dryRun: boolean;
  reason?: string;
}

/** Some targets could not be handed over; FC retries the dispatcher, which skips those already queued. */
export class DispatchFailedError extends Error {
  readonly code = 'DispatchFailed';

  constructor(readonly report: DispatchReport) {
    const shown = report.failures.slice(0, 10).map((f) => `${f.instanceId} (${f.error.code})`);
    const more = report.failures.length > shown.length ? ` and ${report.failures.length - shown.length} more` : '';
    super(`dispatch ${report.rotationId} could not hand over ${report.failures.length} targets: ${shown.join(', ')}${more}`);
    this.name = 'DispatchFailedError';
  }
}

/**
 * `rot-` + 24 hex digits of SHA-256 over the rotation id and the instance (and whether it is a dry run):
 * within FC's task id rule (a letter first; letters, digits, `_`, `-`; at most 128).
 */
export function asyncTaskIdFor(rotationId: string, instanceId: string, dryRun: boolean): string {
  const identity = `${rotationId}\n${instanceId}${dryRun ? '\ndry-run' : ''}`;
  return `rot-${createHash('sha256').update(identity, 'utf8').digest('hex').slice(0, 24)}`;
}

export interface DispatchOptions {
  /** Default: process.env. */
  env?: Env;
  /** Default: process.stdout. */
  logSink?: LogSink;
}

interface Settings {
  config: Config;
  dispatch: DispatchConfig;
}

export function createDispatchFunction(options: DispatchOptions = {}) {
  let settings: Settings | undefined;
  const configuration = (): Settings => (settings ??= { config: loadConfig(options.env ?? process.env), dispatch: loadDispatchConfig(options.env ?? process.env) });

  return {
    async handler(event: unknown, context: DispatchContext): Promise<DispatchReport> {
      const deadline = Deadline.forInvocation(context.function?.timeout, Date.now());
      const invocationLog = Logger.create({ sink: options.logSink, fields: { requestId: context.requestId } });
      const { config, dispatch } = refuseOnError(invocationLog, configuration);
      const trigger = refuseOnError(invocationLog, () => parseTrigger(event, context, config));
      const log = invocationLog.child({ rotationId: trigger.rotationId });
      const regionId = config.regionId ?? context.region;
      if (!regionId) return refuse(log, new ConfigError('ALIBABA_CLOUD_REGION_ID', 'is not set and the FC context has no region', 'cn-hangzhou'));
      const fc = refuseOnError(log, () => createFcClient(config, regionId, context.accountId, context.credentials, rateLimiterFor(undefined)));
      const dds = createDdsClient(config, regionId, context.credentials, rateLimiterFor(config.apiRates.dds));
      const targets = await resolveTargets(config, trigger, dds, regionId, deadline, log).catch((err: unknown) => refuse(log, err));
      const dryRun = config.dryRun || trigger.request.dryRun;
      log.info('dispatch started', { trigger: summarizeTrigger(trigger), dryRun, targets: targets.length, rotateFunction: dispatch.rotateFunctionName });

      const handOver = (target: PlannedTarget) => dispatchTarget(target, { fc, trigger, dryRun, functionName: dispatch.rotateFunctionName, deadline, log });
      const outcomes = await mapWithConcurrency(targets, config.maxConcurrency, handOver);
      const report = buildDispatchReport(trigger, dryRun, dispatch.rotateFunctionName, outcomes);
      if (report.failures.length > 0) {
        const failure = new DispatchFailedError(report);
        log.error('dispatch finished with failures', { summary: report.summary, error: { code: failure.code, message: failure.message } });
        throw failure;
      }
      log.info('dispatch finished', { summary: report.summary });
      return report;
    },
  };
}

interface DispatchDeps {
  fc: FcClient;
  trigger: Trigger;
  dryRun: boolean;
  functionName: string;
  deadline: Deadline;
  log: Logger;
}

type TargetOutcome = { instanceId: string; taskId: string; outcome: DispatchOutcome; error?: DispatchReport['failures'][number]['error'] };

async function dispatchTarget(target: PlannedTarget, deps: DispatchDeps): Promise<TargetOutcome> {
  const { request, rotationId } = deps.trigger;
  const { instanceId } = target;
  const taskId = asyncTaskIdFor(rotationId, instanceId, deps.dryRun);
  const event: TargetEvent = { instanceIds: [instanceId], rotationId, force: target.force, dryRun: deps.dryRun };
  if (request.reason !== undefined) event.reason = request.reason;
  const log = deps.log.child({ instanceId, taskId });
  try {
    const queued = await invokeAsync(deps.fc, { functionName: deps.functionName, event, taskId }, {
      deadline: deps.deadline,
      onRetry: (error, retry, delayMs) => log.warn('retrying InvokeFunction', { retry, delayMs, error: { code: error.code, requestId: error.requestId } }),
    });
    const outcome: DispatchOutcome = queued === 'queued' ? 'dispatched' : 'alreadyDispatched';
    log.info(outcome === 'dispatched' ? 'dispatched' : 'already dispatched', { outcome });
    return { instanceId, taskId, outcome };
  } catch (err) {
    const { code, message, requestId } = toServiceError(err);
    log.error('dispatch failed', { outcome: 'failed', error: { code, message, requestId } });
    return { instanceId, taskId, outcome: 'failed', error: { code, message, requestId } };
  }
}

function buildDispatchReport(trigger: Trigger, dryRun: boolean, rotateFunction: string, outcomes: TargetOutcome[]): DispatchReport {
  const summary: Record<DispatchOutcome, number> = { dispatched: 0, alreadyDispatched: 0, failed: 0 };
  for (const { outcome } of outcomes) summary[outcome]++;
  const failures = outcomes.flatMap(({ instanceId, taskId, error }) => (error ? [{ instanceId, taskId, error }] : []));
  return { rotationId: trigger.rotationId, trigger: summarizeTrigger(trigger), dryRun, rotateFunction, summary, failures };
}

/** A configuration or an event the dispatcher cannot act on: logged, then the invocation is rejected. */
function refuse(log: Logger, err: unknown): never {
  const { code = 'InvalidInvocation', message = String(err) } = err as { code?: string; message?: string };
  log.error('invocation refused; nothing was dispatched', { error: { code, message } });
  throw err;
}

function refuseOnError<T>(log: Logger, work: () => T): T {
  try {
    return work();
  } catch (err) {
    return refuse(log, err);
  }
}

const instance = createDispatchFunction();

export const handler = instance.handler;
