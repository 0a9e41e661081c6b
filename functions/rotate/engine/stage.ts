/**
 * The stage step, the write-ahead record: the password to apply goes into the store under ACSPending
 * before the database is touched, under a VersionId the trigger decides, so that a retried or redelivered
 * trigger finds it. A pending version is resumed, never replaced by a second password, unless its password
 * cannot be used at all (then once).
 */
import { OperationError } from '../../shared/errors';
import { SERVICE_CODES } from '../../shared/codes';
import { generatePassword } from '../../shared/password';
import { replacementVersionId } from '../../shared/targets';
import { takeOver } from './concurrency';
import { type StageContext, decideLostAtStage, decideResume, decideStage, initialVersionId } from './decide';
import { type Next, type TargetRun, ended, staged } from './target-run';
import { ACS_CURRENT, ACS_PENDING, type SecretVersion, labelled, withoutStage } from './versions';

/** Puts the password to apply under ACSPending, or decides that this target is done (skipped, planned, resumed). */
export async function stage(run: TargetRun): Promise<Next> {
  let versions = (await run.store.versions()) ?? (await createMissingSecret(run));
  if (!Array.isArray(versions)) return versions;
  run.trail.current = labelled(versions, ACS_CURRENT)?.versionId;
  for (;;) {
    const decision = decideStage(versions, stageContext(run));
    switch (decision.action) {
      case 'finish-cutoff':
        await run.removePending(decision.versionId);
        if (decision.ours) return ended('resumed', decision.versionId, 'finished a promote that was cut off');
        versions = withoutStage(versions, decision.versionId, ACS_PENDING);
        continue;
      case 'skip':
        return ended('skipped', decision.versionId, decision.reason);
      case 'plan':
        return ended('planned', decision.versionId, decision.reason);
      case 'resume':
        return resume(run, decision.versionId);
      case 'fresh':
        await run.applier.prepare?.();
        run.log.info('staging a new password', { step: 'stage', reason: decision.reason });
        return stageFresh(run, decision.versionId);
    }
  }
}

/**
 * Generates a password and stages it. The same VersionId already there (a race, a lost answer, or a list that
 * trailed a completed delivery of this trigger) is read as it is: resumed while pending, skipped once promoted.
 */
export async function stageFresh(run: TargetRun, versionId: string): Promise<Next> {
  const credential = run.applier.newCredential(generatePassword(run.settings.passwordLength));
  run.log.keepSecret(credential.password);
  if ((await run.store.stagePending(versionId, run.applier.secretValue(credential))) === 'exists') return resume(run, versionId);
  run.trail.staged = run.trail.fresh = versionId;
  return staged(versionId, credential, 'fresh');
}

/** Reads a pending version; one whose password cannot be used is replaced by a fresh password, once. */
export async function resume(run: TargetRun, versionId: string): Promise<Next> {
  const read = await run.readKnown(versionId);
  const decision = decideResume(read.stages);
  if (decision.action === 'skip') return ended('skipped', versionId, decision.reason);
  if (decision.action === 'lost') {
    const versions = await run.requireVersions();
    const lost = decideLostAtStage(versions);
    return lost.action === 'skip' ? ended('skipped', lost.versionId, lost.reason) : takeOver(run, versions, versionId);
  }
  run.trail.staged = versionId;
  // Its password may be on the database already: it is given up only if a second read says the same.
  let value = run.readCredential(read.secretData);
  if (value.problem !== undefined) value = run.readCredential((await run.readKnown(versionId)).secretData);
  if (value.problem === undefined) {
    run.log.info('resuming the pending version', { step: 'stage', versionId });
    return staged(versionId, value.credential, 'resumed');
  }
  if (run.spent.replaced) throw OperationError.of(SERVICE_CODES.malformedPassword, `the replacement pending version ${versionId} is unusable too: ${value.problem}`);
  run.spent.replaced = true;
  run.log.warn('the pending password cannot be used; staging a fresh one', { step: 'stage', versionId, problem: value.problem });
  return stageFresh(run, replacementVersionId(versionId));
}

/** A target without a secret fails, or gets one (CREATE_MISSING_SECRETS) whose first version holds no password. */
async function createMissingSecret(run: TargetRun): Promise<SecretVersion[] | Next> {
  const { secretName, versionId } = run.target;
  if (!run.settings.createMissingSecrets) {
    throw OperationError.of(SERVICE_CODES.secretNotFound, `the secret ${JSON.stringify(secretName)} does not exist; create it, or set CREATE_MISSING_SECRETS=true`);
  }
  if (run.settings.dryRun) return ended('planned', versionId, 'would create the secret, then rotate');
  const created = await run.store.create(initialVersionId(versionId), run.applier.secretValue(), run.applier.secretDescription);
  if (created === 'created') run.log.info('created the missing secret', { step: 'stage' });
  return run.requireVersions();
}

function stageContext(run: TargetRun): StageContext {
  const { force, versionId, ignoreCooldown = false } = run.target;
  const { dryRun, rotationIntervalDays, forcedCooldownMinutes, now } = run.settings;
  return { ownVersionId: versionId, replacementVersionId: replacementVersionId(versionId), force, dryRun, now: now(), rotationIntervalDays, forcedCooldownMinutes, ignoreCooldown };
}
