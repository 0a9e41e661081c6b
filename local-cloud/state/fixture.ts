import { readFileSync } from 'node:fs';
import {
  type Connection,
  type InstanceType,
  type LockMode,
  type SecretDataType,
  ACS_CURRENT,
  LOCK_MODES,
  MAX_SECRET_STAGES,
  MAX_SECRET_VERSIONS,
  SECRET_NAME,
  USER_STRATEGIES,
  type UserStrategy,
} from './model';
import { type RoleRef, type UserMechanism, ADMIN_DB, isBuiltinRole, isRootUser, USER_MECHANISMS } from './mongo-users';
import { isoSeconds, parseFixtureTime } from './time';

/** The seed of a local cloud, as documented in the README ("Fixture format"), with every default filled in. */
export interface Fixture {
  region: string;
  accountId: string;
  accessKeys: FixtureAccessKey[];
  instances: FixtureInstance[];
  secrets: FixtureSecret[];
  /** KMS 3.0 instances of the account; when there are any, CreateSecret needs the DKMSInstanceId of one. */
  kmsInstances: FixtureKmsInstance[];
  /** Passed through untouched: the gateway's fault controls read it. */
  faults?: unknown;
  /** Passed through untouched: the MongoDB peers read it (local-cloud/mongo/fixture-faults.ts). */
  mongoFaults?: unknown;
}

export interface FixtureAccessKey {
  id: string;
  secret: string;
  /** Present on an STS key. */
  securityToken?: string;
  /** A RAM policy document, passed through for the policy evaluator. */
  policy?: Record<string, unknown>;
  /** STS keys only: the RAM role ARN it stands for; the local FC hands it to functions running as that role. */
  role?: string;
}

export interface FixtureInstance {
  id: string;
  type: InstanceType;
  status: string;
  lockMode: LockMode;
  /** Seeds the root password of every role. */
  rootPassword: string;
  tags: Record<string, string>;
  description: string;
  engineVersion: string;
  creationTime: string;
  connection?: Connection;
  /** MongoDB users besides root (a sharded cluster's: on its config servers). */
  users?: FixtureUser[];
}

export interface FixtureUser {
  user: string;
  db: string;
  password: string;
  roles: RoleRef[];
  mechanisms: UserMechanism[];
  customData?: Record<string, unknown>;
}

export interface FixtureSecret {
  name: string;
  instanceId?: string;
  /** How an application user's secret is rotated, for the invariant monitor (inferred when absent). */
  strategy?: UserStrategy;
  description: string;
  createTime: string;
  /** The secret is in its delete window until then. */
  plannedDeleteTime?: string;
  versions: FixtureVersion[];
}

export interface FixtureKmsInstance {
  id: string;
}

export interface FixtureVersion {
  versionId: string;
  data: string;
  dataType: SecretDataType;
  stages: string[];
  createTime: string;
}

export const DEFAULT_ACCOUNT_ID = '1234567890123456';

export class FixtureError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid fixture (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'FixtureError';
  }
}

/**
 * Reads and validates a fixture: a path to a JSON file or the parsed object. Relative times (`-2d`) are
 * resolved against `now`. Throws FixtureError listing every problem, each with its field path and the fix.
 */
export function loadFixture(pathOrObject: string | object, options: { now?: Date } = {}): Fixture {
  const source = typeof pathOrObject === 'string' ? pathOrObject : 'object';
  const raw = typeof pathOrObject === 'string' ? readJson(pathOrObject) : pathOrObject;
  const reader = new FixtureReader(options.now ?? new Date());
  const fixture = reader.fixture(raw);
  if (reader.problems.length > 0 || !fixture) throw new FixtureError(source, reader.problems);
  return fixture;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FixtureError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FixtureError(path, [`not valid JSON${jsonErrorPlace(text, (err as Error).message)}; check the file with a JSON linter`]);
  }
}

/** Where JSON.parse stopped, as line and column: its own message quotes the text, which may hold a password. */
function jsonErrorPlace(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message);
  if (!position) return '';
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const show = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value));
/** A value's type only, for what may hold a password, a key secret or secret data (fields, objects, lists). */
const describe = (value: unknown): string =>
  Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;

/** Walks the raw fixture, collecting problems instead of stopping at the first. */
class FixtureReader {
  readonly problems: string[] = [];

