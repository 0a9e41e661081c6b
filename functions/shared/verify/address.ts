/**
 * Where to log in to prove a new password: the primary of a replica set or a mongos of a sharded
 * cluster, as `DescribeDBInstanceAttribute` describes them (the DDS client's model), or an address
 * configured for the target (`connectionHost`).
 */
import type { DBInstanceAttribute, MongosAttribute, ReplicaSet } from '../clients/dds-models';
import { shown } from '../format';

export interface MongoAddress {
  host: string;
  port: number;
}

export class VerifyAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerifyAddressError';
  }
}

/**
 * The function reaches instances through its VPC (FC `vpcConfig`), as the applications do; a
 * classic-network or public address is used only when the instance lists no VPC address.
 */
const NETWORK_PREFERENCE = ['VPC', 'Classic'];

/** `connectionHost` when given, else the address the instance describes. */
export function verifyAddress(instance: DBInstanceAttribute, connectionHost?: string): MongoAddress {
  if (connectionHost !== undefined) return parseConnectionHost(connectionHost);
  const type = instance.DBInstanceType;
  const id = instance.DBInstanceId ?? 'the instance';
  if (type === 'replicate') return primaryAddress(instance, id);
  if (type === 'sharding') return mongosAddress(instance, id);
  throw new VerifyAddressError(`${id}: DBInstanceType is ${shown(type, 'missing')}; expected replicate or sharding`);
}

/**
 * Every mongos of a sharded cluster with an address, running ones first, each address once: a user changed through
 * one mongos reaches the others' user caches only when they next look (MongoDB's userCacheInvalidationIntervalSecs).
 */
export function mongosAddresses(instance: DBInstanceAttribute): MongoAddress[] {
  const id = instance.DBInstanceId ?? 'the instance';
  const nodes = (instance.mongosList?.mongosAttribute ?? []).filter((node) => mongosHost(node) !== undefined);
  const ordered = [...nodes.filter((node) => node.status === 'Running'), ...nodes.filter((node) => node.status !== 'Running')];
  const addresses = new Map<string, MongoAddress>();
  for (const node of ordered) {
    const [host, portInHost] = splitPort(mongosHost(node) as string);
    const address = { host, port: portOf(node.port ?? portInHost, `${id}: the Port of mongos ${node.nodeId ?? host}`) };
    addresses.set(showAddress(address), address);
  }
  return [...addresses.values()];
}

/** `host:port`, `[ipv6]:port`: as a connection string or a message shows an address. */
export function showAddress(address: MongoAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/** `host:port`, `[ipv6]:port`. */
export function parseConnectionHost(value: string): MongoAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || !validPort(port)) {
    throw new VerifyAddressError(`connectionHost ${JSON.stringify(value)} is not host:port (example: dds-bp1xxxx.mongodb.rds.aliyuncs.com:3717)`);
  }
  return { host: match[1] ?? match[2] ?? '', port };
}

function primaryAddress(instance: DBInstanceAttribute, id: string): MongoAddress {
  const members = instance.replicaSets?.replicaSet ?? [];
  const primaries = members.filter((member) => member.replicaSetRole === 'Primary');
  if (primaries.length === 0) {
    const roles = members.map((member) => String(member.replicaSetRole)).join(', ') || 'none';
    throw new VerifyAddressError(`${id}: ReplicaSets.ReplicaSet lists no member with ReplicaSetRole Primary (roles: ${roles})`);
  }
  const primary = preferredNetwork(primaries);
  const host = primary.connectionDomain;
  if (!host) throw new VerifyAddressError(`${id}: the Primary replica set member has no ConnectionDomain`);
  return { host, port: portOf(primary.connectionPort, `${id}: the Primary replica set member's ConnectionPort`) };
}

function preferredNetwork(members: ReplicaSet[]): ReplicaSet {
  const rank = (member: ReplicaSet) => {
    const index = NETWORK_PREFERENCE.indexOf(member.networkType ?? '');
    return index === -1 ? NETWORK_PREFERENCE.length : index;
  };
  return [...members].sort((a, b) => rank(a) - rank(b))[0] as ReplicaSet;
}

/** A mongos with an address, a running one first. The API spells the field `ConnectSting`. */
function mongosAddress(instance: DBInstanceAttribute, id: string): MongoAddress {
  const nodes = (instance.mongosList?.mongosAttribute ?? []).filter((node) => mongosHost(node) !== undefined);
  const node = nodes.find((candidate) => candidate.status === 'Running') ?? nodes[0];
  if (!node) throw new VerifyAddressError(`${id}: MongosList.MongosAttribute lists no mongos with a ConnectSting`);
  const [host, portInHost] = splitPort(mongosHost(node) as string);
  return { host, port: portOf(node.port ?? portInHost, `${id}: the Port of mongos ${node.nodeId ?? host}`) };
}

function mongosHost(node: MongosAttribute): string | undefined {
  const host = node.connectSting || node.connectString;
  return host ? host : undefined;
}

/** `host:3717` → [host, '3717']; a bare host (or an IPv6 literal) has no port. */
function splitPort(address: string): [string, string | undefined] {
  const match = /^([^:]+):(\d+)$/.exec(address);
  return match ? [match[1] as string, match[2]] : [address, undefined];
}

function portOf(value: unknown, what: string): number {
  const port = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!validPort(port)) throw new VerifyAddressError(`${what} is ${shown(value, 'missing')}; expected a port number`);
  return port;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= 65535;
}

