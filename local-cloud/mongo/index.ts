// A MongoDB peer: a loopback TCP port that speaks enough of the wire protocol for the official
// driver to connect, authenticate with SCRAM-SHA-256 or SCRAM-SHA-1, manage users and run a
// query. It lets the local cloud prove a password, and rotate application users, the way a real
// instance would. See README.md in this folder for what it answers and how an instance maps onto it.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { CommandFaults } from './command-faults';
import { type CommandObserver, servePeerConnection } from './connection';
import { createIdentity } from './hello';
import { PeerSession } from './session';
import { type Account, memoryUserStore, UserDirectory, type UserStore } from './users';

export type { CommandRecord, CommandObserver } from './connection';
export type { Account, UserStore } from './users';
export { memoryUserStore } from './users';

export interface MongoPeer {
  host: string;
  port: number;
  /** Client connections open now. */
  readonly connections: number;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

export interface MongoPeerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /**
   * root's password, read whenever root logs in (a peer of its own keeps its other users in
   * memory). Give either this or `users`.
   */
  password?: () => string;
  /** Where the users live, root included (the local cloud's state for an instance's peer). */
  users?: UserStore;
  /** Fault: fail this authentication as a wrong password would; asked once per proof checked. */
  rejectAll?: (user: { user: string; db: string }) => boolean;
  /** Told of every login attempt for a user that exists. */
  loginChecked?: (account: Account) => void;
  /** Given: answer hello as the primary of this replica set. Absent: answer as a mongos. */
  setName?: string;
  /** Given: accept TLS connections only, with this key and certificate (PEM), as a TLS-enabled instance does. */
  tls?: PeerTls;
  /** Wire faults (shared by the peers of a local cloud), matched with `instanceId`. */
  faults?: CommandFaults;
  instanceId?: string;
  observer?: CommandObserver;
}

export interface PeerTls {
  key: string | Buffer;
  cert: string | Buffer;
}

export async function startMongoPeer(options: MongoPeerOptions): Promise<MongoPeer> {
  const store = options.users ?? (options.password && memoryUserStore(options.password));
  if (!store) throw new Error('startMongoPeer: give `password` (root\'s) or a `users` store');
  const users = new UserDirectory(store);
  const login = { rejectLogin: options.rejectAll ?? (() => false), loginChecked: options.loginChecked };
  const host = options.host ?? '127.0.0.1';
  const server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }) : createServer();
  const sockets = new Set<Socket>();
  await listen(server, host, options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  const identity = createIdentity(host, port, options.setName);

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that rejects the certificate (or speaks plain text) hangs up mid-handshake: routine.
  if (options.tls) server.on('tlsClientError', () => undefined);
  let connectionCount = 0;
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    connectionCount += 1;
    servePeerConnection(socket, {
      identity,
      session: new PeerSession(identity, users, login, connectionCount),
      faults: options.faults,
      instanceId: options.instanceId,
      observer: options.observer,
    });
  });

  return {
    host,
    port,
    get connections() {
      return sockets.size;
    },
    async close() {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      const socketsClosed = [...sockets].map((socket) => {
        const closed = new Promise((resolve) => socket.once('close', resolve));
        socket.destroy();
        return closed;
      });
      await Promise.all([serverClosed, ...socketsClosed]);
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
