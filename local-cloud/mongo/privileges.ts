// What a user's built-in roles let it do, for the commands the peer runs: manage or view the
// users of a database, and read its collections. Roles on `admin` that end in AnyDatabase (and
// root) reach every database; the others reach the database they are granted on.
import type { RoleRef } from '../state/mongo-users';

export type Privilege = 'manageUsers' | 'viewUsers' | 'read';

/** Roles granting a privilege on every database (granted on admin). */
const CLUSTER_WIDE: Record<Privilege, readonly string[]> = {
  manageUsers: ['root', 'userAdminAnyDatabase', '__system'],
  viewUsers: ['root', 'userAdminAnyDatabase', '__system'],
  read: ['root', 'readAnyDatabase', 'readWriteAnyDatabase', '__system'],
};

/** Roles granting a privilege on the database they are granted on. */
const ON_THEIR_DATABASE: Record<Privilege, readonly string[]> = {
  manageUsers: ['userAdmin', 'dbOwner'],
  viewUsers: ['userAdmin', 'dbOwner'],
  read: ['read', 'readWrite', 'dbOwner'],
};

/** Whether `roles` grant `privilege` on database `db`; `db` undefined asks for every database. */
export function grants(roles: readonly RoleRef[], privilege: Privilege, db: string | undefined): boolean {
  return roles.some(
    (granted) =>
      (granted.db === 'admin' && CLUSTER_WIDE[privilege].includes(granted.role)) ||
      (db !== undefined && granted.db === db && ON_THEIR_DATABASE[privilege].includes(granted.role)),
  );
}
