/**
 * The rotation of one target, as steps each safe to re-run (after AWS's rotation templates): inspect →
 * stage (the write-ahead record: the new password in the store under ACSPending before the database is
 * touched) → apply → settle → verify → promote. A run that dies anywhere is completed by the next one,
 * which finds the pending version and applies the same password.
 *
 * The steps read, ask decide.ts what to do, and act through the SecretStore and the AccountApplier; a
 * version taken over from a concurrent run at the promote goes through apply, settle and promote again.
 */
import { toServiceError } from '../../shared/clients/errors';
import { briefError } from '../../shared/format';
import type { LogFields } from '../../shared/logger';
import { replacementVersionId } from '../../shared/targets';
import type { Outcome, Step, TargetResult } from '../report';
import type { Role } from './applier';
import { confirm } from './concurrency';
import { promote } from './promote';
import { stage, stageFresh } from './stage';
import type { Next, Staged, TargetRun } from './target-run';
import { verify } from './verify';

/** What a step's log line says of where the rotation goes next. */
const nextFields = (next: Next): LogFields =>
  next.kind === 'staged' ? { versionId: next.versionId, origin: next.origin } : { versionId: next.versionId, decision: next.outcome, reason: next.reason };

export class Rotation {
  private readonly started: number;
  private roles: Role[] = [];

  constructor(private readonly run: TargetRun) {
    this.started = run.settings.now();
  }

  async rotate(): Promise<TargetResult> {
    const { applier } = this.run;
    try {
      this.roles = await this.step('inspect', () => applier.inspect(), (roles) => ({ characterTypes: roles }));
      let next = await this.step('stage', () => stage(this.run), nextFields);
      while (next.kind === 'staged') {
        const toApply = next;
        const applied = await this.step('apply', () => this.apply(toApply), nextFields);
        if (applied.kind === 'ended') return this.finish(applied.outcome, applied.versionId, applied.reason);
        await this.step('settle', () => applier.settle());
        if (applier.verifies) await this.step('verify', () => verify(this.run, applied, (again) => this.apply(again)), (proof) => proof);
        next = await this.step('promote', () => promote(this.run, applied), (after) => ({ versionId: applied.versionId, ...(after.kind === 'staged' && { takeOver: after.versionId }) }));
      }
      return this.finish(next.outcome, next.versionId, next.reason);
    } catch (err) {
      const { code, message, requestId } = toServiceError(err);
      const error = { code, message: this.run.log.sanitize(message), requestId };
      return this.finish('failed', this.run.trail.staged ?? this.run.target.versionId, undefined, error);
    }
  }

  /** Applies the password once its version is confirmed to still carry its label; a malformed one is replaced, once. */
  private async apply(toApply: Staged): Promise<Next> {
    const { applier, spent, log } = this.run;
    for (let candidate: Next = toApply; ; ) {
      if (candidate.kind === 'ended') return candidate;
      const confirmed = await confirm(this.run, candidate);
      if (confirmed.kind === 'ended') return confirmed;
      const result = await applier.apply(confirmed.credential);
      if (result.applied) return confirmed;
      if (spent.replaced) throw result.rejected;
      log.warn('the database rejected the pending password as malformed; staging a fresh one', { step: 'apply', versionId: confirmed.versionId });
      spent.replaced = true;
      candidate = await stageFresh(this.run, replacementVersionId(confirmed.versionId));
    }
  }

  private async step<T>(step: Step, work: () => Promise<T>, details?: (result: T) => LogFields): Promise<T> {
    const { now } = this.run.settings;
    const started = now();
    try {
      const result = await work();
      this.run.log.info(`${step} done`, { step, outcome: 'ok', durationMs: now() - started, ...details?.(result) });
      return result;
    } catch (err) {
      this.run.log.error(`${step} failed`, { step, outcome: 'failed', durationMs: now() - started, error: briefError(toServiceError(err)) });
      throw err;
    }
  }

  private finish(outcome: Outcome, versionId: string | undefined, reason?: string, error?: TargetResult['error']): TargetResult {
    const { target, settings, log } = this.run;
    const durationMs = settings.now() - this.started;
    const attempts = 1 + settings.retries();
    const extra = { ...(reason !== undefined && { reason }), ...(error && { error }) };
    const result: TargetResult = { instanceId: target.instanceId, secretName: target.secretName, outcome, characterTypes: this.roles, attempts, durationMs, ...extra };
    if (versionId !== undefined) result.versionId = versionId;
    const fields = { outcome, versionId, characterTypes: this.roles, attempts, durationMs, ...extra };
    if (outcome === 'failed') log.error(`target ${outcome}`, fields);
    else log.info(`target ${outcome}`, fields);
    return result;
  }
}
