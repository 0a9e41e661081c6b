import { createHash } from 'node:crypto';
import { toServiceError } from './clients/errors';
import { OWN_CODES, isInstanceNotFound } from './codes';
import { RefusalError } from './errors';
import type DdsClient from './clients/dds';
import * as $Dds from './clients/dds';
import { type ApplicationUserTarget, type Config, type RootTarget, type RotationTarget, ROOT_ACCOUNT, isApplicationUser, secretNameFor } from './config';
import type { Logger } from './logger';
import { mapWithConcurrency } from './concurrency';
import type { Deadline } from './retry';
import { callService } from './call';
import type { Trigger } from './trigger';

/** What planning adds to a target: how this run treats it. */
export interface Planning {
  /** The KMS VersionId this trigger stages for this target. */
  versionId: string;
  /** Rotate whatever the age of the current secret... */
  force: boolean;
  /** ...and even within the forced-rotation cooldown. */
  ignoreCooldown?: boolean;
  /**
   * What planning read about the instance, which serves as its inspection: DescribeDBInstanceAttribute's answer
   * (a lookup), or its entry in DescribeDBInstances (discovery), which lacks its addresses.
   */
  inspected?: { instance: $Dds.DBInstanceAttribute; addresses: boolean };
}

/** A target as this run will treat it. */
export type PlannedTarget = RotationTarget & Planning;
export type PlannedRootTarget = RootTarget & Planning;
export type PlannedUserTarget = ApplicationUserTarget & Planning;

/** A target found while planning (discovery finds root targets only), with what was read about it. */
export type FoundTarget = RootTarget & Pick<Planning, 'inspected'>;

/** The run names an instance that is not a target: refused before anything is read or written. */
export class PlanError extends RefusalError {
  override readonly name: string = 'PlanError';

  constructor(message: string) {
    super(OWN_CODES.invalidTarget, message);
  }
}

/**
 * `r-` + the first 24 hex digits of SHA-256 over `${trigger identity}\n${instanceId}`, where the identity
 * is `timer\n<triggerName>\n<triggerTime>`, `event\n<source>\n<id>` or `manual\n<rotationId, else the FC
 * request id>` (trigger.ts); an application user's adds `\n<accountName>`, so that each account's version says
 * whose it is.
 * Nothing comes from the clock, so a redelivered trigger finds the version it staged before.
 */
export function versionIdFor(identity: string, instanceId: string, accountName: string = ROOT_ACCOUNT): string {
  const account = accountName === ROOT_ACCOUNT ? '' : `\n${accountName}`;
  return `r-${sha256Hex(`${identity}\n${instanceId}${account}`).slice(0, 24)}`;
}

/**
 * The VersionId that replaces a pending version whose password cannot be used: derived from the version it
 * replaces, so that it too is deterministic, and a second replacement (of the replacement) gets a new id.
 */
export function replacementVersionId(replacedVersionId: string): string {
  return `r-${sha256Hex(`replaces\n${replacedVersionId}`).slice(0, 24)}`;
}

/** Whether the run needs ROTATION_TAG's instances: it asks for every target, or names one not in ROTATION_TARGETS. */
export function needsDiscovery(config: Config, trigger: Trigger): boolean {
  if (!config.rotationTag) return false;
  const wanted = trigger.request.instanceIds;
  return !wanted || wanted.some((id) => !config.targets.some((t) => t.instanceId === id));
}

const DISCOVERED_TYPES = ['replicate', 'sharding'];
/** DescribeDBInstances' largest page: the fewest calls. */
const DISCOVERY_PAGE_SIZE = 100;
/**
 * Up to this many named instances outside ROTATION_TARGETS are looked up one by one (their tags, from
 * DescribeDBInstanceAttribute, which also serves as their inspection) rather than listing every tagged
 * instance: a fanned-out invocation names one, and must not list the fleet to check it.
 */
const LOOKUP_LIMIT = 10;

/**
 * The targets of this run (see planTargets), reading what it must to know them: nothing when the trigger
 * names configured instances only, the named instances' own attributes when it names a few others, else
 * every instance carrying ROTATION_TAG. Reads only; refuses (PlanError) an instance that is not a target.
 */
export async function resolveTargets(config: Config, trigger: Trigger, dds: DdsClient, regionId: string, deadline: Deadline, log: Logger): Promise<PlannedTarget[]> {
  if (!needsDiscovery(config, trigger)) return planTargets(config, trigger);
  const strangers = (trigger.request.instanceIds ?? []).filter((id) => !config.targets.some((t) => t.instanceId === id));
  if (trigger.request.instanceIds && strangers.length <= LOOKUP_LIMIT) {
    return planTargets(config, trigger, await lookUpTagged(config, strangers, dds, deadline, log));
  }
  return planTargets(config, trigger, await discoverTargets(config, dds, regionId, deadline, log));
}

