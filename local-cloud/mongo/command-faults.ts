// Faults on the MongoDB wire protocol, shared by every peer of a local cloud: a connection dropped
// before or after a command is applied, a command held (past the driver's timeout, then applied),
// an error answer, and hooks run as a command arrives, just before it is applied or just after.
// They mirror the HTTP faults (local-cloud/faults), with a command in place of an action.
import type { Document } from 'bson';
import type { FaultHandle } from '../faults/fault-controls';
import { TimerSet } from '../faults/timers';
import { commandError } from './errors';

/** A command as faults and hooks see it; `body` has its password replaced by "xxx". */
export interface ArrivingCommand {
  requestId: string;
  /** The instance whose peer received it (undefined for a peer started on its own). */
  instanceId?: string;
  command: string;
  db: string;
  /** The user the connection is logged in as, if any. */
  user?: { user: string; db: string };
  body: Document;
}

/** Which commands a fault applies to; every given field must hold. */
export interface CommandMatch {
  instanceId?: string;
  command?: string;
  /** The database the command runs against (`$db`). */
  db?: string;
  when?: (command: ArrivingCommand) => boolean;
  /** Counting matching commands from when the fault was added, strike from the nth on (1-based, default 1). */
  nth?: number;
}

export interface CommandDropFault extends CommandMatch {
  /** How many commands are dropped; 1 by default (Infinity: all of them). */
  times?: number;
  /** Apply the command first, then drop the connection: the change happens, the answer is lost. */
  after?: boolean;
}

export interface CommandHangFault extends CommandMatch {
  ms: number;
  /** How many commands are held; 1 by default. */
  times?: number;
  /** Apply first, then hold the answer; by default the command is held, then applied. */
  after?: boolean;
}

export interface CommandErrorFault extends CommandMatch {
  code: number;
  codeName?: string;
  errmsg?: string;
  errorLabels?: string[];
  /** How many commands fail, unapplied; 1 by default. */
  times?: number;
}

/**
 * `arrive`: the hook runs synchronously as the command arrives (not awaited), then the connection
 * is dropped and the command is not applied. `before`: awaited just before the command is applied
 * (it is applied even if the hook kills the client). `after`: awaited once it was applied, before
 * the answer is sent.
 */
export type CommandHookPhase = 'arrive' | 'before' | 'after';
export type CommandHook = (command: ArrivingCommand) => unknown;

type Rule =
  | { kind: 'drop'; spec: CommandDropFault; hits: number; seen: number; left: number }
  | { kind: 'hang'; spec: CommandHangFault; hits: number; seen: number; left: number }
  | { kind: 'error'; spec: CommandErrorFault; hits: number; seen: number; left: number }
  | { kind: 'hook'; spec: CommandMatch & { phase: CommandHookPhase }; hits: number; seen: number; hook: CommandHook };

type HookRule = Extract<Rule, { kind: 'hook' }>;

/** What the faults decided for one command when it arrived. */
export interface CommandPlan {
  drop?: 'before' | 'after';
  hold?: { ms: number; after: boolean };
  error?: Document;
  before: HookRule[];
  after: HookRule[];
}

const CODE_NAMES: Record<number, string> = {
  6: 'HostUnreachable',
  7: 'HostNotFound',
  11: 'UserNotFound',
  13: 'Unauthorized',
  18: 'AuthenticationFailed',
  50: 'MaxTimeMSExpired',
  89: 'NetworkTimeout',
  91: 'ShutdownInProgress',
  189: 'PrimarySteppedDown',
  262: 'ExceededTimeLimit',
  462: 'IngressRequestRateLimitExceeded',
  10107: 'NotWritablePrimary',
  11600: 'InterruptedAtShutdown',
  13436: 'NotPrimaryOrSecondary',
};

