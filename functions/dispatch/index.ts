/**
 * The fleet dispatcher, an FC 3.0 function of its own (runtime nodejs20, handler `index.handler`): parse
 * the trigger → find the targets as the rotate function would → hand each instance to the rotate function
 * as one asynchronous invocation (which rotates its root, then its application users). Each target then has FC's own retries and failure destination, and the
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
import { OWN_CODES } from '../shared/codes';
import { mapWithConcurrency } from '../shared/concurrency';
import { type Config, type Env, loadConfig } from '../shared/config';
import { RotationError } from '../shared/errors';
import { type FcContext, Frame, type FrameOptions } from '../shared/frame';
import type { Logger } from '../shared/logger';
import type { Deadline } from '../shared/retry';
import { type PlannedTarget, byInstance, resolveTargets } from '../shared/targets';
import { type Trigger, type TriggerSummary, parseTrigger, summarizeTrigger } from '../shared/trigger';
import { type DispatchConfig, loadDispatchConfig } from './config';

/** The part of FC's context the dispatcher reads. */
export type DispatchContext = FcContext;

export type DispatchOutcome = 'dispatched' | 'alreadyDispatched' | 'failed';

export interface DispatchReport {
  rotationId: string;
  trigger: TriggerSummary;
  dryRun: boolean;
  rotateFunction: string;
  summary: Record<DispatchOutcome, number>;
  failures: Array<{ instanceId: string; taskId: string; error: { code: string; message: string; requestId?: string } }>;
}

/** What the rotate function receives for one target (docs/design.md §4's manual payload). */
export interface TargetEvent {
  instanceIds: [string];
  rotationId: string;
  force: boolean;
  dryRun: boolean;
  reason?: string;
  ignoreCooldown?: true;
}

/** Some targets could not be handed over; FC retries the dispatcher, which skips those already queued. */
export class DispatchFailedError extends RotationError {
  override readonly name: string = 'DispatchFailedError';

  constructor(readonly report: DispatchReport) {
    const shown = report.failures.slice(0, 10).map((f) => `${f.instanceId} (${f.error.code})`);
    const more = report.failures.length > shown.length ? ` and ${report.failures.length - shown.length} more` : '';
    super(OWN_CODES.dispatchFailed, `dispatch ${report.rotationId} could not hand over ${report.failures.length} targets: ${shown.join(', ')}${more}`);
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

export type DispatchOptions = FrameOptions;

interface Settings extends Config {
  dispatch: DispatchConfig;
}

export function createDispatchFunction(options: DispatchOptions = {}) {
  const frame = new Frame<Settings>(options, (env: Env) => ({ ...loadConfig(env), dispatch: loadDispatchConfig(env) }), 'nothing was dispatched');

  return {
    async handler(event: unknown, context: DispatchContext): Promise<DispatchReport> {
      const { log: invocationLog, deadline, guard } = frame.invocation(context);
      const settings = await guard(() => frame.settings());
      const trigger = await guard(() => parseTrigger(event, context, settings));
      const log = invocationLog.child({ rotationId: trigger.rotationId });
      const { dispatch } = settings;
      const dryRun = settings.dryRun || trigger.request.dryRun;
      if (trigger.kind === 'event' && trigger.skip) {
        log.warn(trigger.skip, { trigger: summarizeTrigger(trigger) });
        return buildDispatchReport(trigger, dryRun, dispatch.rotateFunctionName, []);
      }
      const regionId = await guard(() => frame.regionOf(context));
      const fc = await guard(() => createFcClient(settings, regionId, context.accountId, context.credentials, rateLimiterFor(undefined)));
      const dds = createDdsClient(settings, regionId, context.credentials, rateLimiterFor(settings.apiRates.dds));
      const targets = await guard(() => resolveTargets(settings, trigger, dds, regionId, deadline, log));
      log.info('dispatch started', { trigger: summarizeTrigger(trigger), dryRun, targets: targets.length, rotateFunction: dispatch.rotateFunctionName });

      const handOver = (target: PlannedTarget) => dispatchTarget(target, { fc, trigger, dryRun, functionName: dispatch.rotateFunctionName, deadline, log });
      // An instance is handed over once: its invocation rotates its root, then its application users.
      const outcomes = await mapWithConcurrency(byInstance(targets).map((group) => group[0]), settings.maxConcurrency, handOver);
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
  if (target.ignoreCooldown) event.ignoreCooldown = true;
  const log = deps.log.child({ instanceId, taskId });
  try {
    const queued = await invokeAsync(deps.fc, { functionName: deps.functionName, event, taskId }, { deadline: deps.deadline, log });
    const outcome: DispatchOutcome = queued === 'queued' ? 'dispatched' : 'alreadyDispatched';
    log.info(outcome === 'dispatched' ? 'dispatched' : 'already dispatched', { outcome });
    return { instanceId, taskId, outcome };
  } catch (err) {
    const { code, message: raw, requestId } = toServiceError(err);
    const message = log.sanitize(raw);
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

const instance = createDispatchFunction();

export const handler = instance.handler;
