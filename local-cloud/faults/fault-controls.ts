import type { Params, Product } from '../http/api-error';
import { ApiError } from '../http/api-error';
import { gatewayErrors } from '../http/gateway-errors';
import type { Reply } from '../http/replies';
import type { KmsBehaviour, RemoveFromVersionWithoutStage } from '../kms/service';
import { type AcceptedReset, type ApplyLateFault, type LandingStore, type PendingResetView, type ResetLanding, checkedApplyLate, LateResetQueue } from './apply-late';
import { type LagFault, checkedLag, drawDelay, lagSelects } from './lag';
import { TimerSet } from './timers';
import { TokenBucket } from './token-bucket';

/** Which requests a fault applies to; every given field must hold. */
export interface Match {
  product?: Product;
  action?: string;
  when?: (params: Params) => boolean;
  /**
   * Counting the requests that match the fields above from when the fault was added, the fault
   * applies from the nth one on (1-based, default 1): `{ action, nth: 2 }` spares the first call
   * of the action and hits the second (and, for faults that fire more than once, the later ones).
   */
  nth?: number;
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
  /** What its RPC v1 signature covers; an injected SignatureDoesNotMatch quotes it, as the gateway does. */
  stringToSign?: string;
}

export type ActionHook = (req: ArrivingRequest) => unknown;
/**
 * `arrive`: the hook runs synchronously as the request arrives (its result is not awaited), and the
 * request is then dropped unapplied: a caller the hook kills dies with its call on the wire.
 * `before`: awaited just before the action is applied (it is applied even if the hook kills the caller).
 * `after`: awaited once the action was applied, before the answer is sent.
 */
export type HookPhase = 'arrive' | 'before' | 'after';

export interface LatencyFault extends Match {
  ms: number;
}
export interface ErrorFault extends Match {
  /** `SignatureDoesNotMatch` without a `message` answers as the gateway does, quoting the request's string to sign. */
  code: string;
  httpStatus?: number;
  /** The error's message; a function of the request for a service that echoes it (a proxy quoting the URL). */
  message?: string | ((req: ArrivingRequest) => string);
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
export interface CorruptFault extends Match {
  /**
   * Rewrites a successful answer's JSON body (RequestId included) before it is sent: returns the new body,
   * or a string to send as it is (not JSON). It may change its argument and return it.
   */
  mutate: (body: Record<string, unknown>) => unknown;
  /** How many answers are corrupted; 1 by default (Infinity: all of them). */
  times?: number;
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
  /** Serve the read from the state as it was this many ms before it is applied (a `lag` fault). */
  lagMs?: number;
}

/** The state an instance-status fault works on. */
export interface InstanceStatusStore {
  instanceStatus(instanceId: string): string;
  setInstanceStatus(instanceId: string, status: string): void;
}

/** The state the faults work on: instance statuses, the history lagging reads need, late resets' landings. */
export interface FaultStore extends InstanceStatusStore, LandingStore {
  keepHistory(ms: number): void;
}

/** `seen`: requests that matched so far (what `nth` counts). */
type Rule =
  | { kind: 'latency'; spec: LatencyFault; hits: number; seen: number }
  | { kind: 'error'; spec: ErrorFault; hits: number; seen: number; left: number }
  | { kind: 'throttle'; spec: ThrottleFault; hits: number; bucket: TokenBucket }
  | { kind: 'drop'; spec: DropFault; hits: number; seen: number; left: number }
  | { kind: 'hang'; spec: HangFault; hits: number; seen: number; left: number }
  | { kind: 'hook'; spec: Match & { phase: HookPhase }; hits: number; seen: number; hook: ActionHook }
  | { kind: 'status'; hits: number; restore: () => void }
  | { kind: 'corrupt'; spec: CorruptFault; hits: number; seen: number; left: number }
  | { kind: 'lag'; spec: LagFault; hits: number }
  | { kind: 'applyLate'; spec: ApplyLateFault & Match; hits: number; seen: number; left: number };

type MatchedRule = Extract<Rule, { seen: number }>;

const SIGNATURE_MISMATCH = 'SignatureDoesNotMatch';

const THROTTLING: Record<ThrottleFault['product'], () => ApiError> = {
  dds: () => new ApiError('Throttling.User', 'Request was denied due to user flow control.', 400),
  kms: () => new ApiError('Rejected.Throttling', 'The QPS upper limit is exceeded.', 429),
};

/**
 * Faults on demand: tests (and the command's fixture) add them, the gateway asks `plan()` what
 * to do with each request and awaits `runHooks()` around the action. Every method returns a
 * handle to remove the fault and read how often it fired.
 */
export class FaultControls implements KmsBehaviour, ResetLanding {
  private rules: Rule[] = [];
  private removeFromVersion: { behaviour: RemoveFromVersionWithoutStage; hits: number } = { behaviour: 'refuse', hits: 0 };
  private readonly timers = new TimerSet();
  private readonly lateResets: LateResetQueue;
  /** The `before`/`after` hooks each arriving request was selected for (`nth` counts at arrival, like every fault). */
  private readonly hooksFor = new WeakMap<ArrivingRequest, Set<Rule>>();

