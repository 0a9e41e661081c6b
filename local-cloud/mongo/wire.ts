// The MongoDB wire protocol, as far as a login peer needs it: the standard message header,
// OP_MSG (every command since MongoDB 3.6) and the legacy OP_QUERY / OP_REPLY pair that drivers
// still use for the first `isMaster` of a connection.
import { deserialize, serialize, type Document } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

export const MAX_MESSAGE_SIZE_BYTES = 48_000_000;
const HEADER_SIZE = 16;

const MSG_CHECKSUM_PRESENT = 1 << 0;
const MSG_MORE_TO_COME = 1 << 1;
const MSG_EXHAUST_ALLOWED = 1 << 16;
/** Bits 0-15 must be understood by the receiver; bits 16-31 may be ignored. */
const MSG_REQUIRED_BITS = 0xffff;
const MSG_KNOWN_REQUIRED_BITS = MSG_CHECKSUM_PRESENT | MSG_MORE_TO_COME;

/** The client broke the protocol: the only safe answer is to close the connection. */
export class WireProtocolError extends Error {}

export interface WireRequest {
  requestId: number;
  opCode: typeof OP_MSG | typeof OP_QUERY;
  /** The database the command runs against (`$db`, or the namespace of an OP_QUERY). */
  db: string;
  command: Document;
  /** OP_MSG moreToCome: the client expects no reply. */
  moreToCome: boolean;
  /** OP_MSG exhaustAllowed: the client accepts a stream of replies (moreToCome) to this request. */
  exhaustAllowed: boolean;
}

/** Cuts a byte stream into whole wire messages (header included). */
export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readInt32LE(0);
      if (length < HEADER_SIZE || length > MAX_MESSAGE_SIZE_BYTES) {
        throw new WireProtocolError(`invalid message length ${length}`);
      }
      if (this.pending.length < length) break;
      messages.push(this.pending.subarray(0, length));
      this.pending = this.pending.subarray(length);
    }
    return messages;
  }
}

export function decodeRequest(message: Buffer): WireRequest {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  try {
    if (opCode === OP_MSG) return decodeOpMsg(message, requestId);
    if (opCode === OP_QUERY) return decodeOpQuery(message, requestId);
  } catch (error) {
    if (error instanceof WireProtocolError) throw error;
    throw new WireProtocolError(`malformed message (opCode ${opCode})`);
  }
  // OP_COMPRESSED included: the peer never offers a compressor, so a client must not send one.
  throw new WireProtocolError(`unsupported opCode ${opCode}`);
}

function decodeOpMsg(message: Buffer, requestId: number): WireRequest {
  const flags = message.readUInt32LE(HEADER_SIZE);
  if ((flags & MSG_REQUIRED_BITS & ~MSG_KNOWN_REQUIRED_BITS) !== 0) {
    throw new WireProtocolError(`unknown required OP_MSG flag bits ${flags}`);
  }
  const end = flags & MSG_CHECKSUM_PRESENT ? message.length - 4 : message.length;
  let body: Document | undefined;
  const sequences = new Map<string, Document[]>();
  let offset = HEADER_SIZE + 4;
  while (offset < end) {
    const kind = message.readUInt8(offset);
    offset += 1;
    const size = message.readInt32LE(offset);
    if (kind === 0) {
      if (body) throw new WireProtocolError('OP_MSG with more than one body section');
      body = deserialize(message.subarray(offset, offset + size));
    } else if (kind === 1) {
      const [identifier, documents] = readDocumentSequence(message.subarray(offset, offset + size));
      if (sequences.has(identifier)) throw new WireProtocolError(`duplicate document sequence ${identifier}`);
      sequences.set(identifier, documents);
    } else {
      throw new WireProtocolError(`unknown OP_MSG section kind ${kind}`);
    }
    offset += size;
  }
  if (!body) throw new WireProtocolError('OP_MSG without a body section');
  for (const [identifier, documents] of sequences) {
    if (identifier in body) throw new WireProtocolError(`field ${identifier} both in the body and a sequence`);
    body[identifier] = documents;
  }
  if (typeof body.$db !== 'string') throw new WireProtocolError('OP_MSG without $db');
  return {
    requestId,
    opCode: OP_MSG,
    db: body.$db,
    command: body,
    moreToCome: (flags & MSG_MORE_TO_COME) !== 0,
    exhaustAllowed: (flags & MSG_EXHAUST_ALLOWED) !== 0,
  };
}

