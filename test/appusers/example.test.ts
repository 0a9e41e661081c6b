/**
 * examples/app-client.ts, the application the README shows, against the local cloud while the function rotates
 * its user: with alternating users it keeps logging in with what it read, which keeps working for one more
 * rotation, and reads the secret again only once that login is refused (two rotations later); with a single user,
 * right after the rotation. Every request it makes succeeds. Run as a script (`npx tsx examples/app-client.ts`), it
 * logs in and prints what it found.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { RotatedMongoClient } from '../../examples/app-client';
import { kmsClient } from '../helpers/sdk';
import { REPO } from '../triggers/deployed';
import { ACCESS_KEY, appFixture, instance, userSecret, userSecretName } from './fixture';
import { forced, labelled, useAppHarness } from './harness';

const RS = 'dds-rsappexample1';
const ROOT_PW = 'Root#Example-Pw1';
const ORDERS_PW = 'Orders#Example-1';

describe('the example application', () => {
  const h = useAppHarness();
  let app: RotatedMongoClient | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const start = (strategy: 'alternating' | 'single') =>
    h.start(appFixture([instance({ id: RS, rootPassword: ROOT_PW, users: [{ user: 'orders', password: ORDERS_PW }] })], [userSecret(RS, 'orders', ORDERS_PW, { strategy })]));

  const query = () => app!.run('app', (db) => db.collection('orders').countDocuments());

  it('keeps working through alternating rotations, reading the secret again only when its login is refused', async () => {
    const cloud = await start('alternating');
    const { host, port } = cloud.mongo.peer(RS);
    app = new RotatedMongoClient({ kms: kmsClient(cloud), secretName: userSecretName(RS, 'orders'), host: `${host}:${port}` });
    const rotate = (id: string) => h.run({ targets: [{ instanceId: RS, accountName: 'orders' }], event: forced(id) });

    expect(await query()).toBe(0);
    expect(await app.user()).toBe('orders');

    expect((await rotate('example-1')).report?.results).toMatchObject([{ outcome: 'rotated' }]);
    // Every connection is new (the network dropped them): they log in again with what the application read, ACSPrevious now.
    const dropped = cloud.mongo.drop({ instanceId: RS, command: 'aggregate', times: 1 });
    expect(await query()).toBe(0);
    expect(dropped.hits).toBe(1);
    expect(app.reads).toBe(1);
    expect(await app.user()).toBe('orders');

    expect((await rotate('example-2')).report?.results).toMatchObject([{ outcome: 'rotated' }]);
    expect(cloud.truth.userPassword(RS, 'orders')).not.toBe(ORDERS_PW);
    const droppedAgain = cloud.mongo.drop({ instanceId: RS, command: 'aggregate', times: 1 });
    expect(await query()).toBe(0); // refused with the old password, read ACSCurrent again, logged in
    expect(droppedAgain.hits).toBe(1);
    expect(app.reads).toBe(2);
    expect(await app.user()).toBe(labelled(cloud, RS, 'orders')!.user);
  });

  it('logs in again with the new password right after a single-user rotation', async () => {
    const cloud = await start('single');
    const { host, port } = cloud.mongo.peer(RS);
    app = new RotatedMongoClient({ kms: kmsClient(cloud), secretName: userSecretName(RS, 'orders'), host: `${host}:${port}` });
    expect(await query()).toBe(0);

    await h.run({ targets: [{ instanceId: RS, accountName: 'orders', strategy: 'single' }], event: forced('example-single') });
    cloud.mongo.drop({ instanceId: RS, command: 'aggregate', times: 1 });
    expect(await query()).toBe(0);
    expect(app.reads).toBe(2);
  });

  it('runs as a script: reads the secret, logs in, prints what it found', async () => {
    const cloud = await start('alternating');
    await h.run({ targets: [{ instanceId: RS, accountName: 'orders' }], event: forced('example-script') });
    const { host, port } = cloud.mongo.peer(RS);
    const env = {
      PATH: process.env.PATH,
      ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY.id,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: ACCESS_KEY.secret,
      ALIBABA_CLOUD_REGION_ID: cloud.region,
      KMS_ENDPOINT: cloud.endpoint,
      SECRET_NAME: userSecretName(RS, 'orders'),
      MONGODB_HOST: `${host}:${port}`,
      MONGODB_TLS: 'false',
    };
    const { stdout, stderr } = await promisify(execFile)(join(REPO, 'node_modules', '.bin', 'tsx'), [join(REPO, 'examples', 'app-client.ts')], { cwd: REPO, env, timeout: 60_000 });
    h.record('the example script', stdout, stderr);
    expect(stdout).toBe('logged in as orders_clone; app.orders holds 0 documents\n');
  });
});
