/**
 * A secret's versions as the engine reasons about them: ids, stage labels and creation times, checked to
 * have the shape KMS promises before any decision is taken on them. No password ever passes through here.
 */
import { OperationError } from '../../shared/errors';
import { type $Kms, ACS_CURRENT, ACS_PENDING } from '../../shared/clients/kms';
import { OWN_CODES } from '../../shared/codes';
import { shown } from '../../shared/format';

export { ACS_CURRENT, ACS_PENDING, ACS_PREVIOUS } from '../../shared/clients/kms';

export interface SecretVersion {
  versionId: string;
  stages: string[];
  createTime: string;
}

export const has = (version: SecretVersion | undefined, stage: string): boolean => version?.stages.includes(stage) ?? false;

export const find = (versions: readonly SecretVersion[], versionId: string): SecretVersion | undefined => versions.find((v) => v.versionId === versionId);

/** The version carrying `stage` (a stage labels one version at most). */
export const labelled = (versions: readonly SecretVersion[], stage: string): SecretVersion | undefined => versions.find((v) => has(v, stage));

/** A pending version that is not also current: a rotation in flight. */
export const pendingRotation = (versions: readonly SecretVersion[]): SecretVersion | undefined => versions.find((v) => has(v, ACS_PENDING) && !has(v, ACS_CURRENT));

/** A copy of `versions` in which `versionId` no longer carries `stage`. */
export function withoutStage(versions: readonly SecretVersion[], versionId: string, stage: string): SecretVersion[] {
  return versions.map((v) => (v.versionId === versionId ? { ...v, stages: v.stages.filter((s) => s !== stage) } : v));
}

/** ListSecretVersionIds answered something KMS does not: the target fails rather than be steered by it. */
export const unreadableVersions = (problem: string) =>
  OperationError.of(OWN_CODES.invalidResponse, `ListSecretVersionIds answered something KMS does not: ${problem}; nothing was changed by this step`);

/** KMS labels exactly one version ACSCurrent, and at most one ACSPending (a stage labels one version). */
export function checkedLabels(versions: SecretVersion[]): SecretVersion[] {
  const count = (stage: string) => versions.filter((v) => has(v, stage)).length;
  if (count(ACS_CURRENT) !== 1) throw unreadableVersions(`${count(ACS_CURRENT)} versions carry ACSCurrent`);
  if (count(ACS_PENDING) > 1) throw unreadableVersions(`${count(ACS_PENDING)} versions carry ACSPending`);
  return versions;
}

/** The versions of one ListSecretVersionIds page; an answer without the documented shape is refused. */
export function versionsOf(page: $Kms.ListSecretVersionIdsResponse): SecretVersion[] {
  const items: unknown = page.versionIds?.versionId ?? [];
  if (!Array.isArray(items)) throw unreadableVersions('VersionIds.VersionId is not a list');
  return items.map((item: Partial<$Kms.ListSecretVersionIdsResponseVersionIdsVersionId> | null) => {
    const versionId: unknown = item?.versionId;
    if (typeof versionId !== 'string' || versionId === '') throw unreadableVersions('a version has no VersionId');
    const stages: unknown = item?.versionStages?.versionStage ?? [];
    if (!Array.isArray(stages) || stages.some((stage) => typeof stage !== 'string')) throw unreadableVersions(`the stages of version ${shown(versionId)} are not a list of names`);
    const createTime: unknown = item?.createTime;
    return { versionId, createTime: typeof createTime === 'string' ? createTime : '', stages: stages as string[] };
  });
}
