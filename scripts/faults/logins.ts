/**
 * Logins as an application would make them, with the official `mongodb` driver against an instance's MongoDB peer:
 * the matrix proves with them that the user a label names logs in with that label's password.
 */
import { MongoClient } from 'mongodb';
import type { Rig } from './rig';

/** `ok`, or how the login (then a `ping`) failed: MongoDB's code (18: refused), or `unreachable`. Never a password. */
export type LoginOutcome = 'ok' | number | 'unreachable';

export async function loginAs(rig: Rig, instanceId: string, user: string, password: string): Promise<LoginOutcome> {
  const { host, port } = rig.cloud.mongo.peer(instanceId);
  const client = new MongoClient(`mongodb://${host}:${port}/`, {
    auth: { username: user, password },
    authSource: 'admin',
    directConnection: true,
    serverSelectionTimeoutMS: 5_000,
    maxPoolSize: 1,
  });
  try {
    await client.db('admin').command({ ping: 1 });
    return 'ok';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'number' ? code : 'unreachable';
  } finally {
    await client.close(true);
  }
}
