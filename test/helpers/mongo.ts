/**
 * The official `mongodb` driver against a local cloud's MongoDB peers: clients that log in as a
 * user of an instance (closed after each test), and the error a command failed with.
 */
import { MongoClient, type MongoClientOptions } from 'mongodb';
import { afterEach, expect } from 'vitest';
import type { LocalCloud } from '../../local-cloud';

export interface Login {
  user: string;
  password: string;
  /** The authentication database; `admin` by default. */
  db?: string;
}

export type ConnectTo = (cloud: LocalCloud, instanceId: string, login?: Login, options?: MongoClientOptions) => MongoClient;

/** A client factory whose clients are all closed after each test. */
export function useMongoClients(): ConnectTo {
  const clients: MongoClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close(true)));
  });
  return (cloud, instanceId, login, options = {}) => {
    const { host, port } = cloud.mongo.peer(instanceId);
    const client = new MongoClient(`mongodb://${host}:${port}/`, {
      ...(login && { auth: { username: login.user, password: login.password }, authSource: login.db ?? 'admin' }),
      directConnection: true,
      serverSelectionTimeoutMS: 5_000,
      ...options,
    });
    clients.push(client);
    return client;
  };
}

/** What `attempt` was rejected with; the test fails if it resolved. */
export async function rejection(attempt: Promise<unknown>): Promise<Error & { code?: number; codeName?: string }> {
  const outcome = await attempt.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  expect(outcome).toHaveProperty('error');
  return (outcome as { error: Error & { code?: number; codeName?: string } }).error;
}

/** `ok`, or the server's error code, of `login` running `ping` on the instance. */
export async function loginOutcome(connect: ConnectTo, cloud: LocalCloud, instanceId: string, login: Login, options: MongoClientOptions = {}) {
  try {
    await connect(cloud, instanceId, login, options).db(login.db ?? 'admin').command({ ping: 1 });
    return 'ok';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    throw err;
  }
}