export class CommandFaults {
  private rules: Rule[] = [];
  private readonly timers = new TimerSet();
  private inFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];

  drop(spec: CommandDropFault = {}): FaultHandle {
    return this.add({ kind: 'drop', spec: checked(spec), hits: 0, seen: 0, left: spec.times ?? 1 });
  }

  hang(spec: CommandHangFault): FaultHandle {
    if (!(spec.ms >= 0)) throw new RangeError(`hang: ms must be a number of milliseconds, got ${spec.ms}`);
    return this.add({ kind: 'hang', spec: checked(spec), hits: 0, seen: 0, left: spec.times ?? 1 });
  }

  error(spec: CommandErrorFault): FaultHandle {
    if (!Number.isInteger(spec.code)) throw new RangeError(`error: code must be a MongoDB error code, got ${spec.code}`);
    return this.add({ kind: 'error', spec: checked(spec), hits: 0, seen: 0, left: spec.times ?? 1 });
  }

  onCommand(spec: CommandMatch & { phase: CommandHookPhase }, hook: CommandHook): FaultHandle {
    return this.add({ kind: 'hook', spec: checked(spec), hits: 0, seen: 0, hook });
  }

  clear(): void {
    this.rules = [];
  }

  /** Clears every fault and releases every held command unapplied (`wait` resolves false). */
  close(): void {
    this.clear();
    this.timers.cancelAll();
  }

  /** Decides, as a command arrives, which faults it meets; runs its `arrive` hooks. */
  plan(command: ArrivingCommand): CommandPlan {
    const plan: CommandPlan = { before: [], after: [] };
    for (const rule of this.rules) {
      if (!selects(rule, command)) continue;
      switch (rule.kind) {
        case 'drop':
          if (!plan.drop && rule.left > 0) {
            fire(rule);
            plan.drop = rule.spec.after ? 'after' : 'before';
          }
          break;
        case 'hang':
          if (!plan.hold && rule.left > 0) {
            fire(rule);
            plan.hold = { ms: rule.spec.ms, after: rule.spec.after === true };
          }
          break;
        case 'error':
          if (!plan.error && rule.left > 0) {
            fire(rule);
            plan.error = injectedError(rule.spec);
          }
          break;
        case 'hook':
          if (rule.spec.phase === 'arrive') {
            rule.hits++;
            rule.hook(command);
            plan.drop = 'before';
          } else {
            plan[rule.spec.phase].push(rule);
          }
          break;
      }
    }
    return plan;
  }

  async runHooks(hooks: HookRule[], command: ArrivingCommand): Promise<void> {
    for (const rule of hooks) {
      if (!this.rules.includes(rule)) continue;
      rule.hits++;
      await rule.hook(command);
    }
  }

  /** Waits `ms`; false if the faults were closed meanwhile (the cloud is closing). */
  wait(ms: number): Promise<boolean> {
    return this.timers.sleep(ms);
  }

  /** Marks a command a fault delays (a hold, a `before` or `after` hook) as in flight until `done` is called. */
  begin(): () => void {
    this.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      if (this.inFlight === 0) setImmediate(() => this.releaseIdleWaiters());
    };
  }

  /** Resolves once no command a fault delayed is still on its way: what was held has been applied (or dropped). */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      if (this.inFlight === 0) setImmediate(() => this.releaseIdleWaiters());
    });
  }

  private releaseIdleWaiters(): void {
    if (this.inFlight > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private add(rule: Rule): FaultHandle {
    this.rules.push(rule);
    return {
      remove: () => void (this.rules = this.rules.filter((r) => r !== rule)),
      get hits() {
        return rule.hits;
      },
    };
  }
}

function selects(rule: Rule, command: ArrivingCommand): boolean {
  const { spec } = rule;
  const matches =
    (spec.instanceId === undefined || spec.instanceId === command.instanceId) &&
    (spec.command === undefined || spec.command === command.command) &&
    (spec.db === undefined || spec.db === command.db) &&
    (spec.when === undefined || spec.when(command));
  if (!matches) return false;
  rule.seen++;
  return rule.seen >= (spec.nth ?? 1);
}

function checked<T extends CommandMatch>(spec: T): T {
  if (spec.nth !== undefined && !(Number.isInteger(spec.nth) && spec.nth >= 1)) {
    throw new RangeError(`nth must be a whole number of at least 1, got ${spec.nth}`);
  }
  return spec;
}

function fire(rule: { hits: number; left: number }): void {
  rule.hits++;
  rule.left--;
}

/**
 * The labels a server puts on an error by itself: MongoDB's ingress request rate limiter (8.0.20, 8.2) refuses with
 * 462 labelled SystemOverloadedError and RetryableError (the README's platform facts).
 */
const SERVER_LABELS: Record<number, string[]> = { 462: ['SystemOverloadedError', 'RetryableError'] };

function injectedError(spec: CommandErrorFault): Document {
  const codeName = spec.codeName ?? CODE_NAMES[spec.code] ?? `Location${spec.code}`;
  const reply = commandError(spec.code, codeName, spec.errmsg ?? `${codeName} (a fault of the local cloud)`);
  const labels = spec.errorLabels ?? SERVER_LABELS[spec.code];
  if (labels) reply.errorLabels = [...labels];
  return reply;
}
