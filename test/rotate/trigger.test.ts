import { describe, expect, it } from 'vitest';
import { needsDiscovery, planTargets, versionIdFor } from '../../functions/shared/targets';
import { TriggerError, parseTrigger } from '../../functions/shared/trigger';
import { loadConfig } from '../../functions/shared/config';
import { createHash } from 'node:crypto';

const REQUEST_ID = '1-6543-abcdef';
const CONTEXT = { requestId: REQUEST_ID };
const TIMER = { triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily', payload: 'awesome-fc' };

describe('triggers', () => {
  it('reads a timer event as an object, a string or a Buffer', () => {
    for (const event of [TIMER, JSON.stringify(TIMER), Buffer.from(JSON.stringify(TIMER))]) {
      expect(parseTrigger(event, CONTEXT)).toEqual({
        kind: 'timer',
        triggerName: 'daily',
        triggerTime: '2026-11-27T03:00:00Z',
        identity: 'timer\ndaily\n2026-11-27T03:00:00Z',
        rotationId: 'daily@2026-11-27T03:00:00Z',
        request: { force: false, dryRun: false },
        warning: 'the timer payload is not a JSON object; running the scheduled rules',
      });
    }
  });

  it('takes the manual fields from a JSON timer payload, keeping the timer identity', () => {
    const trigger = parseTrigger({ ...TIMER, payload: '{"instanceIds":["dds-a"],"force":true,"rotationId":"r-1"}' }, CONTEXT);
    expect(trigger).toMatchObject({ kind: 'timer', identity: 'timer\ndaily\n2026-11-27T03:00:00Z', rotationId: 'r-1', request: { instanceIds: ['dds-a'], force: true } });
    expect(trigger.warning).toBeUndefined();
    expect(parseTrigger({ ...TIMER, payload: '' }, CONTEXT).warning).toBeUndefined();
  });

  it('reads a manual payload; without a rotationId the FC request id identifies it', () => {
    expect(parseTrigger({ instanceIds: ['dds-a', 'dds-a'], force: true, dryRun: true, reason: 'leak' }, CONTEXT)).toEqual({
      kind: 'manual',
      identity: `manual\n${REQUEST_ID}`,
      rotationId: REQUEST_ID,
      request: { instanceIds: ['dds-a'], force: true, dryRun: true, reason: 'leak' },
    });
    expect(parseTrigger({ rotationId: 'change-1' }, CONTEXT)).toMatchObject({ identity: 'manual\nchange-1', rotationId: 'change-1' });
    for (const empty of [{}, '', Buffer.alloc(0), undefined, null]) {
      expect(parseTrigger(empty, CONTEXT)).toMatchObject({ kind: 'manual', request: { force: false, dryRun: false } });
    }
  });

  it('reads "ignoreCooldown" of a forced manual event or timer payload, which must give a reason', () => {
    expect(parseTrigger({ instanceIds: ['dds-a'], force: true, ignoreCooldown: true, reason: 'incident INC-7: rotate again' }, CONTEXT).request).toEqual({
      instanceIds: ['dds-a'],
      force: true,
      dryRun: false,
      reason: 'incident INC-7: rotate again',
      ignoreCooldown: true,
    });
    const payload = JSON.stringify({ force: true, ignoreCooldown: true, reason: 'drill' });
    expect(parseTrigger({ ...TIMER, payload }, CONTEXT).request).toMatchObject({ force: true, ignoreCooldown: true, reason: 'drill' });
    expect(parseTrigger({ force: true, ignoreCooldown: false }, CONTEXT).request).toEqual({ force: true, dryRun: false });
    expect(parseTrigger({ force: true }, CONTEXT).request).not.toHaveProperty('ignoreCooldown');
  });

  it.each([
    [{ force: true, ignoreCooldown: 'yes', reason: 'r' }, /^In the event, "ignoreCooldown" must be true or false/],
    [{ ignoreCooldown: true, reason: 'r' }, /^In the event, "ignoreCooldown" applies to forced rotations only: set "force": true as well/],
    [{ force: true, ignoreCooldown: true }, /^In the event, "ignoreCooldown" needs a "reason": it is logged with the warning/],
    [{ force: true, ignoreCooldown: true, reason: '  ' }, /^In the event, "ignoreCooldown" needs a "reason"/],
    [{ ...TIMER, payload: '{"force":true,"ignoreCooldown":true}' }, /^In the timer payload, "ignoreCooldown" needs a "reason"/],
  ])('refuses %j', (event, message) => {
    expect(() => parseTrigger(event, CONTEXT)).toThrow(TriggerError);
    expect(() => parseTrigger(event, CONTEXT)).toThrow(message);
  });

  it.each([
    ['not json', /^The event is not JSON\. Expected a timer event/],
    [[1, 2], /^The event is a JSON array, not an object/],
    [42, /^The event is a JSON number, not an object/],
    [{ specversion: '1.0', id: 'x', source: 'acs.sas' }, /^The EventBridge event needs "type"/],
    [{ force: 'yes' }, /^In the event, "force" must be true or false/],
    [{ instanceIds: [] }, /^In the event, "instanceIds" must be a non-empty array/],
    [{ instanceIds: ['dds-a', 3] }, /^In the event, "instanceIds" holds a number, not an instance id/],
    [{ rotationId: 'has space' }, /^In the event, "rotationId" must be 1 to 128 printable characters/],
    [{ reason: 'x'.repeat(513) }, /^In the event, "reason" must be a string of at most 512 characters/],
    [{ triggerName: 'daily' }, /^The timer event needs "triggerTime"/],
    [{ ...TIMER, triggerName: '' }, /^The timer event needs "triggerName"/],
    [{ ...TIMER, payload: 3 }, /^The timer event's "payload" must be a string/],
    [{ ...TIMER, payload: '{"force":1}' }, /^In the timer payload, "force" must be true or false/],
    [{ ...TIMER, extra: 1 }, /^The timer event has an unknown field "extra"/],
    [{ ...TIMER, payload: '{"mode":"scheduled"}' }, /^The timer payload has an unknown field "mode"/],
  ])('refuses %j', (event, message) => {
    expect(() => parseTrigger(event, CONTEXT)).toThrow(TriggerError);
    expect(() => parseTrigger(event, CONTEXT)).toThrow(message);
  });
});

describe('planning', () => {
  const config = loadConfig({ ROTATION_TARGETS: JSON.stringify([{ instanceId: 'dds-a' }, { instanceId: 'dds-b' }, { instanceId: 'dds-c' }]) });

  it('derives VersionIds from the trigger identity and the instance, nothing else', () => {
    const expected = `r-${createHash('sha256').update('timer\ndaily\n2026-11-27T03:00:00Z\ndds-a').digest('hex').slice(0, 24)}`;
    expect(versionIdFor('timer\ndaily\n2026-11-27T03:00:00Z', 'dds-a')).toBe(expected);
    const first = planTargets(config, parseTrigger(TIMER, { requestId: 'req-1' }));
    const redelivered = planTargets(config, parseTrigger(TIMER, { requestId: 'req-2' }));
    expect(redelivered).toEqual(first);
    expect(new Set(first.map((t) => t.versionId)).size).toBe(3);
    expect(planTargets(config, parseTrigger({ ...TIMER, triggerTime: '2026-11-28T03:00:00Z' }, { requestId: 'req-1' }))[0].versionId).not.toBe(first[0].versionId);
  });

  it('keeps configuration order and filters by the named instances', () => {
    const planned = planTargets(config, parseTrigger({ instanceIds: ['dds-c', 'dds-a'], force: true }, CONTEXT));
    expect(planned.map((t) => [t.instanceId, t.secretName, t.force])).toEqual([
      ['dds-a', 'mongodb/dds-a/root', true],
      ['dds-c', 'mongodb/dds-c/root', true],
    ]);
  });

  it('adds discovered instances after the configured ones, and looks them up only when needed', () => {
    const tagged = loadConfig({ ROTATION_TARGETS: JSON.stringify([{ instanceId: 'dds-a' }]), ROTATION_TAG: 'rotation=enabled' });
    const discovered = [{ instanceId: 'dds-a', secretName: 'mongodb/dds-a/root', accountName: 'root' as const }, { instanceId: 'dds-t', secretName: 'mongodb/dds-t/root', accountName: 'root' as const }];
    expect(planTargets(tagged, parseTrigger({}, CONTEXT), discovered).map((t) => t.instanceId)).toEqual(['dds-a', 'dds-t']);
    expect(needsDiscovery(tagged, parseTrigger({}, CONTEXT))).toBe(true);
    expect(needsDiscovery(tagged, parseTrigger({ instanceIds: ['dds-a'] }, CONTEXT))).toBe(false);
    expect(needsDiscovery(tagged, parseTrigger({ instanceIds: ['dds-t'] }, CONTEXT))).toBe(true);
    expect(needsDiscovery(config, parseTrigger({}, CONTEXT))).toBe(false);
  });

  it('refuses the whole invocation when it names an instance that is not a target', () => {
    expect(() => planTargets(config, parseTrigger({ instanceIds: ['dds-a', 'dds-x'] }, CONTEXT))).toThrow(
      'Refusing the invocation: "dds-x" is not a rotation target (ROTATION_TARGETS); nothing was changed',
    );
  });
});
