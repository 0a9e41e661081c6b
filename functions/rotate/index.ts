/**
 * The FC 3.0 function (runtime nodejs20, handler `index.handler`, initializer `index.initialize`):
 * parse the trigger → plan the targets → rotate each (up to MAX_CONCURRENCY instances at once; an instance's
 * root, then its application users) → report.
 */
import { createClients } from '../shared/clients';
import { mapWithConcurrency } from '../shared/concurrency';
import { type Config, loadConfig } from '../shared/config';
import { type FcContext, Frame, type FrameOptions } from '../shared/frame';
import { byInstance, resolveTargets } from '../shared/targets';
import { type Trigger, parseTrigger, summarizeTrigger } from '../shared/trigger';
import { type EngineDeps, rotateTarget } from './engine';
import { type RotationReport, buildReport, failureOf } from './report';

export type { FcContext };

export interface HandlerOptions extends FrameOptions {
  delays?: EngineDeps['delays'];
}

export interface RotationFunction {
  handler(event: unknown, context: FcContext): Promise<RotationReport>;
  initialize(context: FcContext): Promise<void>;
}

/**
 * A function instance: configuration validated once. Each invocation gets its own logger and its own
 * clients, whose rate limiters learn from its calls only: a rate cut by one run's throttling must not slow
 * the next run (with a short timeout, past its deadline, so that a throttled run's retry could never resume it).
 */
export function createRotationFunction(options: HandlerOptions = {}): RotationFunction {
  const frame = new Frame<Config>(options, loadConfig);

  return {
    async initialize(context) {
      const { log, guard } = frame.invocation(context);
      await guard(() => frame.regionOf(context));
      log.info('initialized', { targets: frame.settings().targets.length });
    },

    async handler(event, context) {
      const { log: invocationLog, deadline, started, guard } = frame.invocation(context);
      // Everything that can refuse the invocation, before any write (discovering tagged instances reads).
      const settings = await guard(() => frame.settings());
      const trigger = await guard(() => parseTrigger(event, context, settings));
      const log = invocationLog.child({ rotationId: trigger.rotationId });
      const dryRun = settings.dryRun || trigger.request.dryRun;
      if (trigger.kind === 'event' && trigger.skip) {
        log.warn(trigger.skip, { trigger: summarizeTrigger(trigger) });
        return buildReport(trigger, dryRun, []);
      }
      warnAbout(trigger, log);
      const regionId = await guard(() => frame.regionOf(context));
      const clients = createClients(settings, regionId, context.credentials);
      const targets = await guard(() => resolveTargets(settings, trigger, clients.dds, regionId, deadline, log));
      log.info('rotation started', { trigger: summarizeTrigger(trigger), dryRun, targets: targets.length });

      const deps: EngineDeps = {
        clients,
        deadline,
        logger: log,
        passwordLength: settings.passwordLength,
        rotationIntervalDays: settings.rotationIntervalDays,
        forcedCooldownMinutes: settings.forcedRotationCooldownMinutes,
        createMissingSecrets: settings.createMissingSecrets,
        kmsInstanceId: settings.kmsInstanceId,
        dryRun,
        verifyLogin: settings.verifyLogin,
        now: frame.now,
        delays: options.delays,
      };
      // Instances in parallel; within one, root first, then its application users, who log in as root.
      const groups = await mapWithConcurrency(byInstance(targets), settings.maxConcurrency, async (group) => {
        const done = [];
        for (const target of group) done.push(await rotateTarget(target, deps));
        return done;
      });
      const results = groups.flat();
      const report = buildReport(trigger, dryRun, results);
      const failure = failureOf(report);
      const fields = { summary: report.summary, durationMs: frame.now() - started, apiRates: clients.rates(), report };
      if (failure) {
        log.error('rotation finished with failures', { ...fields, error: { code: failure.code, message: failure.message } });
        throw failure;
      }
      log.info('rotation finished', fields);
      return report;
    },
  };
}

/** What the trigger asks that an operator must see in the log. */
function warnAbout(trigger: Trigger, log: EngineDeps['logger']): void {
  if (trigger.warning) log.warn(trigger.warning);
  if (trigger.request.ignoreCooldown) {
    log.warn('the forced-rotation cooldown is ignored on request', { reason: trigger.request.reason, instanceIds: trigger.request.instanceIds });
  }
}

const instance = createRotationFunction();

export const handler = instance.handler;
export const initialize = instance.initialize;
