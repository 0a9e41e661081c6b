import { FixtureError } from '../state';
import type { FaultHandle } from '../faults/fault-controls';
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

type Json = Record<string, unknown>;

/** Reads the fixture's `mongoFaults`; throws FixtureError listing every problem by its field path. */
export function readMongoFaults(raw: unknown, source: string): MongoFaultSetup[] {
  if (raw === undefined) return [];
  const reader = new MongoFaultReader();
  if (!Array.isArray(raw)) reader.problems.push('mongoFaults: must be an array of fault objects such as {"kind":"drop","command":"updateUser"}');
  const setups = Array.isArray(raw) ? raw.map((item, index) => reader.fault(item, `mongoFaults[${index}]`)) : [];
  if (reader.problems.length > 0) throw new FixtureError(source, reader.problems);
  return setups as MongoFaultSetup[];
}

class MongoFaultReader {
  readonly problems: string[] = [];

  fault(raw: unknown, path: string): MongoFaultSetup | undefined {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.problems.push(`${path}: must be an object such as {"kind":"drop","command":"updateUser"}`);
      return undefined;
    }
    const item = raw as Json;
    const kind = item.kind;
    if (typeof kind !== 'string' || !(kind in FIELDS)) {
      this.problems.push(`${path}.kind: must be one of ${Object.keys(FIELDS).join(', ')}, got ${JSON.stringify(kind)}`);
      return undefined;
    }
    for (const key of Object.keys(item)) {
      if (key !== 'kind' && !FIELDS[kind].includes(key)) {
        this.problems.push(`${path}.${key}: unknown field for a ${kind} fault; expected ${FIELDS[kind].join(', ')}`);
      }
    }
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

  private text(item: Json, key: string, path: string, required: boolean): string | undefined {
    const value = item[key];
    if (value === undefined && !required) return undefined;
    if (typeof value === 'string' && value !== '') return value;
    this.problems.push(`${path}.${key}: must be a non-empty string, got ${JSON.stringify(value) ?? 'nothing'}`);
    return undefined;
  }

  private whole(item: Json, key: string, path: string, min: number, required = false): number | undefined {
    const value = item[key];
    if (value === undefined && !required) return undefined;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
    this.problems.push(`${path}.${key}: must be a whole number of at least ${min}, got ${JSON.stringify(value) ?? 'nothing'}`);
    return undefined;
  }

  private flag(item: Json, key: string, path: string): boolean | undefined {
    const value = item[key];
    if (value === undefined || typeof value === 'boolean') return value;
    this.problems.push(`${path}.${key}: must be true or false, got ${JSON.stringify(value)}`);
    return undefined;
  }
}
