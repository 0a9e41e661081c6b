/**
 * The FC 3.0 function (runtime nodejs20, handler `index.handler`, initializer `index.initialize`):
 * parse the trigger → plan the targets → rotate each (up to MAX_CONCURRENCY at once) → report.
 */
import { type Clients, createClients } from '../shared/clients';
import { mapWithConcurrency } from '../shared/concurrency';
import { type Config, ConfigError, type Env, loadConfig } from '../shared/config';
import type { FcCredentials } from '../shared/credentials';
import { type LogSink, Logger } from '../shared/logger';
import { Deadline } from '../shared/retry';
import { resolveTargets } from './plan';
import { type EngineDeps, rotateTarget } from './engine';
import { type RotationReport, buildReport, failureOf, summarizeTrigger } from './report';
import { parseTrigger } from './trigger';

/** The part of FC's context object the function reads. */
export interface FcContext {
  requestId: string;
  credentials?: FcCredentials;
  function?: { name?: string; timeout?: number };
  region?: string;
}

export interface HandlerOptions {
  /** Default: process.env, read once per instance. */
  env?: Env;
  /** Default: process.stdout. */
  logSink?: LogSink;
  now?: () => number;
  delays?: EngineDeps['delays'];
}

/** Clients for one invocation, in its region. */
interface Connection {
  clients: Clients;
  regionId: string;
}

export interface RotationFunction {
  handler(event: unknown, context: FcContext): Promise<RotationReport>;
  initialize(context: FcContext): Promise<void>;
}

/**
 * A function instance: configuration validated once. Each invocation gets its own logger, so the
 * passwords it scrubs are forgotten when the invocation ends, and its own clients, whose rate limiters
 * learn from its calls only: a rate cut by one run's throttling must not slow the next run (with a short
 * timeout, past its deadline, so that a throttled run's retry could never resume it).
 */
export function createRotationFunction(options: HandlerOptions = {}): RotationFunction {
  const now = options.now ?? Date.now;
  const invocationLogger = (context: FcContext) => Logger.create({ sink: options.logSink, fields: { requestId: context.requestId } });
  let config: { value: Config } | { error: unknown } | undefined;

  const configuration = (): Config => {
    if (!config) {
      try {
        config = { value: loadConfig(options.env ?? process.env) };
      } catch (error) {
        config = { error };
      }
    }
    if ('error' in config) throw config.error;
    return config.value;
  };

  const connect = (context: FcContext): Connection => {
    const settings = configuration();
    const regionId = settings.regionId ?? context.region;
    if (!regionId) throw new ConfigError('ALIBABA_CLOUD_REGION_ID', 'is not set and the FC context has no region', 'cn-hangzhou');
    return { clients: createClients(settings, regionId, context.credentials), regionId };
  };

  const refuse = (log: Logger, err: unknown): never => {
    const { code = 'InvalidInvocation', message = String(err) } = err as { code?: string; message?: string };
    log.error('invocation refused; nothing was changed', { error: { code, message } });
    throw err;
  };

  /** Everything that can refuse the invocation, before any write (discovering tagged instances reads). */
  const prepare = async (event: unknown, context: FcContext, deadline: Deadline, log: Logger) => {
    try {
      const settings = configuration();
      const trigger = parseTrigger(event, context, settings);
      const { clients, regionId } = connect(context);
      return { settings, trigger, clients, targets: await resolveTargets(settings, trigger, clients.dds, regionId, deadline, log) };
    } catch (err) {
      return refuse(log, err);
    }
  };

  return {
    async initialize(context) {
      const log = invocationLogger(context);
      try {
        connect(context);
      } catch (err) {
        refuse(log, err);
      }
      log.info('initialized', { targets: configuration().targets.length });
    },

    async handler(event, context) {
      const started = now();
      const deadline = Deadline.forInvocation(context.function?.timeout, started, now);
      const invocationLog = invocationLogger(context);
      const { settings, trigger, targets, clients } = await prepare(event, context, deadline, invocationLog);
      const log = invocationLog.child({ rotationId: trigger.rotationId });
      if (trigger.warning) log.warn(trigger.warning);
      const dryRun = settings.dryRun || trigger.request.dryRun;
      log.info('rotation started', { trigger: summarizeTrigger(trigger), dryRun, targets: targets.length });

      const deps: EngineDeps = {
        clients,
        deadline,
        logger: log,
        passwordLength: settings.passwordLength,
        rotationIntervalDays: settings.rotationIntervalDays,
        createMissingSecrets: settings.createMissingSecrets,
        dryRun,
        verifyLogin: settings.verifyLogin,
        now,
        delays: options.delays,
      };
      const results = await mapWithConcurrency(targets, settings.maxConcurrency, (target) => rotateTarget(target, deps));
      const report = buildReport(trigger, dryRun, results);
      const failure = failureOf(report);
      const fields = { summary: report.summary, durationMs: now() - started, apiRates: clients.rates(), report };
      if (failure) {
        log.error('rotation finished with failures', { ...fields, error: { code: failure.code, message: failure.message } });
        throw failure;
      }
      log.info('rotation finished', fields);
      return report;
    },
  };
}

const instance = createRotationFunction();

export const handler = instance.handler;
export const initialize = instance.initialize;
