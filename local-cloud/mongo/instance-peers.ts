// One MongoDB peer per instance of the local cloud, shown as the instance's address in
// DescribeDBInstanceAttribute. Its users are the instance's in the truth: root with the root
// password of the role a real login goes through, and the application users. After every user
// command the invariant monitor checks, as after every API write. Faults act on logins (refused,
// or checked against a frozen root password) and on commands (dropped, held, failed, hooked).
import { replicaSetNameOf } from '../dds/instance-view';
import type { FaultHandle } from '../faults/fault-controls';
import type { CloudState, InstanceState } from '../state';
import { isRootUser, loginRole, putUser, removeUser } from '../state/mongo-users';
import {
  type CommandDropFault,
  type CommandErrorFault,
  type CommandHangFault,
  type CommandHook,
  type CommandHookPhase,
  type CommandMatch,
  CommandFaults,
} from './command-faults';
import type { CommandObserver, CommandRecord } from './connection';
import type { MongoFaultSetup } from './fixture-faults';
import { startMongoPeer, type MongoPeer, type MongoPeerOptions, type PeerTls } from './index';
import { USER_WRITE_COMMANDS } from './user-commands';
import type { UserStore } from './users';

export { loginRole } from '../state/mongo-users';
export type { ArrivingCommand, CommandMatch, CommandHookPhase } from './command-faults';

export interface InstancePeers {
  /** The peer of an instance; throws for an instance that has none. */
  peer(instanceId: string): MongoPeer;
  /** Instance ids that have a peer. */
  readonly instanceIds: string[];
  /**
   * Fault: the instance's logins fail as with a wrong password (code 18), every one of them, or
   * only the next `times`; only those of `user` (on `db`, default admin) when given. `hits` counts
   * the logins refused.
   */
  rejectLogins(instanceId: string, options?: { times?: number; user?: string; db?: string }): FaultHandle;
  /**
   * Fault: root's logins keep checking the password the instance holds now, whatever later resets
   * set (a reset that the API accepted but the login path never saw). `hits` counts root's logins.
   */
  freezePassword(instanceId: string): FaultHandle;
  /** Fault: the connection is dropped as a matching command arrives (or, `after`, once it was applied). */
  drop(spec?: CommandDropFault): FaultHandle;
  /** Fault: a matching command is held `ms` (past the client's timeout), then applied; `after`: applied, then held. */
  hang(spec: CommandHangFault): FaultHandle;
  /** Fault: a matching command is answered with an error, unapplied. */
  error(spec: CommandErrorFault): FaultHandle;
  /** Runs `hook` as a matching command arrives (then drops it), just before it is applied, or just after. */
  onCommand(spec: CommandMatch & { phase: CommandHookPhase }, hook: CommandHook): FaultHandle;
  /** Resolves once no command a fault delayed (held, or hooked before or after) is still on its way: what was held has been applied. */
  settled(): Promise<void>;
  /** Every command the peers served, hellos aside, oldest first; no password. */
  readonly commands: readonly CommandRecord[];
  /** Removes every fault of every peer. */
  clearFaults(): void;
  close(): Promise<void>;
}

interface LoginRejection {
  left: number;
  hits: number;
  user?: { user: string; db: string };
}

interface LoginFaults {
  rejections: LoginRejection[];
  frozen?: { password: string; hits: number };
}

/** Starts a peer for each of `instanceIds` (default: every instance) and points its address at it. */
export interface PeerSetup {
  /** The fixture's `mongoFaults`, applied once the peers listen. */
  fixtureFaults?: readonly MongoFaultSetup[];
  /** The peers accept TLS connections only. */
  tls?: PeerTls;
}

