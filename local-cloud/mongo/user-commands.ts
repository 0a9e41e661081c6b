// The user management commands, with MongoDB's reply shapes, checks, codes and messages:
// usersInfo, createUser, updateUser, dropUser. Checks run in MongoDB's order: the command's
// shape, then the caller's privileges, then the command's meaning, then the users themselves.
import { type Document, UUID } from 'bson';
import { type RoleRef, type UserMechanism, isBuiltinRole, isRootUser, USER_MECHANISMS } from '../state/mongo-users';
import { badValue, commandError, notAuthorized, userNotFound } from './errors';
import { grants } from './privileges';
import { isScramMechanism } from './scram';
import type { Account, UserDirectory } from './users';

/** Commands that change users: the invariant monitor checks after each one. */
export const USER_WRITE_COMMANDS: ReadonlySet<string> = new Set(['createUser', 'updateUser', 'dropUser']);
export const USER_COMMANDS: ReadonlySet<string> = new Set([...USER_WRITE_COMMANDS, 'usersInfo']);

export interface CommandContext {
  users: UserDirectory;
  /** The authenticated user, as it is now. */
  caller: Account;
  /** The database the command runs against (`$db`). */
  db: string;
  command: Document;
}

export function runUserCommand(name: string, context: CommandContext): Promise<Document> | Document {
  switch (name) {
    case 'usersInfo':
      return usersInfo(context);
    case 'createUser':
      return createUser(context);
    case 'updateUser':
      return updateUser(context);
    default:
      return dropUser(context);
  }
}

/** A command whose shape is wrong: what MongoDB's command parser answers. */
class ShapeError extends Error {
  constructor(readonly reply: Document) {
    super(String(reply.errmsg));
  }
}

function shapeErrors(run: () => Promise<Document> | Document): Promise<Document> | Document {
  try {
    const reply = run();
    return reply instanceof Promise ? reply.catch(rethrowShape) : reply;
  } catch (err) {
    return rethrowShape(err);
  }
}

function rethrowShape(err: unknown): Document {
  if (err instanceof ShapeError) return err.reply;
  throw err;
}

const bsonType = (value: unknown): string =>
  Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value === 'number' ? (Number.isInteger(value) ? 'int' : 'double') : typeof value === 'object' ? 'object' : typeof value === 'boolean' ? 'bool' : typeof value;

function wrongType(command: string, field: string, value: unknown, expected: string): ShapeError {
  return new ShapeError(
    commandError(14, 'TypeMismatch', `BSON field '${command}.${field}' is the wrong type '${bsonType(value)}', expected type '${expected}'`),
  );
}

function missingField(command: string, field: string): ShapeError {
  return new ShapeError(commandError(40414, 'Location40414', `BSON field '${command}.${field}' is missing but a required field`));
}

function stringField(command: Document, name: string, field: string, required: boolean): string | undefined {
  const value = command[field];
  if (value === undefined) {
    if (required) throw missingField(name, field);
    return undefined;
  }
  if (typeof value !== 'string') throw wrongType(name, field, value, 'string');
  return value;
}

/** `roles`: names (on the command's database) or `{role, db}` documents. */
function rolesField(command: Document, name: string, db: string, required: boolean): RoleRef[] | undefined {
  const value = command.roles;
  if (value === undefined) {
    if (required) throw missingField(name, 'roles');
    return undefined;
  }
  if (!Array.isArray(value)) throw wrongType(name, 'roles', value, 'array');
  return value.map((role: unknown) => {
    if (typeof role === 'string') return { role, db };
    if (typeof role === 'object' && role !== null && typeof (role as Document).role === 'string' && typeof (role as Document).db === 'string') {
      return { role: (role as Document).role as string, db: (role as Document).db as string };
    }
    throw new ShapeError(badValue('role names must be either strings or objects'));
  });
}

function mechanismsField(command: Document, name: string): unknown[] | undefined {
  const value = command.mechanisms;
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw wrongType(name, 'mechanisms', value, 'array');
  value.forEach((mechanism, index) => {
    if (typeof mechanism !== 'string') throw wrongType(name, `mechanisms.${index}`, mechanism, 'string');
  });
  return value;
}

function customDataField(command: Document, name: string): Record<string, unknown> | undefined {
  const value = command.customData;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrongType(name, 'customData', value, 'object');
  return value as Record<string, unknown>;
}

