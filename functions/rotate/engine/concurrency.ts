/**
 * Concurrent runs of one target (the reserved concurrency of 1 keeps them apart; this covers what slips
 * through). A run applies a password only while its version still carries its label; when a concurrent
 * run took the label, this one carries on with the version that has it, so that racing runs end consistent.
 */
import { OperationError } from '../../shared/errors';
import { OWN_CODES } from '../../shared/codes';
import { decideConfirm, decideTakeOver } from './decide';
import { resume } from './stage';
import { type Next, type Staged, type TargetRun, ended, staged } from './target-run';
import { ACS_CURRENT, ACS_PENDING, type SecretVersion, find } from './versions';

/** How many concurrent runs' versions one run takes over before it gives up (each costs a full apply). */
const MAX_TAKEOVERS = 5;

/** Right before the database is touched, the version must still carry its label; else take over, or end. */
export async function confirm(run: TargetRun, toConfirm: Staged): Promise<Next> {
  for (let next = toConfirm; ; ) {
    const { versionId } = next;
    // A version this run just staged may not show yet; one it resumed or restores does exist.
    const versions = await run.awaitVersions((listed) => find(listed, versionId) !== undefined, 'the staged version');
    const decision = decideConfirm(versions, next, run.applier.touched);
    if (decision.action === 'apply') return next;
    if (decision.action === 'restore') return { ...next, origin: 'restored' };
    if (decision.action === 'skip') return ended('skipped', next.versionId, decision.reason);
    const taken = await takeOver(run, versions, next.versionId);
    if (taken.kind === 'ended') return taken;
    next = taken;
  }
}

/**
 * Our version lost its label to a concurrent run's. Carry on with the version a label now points to: the
 * pending one, or, once its run has promoted it, ACSCurrent, whose password goes back on the database.
 */
export async function takeOver(run: TargetRun, listed: SecretVersion[], lost: string): Promise<Next> {
  for (let versions = listed; ; versions = await run.requireVersions()) {
    if (++run.spent.takeovers > MAX_TAKEOVERS) {
      throw OperationError.of(OWN_CODES.promoteGuard, `concurrent runs keep changing the labels of this secret (version ${lost}); giving up after ${MAX_TAKEOVERS} takeovers`);
    }
    const decision = decideTakeOver(versions, run.applier.touched);
    if (decision.action === 'skip') return ended('skipped', decision.versionId, decision.reason);
    run.concurrencyNote = 'took over the version of a concurrent run';
    const stage = decision.action === 'resume' ? ACS_PENDING : ACS_CURRENT;
    run.log.warn('a concurrent run staged another version; taking it over', { versionId: decision.versionId, lost, stage });
    if (decision.action === 'restore') return staged(decision.versionId, await restorable(run, decision.versionId), 'restored');
    const resumed = await resume(run, decision.versionId);
    if (resumed.kind === 'staged') return resumed;
  }
}

/** takeOver once this run's password has been applied: there is always a version to carry on with. */
export async function takeOverApplied(run: TargetRun, versions: SecretVersion[], applied: Staged): Promise<Next> {
  const next = await takeOver(run, versions, applied.versionId);
  return next.kind === 'staged' ? next : run.promoted(applied);
}

/** The credential a version holds, checked as a pending one is, to put back on the database. */
async function restorable(run: TargetRun, versionId: string) {
  const read = run.readCredential((await run.readKnown(versionId)).secretData);
  if (read.problem !== undefined) throw OperationError.of(OWN_CODES.promoteGuard, `version ${versionId} cannot be put back on the database: ${read.problem}`);
  return read.credential;
}
