/**
 * Reading the fleet for `npm run status`: the same targets as the function (ROTATION_TARGETS, then the
 * instances carrying ROTATION_TAG), each instance's type, status and lock mode, and each secret's version
 * ids, stages and create times. Only calls that return no secret value, through the function's own clients
 * and shared rates (DDS_QPS, KMS_QPS): never GetSecretValue, never a write.
 */
import { SERVICE_CODES, isInstanceNotFound } from '../../functions/shared/codes';
import { callOptions, type Clients } from '../../functions/shared/clients';
import * as $Dds from '../../functions/shared/clients/dds';
import { type ServiceError, toServiceError } from '../../functions/shared/clients/errors';
import { $Kms } from '../../functions/shared/clients/kms';
import { mapWithConcurrency } from '../../functions/shared/concurrency';
import { type Config, isApplicationUser } from '../../functions/shared/config';
import { Logger } from '../../functions/shared/logger';
import { Deadline, withRetry } from '../../functions/shared/retry';
import { discoverTargets } from '../../functions/shared/targets';
import { type SecretVersion, versionsOf } from '../../functions/rotate/engine/versions';

/** Every RAM action the status command can call; the read-only policy grants exactly these. */
export const STATUS_ACTIONS = ['dds:DescribeDBInstances', 'dds:DescribeDBInstanceAttribute', 'kms:ListSecretVersionIds'] as const;
export type StatusAction = (typeof STATUS_ACTIONS)[number];

/** How long one target's reads may take, retries of throttled calls included. */
const TARGET_BUDGET_MS = 120_000;
/** Listing the tagged instances: a few pages per hundred instances. */
const DISCOVERY_BUDGET_MS = 300_000;
/** KMS keeps at most 10 versions: one page of 20 holds them all; more pages mean an answer KMS does not give. */
const VERSION_PAGE_SIZE = 20;
const MAX_VERSION_PAGES = 5;

export interface StatusTarget {
  instanceId: string;
  secretName: string;
  /** Where the function gets it from. */
  source: 'ROTATION_TARGETS' | 'ROTATION_TAG';
}

export interface InstanceView {
  type?: string;
  status?: string;
  lockMode?: string;
}

/** A read that failed for a reason other than "not found": the action, and the service's error. */
export interface ReadFailure {
  action: StatusAction;
  error: Pick<ServiceError, 'code' | 'message' | 'requestId'>;
}

export type InstanceRead = { found: true; instance: InstanceView } | { found: false } | { failed: ReadFailure };
export type SecretRead = { found: true; versions: SecretVersion[] } | { found: false } | { failed: ReadFailure };

export interface TargetRead {
  target: StatusTarget;
  instance: InstanceRead;
  secret: SecretRead;
}

export interface ReadOptions {
  concurrency: number;
  /** Called once the targets are known, and after each target is read. */
  onProgress?: (progress: { read: number; total: number }) => void;
  /** Called once the tagged instances are listed. */
  onDiscovered?: (count: number) => void;
}

/** Listing the tagged instances failed: without them the fleet is unknown. */
export class DiscoveryError extends Error {
  constructor(readonly failure: ReadFailure) {
    super(`listing the instances tagged by ROTATION_TAG failed: ${failure.error.code}: ${failure.error.message}`);
    this.name = 'DiscoveryError';
  }
}

