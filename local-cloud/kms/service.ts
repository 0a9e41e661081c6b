import { type Params, type ProductService, ApiError } from '../http/api-error';
import type { CloudState } from '../state';
import { type SecretDataType, type SecretState, type VersionState, ACS_CURRENT, ACS_PREVIOUS, SECRET_NAME } from '../state/model';
import { invalidParameter, missingParameter, page, positiveIntParam, requiredParam } from '../state/params';
import { isoSeconds } from '../state/time';
import { addVersion, ensureStageRoom, moveStage, removeStage, versionById, versionNotFound, versionWithStage } from './secret-versions';

/**
 * What KMS's documentation leaves open, set per cloud (a fixture, or `cloud.faults` on demand): how it answers an
 * UpdateSecretVersionStage whose RemoveFromVersion names a version that does not carry the stage. `refuse` (the
 * default): InvalidParameter, nothing changes. `accept`: RemoveFromVersion is not checked; with MoveToVersion the
 * stage moves from whichever version has it, without, nothing is removed.
 */
export type RemoveFromVersionWithoutStage = 'refuse' | 'accept';

export interface KmsBehaviour {
  removeFromVersionWithoutStage(): RemoveFromVersionWithoutStage;
  /** Told each time a call was accepted that `refuse` would have refused. */
  acceptedWithoutStage(): void;
}

const DOCUMENTED_ONLY: KmsBehaviour = { removeFromVersionWithoutStage: () => 'refuse', acceptedWithoutStage: () => {} };

/** KMS Secrets Manager (2016-01-20), generic secrets: the actions the rotation uses, over the cloud's state. */
export function createKmsService(state: CloudState, behaviour: KmsBehaviour = DOCUMENTED_ONLY): ProductService {
  const secrets = new SecretActions(state, behaviour);
  return {
    actions: {
      CreateSecret: (params) => secrets.create(params),
      GetSecretValue: (params) => secrets.getValue(params),
      PutSecretValue: (params) => secrets.putValue(params),
      UpdateSecretVersionStage: (params) => secrets.updateVersionStage(params),
      ListSecretVersionIds: (params) => secrets.listVersionIds(params),
      DescribeSecret: (params) => secrets.describe(params),
    },
    writeActions: new Set(['CreateSecret', 'PutSecretValue', 'UpdateSecretVersionStage']),
  };
}

const MAX_DATA_BYTES = 30_720;
const MAX_VERSION_ID = 64;
const MAX_TAGS = 20;
const MAX_LIST_PAGE_SIZE = 100;

const stagesOf = (version: VersionState) => ({ VersionStage: [...version.stages] });

class SecretActions {
  constructor(
    private readonly state: CloudState,
    private readonly behaviour: KmsBehaviour,
  ) {}

  /**
   * A new secret. An account with KMS 3.0 instances keeps secrets in them: a request without the DKMSInstanceId
   * of one is refused. The name of a secret in its delete window cannot be taken again.
   */
  create(params: Params) {
    const name = requiredParam(params, 'SecretName');
    const versionId = versionIdParam(params);
    const data = this.secretData(params);
    const dataType = dataTypeParam(params);
    if (!SECRET_NAME.test(name) || name.startsWith('acs/')) {
      throw invalidParameter('SecretName', 'use up to 192 letters, digits and _/+=.@- , not starting with "acs/"');
    }
    if (params.SecretType && params.SecretType !== 'Generic') {
      throw invalidParameter('SecretType', 'the local cloud keeps Generic secrets only');
    }
    const kmsInstance = this.kmsInstanceParam(params);
    const existing = this.state.findSecret(name);
    if (existing?.plannedDeleteTime !== undefined) throw inDeleteWindow();
    if (existing) throw new ApiError('Rejected.ResourceExist', `The secret "${name}" already exists.`, 409);
    const now = isoSeconds(new Date());
    const secret: SecretState = {
      name,
      description: params.Description ?? '',
      tags: tagsParam(params.Tags),
      createTime: now,
      updateTime: now,
      versions: [{ versionId, data, dataType, stages: [ACS_CURRENT], createTime: now }],
    };
    if (params.EncryptionKeyId) secret.encryptionKeyId = params.EncryptionKeyId;
    if (kmsInstance !== undefined) secret.dkmsInstanceId = kmsInstance;
    this.state.addSecret(secret);
    const body: Record<string, unknown> = { Arn: this.arnOf(name), SecretName: name, VersionId: versionId, SecretType: 'Generic' };
    if (kmsInstance !== undefined) body.DKMSInstanceId = kmsInstance;
    return body;
  }