/** The named instances that DescribeDBInstanceAttribute shows carrying ROTATION_TAG, of a type discovery lists. */
async function lookUpTagged(config: Config, instanceIds: string[], dds: DdsClient, deadline: Deadline, log: Logger): Promise<FoundTarget[]> {
  const tag = config.rotationTag;
  if (!tag) return [];
  const found = await mapWithConcurrency(instanceIds, config.maxConcurrency, async (instanceId): Promise<FoundTarget | undefined> => {
    const request = new $Dds.DescribeDBInstanceAttributeRequest({ DBInstanceId: instanceId });
    let instance: $Dds.DBInstanceAttribute | undefined;
    try {
      const response = await callService('DescribeDBInstanceAttribute', (runtime) => dds.describeDBInstanceAttributeWithOptions(request, runtime), {
        deadline,
        log,
        fields: { step: 'discover', instanceId },
      });
      instance = response.body?.DBInstances?.DBInstance?.[0];
    } catch (err) {
      if (!isInstanceNotFound(toServiceError(err).code)) throw err;
    }
    const tagged = instance?.tags?.tag?.some((t) => t.key === tag.key && t.value === tag.value) ?? false;
    if (!instance || !tagged || !DISCOVERED_TYPES.includes(instance.DBInstanceType ?? '')) return undefined;
    return { instanceId, secretName: secretNameFor(config.secretNameTemplate, instanceId), accountName: ROOT_ACCOUNT, inspected: { instance, addresses: true } };
  });
  const targets = found.filter((target): target is FoundTarget => target !== undefined);
  log.info('looked up the named instances', { step: 'discover', tag: `${tag.key}=${tag.value}`, named: instanceIds.length, tagged: targets.length });
  return targets;
}

/**
 * The instances carrying ROTATION_TAG (DescribeDBInstances per instance type, every page), as targets
 * whose secret names come from SECRET_NAME_TEMPLATE, each with its listing (type, status, lock mode) as its
 * inspection: the rotation does not ask again. Reads only.
 */
export async function discoverTargets(config: Config, dds: DdsClient, regionId: string, deadline: Deadline, log: Logger): Promise<FoundTarget[]> {
  const tag = config.rotationTag;
  if (!tag) return [];
  const listed = new Map<string, $Dds.DBInstanceSummary>();
  for (const type of DISCOVERED_TYPES) {
    for (let pageNumber = 1, seen = 0; ; pageNumber++) {
      const request = new $Dds.DescribeDBInstancesRequest({
        regionId,
        DBInstanceType: type,
        pageNumber,
        pageSize: DISCOVERY_PAGE_SIZE,
        tag: [new $Dds.DescribeDBInstancesRequestTag({ key: tag.key, value: tag.value })],
      });
      const page = await callService('DescribeDBInstances', (runtime) => dds.describeDBInstancesWithOptions(request, runtime), { deadline, log, fields: { step: 'discover' } });
      const instances = page.body?.DBInstances?.DBInstance ?? [];
      for (const instance of instances) if (instance.DBInstanceId) listed.set(instance.DBInstanceId, instance);
      seen += instances.length;
      // TotalCount spares the empty page after a full last one; a short page ends the list without it.
      const total = page.body?.totalCount;
      if (instances.length === 0 || (total === undefined ? instances.length < DISCOVERY_PAGE_SIZE : seen >= total)) break;
    }
  }
  const targets = [...listed.keys()].sort().map(
    (instanceId): FoundTarget => ({
      instanceId,
      secretName: secretNameFor(config.secretNameTemplate, instanceId),
      accountName: ROOT_ACCOUNT,
      inspected: { instance: inspectionOf(listed.get(instanceId)!), addresses: false },
    }),
  );
  log.info('discovered tagged instances', { step: 'discover', tag: `${tag.key}=${tag.value}`, instances: targets.length });
  return targets;
}

/** An instance's listing as the attribute model the inspection reads (type, status, lock mode, tags). */
function inspectionOf(summary: $Dds.DBInstanceSummary): $Dds.DBInstanceAttribute {
  const { DBInstanceId, DBInstanceType, DBInstanceStatus, lockMode, tags } = summary;
  return new $Dds.DBInstanceAttribute({ DBInstanceId, DBInstanceType, DBInstanceStatus, lockMode, tags });
}

/**
 * The targets a trigger asks for: ROTATION_TARGETS in order, then discovered instances whose root is not among
 * them; each instance's root target first, then its application users (see byInstance). Instances the trigger
 * names must all be targets.
 */
export function planTargets(config: Config, trigger: Trigger, discovered: FoundTarget[] = []): PlannedTarget[] {
  const configuredRoots = new Set(config.targets.filter((t) => !isApplicationUser(t)).map((t) => t.instanceId));
  const all = rootsFirst([...config.targets, ...discovered.filter((t) => !configuredRoots.has(t.instanceId))]);
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
    .map((target) => ({
      ...target,
      versionId: versionIdFor(trigger.identity, target.instanceId, target.accountName),
      force: trigger.request.force,
      ...(trigger.request.ignoreCooldown && { ignoreCooldown: true }),
    }));
}

/** The targets in the order of their instances' first appearance, each instance's root target before its application users. */
function rootsFirst<T extends RotationTarget>(targets: T[]): T[] {
  return byInstance(targets).flat();
}

/**
 * The targets grouped by instance, in the order of the instances' first appearance; in each group the root target
 * comes first, then the application users in their order. A run rotates the groups in parallel and each group in
 * order: an application user's rotation logs in as root, so it follows root's, never runs beside it.
 */
export function byInstance<T extends RotationTarget>(targets: T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const target of targets) {
    const group = groups.get(target.instanceId) ?? [];
    if (isApplicationUser(target)) group.push(target);
    else group.unshift(target);
    groups.set(target.instanceId, group);
  }
  return [...groups.values()];
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