/** The function's targets, each with what can be read about it without reading a secret value. */
export async function readFleet(config: Config, clients: Pick<Clients, 'dds' | 'kms'>, regionId: string, options: ReadOptions): Promise<TargetRead[]> {
  const listed = await listTagged(config, clients.dds, regionId, options);
  const targets: StatusTarget[] = config.targets.map((t) => ({ instanceId: t.instanceId, secretName: t.secretName, source: 'ROTATION_TARGETS' }));
  // An instance whose root is not configured (only its application users are) is still a tagged root target.
  const configured = new Set(config.targets.filter((t) => !isApplicationUser(t)).map((t) => t.instanceId));
  for (const found of listed.values()) if (!configured.has(found.target.instanceId)) targets.push(found.target);

  let read = 0;
  options.onProgress?.({ read, total: targets.length });
  return mapWithConcurrency(targets, options.concurrency, async (target): Promise<TargetRead> => {
    const deadline = new Deadline(Date.now() + TARGET_BUDGET_MS);
    // A listing from discovery serves as the instance's description, as it does for the function.
    const knownInstance = listed.get(target.instanceId)?.instance;
    const [instance, secret] = await Promise.all([
      knownInstance ? Promise.resolve<InstanceRead>({ found: true, instance: knownInstance }) : describeInstance(clients.dds, target.instanceId, deadline),
      listVersions(clients.kms, target.secretName, deadline),
    ]);
    options.onProgress?.({ read: ++read, total: targets.length });
    return { target, instance, secret };
  });
}

/** ROTATION_TAG's instances with their listings (type, status, lock mode), by instance id. */
async function listTagged(config: Config, dds: Clients['dds'], regionId: string, options: ReadOptions) {
  const listed = new Map<string, { target: StatusTarget; instance: InstanceView }>();
  if (!config.rotationTag) return listed;
  const quiet = Logger.create({ sink: { write: () => true } });
  let found;
  try {
    found = await discoverTargets(config, dds, regionId, new Deadline(Date.now() + DISCOVERY_BUDGET_MS), quiet);
  } catch (err) {
    throw new DiscoveryError({ action: 'dds:DescribeDBInstances', error: brief(toServiceError(err)) });
  }
  for (const { instanceId, secretName, inspected } of found) {
    const instance = inspected?.instance;
    listed.set(instanceId, {
      target: { instanceId, secretName, source: 'ROTATION_TAG' },
      instance: { type: instance?.DBInstanceType, status: instance?.DBInstanceStatus, lockMode: instance?.lockMode },
    });
  }
  options.onDiscovered?.(listed.size);
  return listed;
}

async function describeInstance(dds: Clients['dds'], instanceId: string, deadline: Deadline): Promise<InstanceRead> {
  const request = new $Dds.DescribeDBInstanceAttributeRequest({ DBInstanceId: instanceId });
  try {
    const response = await withRetry(() => dds.describeDBInstanceAttributeWithOptions(request, callOptions(deadline)), { deadline });
    const instances: unknown = response.body?.DBInstances?.DBInstance;
    const instance = Array.isArray(instances) ? (instances[0] as $Dds.DBInstanceAttribute | undefined) : undefined;
    if (!instance) return { found: false };
    return { found: true, instance: { type: instance.DBInstanceType, status: instance.DBInstanceStatus, lockMode: instance.lockMode } };
  } catch (err) {
    const error = toServiceError(err);
    if (isInstanceNotFound(error.code)) return { found: false };
    return { failed: { action: 'dds:DescribeDBInstanceAttribute', error: brief(error) } };
  }
}

/** Every version of the secret, labelled or not (IncludeDeprecated): they all count towards KMS's 10. */
async function listVersions(kms: Clients['kms'], secretName: string, deadline: Deadline): Promise<SecretRead> {
  const versions: SecretVersion[] = [];
  try {
    for (let pageNumber = 1; pageNumber <= MAX_VERSION_PAGES; pageNumber++) {
      const request = new $Kms.ListSecretVersionIdsRequest({ secretName, includeDeprecated: 'true', pageNumber, pageSize: VERSION_PAGE_SIZE });
      const page = await withRetry(() => kms.listSecretVersionIdsEx(request, callOptions(deadline)), { deadline });
      const items = versionsOf(page);
      versions.push(...items);
      if (items.length === 0 || versions.length >= (page.totalCount ?? 0)) return { found: true, versions };
    }
    return { found: true, versions };
  } catch (err) {
    const error = toServiceError(err);
    if (error.code === SERVICE_CODES.secretNotFound) return { found: false };
    return { failed: { action: 'kms:ListSecretVersionIds', error: brief(error) } };
  }
}

const brief = ({ code, message, requestId }: ServiceError): ReadFailure['error'] => ({ code, message, ...(requestId && { requestId }) });
