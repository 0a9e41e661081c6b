import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { Binary, deserialize, serialize, type Document } from 'bson';
import { MongoClient, MongoServerError, type AuthMechanism, type MongoClientOptions, type TopologyDescription } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startMongoPeer, type MongoPeer, type MongoPeerOptions } from '../../local-cloud/mongo';

const PASSWORD = 'Rotated#Pass1';

const peers: MongoPeer[] = [];
const clients: MongoClient[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  sockets.splice(0).forEach((socket) => socket.destroy());
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

async function peer(options: Partial<MongoPeerOptions> = {}): Promise<MongoPeer> {
  const started = await startMongoPeer({ password: () => PASSWORD, ...options });
  peers.push(started);
  return started;
}

function client(target: MongoPeer, password: string | undefined, options: MongoClientOptions = {}, query = ''): MongoClient {
  const created = new MongoClient(`mongodb://${target.host}:${target.port}/${query}`, {
    ...(password === undefined ? {} : { auth: { username: 'root', password }, authSource: 'admin' }),
    directConnection: true,
    serverSelectionTimeoutMS: 2_000,
    ...options,
  });
  clients.push(created);
  return created;
}

async function ping(target: MongoPeer, password: string, options: MongoClientOptions = {}): Promise<Document> {
  return client(target, password, options).db('admin').command({ ping: 1 });
}

async function expectAuthenticationFailure(attempt: Promise<unknown>): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MongoServerError);
  expect(error).toMatchObject({ code: 18, codeName: 'AuthenticationFailed', message: 'Authentication failed.' });
}

