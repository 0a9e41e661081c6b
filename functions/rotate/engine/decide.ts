/**
 * What a rotation does next, decided from what it read: pure functions of the secret's versions (their
 * labels and ages), the trigger and what this run has done so far. The orchestrator reads, asks here, and
 * acts; nothing here calls a service, so every rule is tested with tables (test/rotate/decide.test.ts).
 *
 * The labels: ACSCurrent is what applications read; ACSPending a password that may already be on the
 * database; KMS moves the old ACSCurrent to ACSPrevious on a promote.
 */
import {
  ACS_CURRENT,
  ACS_PENDING,
  ACS_PREVIOUS,
  type SecretVersion,
  find,
  has,
  labelled,
  pendingRotation,
} from './versions';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** The version a created secret starts with: it holds no password yet, so it is always due. */
export const initialVersionId = (versionId: string): string => `init-${versionId}`;
export const isInitialVersion = (versionId: string): boolean => versionId.startsWith('init-');

/** The rotation of one target ends here, with this outcome. */
export interface Ended {
  outcome: 'rotated' | 'resumed' | 'skipped' | 'planned';
  versionId?: string;
  reason?: string;
}

export interface StageContext {
  /** This trigger's VersionId for the target, and the one that replaces it if its password is unusable. */
  ownVersionId: string;
  replacementVersionId: string;
  force: boolean;
  dryRun: boolean;
  now: number;
  rotationIntervalDays: number;
  /** A forced rotation of a secret whose ACSCurrent is younger than this is skipped (0: no cooldown)... */
  forcedCooldownMinutes: number;
  /** ...unless the operator said so. */
  ignoreCooldown: boolean;
}

export type StageDecision =
  /** A version with both labels: a promote that was cut off. Remove ACSPending, then decide again. */
  | { action: 'finish-cutoff'; versionId: string; ours: boolean }
  /** A pending version, whatever rotation staged it: apply its password, never a second one. */
  | { action: 'resume'; versionId: string }
  /** Generate a password and stage it under this VersionId. */
  | { action: 'fresh'; versionId: string; reason: string }
  | { action: 'skip'; versionId?: string; reason: string }
  /** A dry run: what would have been done. */
  | { action: 'plan'; versionId?: string; reason: string };

/** The first decision of a rotation, on the versions listed at its start. */
export function decideStage(versions: readonly SecretVersion[], ctx: StageContext): StageDecision {
  const cutOff = versions.find((v) => has(v, ACS_CURRENT) && has(v, ACS_PENDING));
  if (cutOff) {
    if (ctx.dryRun) return { action: 'plan', versionId: cutOff.versionId, reason: 'would finish a promote that was cut off (remove ACSPending)' };
    return { action: 'finish-cutoff', versionId: cutOff.versionId, ours: [ctx.ownVersionId, ctx.replacementVersionId].includes(cutOff.versionId) };
  }
  const own = find(versions, ctx.ownVersionId);
  const pending = has(own, ACS_PENDING) ? own : labelled(versions, ACS_PENDING);
  // Our version without ACSPending was promoted, unless it lost the label first: to its replacement (the database
  // rejected its password) or to a concurrent run's version. Then that pending version is resumed, as any is.
  if (own && !has(own, ACS_PENDING) && (has(own, ACS_CURRENT) || has(own, ACS_PREVIOUS) || !pending)) {
    return { action: 'skip', versionId: own.versionId, reason: 'already rotated by this trigger' };
  }
  if (pending) {
    if (ctx.dryRun) return { action: 'plan', versionId: pending.versionId, reason: 'would resume the pending version' };
    return { action: 'resume', versionId: pending.versionId };
  }
  const current = labelled(versions, ACS_CURRENT);
  const due = dueness(current, ctx);
  if (!due.due && !ctx.force) return { action: 'skip', versionId: current?.versionId, reason: due.reason };
  const cooling = due.due || ctx.ignoreCooldown ? undefined : cooldown(current, ctx);
  if (cooling) return { action: 'skip', versionId: current?.versionId, reason: cooling };
  const why = due.due ? due.reason : `forced (${due.reason}${ctx.ignoreCooldown ? '; the cooldown ignored on request' : ''})`;
  if (ctx.dryRun) return { action: 'plan', versionId: ctx.ownVersionId, reason: `would rotate: ${why}` };
  return { action: 'fresh', versionId: ctx.ownVersionId, reason: why };
}

