/**
 * A generated fleet (scripts/bench/fleet.ts) with every state `npm run status` knows staged on it: one
 * instance per special state, the rest fresh, due or overdue in turn. With ROTATION_INTERVAL_DAYS=30 and
 * the default 24 h of grace, each instance's expected state is known.
 */
import type { LocalCloud } from '../../local-cloud';
import type { State } from '../../scripts/status/assess';
import { FLEET_ACCESS_KEY, FLEET_TAG, generateFleet } from '../../scripts/bench/fleet';

interface FixtureVersion {
  versionId: string;
  data: string;
  stages: string[];
  createTime: string;
}
interface FixtureSecret {
  name: string;
  instanceId?: string;
  versions: FixtureVersion[];
}
interface FixtureInstance {
  id: string;
  type: string;
  rootPassword: string;
  tags: Record<string, string>;
  lockMode?: string;
}
interface Fixture {
  region: string;
  accessKeys: object[];
  instances: FixtureInstance[];
  secrets: FixtureSecret[];
}

export const INTERVAL_DAYS = 30;
/** Past the interval, within the grace. */
const DUE_AGE = '-722h';
const FRESH_AGE = '-2d';
const OVERDUE_AGE = '-40d';

/** The states staged on the first instances, in this order. */
export const SPECIAL_STATES: State[] = ['instance-missing', 'unreadable', 'secret-missing', 'locked', 'stuck', 'many-versions', 'rotating'];
const ROUND_ROBIN: State[] = ['fresh', 'due', 'overdue'];

export interface StagedFleet {
  fixture: Fixture;
  /** Instance id → the state status must see. */
  expected: Map<string, State>;
  /** Only in ROTATION_TARGETS: its instance does not exist, so no tag can find it. */
  missingInstanceId: string;
  /** The overdue instance, tagged and also listed in ROTATION_TARGETS. */
  configuredInstanceId: string;
  /** The secret whose listing the cloud refuses: call `refuseUnreadable` once the cloud runs. */
  unreadableSecret: string;
}

export function stagedFleet(size: number): StagedFleet {
  if (size < SPECIAL_STATES.length + ROUND_ROBIN.length) throw new Error(`a staged fleet needs at least ${SPECIAL_STATES.length + ROUND_ROBIN.length} instances`);
  const fleet = generateFleet({ instances: size, shardedRatio: 0.2, prefix: 'stat' });
  const fixture = fleet.fixture as Fixture;
  const expected = new Map<string, State>();
  let missingInstanceId = '';
  let unreadableSecret = '';
  fleet.instances.forEach(({ id, secretName }, index) => {
    const state = SPECIAL_STATES[index] ?? ROUND_ROBIN[(index - SPECIAL_STATES.length) % ROUND_ROBIN.length];
    expected.set(id, state);
    const instance = fixture.instances.find((i) => i.id === id)!;
    const secret = fixture.secrets.find((s) => s.name === secretName)!;
    const current = secret.versions[0];
    switch (state) {
      case 'fresh':
        current.createTime = FRESH_AGE;
        break;
      case 'due':
        current.createTime = DUE_AGE;
        break;
      case 'overdue':
        current.createTime = OVERDUE_AGE;
        break;
      case 'rotating':
        current.createTime = DUE_AGE;
        secret.versions.push(pending(id, '-10m'));
        break;
      case 'stuck':
        current.createTime = DUE_AGE;
        secret.versions.push(pending(id, '-3h'));
        break;
      case 'locked':
        current.createTime = FRESH_AGE;
        instance.lockMode = 'ManualLock';
        break;
      case 'many-versions':
        current.createTime = FRESH_AGE;
        secret.versions.unshift(
          ...Array.from({ length: 7 }, (_, n) => ({ ...current, versionId: `v-${id}-old${n}`, stages: [], createTime: `-${100 - n}d` })),
          { ...current, versionId: `v-${id}-previous`, stages: ['ACSPrevious'], createTime: '-32d' },
        );
        break;
      case 'secret-missing':
        fixture.secrets.splice(fixture.secrets.indexOf(secret), 1);
        break;
      case 'instance-missing':
        missingInstanceId = id;
        fixture.instances.splice(fixture.instances.indexOf(instance), 1);
        delete secret.instanceId;
        current.createTime = FRESH_AGE;
        break;
      case 'unreadable':
        unreadableSecret = secretName;
        current.createTime = FRESH_AGE;
        break;
      default:
        throw new Error(`no staging for ${state}`);
    }
  });
  const configuredInstanceId = [...expected].find(([, state]) => state === 'overdue')![0];
  return { fixture, expected, missingInstanceId, configuredInstanceId, unreadableSecret };
}

/** A version under ACSPending, `age` old, holding a password the database does not have yet. */
function pending(instanceId: string, age: string): FixtureVersion {
  const data = JSON.stringify({ AccountName: 'root', AccountPassword: `Pending#${instanceId.slice(-6)}-Pw9`, DBInstanceId: instanceId });
  return { versionId: `r-pending-${instanceId}`, data, stages: ['ACSPending'], createTime: age };
}

/** KMS refuses to list the versions of the unreadable target's secret, every time. */
export function refuseUnreadable(cloud: LocalCloud, staged: StagedFleet): void {
  cloud.faults.error({
    product: 'kms',
    action: 'ListSecretVersionIds',
    when: (params) => params.SecretName === staged.unreadableSecret,
    code: 'Forbidden.NoPermission',
    httpStatus: 403,
    message: 'This operation is forbidden by permission system.',
    rate: 1,
  });
}

/** The environment of the function, and so of status, for this fleet on `cloud`. */
export function statusEnv(cloud: LocalCloud, staged: StagedFleet, overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {
    ROTATION_TARGETS: JSON.stringify([{ instanceId: staged.missingInstanceId }, { instanceId: staged.configuredInstanceId }]),
    ROTATION_TAG: `${FLEET_TAG.key}=${FLEET_TAG.value}`,
    ROTATION_INTERVAL_DAYS: String(INTERVAL_DAYS),
    DDS_ENDPOINT: cloud.endpoint,
    KMS_ENDPOINT: cloud.endpoint,
    ALIBABA_CLOUD_REGION_ID: cloud.region,
    ALIBABA_CLOUD_ACCESS_KEY_ID: FLEET_ACCESS_KEY.id,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: FLEET_ACCESS_KEY.secret,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
}

/** Counts of each state the fleet stages. */
export function expectedCounts(staged: StagedFleet): Partial<Record<State, number>> {
  const counts: Partial<Record<State, number>> = {};
  for (const state of staged.expected.values()) counts[state] = (counts[state] ?? 0) + 1;
  return counts;
}
