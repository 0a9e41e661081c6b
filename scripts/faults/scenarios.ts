/**
 * What the fault matrix is made of, as data: its dimensions (each a family of the README's columns), the
 * scenarios they span, and the calls a clean rotation makes in each scenario. The number of cells follows from
 * this alone (calls × fault kinds), so the README's table can be checked against it without running anything;
 * the matrix checks, before striking, that the clean runs it records make exactly the calls declared here.
 *
 * A new dimension (the account rotated, a replication lag) is a new entry of DIMENSIONS, a field of Scenario,
 * what seed.ts does for each of its values, the calls of each new scenario in CALLS, and, where a combination of
 * values means nothing, an entry of LEFT_OUT.
 */
import type { Account, Start, Topology } from './seed';

export interface Scenario {
  topology: Topology;
  start: Start;
  /** The account rotated: root (the default), or an application user rotated `alternating` or `single`. */
  account?: Account;
  /** Strike only the calls of these actions (default: every call of the clean run). */
  actions?: string[];
  /** Positions struck besides the recorded ones: for checking that the matrix fails a cell whose fault cannot strike. */
  planted?: PlantedPosition[];
}

/** A call named by hand: the nth call of an action in a run, and what its parameters say (see positions.ts). */
export interface PlantedPosition {
  product: 'dds' | 'kms' | 'mongo';
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

type DimensionKey = 'topology' | 'start' | 'account';

export const DIMENSIONS: [Dimension<'topology'>, Dimension<'start'>, Dimension<'account'>] = [
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
  {
    key: 'account',
    values: [
      { id: 'root', label: 'root', column: 'root' },
      { id: 'alternating', label: 'application user, alternating', column: 'app user, alternating' },
      { id: 'single', label: 'application user, single', column: 'app user, single' },
    ],
  },
];

/** A scenario's value in a dimension (an account left unsaid is root). */
export const valueOf = (s: Scenario, key: DimensionKey): string => (key === 'account' ? (s.account ?? 'root') : s[key]);

/** Combinations of values the matrix does not run (a scenario whose value in each dimension named is one of those listed), and why; the README lists them under its table. */
export interface LeftOut {
  values: Partial<Record<DimensionKey, string[]>>;
  why: string;
}

const APP_USERS = ['alternating', 'single'];

export const LEFT_OUT: LeftOut[] = [
  {
    values: { start: ['malformed'], account: APP_USERS },
    why: 'a password rejected as malformed is an answer of ResetAccountPassword, which serves root alone',
  },
  {
    values: { topology: ['sharding'], account: APP_USERS },
    why: "a sharded cluster's application user lives on its config servers, changed through a mongos with the same calls and commands as a replica set's: its cells would repeat those",
  },
];

const leftOut = (s: Scenario): boolean => LEFT_OUT.some((l) => Object.entries(l.values).every(([key, values]) => values.includes(valueOf(s, key as DimensionKey))));

/** Every combination of the dimensions' values, in their order, but those LEFT_OUT. */
export function allScenarios(): Scenario[] {
  const every = DIMENSIONS.reduce<Array<Record<string, string>>>(
    (partial, dimension) => partial.flatMap((scenario) => dimension.values.map((value) => ({ ...scenario, [dimension.key]: value.id }))),
    [{}],
  ) as unknown as Scenario[];
  return every.filter((s) => !leftOut(s));
}

export const scenarioKey = (s: Scenario): string => DIMENSIONS.map((d) => valueOf(s, d.key)).join('/');

export const scenarioLabel = (s: Scenario): string =>
  DIMENSIONS.map((d) => d.values.find((v) => v.id === valueOf(s, d.key))?.label ?? valueOf(s, d.key)).join(', ');

/** Whether the scenario rotates an application user. */
export const rotatesUser = (s: Scenario): boolean => valueOf(s, 'account') !== 'root';

const INSPECT_AND_STAGE = ['DescribeDBInstanceAttribute#1', 'ListSecretVersionIds#1', 'PutSecretValue#1', 'ListSecretVersionIds#2'];
const RESUME = ['DescribeDBInstanceAttribute#1', 'ListSecretVersionIds#1', 'GetSecretValue#1 (by VersionId)', 'ListSecretVersionIds#2'];
/** The malformed start: the first reset is rejected, a replacement is staged and checked, then applied. */
const REPLACE = ['PutSecretValue#2', 'ListSecretVersionIds#3'];
/** Move ACSCurrent, remove ACSPending, then one list to see where the labels landed (its `nth` list). */
const promote = (list: number) => ['UpdateSecretVersionStage#1 (move ACSCurrent)', 'UpdateSecretVersionStage#2 (remove ACSPending)', `ListSecretVersionIds#${list}`];
/** Root: the settle (describe the instance until it is `Running`), then the promote. */
const settleAndPromote = (list: number) => ['DescribeDBInstanceAttribute#2', ...promote(list)];

/**
 * An application user's rotation: inspect (the instance, who ACSCurrent names), root's password from the instance's
 * root secret, and (when it stages) root checks that the user exists; then the apply, as root (the users, then the
 * change), the login check as the user changed, and the promote (no settle: a replica set's primary has the change
 * at once). MongoDB's commands are named as the function sends them (see isMongoCommand); the logins' SCRAM
 * exchange and the driver's `endSessions` on closing are not positions.
 */
const userCalls = (strategy: 'alternating' | 'single', resume: boolean): string[] => {
  const change = strategy === 'alternating' ? 'createUser#1' : 'updateUser#1';
  const login = strategy === 'alternating' ? 'ping#1 (as app_clone)' : 'ping#1 (as app)';
  const inspect = ['DescribeDBInstanceAttribute#1', 'GetSecretValue#1 (ACSCurrent)', 'ListSecretVersionIds#1'];
  const stage = resume
    ? ['GetSecretValue#2 (by VersionId)', 'ListSecretVersionIds#2', 'GetSecretValue#3 (ACSCurrent)', 'GetSecretValue#4 (root secret, ACSCurrent)', 'usersInfo#1']
    : ['GetSecretValue#2 (root secret, ACSCurrent)', 'usersInfo#1', 'PutSecretValue#1', 'ListSecretVersionIds#2', 'GetSecretValue#3 (ACSCurrent)', 'usersInfo#2'];
  return [...inspect, ...stage, change, login, ...promote(3)];
};

/**
 * The calls (DDS and KMS) and commands (MongoDB) of a clean rotation of one target listed in ROTATION_TARGETS, in
 * order, by scenario key (positions.ts names them: action#occurrence (what the parameters say)).
 */
export const CALLS: Record<string, string[]> = {
  'replicate/fresh/root': [...INSPECT_AND_STAGE, 'ResetAccountPassword#1 (normal)', ...settleAndPromote(3)],
  'replicate/resume/root': [...RESUME, 'ResetAccountPassword#1 (normal)', ...settleAndPromote(3)],
  'replicate/malformed/root': [...INSPECT_AND_STAGE, 'ResetAccountPassword#1 (normal)', ...REPLACE, 'ResetAccountPassword#2 (normal)', ...settleAndPromote(4)],
  'sharding/fresh/root': [...INSPECT_AND_STAGE, 'ResetAccountPassword#1 (db)', 'ResetAccountPassword#2 (cs)', ...settleAndPromote(3)],
  'sharding/resume/root': [...RESUME, 'ResetAccountPassword#1 (db)', 'ResetAccountPassword#2 (cs)', ...settleAndPromote(3)],
  'sharding/malformed/root': [
    ...INSPECT_AND_STAGE,
    'ResetAccountPassword#1 (db)',
    ...REPLACE,
    'ResetAccountPassword#2 (db)',
    'ResetAccountPassword#3 (cs)',
    ...settleAndPromote(4),
  ],
  'replicate/fresh/alternating': userCalls('alternating', false),
  'replicate/resume/alternating': userCalls('alternating', true),
  'replicate/fresh/single': userCalls('single', false),
  'replicate/resume/single': userCalls('single', true),
};

/** A MongoDB command (camelCase, as MongoDB names them), not an API's action (PascalCase). */
export const isMongoCommand = (action: string): boolean => /^[a-z]/.test(action);

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
