import { type InstanceState, type Role, type SecretState, ACS_CURRENT, ACS_PENDING, ACS_PREVIOUS, rolesOf } from './model';
import { accountPasswordOf, instanceIdOf } from './secret-data';
import { findUser } from './mongo-users';
import { type UserBreach, isApplicationUserSecret, userBreachesOf } from './user-invariant';

/** The labels whose passwords the database may hold at every instant: the invariant. */
export const INVARIANT_LABELS = [ACS_CURRENT, ACS_PENDING];
/**
 * The weaker rule of a rotation that promoted a reset before it landed (the login check off, a late reset that
 * DDS shows no sign of): the database's password is at least still readable from KMS, as ACSPrevious.
 */
export const READABLE_LABELS = [ACS_CURRENT, ACS_PENDING, ACS_PREVIOUS];

/** A place where the database and the secret disagree: the root password of `role` matches neither ACSCurrent nor ACSPending. */
export interface Breach {
  secretName: string;
  instanceId: string;
  role: Role;
}

/** A breach of either invariant: root's (`role`) or an application user's (`user`, `db`, `rule`). */
export type InvariantBreach = Breach | UserBreach;

/** A breach as a check finds it: with the password the role or user holds, which the monitor keeps to itself. */
export type FoundBreach = InvariantBreach & { held: string | undefined };

/** A breach as the monitor records it: `ongoing` when it was open already and the role or user has lost another password. */
export type RecordedBreach = InvariantBreach & { ongoing: boolean };

/** What a breach is about, as a message names it: a root role, or `db.user` (no password). */
export const breachSubject = (b: InvariantBreach): string => ('role' in b ? b.role : `user ${b.db}.${b.user} (${b.rule})`);

export const breachKey = (b: InvariantBreach): string =>
  'role' in b ? `${b.secretName}\u0000${b.instanceId}\u0000${b.role}` : `${b.secretName}\u0000${b.instanceId}\u0000${b.db}.${b.user}\u0000${b.rule}`;

/**
 * Which breaches a check records. One record per breach that opens, and one per check that finds a breach still
 * open whose role now holds another password than when it was last recorded: that write lost a password of its
 * own (a reset to a password no label holds while the role was out of line already, say after a secret was created
 * without the old password). A write that leaves the role's password as it was, whatever it did to the labels,
 * lost nothing new: the breach it finds is not recorded again. A breach that closes and opens again is new.
 */
export class BreachTracker {
  /** Open breaches, by key, with the password the role held when each was last recorded. */
  private open = new Map<string, string | undefined>();

  record(found: FoundBreach[]): RecordedBreach[] {
    const recorded: RecordedBreach[] = [];
    const open = new Map<string, string | undefined>();
    for (const { held, ...breach } of found) {
      const key = breachKey(breach);
      open.set(key, held);
      if (!this.open.has(key)) recorded.push({ ...breach, ongoing: false });
      else if (this.open.get(key) !== held) recorded.push({ ...breach, ongoing: true });
    }
    this.open = open;
    return recorded;
  }
}

const versionWith = (secret: SecretState, stage: string) => secret.versions.find((v) => v.stages.includes(stage));

/** The instance a secret speaks for: the fixture's binding, else the `DBInstanceId` of its current or pending data. */
export function boundInstanceId(secret: SecretState, instances: ReadonlyMap<string, InstanceState>): string | undefined {
  if (secret.instanceId) return secret.instanceId;
  for (const stage of [ACS_CURRENT, ACS_PENDING]) {
    const data = versionWith(secret, stage)?.data;
    const id = data === undefined ? undefined : instanceIdOf(data);
    if (id !== undefined && instances.has(id)) return id;
  }
  return undefined;
}

/**
 * The invariant, checked for every secret bound to an instance: root's for a root secret, the
 * application user's (user-invariant.ts) for a secret whose ACSCurrent names another user.
 */
export function findBreaches(instances: ReadonlyMap<string, InstanceState>, secrets: Iterable<SecretState>, labels: readonly string[] = INVARIANT_LABELS): FoundBreach[] {
  const breaches: FoundBreach[] = [];
  for (const secret of secrets) {
    const instanceId = boundInstanceId(secret, instances);
    const instance = instanceId === undefined ? undefined : instances.get(instanceId);
    if (!instance) continue;
    if (isApplicationUserSecret(secret)) {
      breaches.push(...userBreachesOf(secret, instance).map((breach) => ({ ...breach, held: findUser(instance, breach.user, breach.db)?.password })));
      continue;
    }
    const accepted = labels
      .map((stage) => versionWith(secret, stage)?.data)
      .map((data) => (data === undefined ? undefined : accountPasswordOf(data)))
      .filter((pw): pw is string => pw !== undefined);
    for (const role of rolesOf(instance.type)) {
      const held = instance.rootPasswords[role];
      if (held === undefined || !accepted.includes(held)) breaches.push({ secretName: secret.name, instanceId: instance.id, role, held });
    }
  }
  return breaches;
}
