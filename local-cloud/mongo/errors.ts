// Command errors as MongoDB answers them: `{ ok: 0, errmsg, code, codeName }`, with its codes and
// messages. A command quoted in a message has its `pwd` replaced by "xxx", as MongoDB redacts it.
import { Binary, type Document } from 'bson';

export function commandError(code: number, codeName: string, errmsg: string): Document {
  return { ok: 0, errmsg, code, codeName };
}

export const authenticationFailed = (): Document => commandError(18, 'AuthenticationFailed', 'Authentication failed.');

export const badValue = (errmsg: string): Document => commandError(2, 'BadValue', errmsg);

export const requiresAuthentication = (name: string): Document =>
  commandError(13, 'Unauthorized', `command ${name} requires authentication`);

/** An authenticated user without the privilege the command needs. */
export const notAuthorized = (db: string, command: Document): Document =>
  commandError(13, 'Unauthorized', `not authorized on ${db} to execute command ${formatCommand(redactCommand(command))}`);

export const userNotFound = (errmsg: string): Document => commandError(11, 'UserNotFound', errmsg);

/** The command with its password fields replaced, for hooks, logs and error messages. */
export function redactCommand(command: Document): Document {
  return Object.fromEntries(Object.entries(command).map(([key, value]) => [key, key === 'pwd' ? 'xxx' : value]));
}

/** A document in the shell-like notation of MongoDB's messages: `{ createUser: "app", roles: [] }`. */
export function formatCommand(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[ ${value.map(formatCommand).join(', ')} ]`;
  if (value instanceof Binary) {
    return value.sub_type === Binary.SUBTYPE_UUID ? `UUID("${value.toUUID().toHexString()}")` : `BinData(${value.sub_type}, ${value.toString('base64')})`;
  }
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (typeof value === 'object' && (value as { _bsontype?: string })._bsontype === undefined) {
    const entries = Object.entries(value as Document);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([key, each]) => `${key}: ${formatCommand(each)}`).join(', ')} }`;
  }
  return String(value);
}
