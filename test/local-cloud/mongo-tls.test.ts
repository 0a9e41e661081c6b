/**
 * MongoDB peers that accept TLS only (`mongoTls`), as a TLS-enabled instance does: user commands
 * carry passwords, so an application-user rotation sends them over TLS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCloudPerTest } from '../helpers/cloud';
import { rejection, useMongoClients } from '../helpers/mongo';
import { CA_FILE, TLS_FIXTURES } from '../verify/tls-proxy';

const RS = 'dds-rstlspeer01';
const ROOT = { user: 'root', password: 'Tls#Root-Pw-001' };
const FIXTURE = {
  region: 'cn-hangzhou',
  accessKeys: [{ id: 'LTAI5tMongoTls01', secret: 'mongo-tls-secret-01' }],
  instances: [{ id: RS, type: 'replicate', rootPassword: ROOT.password }],
  secrets: [],
};
const TLS = { key: readFileSync(join(TLS_FIXTURES, 'server.key')), cert: readFileSync(join(TLS_FIXTURES, 'server.pem')) };

const startCloud = useCloudPerTest();
const connect = useMongoClients();

describe('MongoDB peers over TLS', () => {
  it('serve user commands to a client that trusts their CA, and refuse plain connections', async () => {
    const cloud = await startCloud({ fixture: FIXTURE, mongoPeers: true, mongoTls: TLS });
    const admin = connect(cloud, RS, ROOT, { tls: true, tlsCAFile: CA_FILE }).db('admin');
    await expect(admin.command({ createUser: 'orders', pwd: 'Orders#Tls-Pw01', roles: [] })).resolves.toEqual({ ok: 1 });
    expect(cloud.truth.userPassword(RS, 'orders')).toBe('Orders#Tls-Pw01');

    const plain = connect(cloud, RS, ROOT, { serverSelectionTimeoutMS: 1_000 });
    expect((await rejection(plain.db('admin').command({ ping: 1 }))).name).toBe('MongoServerSelectionError');
  });
});
