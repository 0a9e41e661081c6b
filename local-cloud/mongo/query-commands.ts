// Queries, so that an application logged in as its user can run one: `find`, `count` and
// `aggregate` on any collection. The peer keeps no documents: every collection is empty, and every
// answer is the one a real server gives for an empty collection. Reading needs a read role.
import { type Document, Long } from 'bson';
import { commandError, notAuthorized } from './errors';
import { grants } from './privileges';
import type { CommandContext } from './user-commands';

export const QUERY_COMMANDS: ReadonlySet<string> = new Set(['find', 'count', 'aggregate']);

export function runQueryCommand(name: string, { caller, db, command }: Omit<CommandContext, 'users'>): Document {
  const collection = command[name];
  if (typeof collection !== 'string' && !(name === 'aggregate' && collection === 1)) {
    return commandError(73, 'InvalidNamespace', `collection name has invalid type ${typeof collection}`);
  }
  if (!grants(caller.roles, 'read', db)) return notAuthorized(db, command);
  if (name === 'count') return { n: 0, ok: 1 };
  const ns = `${db}.${collection === 1 ? '$cmd.aggregate' : collection}`;
  return { cursor: { firstBatch: [], id: Long.fromNumber(0), ns }, ok: 1 };
}