  constructor(private readonly instances: FaultStore) {
    this.lateResets = new LateResetQueue(this.timers, instances);
  }

  /**
   * Reads of a product served from the state as it was `ms` ago (less up to `jitterMs`, drawn per
   * request: reads are not monotonic); see LagFault. The history it needs is kept while it is on.
   */
  lag(spec: LagFault): FaultHandle {
    const handle = this.add({ kind: 'lag', spec: checkedLag(spec), hits: 0 });
    this.keepLagHistory();
    return handle;
  }

  /**
   * `ResetAccountPassword` answers success but its password lands `ms` later (see ApplyLateFault);
   * meanwhile the instance shows `status`, or stays Running. Removing the fault (or `clear()`)
   * leaves accepted resets to land; closing the cloud drops them.
   */
  applyLate(spec: ApplyLateFault): FaultHandle {
    const checked = checkedMatch(checkedApplyLate(spec));
    const { instanceId, when } = checked;
    const match: ApplyLateFault & Match = {
      ...checked,
      when: (params) => (instanceId === undefined || params.DBInstanceId === instanceId) && (when === undefined || when(params)),
    };
    return this.add({ kind: 'applyLate', spec: match, hits: 0, seen: 0, left: spec.times ?? Infinity });
  }

  /** The resets DDS accepted whose password has not landed yet (no password), in the order they land. */
  pendingResets(): PendingResetView[] {
    return this.lateResets.pending();
  }

  /** DDS hands every reset it accepts here: an `applyLate` fault, or resets still pending on the instance, make it land later. */
  deferReset(reset: AcceptedReset, land: () => void): boolean {
    const request: ArrivingRequest = { requestId: reset.requestId, product: 'dds', action: 'ResetAccountPassword', params: reset.params, accessKeyId: '' };
    const chosen = this.fireFirst('applyLate', request);
    const delayMs = chosen ? drawDelay(chosen.spec) : 0;
    return this.lateResets.accept(reset, land, delayMs, chosen?.spec.status);
  }

  latency(spec: LatencyFault): FaultHandle {
    return this.add({ kind: 'latency', spec: checkedMatch(spec), hits: 0, seen: 0 });
  }

  error(spec: ErrorFault): FaultHandle {
    const left = spec.times ?? (spec.rate === undefined ? 1 : Infinity);
    return this.add({ kind: 'error', spec: checkedMatch(spec), hits: 0, seen: 0, left });
  }

  throttle(spec: ThrottleFault): FaultHandle {
    if (!(spec.qps > 0)) throw new RangeError(`throttle: qps must be a positive number, got ${spec.qps}`);
    return this.add({ kind: 'throttle', spec, hits: 0, bucket: new TokenBucket(spec.qps) });
  }

  drop(spec: DropFault = {}): FaultHandle {
    return this.add({ kind: 'drop', spec: checkedMatch(spec), hits: 0, seen: 0, left: spec.times ?? 1 });
  }

