/**
 * What the fixture readers of faults (`faults`, `mongoFaults`) share: an item's kind among those known, no field its
 * kind does not take, and typed fields; every problem is collected with its field path, for one FixtureError.
 */
export type Json = Record<string, unknown>;

export abstract class FieldReader {
  readonly problems: string[] = [];

  /** @param fields the fields each kind takes; @param example an item shown when one is not even an object */
  constructor(
    private readonly fields: Record<string, string[]>,
    private readonly example: string,
  ) {}

  /** The item and its kind, when it is an object of a known kind (unknown fields are noted, not fatal). */
  protected kindOf(raw: unknown, path: string): { item: Json; kind: string } | undefined {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.problems.push(`${path}: must be an object such as ${this.example}`);
      return undefined;
    }
    const item = raw as Json;
    const kind = item.kind;
    if (typeof kind !== 'string' || !(kind in this.fields)) {
      this.problems.push(`${path}.kind: must be one of ${Object.keys(this.fields).join(', ')}, got ${JSON.stringify(kind)}`);
      return undefined;
    }
    for (const key of Object.keys(item)) {
      if (key !== 'kind' && !this.fields[kind].includes(key)) {
        this.problems.push(`${path}.${key}: unknown field for a ${kind} fault; expected ${this.fields[kind].join(', ')}`);
      }
    }
    return { item, kind };
  }

  protected text(item: Json, key: string, path: string, required: boolean): string | undefined {
    const value = item[key];
    if (value === undefined && !required) return undefined;
    if (typeof value === 'string' && value !== '') return value;
    this.problems.push(`${path}.${key}: must be a non-empty string, got ${JSON.stringify(value) ?? 'nothing'}`);
    return undefined;
  }

  protected whole(item: Json, key: string, path: string, min: number, required = false): number | undefined {
    const value = item[key];
    if (value === undefined && !required) return undefined;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
    this.problems.push(`${path}.${key}: must be a whole number of at least ${min}, got ${JSON.stringify(value) ?? 'nothing'}`);
    return undefined;
  }

  protected number(item: Json, key: string, path: string, required: boolean): number | undefined {
    const value = item[key];
    if (value === undefined && !required) return undefined;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
    this.problems.push(`${path}.${key}: must be a number of at least 0, got ${JSON.stringify(value) ?? 'nothing'}`);
    return undefined;
  }

  protected flag(item: Json, key: string, path: string): boolean | undefined {
    const value = item[key];
    if (value === undefined || typeof value === 'boolean') return value;
    this.problems.push(`${path}.${key}: must be true or false, got ${JSON.stringify(value)}`);
    return undefined;
  }
}
