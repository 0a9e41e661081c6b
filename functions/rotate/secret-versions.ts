/**
 * Reading a secret's versions and what they hold, defensively: an answer without the shape KMS documents
 * fails the target (InvalidResponse) rather than steer it, and a version's data is checked before its
 * password is used. No password is ever quoted in a message.
 */
import { OperationError } from '../shared/clients/errors';
import { type $Kms, ACS_CURRENT, ACS_PENDING } from '../shared/clients/kms';
import { ROOT_ACCOUNT, showValue } from '../shared/config';
import { checkPassword } from '../shared/password';

export interface SecretVersion {
  versionId: string;
  stages: string[];
  createTime: string;
}

/** A service's answer that does not have the shape its API documents: the target fails rather than be steered by it. */
export const INVALID_RESPONSE = 'InvalidResponse';

export const has = (version: SecretVersion | undefined, stage: string) => version?.stages.includes(stage) ?? false;

/** A value from a service's answer, as an error message may show it (quoted, capped). */
export const shown = (value: unknown): string => (value === undefined || value === null ? 'unknown' : showValue(String(value)));

export const unreadableVersions = (problem: string) => OperationError.of(INVALID_RESPONSE, `ListSecretVersionIds answered something KMS does not: ${problem}; nothing was changed by this step`);

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

/** KMS labels exactly one version ACSCurrent, and at most one ACSPending (a stage labels one version). */
export function checkedLabels(versions: SecretVersion[]): SecretVersion[] {
  const count = (stage: string) => versions.filter((v) => has(v, stage)).length;
  if (count(ACS_CURRENT) !== 1) throw unreadableVersions(`${count(ACS_CURRENT)} versions carry ACSCurrent`);
  if (count(ACS_PENDING) > 1) throw unreadableVersions(`${count(ACS_PENDING)} versions carry ACSPending`);
  return versions;
}


/** The AccountPassword a version's data holds, if any. */
export function accountPasswordOf(data: string | undefined): string | undefined {
  try {
    const value: unknown = JSON.parse(data ?? '');
    const password = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).AccountPassword : undefined;
    return typeof password === 'string' && password !== '' ? password : undefined;
  } catch {
    return undefined;
  }
}

/** The password of a pending version, and why it cannot be used if it cannot (never quoting it). */
export type PendingPassword = { password: string; problem?: undefined } | { password?: string; problem: string };

export function readPendingPassword(data: string | undefined, instanceId: string): PendingPassword {
  let value: unknown;
  try {
    value = JSON.parse(data ?? '');
  } catch {
    return { problem: 'its data is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'its data is not a JSON object' };
  const fields = value as Record<string, unknown>;
  if (typeof fields.AccountPassword !== 'string') return { problem: 'it holds no AccountPassword' };
  const password = fields.AccountPassword;
  if (fields.AccountName !== ROOT_ACCOUNT) return { password, problem: 'its AccountName is not root' };
  if (fields.DBInstanceId !== instanceId) return { password, problem: 'its DBInstanceId names another instance' };
  const problems = checkPassword(password);
  if (problems.length > 0) return { password, problem: `its password ${problems.join('; ')}` };
  return { password };
}
