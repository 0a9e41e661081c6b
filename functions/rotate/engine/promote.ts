/**
 * The promote step: ACSCurrent moves to the applied version, only from where this run saw it, then
 * ACSPending is removed. A version that lost its label to a concurrent run meanwhile hands the rotation on
 * to the version that has it.
 */
import { toServiceError } from '../../shared/clients/errors';
import { briefError } from '../../shared/format';
import { takeOverApplied } from './concurrency';
import { decideAfterPromote, decidePromote } from './decide';
import { type Next, type Staged, type TargetRun, staged } from './target-run';
import { ACS_CURRENT, find, has } from './versions';

export async function promote(run: TargetRun, applied: Staged): Promise<Next> {
  const { versionId } = applied;
  const from = run.trail.current;
  if (applied.origin !== 'restored' && from !== undefined && (await moveCurrentFrom(run, from, versionId))) {
    await run.removePending(versionId);
    // The one check after the move, whether KMS refused a stale move or not: where did the labels land?
    const landed = await run.awaitVersions((versions) => has(find(versions, versionId), ACS_CURRENT), 'ACSCurrent on the promoted version');
    switch (decideAfterPromote(landed, versionId, from).action) {
      case 'done':
        return run.promoted(applied);
      case 'take-over':
        return takeOverApplied(run, landed, applied);
      case 'restore':
        run.log.warn('ACSCurrent was moved from another version than this run saw current: applying its password again', { step: 'promote', versionId, expectedPrevious: from });
        return staged(versionId, applied.credential, 'restored');
    }
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
 * Moves ACSCurrent from the version this run saw current to ours in one call. The local cloud, and KMS as far
 * as tried, refuse a RemoveFromVersion that does not carry the label, so the move happens only if no other run
 * promoted since; KMS's page does not say so, and promote checks where the labels landed either way. False when
 * refused (or when ours is the one seen current): promote then decides on a fresh list.
 */
async function moveCurrentFrom(run: TargetRun, from: string, to: string): Promise<boolean> {
  if (from === to) return false;
  try {
    await run.store.moveCurrent(to, from);
  } catch (err) {
    run.log.info('ACSCurrent is not where this run saw it; deciding on a fresh list', { step: 'promote', versionId: to, error: briefError(toServiceError(err)) });
    return false;
  }
  run.trail.current = to;
  return true;
}
