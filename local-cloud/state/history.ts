import type { InstanceState, SecretState } from './model';

/** What reads showed at one moment: the instances (without passwords or users: no read shows them) and the secrets. */
export interface StateSnapshot {
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly instances: ReadonlyMap<string, InstanceState>;
  readonly secrets: ReadonlyMap<string, SecretState>;
}

interface LiveState {
  instances: ReadonlyMap<string, InstanceState>;
  secrets: ReadonlyMap<string, SecretState>;
}

/**
 * Timestamped snapshots of the state, kept while a read may lag (the `lag` fault), so that a read
 * can be answered as of an earlier moment. A snapshot shares the frozen copy of every instance or
 * secret that did not change since the previous one. Memory stays bounded: only the snapshots of
 * the last `retain` milliseconds are kept, and the last one before them (the state at its start).
 */
export class StateHistory {
  private snapshots: StateSnapshot[] = [];
  private retainMs = 0;

  constructor(private readonly live: () => LiveState) {}

  /** Keeps `ms` of history from now on; 0 keeps none and forgets what was kept. */
  retain(ms: number): void {
    this.retainMs = Math.max(0, ms);
    if (this.retainMs === 0) this.snapshots = [];
    else this.record();
  }

  /** Forgets the past: the state as it is now stands for every earlier moment (a change that has no history). */
  rebase(): void {
    if (this.retainMs === 0) return;
    this.snapshots = [];
    this.record();
  }

  /** Notes the state as it is now, if history is kept and the state changed since the last snapshot. */
  record(now = Date.now()): void {
    if (this.retainMs === 0) return;
    const last = this.snapshots.at(-1);
    const { instances, secrets } = this.live();
    const instanceCopies = copiesOf(instances, last?.instances, readableInstance);
    const secretCopies = copiesOf(secrets, last?.secrets, (secret) => secret);
    if (last && !instanceCopies.changed && !secretCopies.changed) return;
    this.snapshots.push({ time: now, instances: instanceCopies.copies, secrets: secretCopies.copies });
    this.prune(now);
  }

  /**
   * The state as it was at `time`: the last snapshot taken at or before it; the oldest kept when
   * `time` is earlier than the history (what changed before it was kept is not known).
   * Undefined when no history is kept.
   */
  asOf(time: number): StateSnapshot | undefined {
    for (let i = this.snapshots.length - 1; i >= 0; i--) if (this.snapshots[i].time <= time) return this.snapshots[i];
    return this.snapshots[0];
  }

  /** How many snapshots are kept (for the tests of the bound). */
  get size(): number {
    return this.snapshots.length;
  }

  private prune(now: number): void {
    const cutoff = now - this.retainMs;
    let firstKept = 0;
    while (firstKept + 1 < this.snapshots.length && this.snapshots[firstKept + 1].time <= cutoff) firstKept++;
    if (firstKept > 0) this.snapshots = this.snapshots.slice(firstKept);
  }
}

/** The JSON of each copy, to tell a change; kept beside the copies, off the snapshot. */
const jsonOf = new WeakMap<object, string>();

function copiesOf<T extends object>(
  live: ReadonlyMap<string, T>,
  previous: ReadonlyMap<string, T> | undefined,
  readable: (value: T) => T,
): { copies: Map<string, T>; changed: boolean } {
  const copies = new Map<string, T>();
  let changed = previous === undefined || previous.size !== live.size;
  for (const [key, value] of live) {
    const copy = copyOf(readable(value), previous?.get(key));
    if (copy !== previous?.get(key)) changed = true;
    copies.set(key, copy);
  }
  return { copies, changed };
}

/** The previous copy if the value did not change, else a new frozen one. */
function copyOf<T extends object>(value: T, previous: T | undefined): T {
  const json = JSON.stringify(value);
  if (previous !== undefined && jsonOf.get(previous) === json) return previous;
  const copy = deepFreeze(JSON.parse(json) as T);
  jsonOf.set(copy, json);
  return copy;
}

function readableInstance(instance: InstanceState): InstanceState {
  const { users: _users, ...readable } = instance;
  return { ...readable, rootPasswords: {} };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