/** Whether ACSCurrent is old enough for a scheduled rotation, and why, in words. */
export function dueness(current: SecretVersion | undefined, ctx: Pick<StageContext, 'now' | 'rotationIntervalDays'>): { due: boolean; reason: string } {
  const interval = ctx.rotationIntervalDays;
  if (!current) return { due: true, reason: 'the secret has no ACSCurrent version' };
  if (isInitialVersion(current.versionId)) return { due: true, reason: 'the secret holds no password yet' };
  const created = Date.parse(current.createTime);
  if (Number.isNaN(created)) return { due: true, reason: 'the ACSCurrent version has no readable CreateTime' };
  const age = ctx.now - created;
  const ageDays = Math.floor(age / DAY_MS);
  if (age >= interval * DAY_MS) return { due: true, reason: `ACSCurrent is ${ageDays} days old; the interval is ${interval} days` };
  return { due: false, reason: `not due: ACSCurrent is ${ageDays} days old; the interval is ${interval} days` };
}

/**
 * Why a forced rotation waits: ACSCurrent is younger than the cooldown, so a flood of invocations or events
 * cannot reset the password in a loop (applications that cache it would keep failing). Undefined: it may go.
 */
export function cooldown(current: SecretVersion | undefined, ctx: Pick<StageContext, 'now' | 'forcedCooldownMinutes'>): string | undefined {
  const created = current ? Date.parse(current.createTime) : NaN;
  if (ctx.forcedCooldownMinutes === 0 || Number.isNaN(created)) return undefined;
  const age = Math.max(0, ctx.now - created);
  if (age >= ctx.forcedCooldownMinutes * MINUTE_MS) return undefined;
  const minutes = Math.floor(age / MINUTE_MS);
  return (
    `cooldown: ACSCurrent is ${minutes} minute${minutes === 1 ? '' : 's'} old and forced rotations wait ` +
    `FORCED_ROTATION_COOLDOWN_MINUTES (${ctx.forcedCooldownMinutes}); a manual event may set "ignoreCooldown": true with a reason`
  );
}

/** What reading a version to resume it showed: its labels decide whether its password is still the one to apply. */
export type ResumeDecision = { action: 'use' } | { action: 'skip'; reason: string } | { action: 'lost' };

export function decideResume(stages: readonly string[]): ResumeDecision {
  if (stages.includes(ACS_PENDING)) return { action: 'use' };
  if (stages.includes(ACS_CURRENT)) return { action: 'skip', reason: 'already rotated by this trigger' };
  return { action: 'lost' }; // a concurrent run staged another version while this one was read
}

/** A version that lost ACSPending while being read at the start: go on with the one that has it, if any. */
export function decideLostAtStage(versions: readonly SecretVersion[]): { action: 'take-over' } | { action: 'skip'; versionId?: string; reason: string } {
  if (versions.some((v) => has(v, ACS_PENDING))) return { action: 'take-over' };
  return { action: 'skip', versionId: labelled(versions, ACS_CURRENT)?.versionId, reason: 'a concurrent run rotated the secret meanwhile' };
}

/** How a password came to be applied by this run. */
export type Origin = 'fresh' | 'resumed' | 'restored';

export type ConfirmDecision =
  | { action: 'apply' }
  /** Its owner promoted it while this run's password may have reached the database after: put ACSCurrent's back. */
  | { action: 'restore' }
  | { action: 'skip'; reason: string }
  | { action: 'take-over' };

