import { ApiError } from '../http/api-error';
import { type SecretState, type VersionState, ACS_CURRENT, ACS_PREVIOUS, MAX_SECRET_STAGES, MAX_SECRET_VERSIONS } from '../state/model';

/**
 * KMS's rules for a generic secret's versions (Secret object model, PutSecretValue, UpdateSecretVersionStage):
 * a stage labels one version; moving ACSCurrent labels the old current ACSPrevious; at most 8 stages
 * and 10 versions per secret, and when an 11th version arrives the oldest unlabelled one is deleted.
 */
export const versionById = (secret: SecretState, versionId: string) => secret.versions.find((v) => v.versionId === versionId);
export const versionWithStage = (secret: SecretState, stage: string) => secret.versions.find((v) => v.stages.includes(stage));

export function versionNotFound(secret: SecretState, what: string): ApiError {
  return new ApiError('Forbidden.ResourceNotFound', `The secret "${secret.name}" has no version ${what}.`, 404);
}

/** Refuses a change that would leave the secret with more than 8 distinct stages. */
export function ensureStageRoom(secret: SecretState, stagesToPlace: string[]): void {
  const stages = new Set(secret.versions.flatMap((v) => v.stages));
  for (const stage of stagesToPlace) {
    stages.add(stage);
    if (stage === ACS_CURRENT && secret.versions.length > 0) stages.add(ACS_PREVIOUS);
  }
  if (stages.size > MAX_SECRET_STAGES) {
    throw new ApiError('Rejected.LimitExceeded', `A secret carries at most ${MAX_SECRET_STAGES} version stages; remove a custom stage first.`);
  }
}

/** Puts `stage` on `target`, taking it off the version that had it; the old ACSCurrent becomes ACSPrevious. */
export function moveStage(secret: SecretState, stage: string, target: VersionState): void {
  const holder = versionWithStage(secret, stage);
  if (holder === target) return;
  if (holder) removeStage(holder, stage);
  target.stages.push(stage);
  if (stage === ACS_CURRENT && holder) moveStage(secret, ACS_PREVIOUS, holder);
}

export function removeStage(version: VersionState, stage: string): void {
  version.stages = version.stages.filter((s) => s !== stage);
}

/** Adds a version carrying `stages`, then deletes the oldest unlabelled versions beyond the cap. */
export function addVersion(secret: SecretState, version: VersionState, stages: string[]): void {
  secret.versions.push(version);
  for (const stage of stages) moveStage(secret, stage, version);
  while (secret.versions.length > MAX_SECRET_VERSIONS) {
    // At most 8 stages label at most 8 of the 11 versions, so an unlabelled one always exists.
    const oldestUnlabelled = secret.versions.find((v) => v.stages.length === 0)!;
    secret.versions = secret.versions.filter((v) => v !== oldestUnlabelled);
  }
}