  constructor(private readonly now: Date) {}

  fixture(raw: unknown): Fixture | undefined {
    if (!this.object(raw, '(top level)', ['region', 'accountId', 'accessKeys', 'instances', 'secrets', 'kmsInstances', 'faults', 'mongoFaults'])) return undefined;
    const region = this.string(raw, 'region', '', { required: true, pattern: /^[a-z]+(-[a-z0-9]+)+$/, hint: 'a region id such as "cn-hangzhou"' });
    const accountId = this.string(raw, 'accountId', '', { pattern: /^\d{16}$/, hint: 'sixteen digits' }) ?? DEFAULT_ACCOUNT_ID;
    const accessKeys = this.list(raw, 'accessKeys', '', { required: true, min: 1 }, (item, path) => this.accessKey(item, path));
    const instances = this.list(raw, 'instances', '', { required: true }, (item, path) => this.instance(item, path));
    // Ids of instances with other problems still count, so that their secrets are not blamed as well.
    const instanceIds = new Set(Array.isArray(raw.instances) ? raw.instances.map((i: unknown) => (isObject(i) ? i.id : undefined)) : []);
    const secrets = this.list(raw, 'secrets', '', {}, (item, path) => this.secret(item, path, instanceIds));
    const kmsInstances = this.list(raw, 'kmsInstances', '', {}, (item, path) => this.kmsInstance(item, path));
    this.unique(accessKeys.map((k) => k.id), 'accessKeys', 'id');
    this.unique(instances.map((i) => i.id), 'instances', 'id');
    this.unique(secrets.map((s) => s.name), 'secrets', 'name');
    this.unique(kmsInstances.map((k) => k.id), 'kmsInstances', 'id');
    const fixture: Fixture = { region: region ?? '', accountId, accessKeys, instances, secrets, kmsInstances };
    if ('faults' in raw) fixture.faults = raw.faults;
    if ('mongoFaults' in raw) fixture.mongoFaults = raw.mongoFaults;
    return fixture;
  }

  private accessKey(raw: unknown, path: string): FixtureAccessKey | undefined {
    if (!this.object(raw, path, ['id', 'secret', 'securityToken', 'policy', 'role'])) return undefined;
    const id = this.string(raw, 'id', path, { required: true });
    const secret = this.string(raw, 'secret', path, { required: true, secret: true });
    const securityToken = this.string(raw, 'securityToken', path, { secret: true });
    if (raw.policy !== undefined && !isObject(raw.policy)) {
      this.problems.push(`${path}.policy: must be a RAM policy document (an object), got ${describe(raw.policy)}`);
    }
    const role = this.string(raw, 'role', path, { pattern: /^acs:ram::\d+:role\/[\w.-]+$/, hint: 'a role ARN such as "acs:ram::1234567890123456:role/rotation"' });
    if (role !== undefined && securityToken === undefined) this.problems.push(`${path}.role: only an STS key (with a securityToken) stands for a role`);
    if (id === undefined || secret === undefined) return undefined;
    const key: FixtureAccessKey = { id, secret };
    if (securityToken !== undefined) key.securityToken = securityToken;
    if (isObject(raw.policy)) key.policy = raw.policy;
    if (role !== undefined) key.role = role;
    return key;
  }

  private instance(raw: unknown, path: string): FixtureInstance | undefined {
    const fields = ['id', 'type', 'status', 'lockMode', 'rootPassword', 'tags', 'description', 'engineVersion', 'creationTime', 'connection', 'users'];
    if (!this.object(raw, path, fields)) return undefined;
    const id = this.string(raw, 'id', path, { required: true, pattern: /^[a-z][a-z0-9-]*$/, hint: 'an instance id such as "dds-bp1…"' });
    const type = this.oneOf(raw, 'type', path, ['replicate', 'sharding'], true);
    const lockMode = this.oneOf(raw, 'lockMode', path, LOCK_MODES, false) ?? 'Unlock';
    const rootPassword = this.string(raw, 'rootPassword', path, { required: true, secret: true });
    const status = this.string(raw, 'status', path, {}) ?? 'Running';
    const tags = this.tags(raw.tags, `${path}.tags`);
    const description = this.string(raw, 'description', path, { allowEmpty: true }) ?? '';
    const engineVersion = this.string(raw, 'engineVersion', path, {}) ?? '5.0';
    const creationTime = this.time(raw, 'creationTime', path);
    const connection = raw.connection === undefined ? undefined : this.connection(raw.connection, `${path}.connection`);
    const users = this.list(raw, 'users', path, {}, (item, itemPath) => this.user(item, itemPath));
    this.unique(users.map((u) => `${u.user}@${u.db}`), `${path}.users`, 'user');
    if (id === undefined || type === undefined || rootPassword === undefined) return undefined;
    const instance: FixtureInstance = { id, type, status, lockMode, rootPassword, tags, description, engineVersion, creationTime };
    if (connection) instance.connection = connection;
    if (raw.users !== undefined) instance.users = users;
    return instance;
  }