describe('MongoDB login peer', () => {
  describe.each([
    { topology: 'mongos', setName: undefined, options: { directConnection: false }, query: '' },
    { topology: 'mongos, direct', setName: undefined, options: {}, query: '' },
    { topology: 'replica set', setName: 'rs0', options: { directConnection: false }, query: '?replicaSet=rs0' },
    { topology: 'replica set, direct', setName: 'rs0', options: {}, query: '' },
  ])('as $topology', ({ setName, options, query }) => {
    it('logs root in with the current password and runs ping', async () => {
      const target = await peer({ setName });
      const admin = client(target, PASSWORD, options, query).db('admin');
      await expect(admin.command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
      await expect(admin.command({ connectionStatus: 1 })).resolves.toMatchObject({
        authInfo: { authenticatedUsers: [{ user: 'root', db: 'admin' }] },
      });
    });

    it('fails a wrong password with code 18 AuthenticationFailed', async () => {
      const target = await peer({ setName });
      await expectAuthenticationFailure(client(target, 'Wrong#Pass1', options, query).connect());
    });
  });

  it('presents itself to the driver as a mongos or as a replica-set primary', async () => {
    const mongos = client(await peer(), PASSWORD, { directConnection: false });
    const primary = client(await peer({ setName: 'rs0' }), PASSWORD, { directConnection: false }, '?replicaSet=rs0');
    const latest = new Map<MongoClient, TopologyDescription>();
    for (const watched of [mongos, primary]) {
      watched.on('topologyDescriptionChanged', (event) => latest.set(watched, event.newDescription));
    }
    await Promise.all([mongos.connect(), primary.connect()]);
    expect(latest.get(mongos)?.type).toBe('Sharded');
    expect(latest.get(primary)).toMatchObject({ type: 'ReplicaSetWithPrimary', setName: 'rs0' });
  });

  it.each<AuthMechanism>(['SCRAM-SHA-256', 'SCRAM-SHA-1'])('authenticates with %s when the client forces it', async (authMechanism) => {
    const target = await peer();
    await expect(ping(target, PASSWORD, { authMechanism })).resolves.toMatchObject({ ok: 1 });
    await expectAuthenticationFailure(client(target, 'Rotated#Pass2', { authMechanism }).connect());
  });

  describe('passwords with every special character of the password rule', () => {
    const passwords = ['Ab1!#$%^&*()_+-=', 'Pct%25%zz9', 'Caret^Amp&Open(9', 'Plus+Eq=Plus+7x', '%^&(+=Aa1'];
    it.each(passwords.flatMap((password) => (['SCRAM-SHA-256', 'SCRAM-SHA-1'] as AuthMechanism[]).map((mechanism) => ({ password, mechanism }))))(
      'logs in with $mechanism (password #%#)',
      async ({ password, mechanism }) => {
        const target = await peer({ password: () => password });
        await expect(ping(target, password, { authMechanism: mechanism })).resolves.toMatchObject({ ok: 1 });
      },
    );
  });

  it('reads the password on every login: the old one stops working once it changes', async () => {
    let current = 'Before#Change1';
    const target = await peer({ password: () => current });
    await expect(ping(target, 'Before#Change1')).resolves.toMatchObject({ ok: 1 });

    current = 'After#Change2';
    await expectAuthenticationFailure(client(target, 'Before#Change1').connect());
    await expect(ping(target, 'After#Change2')).resolves.toMatchObject({ ok: 1 });
  });

  it('rejects every password while the rejectAll fault is on', async () => {
    let rejecting = true;
    const target = await peer({ rejectAll: () => rejecting });
    for (const authMechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-1'] as AuthMechanism[]) {
      await expectAuthenticationFailure(client(target, PASSWORD, { authMechanism }).connect());
    }
    rejecting = false;
    await expect(ping(target, PASSWORD)).resolves.toMatchObject({ ok: 1 });
  });

  it('fails another user or another authentication database like a wrong password', async () => {
    const target = await peer();
    await expectAuthenticationFailure(client(target, PASSWORD, { authSource: 'test' }).connect());
    await expectAuthenticationFailure(client(target, undefined, { auth: { username: 'admin', password: PASSWORD } }).connect());
  });

  it('answers commands beyond the login surface like a real server', async () => {
    const target = await peer();
    const anonymous = client(target, undefined).db('admin');
    await expect(anonymous.command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    await expect(anonymous.command({ connectionStatus: 1 })).resolves.toMatchObject({ authInfo: { authenticatedUsers: [] } });
    await expect(anonymous.command({ listDatabases: 1 })).rejects.toMatchObject({
      code: 13,
      codeName: 'Unauthorized',
      message: 'command listDatabases requires authentication',
    });

    const root = client(target, PASSWORD).db('admin');
    await expect(root.command({ listDatabases: 1 })).rejects.toMatchObject({ code: 59, codeName: 'CommandNotFound' });
  });

  it('serves the driver streaming server monitoring (exhaust hello)', async () => {
    const target = await peer({ setName: 'rs0' });
    const monitored = client(target, PASSWORD, { directConnection: false, heartbeatFrequencyMS: 500 }, '?replicaSet=rs0');
    const failures: string[] = [];
    monitored.on('serverHeartbeatFailed', (event) => failures.push(event.failure.message));
    let awaitedBeats = 0;
    const streamed = new Promise<void>((resolve) =>
      monitored.on('serverHeartbeatSucceeded', (event) => {
        if (event.awaited && ++awaitedBeats === 3) resolve();
      }),
    );
    await monitored.connect();
    await streamed;
    expect(failures).toEqual([]);
  });

  it('closes every connection on close()', async () => {
    const target = await peer();
    const connected = client(target, PASSWORD, { serverSelectionTimeoutMS: 300 });
    await connected.db('admin').command({ ping: 1 });
    expect(target.connections).toBeGreaterThan(0);

    await target.close();
    expect(target.connections).toBe(0);
    await expect(connected.db('admin').command({ ping: 1 })).rejects.toThrow();
  });

  describe('on the wire, beyond what the Node.js driver sends', () => {
    it('runs the SCRAM exchange without skipEmptyExchange, ending with an empty saslContinue', async () => {
      const wire = await rawConnection(await peer());
      const nonce = randomBytes(24).toString('base64');
      const clientFirstBare = `n=root,r=${nonce}`;
      const started = await wire.command({ saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: text(`n,,${clientFirstBare}`), $db: 'admin' });
      expect(started).toMatchObject({ ok: 1, done: false });

      const serverFirst = readText(started.payload);
      const proof = scramSha256Proof(PASSWORD, clientFirstBare, serverFirst);
      const proved = await wire.command({ saslContinue: 1, conversationId: started.conversationId, payload: text(proof.clientFinal), $db: 'admin' });
      expect(proved).toMatchObject({ ok: 1, done: false });
      expect(readText(proved.payload)).toBe(proof.serverFinal);

      const closing = await wire.command({ saslContinue: 1, conversationId: started.conversationId, payload: text(''), $db: 'admin' });
      expect(closing).toMatchObject({ ok: 1, done: true });
      await expect(wire.command({ connectionStatus: 1, $db: 'admin' })).resolves.toMatchObject({
        authInfo: { authenticatedUsers: [{ user: 'root', db: 'admin' }] },
      });
    });

    it('reads OP_MSG document sequences (section kind 1)', async () => {
      const wire = await rawConnection(await peer());
      const reply = await wire.command({ insert: 'things', $db: 'app' }, { documents: [{ a: 1 }, { a: 2 }] });
      expect(reply).toMatchObject({ ok: 0, code: 13, codeName: 'Unauthorized' });
    });

    it('hangs up on bytes that are not the wire protocol', async () => {
      const target = await peer();
      const socket = connect(target.port, target.host);
      sockets.push(socket);
      await once(socket, 'connect');
      socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      await once(socket, 'close');
      expect(socket.destroyed).toBe(true);
    });
  });
});

function text(value: string): Binary {
  return new Binary(Buffer.from(value, 'utf8'));
}

function readText(payload: Binary): string {
  return Buffer.from(payload.value()).toString('utf8');
}

/** The client side of SCRAM-SHA-256 (RFC 7677) for an ASCII password, where SASLprep changes nothing. */
function scramSha256Proof(password: string, clientFirstBare: string, serverFirst: string) {
  const fields = new Map(serverFirst.split(',').map((field) => [field.slice(0, 1), field.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(fields.get('s')!, 'base64'), Number(fields.get('i')), 32, 'sha256');
  const hmac = (key: Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const clientKey = hmac(salted, 'Client Key');
  const withoutProof = `c=biws,r=${fields.get('r')}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = hmac(createHash('sha256').update(clientKey).digest(), authMessage);
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]));
  return {
    clientFinal: `${withoutProof},p=${proof.toString('base64')}`,
    serverFinal: `v=${hmac(hmac(salted, 'Server Key'), authMessage).toString('base64')}`,
  };
}

/** A bare OP_MSG client: one command at a time, one reply each. */
async function rawConnection(target: MongoPeer) {
  const socket = connect(target.port, target.host);
  sockets.push(socket);
  await once(socket, 'connect');
  let received = Buffer.alloc(0);
  let arrived: () => void = () => undefined;
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    arrived();
  });
  let requestId = 0;

  async function readMessage(): Promise<Buffer> {
    while (received.length < 4 || received.length < received.readInt32LE(0)) {
      await new Promise<void>((resolve) => (arrived = resolve));
    }
    const message = received.subarray(0, received.readInt32LE(0));
    received = received.subarray(message.length);
    return message;
  }

  return {
    async command(body: Document, sequences: Record<string, Document[]> = {}): Promise<Document> {
      const sections = [Buffer.from([0]), serialize(body)];
      for (const [identifier, documents] of Object.entries(sequences)) {
        const payload = Buffer.concat([Buffer.from(`${identifier}\0`), ...documents.map((document) => serialize(document))]);
        const size = Buffer.alloc(4);
        size.writeInt32LE(4 + payload.length);
        sections.push(Buffer.from([1]), size, payload);
      }
      const header = Buffer.alloc(20); // message header + flagBits 0
      header.writeInt32LE(++requestId, 4);
      header.writeInt32LE(2013, 12);
      const message = Buffer.concat([header, ...sections]);
      message.writeInt32LE(message.length, 0);
      const reply = readMessage();
      socket.write(message);
      const bytes = await reply;
      return deserialize(bytes.subarray(21));
    },
  };
}
