import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDdsService } from './dds/service';
import { FaultControls } from './faults/fault-controls';
import { applyFixtureFaults } from './faults/fixture-faults';
import { createLocalFc, type LocalFc } from './fc';
import type { RoleKey } from './fc/types';
import type { AccessKey } from './http/authenticate';
import { Gateway } from './http/gateway';
import { createKmsService } from './kms/service';
import type { PeerTls } from './mongo';
import { readMongoFaults } from './mongo/fixture-faults';
import { type InstancePeers, startInstancePeers } from './mongo/instance-peers';
import { parsePolicy, PolicyError } from './ram';
import {
  type CloudState,
  type FixtureAccessKey,
  type Truth,
  createCloudState,
  DEMO_FIXTURE_PATH,
  FixtureError,
  loadFixture,
} from './state';

export interface StartOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** A fixture object or the path of a JSON fixture; the demo fleet by default. */
  fixture?: string | object;
  /**
   * Start a MongoDB login peer for every instance (true) or for those listed, shown as their
   * address in DescribeDBInstanceAttribute. A sharded cluster's peer is a mongos: it checks the
   * `cs` password (local-cloud/mongo/README.md).
   */
  mongoPeers?: boolean | readonly string[];
  /** The peers accept TLS connections only, with this key and certificate (PEM). */
  mongoTls?: PeerTls;
}

export interface LocalCloud {
  /** `http://127.0.0.1:PORT`: one port serves DDS, KMS and FC. */
  endpoint: string;
  /** `127.0.0.1:PORT`, what the SDKs take as `endpoint`. */
  host: string;
  port: number;
  region: string;
  accountId: string;
  /** The keys the gateway accepts: ids, secrets and STS tokens, for the clients. */
  accessKeys: FixtureAccessKey[];
  truth: Truth;
  faults: FaultControls;
  /** Function Compute: register functions, read invocations and async outcomes. */
  fc: LocalFc;
  /** The MongoDB login peers and their faults; none unless `mongoPeers` asked for them. */
  mongo: InstancePeers;
  /** The state behind the truth, for wiring other parts of the local cloud (MongoDB peers). */
  state: CloudState;
  /** Closes the server, every socket, fault timer, held request and function process. */
  close(): Promise<void>;
}

export async function startLocalCloud(options: StartOptions = {}): Promise<LocalCloud> {
  const source = options.fixture ?? DEMO_FIXTURE_PATH;
  const sourceName = typeof source === 'string' ? source : 'object';
  const fixture = loadFixture(source);
  const state = createCloudState(fixture);
  const keys = acceptedKeys(state.accessKeys, sourceName);
  const faults = new FaultControls(state);
  applyFixtureFaults(faults, fixture.faults, sourceName);
  const mongoFaults = readMongoFaults(fixture.mongoFaults, sourceName);
  const mongo = await startInstancePeers(state, peerInstanceIds(options.mongoPeers), { fixtureFaults: mongoFaults, tls: options.mongoTls });

  const server = createServer();
  const port = await listen(server, options.port ?? 0).catch(async (err: unknown) => {
    await mongo.close();
    throw err;
  });
  const host = `127.0.0.1:${port}`;
  const endpoint = `http://${host}`;
  const roleKey = functionRoleKey(keys, state.accessKeys);
  const fc = createLocalFc({
    region: state.region,
    accountId: state.accountId,
    roleKey,
    roleKeys: roleKeysByArn(state.accessKeys),
    env: { ALIBABA_CLOUD_REGION_ID: state.region, DDS_ENDPOINT: endpoint, KMS_ENDPOINT: endpoint, ROTATION_FC_ENDPOINT: endpoint },
  });
  const gateway = new Gateway({
    region: state.region,
    accountId: state.accountId,
    findKey: (id) => keys.get(id),
    services: { dds: createDdsService(state, faults), kms: createKmsService(state, faults) },
    fc,
    faults,
    recordRequest: (entry) => state.recordRequest(entry),
    checkInvariant: (cause) => state.checkInvariant(cause),
    readAsOf: (time, read) => state.readAsOf(time, read),
  });
  server.on('request', gateway.listener);

  let closing: Promise<void> | undefined;
  const close = async () => {
    faults.close();
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await Promise.all([serverClosed, fc.close(), mongo.close()]);
  };
  return {
    endpoint,
    host,
    port,
    region: state.region,
    accountId: state.accountId,
    accessKeys: state.accessKeys,
    truth: state.truth,
    faults,
    fc,
    mongo,
    state,
    close: () => (closing ??= close()),
  };
}

/** undefined starts a peer for every instance, so `false` and absent mean an empty list. */
function peerInstanceIds(option: StartOptions['mongoPeers']): readonly string[] | undefined {
  if (option === true) return undefined;
  return option === undefined || option === false ? [] : option;
}

/** The fixture's keys by id, their RAM policies checked now rather than on the first request. */
function acceptedKeys(fixtureKeys: FixtureAccessKey[], source: string): Map<string, AccessKey> {
  const keys = new Map<string, AccessKey>();
  const problems: string[] = [];
  fixtureKeys.forEach((key, index) => {
    try {
      keys.set(key.id, { ...key, policy: key.policy && parsePolicy(key.policy) });
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      problems.push(`accessKeys[${index}].policy: ${err.message}`);
    }
  });
  if (problems.length > 0) throw new FixtureError(source, problems);
  return keys;
}

/**
 * The STS key functions run with (`context.credentials`): the fixture's first STS key, or, if it
 * has none, one made up now that only the functions know (the gateway accepts it all the same).
 */
/** The STS key of functions whose role no fixture key stands for: the first such key without a `role`, else a new one. */
function functionRoleKey(keys: Map<string, AccessKey>, fixtureKeys: FixtureAccessKey[]): RoleKey {
  const forRoles = new Set(fixtureKeys.filter((k) => k.role !== undefined).map((k) => k.id));
  for (const key of keys.values()) {
    if (key.securityToken !== undefined && !forRoles.has(key.id)) return { id: key.id, secret: key.secret, securityToken: key.securityToken };
  }
  const made: RoleKey = {
    id: `STS.LocalFcRole${randomBytes(6).toString('hex')}`,
    secret: randomBytes(16).toString('hex'),
    securityToken: randomBytes(24).toString('base64url'),
  };
  keys.set(made.id, made);
  return made;
}

/** The fixture's STS keys that stand for a role (`role`), by its ARN. */
function roleKeysByArn(fixtureKeys: FixtureAccessKey[]): Record<string, RoleKey> {
  return Object.fromEntries(
    fixtureKeys.flatMap((k) => (k.role !== undefined && k.securityToken !== undefined ? [[k.role, { id: k.id, secret: k.secret, securityToken: k.securityToken }]] : [])),
  );
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
