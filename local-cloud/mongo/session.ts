// One client connection's view of the peer: who it has authenticated as, the SASL conversation
// in progress, and the commands it may run. Before login only the handshake and a few open
// commands run; after it, user management and queries, each checked against the user's roles as
// they are at that moment (a user dropped meanwhile is no longer logged in).
import { Binary, type Document } from 'bson';
import type { UserMechanism } from '../state/mongo-users';
import { authenticationFailed, commandError, requiresAuthentication } from './errors';
import { HELLO_COMMANDS, helloReply, type PeerIdentity } from './hello';
import { QUERY_COMMANDS, runQueryCommand } from './query-commands';
import { isScramMechanism, parseClientFirst, ScramConversation } from './scram';
import { runUserCommand, USER_COMMANDS } from './user-commands';
import type { Account, UserDirectory } from './users';
import { OP_QUERY, type WireRequest } from './wire';

export { commandError } from './errors';

export interface LoginPolicy {
  /** Fault: this authentication fails as with a wrong password. Asked once per proof checked. */
  rejectLogin: (user: AuthenticatedUser) => boolean;
  /** Told of every login attempt for a user that exists, as its credentials are looked up. */
  loginChecked?: (account: Account) => void;
}

interface Conversation {
  id: number;
  scram: ScramConversation;
  db: string;
  /** false once the proof is accepted and only the client's empty closing message is due. */
  awaitingProof: boolean;
  skipEmptyExchange: boolean;
}

export interface AuthenticatedUser {
  user: string;
  db: string;
}

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
    private readonly users: UserDirectory,
    private readonly login: LoginPolicy,
    readonly connectionId: number,
  ) {}

  /** The user this connection is logged in as (if it still exists). */
  get user(): AuthenticatedUser | undefined {
    return this.caller();
  }

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
    if (OPEN_COMMANDS.has(name)) return this.runOpen(name, command, db);
    const caller = this.caller();
    if (!caller) return requiresAuthentication(name);
    if (USER_COMMANDS.has(name)) return runUserCommand(name, { users: this.users, caller, db, command });
    if (QUERY_COMMANDS.has(name)) return runQueryCommand(name, { caller, db, command });
    return commandError(59, 'CommandNotFound', `no such command: '${name}'`);
  }

  private async runOpen(name: string, command: Document, db: string): Promise<Document> {
    if (HELLO_COMMANDS.has(name)) return this.hello(name, command);
    if (name === 'saslStart') return this.saslStart(command, db);
    if (name === 'saslContinue') return this.saslContinue(command);
    if (name === 'connectionStatus') return this.connectionStatus();
    return { ok: 1 }; // ping, endSessions
  }

  /** The logged-in user as it is now; a connection whose user was dropped is logged out. */
  private caller(): Account | undefined {
    if (!this.authenticated) return undefined;
    const account = this.users.find(this.authenticated.user, this.authenticated.db);
    if (!account) this.authenticated = undefined;
    return account;
  }

  private async hello(name: string, command: Document): Promise<Document> {
    const reply = helloReply(this.identity, name, command, this.connectionId);
    const asked = typeof command.saslSupportedMechs === 'string' ? command.saslSupportedMechs : undefined;
    const dot = asked?.indexOf('.') ?? -1;
    const account = asked === undefined || dot < 0 ? undefined : this.users.find(asked.slice(dot + 1), asked.slice(0, dot));
    if (account) reply.saslSupportedMechs = [...account.mechanisms];
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
    const account = this.users.find(clientFirst.username, db);
    if (!account) return authenticationFailed();
    this.login.loginChecked?.(account);
    if (!account.mechanisms.includes(mechanism)) return mechanismUnavailable(mechanism);

    const scram = ScramConversation.start(mechanism, clientFirst, await this.users.credentials(account, mechanism));
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
    const refused = this.login.rejectLogin({ user: conversation.scram.username, db: conversation.db });
    const serverFinal = refused ? undefined : conversation.scram.finish(payload);
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
    const caller = this.caller();
    return {
      authInfo: {
        authenticatedUsers: caller ? [{ user: caller.user, db: caller.db }] : [],
        authenticatedUserRoles: caller ? caller.roles.map(({ role, db }) => ({ role, db })) : [],
      },
      ok: 1,
    };
  }
}

function mechanismUnavailable(mechanism: UserMechanism): Document {
  return commandError(
    334,
    'MechanismUnavailable',
    `Unable to use ${mechanism} based authentication for user without any ${mechanism} credentials registered`,
  );
}

function payloadText(payload: unknown): string {
  if (payload instanceof Binary) return Buffer.from(payload.value()).toString('utf8');
  if (typeof payload === 'string') return payload;
  return '';
}

function binary(text: string): Binary {
  return new Binary(Buffer.from(text, 'utf8'));
}
