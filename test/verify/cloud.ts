/**
 * A local cloud whose instances each have a MongoDB login peer, for the login-check suites: started per
 * test and closed after it, the invariant monitor expected silent (test/helpers/cloud.ts) and every run's
 * texts in the file's secrecy scan (test/helpers/secrecy.ts). Logins in the assertions go through the official
 * `mongodb` driver directly, to the address DescribeDBInstanceAttribute gives, so they do not depend on the code
 * under test.
 */
import { MongoClient, MongoServerError } from 'mongodb';
import { afterEach, expect } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import type { Env } from '../../functions/shared/config';
import { type RotationRun, type RunOptions, rotationEnv, runRotation } from '../helpers/rotate';
import { useSecrecyWatch } from '../helpers/secrecy';
import { ddsCall } from '../helpers/sdk';
import { secretName } from '../rotate/fixture';

export interface TargetOptions {
  instanceId: string;
  verify?: boolean;
  connectionHost?: string;
}

export interface VerifyCloud {
  start(fixture: object): Promise<LocalCloud>;
  /** One invocation with the targets given (default: every instance of the fixture). */
  run(options: Omit<RunOptions, 'env'> & { env?: Env; targets?: TargetOptions[] }): Promise<RotationRun>;
}

export function useVerifyCloud(): VerifyCloud {
  const watch = useSecrecyWatch();
  let cloud: LocalCloud | undefined;

  afterEach(async () => {
    const current = cloud;
    cloud = undefined;
    await current?.close();
  });

  return {
    async start(fixture) {
      cloud = await watch.start({ fixture, mongoPeers: true });
      return cloud;
    },
    async run({ env = {}, targets, ...options }) {
      if (!cloud) throw new Error('start(fixture) first');
      const chosen = targets ?? cloud.state.listInstances().map((instance) => ({ instanceId: instance.id }));
      const configured = chosen.map((t) => ({ ...t, secretName: secretName(t.instanceId) }));
      const run = await runRotation(cloud, { ...options, env: rotationEnv(cloud, configured, env) });
      watch.recordRun(expect.getState().currentTestName ?? 'run', run);
      return run;
    },
  };
}

export interface Address {
  host: string;
  port: number;
}

/** Where DescribeDBInstanceAttribute says to log in: the Primary of a replica set, a mongos of a sharded cluster. */
export async function describedAddress(cloud: LocalCloud, instanceId: string): Promise<Address> {
  const body = await ddsCall(cloud, 'DescribeDBInstanceAttribute', { DBInstanceId: instanceId });
  const instance = (body.DBInstances as { DBInstance: Array<Record<string, any>> }).DBInstance[0]!;
  if (instance.DBInstanceType === 'sharding') {
    const mongos = instance.MongosList.MongosAttribute[0];
    return { host: mongos.ConnectSting, port: mongos.Port };
  }
  const primary = instance.ReplicaSets.ReplicaSet.find((member: Record<string, string>) => member.ReplicaSetRole === 'Primary');
  return { host: primary.ConnectionDomain, port: Number(primary.ConnectionPort) };
}

/** `ok`, or the server's error code (18 for a refused password), of root logging in and pinging. */
export async function login(address: Address, password: string): Promise<'ok' | number> {
  const client = new MongoClient(`mongodb://${address.host}:${address.port}/`, {
    auth: { username: 'root', password },
    authSource: 'admin',
    directConnection: true,
    serverSelectionTimeoutMS: 5_000,
  });
  try {
    await client.db('admin').command({ ping: 1 });
    return 'ok';
  } catch (err) {
    if (err instanceof MongoServerError && typeof err.code === 'number') return err.code;
    throw err;
  } finally {
    await client.close();
  }
}

/** The log lines of one step. */
export function stepLines(run: RotationRun, step: string): Array<Record<string, unknown>> {
  return run.logs.find((entry) => entry.step === step);
}
