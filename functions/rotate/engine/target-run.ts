/**
 * What one target's rotation carries from step to step: its store, applier and settings, and the little it
 * must remember (which versions it staged or saw current, what it spent of its replacement and take-overs).
 * The steps (stage.ts, concurrency.ts, promote.ts, verify.ts) are functions of it.
 */
import { OperationError } from '../../shared/errors';
import { SERVICE_CODES } from '../../shared/codes';
import type { Logger } from '../../shared/logger';
import type { PlannedTarget } from '../../shared/targets';
import type { AccountApplier, Credential, ReadCredential } from './applier';
import type { Ended, Origin } from './decide';
import type { SecretStore } from './secret-store';
import { ACS_PENDING, type SecretVersion, find, has } from './versions';

/** A password in the store under ACSPending (ACSCurrent for a restore), ready to apply. */
export interface Staged {
  kind: 'staged';
  versionId: string;
  credential: Credential;
  origin: Origin;
}

/** Where a rotation goes next: a password to apply, or its end. */
export type Next = Staged | (Ended & { kind: 'ended' });

export interface EngineSettings {
  passwordLength: number;
  rotationIntervalDays: number;
  forcedCooldownMinutes: number;
  createMissingSecrets: boolean;
  dryRun: boolean;
  now: () => number;
  /** How many of this target's calls were retried so far (its result's `attempts` is one more). */
  retries: () => number;
}

export const ended = (outcome: Ended['outcome'], versionId: string | undefined, reason?: string): Next => ({ kind: 'ended', outcome, versionId, reason });
export const staged = (versionId: string, credential: Credential, origin: Origin): Staged => ({ kind: 'staged', versionId, credential, origin });

export class TargetRun {
  /** Version ids: staged fresh by this run, last staged or resumed, last seen carrying ACSCurrent. */
  readonly trail: { fresh?: string; staged?: string; current?: string } = {};
  /** What this run has spent of its one replacement and its take-overs. */
  readonly spent = { replaced: false, takeovers: 0 };
  /** What this run did about concurrent runs, for its result's reason. */
  concurrencyNote?: string;

  constructor(
    readonly target: PlannedTarget,
    readonly store: SecretStore,
    readonly applier: AccountApplier,
    readonly settings: EngineSettings,
    readonly log: Logger,
  ) {}

  async requireVersions(): Promise<SecretVersion[]> {
    const versions = await this.store.versions();
    if (!versions) throw OperationError.of(SERVICE_CODES.secretNotFound, `the secret ${JSON.stringify(this.target.secretName)} disappeared during the rotation`);
    return versions;
  }

  /** Removes ACSPending; a retried call whose first try took effect counts as done. Returns what it listed to tell. */
  async removePending(versionId: string): Promise<SecretVersion[] | undefined> {
    try {
      await this.store.removePending(versionId);
      return undefined;
    } catch (err) {
      const versions = await this.store.versions();
      const version = versions && find(versions, versionId);
      if (version && !has(version, ACS_PENDING)) return versions;
      throw err;
    }
  }

  /** A stored value's credential, its password kept out of the logs. */
  readCredential(secretData: string | undefined): ReadCredential {
    const read = this.applier.credentialOf(secretData);
    if (read.credential) this.log.keepSecret(read.credential.password);
    return read;
  }

  /** The end of a rotation whose version is now ACSCurrent: rotated if this run staged it, else resumed. */
  promoted(applied: Staged): Next {
    return ended(applied.versionId === this.trail.fresh ? 'rotated' : 'resumed', applied.versionId, this.concurrencyNote);
  }
}