  hang(spec: HangFault): FaultHandle {
    return this.add({ kind: 'hang', spec: checkedMatch(spec), hits: 0, seen: 0, left: spec.times ?? 1 });
  }

  /** Runs `hook` at a phase of every matching request (see HookPhase). */
  /** Answers a matching request wrongly: it is applied, then its successful answer's body is rewritten. */
  corrupt(spec: CorruptFault): FaultHandle {
    return this.add({ kind: 'corrupt', spec: checkedMatch(spec), hits: 0, seen: 0, left: spec.times ?? 1 });
  }

  onAction(spec: Match & { phase: HookPhase }, hook: ActionHook): FaultHandle {
    return this.add({ kind: 'hook', spec: checkedMatch(spec), hits: 0, seen: 0, hook });
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

  /**
   * How KMS answers an UpdateSecretVersionStage whose RemoveFromVersion names a version without the stage (Alibaba's
   * page does not say; see KmsBehaviour): `refuse` by default, or `accept`. A behaviour of the service rather than
   * a fault: clear() keeps it, the handle's remove() puts `refuse` back; `hits` counts the calls accepted so.
   */
  kmsRemoveFromVersionWithoutStage(behaviour: RemoveFromVersionWithoutStage): FaultHandle {
    const setting = { behaviour, hits: 0 };
    this.removeFromVersion = setting;
    return {
      remove: () => {
        if (this.removeFromVersion === setting) this.removeFromVersion = { behaviour: 'refuse', hits: 0 };
      },
      get hits() {
        return setting.hits;
      },
    };
  }

  removeFromVersionWithoutStage(): RemoveFromVersionWithoutStage {
    return this.removeFromVersion.behaviour;
  }

  acceptedWithoutStage(): void {
    this.removeFromVersion.hits++;
  }

  /** Removes every fault, putting changed instance statuses back. */
  clear(): void {
    for (const rule of this.rules) if (rule.kind === 'status') rule.restore();
    this.rules = [];
    this.keepLagHistory();
  }

  /** Clears every fault and ends every timer: requests still waiting on one are released (`wait` resolves false). */
  close(): void {
    this.clear();
    this.timers.cancelAll();
    this.lateResets.drop();
  }

  /** Waits `ms`; false if the cloud closed meanwhile. */
  wait(ms: number): Promise<boolean> {
    return this.timers.sleep(ms);
  }

  /**
   * Resolves once no request is delayed or held by a fault any more: those that were have gone on
   * to be applied, answered or dropped. A test waits for it before judging what a slow request did.
   */
  settled(): Promise<void> {
    return this.timers.whenNoSleeper();
  }

  /** Decides, when a request arrives, which faults it meets; counts their hits and runs `arrive` hooks. */
  plan(req: ArrivingRequest): FaultPlan {
    const plan: FaultPlan = { delayMs: 0 };
    for (const rule of this.rules) {
      if (rule.kind === 'throttle') {
        if (!plan.rejection && rule.spec.product === req.product && !rule.bucket.tryTake()) {
          rule.hits++;
          plan.rejection = THROTTLING[rule.spec.product]();
        }
        continue;
      }
      if (rule.kind === 'lag') {
        if (plan.lagMs === undefined && lagSelects(rule.spec, req.product, req.action, req.params)) {
          rule.hits++;
          plan.lagMs = drawDelay(rule.spec);
        }
        continue;
      }
      if (rule.kind === 'status' || rule.kind === 'corrupt' || rule.kind === 'applyLate' || !selects(rule, req)) continue;
      switch (rule.kind) {
        case 'latency':
          rule.hits++;
          plan.delayMs += rule.spec.ms;
          break;
        case 'hang':
          if (!plan.hold && rule.left > 0) {
            fire(rule);
            plan.hold = { ms: rule.spec.ms, after: rule.spec.after === true };
          }
          break;
        case 'error':
          if (!plan.rejection && rule.left > 0 && chance(rule.spec.rate)) {
            fire(rule);
            plan.rejection = injectedError(rule.spec, req);
          }
          break;
        case 'drop':
          if (!plan.drop && rule.left > 0) {
            fire(rule);
            plan.drop = rule.spec.after ? 'after' : 'before';
          }
          break;
        case 'hook':
          if (rule.spec.phase !== 'arrive') {
            this.hooksFor.set(req, (this.hooksFor.get(req) ?? new Set()).add(rule));
            break;
          }
          rule.hits++;
          rule.hook(req);
          plan.drop = 'before';
          break;
      }
    }
    return plan;
  }

  /** A successful answer as the first matching `corrupt` fault with corruptions left rewrites it. */
  corruptReply(req: ArrivingRequest, reply: Reply): Reply {
    const chosen = this.fireFirst('corrupt', req);
    if (!chosen) return reply;
    const mutated = chosen.spec.mutate(JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>);
    const body = typeof mutated === 'string' ? mutated : (JSON.stringify(mutated) ?? '');
    return { ...reply, body: Buffer.from(body, 'utf8') };
  }

  /** Awaits, in the order they were added, the hooks of this phase (`before` or `after`) selected for this request when it arrived. */
  async runHooks(phase: Exclude<HookPhase, 'arrive'>, req: ArrivingRequest): Promise<void> {
    const selected = this.hooksFor.get(req);
    const hooks = this.rules.filter((r): r is Extract<Rule, { kind: 'hook' }> => r.kind === 'hook' && r.spec.phase === phase && selected?.has(r) === true);
    for (const rule of hooks) {
      rule.hits++;
      await rule.hook(req);
    }
  }

  /** Keeps as much history as the largest lag on needs (none without a lag fault). */
  /**
   * The first rule of this kind that the request meets with firings left, fired. Every rule of the kind still sees
   * the request (an `nth` counts it), chosen or not.
   */
  private fireFirst<K extends 'applyLate' | 'corrupt'>(kind: K, req: ArrivingRequest): Extract<Rule, { kind: K }> | undefined {
    let chosen: Extract<Rule, { kind: K }> | undefined;
    for (const rule of this.rules) {
      if (rule.kind !== kind || !selects(rule, req)) continue;
      if (!chosen && rule.left > 0) {
        fire(rule);
        chosen = rule as Extract<Rule, { kind: K }>;
      }
    }
    return chosen;
  }

  private keepLagHistory(): void {
    const lags = this.rules.flatMap((rule) => (rule.kind === 'lag' ? [rule.spec.ms] : []));
    this.instances.keepHistory(Math.max(0, ...lags));
  }

  private add(rule: Rule): FaultHandle {
    this.rules.push(rule);
    return {
      remove: () => {
        if (rule.kind === 'status') rule.restore();
        this.rules = this.rules.filter((r) => r !== rule);
        if (rule.kind === 'lag') this.keepLagHistory();
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

/** Whether the rule applies to this request: it matches, and is at least the rule's nth match. */
function selects(rule: MatchedRule, req: ArrivingRequest): boolean {
  if (!matches(rule.spec, req)) return false;
  rule.seen++;
  return rule.seen >= (rule.spec.nth ?? 1);
}

function checkedMatch<T extends Match>(spec: T): T {
  if (spec.nth !== undefined && !(Number.isInteger(spec.nth) && spec.nth >= 1)) {
    throw new RangeError(`nth must be a whole number of at least 1, got ${spec.nth}`);
  }
  return spec;
}

function fire(rule: { hits: number; left: number }): void {
  rule.hits++;
  rule.left--;
}

function chance(rate: number | undefined): boolean {
  return rate === undefined || Math.random() < rate;
}

function injectedError(spec: ErrorFault, req: ArrivingRequest): ApiError {
  if (spec.code === SIGNATURE_MISMATCH && spec.message === undefined) return gatewayErrors.signatureMismatch(req.stringToSign);
  const message = typeof spec.message === 'function' ? spec.message(req) : spec.message;
  return new ApiError(
    spec.code,
    message ?? `The request failed with ${spec.code} (a fault of the local cloud).`,
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
