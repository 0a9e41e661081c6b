// The `hello` (legacy `isMaster`) answer: how the peer presents itself to a driver's server
// discovery, as a replica-set primary or as a mongos of a sharded cluster.
import { Long, ObjectId, type Document } from 'bson';
import { MAX_MESSAGE_SIZE_BYTES } from './wire';

export const HELLO_COMMANDS: ReadonlySet<string> = new Set(['hello', 'isMaster', 'ismaster']);

/** MongoDB 7.0. */
const MAX_WIRE_VERSION = 21;

export interface PeerIdentity {
  /** host:port as clients reach the peer (a replica-set member names itself with it). */
  address: string;
  /** Present: a replica-set primary of that set; absent: a mongos. */
  setName?: string;
  topologyVersion: { processId: ObjectId; counter: Long };
}

export function createIdentity(host: string, port: number, setName: string | undefined): PeerIdentity {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { address, setName, topologyVersion: { processId: new ObjectId(), counter: Long.fromNumber(0) } };
}

export function helloReply(identity: PeerIdentity, commandName: string, command: Document, connectionId: number): Document {
  const primaryFlag = commandName === 'hello' ? 'isWritablePrimary' : 'ismaster';
  return {
    [primaryFlag]: true,
    ...(command.helloOk === true ? { helloOk: true } : {}),
    ...(identity.setName === undefined ? { msg: 'isdbgrid' } : replicaSetFields(identity, identity.setName)),
    topologyVersion: identity.topologyVersion,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE_BYTES,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
}

function replicaSetFields(identity: PeerIdentity, setName: string): Document {
  return {
    hosts: [identity.address],
    setName,
    setVersion: 1,
    secondary: false,
    primary: identity.address,
    me: identity.address,
    electionId: new ObjectId('7fffffff0000000000000001'),
  };
}

/**
 * An awaitable hello (streaming server monitoring) carries the topologyVersion the client last
 * saw. If the topology has not changed since, the server answers only after maxAwaitTimeMS;
 * this peer's topology never changes, so the wait is whenever the version is current.
 */
export function awaitableHelloWaitMs(identity: PeerIdentity, command: Document): number | undefined {
  const { topologyVersion, maxAwaitTimeMS } = command;
  if (!HELLO_COMMANDS.has(Object.keys(command)[0] ?? '') || topologyVersion == null) return undefined;
  const waitMs = Number(maxAwaitTimeMS);
  if (!Number.isFinite(waitMs) || waitMs < 0) return undefined;
  const current = identity.topologyVersion;
  const isCurrent =
    topologyVersion.processId instanceof ObjectId &&
    topologyVersion.processId.equals(current.processId) &&
    Number(topologyVersion.counter) === current.counter.toNumber();
  return isCurrent ? waitMs : undefined;
}
