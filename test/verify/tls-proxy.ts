/**
 * A TLS front for a plain login peer, as a TLS-enabled instance presents itself: the certificate in
 * fixtures/tls is issued for localhost and 127.0.0.1 by fixtures/tls/ca.pem (test-only, valid to 2126).
 */
import { readFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:tls';

export const TLS_FIXTURES = fileURLToPath(new URL('fixtures/tls', import.meta.url));
export const CA_FILE = join(TLS_FIXTURES, 'ca.pem');
export const OTHER_CA_FILE = join(TLS_FIXTURES, 'other-ca.pem');

export interface TlsProxy {
  port: number;
  close(): Promise<void>;
}

export async function startTlsProxy(upstreamPort: number): Promise<TlsProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer({ key: readFileSync(join(TLS_FIXTURES, 'server.key')), cert: readFileSync(join(TLS_FIXTURES, 'server.pem')) });
  server.on('secureConnection', (client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    track(client);
    track(upstream);
    client.pipe(upstream).on('close', () => client.destroy());
    upstream.pipe(client).on('close', () => upstream.destroy());
  });
  // A client that rejects the certificate hangs up mid-handshake; that is expected here.
  server.on('tlsClientError', () => undefined);
  server.on('connection', track);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
