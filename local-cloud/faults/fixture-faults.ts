import type { Product } from '../http/api-error';
import { FixtureError } from '../state';
import { checkedApplyLate } from './apply-late';
import type { FaultControls, FaultHandle } from './fault-controls';
import { FieldReader, type Json } from './field-reader';
import { checkedLag } from './lag';

/**
 * The optional `faults` array of a fixture, for the command (tests call the controls directly):
 *
 *   { "kind": "latency",  "product"?, "action"?, "nth"?, "ms": 50 }
 *   { "kind": "error",    "product"?, "action"?, "nth"?, "code": "InternalError", "httpStatus"?, "message"?, "times"?, "rate"? }
 *   { "kind": "throttle", "product": "dds" | "kms", "qps": 50 }
 *   { "kind": "drop",     "product"?, "action"?, "nth"?, "times"?, "after"? }
 *   { "kind": "hang",     "product"?, "action"?, "nth"?, "ms": 30000, "times"?, "after"? }
 *   { "kind": "instanceStatus", "instanceId": "dds-…", "status": "HASwitching", "ms": 60000 }
 *   { "kind": "kmsRemoveFromVersionWithoutStage", "behaviour": "refuse" | "accept" }
 *   { "kind": "lag",      "product": "kms" | "dds", "ms": 2000, "jitterMs"?: 500, "actions"?: ["GetSecretValue", …] }
 *   { "kind": "applyLate", "ms": 10000, "jitterMs"?, "instanceId"?, "status"?: "Restarting", "times"?, "nth"? }
 */
export function applyFixtureFaults(faults: FaultControls, raw: unknown, source: string): FaultHandle[] {
  if (raw === undefined) return [];
  const reader = new FaultReader();
  const apply = Array.isArray(raw) ? raw.map((item, index) => reader.fault(item, `faults[${index}]`)) : [];
  if (!Array.isArray(raw)) reader.problems.push('faults: must be an array of fault objects');
  if (reader.problems.length > 0) throw new FixtureError(source, reader.problems);
  return apply.map((add) => add!(faults));
}

type Apply = (faults: FaultControls) => FaultHandle;

const PRODUCTS: readonly Product[] = ['dds', 'kms', 'fc'];
const FIELDS: Record<string, string[]> = {
  latency: ['product', 'action', 'nth', 'ms'],
  error: ['product', 'action', 'nth', 'code', 'httpStatus', 'message', 'times', 'rate'],
  throttle: ['product', 'qps'],
  drop: ['product', 'action', 'nth', 'times', 'after'],
  hang: ['product', 'action', 'nth', 'ms', 'times', 'after'],
  instanceStatus: ['instanceId', 'status', 'ms'],
  kmsRemoveFromVersionWithoutStage: ['behaviour'],
  lag: ['product', 'ms', 'jitterMs', 'actions'],
  applyLate: ['ms', 'jitterMs', 'instanceId', 'status', 'times', 'nth'],
};
const REMOVE_FROM_VERSION = ['refuse', 'accept'] as const;

class FaultReader extends FieldReader {
  constructor() {
    super(FIELDS, '{"kind":"latency","product":"dds","ms":50}');
  }

  fault(raw: unknown, path: string): Apply | undefined {
    const known = this.kindOf(raw, path);
    if (!known) return undefined;
    const { item, kind } = known;
    return this.build(kind, item, path);
  }

