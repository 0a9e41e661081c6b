import type { Params, Product } from '../http/api-error';
import { ApiError } from '../http/api-error';
import { TimerSet } from './timers';
import { TokenBucket } from './token-bucket';

/** Which requests a fault applies to; every given field must hold. */
export interface Match {
  product?: Product;
  action?: string;
  when?: (params: Params) => boolean;
}

export interface FaultHandle {
  remove(): void;
  /** How many times the fault has fired. */
  readonly hits: number;
}

/** A request past authentication, as faults and hooks see it. */
export interface ArrivingRequest {
  requestId: string;
  product: Product;
  action: string;
  params: Params;
  accessKeyId: string;
}

export type ActionHook = (req: ArrivingRequest) => unknown;
export type HookPhase = 'before' | 'after';

export interface LatencyFault extends Match {
  ms: number;
}
export interface ErrorFault extends Match {
  code: string;
  httpStatus?: number;
  message?: string;
  /** How many requests fail; 1 unless `rate` is given (then unlimited). */
  times?: number;
  /** The chance, 0..1, that a matching request fails. */
  rate?: number;
}
export interface ThrottleFault {
  product: 'dds' | 'kms';
  qps: number;
}
export interface DropFault extends Match {
  /** How many requests are dropped; 1 by default (Infinity: all of them). */
  times?: number;
  /** Apply the action first, then drop: the write happens, the answer is lost. */
  after?: boolean;
}
export interface HangFault extends Match {
  ms: number;
  /** How many requests are held; 1 by default (Infinity: all of them). */
  times?: number;
  /** Apply the action first, then hold the answer; by default the request is held before it is applied. */
  after?: boolean;
}

/** What the faults decided for one request when it arrived. */
export interface FaultPlan {
  delayMs: number;
  hold?: { ms: number; after: boolean };
  rejection?: ApiError;
  drop?: 'before' | 'after';
}

/** The state an instance-status fault works on. */
export interface InstanceStatusStore {
  instanceStatus(instanceId: string): string;
  setInstanceStatus(instanceId: string, status: string): void;
}

type Rule =
  | { kind: 'latency'; spec: LatencyFault; hits: number }
  | { kind: 'error'; spec: ErrorFault; hits: number; left: number }
  | { kind: 'throttle'; spec: ThrottleFault; hits: number; bucket: TokenBucket }
  | { kind: 'drop'; spec: DropFault; hits: number; left: number }
  | { kind: 'hang'; spec: HangFault; hits: number; left: number }
  | { kind: 'hook'; spec: Match & { phase: HookPhase }; hits: number; hook: ActionHook }
  | { kind: 'status'; hits: number; restore: () => void };

const THROTTLING: Record<ThrottleFault['product'], () => ApiError> = {
  dds: () => new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400),
  kms: () => new ApiError('Rejected.Throttling', 'The QPS upper limit is exceeded.', 429),
};

/**
 * Faults on demand: tests (and the command's fixture) add them, the gateway asks `plan()` what
 * to do with each request and awaits `runHooks()` around the action. Every method returns a
 * handle to remove the fault and read how often it fired.
 */
export class FaultControls {
  private rules: Rule[] = [];
  private readonly timers = new TimerSet();

  constructor(private readonly instances: InstanceStatusStore) {}

  latency(spec: LatencyFault): FaultHandle {
    return this.add({ kind: 'latency', spec, hits: 0 });
  }

  error(spec: ErrorFault): FaultHandle {
    const left = spec.times ?? (spec.rate === undefined ? 1 : Infinity);
    return this.add({ kind: 'error', spec, hits: 0, left });
  }

  throttle(spec: ThrottleFault): FaultHandle {
    if (!(spec.qps > 0)) throw new RangeError(`throttle: qps must be a positive number, got ${spec.qps}`);
    return this.add({ kind: 'throttle', spec, hits: 0, bucket: new TokenBucket(spec.qps) });
  }

  drop(spec: DropFault = {}): FaultHandle {
    return this.add({ kind: 'drop', spec, hits: 0, left: spec.times ?? 1 });
  }

  hang(spec: HangFault): FaultHandle {
    return this.add({ kind: 'hang', spec, hits: 0, left: spec.times ?? 1 });
  }

  onAction(spec: Match & { phase: HookPhase }, hook: ActionHook): FaultHandle {
    return this.add({ kind: 'hook', spec, hits: 0, hook });
  }

