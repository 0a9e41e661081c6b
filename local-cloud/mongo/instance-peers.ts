// One login peer per instance of the local cloud, each checking the root password the truth holds
// for the role a real deployment's login goes through, and shown as the instance's address in
// DescribeDBInstanceAttribute. Faults make a peer refuse logins, or keep checking an old password.
import { replicaSetNameOf } from '../dds/instance-view';
import type { FaultHandle } from '../faults/fault-controls';
import type { CloudState, InstanceState, Role } from '../state';
import { startMongoPeer, type MongoPeer } from './index';

export interface InstancePeers {
  /** The peer of an instance; throws for an instance that has none. */
  peer(instanceId: string): MongoPeer;
  /** Instance ids that have a peer. */
  readonly instanceIds: string[];
  /**
   * Fault: the instance's logins fail as with a wrong password (code 18), every one of them, or
   * only the next `times`. `hits` counts the logins refused.
   */
  rejectLogins(instanceId: string, options?: { times?: number }): FaultHandle;
  /**
   * Fault: logins keep checking the password the instance holds now, whatever later resets set
   * (a reset that the API accepted but the login path never saw). `hits` counts the logins checked.
   */
  freezePassword(instanceId: string): FaultHandle;
  /** Removes every fault of every peer. */
  clearFaults(): void;
  close(): Promise<void>;
}

/** The role whose password a login checks: a replica set's only one, or a mongos' config servers' (README). */
export function loginRole(instance: Pick<InstanceState, 'type'>): Role {
  return instance.type === 'sharding' ? 'cs' : 'normal';
}

interface PeerFaults {
  rejectLeft: number;
  rejectHits: number;
  frozen?: { password: string; hits: number };
}

/** Starts a peer for each of `instanceIds` (default: every instance) and points its address at it. */
export async function startInstancePeers(state: CloudState, instanceIds?: readonly string[]): Promise<InstancePeers> {
  const instances = instanceIds === undefined ? state.listInstances() : instanceIds.map((id) => requireInstance(state, id));
  const peers = new Map<string, MongoPeer>();
  const faults = new Map<string, PeerFaults>();
  try {
    for (const instance of instances) {
      const fault: PeerFaults = { rejectLeft: 0, rejectHits: 0 };
      faults.set(instance.id, fault);
      peers.set(instance.id, await startInstancePeer(state, instance, fault));
    }
  } catch (err) {
    await Promise.all([...peers.values()].map((peer) => peer.close()));
    throw err;
  }
  for (const [id, peer] of peers) state.setInstanceConnection(id, { host: peer.host, port: peer.port });

  const faultOf = (instanceId: string): PeerFaults => {
    const fault = faults.get(instanceId);
    if (!fault) throw new Error(`the local cloud runs no MongoDB login peer for instance "${instanceId}"`);
    return fault;
  };
  const clearFaults = () => {
    for (const fault of faults.values()) {
      fault.rejectLeft = 0;
      delete fault.frozen;
    }
  };

  return {
    peer(instanceId) {
      faultOf(instanceId);
      return peers.get(instanceId) as MongoPeer;
    },
    instanceIds: [...peers.keys()],
    rejectLogins(instanceId, options = {}) {
      const fault = faultOf(instanceId);
      const times = options.times ?? Number.POSITIVE_INFINITY;
      fault.rejectLeft = times;
      const hitsBefore = fault.rejectHits;
      return {
        remove: () => void (fault.rejectLeft = 0),
        get hits() {
          return fault.rejectHits - hitsBefore;
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
    clearFaults,
    async close() {
      clearFaults();
      await Promise.all([...peers.values()].map((peer) => peer.close()));
    },
  };
}

function startInstancePeer(state: CloudState, instance: InstanceState, fault: PeerFaults): Promise<MongoPeer> {
  const role = loginRole(instance);
  return startMongoPeer({
    password: () => {
      if (!fault.frozen) return state.truth.rootPassword(instance.id, role);
      fault.frozen.hits += 1;
      return fault.frozen.password;
    },
    rejectAll: () => {
      if (fault.rejectLeft <= 0) return false;
      fault.rejectLeft -= 1;
      fault.rejectHits += 1;
      return true;
    },
    ...(instance.type === 'replicate' ? { setName: replicaSetNameOf(instance) } : {}),
  });
}

function requireInstance(state: CloudState, instanceId: string): InstanceState {
  const instance = state.findInstance(instanceId);
  if (!instance) throw new Error(`the local cloud has no instance "${instanceId}" to start a MongoDB login peer for`);
  return instance;
}
