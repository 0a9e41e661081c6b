/**
 * What one target's rotation carries from step to step: its store, applier and settings, and the little it
 * must remember (which versions it staged or saw current, what it spent of its replacement and take-overs).
 * The steps (stage.ts, concurrency.ts, promote.ts, verify.ts) are functions of it.
 */
import { toServiceError } from '../../shared/clients/errors';
import { OperationError } from '../../shared/errors';
import { type Deadline, sleep } from '../../shared/retry';
import { SERVICE_CODES } from '../../shared/codes';
import type { LogFields, Logger } from '../../shared/logger';
import type { PlannedTarget } from '../../shared/targets';
import type { AccountApplier, Credential, ReadCredential } from './applier';
import type { Ended, Origin } from './decide';
import type { SecretStore, StoredVersion } from './secret-store';
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
  deadline: Deadline;
  /**
   * How long the run waits for a read to show its own write (KMS reads may lag behind writes) before it
   * concludes that another run changed the labels since; the first wait and the longest.
   */
  ownWrites: { boundMs: number; firstDelayMs: number; maxDelayMs: number };
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
    return this.awaitVersions(() => true, 'the versions');
  }

  /**
   * Lists the versions until they show what this run wrote (`shown`): a read that does not show the run's own
   * write yet may trail it (KMS promises no read-after-write), and no conclusion is drawn from it until the bound
   * has passed. Returns the last list, whatever it shows then.
   */
  async awaitVersions(shown: (versions: SecretVersion[]) => boolean, what: string): Promise<SecretVersion[]> {
    const versions = await this.trailing(() => this.store.versions(), (listed) => listed !== undefined && shown(listed), { what });
    if (!versions) throw OperationError.of(SERVICE_CODES.secretNotFound, `the secret ${JSON.stringify(this.target.secretName)} disappeared during the rotation`);
    return versions;
  }

  /**
   * One version's stages and data, for a version this run knows exists (it listed it, or KMS said its
   * VersionId was taken): a read that does not find it yet trails the write, and is tried again within the bound.
   */
  async readKnown(versionId: string): Promise<StoredVersion> {
    let notFound: unknown;
    const read = () =>
      this.store.read(versionId).catch((err: unknown) => {
        if (toServiceError(err).code !== SERVICE_CODES.secretNotFound) throw err;
        notFound = err;
        return undefined;
      });
    const version = await this.trailing(read, (found) => found !== undefined, { what: 'a version KMS has', versionId });
    if (!version) throw notFound;
    return version;
  }

  /** Reads until `shown` holds, waiting (with backoff) no longer than the bound for the run's own writes. */
  private async trailing<T>(read: () => Promise<T>, shown: (value: T) => boolean, fields: LogFields): Promise<T> {
    const { boundMs, firstDelayMs, maxDelayMs } = this.settings.ownWrites;
    const { now, deadline } = this.settings;
    const until = now() + Math.min(boundMs, deadline.remainingMs());
    for (let delay = firstDelayMs; ; delay = Math.min(delay * 2, maxDelayMs)) {
      const value = await read();
      if (shown(value) || now() + delay > until) return value;
      this.log.info("waiting for KMS to show this run's own write", { ...fields, delayMs: delay });
      await sleep(delay);
    }
  }

  /** Removes ACSPending; a retried call whose first try took effect counts as done. Returns what it listed to tell. */
  async removePending(versionId: string): Promise<SecretVersion[] | undefined> {
    try {
      await this.store.removePending(versionId);
      return undefined;
    } catch (err) {
      const versions = await this.awaitVersions((listed) => !has(find(listed, versionId), ACS_PENDING), 'ACSPending removed');
      if (find(versions, versionId) && !has(find(versions, versionId), ACS_PENDING)) return versions;
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
