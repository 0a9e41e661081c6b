import type { MongoUserState } from './mongo-users';

/** The shapes the local cloud keeps as its truth: instances with their root passwords, secrets with their versions. */

export type InstanceType = 'replicate' | 'sharding';

/** A replica set holds one root password (`normal`); a sharded cluster one per role: shards (`db`) and config servers (`cs`). */
export type Role = 'normal' | 'db' | 'cs';

export const LOCK_MODES = ['Unlock', 'ManualLock', 'LockByExpiration', 'LockByRestoration', 'LockByDiskQuota', 'Released'] as const;
export type LockMode = (typeof LOCK_MODES)[number];

export interface Connection {
  host: string;
  port: number;
}

export interface InstanceState {
  id: string;
  type: InstanceType;
  status: string;
  lockMode: LockMode;
  description: string;
  engineVersion: string;
  creationTime: string;
  tags: Record<string, string>;
  rootPasswords: Partial<Record<Role, string>>;
  /** Where the MongoDB login peer listens; when unset, DescribeDBInstanceAttribute shows made-up endpoints. */
  connection?: Connection;
  /** MongoDB users other than root (mongo-users.ts); a sharded cluster's live on its config servers. */
  users?: MongoUserState[];
}

export const ACS_CURRENT = 'ACSCurrent';
export const ACS_PREVIOUS = 'ACSPrevious';
export const ACS_PENDING = 'ACSPending';

export type SecretDataType = 'text' | 'binary';

/** KMS keeps at most 10 versions and 8 stage labels per generic secret. */
export const MAX_SECRET_VERSIONS = 10;
export const MAX_SECRET_STAGES = 8;
/** KMS's rule for secret names: up to 192 letters, digits and _/+=.@- . */
export const SECRET_NAME = /^[A-Za-z0-9_/+=.@-]{1,192}$/;

export interface VersionState {
  versionId: string;
  data: string;
  dataType: SecretDataType;
  stages: string[];
  createTime: string;
}

export interface SecretState {
  name: string;
  /** The KMS instance (`kst-…`) the secret lives in: CreateSecret's DKMSInstanceId. */
  dkmsInstanceId?: string;
  /** Set while the secret is in its delete window (DeleteSecret with a recovery window): it cannot be used or created again. */
  plannedDeleteTime?: string;
  /** Binds the secret to an instance for the invariant monitor (fixture); else the `DBInstanceId` in its data does. */
  instanceId?: string;
  description: string;
  encryptionKeyId?: string;
  tags: Record<string, string>;
  createTime: string;
  updateTime: string;
  /** Oldest first. */
  versions: VersionState[];
  /**
   * For a secret of an application user (fixture only): how it is rotated, which the invariant
   * monitor then holds it to; without it, the monitor infers it from the users its versions name.
   */
  strategy?: UserStrategy;
}

export const USER_STRATEGIES = ['alternating', 'single'] as const;
export type UserStrategy = (typeof USER_STRATEGIES)[number];

export function rolesOf(type: InstanceType): Role[] {
  return type === 'sharding' ? ['db', 'cs'] : ['normal'];
}