  /** A MongoDB user: `{user, db?, password, roles?, mechanisms?, customData?}`, as `createUser` would take it. */
  private user(raw: unknown, path: string): FixtureUser | undefined {
    if (!this.object(raw, path, ['user', 'db', 'password', 'roles', 'mechanisms', 'customData'])) return undefined;
    const user = this.string(raw, 'user', path, { required: true, pattern: /^[^\0]+$/, hint: 'a user name without NUL characters' });
    const db = this.string(raw, 'db', path, { hint: 'the database the user authenticates against, such as "admin"' }) ?? ADMIN_DB;
    const password = this.string(raw, 'password', path, { required: true, secret: true });
    if (user !== undefined && isRootUser(user, db)) {
      this.problems.push(`${path}.user: "root" on "admin" is the instance's root account, seeded by rootPassword; remove this entry`);
    }
    const roles = this.list(raw, 'roles', path, {}, (item, itemPath) => this.role(item, itemPath, db));
    const mechanisms = raw.mechanisms === undefined ? [...USER_MECHANISMS] : this.mechanisms(raw.mechanisms, `${path}.mechanisms`);
    if (raw.customData !== undefined && !isObject(raw.customData)) {
      this.problem(`${path}.customData`, 'must be an object, such as {"team":"orders"}', raw.customData);
    }
    if (user === undefined || password === undefined || isRootUser(user, db)) return undefined;
    const seeded: FixtureUser = { user, db, password, roles, mechanisms };
    if (isObject(raw.customData)) seeded.customData = raw.customData;
    return seeded;
  }

  /** A role: `"readWrite"` (on the user's db) or `{"role","db"}`; only MongoDB's built-in roles exist here. */
  private role(raw: unknown, path: string, userDb: string): RoleRef | undefined {
    let role: RoleRef | undefined;
    if (typeof raw === 'string' && raw !== '') role = { role: raw, db: userDb };
    else if (isObject(raw) && this.object(raw, path, ['role', 'db'])) {
      const name = this.string(raw, 'role', path, { required: true });
      const db = this.string(raw, 'db', path, { required: true });
      if (name === undefined || db === undefined) return undefined;
      role = { role: name, db };
    } else {
      this.problem(path, 'must be a role name such as "readWrite" or {"role":"readWrite","db":"app"}', raw);
      return undefined;
    }
    if (!isBuiltinRole(role)) {
      this.problems.push(
        `${path}: "${role.role}" is not a built-in role on "${role.db}"; use read, readWrite, dbAdmin, dbOwner or userAdmin on any database, ` +
          'or an AnyDatabase, cluster or root role on "admin"',
      );
      return undefined;
    }
    return role;
  }

  private mechanisms(raw: unknown, path: string): UserMechanism[] {
    const choices = USER_MECHANISMS.map((m) => `"${m}"`).join(', ');
    if (!Array.isArray(raw) || raw.length === 0 || raw.some((m) => !(USER_MECHANISMS as readonly unknown[]).includes(m))) {
      this.problem(path, `must be a non-empty array of ${choices}`, raw);
      return [...USER_MECHANISMS];
    }
    return [...new Set(raw as UserMechanism[])];
  }

