/**
 * Local-cloud fixtures for the reliability checks: instances (replica sets or sharded clusters),
 * each with a KMS secret whose ACSCurrent holds the instance's password, and the manual invocation
 * that rotates one of them. A target of an application user has that user on its instance too, and
 * a secret of its own whose ACSCurrent names it with its password.
 */
import { replacementVersionId, versionIdFor } from '../../functions/shared/targets';
import { RIG_KEY, type Target } from './rig';

export type Topology = 'replicate' | 'sharding';

/**
 * How the rotation starts: `fresh` from ACSCurrent alone; `resume` with a password already staged
 * under ACSPending by an earlier attempt of the same trigger (one that died after PutSecretValue),
 * so that the run reads it (GetSecretValue) instead of staging one; `malformed` as fresh, but the
 * database rejects the first password it is sent as malformed, so the run stages a replacement
 * (the only path that stages two versions for one trigger).
 */
export type Start = 'fresh' | 'resume' | 'malformed';

/**
 * The account rotated: `root` (ResetAccountPassword), or the application user `app` (on `admin`), its target
 * listed `alternating` (a new password goes to `app_clone`, created by the first rotation) or `single`. A `resume`
 * start of a user has its pending version name the user that the rotation changes.
 */
export type Account = 'root' | 'alternating' | 'single';

/** The application user of the matrix's user targets, and its partner. */
export const APP_USER = 'app';
export const APP_CLONE = `${APP_USER}_clone`;
const APP_ROLES = [{ role: 'readWrite', db: 'app' }];

/** How many resets the database rejects, by start, before it accepts one: the `malformed` start's first password. */
export const REJECTED_RESETS: Record<Start, number> = { fresh: 0, resume: 0, malformed: 1 };

export interface SeededTarget extends Target {
  topology: Topology;
  start: Start;
  account: Account;
  /** The password the account and ACSCurrent hold before any rotation. */
  initialPassword: string;
  initialVersionId: string;
  /** The root secret the function logs in with to change an application user (root's own secret for root). */
  rootSecretName: string;
  /** Root's password (for root: the initial password). */
  rootPassword: string;
  /** The user the rotation gives the new password to: root, `app` (single) or `app_clone` (alternating). */
  rotatedUser: string;
  /** The invocation that rotates this target, the version it stages (or resumes), and that version's replacement. */
  event: { instanceIds: string[]; force: true; rotationId: string };
  ownVersionId: string;
  replacementVersionId: string;
}

const REGION = 'cn-hangzhou';
const INITIAL_VERSION_ID = 'v-initial';
const ROOT_VERSION_ID = 'v-root';

const secretNameOf = (instanceId: string, account = 'root'): string => `mongodb/${instanceId}/${account}`;

/** A target named `dds-<prefix><n>`; its passwords are derived from the id (test values, not secrets). */
export function seedTarget(prefix: string, n: number, topology: Topology, start: Start = 'fresh', account: Account = 'root'): SeededTarget {
  const instanceId = `dds-${prefix}${String(n).padStart(3, '0')}`;
  const rotationId = `rotate-${instanceId}`;
  const user = account !== 'root';
  const ownVersionId = versionIdFor(`manual\n${rotationId}`, instanceId, user ? APP_USER : undefined);
  const initialPassword = `Initial#${prefix}${n}-Pw`;
  return {
    instanceId,
    secretName: secretNameOf(instanceId, user ? APP_USER : 'root'),
    ...(user && { accountName: APP_USER, strategy: account }),
    topology,
    start,
    account,
    initialPassword,
    initialVersionId: INITIAL_VERSION_ID,
    rootSecretName: secretNameOf(instanceId),
    rootPassword: user ? `Root#${prefix}${n}-Pw` : initialPassword,
    rotatedUser: account === 'root' ? 'root' : account === 'single' ? APP_USER : APP_CLONE,
    event: { instanceIds: [instanceId], force: true, rotationId },
    ownVersionId,
    replacementVersionId: replacementVersionId(ownVersionId),
  };
}

export function fixtureOf(targets: SeededTarget[]): object {
  return {
    region: REGION,
    accessKeys: [RIG_KEY],
    instances: targets.map((t) => ({
      id: t.instanceId,
      type: t.topology,
      rootPassword: t.rootPassword,
      ...(t.account !== 'root' && { users: [{ user: APP_USER, db: 'admin', password: t.initialPassword, roles: APP_ROLES }] }),
    })),
    secrets: targets.flatMap((t) => [
      {
        name: t.secretName,
        instanceId: t.instanceId,
        ...(t.strategy && { strategy: t.strategy }),
        versions: [
          { versionId: t.initialVersionId, data: secretData(t, t.initialPassword), stages: ['ACSCurrent'], createTime: '-40d' },
          ...(t.start === 'resume' ? [{ versionId: t.ownVersionId, data: secretData(t, pendingPassword(t), t.rotatedUser), stages: ['ACSPending'], createTime: '-1h' }] : []),
        ],
      },
      ...(t.account === 'root' ? [] : [{ name: t.rootSecretName, instanceId: t.instanceId, versions: [{ versionId: ROOT_VERSION_ID, data: rootData(t), stages: ['ACSCurrent'], createTime: '-40d' }] }]),
    ]),
  };
}

/** What a run that completes the rotation of this target reports. */
export const completedOutcome = (t: SeededTarget): 'rotated' | 'resumed' => (t.start === 'resume' ? 'resumed' : 'rotated');

const pendingPassword = (t: SeededTarget) => `Pending#${t.instanceId.slice(4)}-Pw`;

/** The target's secret data: root's, or the application user's (`user`: the user it names, by default `app`). */
function secretData(t: SeededTarget, password: string, user = APP_USER): string {
  if (t.account === 'root') return rootData({ ...t, rootPassword: password });
  return JSON.stringify({ AccountName: user, AccountPassword: password, DBInstanceId: t.instanceId, AuthDatabase: 'admin' });
}

function rootData(t: Pick<SeededTarget, 'instanceId' | 'topology' | 'rootPassword'>): string {
  return JSON.stringify({
    AccountName: 'root',
    AccountPassword: t.rootPassword,
    DBInstanceId: t.instanceId,
    CharacterTypes: t.topology === 'sharding' ? ['db', 'cs'] : ['normal'],
  });
}
