import { OWN_CODES } from '../shared/codes';
import { RotationError } from '../shared/errors';
import type { Role } from './engine/applier';
import type { UserStrategy } from '../shared/config';
import { type Trigger, type TriggerSummary, summarizeTrigger } from '../shared/trigger';

export type Outcome = 'rotated' | 'resumed' | 'skipped' | 'planned' | 'failed';
export type Step = 'inspect' | 'stage' | 'apply' | 'settle' | 'verify' | 'promote';

/** One target's part of the report. */
export interface TargetResult {
  instanceId: string;
  secretName: string;
  /** An application user's target only (root's results carry neither): the account, as configured... */
  accountName?: string;
  /** ...and how it is rotated. */
  strategy?: UserStrategy;
  outcome: Outcome;
  /** The version rotated, resumed or planned; for a skipped target, the current one. */
  versionId?: string;
  /** The root roles reset; none for an application user (changed over the database connection). */
  characterTypes: Role[];
  /** 1 + the number of retries of this target's calls. */
  attempts: number;
  durationMs: number;
  reason?: string;
  error?: { code: string; message: string; requestId?: string };
}

/** What the handler resolves to (docs/design.md §6); it holds no password and no secret data. */
export interface RotationReport {
  rotationId: string;
  trigger: TriggerSummary;
  dryRun: boolean;
  results: TargetResult[];
  summary: Record<Outcome, number>;
}

const OUTCOMES: Outcome[] = ['rotated', 'resumed', 'skipped', 'planned', 'failed'];

export function buildReport(trigger: Trigger, dryRun: boolean, results: TargetResult[]): RotationReport {
  const summary = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<Outcome, number>;
  for (const result of results) summary[result.outcome]++;
  return { rotationId: trigger.rotationId, trigger: summarizeTrigger(trigger), dryRun, results, summary };
}

/** The invocation's failure when any target failed: FC then counts it failed (async retries, failure destination). */
export class RotationFailedError extends RotationError {
  override readonly name: string = 'RotationFailedError';

  constructor(readonly report: RotationReport) {
    const failed = report.results.filter((r) => r.outcome === 'failed');
    const shown = failed.slice(0, 10).map((r) => `${r.instanceId} (${r.error?.code ?? 'unknown error'})`);
    const more = failed.length > shown.length ? ` and ${failed.length - shown.length} more` : '';
    super(OWN_CODES.rotationFailed, `rotation ${report.rotationId} failed for ${failed.length} of ${report.results.length} targets: ${shown.join(', ')}${more}`);
  }
}

export function failureOf(report: RotationReport): RotationFailedError | undefined {
  return report.summary.failed > 0 ? new RotationFailedError(report) : undefined;
}