/**
 * Right before the database is touched, the version must still carry its label (ACSPending; ACSCurrent for a
 * restore). A concurrent run that listed before this one staged puts its own under ACSPending, taking the label
 * from ours: applying ours would then leave the database on a password no label points to.
 */
export function decideConfirm(versions: readonly SecretVersion[], staged: { versionId: string; origin: Origin }, databaseTouched: boolean): ConfirmDecision {
  const own = find(versions, staged.versionId);
  if (staged.origin !== 'restored' && has(own, ACS_PENDING)) return { action: 'apply' };
  // ACSCurrent goes back on the database only while no newer rotation is pending: that one is taken over instead.
  if (has(own, ACS_CURRENT) && !pendingRotation(versions)) {
    if (staged.origin === 'restored') return { action: 'apply' };
    // Its owner promoted it meanwhile. With nothing of this run on the database, that is the end of it.
    return databaseTouched ? { action: 'restore' } : { action: 'skip', reason: 'a concurrent run completed this rotation' };
  }
  return { action: 'take-over' };
}

export type TakeOverDecision =
  | { action: 'resume'; versionId: string }
  /** No rotation is pending any more: ACSCurrent's password goes back on the database, in case ours reached it last. */
  | { action: 'restore'; versionId: string }
  | { action: 'skip'; versionId: string; reason: string };

/** Our version lost its label to a concurrent run's: carry on with the version a label now points to. */
export function decideTakeOver(versions: readonly SecretVersion[], databaseTouched: boolean): TakeOverDecision {
  const pending = pendingRotation(versions);
  const current = labelled(versions, ACS_CURRENT)!; // checkedLabels: there is one
  if (pending) return { action: 'resume', versionId: pending.versionId };
  // With nothing of this run on the database, a secret another run rotated needs nothing more from this one.
  if (!databaseTouched) return { action: 'skip', versionId: current.versionId, reason: 'a concurrent run rotated the secret meanwhile' };
  return { action: 'restore', versionId: current.versionId };
}

export type AfterPromoteDecision = { action: 'done' } | { action: 'take-over' } | { action: 'restore' };

/**
 * After this run moved ACSCurrent to its version, from the version it saw current (`from`), and removed
 * ACSPending, on a list that shows the move. Another run that moved ACSCurrent on since, or staged a newer
 * rotation, may have put its password on the database after ours: that version is taken over. ACSPrevious
 * on another version than `from` means ACSCurrent was not where this run saw it, and KMS moved it all the same
 * (it does not document refusing that): the move overtook another run's promote, whose password the database
 * may hold, so ours is applied again.
 */
export function decideAfterPromote(versions: readonly SecretVersion[], versionId: string, from: string): AfterPromoteDecision {
  if (!has(find(versions, versionId), ACS_CURRENT) || pendingRotation(versions)) return { action: 'take-over' };
  if (labelled(versions, ACS_PREVIOUS)?.versionId !== from) return { action: 'restore' };
  return { action: 'done' };
}

export type PromoteDecision = { action: 'done' } | { action: 'finish-cutoff' } | { action: 'move' } | { action: 'take-over' };

/**
 * After the guarded move was refused (or could not be tried), on a fresh list: whether our version is promoted,
 * half promoted, still to be moved, or lost to a concurrent run whose password ours may have overwritten.
 */
export function decidePromote(versions: readonly SecretVersion[], versionId: string): PromoteDecision {
  const own = find(versions, versionId);
  if (!has(own, ACS_PENDING)) {
    // Promoted by a concurrent run (or a restored ACSCurrent): done, unless a newer rotation is pending, whose
    // password ours may have overwritten if our reset landed late; that one is taken over (applied again).
    return has(own, ACS_CURRENT) && !pendingRotation(versions) ? { action: 'done' } : { action: 'take-over' };
  }
  return has(own, ACS_CURRENT) ? { action: 'finish-cutoff' } : { action: 'move' };
}
