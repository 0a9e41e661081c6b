import type { Product } from '../http/api-error';
import type { Fixture, FixtureAccessKey, FixtureInstance, FixtureSecret } from './fixture';
import { type StateSnapshot, StateHistory } from './history';
import { type RecordedBreach, BreachTracker, READABLE_LABELS, boundInstanceId, findBreaches } from './invariant';
import { type Connection, type InstanceState, type Role, type SecretState, ACS_CURRENT, rolesOf } from './model';
import { type MongoUserView, findUser, isRootUser, loginRole, newUserId, usersOf } from './mongo-users';
import { type RequestRecord, REDACTED, redactParams } from './request-log';
import { accountPasswordOf } from './secret-data';

/**
 * What a check is attributed to: a request, a command to a MongoDB peer (`product: 'mongo'`, the
 * command's name as `action`), or a change made to the truth directly (`product: 'truth'`).
 */
export interface ViolationCause {
  requestId: string;
  product: Product | 'mongo' | 'truth';
  action: string;
}

/**
 * A breach of the invariant, recorded when it opens (`ongoing: false`) and again whenever a write leaves its role
 * on yet another password no label holds while it is open (`ongoing: true`; see BreachTracker). It names no password.
 */
export type Violation = RecordedBreach & ViolationCause & { time: string };

export interface SecretVersionView {
  versionId: string;
  data: string;
  stages: string[];
  createTime: string;
}

export interface SecretView {
  name: string;
  instanceId?: string;
  versions: SecretVersionView[];
}

/** What tests read (and, to stage a drift, write) behind the APIs' back. */
export interface Truth {
  /** role: `db` (default) or `cs` for a sharded cluster, `normal` (default) for a replica set. */
  rootPassword(instanceId: string, role?: Role): string;
  rootPasswords(instanceId: string): Partial<Record<Role, string>>;
  instance(instanceId: string): InstanceState | undefined;
  secret(name: string): SecretView | undefined;
  /** AccountPassword of the version carrying `stage` (default ACSCurrent). */
  secretPassword(name: string, stage?: string): string | undefined;
  /** Sets the root password of `role`, or of every role when omitted, then checks the invariant. */
  setRootPassword(instanceId: string, password: string, role?: Role): void;
  /**
   * The instance's MongoDB users, root first (its password: the root password a login checks,
   * `normal`, or `cs` behind a sharded cluster's mongos), with their passwords and roles.
   */
  users(instanceId: string): MongoUserView[];
  /** The password `user` of `db` (default `admin`) holds; undefined for a user the instance lacks. */
  userPassword(instanceId: string, user: string, db?: string): string | undefined;
  /** Sets an existing user's password behind the database's back (staging a drift), then checks the invariant. */
  setUserPassword(instanceId: string, user: string, password: string, db?: string): void;
  readonly violations: readonly Violation[];
  /**
   * Breaches of the weaker rule, recorded like `violations`: a root password that no version labelled
   * ACSCurrent, ACSPending or ACSPrevious holds, i.e. that KMS no longer has at all.
   */
  readonly unreadable: readonly Violation[];
  readonly requests: readonly RequestRecord[];
  writeRequests(): RequestRecord[];
  /** Every password the cloud held, was sent or stored in a secret: for the suites' secrecy scans. */
  passwordsSeen(): string[];
}

const FIXTURE_CAUSE: ViolationCause = { requestId: 'fixture', product: 'truth', action: 'loadFixture' };

export class CloudState {
  readonly region: string;
  readonly accountId: string;
  readonly accessKeys: FixtureAccessKey[];
  /** The account's KMS 3.0 instances (ids); empty: CreateSecret takes no DKMSInstanceId. */
  readonly kmsInstances: ReadonlySet<string>;
  readonly truth: Truth;
  private readonly instances = new Map<string, InstanceState>();
  private readonly secrets = new Map<string, SecretState>();
  private readonly requestLog: RequestRecord[] = [];
  private readonly violationLog: Violation[] = [];
  private readonly breaches = new BreachTracker();
  private readonly unreadableLog: Violation[] = [];
  private readonly unreadableBreaches = new BreachTracker();
  private readonly passwords = new Set<string>();
  /** Past states, for reads that lag (`keepHistory`, `readAsOf`). */
  private readonly history = new StateHistory(() => ({ instances: this.instances, secrets: this.secrets }));
  /** Set while a lagging read runs: what findInstance, listInstances and findSecret answer from. */
  private pastView: StateSnapshot | undefined;

