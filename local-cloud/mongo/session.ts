// One client connection's view of the peer: who it has authenticated as, the SASL conversation
// in progress, and the commands it may run. The peer implements a login surface only; any other
// command is one a real server would have, so it answers as a real server does to a client that
// has not logged in (Unauthorized) and, once logged in, as to an unknown command.
import { Binary, type Document } from 'bson';
import { HELLO_COMMANDS, helloReply, type PeerIdentity } from './hello';
import { isScramMechanism, parseClientFirst, ScramConversation } from './scram';
import { OP_QUERY, type WireRequest } from './wire';

export interface LoginPolicy {
  username: string;
  authDb: string;
  /** The password the instance holds now. */
  password: () => string;
  /** Fault: every authentication fails as with a wrong password. */
  rejectAll: () => boolean;
}

interface Conversation {
  id: number;
  scram: ScramConversation;
  db: string;
  /** false once the proof is accepted and only the client's empty closing message is due. */
  awaitingProof: boolean;
  skipEmptyExchange: boolean;
}

interface AuthenticatedUser {
  user: string;
  db: string;
}

export function commandError(code: number, codeName: string, errmsg: string): Document {
  return { ok: 0, errmsg, code, codeName };
}

const authenticationFailed = (): Document => commandError(18, 'AuthenticationFailed', 'Authentication failed.');

/** Commands a client may run before it authenticates. */
const OPEN_COMMANDS: ReadonlySet<string> = new Set([
  ...HELLO_COMMANDS,
  'saslStart',
  'saslContinue',
  'ping',
  'endSessions',
  'connectionStatus',
]);

export class PeerSession {
  private conversation: Conversation | undefined;
  private conversationCount = 0;
  private authenticated: AuthenticatedUser | undefined;

  constructor(
    private readonly identity: PeerIdentity,
    private readonly login: LoginPolicy,
    readonly connectionId: number,
  ) {}

  async run(request: WireRequest): Promise<Document> {
    const { command, db } = request;
    const name = Object.keys(command)[0] ?? '';
    if (request.opCode === OP_QUERY && !HELLO_COMMANDS.has(name)) {
      return commandError(
        352,
        'UnsupportedOpQueryCommand',
        `Unsupported OP_QUERY command: ${name}. The client driver may require an upgrade.`,
      );
    }
    if (!OPEN_COMMANDS.has(name)) {
      return this.authenticated
        ? commandError(59, 'CommandNotFound', `no such command: '${name}'`)
        : commandError(13, 'Unauthorized', `command ${name} requires authentication`);
    }
    if (HELLO_COMMANDS.has(name)) return this.hello(name, command);
    if (name === 'saslStart') return this.saslStart(command, db);
    if (name === 'saslContinue') return this.saslContinue(command);
    if (name === 'connectionStatus') return this.connectionStatus();
    return { ok: 1 }; // ping, endSessions
  }

  private async hello(name: string, command: Document): Promise<Document> {
    const reply = helloReply(this.identity, name, command, this.connectionId);
    if (command.saslSupportedMechs === `${this.login.authDb}.${this.login.username}`) {
      reply.saslSupportedMechs = ['SCRAM-SHA-1', 'SCRAM-SHA-256'];
    }
    const speculative = command.speculativeAuthenticate;
    if (speculative?.saslStart) {
      // A speculative attempt that fails is left out of the answer; the client then starts over.
      const { ok, ...started } = await this.saslStart(speculative, String(speculative.db ?? ''));
      if (ok === 1) reply.speculativeAuthenticate = started;
    }
    return reply;
  }

  private async saslStart(command: Document, db: string): Promise<Document> {
    this.conversation = undefined;
    const mechanism = command.mechanism;
    if (!isScramMechanism(mechanism)) {
      return commandError(334, 'MechanismUnavailable', `Received authentication for mechanism ${String(mechanism)} which is not enabled`);
    }
    const clientFirst = parseClientFirst(payloadText(command.payload));
    if (!clientFirst) return commandError(17, 'ProtocolError', 'Invalid SCRAM client-first message');
    if (db !== this.login.authDb || clientFirst.username !== this.login.username) return authenticationFailed();

    const scram = await ScramConversation.start(mechanism, clientFirst, this.login.password());
    this.conversationCount += 1;
    this.conversation = {
      id: this.conversationCount,
      scram,
      db,
      awaitingProof: true,
      skipEmptyExchange: command.options?.skipEmptyExchange === true,
    };
    return { conversationId: this.conversation.id, done: false, payload: binary(scram.serverFirst), ok: 1 };
  }

  private saslContinue(command: Document): Document {
    const conversation = this.conversation;
    if (!conversation || Number(command.conversationId) !== conversation.id) {
      return commandError(17, 'ProtocolError', 'No SASL session state found');
    }
    const payload = payloadText(command.payload);
    if (!conversation.awaitingProof) {
      this.conversation = undefined;
      if (payload !== '') return authenticationFailed();
      return this.complete(conversation, '');
    }
    const serverFinal = this.login.rejectAll() ? undefined : conversation.scram.finish(payload);
    if (serverFinal === undefined) {
      this.conversation = undefined;
      return authenticationFailed();
    }
    if (conversation.skipEmptyExchange) {
      this.conversation = undefined;
      return this.complete(conversation, serverFinal);
    }
    conversation.awaitingProof = false;
    return { conversationId: conversation.id, done: false, payload: binary(serverFinal), ok: 1 };
  }

  private complete(conversation: Conversation, payload: string): Document {
    this.authenticated = { user: conversation.scram.username, db: conversation.db };
    return { conversationId: conversation.id, done: true, payload: binary(payload), ok: 1 };
  }

  private connectionStatus(): Document {
    const users = this.authenticated ? [this.authenticated] : [];
    return {
      authInfo: {
        authenticatedUsers: users,
        authenticatedUserRoles: users.map(({ db }) => ({ role: 'root', db })),
      },
      ok: 1,
    };
  }
}

function payloadText(payload: unknown): string {
  if (payload instanceof Binary) return Buffer.from(payload.value()).toString('utf8');
  if (typeof payload === 'string') return payload;
  return '';
}

function binary(text: string): Binary {
  return new Binary(Buffer.from(text, 'utf8'));
}
