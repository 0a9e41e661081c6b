/**
 * The invariant for application users (README, "Application users"), checked for every secret
 * whose `ACSCurrent` names a user other than root:
 *
 * - the user that `ACSCurrent` names holds `ACSCurrent`'s password. A secret rotated "single"
 *   changes that one user, so its password may also be `ACSPending`'s while a rotation is under way;
 * - every other user a labelled version (`ACSCurrent`, `ACSPending`, `ACSPrevious`) names holds a
 *   password that some labelled version names for that user (or does not exist yet).
 *
 * A secret's strategy is its fixture's `strategy`, else inferred: "single" while every labelled
 * version names the same user, "alternating" as soon as two users are named.
 */
import { type InstanceState, type SecretState, type UserStrategy, ACS_CURRENT, ACS_PENDING, ACS_PREVIOUS } from './model';
import { findUser, ROOT_USER, userKey } from './mongo-users';
import { accountNameOf, accountPasswordOf, authDatabaseOf } from './secret-data';

export interface UserBreach {
  secretName: string;
  instanceId: string;
  user: string;
  db: string;
  /**
   * `current`: the user `ACSCurrent` names lacks `ACSCurrent`'s password (or does not exist);
   * `labelled`: a user a labelled version names holds a password no labelled version names for it.
   */
  rule: 'current' | 'labelled';
}

interface NamedAccount {
  stage: string;
  user: string;
  db: string;
  password: string;
}

const LABELS = [ACS_CURRENT, ACS_PENDING, ACS_PREVIOUS];

const versionWith = (secret: SecretState, stage: string) => secret.versions.find((v) => v.stages.includes(stage));

/** The user and password the version labelled `stage` names; undefined when it names no user or no password. */
function accountAt(secret: SecretState, stage: string): NamedAccount | undefined {
  const data = versionWith(secret, stage)?.data;
  if (data === undefined) return undefined;
  const user = accountNameOf(data);
  const password = accountPasswordOf(data);
  if (user === undefined || password === undefined) return undefined;
  return { stage, user, db: authDatabaseOf(data), password };
}

/** A secret of an application user: the version applications read (or, before the first promote, the pending one) names a user other than root. */
export function isApplicationUserSecret(secret: SecretState): boolean {
  const data = versionWith(secret, ACS_CURRENT)?.data ?? versionWith(secret, ACS_PENDING)?.data;
  const name = data === undefined ? undefined : accountNameOf(data);
  return name !== undefined && name !== ROOT_USER;
}

function strategyOf(secret: SecretState, accounts: NamedAccount[]): UserStrategy {
  if (secret.strategy) return secret.strategy;
  return new Set(accounts.map((a) => userKey(a.user, a.db))).size > 1 ? 'alternating' : 'single';
}

/** The breaches of one application-user secret bound to `instance`. */
export function userBreachesOf(secret: SecretState, instance: InstanceState): UserBreach[] {
  const accounts = LABELS.map((stage) => accountAt(secret, stage)).filter((a): a is NamedAccount => a !== undefined);
  const current = accounts.find((a) => a.stage === ACS_CURRENT);
  if (!current) return [];
  const breach = (account: NamedAccount, rule: UserBreach['rule']): UserBreach => ({
    secretName: secret.name,
    instanceId: instance.id,
    user: account.user,
    db: account.db,
    rule,
  });
  const sameUser = (a: NamedAccount, b: NamedAccount) => a.user === b.user && a.db === b.db;

  const breaches: UserBreach[] = [];
  const accepted = [current.password];
  if (strategyOf(secret, accounts) === 'single') {
    const pending = accounts.find((a) => a.stage === ACS_PENDING && sameUser(a, current));
    if (pending) accepted.push(pending.password);
  }
  const held = findUser(instance, current.user, current.db)?.password;
  if (held === undefined || !accepted.includes(held)) breaches.push(breach(current, 'current'));

  const others = new Map<string, NamedAccount[]>();
  for (const account of accounts) {
    if (sameUser(account, current)) continue;
    const key = userKey(account.user, account.db);
    others.set(key, [...(others.get(key) ?? []), account]);
  }
  for (const named of others.values()) {
    const password = findUser(instance, named[0].user, named[0].db)?.password;
    if (password !== undefined && !named.some((a) => a.password === password)) breaches.push(breach(named[0], 'labelled'));
  }
  return breaches;
}
