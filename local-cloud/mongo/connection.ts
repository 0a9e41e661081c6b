// One TCP connection: frames the byte stream into messages, runs them in order through the
// session, writes the replies, and streams the answers of an exhaust `hello`.
import type { Socket } from 'node:net';
import type { Document } from 'bson';
import { awaitableHelloWaitMs, type PeerIdentity } from './hello';
import { commandError, PeerSession } from './session';
import { decodeRequest, encodeOpMsg, encodeOpReply, MessageFramer, OP_QUERY, type WireRequest } from './wire';

export function servePeerConnection(socket: Socket, identity: PeerIdentity, session: PeerSession): void {
  new PeerConnection(socket, identity, session);
}

class PeerConnection {
  private readonly framer = new MessageFramer();
  private queue: Promise<void> = Promise.resolve();
  private streamTimer: NodeJS.Timeout | undefined;
  private nextRequestId = 1;

  constructor(
    private readonly socket: Socket,
    private readonly identity: PeerIdentity,
    private readonly session: PeerSession,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.stopStreaming());
    // A client that goes away mid-conversation is routine; 'close' follows and cleans up.
    socket.on('error', () => undefined);
  }

  private receive(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.framer.push(chunk);
    } catch {
      this.socket.destroy();
      return;
    }
    for (const message of messages) {
      this.queue = this.queue.then(() => this.handle(message));
    }
  }

  private async handle(message: Buffer): Promise<void> {
    if (this.socket.destroyed) return;
    this.stopStreaming();
    let request: WireRequest;
    try {
      request = decodeRequest(message);
    } catch {
      this.socket.destroy();
      return;
    }
    const waitMs = request.opCode === OP_QUERY ? undefined : awaitableHelloWaitMs(this.identity, request.command);
    if (waitMs !== undefined) {
      this.answerLater(request, request.requestId, waitMs);
      return;
    }
    const reply = await this.execute(request);
    if (!request.moreToCome) this.send(request, request.requestId, reply, false);
  }

  /**
   * Answers an awaitable hello after waitMs. With exhaustAllowed the answer carries moreToCome
   * and the peer keeps answering, each reply responding to the previous one, until the client
   * hangs up or sends something else.
   */
  private answerLater(request: WireRequest, responseTo: number, waitMs: number): void {
    const timer = setTimeout(async () => {
      const reply = await this.execute(request);
      if (this.streamTimer !== timer || this.socket.destroyed) return;
      const replyId = this.send(request, responseTo, reply, request.exhaustAllowed);
      if (request.exhaustAllowed) this.answerLater(request, replyId, waitMs);
    }, waitMs);
    this.streamTimer = timer;
  }

  private stopStreaming(): void {
    clearTimeout(this.streamTimer);
    this.streamTimer = undefined;
  }

  private async execute(request: WireRequest): Promise<Document> {
    try {
      return await this.session.run(request);
    } catch {
      // The cause may come from the password provider: nothing of it goes on the wire.
      return commandError(1, 'InternalError', 'the login peer failed to run the command');
    }
  }

  private send(request: WireRequest, responseTo: number, reply: Document, moreToCome: boolean): number {
    const requestId = this.nextRequestId++;
    const message =
      request.opCode === OP_QUERY
        ? encodeOpReply(requestId, responseTo, reply)
        : encodeOpMsg(requestId, responseTo, reply, moreToCome);
    if (!this.socket.destroyed) this.socket.write(message);
    return requestId;
  }
}
