import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyLogin, type LoginCheck, type LoginResult } from '../../functions/shared/verify/login';
import { startMongoPeer, type MongoPeer, type MongoPeerOptions } from '../../local-cloud/mongo';
import { CA_FILE, OTHER_CA_FILE, startTlsProxy, type TlsProxy } from './tls-proxy';

const PASSWORD = 'Rotated#Pass-2026';
/** Ample for a server that answers, so that a busy machine does not fail a login that should pass. */
const TIMEOUT_MS = 2_000;
/** For the checks that must wait for something that never comes. */
const SHORT = { timeoutMs: 300 };

const peers: MongoPeer[] = [];
const proxies: TlsProxy[] = [];
const servers: Server[] = [];
const heldSockets: Socket[] = [];

afterEach(async () => {
  heldSockets.splice(0).forEach((socket) => socket.destroy());
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function peer(options: Partial<MongoPeerOptions> = {}): Promise<MongoPeer> {
  const started = await startMongoPeer({ password: () => PASSWORD, ...options });
  peers.push(started);
  return started;
}

async function listening(onConnection: (socket: Socket) => void = () => undefined): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A port nothing listens on: taken from the system, then released. */
async function closedPort(): Promise<number> {
  const { server, port } = await listening();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Accepts connections and never answers, like a server behind a black-holing firewall rule. */
async function silentServer(): Promise<number> {
  const { server, port } = await listening((socket) => heldSockets.push(socket));
  servers.push(server);
  return port;
}

function check(port: number, password: string, extra: Partial<LoginCheck> = {}): LoginCheck {
  return { host: '127.0.0.1', port, password, timeoutMs: TIMEOUT_MS, ...extra };
}

function expectFailure(result: LoginResult, reason: string): Extract<LoginResult, { ok: false }> {
  expect(result).toMatchObject({ ok: false, reason });
  if (result.ok) throw new Error('expected a failure');
  return result;
}

describe('verifyLogin', () => {
  it('logs root in with the password the server holds and pings', async () => {
    const target = await peer({ setName: 'mgset-1' });
    const result = await verifyLogin(check(target.port, PASSWORD, { replicaSet: 'mgset-1' }));
    expect(result).toEqual({ ok: true, durationMs: expect.any(Number) });
  });

  it('logs in through a mongos', async () => {
    const mongos = await peer();
    await expect(verifyLogin(check(mongos.port, PASSWORD))).resolves.toMatchObject({ ok: true });
  });

  it('closes every connection it opened', async () => {
    const target = await peer();
    await verifyLogin(check(target.port, PASSWORD));
    await expect.poll(() => target.connections).toBe(0);
  });

  it('reports a wrong password as auth-failed with code 18, without the password', async () => {
    const target = await peer();
    const wrong = 'Wrong#Pass-2026';
    const failure = expectFailure(await verifyLogin(check(target.port, wrong)), 'auth-failed');
    expect(failure.code).toBe(18);
    expect(failure.message).toContain('Authentication failed');
    expect(failure.message).not.toContain(wrong);
    expect(failure.message).not.toContain(PASSWORD);
  });

  it('reports a server that refuses every login as auth-failed', async () => {
    const target = await peer({ rejectAll: () => true });
    const failure = expectFailure(await verifyLogin(check(target.port, PASSWORD)), 'auth-failed');
    expect(failure.code).toBe(18);
  });

  it('reports a closed port as unreachable, within a few timeouts', async () => {
    const started = Date.now();
    const failure = expectFailure(await verifyLogin(check(await closedPort(), PASSWORD, SHORT)), 'unreachable');
    expect(failure.message).toContain('ECONNREFUSED');
    // Generous: the bound is about timeout + grace; this only catches a check that hangs.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('reports a server that never answers as a timeout', async () => {
    const failure = expectFailure(await verifyLogin(check(await silentServer(), PASSWORD, SHORT)), 'timeout');
    expect(failure.message).toContain(`within ${SHORT.timeoutMs} ms`);
  });

  it('reports a server of another replica set as an error naming the set', async () => {
    const target = await peer({ setName: 'mgset-other' });
    const failure = expectFailure(await verifyLogin(check(target.port, PASSWORD, { ...SHORT, replicaSet: 'mgset-1' })), 'error');
    expect(failure.message).toContain("replica set 'mgset-1'");
  });

  it('reports an invalid address as an error instead of throwing', async () => {
    const failure = expectFailure(await verifyLogin(check(0, PASSWORD)), 'error');
    expect(failure.message).toContain('127.0.0.1:0');
  });

  describe('passwords with the special characters of the password rule', () => {
    const passwords = [
      'Percent%Sign1',
      'Encoded%41Pw1', // would log in as "EncodedAPw1" if anything URI-decoded it
      'Caret^Sign1a',
      'Ampersand&Sign1',
      'Paren(Sign1a',
      'Plus+Sign1ab',
      'Equals=Sign1a',
      'All!#$%^&*()_+-=9aB',
    ];

    it.each(passwords)('logs in with %s', async (password) => {
      const target = await peer({ password: () => password });
      await expect(verifyLogin(check(target.port, password))).resolves.toMatchObject({ ok: true });
      const failure = expectFailure(await verifyLogin(check(target.port, `${password}x`)), 'auth-failed');
      expect(failure.message).not.toContain(password);
    });
  });

  describe('keeps the password out of every message', () => {
    it('even where the failing value is the password itself', async () => {
      const target = await peer({ setName: 'mgset-1' });
      const failure = expectFailure(await verifyLogin(check(target.port, PASSWORD, { ...SHORT, replicaSet: PASSWORD })), 'error');
      expect(failure.message).toContain('[redacted]');
      expect(failure.message).not.toContain(PASSWORD);
    });

    it('in any letter case', async () => {
      const password = 'HostLikePw1';
      const result = await verifyLogin(check(27017, password, { ...SHORT, host: password.toLowerCase() }));
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result).toLowerCase()).not.toContain(password.toLowerCase());
    });
  });

  describe('over TLS', () => {
    async function tlsPeer(): Promise<number> {
      const proxy = await startTlsProxy((await peer()).port);
      proxies.push(proxy);
      return proxy.port;
    }

    it('logs in when the server certificate chains to the CA file', async () => {
      const port = await tlsPeer();
      await expect(verifyLogin(check(port, PASSWORD, { tls: { enabled: true, caFile: CA_FILE } }))).resolves.toMatchObject({ ok: true });
      await expect(verifyLogin(check(port, PASSWORD, { host: 'localhost', tls: { enabled: true, caFile: CA_FILE } }))).resolves.toMatchObject({
        ok: true,
      });
    });

    it('still tells a wrong password apart', async () => {
      const port = await tlsPeer();
      const failure = expectFailure(await verifyLogin(check(port, 'Wrong#Pass-2026', { tls: { enabled: true, caFile: CA_FILE } })), 'auth-failed');
      expect(failure.code).toBe(18);
    });

    it('reports a certificate from another CA as a tls failure', async () => {
      const port = await tlsPeer();
      const failure = expectFailure(await verifyLogin(check(port, PASSWORD, { ...SHORT, tls: { enabled: true, caFile: OTHER_CA_FILE } })), 'tls');
      expect(failure.message).toContain('certificate');
    });

    it('reports a CA file it cannot read as a tls failure', async () => {
      const port = await tlsPeer();
      const failure = expectFailure(await verifyLogin(check(port, PASSWORD, { tls: { enabled: true, caFile: '/nonexistent/ca.pem' } })), 'tls');
      expect(failure.message).toContain('CA file');
    });

    it('does not use TLS unless enabled', async () => {
      const port = await tlsPeer();
      expect((await verifyLogin(check(port, PASSWORD, SHORT))).ok).toBe(false);
      const plain = await peer();
      const result = await verifyLogin(check(plain.port, PASSWORD, { tls: { enabled: false, caFile: '/nonexistent/ca.pem' } }));
      expect(result).toMatchObject({ ok: true });
    });
  });
});
