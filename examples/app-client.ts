/**
 * An application that logs in as a MongoDB user whose password the rotation function changes (README,
 * "Application users"). What it must do, and all it must do:
 *
 * 1. read the user name and the password together from the secret's ACSCurrent (an alternating rotation moves
 *    ACSCurrent from `orders` to `orders_clone` and back: the name changes as well as the password);
 * 2. when a login is refused (MongoDB's code 18), read ACSCurrent again and log in with what it holds now.
 *
 * Connections already logged in stay logged in when a password changes; only new ones log in again. With alternating
 * users the password an application holds keeps working for one more rotation interval, so step 2 happens only to
 * an application that has not read the secret for two intervals. With a single user, it happens after every rotation.
 *
 * Run it (credentials from the environment or the @alicloud/credentials chain, e.g. the ECS or FC role):
 *
 *   ALIBABA_CLOUD_REGION_ID=cn-hangzhou SECRET_NAME=mongodb/dds-bp1xxxx/orders \
 *   MONGODB_HOST=dds-bp1xxxx.mongodb.rds.aliyuncs.com:3717 MONGODB_TLS_CA_FILE=ApsaraDB-CA-Chain.pem \
 *   npx tsx examples/app-client.ts
 *
 * (KMS_ENDPOINT: a host, or an http:// URL on loopback, instead of kms.<region>.aliyuncs.com; MONGODB_TLS=false for
 * an instance without SSL.)
 */
import Credential from '@alicloud/credentials';
import Kms, { GetSecretValueRequest } from '@alicloud/kms20160120';
import { Config } from '@alicloud/rpc-client';
import { type Db, MongoClient, type MongoClientOptions, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { pathToFileURL } from 'node:url';

/** What ACSCurrent holds for the application: the user, its password, the database it is defined on. */
export interface DatabaseLogin {
  user: string;
  password: string;
  authSource: string;
}

const AUTHENTICATION_FAILED = 18;

/** Reads the secret's ACSCurrent: `{"AccountName","AccountPassword","AuthDatabase",…}`, the user and password together. */
export async function readLogin(kms: Kms, secretName: string): Promise<DatabaseLogin> {
  const answer = await kms.getSecretValue(new GetSecretValueRequest({ secretName, versionStage: 'ACSCurrent' }));
  const value = JSON.parse(answer.secretData ?? '{}') as { AccountName?: string; AccountPassword?: string; AuthDatabase?: string };
  if (!value.AccountName || !value.AccountPassword) throw new Error(`the secret ${secretName} holds no AccountName and AccountPassword`);
  return { user: value.AccountName, password: value.AccountPassword, authSource: value.AuthDatabase ?? 'admin' };
}

export interface RotatedClientOptions {
  kms: Kms;
  secretName: string;
  /** `host:port` of the primary, a mongos, or the instance's connection string hosts. */
  host: string;
  /** TLS and the rest; never the credentials, which come from the secret. */
  mongo?: MongoClientOptions;
}

/** A MongoClient whose login comes from KMS, read again (and the client made again) when a login is refused. */
export class RotatedMongoClient {
  private client?: Promise<{ client: MongoClient; login: DatabaseLogin }>;
  /** How many times the secret was read, for the curious (and the example's test). */
  reads = 0;

  constructor(private readonly options: RotatedClientOptions) {}

  /** Runs `work` on a database; if a login was refused, reads ACSCurrent again and runs it once more. */
  async run<T>(dbName: string, work: (db: Db) => Promise<T>): Promise<T> {
    const { client } = await this.connected();
    try {
      return await work(client.db(dbName));
    } catch (error) {
      if (!isAuthenticationFailure(error)) throw error;
      const renewed = await this.renew(client);
      return work(renewed.db(dbName));
    }
  }

  /** The user the client logs in as now. */
  async user(): Promise<string> {
    return (await this.connected()).login.user;
  }

  async close(): Promise<void> {
    const current = this.client;
    this.client = undefined;
    if (current) await (await current).client.close();
  }

  private connected(): Promise<{ client: MongoClient; login: DatabaseLogin }> {
    this.client ??= this.connect();
    return this.client;
  }

  private async connect(): Promise<{ client: MongoClient; login: DatabaseLogin }> {
    this.reads++;
    const login = await readLogin(this.options.kms, this.options.secretName);
    // The password goes in `auth`, never into the connection string (which ends up in logs).
    const client = new MongoClient(`mongodb://${this.options.host}/`, {
      ...this.options.mongo,
      auth: { username: login.user, password: login.password },
      authSource: login.authSource,
    });
    return { client, login };
  }

  /** A refused login: a new client with what ACSCurrent holds now (once, whoever of the callers gets here first). */
  private async renew(refused: MongoClient): Promise<MongoClient> {
    const current = await this.connected();
    if (current.client === refused) {
      this.client = undefined;
      await refused.close().catch(() => undefined);
    }
    return (await this.connected()).client;
  }
}

/** Code 18, thrown by the operation or recorded by server selection for the server it tried. */
export function isAuthenticationFailure(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending = [error];
  while (pending.length > 0) {
    const next = pending.pop();
    if (next === undefined || next === null || seen.has(next)) continue;
    seen.add(next);
    if (next instanceof MongoServerError && next.code === AUTHENTICATION_FAILED) return true;
    if (next instanceof MongoServerSelectionError) for (const server of next.reason?.servers.values() ?? []) pending.push(server.error);
    if (next instanceof Error) pending.push(next.cause);
  }
  return false;
}

/** A KMS client for the region, with credentials from the default chain (environment, profile, instance role). */
export function kmsClient(env: NodeJS.ProcessEnv = process.env): Kms {
  const regionId = env.ALIBABA_CLOUD_REGION_ID ?? 'cn-hangzhou';
  const endpoint = env.KMS_ENDPOINT ?? `kms.${regionId}.aliyuncs.com`;
  const url = endpoint.includes('://') ? new URL(endpoint) : undefined;
  return new Kms(
    new Config({
      credential: new Credential(),
      regionId,
      endpoint: url ? url.host : endpoint,
      protocol: url?.protocol === 'http:' ? 'http' : 'https',
    }),
  );
}

async function main(): Promise<void> {
  const { SECRET_NAME: secretName, MONGODB_HOST: host, MONGODB_TLS_CA_FILE: caFile, MONGODB_TLS: tls } = process.env;
  if (!secretName || !host) throw new Error('set SECRET_NAME (the user\'s KMS secret) and MONGODB_HOST (host:port)');
  const mongo: MongoClientOptions = { tls: tls !== 'false', ...(caFile && { tlsCAFile: caFile }), serverSelectionTimeoutMS: 10_000 };
  const app = new RotatedMongoClient({ kms: kmsClient(), secretName, host, mongo });
  try {
    const documents = await app.run('app', (db) => db.collection('orders').countDocuments());
    console.log(`logged in as ${await app.user()}; app.orders holds ${documents} documents`);
  } finally {
    await app.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
