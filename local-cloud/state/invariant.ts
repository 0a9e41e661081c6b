import { type InstanceState, type Role, type SecretState, ACS_CURRENT, ACS_PENDING, rolesOf } from './model';
import { accountPasswordOf, instanceIdOf } from './secret-data';
import { type UserBreach, isApplicationUserSecret, userBreachesOf } from './user-invariant';

/** A place where the database and the secret disagree: the root password of `role` matches neither ACSCurrent nor ACSPending. */
export interface Breach {
  secretName: string;
  instanceId: string;
  role: Role;
}

/** A breach of either invariant: root's (`role`) or an application user's (`user`, `db`, `rule`). */
export type InvariantBreach = Breach | UserBreach;

export const breachKey = (b: InvariantBreach): string =>
  'role' in b ? `${b.secretName}\u0000${b.instanceId}\u0000${b.role}` : `${b.secretName}\u0000${b.instanceId}\u0000${b.db}.${b.user}\u0000${b.rule}`;

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
export function findBreaches(instances: ReadonlyMap<string, InstanceState>, secrets: Iterable<SecretState>): InvariantBreach[] {
  const breaches: InvariantBreach[] = [];
  for (const secret of secrets) {
    const instanceId = boundInstanceId(secret, instances);
    const instance = instanceId === undefined ? undefined : instances.get(instanceId);
    if (!instance) continue;
    if (isApplicationUserSecret(secret)) {
      breaches.push(...userBreachesOf(secret, instance));
      continue;
    }
    const accepted = [ACS_CURRENT, ACS_PENDING]
      .map((stage) => versionWith(secret, stage)?.data)
      .map((data) => (data === undefined ? undefined : accountPasswordOf(data)))
      .filter((pw): pw is string => pw !== undefined);
    for (const role of rolesOf(instance.type)) {
      const held = instance.rootPasswords[role];
      if (held === undefined || !accepted.includes(held)) breaches.push({ secretName: secret.name, instanceId: instance.id, role });
    }
  }
  return breaches;
}