  private build(kind: string, item: Json, path: string): Apply | undefined {
    const match = { product: this.product(item, path), action: this.text(item, 'action', path, false), nth: this.nth(item, path) };
    switch (kind) {
      case 'latency': {
        const ms = this.number(item, 'ms', path, true)!;
        return (f) => f.latency({ ...match, ms });
      }
      case 'error': {
        const spec = {
          ...match,
          code: this.text(item, 'code', path, true)!,
          httpStatus: this.number(item, 'httpStatus', path, false),
          message: this.text(item, 'message', path, false),
          times: this.number(item, 'times', path, false),
          rate: this.number(item, 'rate', path, false),
        };
        if (spec.rate !== undefined && spec.rate > 1) this.problems.push(`${path}.rate: must be from 0 to 1, got ${spec.rate}`);
        return (f) => f.error(spec);
      }
      case 'throttle': {
        const product = match.product;
        const qps = this.number(item, 'qps', path, true)!;
        if (qps === 0) this.problems.push(`${path}.qps: must be more than 0`);
        if (product !== 'dds' && product !== 'kms') {
          this.problems.push(`${path}.product: a throttle needs "dds" or "kms", got ${JSON.stringify(item.product)}`);
          return undefined;
        }
        return (f) => f.throttle({ product, qps });
      }
      case 'drop': {
        const spec = { ...match, times: this.number(item, 'times', path, false), after: this.flag(item, 'after', path) };
        return (f) => f.drop(spec);
      }
      case 'hang': {
        const spec = { ...match, ms: this.number(item, 'ms', path, true)!, times: this.number(item, 'times', path, false), after: this.flag(item, 'after', path) };
        return (f) => f.hang(spec);
      }
      case 'kmsRemoveFromVersionWithoutStage': {
        const behaviour = item.behaviour;
        if (!REMOVE_FROM_VERSION.includes(behaviour as (typeof REMOVE_FROM_VERSION)[number])) {
          this.problems.push(`${path}.behaviour: must be "refuse" or "accept", got ${JSON.stringify(behaviour) ?? 'nothing'}`);
          return undefined;
        }
        return (f) => f.kmsRemoveFromVersionWithoutStage(behaviour as (typeof REMOVE_FROM_VERSION)[number]);
      }
      case 'lag':
        return this.lag(item, path, match.product);
      case 'applyLate': {
        const spec = {
          ms: this.number(item, 'ms', path, true)!,
          jitterMs: this.number(item, 'jitterMs', path, false),
          instanceId: this.text(item, 'instanceId', path, false),
          status: this.text(item, 'status', path, false),
          times: this.number(item, 'times', path, false),
          nth: match.nth,
        };
        return this.checked(path, () => checkedApplyLate(spec), (f) => f.applyLate(spec));
      }
      default: {
        const instanceId = this.text(item, 'instanceId', path, true)!;
        const status = this.text(item, 'status', path, true)!;
        const ms = this.number(item, 'ms', path, true)!;
        return (f) => f.instanceStatus(instanceId, status, ms);
      }
    }
  }

  private lag(item: Json, path: string, product: Product | undefined): Apply | undefined {
    const ms = this.number(item, 'ms', path, true)!;
    const jitterMs = this.number(item, 'jitterMs', path, false);
    const actions = this.textList(item, 'actions', path);
    if (product !== 'kms' && product !== 'dds') {
      if (product !== undefined || item.product === undefined) {
        this.problems.push(`${path}.product: a lag needs "kms" or "dds", got ${JSON.stringify(item.product) ?? 'nothing'}`);
      }
      return undefined;
    }
    const spec = { product, ms, jitterMs, actions };
    return this.checked(path, () => checkedLag(spec), (f) => f.lag(spec));
  }

  /** Runs a fault's own check now, so that its problems are listed with the others (under `path`). */
  private checked(path: string, check: () => unknown, apply: Apply): Apply | undefined {
    if (this.problems.some((problem) => problem.startsWith(`${path}.`))) return undefined;
    try {
      check();
      return apply;
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      this.problems.push(`${path}: ${err.message}`);
      return undefined;
    }
  }

  private textList(item: Json, key: string, path: string): string[] | undefined {
    const value = item[key];
    if (value === undefined) return undefined;
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')) return value as string[];
    this.problems.push(`${path}.${key}: must be a non-empty array of action names, got ${JSON.stringify(value)}`);
    return undefined;
  }

  private product(item: Json, path: string): Product | undefined {
    const value = this.text(item, 'product', path, false);
    if (value === undefined || (PRODUCTS as string[]).includes(value)) return value as Product | undefined;
    this.problems.push(`${path}.product: must be one of ${PRODUCTS.join(', ')}, got ${JSON.stringify(value)}`);
    return undefined;
  }

  private nth(item: Json, path: string): number | undefined {
    return this.whole(item, 'nth', path, 1);
  }
}