/** The mechanisms to store credentials for: those asked for (each known), else both. */
function credentialMechanisms(asked: unknown[] | undefined, digestPassword: unknown): UserMechanism[] | Document {
  if (asked !== undefined && asked.length === 0) return badValue('mechanisms field must not be empty');
  const unknown = asked?.find((mechanism) => !isScramMechanism(mechanism));
  if (unknown !== undefined) return badValue(`Unknown auth mechanism '${String(unknown)}'`);
  const mechanisms = asked === undefined ? [...USER_MECHANISMS] : [...new Set(asked as UserMechanism[])];
  if (digestPassword === false) {
    return badValue(
      mechanisms.includes('SCRAM-SHA-256')
        ? 'Use of SCRAM-SHA-256 requires undigested passwords'
        : 'the local cloud takes cleartext passwords only: leave digestPassword out',
    );
  }
  return mechanisms;
}

function roleNotFound(roles: RoleRef[]): Document | undefined {
  const unknown = roles.filter((role) => !isBuiltinRole(role)).map((role) => `${role.role}@${role.db}`);
  if (unknown.length === 0) return undefined;
  return commandError(31, 'RoleNotFound', `Could not find role${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
}

/** Managing users of `db`, and granting roles, needs userAdmin on each database involved (or a cluster-wide user admin role). */
function mayManage(context: CommandContext, roles: RoleRef[] = []): boolean {
  return [context.db, ...roles.map((role) => role.db)].every((db) => grants(context.caller.roles, 'manageUsers', db));
}

const rootIsFixed = (): Document =>
  badValue("the local cloud keeps root's roles and mechanisms, and root itself; change its password with updateUser or ResetAccountPassword");

function createUser(context: CommandContext): Promise<Document> | Document {
  return shapeErrors(async () => {
    const { command, db, users } = context;
    const user = stringField(command, 'createUser', 'createUser', true)!;
    const pwd = stringField(command, 'createUser', 'pwd', false);
    const roles = rolesField(command, 'createUser', db, true)!;
    const asked = mechanismsField(command, 'createUser');
    const customData = customDataField(command, 'createUser');
    if (!mayManage(context, roles)) return notAuthorized(db, command);

    if (db === 'local') return badValue('Cannot create users in the local database');
    if (user.includes('\0')) return badValue('Username cannot contain NULL characters');
    if (pwd === undefined) {
      return badValue("Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db");
    }
    const mechanisms = credentialMechanisms(asked, command.digestPassword);
    if (!Array.isArray(mechanisms)) return mechanisms;
    const missingRole = roleNotFound(roles);
    if (missingRole) return missingRole;
    if (users.find(user, db)) return commandError(51003, 'Location51003', `User "${user}@${db}" already exists`);
    users.create({ user, db, password: pwd, roles, mechanisms, ...(customData && { customData }) });
    return { ok: 1 };
  });
}

function updateUser(context: CommandContext): Promise<Document> | Document {
  return shapeErrors(async () => {
    const { command, db, users } = context;
    const user = stringField(command, 'updateUser', 'updateUser', true)!;
    const pwd = stringField(command, 'updateUser', 'pwd', false);
    const roles = rolesField(command, 'updateUser', db, false);
    const asked = mechanismsField(command, 'updateUser');
    const customData = customDataField(command, 'updateUser');
    if (!mayManage(context, roles)) return notAuthorized(db, command);

    if (asked !== undefined && asked.length === 0) return badValue('mechanisms field must not be empty');
    const account = users.find(user, db);
    const changes: Parameters<UserDirectory['update']>[1] = {};
    if (pwd !== undefined) {
      const mechanisms = credentialMechanisms(asked, command.digestPassword);
      if (!Array.isArray(mechanisms)) return mechanisms;
      changes.password = pwd;
      changes.mechanisms = mechanisms;
    } else if (asked !== undefined) {
      if (!account) return userNotFound(`Could not find user "${user}" for db "${db}"`);
      if (asked.some((mechanism) => !account.mechanisms.includes(mechanism as UserMechanism))) {
        return badValue('mechanisms field must be a subset of previously set mechanisms');
      }
      changes.mechanisms = [...new Set(asked as UserMechanism[])];
    }
    if (customData !== undefined) changes.customData = customData;
    if (roles !== undefined) changes.roles = roles;
    if (Object.keys(changes).length === 0) return badValue('Must specify at least one field to update in updateUser');
    const missingRole = roles && roleNotFound(roles);
    if (missingRole) return missingRole;
    if (!account) return userNotFound(`User ${user}@${db} not found`);
    if (isRootUser(user, db) && (roles !== undefined || customData !== undefined || asked !== undefined)) return rootIsFixed();
    users.update(account, changes);
    return { ok: 1 };
  });
}

function dropUser(context: CommandContext): Promise<Document> | Document {
  return shapeErrors(() => {
    const { command, db, users } = context;
    const user = stringField(command, 'dropUser', 'dropUser', true)!;
    if (!mayManage(context)) return notAuthorized(db, command);
    if (isRootUser(user, db)) return rootIsFixed();
    if (!users.drop(user, db)) return userNotFound(`User '${user}@${db}' not found`);
    return { ok: 1 };
  });
}

interface UserName {
  user: string;
  db: string;
}

/** `usersInfo`'s argument: every user of the database, of every database, or the users named. */
type UsersInfoQuery = { all: 'database' | 'cluster' } | { names: UserName[] };

function usersInfoQuery(value: unknown, db: string): UsersInfoQuery | undefined {
  if (typeof value === 'number') return value === 1 ? { all: 'database' } : undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && (value as Document).forAllDBs === true) {
    return Object.keys(value).length === 1 ? { all: 'cluster' } : undefined;
  }
  const names = (Array.isArray(value) ? value : [value]).map((each: unknown) => userName(each, db));
  return names.every((name): name is UserName => name !== undefined) ? { names } : undefined;
}

function userName(value: unknown, db: string): UserName | undefined {
  if (typeof value === 'string') return { user: value, db };
  if (typeof value !== 'object' || value === null) return undefined;
  const { user, db: userDb } = value as Document;
  return typeof user === 'string' && typeof userDb === 'string' ? { user, db: userDb } : undefined;
}

function mayView(context: CommandContext, query: UsersInfoQuery): boolean {
  const { caller } = context;
  if ('all' in query) return grants(caller.roles, 'viewUsers', query.all === 'cluster' ? undefined : context.db);
  return query.names.every(
    (name) => (name.user === caller.user && name.db === caller.db) || grants(caller.roles, 'viewUsers', name.db),
  );
}

async function usersInfo(context: CommandContext): Promise<Document> {
  const { command, db, users } = context;
  const query = usersInfoQuery(command.usersInfo, db);
  if (!query) {
    return badValue('usersInfo takes 1, a user name, a {user, db} document, an array of those, or {forAllDBs: true}');
  }
  if (command.filter !== undefined) return badValue("the local cloud's MongoDB peer does not take a usersInfo filter");
  if (!mayView(context, query)) return notAuthorized(db, command);
  const matches = (account: Account) =>
    'all' in query
      ? query.all === 'cluster' || account.db === db
      : query.names.some((name) => name.user === account.user && name.db === account.db);
  const found = users.list().filter(matches);
  const documents = await Promise.all(found.map((account) => userDocument(context, account)));
  return { users: documents, ok: 1 };
}

/** A user as `usersInfo` shows it: its `system.users` document, credentials only when asked for. */
async function userDocument({ command, users }: CommandContext, account: Account): Promise<Document> {
  const document: Document = {
    _id: `${account.db}.${account.user}`,
    userId: new UUID(account.userId),
    user: account.user,
    db: account.db,
  };
  if (command.showCredentials === true) {
    const credentials: Document = {};
    for (const mechanism of account.mechanisms) {
      const stored = await users.credentials(account, mechanism);
      credentials[mechanism] = {
        iterationCount: stored.iterationCount,
        salt: stored.salt.toString('base64'),
        storedKey: stored.storedKey.toString('base64'),
        serverKey: stored.serverKey.toString('base64'),
      };
    }
    document.credentials = credentials;
  }
  if (account.customData !== undefined && command.showCustomData !== false) document.customData = account.customData;
  document.roles = account.roles.map(({ role, db }) => ({ role, db }));
  document.mechanisms = [...account.mechanisms];
  return document;
}