  /** By VersionId or VersionStage (default ACSCurrent); given both, the version must carry the stage. */
  getValue(params: Params) {
    const secret = this.secret(params, 'use');
    const { VersionId: versionId, VersionStage: stage } = params;
    const version = versionId ? this.version(secret, versionId) : versionWithStage(secret, stage || ACS_CURRENT);
    if (!version) throw versionNotFound(secret, `with VersionStage "${stage || ACS_CURRENT}"`);
    if (versionId && stage && !version.stages.includes(stage)) {
      throw invalidParameter('VersionStage', `version "${versionId}" does not carry stage "${stage}"`);
    }
    return {
      SecretName: secret.name,
      SecretType: 'Generic',
      SecretData: version.data,
      SecretDataType: version.dataType,
      VersionId: version.versionId,
      VersionStages: stagesOf(version),
      CreateTime: version.createTime,
    };
  }

  /** A new version (default stage ACSCurrent); the same VersionId again succeeds only with the same data. */
  putValue(params: Params) {
    const secret = this.secret(params, 'change');
    const versionId = versionIdParam(params);
    const data = this.secretData(params);
    const dataType = dataTypeParam(params);
    const stages = stagesParam(params.VersionStages);
    const existing = versionById(secret, versionId);
    if (existing) {
      if (existing.data !== data || existing.dataType !== dataType) {
        throw new ApiError('Rejected.ResourceExist', `The secret "${secret.name}" already has a version "${versionId}" with other data.`, 409);
      }
      return { SecretName: secret.name, VersionId: versionId, VersionStages: stagesOf(existing) };
    }
    ensureStageRoom(secret, stages);
    const now = isoSeconds(new Date());
    const version: VersionState = { versionId, data, dataType, stages: [], createTime: now };
    addVersion(secret, version, stages);
    secret.updateTime = now;
    return { SecretName: secret.name, VersionId: versionId, VersionStages: stagesOf(version) };
  }

  /**
   * Adds (MoveToVersion), removes (RemoveFromVersion) or moves (both) a stage. ACSCurrent and ACSPrevious
   * can only be moved; a stage named with MoveToVersion alone leaves whichever version had it. A RemoveFromVersion
   * without the stage is refused, or accepted (KmsBehaviour).
   */
  updateVersionStage(params: Params) {
    const secret = this.secret(params, 'change');
    const stage = requiredParam(params, 'VersionStage');
    const { RemoveFromVersion: removeFrom, MoveToVersion: moveTo } = params;
    if (!removeFrom && !moveTo) throw missingParameter('MoveToVersion');
    if (!moveTo && (stage === ACS_CURRENT || stage === ACS_PREVIOUS)) {
      throw invalidParameter('MoveToVersion', `${stage} cannot be removed, only moved to another version with MoveToVersion`);
    }
    const source = removeFrom ? this.version(secret, removeFrom) : undefined;
    if (source && !source.stages.includes(stage)) {
      if (this.behaviour.removeFromVersionWithoutStage() === 'refuse') {
        throw invalidParameter('RemoveFromVersion', `version "${removeFrom}" does not carry stage "${stage}"`);
      }
      this.behaviour.acceptedWithoutStage();
    }
    const target = moveTo ? this.version(secret, moveTo) : undefined;
    if (target) {
      ensureStageRoom(secret, [stage]);
      moveStage(secret, stage, target);
    } else if (source) {
      removeStage(source, stage);
    }
    secret.updateTime = isoSeconds(new Date());
    return { SecretName: secret.name };
  }

  /** Versions oldest first; unlabelled ("deprecated") ones only with IncludeDeprecated=true. */
  listVersionIds(params: Params) {
    const secret = this.secret(params, 'use');
    const includeDeprecated = booleanParam(params, 'IncludeDeprecated');
    const pageNumber = positiveIntParam(params, 'PageNumber', 1);
    const pageSize = positiveIntParam(params, 'PageSize', 20, MAX_LIST_PAGE_SIZE);
    const versions = secret.versions.filter((v) => includeDeprecated || v.stages.length > 0);
    return {
      SecretName: secret.name,
      TotalCount: versions.length,
      PageNumber: pageNumber,
      PageSize: pageSize,
      VersionIds: {
        VersionId: page(versions, pageNumber, pageSize).map((v) => ({
          VersionId: v.versionId,
          CreateTime: v.createTime,
          VersionStages: stagesOf(v),
        })),
      },
    };
  }

  describe(params: Params) {
    const secret = this.secret(params, 'describe');
    const body: Record<string, unknown> = {
      Arn: this.arnOf(secret.name),
      SecretName: secret.name,
      SecretType: 'Generic',
      Description: secret.description,
      CreateTime: secret.createTime,
      UpdateTime: secret.updateTime,
    };
    if (secret.encryptionKeyId) body.EncryptionKeyId = secret.encryptionKeyId;
    if (secret.dkmsInstanceId) body.DKMSInstanceId = secret.dkmsInstanceId;
    if (secret.plannedDeleteTime) body.PlannedDeleteTime = secret.plannedDeleteTime;
    if (booleanParam(params, 'FetchTags')) {
      body.Tags = { Tag: Object.entries(secret.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) };
    }
    return body;
  }

