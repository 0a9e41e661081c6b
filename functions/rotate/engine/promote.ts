/**
 * The promote step: ACSCurrent moves to the applied version, only from where this run saw it, then
 * ACSPending is removed. A version that lost its label to a concurrent run meanwhile hands the rotation on
 * to the version that has it.
 */
import { toServiceError } from '../../shared/clients/errors';
import { briefError } from '../../shared/call';
import { takeOverApplied } from './concurrency';
import { decidePromote } from './decide';
import type { Next, Staged, TargetRun } from './target-run';
import { ACS_PENDING, has } from './versions';

export async function promote(run: TargetRun, applied: Staged): Promise<Next> {
  const { versionId } = applied;
  if (applied.origin !== 'restored' && (await moveCurrentFrom(run, run.trail.current, versionId))) {
    const listed = await run.removePending(versionId);
    // A concurrent run staged a newer version meanwhile: the database may hold its password.
    return listed?.some((v) => has(v, ACS_PENDING)) ? takeOverApplied(run, listed, applied) : run.promoted(applied);
  }
  const versions = await run.requireVersions();
  switch (decidePromote(versions, versionId).action) {
    case 'done':
      return run.promoted(applied);
    case 'take-over':
      return takeOverApplied(run, versions, applied);
    case 'finish-cutoff':
      await run.removePending(versionId);
      return run.promoted(applied);
    case 'move':
      await run.store.moveCurrent(versionId);
      await run.removePending(versionId);
      return run.promoted(applied);
  }
}

/**
 * Moves ACSCurrent from the version this run saw current to ours in one call: KMS refuses a RemoveFromVersion
 * that does not carry the label, so the move happens only if no other run promoted since. False when refused
 * (or when this run saw no other current version): promote then decides on a fresh list.
 */
async function moveCurrentFrom(run: TargetRun, from: string | undefined, to: string): Promise<boolean> {
  if (from === undefined || from === to) return false;
  try {
    await run.store.moveCurrent(to, from);
  } catch (err) {
    run.log.info('ACSCurrent is not where this run saw it; deciding on a fresh list', { step: 'promote', versionId: to, error: briefError(toServiceError(err)) });
    return false;
  }
  run.trail.current = to;
  return true;
}
