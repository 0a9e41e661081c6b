// One TCP connection: frames the byte stream into messages, runs them in order through the
// session (with the wire faults around each command), writes the replies, and streams the
// answers of an exhaust `hello`.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Document } from 'bson';
import type { ArrivingCommand, CommandFaults, CommandPlan } from './command-faults';
import { redactCommand } from './errors';
import { awaitableHelloWaitMs, HELLO_COMMANDS, type PeerIdentity } from './hello';
import { commandError, PeerSession } from './session';
import { decodeRequest, encodeOpMsg, encodeOpReply, MessageFramer, OP_QUERY, type WireRequest } from './wire';

/** One command as the peer served it (hellos aside); it holds no password. */
export interface CommandRecord {
  time: string;
  requestId: string;
  instanceId?: string;
  command: string;
  db: string;
  /** `user@db` the connection was logged in as when the command arrived. */
  user?: string;
  /** Whether the peer ran it (false: a fault dropped or refused it first). */
  applied: boolean;
  /** Whether the client got the answer (false: the connection was dropped, or the client had gone). */
  answered: boolean;
  ok: boolean;
  code?: number;
}

/** What the peer tells its owner about the commands it serves. */
export interface CommandObserver {
  /** A password a command carried (`pwd`), as it arrives: for the secrecy scans. */
  passwordSeen?(password: string): void;
  /** Right after a command was applied, before `after` hooks and the answer. */
  applied?(command: ArrivingCommand, reply: Document): void;
  /** Once a command is done with, answered or not. */
  finished?(record: CommandRecord): void;
}

export interface ConnectionOptions {
  identity: PeerIdentity;
  session: PeerSession;
  faults?: CommandFaults;
  instanceId?: string;
  observer?: CommandObserver;
}

export function servePeerConnection(socket: Socket, options: ConnectionOptions): void {
  new PeerConnection(socket, options);
}

const NO_FAULT: CommandPlan = { before: [], after: [] };

class PeerConnection {
  private readonly framer = new MessageFramer();
  private queue: Promise<void> = Promise.resolve();
  private streamTimer: NodeJS.Timeout | undefined;
  private nextRequestId = 1;

  constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
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
    const waitMs = request.opCode === OP_QUERY ? undefined : awaitableHelloWaitMs(this.options.identity, request.command);
    if (waitMs !== undefined) {
      this.answerLater(request, request.requestId, waitMs);
      return;
    }
    const name = Object.keys(request.command)[0] ?? '';
    if (HELLO_COMMANDS.has(name)) {
      const reply = await this.execute(request);
      if (!request.moreToCome) this.send(request, request.requestId, reply, false);
      return;
    }
    await this.serve(request, name);
  }

  /** A command through the wire faults: drop, hold, error or hooks, then applied and answered. */
  private async serve(request: WireRequest, name: string): Promise<void> {
    const { faults, observer, session } = this.options;
    if (typeof request.command.pwd === 'string') observer?.passwordSeen?.(request.command.pwd);
    const user = session.user;
    const arriving: ArrivingCommand = {
      requestId: randomUUID().toUpperCase(),
      command: name,
      db: request.db,
      body: redactCommand(request.command),
      ...(this.options.instanceId !== undefined && { instanceId: this.options.instanceId }),
      ...(user && { user: { user: user.user, db: user.db } }),
    };
    const record: CommandRecord = {
      time: new Date().toISOString(),
      requestId: arriving.requestId,
      ...(arriving.instanceId !== undefined && { instanceId: arriving.instanceId }),
      command: name,
      db: request.db,
      ...(user && { user: `${user.user}@${user.db}` }),
      applied: false,
      answered: false,
      ok: false,
    };
    const plan = faults?.plan(arriving) ?? NO_FAULT;
    const delayed = plan.hold !== undefined || plan.before.length > 0 || plan.after.length > 0;
    const done = delayed && faults ? faults.begin() : () => undefined;
    try {
      const reply = await this.applyWithFaults(request, arriving, plan, record);
      if (reply && !request.moreToCome && !this.socket.destroyed) {
        this.send(request, request.requestId, reply, false);
        record.answered = true;
      }
    } finally {
      done();
      observer?.finished?.(record);
    }
  }

  /** The answer to send, or undefined when the connection is to be (or was) dropped instead. */
  private async applyWithFaults(request: WireRequest, arriving: ArrivingCommand, plan: CommandPlan, record: CommandRecord) {
    const faults = this.options.faults;
    if (plan.hold && !plan.hold.after && !(await faults!.wait(plan.hold.ms))) return this.hangUp();
    if (plan.drop === 'before') return this.hangUp();
    let reply: Document;
    if (plan.error) {
      reply = plan.error;
    } else {
      await faults?.runHooks(plan.before, arriving);
      reply = await this.execute(request);
      record.applied = true;
      this.options.observer?.applied?.(arriving, reply);
      await faults?.runHooks(plan.after, arriving);
    }
    record.ok = reply.ok === 1;
    if (typeof reply.code === 'number') record.code = reply.code;
    if (plan.hold?.after && !(await faults!.wait(plan.hold.ms))) return this.hangUp();
    if (plan.drop === 'after') return this.hangUp();
    return reply;
  }

  private hangUp(): undefined {
    this.socket.destroy();
    return undefined;
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
      return await this.options.session.run(request);
    } catch {
      // The cause may come from the password provider: nothing of it goes on the wire.
      return commandError(1, 'InternalError', 'the MongoDB peer failed to run the command');
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
