import type { Params } from '../http/api-error';
import type { Role } from '../state';
import type { TimerSet } from './timers';

/**
 * `ResetAccountPassword` answers success, but the password takes effect `ms` later: until then the
 * database still holds the old one (logins, the truth and the invariant monitor follow it).
 */
export interface ApplyLateFault {
  /** How late the password lands, in ms (the largest lateness with `jitterMs`). */
  ms: number;
  /** How much earlier than `ms` a reset may land (0..ms), drawn per reset; 0 by default. */
  jitterMs?: number;
  /** Only this instance's resets. */
  instanceId?: string;
  /**
   * The status the instance shows while a late password is pending (e.g. `Restarting`), back to
   * `Running` when the last one lands; unset: it stays `Running` throughout (the worst case).
   */
  status?: string;
  /** How many resets land late; all of them by default. */
  times?: number;
  /** Counting the resets DDS accepts that match, the fault applies from the nth on (1-based). */
  nth?: number;
  /** Only the resets whose parameters satisfy it (e.g. `CharacterType`). */
  when?: (params: Params) => boolean;
}

/** A reset DDS accepted: what the queue needs to land it and to attribute the check (no password). */
export interface AcceptedReset {
  requestId: string;
  instanceId: string;
  role: Role;
  params: Params;
}

/** A reset accepted and not landed yet, as `pendingResets()` shows it. */
export interface PendingResetView {
  requestId: string;
  instanceId: string;
  role: Role;
  /** When it lands (ISO 8601, ms). */
  landsAt: string;
}

/** What DDS hands a reset to: it takes it over when the reset is to land later. */
export interface ResetLanding {
  /** True when it took the reset over to `land` it later; false: the caller applies it now. */
  deferReset(reset: AcceptedReset, land: () => void): boolean;
}

/** The state landings change and check. */
export interface LandingStore {
  instanceStatus(instanceId: string): string;
  setInstanceStatus(instanceId: string, status: string): void;
  checkInvariant(cause: { requestId: string; product: 'dds'; action: string }): unknown;
}

/** The action a landing's invariant check is attributed to (with the reset's request id). */
export const LANDED_ACTION = 'ResetAccountPassword (landed)';

const RUNNING = 'Running';

interface PendingReset extends AcceptedReset {
  landsAt: number;
  land: () => void;
}

interface InstanceQueue {
  pending: PendingReset[];
  /** The status this queue put on the instance, to put `Running` back when it empties. */
  transitional?: string;
}

export function checkedApplyLate(spec: ApplyLateFault): ApplyLateFault {
  if (!(Number.isFinite(spec.ms) && spec.ms >= 0)) throw new RangeError(`applyLate: ms must be a number of at least 0, got ${spec.ms}`);
  const jitter = spec.jitterMs ?? 0;
  if (!(Number.isFinite(jitter) && jitter >= 0 && jitter <= spec.ms)) {
    throw new RangeError(`applyLate: jitterMs must be from 0 to ms (${spec.ms}), got ${spec.jitterMs}`);
  }
  if (spec.status !== undefined && (spec.status === '' || spec.status === RUNNING)) {
    throw new RangeError(`applyLate: status must name a transitional status such as "Restarting" (leave it out to stay Running), got ${JSON.stringify(spec.status)}`);
  }
  return spec;
}

/**
 * The resets accepted but not landed, per instance, in the order DDS accepted them: a reset lands
 * at its own time or, if later, when the one accepted before it on the instance lands, so that an
 * earlier reset never overwrites a later one (a later reset cancels nothing: it lands after).
 * Each landing is checked by the invariant monitor at that moment. The timers are the faults'
 * (`settled()` waits for the landings, closing the cloud drops them unlanded).
 */
export class LateResetQueue {
  private readonly queues = new Map<string, InstanceQueue>();

  constructor(
    private readonly timers: TimerSet,
    private readonly store: LandingStore,
  ) {}

  /** Takes the reset over if it is late (`delayMs` > 0) or the instance has resets pending; false: apply it now. */
  accept(reset: AcceptedReset, land: () => void, delayMs: number, status: string | undefined): boolean {
    const existing = this.queues.get(reset.instanceId);
    if (delayMs <= 0 && !existing) return false;
    const queue = existing ?? { pending: [] };
    this.queues.set(reset.instanceId, queue);
    const now = Date.now();
    const pending: PendingReset = { ...reset, land, landsAt: Math.max(now + delayMs, queue.pending.at(-1)?.landsAt ?? 0) };
    queue.pending.push(pending);
    if (status !== undefined && queue.transitional === undefined && this.store.instanceStatus(reset.instanceId) === RUNNING) {
      queue.transitional = status;
      this.store.setInstanceStatus(reset.instanceId, status);
    }
    void this.timers.sleep(pending.landsAt - now).then((elapsed) => {
      if (elapsed) this.landUpTo(pending);
    });
    return true;
  }

  pending(): PendingResetView[] {
    return [...this.queues.values()].flatMap((queue) =>
      queue.pending.map(({ requestId, instanceId, role, landsAt }) => ({ requestId, instanceId, role, landsAt: new Date(landsAt).toISOString() })),
    );
  }

  /** Forgets every pending reset unlanded (the cloud is closing). */
  drop(): void {
    this.queues.clear();
  }

  /** Lands `target` and every reset accepted before it on its instance, in order. */
  private landUpTo(target: PendingReset): void {
    const queue = this.queues.get(target.instanceId);
    const index = queue?.pending.indexOf(target) ?? -1;
    if (!queue || index < 0) return;
    for (const reset of queue.pending.splice(0, index + 1)) {
      reset.land();
      this.store.checkInvariant({ requestId: reset.requestId, product: 'dds', action: LANDED_ACTION });
    }
    if (queue.pending.length > 0) return;
    this.queues.delete(target.instanceId);
    if (queue.transitional !== undefined && this.store.instanceStatus(target.instanceId) === queue.transitional) {
      this.store.setInstanceStatus(target.instanceId, RUNNING);
    }
  }
}
