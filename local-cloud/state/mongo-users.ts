/**
 * The MongoDB users of an instance, as its database holds them. `root` is the instance's root
 * account: its password is the root password of the role a login goes through (a replica set's
 * `normal`, a sharded cluster's config servers, `cs`), so that `ResetAccountPassword` changes it.
 * Every other user is kept on the instance (`InstanceState.users`); a sharded cluster's users live
 * on its config servers, so they are the cluster's, whatever mongos a client goes through.
 */
import { randomUUID } from 'node:crypto';
import type { CloudState } from './cloud-state';
import type { InstanceState, Role } from './model';

export const USER_MECHANISMS = ['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const;
export type UserMechanism = (typeof USER_MECHANISMS)[number];

export interface RoleRef {
  role: string;
  db: string;
}

/** An application user as the database holds it (root is not one: see `rootUser`). */
export interface MongoUserState {
  user: string;
  db: string;
  /** MongoDB's `userId` (a UUID), new for every user created. */
  userId: string;
  password: string;
  roles: RoleRef[];
  mechanisms: UserMechanism[];
  customData?: Record<string, unknown>;
}

/** A user as the truth shows it, root included. */
export interface MongoUserView {
  user: string;
  db: string;
  password: string;
  roles: RoleRef[];
  mechanisms: UserMechanism[];
}

export const ROOT_USER = 'root';
export const ADMIN_DB = 'admin';
export const ROOT_ROLES: readonly RoleRef[] = [{ role: 'root', db: ADMIN_DB }];

export const isRootUser = (user: string, db: string): boolean => user === ROOT_USER && db === ADMIN_DB;

/** The role whose root password a login checks: a replica set's only one, or the config servers' behind a mongos. */
export function loginRole(instance: Pick<InstanceState, 'type'>): Role {
  return instance.type === 'sharding' ? 'cs' : 'normal';
}

/** Roles that exist on every database. */
const DATABASE_ROLES = ['read', 'readWrite', 'dbAdmin', 'dbOwner', 'userAdmin'];
/** Roles that exist on `admin` only. */
const ADMIN_ROLES = [
  'readAnyDatabase',
  'readWriteAnyDatabase',
  'userAdminAnyDatabase',
  'dbAdminAnyDatabase',
  'clusterAdmin',
  'clusterManager',
  'clusterMonitor',
  'hostManager',
  'backup',
  'restore',
  'enableSharding',
  'directShardOperations',
  'root',
  '__system',
];

/** MongoDB's built-in roles (the local cloud has no user-defined ones). */
export function isBuiltinRole({ role, db }: RoleRef): boolean {
  return DATABASE_ROLES.includes(role) || (db === ADMIN_DB && ADMIN_ROLES.includes(role));
}

export const userKey = (user: string, db: string): string => `${db}.${user}`;

export function newUserId(): string {
  return randomUUID();
}

/** Every user of the instance, root first, then by user and db as `usersInfo` sorts them. */
export function usersOf(state: CloudState, instance: InstanceState): MongoUserView[] {
  const root: MongoUserView = {
    user: ROOT_USER,
    db: ADMIN_DB,
    password: state.truth.rootPassword(instance.id, loginRole(instance)),
    roles: ROOT_ROLES.map((role) => ({ ...role })),
    mechanisms: [...USER_MECHANISMS],
  };
  const others = [...(instance.users ?? [])]
    .sort((a, b) => a.user.localeCompare(b.user) || a.db.localeCompare(b.db))
    .map(({ user, db, password, roles, mechanisms }) => ({ user, db, password, roles: roles.map((r) => ({ ...r })), mechanisms: [...mechanisms] }));
  return [root, ...others];
}

export function findUser(instance: InstanceState, user: string, db: string): MongoUserState | undefined {
  return instance.users?.find((each) => each.user === user && each.db === db);
}

/** Adds or replaces an application user; its password is noted for the secrecy scans. */
export function putUser(state: CloudState, instance: InstanceState, user: MongoUserState): void {
  state.notePassword(user.password);
  const users = (instance.users ??= []);
  const index = users.findIndex((each) => each.user === user.user && each.db === user.db);
  if (index >= 0) users[index] = user;
  else users.push(user);
}

export function removeUser(instance: InstanceState, user: string, db: string): boolean {
  const users = instance.users ?? [];
  const index = users.findIndex((each) => each.user === user && each.db === db);
  if (index < 0) return false;
  users.splice(index, 1);
  return true;
}