  private arnOf(name: string): string {
    return `acs:kms:${this.state.region}:${this.state.accountId}:secret/${name}`;
  }

  /**
   * SecretName may be the name or the secret's ARN. A secret in its delete window can only be described:
   * its value and versions are out of reach (the documented codes of GetSecretValue and ListSecretVersionIds
   * hold no delete-window code, so it is not found), a change is refused with Rejected.ResourceInDeleteWindow.
   */
  private secret(params: Params, purpose: 'describe' | 'use' | 'change'): SecretState {
    const given = requiredParam(params, 'SecretName');
    const arnPrefix = this.arnOf('');
    const name = given.startsWith(arnPrefix) ? given.slice(arnPrefix.length) : given;
    const secret = this.state.findSecret(name);
    const notFound = () => new ApiError('Forbidden.ResourceNotFound', `The secret "${given}" cannot be found.`, 404);
    if (!secret) throw notFound();
    if (secret.plannedDeleteTime !== undefined && purpose !== 'describe') throw purpose === 'change' ? inDeleteWindow() : notFound();
    return secret;
  }

  /**
   * DKMSInstanceId must name one of the account's KMS instances; with none declared (KMS before 3.0) it may be
   * left out. Both refusals are the code CreateSecret documents for an instance it cannot find.
   */
  private kmsInstanceParam(params: Params): string | undefined {
    const given = params.DKMSInstanceId || undefined;
    const required = this.state.kmsInstances.size > 0;
    if ((given === undefined && required) || (given !== undefined && !this.state.kmsInstances.has(given))) {
      throw new ApiError('Forbidden.DKMSInstanceNotFound', 'The specified DKMS Instance is not found.', 403);
    }
    return given;
  }

  private version(secret: SecretState, versionId: string): VersionState {
    const version = versionById(secret, versionId);
    if (!version) throw versionNotFound(secret, `with VersionId "${versionId}"`);
    return version;
  }

  private secretData(params: Params): string {
    const data = requiredParam(params, 'SecretData');
    this.state.noteSecretData(data);
    if (Buffer.byteLength(data) > MAX_DATA_BYTES) throw invalidParameter('SecretData', `at most ${MAX_DATA_BYTES} bytes`);
    return data;
  }
}

/** The answer KMS documents for a secret scheduled for deletion (CreateSecret, UpdateSecretVersionStage, …). */
function inDeleteWindow(): ApiError {
  return new ApiError('Rejected.ResourceInDeleteWindow', 'The secret is planned to be deleted.', 409);
}

function versionIdParam(params: Params): string {
  const versionId = requiredParam(params, 'VersionId');
  if (versionId.length > MAX_VERSION_ID) throw invalidParameter('VersionId', `at most ${MAX_VERSION_ID} characters`);
  return versionId;
}

function dataTypeParam(params: Params): SecretDataType {
  const type = params.SecretDataType || 'text';
  if (type !== 'text' && type !== 'binary') throw invalidParameter('SecretDataType', 'expected "text" or "binary"');
  return type;
}

/** `VersionStages` is a string holding a JSON array of labels; absent means ["ACSCurrent"]. */
function stagesParam(raw: string | undefined): string[] {
  if (raw === undefined || raw === '') return [ACS_CURRENT];
  let stages: unknown;
  try {
    stages = JSON.parse(raw);
  } catch {
    stages = undefined;
  }
  if (!Array.isArray(stages) || !stages.every((s) => typeof s === 'string' && s !== '')) {
    throw invalidParameter('VersionStages', 'expected a JSON array of stage labels such as ["ACSPending"]');
  }
  return [...new Set(stages as string[])];
}

/** `Tags` is a string holding a JSON array of {"TagKey","TagValue"}. */
function tagsParam(raw: string | undefined): Record<string, string> {
  if (raw === undefined || raw === '') return {};
  let tags: unknown;
  try {
    tags = JSON.parse(raw);
  } catch {
    tags = undefined;
  }
  const valid =
    Array.isArray(tags) &&
    tags.length <= MAX_TAGS &&
    tags.every((t) => typeof t?.TagKey === 'string' && t.TagKey !== '' && typeof t.TagValue === 'string');
  if (!valid) throw invalidParameter('Tags', `expected a JSON array of up to ${MAX_TAGS} {"TagKey","TagValue"} objects`);
  return Object.fromEntries((tags as Array<{ TagKey: string; TagValue: string }>).map((t) => [t.TagKey, t.TagValue]));
}

function booleanParam(params: Params, name: string): boolean {
  const value = params[name];
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw invalidParameter(name, 'expected "true" or "false"');
}
