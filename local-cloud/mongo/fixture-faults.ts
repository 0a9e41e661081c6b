import { FixtureError } from '../state';
import type { FaultHandle } from '../faults/fault-controls';
import { FieldReader, type Json } from '../faults/field-reader';
import type { InstancePeers } from './instance-peers';

/**
 * The optional `mongoFaults` array of a fixture: wire faults on the MongoDB peers, for the command
 * (tests call `cloud.mongo` directly). They need the peers (`--mongo-peers`, `mongoPeers`).
 *
 *   { "kind": "drop",  "instanceId"?, "command"?, "db"?, "nth"?, "times"?, "after"? }
 *   { "kind": "hang",  "instanceId"?, "command"?, "db"?, "nth"?, "ms": 30000, "times"?, "after"? }
 *   { "kind": "error", "instanceId"?, "command"?, "db"?, "nth"?, "code": 91, "codeName"?, "errmsg"?, "times"? }
 *   { "kind": "rejectLogins", "instanceId": "dds-…", "times"?, "user"?, "db"? }
 */
export type MongoFaultSetup = (peers: InstancePeers) => FaultHandle;

const FIELDS: Record<string, string[]> = {
  drop: ['instanceId', 'command', 'db', 'nth', 'times', 'after'],
  hang: ['instanceId', 'command', 'db', 'nth', 'ms', 'times', 'after'],
  error: ['instanceId', 'command', 'db', 'nth', 'code', 'codeName', 'errmsg', 'times'],
  rejectLogins: ['instanceId', 'times', 'user', 'db'],
};

/** Reads the fixture's `mongoFaults`; throws FixtureError listing every problem by its field path. */
export function readMongoFaults(raw: unknown, source: string): MongoFaultSetup[] {
  if (raw === undefined) return [];
  const reader = new MongoFaultReader();
  if (!Array.isArray(raw)) reader.problems.push('mongoFaults: must be an array of fault objects such as {"kind":"drop","command":"updateUser"}');
  const setups = Array.isArray(raw) ? raw.map((item, index) => reader.fault(item, `mongoFaults[${index}]`)) : [];
  if (reader.problems.length > 0) throw new FixtureError(source, reader.problems);
  return setups as MongoFaultSetup[];
}

class MongoFaultReader extends FieldReader {
  constructor() {
    super(FIELDS, '{"kind":"drop","command":"updateUser"}');
  }

  fault(raw: unknown, path: string): MongoFaultSetup | undefined {
    const known = this.kindOf(raw, path);
    if (!known) return undefined;
    const { item, kind } = known;
    const match = {
      instanceId: this.text(item, 'instanceId', path, kind === 'rejectLogins'),
      command: this.text(item, 'command', path, false),
      db: this.text(item, 'db', path, false),
      nth: this.whole(item, 'nth', path, 1),
    };
    const times = this.whole(item, 'times', path, 1);
    switch (kind) {
      case 'drop': {
        const spec = { ...match, times, after: this.flag(item, 'after', path) };
        return (peers) => peers.drop(spec);
      }
      case 'hang': {
        const spec = { ...match, ms: this.whole(item, 'ms', path, 0, true)!, times, after: this.flag(item, 'after', path) };
        return (peers) => peers.hang(spec);
      }
      case 'error': {
        const spec = {
          ...match,
          code: this.whole(item, 'code', path, 1, true)!,
          codeName: this.text(item, 'codeName', path, false),
          errmsg: this.text(item, 'errmsg', path, false),
          times,
        };
        return (peers) => peers.error(spec);
      }
      default: {
        const user = this.text(item, 'user', path, false);
        const options = { ...(times !== undefined && { times }), ...(user !== undefined && { user }), ...(match.db !== undefined && { db: match.db }) };
        return (peers) => peers.rejectLogins(match.instanceId!, options);
      }
    }
  }
}