  constructor(fixture: Fixture) {
    this.region = fixture.region;
    this.accountId = fixture.accountId;
    this.accessKeys = fixture.accessKeys.map((key) => ({ ...key }));
    this.kmsInstances = new Set(fixture.kmsInstances.map((instance) => instance.id));
    for (const instance of fixture.instances) this.instances.set(instance.id, this.seedInstance(instance));
    for (const secret of fixture.secrets) this.addSecret(seedSecret(secret));
    this.truth = this.createTruth();
    this.checkInvariant(FIXTURE_CAUSE);
  }

  findInstance(id: string): InstanceState | undefined {
    return (this.pastView?.instances ?? this.instances).get(id);
  }

  listInstances(): InstanceState[] {
    return [...(this.pastView?.instances ?? this.instances).values()];
  }

  findSecret(name: string): SecretState | undefined {
    return (this.pastView?.secrets ?? this.secrets).get(name);
  }

  /** Keeps the last `ms` of the state's history for reads that lag; 0 keeps none. */
  keepHistory(ms: number): void {
    this.history.retain(ms);
  }

  /**
   * Runs a read (never a write) over the state as it was at `time` (ms since the epoch): the
   * instances and secrets it finds are frozen copies of then; a secret created since is not found.
   * Without history kept, over the state as it is.
   */
  readAsOf<T>(time: number, read: () => T): T {
    this.history.record();
    const past = this.history.asOf(time);
    if (!past) return read();
    this.pastView = past;
    try {
      return read();
    } finally {
      this.pastView = undefined;
    }
  }

  addSecret(secret: SecretState): void {
    this.secrets.set(secret.name, secret);
    for (const version of secret.versions) this.noteSecretData(version.data);
  }

  setRootPassword(instanceId: string, role: Role, password: string): void {
    this.requireInstance(instanceId).rootPasswords[role] = password;
    this.notePassword(password);
  }

  setInstanceStatus(instanceId: string, status: string): void {
    this.requireInstance(instanceId).status = status;
    this.history.record();
  }

  instanceStatus(instanceId: string): string {
    return this.requireInstance(instanceId).status;
  }

  /**
   * Points an instance's endpoints at a MongoDB login peer; `undefined` restores the made-up ones.
   * The endpoint is the instance's from the start: reads that lag see it too (the history restarts).
   */
  setInstanceConnection(instanceId: string, connection: Connection | undefined): void {
    const instance = this.requireInstance(instanceId);
    if (connection) instance.connection = { ...connection };
    else delete instance.connection;
    this.history.rebase();
  }

  notePassword(password: string): void {
    if (password !== '' && password !== REDACTED) this.passwords.add(password);
  }

  noteSecretData(data: string): void {
    const password = accountPasswordOf(data);
    if (password !== undefined) this.notePassword(password);
  }

  /** Logs a request; its passwords and secret data are noted for the secrecy scans, then redacted. */
  recordRequest(entry: RequestRecord): void {
    if (entry.params.AccountPassword !== undefined) this.notePassword(entry.params.AccountPassword);
    if (entry.params.SecretData !== undefined) this.noteSecretData(entry.params.SecretData);
    this.requestLog.push({ ...entry, params: redactParams(entry.params) });
  }

  /** Checks the invariant; records (and returns) the breaches this cause opened or made worse (BreachTracker). */
  checkInvariant(cause: ViolationCause): Violation[] {
    this.history.record();
    const time = new Date().toISOString();
    const fresh = this.breaches.record(findBreaches(this.instances, this.secrets.values())).map((breach) => ({ time, ...breach, ...cause }));
    this.violationLog.push(...fresh);
    const lost = this.unreadableBreaches.record(findBreaches(this.instances, this.secrets.values(), READABLE_LABELS));
    this.unreadableLog.push(...lost.map((breach) => ({ time, ...breach, ...cause })));
    return fresh;
  }

  private requireInstance(instanceId: string): InstanceState {
    const instance = this.instances.get(instanceId);
    if (!instance) throw new Error(`the local cloud has no instance "${instanceId}"`);
    return instance;
  }