/** A kind 1 section without its kind byte: int32 size, cstring identifier, then documents. */
function readDocumentSequence(section: Buffer): [string, Document[]] {
  const nameEnd = section.indexOf(0, 4);
  if (nameEnd < 0) throw new WireProtocolError('unterminated document sequence identifier');
  const identifier = section.toString('utf8', 4, nameEnd);
  const documents: Document[] = [];
  for (let offset = nameEnd + 1; offset < section.length; ) {
    const size = section.readInt32LE(offset);
    documents.push(deserialize(section.subarray(offset, offset + size)));
    offset += size;
  }
  return [identifier, documents];
}

function decodeOpQuery(message: Buffer, requestId: number): WireRequest {
  const namespaceStart = HEADER_SIZE + 4;
  const namespaceEnd = message.indexOf(0, namespaceStart);
  if (namespaceEnd < 0) throw new WireProtocolError('unterminated OP_QUERY namespace');
  const namespace = message.toString('utf8', namespaceStart, namespaceEnd);
  const dot = namespace.indexOf('.');
  if (dot < 0 || namespace.slice(dot + 1) !== '$cmd') {
    throw new WireProtocolError('OP_QUERY is only accepted for commands');
  }
  const documentStart = namespaceEnd + 1 + 8; // numberToSkip, numberToReturn
  const size = message.readInt32LE(documentStart);
  const query = deserialize(message.subarray(documentStart, documentStart + size));
  // Drivers wrap a command in $query when they add a read preference for a mongos.
  const command = isDocument(query.$query) ? query.$query : query;
  return {
    requestId,
    opCode: OP_QUERY,
    db: namespace.slice(0, dot),
    command,
    moreToCome: false,
    exhaustAllowed: false,
  };
}

function isDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function encodeOpMsg(requestId: number, responseTo: number, reply: Document, moreToCome = false): Buffer {
  const body = serialize(reply);
  const message = Buffer.alloc(HEADER_SIZE + 4 + 1 + body.length);
  writeHeader(message, requestId, responseTo, OP_MSG);
  message.writeUInt32LE(moreToCome ? MSG_MORE_TO_COME : 0, HEADER_SIZE);
  message.writeUInt8(0, HEADER_SIZE + 4);
  message.set(body, HEADER_SIZE + 5);
  return message;
}

const REPLY_AWAIT_CAPABLE = 1 << 3;

export function encodeOpReply(requestId: number, responseTo: number, reply: Document): Buffer {
  const document = serialize(reply);
  const fieldsSize = 4 + 8 + 4 + 4; // responseFlags, cursorID, startingFrom, numberReturned
  const message = Buffer.alloc(HEADER_SIZE + fieldsSize + document.length);
  writeHeader(message, requestId, responseTo, OP_REPLY);
  message.writeInt32LE(REPLY_AWAIT_CAPABLE, HEADER_SIZE);
  message.writeBigInt64LE(0n, HEADER_SIZE + 4);
  message.writeInt32LE(0, HEADER_SIZE + 12);
  message.writeInt32LE(1, HEADER_SIZE + 16);
  message.set(document, HEADER_SIZE + fieldsSize);
  return message;
}

function writeHeader(message: Buffer, requestId: number, responseTo: number, opCode: number): void {
  message.writeInt32LE(message.length, 0);
  message.writeInt32LE(requestId, 4);
  message.writeInt32LE(responseTo, 8);
  message.writeInt32LE(opCode, 12);
}
