// The users a peer authenticates and manages: root (whose password is the instance's root
// password) and the application users, kept in a store (the local cloud's state, or memory for a
// peer started on its own). SCRAM credentials are derived once per user and password.
import {
  type MongoUserState,
  type UserMechanism,
  ADMIN_DB,
  isRootUser,
  newUserId,
  ROOT_ROLES,
  ROOT_USER,
  USER_MECHANISMS,
  userKey,
} from '../state/mongo-users';
import { type ScramCredentials, deriveCredentials } from './scram';

/** Where a peer's users are kept. */
export interface UserStore {
  /** root's password: the root password of the role a login goes through. */
  rootPassword(): string;
  setRootPassword(password: string): void;
  /** The users other than root. */
  users(): readonly MongoUserState[];
  /** Adds or replaces a user other than root. */
  put(user: MongoUserState): void;
  remove(user: string, db: string): boolean;
}

/** A user as the peer sees it, root included: the shape the state keeps for application users. */
export type Account = MongoUserState;

/** A store of its own, for a peer started without the local cloud: root's password comes from `rootPassword`. */
export function memoryUserStore(rootPassword: () => string): UserStore {
  let changedRootPassword: string | undefined;
  const users: MongoUserState[] = [];
  return {
    rootPassword: () => changedRootPassword ?? rootPassword(),
    setRootPassword: (password) => void (changedRootPassword = password),
    users: () => users,
    put(user) {
      const index = users.findIndex((each) => each.user === user.user && each.db === user.db);
      if (index >= 0) users[index] = user;
      else users.push(user);
    },
    remove(user, db) {
      const index = users.findIndex((each) => each.user === user && each.db === db);
      if (index >= 0) users.splice(index, 1);
      return index >= 0;
    },
  };
}

interface CachedCredentials {
  password: string;
  mechanism: UserMechanism;
  credentials: Promise<ScramCredentials>;
}

export class UserDirectory {
  private readonly rootUserId = newUserId();
  private readonly credentialCache = new Map<string, CachedCredentials>();

  constructor(private readonly store: UserStore) {}

  find(user: string, db: string): Account | undefined {
    if (isRootUser(user, db)) return this.root();
    const found = this.store.users().find((each) => each.user === user && each.db === db);
    return found && { ...found, roles: found.roles.map((role) => ({ ...role })), mechanisms: [...found.mechanisms] };
  }

  /** Every user, ordered by user then db, as `usersInfo` answers. */
  list(): Account[] {
    const users = [this.root(), ...this.store.users().map((each) => this.find(each.user, each.db)!)];
    return users.sort((a, b) => compare(a.user, b.user) || compare(a.db, b.db));
  }

  /** The stored credentials of a user for a mechanism: derived again only when its password changed. */
  credentials(account: Account, mechanism: UserMechanism): Promise<ScramCredentials> {
    const key = `${mechanism}\u0000${userKey(account.user, account.db)}`;
    const cached = this.credentialCache.get(key);
    if (cached?.password === account.password) return cached.credentials;
    const credentials = deriveCredentials(mechanism, account.user, account.password);
    this.credentialCache.set(key, { password: account.password, mechanism, credentials });
    return credentials;
  }

  create(user: Omit<MongoUserState, 'userId'>): void {
    this.store.put({ ...user, userId: newUserId() });
  }

  /** Changes a user; root's password is the instance's root password, its roles and mechanisms are fixed. */
  update(account: Account, changes: Partial<Pick<Account, 'password' | 'roles' | 'mechanisms' | 'customData'>>): void {
    if (isRootUser(account.user, account.db)) {
      if (changes.password !== undefined) this.store.setRootPassword(changes.password);
      return;
    }
    const { password, roles, mechanisms, customData, userId } = { ...account, ...changes };
    const updated: MongoUserState = { user: account.user, db: account.db, userId, password, roles, mechanisms };
    if (customData !== undefined) updated.customData = customData;
    this.store.put(updated);
  }

  drop(user: string, db: string): boolean {
    return this.store.remove(user, db);
  }

  private root(): Account {
    return {
      user: ROOT_USER,
      db: ADMIN_DB,
      userId: this.rootUserId,
      password: this.store.rootPassword(),
      roles: ROOT_ROLES.map((role) => ({ ...role })),
      mechanisms: [...USER_MECHANISMS],
    };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