export async function startInstancePeers(state: CloudState, instanceIds?: readonly string[], setup: PeerSetup = {}): Promise<InstancePeers> {
  const instances = instanceIds === undefined ? state.listInstances() : instanceIds.map((id) => requireInstance(state, id));
  const commandFaults = new CommandFaults();
  const commands: CommandRecord[] = [];
  const observer = checkingObserver(state, commands);
  const peers = new Map<string, MongoPeer>();
  const loginFaults = new Map<string, LoginFaults>();
  try {
    for (const instance of instances) {
      const fault: LoginFaults = { rejections: [] };
      loginFaults.set(instance.id, fault);
      peers.set(instance.id, await startInstancePeer(state, instance, fault, { faults: commandFaults, observer, tls: setup.tls }));
    }
  } catch (err) {
    await Promise.all([...peers.values()].map((peer) => peer.close()));
    throw err;
  }
  for (const [id, peer] of peers) state.setInstanceConnection(id, { host: peer.host, port: peer.port });

  const faultOf = (instanceId: string): LoginFaults => {
    const fault = loginFaults.get(instanceId);
    if (!fault) throw new Error(`the local cloud runs no MongoDB login peer for instance "${instanceId}"`);
    return fault;
  };
  const clearFaults = () => {
    commandFaults.clear();
    for (const fault of loginFaults.values()) {
      fault.rejections = [];
      delete fault.frozen;
    }
  };

  const peersApi: InstancePeers = {
    peer(instanceId) {
      faultOf(instanceId);
      return peers.get(instanceId) as MongoPeer;
    },
    instanceIds: [...peers.keys()],
    rejectLogins(instanceId, options = {}) {
      const fault = faultOf(instanceId);
      const rejection: LoginRejection = { left: options.times ?? Number.POSITIVE_INFINITY, hits: 0 };
      if (options.user !== undefined) rejection.user = { user: options.user, db: options.db ?? 'admin' };
      fault.rejections.push(rejection);
      return {
        remove: () => void (fault.rejections = fault.rejections.filter((r) => r !== rejection)),
        get hits() {
          return rejection.hits;
        },
      };
    },
    freezePassword(instanceId) {
      const fault = faultOf(instanceId);
      const instance = requireInstance(state, instanceId);
      const frozen = { password: state.truth.rootPassword(instanceId, loginRole(instance)), hits: 0 };
      fault.frozen = frozen;
      return {
        remove: () => {
          if (fault.frozen === frozen) delete fault.frozen;
        },
        get hits() {
          return frozen.hits;
        },
      };
    },
    drop: (spec) => commandFaults.drop(spec),
    hang: (spec) => commandFaults.hang(spec),
    error: (spec) => commandFaults.error(spec),
    onCommand: (spec, hook) => commandFaults.onCommand(spec, hook),
    settled: () => commandFaults.settled(),
    commands,
    clearFaults,
    async close() {
      clearFaults();
      commandFaults.close();
      await Promise.all([...peers.values()].map((peer) => peer.close()));
    },
  };
  try {
    for (const apply of setup.fixtureFaults ?? []) apply(peersApi);
  } catch (err) {
    await peersApi.close();
    throw err;
  }
  return peersApi;
}

/** Logs every command; after each user command applied, the invariant monitor checks (attributed to the command). */
function checkingObserver(state: CloudState, commands: CommandRecord[]): CommandObserver {
  return {
    passwordSeen: (password) => state.notePassword(password),
    applied(command) {
      if (USER_WRITE_COMMANDS.has(command.command)) {
        state.checkInvariant({ requestId: command.requestId, product: 'mongo', action: command.command });
      }
    },
    finished: (record) => void commands.push(record),
  };
}

function startInstancePeer(
  state: CloudState,
  instance: InstanceState,
  fault: LoginFaults,
  wiring: Pick<MongoPeerOptions, 'faults' | 'observer' | 'tls'>,
): Promise<MongoPeer> {
  return startMongoPeer({
    ...wiring,
    users: instanceUsers(state, instance, fault),
    loginChecked: (account) => {
      if (fault.frozen && isRootUser(account.user, account.db)) fault.frozen.hits += 1;
    },
    rejectAll: (user) => {
      const rejection = fault.rejections.find(
        (r) => r.left > 0 && (r.user === undefined || (r.user.user === user.user && r.user.db === user.db)),
      );
      if (!rejection) return false;
      rejection.left -= 1;
      rejection.hits += 1;
      return true;
    },
    instanceId: instance.id,
    ...(instance.type === 'replicate' ? { setName: replicaSetNameOf(instance) } : {}),
  });
}

/** The instance's users in the truth; a frozen root password stands in for root's while the fault is on. */
function instanceUsers(state: CloudState, instance: InstanceState, fault: LoginFaults): UserStore {
  const role = loginRole(instance);
  return {
    rootPassword: () => fault.frozen?.password ?? state.truth.rootPassword(instance.id, role),
    setRootPassword: (password) => state.setRootPassword(instance.id, role, password),
    users: () => instance.users ?? [],
    put: (user) => putUser(state, instance, user),
    remove: (user, db) => removeUser(instance, user, db),
  };
}

function requireInstance(state: CloudState, instanceId: string): InstanceState {
  const instance = state.findInstance(instanceId);
  if (!instance) throw new Error(`the local cloud has no instance "${instanceId}" to start a MongoDB login peer for`);
  return instance;
}
