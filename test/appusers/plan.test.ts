/**
 * Planning with application users: each instance's root target first, then its application users in their order
 * (whatever the order of ROTATION_TARGETS); a tagged instance whose root is not configured keeps its discovered
 * root target; each account's VersionId is its own, root's as before.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/shared/config';
import { byInstance, planTargets, versionIdFor } from '../../functions/shared/targets';
import { parseTrigger } from '../../functions/shared/trigger';

const CONTEXT = { requestId: 'req-plan-1' };
const config = (items: object[], env: Record<string, string> = {}) => loadConfig({ ROTATION_TARGETS: JSON.stringify(items), ...env });
const names = (targets: Array<{ instanceId: string; accountName: string }>) => targets.map((t) => `${t.instanceId} ${t.accountName}`);

describe('planning application users', () => {
  it("puts each instance's root first, then its users in their order, instances in the order they first appear", () => {
    const items = [
      { instanceId: 'dds-a', accountName: 'orders' },
      { instanceId: 'dds-b' },
      { instanceId: 'dds-a', accountName: 'reports', strategy: 'single' },
      { instanceId: 'dds-a' },
    ];
    const planned = planTargets(config(items), parseTrigger({ force: true, rotationId: 'plan-1' }, CONTEXT));
    expect(names(planned)).toEqual(['dds-a root', 'dds-a orders', 'dds-a reports', 'dds-b root']);
    expect(byInstance(planned).map(names)).toEqual([['dds-a root', 'dds-a orders', 'dds-a reports'], ['dds-b root']]);
  });

  it('rotates an instance the trigger names with all its accounts', () => {
    const items = [{ instanceId: 'dds-a', accountName: 'orders' }, { instanceId: 'dds-a' }, { instanceId: 'dds-b', accountName: 'orders' }];
    expect(names(planTargets(config(items), parseTrigger({ instanceIds: ['dds-a'] }, CONTEXT)))).toEqual(['dds-a root', 'dds-a orders']);
  });

  it('keeps the discovered root of a tagged instance whose users alone are configured', () => {
    const tagged = config([{ instanceId: 'dds-t', accountName: 'orders' }], { ROTATION_TAG: 'rotation=enabled' });
    const discovered = [{ instanceId: 'dds-t', secretName: 'mongodb/dds-t/root', accountName: 'root' as const }];
    expect(names(planTargets(tagged, parseTrigger({}, CONTEXT), discovered))).toEqual(['dds-t root', 'dds-t orders']);
  });

  it("gives each account's secret its own VersionId, root's unchanged", () => {
    const items = [{ instanceId: 'dds-a' }, { instanceId: 'dds-a', accountName: 'orders' }];
    const [root, orders] = planTargets(config(items), parseTrigger({ rotationId: 'plan-2' }, CONTEXT));
    expect(root.versionId).toBe(versionIdFor('manual\nplan-2', 'dds-a'));
    expect(orders.versionId).toBe(versionIdFor('manual\nplan-2', 'dds-a', 'orders'));
    expect(orders.versionId).not.toBe(root.versionId);
    expect(versionIdFor('manual\nplan-2', 'dds-a', 'root')).toBe(root.versionId);
  });
});