  private seedInstance(seed: FixtureInstance): InstanceState {
    const { rootPassword, connection, tags, users, ...rest } = seed;
    this.notePassword(rootPassword);
    const rootPasswords = Object.fromEntries(rolesOf(seed.type).map((role) => [role, rootPassword]));
    const instance: InstanceState = { ...rest, tags: { ...tags }, rootPasswords };
    if (connection) instance.connection = { ...connection };
    if (users) {
      for (const user of users) this.notePassword(user.password);
      instance.users = users.map((user) => ({ ...structuredClone(user), userId: newUserId() }));
    }
    return instance;
  }

  private createTruth(): Truth {
    const state = this;
    const roleOf = (instance: InstanceState, role: Role | undefined): Role => {
      const roles = rolesOf(instance.type);
      const chosen = role ?? roles[0];
      if (!roles.includes(chosen)) throw new Error(`a ${instance.type} instance has no role "${chosen}"; its roles: ${roles.join(', ')}`);
      return chosen;
    };
    return {
      rootPassword(instanceId, role) {
        const instance = state.requireInstance(instanceId);
        return instance.rootPasswords[roleOf(instance, role)]!; // seeded for every role of its type
      },
      rootPasswords: (instanceId) => ({ ...state.requireInstance(instanceId).rootPasswords }),
      instance: (instanceId) => {
        const instance = state.instances.get(instanceId);
        return instance && structuredClone(instance);
      },
      secret: (name) => {
        const secret = state.secrets.get(name);
        if (!secret) return undefined;
        const view: SecretView = {
          name,
          versions: secret.versions.map(({ versionId, data, stages, createTime }) => ({ versionId, data, stages: [...stages], createTime })),
        };
        const instanceId = boundInstanceId(secret, state.instances);
        if (instanceId !== undefined) view.instanceId = instanceId;
        return view;
      },
      secretPassword: (name, stage = ACS_CURRENT) => {
        const version = state.secrets.get(name)?.versions.find((v) => v.stages.includes(stage));
        return version && accountPasswordOf(version.data);
      },
      setRootPassword(instanceId, password, role) {
        const instance = state.requireInstance(instanceId);
        const roles = role === undefined ? rolesOf(instance.type) : [roleOf(instance, role)];
        for (const each of roles) state.setRootPassword(instanceId, each, password);
        state.checkInvariant({ requestId: 'truth', product: 'truth', action: 'setRootPassword' });
      },
      users: (instanceId) => usersOf(state, state.requireInstance(instanceId)),
      userPassword: (instanceId, user, db = 'admin') =>
        usersOf(state, state.requireInstance(instanceId)).find((u) => u.user === user && u.db === db)?.password,
      setUserPassword(instanceId, user, password, db = 'admin') {
        const instance = state.requireInstance(instanceId);
        if (isRootUser(user, db)) {
          state.setRootPassword(instanceId, loginRole(instance), password);
        } else {
          const stored = findUser(instance, user, db);
          if (!stored) throw new Error(`instance "${instanceId}" has no MongoDB user "${user}" on "${db}"`);
          stored.password = password;
          state.notePassword(password);
        }
        state.checkInvariant({ requestId: 'truth', product: 'truth', action: 'setUserPassword' });
      },
      get violations() {
        return state.violationLog;
      },
      get unreadable() {
        return state.unreadableLog;
      },
      get requests() {
        return state.requestLog;
      },
      writeRequests: () => state.requestLog.filter((request) => request.write),
      passwordsSeen: () => [...state.passwords],
    };
  }
}

function seedSecret(seed: FixtureSecret): SecretState {
  const updateTime = seed.versions.map((v) => v.createTime).sort().at(-1) ?? seed.createTime;
  const secret: SecretState = {
    name: seed.name,
    description: seed.description,
    tags: {},
    createTime: seed.createTime,
    updateTime,
    versions: [...seed.versions]
      .sort((a, b) => a.createTime.localeCompare(b.createTime))
      .map((v) => ({ ...v, stages: [...v.stages] })),
  };
  if (seed.instanceId !== undefined) secret.instanceId = seed.instanceId;
  if (seed.plannedDeleteTime !== undefined) secret.plannedDeleteTime = seed.plannedDeleteTime;
  if (seed.strategy !== undefined) secret.strategy = seed.strategy;
  return secret;
}

export function createCloudState(fixture: Fixture): CloudState {
  return new CloudState(fixture);
}
