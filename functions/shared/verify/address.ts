/**
 * Where to log in to prove a new root password: the primary of a replica set or a mongos of a
 * sharded cluster, as `DescribeDBInstanceAttribute` describes them, or an address configured for
 * the target (`connectionHost`). Reads both the API's field names (`ReplicaSets`) and the SDK
 * models' (`replicaSets`), so the raw body and `@alicloud/dds20151201`-style models both work.
 */

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

type Fields = Record<string, unknown>;

/**
 * The function reaches instances through its VPC (FC `vpcConfig`), as the applications do; a
 * classic-network or public address is used only when the instance lists no VPC address.
 */
const NETWORK_PREFERENCE = ['VPC', 'Classic'];

/** `connectionHost` when given, else the address the instance describes. */
export function verifyAddress(instance: object, connectionHost?: string): MongoAddress {
  if (connectionHost !== undefined) return parseConnectionHost(connectionHost);
  const fields = instance as Fields;
  const type = field(fields, 'DBInstanceType');
  const id = field(fields, 'DBInstanceId') ?? 'the instance';
  if (type === 'replicate') return primaryAddress(fields, String(id));
  if (type === 'sharding') return mongosAddress(fields, String(id));
  throw new VerifyAddressError(`${id}: DBInstanceType is ${describe(type)}; expected replicate or sharding`);
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

function primaryAddress(instance: Fields, id: string): MongoAddress {
  const members = records(field(field(instance, 'ReplicaSets'), 'ReplicaSet'));
  const primaries = members.filter((member) => field(member, 'ReplicaSetRole') === 'Primary');
  if (primaries.length === 0) {
    const roles = members.map((member) => String(field(member, 'ReplicaSetRole'))).join(', ') || 'none';
    throw new VerifyAddressError(`${id}: ReplicaSets.ReplicaSet lists no member with ReplicaSetRole Primary (roles: ${roles})`);
  }
  const primary = preferredNetwork(primaries);
  const host = field(primary, 'ConnectionDomain');
  if (typeof host !== 'string' || host === '') throw new VerifyAddressError(`${id}: the Primary replica set member has no ConnectionDomain`);
  return { host, port: portOf(field(primary, 'ConnectionPort'), `${id}: the Primary replica set member's ConnectionPort`) };
}

function preferredNetwork(members: Fields[]): Fields {
  const rank = (member: Fields) => {
    const index = NETWORK_PREFERENCE.indexOf(String(field(member, 'NetworkType')));
    return index === -1 ? NETWORK_PREFERENCE.length : index;
  };
  return [...members].sort((a, b) => rank(a) - rank(b))[0] as Fields;
}

/** A mongos with an address, a running one first. The API spells the field `ConnectSting`. */
function mongosAddress(instance: Fields, id: string): MongoAddress {
  const nodes = records(field(field(instance, 'MongosList'), 'MongosAttribute')).filter((node) => mongosHost(node) !== undefined);
  const node = nodes.find((candidate) => field(candidate, 'Status') === 'Running') ?? nodes[0];
  if (!node) throw new VerifyAddressError(`${id}: MongosList.MongosAttribute lists no mongos with a ConnectSting`);
  const [host, portInHost] = splitPort(mongosHost(node) as string);
  const port = field(node, 'Port') ?? portInHost;
  return { host, port: portOf(port, `${id}: the Port of mongos ${String(field(node, 'NodeId') ?? host)}`) };
}

function mongosHost(node: Fields): string | undefined {
  const host = field(node, 'ConnectSting') ?? field(node, 'ConnectString');
  return typeof host === 'string' && host !== '' ? host : undefined;
}

/** `host:3717` → [host, '3717']; a bare host (or an IPv6 literal) has no port. */
function splitPort(address: string): [string, string | undefined] {
  const match = /^([^:]+):(\d+)$/.exec(address);
  return match ? [match[1] as string, match[2]] : [address, undefined];
}

function portOf(value: unknown, what: string): number {
  const port = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!validPort(port)) throw new VerifyAddressError(`${what} is ${describe(value)}; expected a port number`);
  return port;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port <= 65535;
}

/** A field by the API's name, or by the SDK model's (first letter lower case). */
function field(record: unknown, name: string): unknown {
  if (typeof record !== 'object' || record === null) return undefined;
  const fields = record as Fields;
  return fields[name] ?? fields[name.charAt(0).toLowerCase() + name.slice(1)];
}

function records(value: unknown): Fields[] {
  return Array.isArray(value) ? value.filter((item): item is Fields => typeof item === 'object' && item !== null) : [];
}

function describe(value: unknown): string {
  return value === undefined || value === null || value === '' ? 'missing' : JSON.stringify(value);
}