  /** Sets the instance's status now and puts the previous one back after `ms` (or on remove/clear). */
  instanceStatus(instanceId: string, status: string, ms: number): FaultHandle {
    const previous = this.instances.instanceStatus(instanceId);
    this.instances.setInstanceStatus(instanceId, status);
    let restored = false;
    const restore = () => {
      if (restored) return;
      restored = true;
      cancelTimer();
      this.instances.setInstanceStatus(instanceId, previous);
      this.rules = this.rules.filter((r) => r !== rule);
    };
    const cancelTimer = this.timers.after(ms, restore);
    const rule: Rule = { kind: 'status', hits: 1, restore };
    return this.add(rule);
  }

  /** Removes every fault, putting changed instance statuses back. */
  clear(): void {
    for (const rule of this.rules) if (rule.kind === 'status') rule.restore();
    this.rules = [];
  }

  /** Clears every fault and ends every timer: requests still waiting on one are released (`wait` resolves false). */
  close(): void {
    this.clear();
    this.timers.cancelAll();
  }

  /** Waits `ms`; false if the cloud closed meanwhile. */
  wait(ms: number): Promise<boolean> {
    return this.timers.sleep(ms);
  }

  /** Decides, when a request arrives, which faults it meets; counts their hits. */
  plan(req: ArrivingRequest): FaultPlan {
    const plan: FaultPlan = { delayMs: 0 };
    for (const rule of this.rules) {
      switch (rule.kind) {
        case 'latency':
          if (matches(rule.spec, req)) {
            rule.hits++;
            plan.delayMs += rule.spec.ms;
          }
          break;
        case 'hang':
          if (!plan.hold && rule.left > 0 && matches(rule.spec, req)) {
            fire(rule);
            plan.hold = { ms: rule.spec.ms, after: rule.spec.after === true };
          }
          break;
        case 'throttle':
          if (!plan.rejection && rule.spec.product === req.product && !rule.bucket.tryTake()) {
            rule.hits++;
            plan.rejection = THROTTLING[rule.spec.product]();
          }
          break;
        case 'error':
          if (!plan.rejection && rule.left > 0 && matches(rule.spec, req) && chance(rule.spec.rate)) {
            fire(rule);
            plan.rejection = injectedError(rule.spec);
          }
          break;
        case 'drop':
          if (!plan.drop && rule.left > 0 && matches(rule.spec, req)) {
            fire(rule);
            plan.drop = rule.spec.after ? 'after' : 'before';
          }
          break;
      }
    }
    return plan;
  }

  /** Awaits, in the order they were added, the hooks registered for this phase of this request. */
  async runHooks(phase: HookPhase, req: ArrivingRequest): Promise<void> {
    const hooks = this.rules.filter(
      (r): r is Extract<Rule, { kind: 'hook' }> => r.kind === 'hook' && r.spec.phase === phase && matches(r.spec, req),
    );
    for (const rule of hooks) {
      rule.hits++;
      await rule.hook(req);
    }
  }

  private add(rule: Rule): FaultHandle {
    this.rules.push(rule);
    return {
      remove: () => {
        if (rule.kind === 'status') rule.restore();
        this.rules = this.rules.filter((r) => r !== rule);
      },
      get hits() {
        return rule.hits;
      },
    };
  }
}

function matches(match: Match, req: ArrivingRequest): boolean {
  return (
    (match.product === undefined || match.product === req.product) &&
    (match.action === undefined || match.action === req.action) &&
    (match.when === undefined || match.when(req.params))
  );
}

function fire(rule: { hits: number; left: number }): void {
  rule.hits++;
  rule.left--;
}

function chance(rate: number | undefined): boolean {
  return rate === undefined || Math.random() < rate;
}

function injectedError(spec: ErrorFault): ApiError {
  return new ApiError(
    spec.code,
    spec.message ?? `The request failed with ${spec.code} (a fault of the local cloud).`,
    spec.httpStatus ?? defaultStatus(spec.code),
  );
}

/** The status Alibaba answers a code with, for the families the tests inject. */
function defaultStatus(code: string): number {
  if (code === 'Rejected.Throttling') return 429;
  if (code.startsWith('ServiceUnavailable')) return 503;
  if (code === 'InternalError' || code === 'InternalFailure') return 500;
  if (code.startsWith('Forbidden') || code.startsWith('OperationDenied')) return 403;
  if (code.endsWith('.NotFound')) return 404;
  return 400;
}
