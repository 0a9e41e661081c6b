/**
 * What the fault matrix is made of, as data: its dimensions (each a family of the README's columns), the
 * scenarios they span, and the calls a clean rotation makes in each scenario. The number of cells follows from
 * this alone (calls × fault kinds), so the README's table can be checked against it without running anything;
 * the matrix checks, before striking, that the clean runs it records make exactly the calls declared here.
 *
 * A new dimension (an application user, a replication lag) is a new entry of DIMENSIONS, a field of Scenario,
 * what seed.ts does for each of its values, and the calls of each new scenario in CALLS.
 */
import type { Start, Topology } from './seed';

export interface Scenario {
  topology: Topology;
  start: Start;
  /** Strike only the calls of these actions (default: every call of the clean run). */
  actions?: string[];
  /** Positions struck besides the recorded ones: for checking that the matrix fails a cell whose fault cannot strike. */
  planted?: PlantedPosition[];
}

/** A call named by hand: the nth call of an action in a run, and what its parameters say (see positions.ts). */
export interface PlantedPosition {
  product: 'dds' | 'kms';
  action: string;
  nth: number;
  detail: string;
}

export interface DimensionValue<T extends string> {
  id: T;
  /** In the matrix's printout (`replica set, resuming its pending version`). */
  label: string;
  /** In the README's column header. */
  column: string;
}

export interface Dimension<K extends DimensionKey = DimensionKey> {
  key: K;
  values: Array<DimensionValue<Scenario[K] & string>>;
}

type DimensionKey = 'topology' | 'start';

export const DIMENSIONS: [Dimension<'topology'>, Dimension<'start'>] = [
  {
    key: 'topology',
    values: [
      { id: 'replicate', label: 'replica set', column: 'replica set' },
      { id: 'sharding', label: 'sharded cluster', column: 'sharded cluster' },
    ],
  },
  {
    key: 'start',
    values: [
      { id: 'fresh', label: 'fresh', column: 'fresh' },
      { id: 'resume', label: 'resuming its pending version', column: 'resuming' },
      { id: 'malformed', label: 'first password rejected as malformed', column: 'rejected password' },
    ],
  },
];

/** Every combination of the dimensions' values, in their order. */
export function allScenarios(): Scenario[] {
  return DIMENSIONS.reduce<Array<Record<string, string>>>(
    (partial, dimension) => partial.flatMap((scenario) => dimension.values.map((value) => ({ ...scenario, [dimension.key]: value.id }))),
    [{}],
  ) as unknown as Scenario[];
}

export const scenarioKey = (s: Scenario): string => DIMENSIONS.map((d) => s[d.key]).join('/');

export const scenarioLabel = (s: Scenario): string => DIMENSIONS.map((d) => d.values.find((v) => v.id === s[d.key])?.label ?? s[d.key]).join(', ');

const INSPECT_AND_STAGE = ['DescribeDBInstanceAttribute#1', 'ListSecretVersionIds#1', 'PutSecretValue#1', 'ListSecretVersionIds#2'];
const RESUME = ['DescribeDBInstanceAttribute#1', 'ListSecretVersionIds#1', 'GetSecretValue#1 (by VersionId)', 'ListSecretVersionIds#2'];
/** The malformed start: the first reset is rejected, a replacement is staged and checked, then applied. */
const REPLACE = ['PutSecretValue#2', 'ListSecretVersionIds#3'];
/** Settle, move ACSCurrent, remove ACSPending, then one list to see where the labels landed (its `nth` list). */
const settleAndPromote = (list: number) => [
  'DescribeDBInstanceAttribute#2',
  'UpdateSecretVersionStage#1 (move ACSCurrent)',
  'UpdateSecretVersionStage#2 (remove ACSPending)',
  `ListSecretVersionIds#${list}`,
];

/**
 * The DDS and KMS calls of a clean rotation of one target listed in ROTATION_TARGETS, in order, by scenario
 * key (positions.ts names them: action#occurrence (what the parameters say)).
 */
export const CALLS: Record<string, string[]> = {
  'replicate/fresh': [...INSPECT_AND_STAGE, 'ResetAccountPassword#1 (normal)', ...settleAndPromote(3)],
  'replicate/resume': [...RESUME, 'ResetAccountPassword#1 (normal)', ...settleAndPromote(3)],
  'replicate/malformed': [...INSPECT_AND_STAGE, 'ResetAccountPassword#1 (normal)', ...REPLACE, 'ResetAccountPassword#2 (normal)', ...settleAndPromote(4)],
  'sharding/fresh': [...INSPECT_AND_STAGE, 'ResetAccountPassword#1 (db)', 'ResetAccountPassword#2 (cs)', ...settleAndPromote(3)],
  'sharding/resume': [...RESUME, 'ResetAccountPassword#1 (db)', 'ResetAccountPassword#2 (cs)', ...settleAndPromote(3)],
  'sharding/malformed': [
    ...INSPECT_AND_STAGE,
    'ResetAccountPassword#1 (db)',
    ...REPLACE,
    'ResetAccountPassword#2 (db)',
    'ResetAccountPassword#3 (cs)',
    ...settleAndPromote(4),
  ],
};

/** The calls declared for a scenario; every scenario of the dimensions has an entry (a test holds it). */
export function declaredCalls(s: Scenario): string[] {
  const calls = CALLS[scenarioKey(s)];
  if (!calls) throw new Error(`scripts/faults/scenarios.ts declares no calls for the scenario ${scenarioKey(s)}`);
  return calls;
}

/** The calls a scenario's cells strike: the declared ones of its actions (all by default), then the planted ones. */
export function struckCalls(s: Scenario): string[] {
  const declared = declaredCalls(s).filter((label) => !s.actions || s.actions.includes(label.split('#')[0]));
  return [...declared, ...(s.planted ?? []).map(plantedLabel)];
}

export const plantedLabel = (p: PlantedPosition): string => `${p.action}#${p.nth}${p.detail ? ` (${p.detail})` : ''} (planted)`;
