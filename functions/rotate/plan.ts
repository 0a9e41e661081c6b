import { createHash } from 'node:crypto';
import { callOptions } from '../shared/clients';
import type DdsClient from '../shared/clients/dds';
import * as $Dds from '../shared/clients/dds';
import { type Config, type RotationTarget, ROOT_ACCOUNT, secretNameFor } from '../shared/config';
import type { Logger } from '../shared/logger';
import { type Deadline, withRetry } from '../shared/retry';
import type { Trigger } from './trigger';

/** A target as this run will treat it. */
export interface PlannedTarget extends RotationTarget {
  /** The KMS VersionId this trigger stages for this target. */
  versionId: string;
  /** Rotate whatever the age of the current secret. */
  force: boolean;
}

/** The run names an instance that is not a target: refused before anything is read or written. */
export class PlanError extends Error {
  readonly code = 'InvalidTarget';

  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/**
 * `r-` + the first 24 hex digits of SHA-256 over `${trigger identity}\n${instanceId}`, where the identity
 * is `timer\n<triggerName>\n<triggerTime>` or `manual\n<rotationId, else the FC request id>` (trigger.ts).
 * Nothing comes from the clock, so a redelivered trigger finds the version it staged before.
 */
export function versionIdFor(identity: string, instanceId: string): string {
  return `r-${sha256Hex(`${identity}\n${instanceId}`).slice(0, 24)}`;
}

/**
 * The VersionId that replaces a pending version whose password cannot be used: derived from the version it
 * replaces, so that it too is deterministic, and a second replacement (of the replacement) gets a new id.
 */
export function replacementVersionId(replacedVersionId: string): string {
  return `r-${sha256Hex(`replaces\n${replacedVersionId}`).slice(0, 24)}`;
}

/** The version a created secret starts with: it holds no password yet, so it is always due for rotation. */
export function initialVersionId(versionId: string): string {
  return `init-${versionId}`;
}

export const isInitialVersion = (versionId: string): boolean => versionId.startsWith('init-');

/** Whether the run needs ROTATION_TAG's instances: it asks for every target, or names one not in ROTATION_TARGETS. */
export function needsDiscovery(config: Config, trigger: Trigger): boolean {
  if (!config.rotationTag) return false;
  const wanted = trigger.request.instanceIds;
  return !wanted || wanted.some((id) => !config.targets.some((t) => t.instanceId === id));
}

const DISCOVERED_TYPES = ['replicate', 'sharding'];
const DISCOVERY_PAGE_SIZE = 100;

/**
 * The instances carrying ROTATION_TAG (DescribeDBInstances per instance type, every page), as targets
 * whose secret names come from SECRET_NAME_TEMPLATE. Reads only.
 */
export async function discoverTargets(config: Config, dds: DdsClient, regionId: string, deadline: Deadline, log: Logger): Promise<RotationTarget[]> {
  const tag = config.rotationTag;
  if (!tag) return [];
  const ids = new Set<string>();
  for (const type of DISCOVERED_TYPES) {
    for (let pageNumber = 1; ; pageNumber++) {
      const request = new $Dds.DescribeDBInstancesRequest({
        regionId,
        DBInstanceType: type,
        pageNumber,
        pageSize: DISCOVERY_PAGE_SIZE,
        tag: [new $Dds.DescribeDBInstancesRequestTag({ key: tag.key, value: tag.value })],
      });
      const page = await withRetry(() => dds.describeDBInstancesWithOptions(request, callOptions(deadline)), {
        deadline,
        onRetry: (error, retry, delayMs) => log.warn('retrying DescribeDBInstances', { step: 'discover', retry, delayMs, error: { code: error.code, requestId: error.requestId } }),
      });
      const instances = page.body?.DBInstances?.DBInstance ?? [];
      for (const instance of instances) if (instance.DBInstanceId) ids.add(instance.DBInstanceId);
      if (instances.length < DISCOVERY_PAGE_SIZE) break;
    }
  }
  const targets = [...ids].sort().map((instanceId): RotationTarget => ({ instanceId, secretName: secretNameFor(config.secretNameTemplate, instanceId), accountName: ROOT_ACCOUNT }));
  log.info('discovered tagged instances', { step: 'discover', tag: `${tag.key}=${tag.value}`, instances: targets.length });
  return targets;
}

/**
 * The targets a trigger asks for: ROTATION_TARGETS in order, then discovered instances not among them.
 * Instances the trigger names must all be targets.
 */
export function planTargets(config: Config, trigger: Trigger, discovered: RotationTarget[] = []): PlannedTarget[] {
  const configured = new Set(config.targets.map((t) => t.instanceId));
  const all = [...config.targets, ...discovered.filter((t) => !configured.has(t.instanceId))];
  const wanted = trigger.request.instanceIds;
  if (wanted) {
    const known = new Set(all.map((t) => t.instanceId));
    const strangers = wanted.filter((id) => !known.has(id));
    if (strangers.length > 0) {
      const names = strangers.slice(0, 5).map((id) => JSON.stringify(id)).join(', ');
      const more = strangers.length > 5 ? ` and ${strangers.length - 5} more` : '';
      const verb = strangers.length === 1 ? 'is not a rotation target' : 'are not rotation targets';
      throw new PlanError(`Refusing the invocation: ${names}${more} ${verb} (ROTATION_TARGETS${config.rotationTag ? ', or tagged per ROTATION_TAG' : ''}); nothing was changed`);
    }
  }
  return all
    .filter((target) => !wanted || wanted.includes(target.instanceId))
    .map((target) => ({ ...target, versionId: versionIdFor(trigger.identity, target.instanceId), force: trigger.request.force }));
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
