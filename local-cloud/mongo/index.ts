// A MongoDB login peer: a loopback TCP port that speaks enough of the wire protocol for the
// official driver to connect, authenticate the root account with SCRAM-SHA-256 or SCRAM-SHA-1,
// and run `ping`. It lets the local cloud prove a password the way a real instance would.
// See README.md in this folder for what it answers and how an instance maps onto it.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { servePeerConnection } from './connection';
import { createIdentity } from './hello';
import { PeerSession, type LoginPolicy } from './session';

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
  /** Default 'root'. */
  username?: string;
  /** Default 'admin'. */
  authDb?: string;
  /** The password the instance holds now; read at the start of every authentication. */
  password: () => string;
  /** Fault: fail every authentication as a wrong password would. */
  rejectAll?: () => boolean;
  /** Given: answer hello as the primary of this replica set. Absent: answer as a mongos. */
  setName?: string;
}

export async function startMongoPeer(options: MongoPeerOptions): Promise<MongoPeer> {
  const host = options.host ?? '127.0.0.1';
  const login: LoginPolicy = {
    username: options.username ?? 'root',
    authDb: options.authDb ?? 'admin',
    password: options.password,
    rejectAll: options.rejectAll ?? (() => false),
  };
  const server = createServer();
  const sockets = new Set<Socket>();
  await listen(server, host, options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  const identity = createIdentity(host, port, options.setName);

  let connectionCount = 0;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    connectionCount += 1;
    servePeerConnection(socket, identity, new PeerSession(identity, login, connectionCount));
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
