/**
 * Where a target's passwords are kept, behind an interface: the engine stages, reads and relabels
 * versions through it and never sees an SDK. KmsSecretStore is KMS Secrets Manager (a generic secret).
 */
import type * as $dara from '@darabonba/typescript';
import type { KmsClient } from '../../shared/clients/kms';
import { $Kms, CreateSecretInInstanceRequest } from '../../shared/clients/kms';
import { toServiceError } from '../../shared/clients/errors';
import { OperationError } from '../../shared/errors';
import { OWN_CODES, SERVICE_CODES } from '../../shared/codes';
import { ACS_CURRENT, ACS_PENDING, type SecretVersion, checkedLabels, unreadableVersions, versionsOf } from './versions';

/** One version as GetSecretValue gives it: its labels (checked to be a list of names) and its data. */
export interface StoredVersion {
  stages: string[];
  secretData?: string;
}

export interface SecretStore {
  readonly secretName: string;
  /** Every version, labelled or not, with checked labels; undefined when the secret does not exist. */
  versions(): Promise<SecretVersion[] | undefined>;
  read(versionId: string): Promise<StoredVersion>;
  /** The data of the version carrying `stage`. */
  readStage(stage: string): Promise<string | undefined>;
  /** Adds a version under ACSPending only; `exists` when the VersionId is taken (a retry, a race, a redelivery). */
  stagePending(versionId: string, secretData: string): Promise<'staged' | 'exists'>;
  /** Creates the secret with its first version (ACSCurrent); `exists` when it was created meanwhile. */
  create(versionId: string, secretData: string, description: string): Promise<'created' | 'exists'>;
  /**
   * Moves ACSCurrent to `to`; with `from`, only from there (KMS moves the old ACSCurrent to ACSPrevious).
   * Rejects when KMS refuses.
   */
  moveCurrent(to: string, from?: string): Promise<void>;
  removePending(versionId: string): Promise<void>;
}

/** How the store sends one call: retried within the deadline, counted and logged by the caller. */
export type SendCall = <T>(action: string, send: (runtime: $dara.RuntimeOptions) => Promise<T>) => Promise<T>;

/** KMS keeps at most 10 versions of a secret: one page of 20 holds them all. */
const PAGE_SIZE = 20;
const MAX_VERSION_PAGES = 5;

export class KmsSecretStore implements SecretStore {
  constructor(
    readonly secretName: string,
    private readonly kms: KmsClient,
    private readonly call: SendCall,
    /** KMS_INSTANCE_ID: the KMS 3.0 instance a created secret goes in. */
    private readonly kmsInstanceId?: string,
  ) {}

  async versions(): Promise<SecretVersion[] | undefined> {
    const versions: SecretVersion[] = [];
    for (let pageNumber = 1; ; pageNumber++) {
      const request = new $Kms.ListSecretVersionIdsRequest({ secretName: this.secretName, includeDeprecated: 'true', pageNumber, pageSize: PAGE_SIZE });
      let page: $Kms.ListSecretVersionIdsResponse;
      try {
        page = await this.call('ListSecretVersionIds', (runtime) => this.kms.listSecretVersionIdsEx(request, runtime));
      } catch (err) {
        if (toServiceError(err).code === SERVICE_CODES.secretNotFound) return undefined;
        throw err;
      }
      const items = versionsOf(page);
      versions.push(...items);
      if (items.length === 0 || versions.length >= (page.totalCount ?? 0)) return checkedLabels(versions);
      if (pageNumber >= MAX_VERSION_PAGES) throw unreadableVersions(`more than ${MAX_VERSION_PAGES} pages of versions`);
    }
  }

  async read(versionId: string): Promise<StoredVersion> {
    const request = new $Kms.GetSecretValueRequest({ secretName: this.secretName, versionId });
    const value = await this.call('GetSecretValue', (runtime) => this.kms.getSecretValueEx(request, runtime));
    const stages: unknown = value.versionStages?.versionStage ?? [];
    if (!Array.isArray(stages) || stages.some((stage) => typeof stage !== 'string')) {
      throw OperationError.of(OWN_CODES.invalidResponse, `GetSecretValue answered something KMS does not: the stages of version ${versionId} are not a list of names`);
    }
    const data: unknown = value.secretData;
    return { stages: stages as string[], secretData: typeof data === 'string' ? data : undefined };
  }

  async readStage(stage: string): Promise<string | undefined> {
    const request = new $Kms.GetSecretValueRequest({ secretName: this.secretName, versionStage: stage });
    const data: unknown = (await this.call('GetSecretValue', (runtime) => this.kms.getSecretValueEx(request, runtime))).secretData;
    return typeof data === 'string' ? data : undefined;
  }

  async stagePending(versionId: string, secretData: string): Promise<'staged' | 'exists'> {
    const request = new $Kms.PutSecretValueRequest({
      secretName: this.secretName,
      versionId,
      secretData,
      secretDataType: 'text',
      versionStages: JSON.stringify([ACS_PENDING]),
    });
    return this.unlessExists('staged', () => this.call('PutSecretValue', (runtime) => this.kms.putSecretValueEx(request, runtime)));
  }

  async create(versionId: string, secretData: string, description: string): Promise<'created' | 'exists'> {
    const request = new CreateSecretInInstanceRequest({ secretName: this.secretName, versionId, secretData, secretDataType: 'text', description });
    if (this.kmsInstanceId !== undefined) request.DKMSInstanceId = this.kmsInstanceId;
    try {
      return await this.unlessExists('created', () => this.call('CreateSecret', (runtime) => this.kms.createSecretEx(request, runtime)));
    } catch (err) {
      if (toServiceError(err).code !== SERVICE_CODES.resourceInDeleteWindow) throw err;
      throw OperationError.of(
        SERVICE_CODES.resourceInDeleteWindow,
        `the secret ${JSON.stringify(this.secretName)} is scheduled for deletion: restore it (kms RestoreSecret) to keep rotating it, or wait until it is deleted; nothing was written`,
      );
    }
  }

  async moveCurrent(to: string, from?: string): Promise<void> {
    const request = new $Kms.UpdateSecretVersionStageRequest({ secretName: this.secretName, versionStage: ACS_CURRENT, moveToVersion: to });
    if (from !== undefined) request.removeFromVersion = from;
    await this.call('UpdateSecretVersionStage', (runtime) => this.kms.updateSecretVersionStageEx(request, runtime));
  }

  async removePending(versionId: string): Promise<void> {
    const request = new $Kms.UpdateSecretVersionStageRequest({ secretName: this.secretName, versionStage: ACS_PENDING, removeFromVersion: versionId });
    await this.call('UpdateSecretVersionStage', (runtime) => this.kms.updateSecretVersionStageEx(request, runtime));
  }

  private async unlessExists<T extends string>(done: T, write: () => Promise<unknown>): Promise<T | 'exists'> {
    try {
      await write();
      return done;
    } catch (err) {
      if (toServiceError(err).code === SERVICE_CODES.resourceExists) return 'exists';
      throw err;
    }
  }
}