  private connection(raw: unknown, path: string): Connection | undefined {
    if (!this.object(raw, path, ['host', 'port'])) return undefined;
    const host = this.string(raw, 'host', path, { required: true });
    const port = raw.port;
    if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
      this.problem(`${path}.port`, 'must be a port number from 1 to 65535', port);
      return undefined;
    }
    return host === undefined ? undefined : { host, port: port as number };
  }

  private kmsInstance(raw: unknown, path: string): FixtureKmsInstance | undefined {
    if (!this.object(raw, path, ['id'])) return undefined;
    const id = this.string(raw, 'id', path, { required: true, pattern: /^kst-[a-z0-9]+$/, hint: 'a KMS instance id such as "kst-hzz65f176a0ogplgq1a2b"' });
    return id === undefined ? undefined : { id };
  }

  private secret(raw: unknown, path: string, instanceIds: Set<unknown>): FixtureSecret | undefined {
    if (!this.object(raw, path, ['name', 'instanceId', 'strategy', 'description', 'createTime', 'plannedDeleteTime', 'versions'])) return undefined;
    const name = this.string(raw, 'name', path, { required: true, pattern: SECRET_NAME, hint: 'up to 192 letters, digits and _/+=.@-' });
    const instanceId = this.string(raw, 'instanceId', path, {});
    if (instanceId !== undefined && !instanceIds.has(instanceId)) {
      this.problem(`${path}.instanceId`, 'must name an instance of this fixture', instanceId);
    }
    const strategy = this.oneOf(raw, 'strategy', path, USER_STRATEGIES, false);
    const description = this.string(raw, 'description', path, { allowEmpty: true }) ?? '';
    const versions = this.list(raw, 'versions', path, { required: true, min: 1 }, (item, itemPath) => this.version(item, itemPath));
    this.checkVersions(versions, `${path}.versions`);
    const createTime = raw.createTime === undefined && versions.length > 0
      ? versions.map((v) => v.createTime).sort()[0]
      : this.time(raw, 'createTime', path);
    const plannedDeleteTime = raw.plannedDeleteTime === undefined ? undefined : this.time(raw, 'plannedDeleteTime', path);
    if (name === undefined) return undefined;
    const secret: FixtureSecret = { name, description, createTime, versions };
    if (instanceId !== undefined) secret.instanceId = instanceId;
    if (plannedDeleteTime !== undefined) secret.plannedDeleteTime = plannedDeleteTime;
    if (strategy !== undefined) secret.strategy = strategy;
    return secret;
  }

  private version(raw: unknown, path: string): FixtureVersion | undefined {
    if (!this.object(raw, path, ['versionId', 'data', 'dataType', 'stages', 'createTime'])) return undefined;
    const versionId = this.string(raw, 'versionId', path, { required: true, pattern: /^.{1,64}$/, hint: '1 to 64 characters' });
    const data = this.string(raw, 'data', path, { required: true, allowEmpty: true, secret: true });
    const dataType = this.oneOf(raw, 'dataType', path, ['text', 'binary'], false) ?? 'text';
    const stages = this.list(raw, 'stages', path, {}, (item, itemPath) => {
      if (typeof item === 'string' && item !== '') return item;
      this.problem(itemPath, 'must be a stage label such as "ACSCurrent"', item);
      return undefined;
    });
    const createTime = this.time(raw, 'createTime', path);
    if (versionId === undefined || data === undefined) return undefined;
    return { versionId, data, dataType, stages, createTime };
  }

  /** KMS's rules: at most 10 versions and 8 labels per secret, each label on one version, one ACSCurrent. */
  private checkVersions(versions: FixtureVersion[], path: string): void {
    if (versions.length > MAX_SECRET_VERSIONS) {
      this.problem(path, `must hold at most ${MAX_SECRET_VERSIONS} versions (KMS keeps no more)`, `${versions.length} versions`);
    }
    this.unique(versions.map((v) => v.versionId), path, 'versionId');
    const holders = new Map<string, string[]>();
    for (const version of versions) {
      for (const stage of version.stages) holders.set(stage, [...(holders.get(stage) ?? []), version.versionId]);
    }
    for (const [stage, ids] of holders) {
      if (ids.length > 1) this.problems.push(`${path}: stage "${stage}" labels ${ids.length} versions (${ids.join(', ')}); a stage labels one version only`);
    }
    if (holders.size > MAX_SECRET_STAGES) {
      this.problems.push(`${path}: ${holders.size} distinct stages; a secret carries at most ${MAX_SECRET_STAGES}`);
    }
    if (versions.length > 0 && !holders.has(ACS_CURRENT)) {
      this.problems.push(`${path}: no version carries "${ACS_CURRENT}"; add it to the stages of the version applications should read`);
    }
  }

  private tags(raw: unknown, path: string): Record<string, string> {
    if (raw === undefined) return {};
    if (!isObject(raw)) {
      this.problem(path, 'must be an object of tag keys to string values, such as {"rotation":"enabled"}', raw);
      return {};
    }
    const tags: Record<string, string> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (typeof value === 'string') tags[key] = value;
      else this.problem(`${path}.${key}`, 'must be a string', value);
    }
    return tags;
  }

  private time(raw: Json, key: string, path: string): string {
    const value = raw[key];
    if (value === undefined) return isoSeconds(this.now);
    const time = typeof value === 'string' ? parseFixtureTime(value, this.now) : undefined;
    if (time === undefined) {
      this.problem(`${join(path, key)}`, 'must be an ISO 8601 UTC time such as "2026-10-01T00:00:00Z" or a relative one such as "-2d" or "+7d" (units s, m, h, d)', value);
      return isoSeconds(this.now);
    }
    return time;
  }

  private object(raw: unknown, path: string, fields: string[]): raw is Json {
    if (!isObject(raw)) {
      this.problems.push(`${path}: must be an object, got ${describe(raw)}`);
      return false;
    }
    for (const key of Object.keys(raw)) {
      if (!fields.includes(key)) this.problems.push(`${join(path, key)}: unknown field; expected one of ${fields.join(', ')}`);
    }
    return true;
  }

  private string(
    raw: Json,
    key: string,
    path: string,
    rule: { required?: boolean; allowEmpty?: boolean; pattern?: RegExp; hint?: string; secret?: boolean },
  ): string | undefined {
    const value = raw[key];
    const at = join(path, key);
    if (value === undefined) {
      if (rule.required) this.problems.push(`${at}: is required${rule.hint ? `; give ${rule.hint}` : ''}`);
      return undefined;
    }
    if (typeof value !== 'string' || (value === '' && !rule.allowEmpty)) {
      const expectation = `must be a non-empty string${rule.hint ? ` (${rule.hint})` : ''}`;
      if (rule.secret) this.problems.push(`${at}: ${expectation}, got ${value === '' ? 'an empty string' : describe(value)}`);
      else this.problem(at, expectation, value);
      return undefined;
    }
    if (rule.pattern && !rule.pattern.test(value)) {
      this.problem(at, `must be ${rule.hint ?? `a string matching ${rule.pattern}`}`, value);
      return undefined;
    }
    return value;
  }

  private oneOf<T extends string>(raw: Json, key: string, path: string, allowed: readonly T[], required: boolean): T | undefined {
    const value = raw[key];
    if (value === undefined && !required) return undefined;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    const choices = allowed.map((a) => `"${a}"`);
    const expected = choices.length === 2 ? choices.join(' or ') : `one of ${choices.join(', ')}`;
    this.problem(join(path, key), `must be ${expected}`, value);
    return undefined;
  }

  private list<T>(
    raw: Json,
    key: string,
    path: string,
    rule: { required?: boolean; min?: number },
    item: (value: unknown, path: string) => T | undefined,
  ): T[] {
    const value = raw[key];
    const at = join(path, key);
    if (value === undefined && !rule.required) return [];
    if (!Array.isArray(value)) {
      this.problems.push(`${at}: must be an array, got ${describe(value)}`);
      return [];
    }
    if (value.length < (rule.min ?? 0)) this.problems.push(`${at}: must hold at least ${rule.min} item${rule.min === 1 ? '' : 's'}`);
    return value.flatMap((entry, index) => {
      const parsed = item(entry, `${at}[${index}]`);
      return parsed === undefined ? [] : [parsed];
    });
  }

  private unique(values: string[], path: string, field: string): void {
    const seen = new Set<string>();
    for (const value of values) {
      if (seen.has(value)) this.problems.push(`${path}: ${field} "${value}" appears more than once; each ${field} must be unique`);
      seen.add(value);
    }
  }

  private problem(path: string, expectation: string, got: unknown): void {
    this.problems.push(`${path}: ${expectation}, got ${show(got)}`);
  }
}

function join(path: string, key: string): string {
  return path === '' || path === '(top level)' ? key : `${path}.${key}`;
}
