/**
 * Local-cloud fixtures for the reliability checks: instances (replica sets or sharded clusters),
 * each with a KMS secret whose ACSCurrent holds the instance's password, and the manual invocation
 * that rotates one of them.
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

/** How many resets the database rejects, by start, before it accepts one: the `malformed` start's first password. */
export const REJECTED_RESETS: Record<Start, number> = { fresh: 0, resume: 0, malformed: 1 };

export interface SeededTarget extends Target {
  topology: Topology;
  start: Start;
  /** The password the instance and ACSCurrent hold before any rotation. */
  initialPassword: string;
  initialVersionId: string;
  /** The invocation that rotates this target, the version it stages (or resumes), and that version's replacement. */
  event: { instanceIds: string[]; force: true; rotationId: string };
  ownVersionId: string;
  replacementVersionId: string;
}

const REGION = 'cn-hangzhou';
const INITIAL_VERSION_ID = 'v-initial';

const secretNameOf = (instanceId: string): string => `mongodb/${instanceId}/root`;

/** A target named `dds-<prefix><n>`; its passwords are derived from the id (test values, not secrets). */
export function seedTarget(prefix: string, n: number, topology: Topology, start: Start = 'fresh'): SeededTarget {
  const instanceId = `dds-${prefix}${String(n).padStart(3, '0')}`;
  const rotationId = `rotate-${instanceId}`;
  const ownVersionId = versionIdFor(`manual\n${rotationId}`, instanceId);
  return {
    instanceId,
    secretName: secretNameOf(instanceId),
    topology,
    start,
    initialPassword: `Initial#${prefix}${n}-Pw`,
    initialVersionId: INITIAL_VERSION_ID,
    event: { instanceIds: [instanceId], force: true, rotationId },
    ownVersionId,
    replacementVersionId: replacementVersionId(ownVersionId),
  };
}

export function fixtureOf(targets: SeededTarget[]): object {
  return {
    region: REGION,
    accessKeys: [RIG_KEY],
    instances: targets.map((t) => ({ id: t.instanceId, type: t.topology, rootPassword: t.initialPassword })),
    secrets: targets.map((t) => ({
      name: t.secretName,
      instanceId: t.instanceId,
      versions: [
        { versionId: t.initialVersionId, data: secretData(t, t.initialPassword), stages: ['ACSCurrent'], createTime: '-40d' },
        ...(t.start === 'resume' ? [{ versionId: t.ownVersionId, data: secretData(t, pendingPassword(t)), stages: ['ACSPending'], createTime: '-1h' }] : []),
      ],
    })),
  };
}

/** What a run that completes the rotation of this target reports. */
export const completedOutcome = (t: SeededTarget): 'rotated' | 'resumed' => (t.start === 'resume' ? 'resumed' : 'rotated');

const pendingPassword = (t: SeededTarget) => `Pending#${t.instanceId.slice(4)}-Pw`;

function secretData(t: SeededTarget, password: string): string {
  return JSON.stringify({
    AccountName: 'root',
    AccountPassword: password,
    DBInstanceId: t.instanceId,
    CharacterTypes: t.topology === 'sharding' ? ['db', 'cs'] : ['normal'],
  });
}
