/** Reading EventBridge CloudEvents (docs/design.md §4): identity, the instances named, and what is refused. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planTargets } from '../../functions/shared/targets';
import { summarizeTrigger } from '../../functions/shared/trigger';
import { EventScopeError, EventSourceError, TriggerError, parseTrigger } from '../../functions/shared/trigger';
import { loadConfig } from '../../functions/shared/config';

const CONTEXT = { requestId: 'fc-request-1' };
const POLICY = { eventSources: ['acs.actiontrail', 'acs.sas'] };
const EVENT = { specversion: '1.0', id: 'evt-1', source: 'acs.sas', type: 'sas:Incident', data: { instanceId: 'dds-a' } };
const event = (data: unknown, overrides: object = {}) => ({ ...EVENT, data, ...overrides });

describe('EventBridge events', () => {
  it('reads a CloudEvent as an object, a string or a Buffer: forced, identified by source and id', () => {
    for (const form of [EVENT, JSON.stringify(EVENT), Buffer.from(JSON.stringify(EVENT))]) {
      expect(parseTrigger(form, CONTEXT, POLICY)).toEqual({
        kind: 'event',
        source: 'acs.sas',
        id: 'evt-1',
        type: 'sas:Incident',
        identity: 'event\nacs.sas\nevt-1',
        rotationId: 'evt-1',
        request: { force: true, dryRun: false, instanceIds: ['dds-a'] },
      });
    }
  });

  it('reads the example ActionTrail event, with its EventBridge extension attributes', () => {
    const trigger = parseTrigger(readFileSync(new URL('../../events/incident-actiontrail.json', import.meta.url)), CONTEXT, POLICY);
    expect(summarizeTrigger(trigger)).toEqual({
      kind: 'event',
      source: 'acs.actiontrail',
      id: '7b1f3c2e-5d4a-4e8f-9c6b-2a1d0e9f8c7b',
      type: 'actiontrail:ActionTrail:ApiCall',
      instanceIds: ['dds-bp17d3a9c5e1f2b64'],
    });
  });

  it.each([
    [{ instanceIds: ['dds-a', 'dds-b', 'dds-a'] }, ['dds-a', 'dds-b']],
    [{ instanceId: 'dds-a' }, ['dds-a']],
    [{ requestParameters: { DBInstanceId: 'dds-a', RegionId: 'cn-hangzhou' } }, ['dds-a']],
    [{ resourceName: 'dds-a' }, ['dds-a']],
    [{ resourceName: 'acs:dds:cn-hangzhou:1234567890123456:dbinstance/dds-a' }, ['dds-a']],
    [{ instanceIds: ['dds-a'], instanceId: 'dds-b', requestParameters: { DBInstanceId: 'dds-c' }, resourceName: 'dds-a' }, ['dds-a', 'dds-b', 'dds-c']],
    [{ referencedResources: { 'ACS::Dds::DBInstance': ['dds-a'] } }, ['dds-a']],
    [{ referencedResources: { 'ACS::MongoDB::Instance': ['dds-a', 'dds-b'], 'ACS::ECS::Instance': ['i-8vb0smn1lf6g77md0001'], 'ACS::VPC::VSwitch': [] } }, ['dds-a', 'dds-b']],
    [{ referencedResources: { Unknown: ['dds-b', 7, null] }, requestParameters: { DBInstanceId: 'dds-a' } }, ['dds-b', 'dds-a']],
  ])('takes the instances from %j', (data, instanceIds) => {
    expect(parseTrigger(event(data), CONTEXT, POLICY).request.instanceIds).toEqual(instanceIds);
  });

  it('refuses an event that names no instance (incidents fail closed), unless its data says "allTargets": true', () => {
    const unnamed = [{}, { requestParameters: { RegionId: 'cn-hangzhou' } }, { referencedResources: { 'ACS::ECS::Instance': ['i-8vb0smn1lf6g77md0001'] } }, null, undefined, { allTargets: false }];
    for (const data of unnamed) {
      expect(() => parseTrigger(event(data), CONTEXT, POLICY)).toThrow(EventScopeError);
    }
    expect(() => parseTrigger(event({}), CONTEXT, POLICY)).toThrow(
      'Refusing the event: it names no instance (in data: "instanceIds", "instanceId", a dds- id in "referencedResources", "requestParameters.DBInstanceId" or "resourceName"), ' +
        'and incidents fail closed; to rotate every target, the event must say "allTargets": true in its data. Nothing was changed',
    );
    expect(parseTrigger(event({ allTargets: true }), CONTEXT, POLICY).request).toEqual({ force: true, dryRun: false });
    expect(() => parseTrigger(event({ allTargets: true, instanceId: 'dds-a' }), CONTEXT, POLICY)).toThrow(
      'Refusing the event: it names instances and also sets "allTargets": true; name the instances, or set "allTargets": true alone. Nothing was changed',
    );
  });

  it('skips an ActionTrail record of a failed call: it asks for no instance and says why, whatever else it names', () => {
    const data = { eventName: 'ResetAccountPassword', errorCode: 'IncorrectDBInstanceState', errorMessage: 'Current DB instance state does not support this operation.', referencedResources: { 'ACS::Dds::DBInstance': ['dds-a'] } };
    const trigger = parseTrigger(event(data), CONTEXT, POLICY);
    const why = 'skipping the event: it records a call "ResetAccountPassword" that failed (errorCode "IncorrectDBInstanceState") and so changed nothing; nothing is rotated';
    expect(trigger).toMatchObject({ kind: 'event', skip: why, warning: why, request: { force: true, dryRun: false, instanceIds: [] } });
    expect(parseTrigger(event({ errorCode: 'Forbidden.RAM' }), CONTEXT, POLICY)).toMatchObject({ skip: expect.stringContaining('a call that failed (errorCode "Forbidden.RAM")') });
    for (const succeeded of [{ errorCode: '', instanceId: 'dds-a' }, { errorCode: null, instanceId: 'dds-a' }]) {
      expect(parseTrigger(event(succeeded), CONTEXT, POLICY)).not.toHaveProperty('skip');
    }
    expect(() => parseTrigger(event({ errorCode: 403, instanceId: 'dds-a' }), CONTEXT, POLICY)).toThrow(`In the EventBridge event's data, "errorCode" must be a string`);
    expect(() => parseTrigger(event({ errorCode: 'Forbidden.RAM' }, { source: 'custom.x' }), CONTEXT, POLICY)).toThrow(EventSourceError);
  });

  it("takes the data's reason for the report, never a dry run, a choice not to force, or one to ignore the cooldown", () => {
    const trigger = parseTrigger(event({ instanceId: 'dds-a', reason: 'leaked key', dryRun: true, force: false, ignoreCooldown: true }), CONTEXT, POLICY);
    expect(trigger.request).toEqual({ force: true, dryRun: false, reason: 'leaked key', instanceIds: ['dds-a'] });
  });

  it('gives a redelivered event the same VersionIds, and the same id from another source other ones', () => {
    const config = loadConfig({ ROTATION_TARGETS: JSON.stringify([{ instanceId: 'dds-a' }]), EVENT_SOURCES: 'acs.sas,custom.soc' });
    const versionOf = (e: object, requestId: string) => planTargets(config, parseTrigger(e, { requestId }, config))[0].versionId;
    expect(versionOf(EVENT, 'req-1')).toBe(versionOf(EVENT, 'req-2'));
    expect(versionOf({ ...EVENT, source: 'custom.soc' }, 'req-1')).not.toBe(versionOf(EVENT, 'req-1'));
    expect(versionOf({ ...EVENT, id: 'evt-2' }, 'req-1')).not.toBe(versionOf(EVENT, 'req-1'));
  });

  it('refuses a source that is not listed; by default none is', () => {
    expect(() => parseTrigger(event({}, { source: 'custom.security' }), CONTEXT, POLICY)).toThrow(EventSourceError);
    expect(() => parseTrigger(event({}, { source: 'custom.security' }), CONTEXT, POLICY)).toThrow(
      'Refusing the event: its source "custom.security" is not in EVENT_SOURCES (acs.actiontrail,acs.sas); add it there to let it force rotations. Nothing was changed',
    );
    expect(() => parseTrigger(EVENT, CONTEXT)).toThrow('its source "acs.sas" is not in EVENT_SOURCES (nothing)');
  });

  it.each([
    [{ ...EVENT, specversion: '0.3' }, /^The EventBridge event needs "specversion": "1\.0"\. Expected .* or an EventBridge CloudEvent/],
    [{ source: 'acs.sas', id: 'x', type: 't' }, /^The EventBridge event needs "specversion": "1\.0"/],
    [{ ...EVENT, id: undefined }, /^The EventBridge event needs "id", a string of 1 to 256 printable characters/],
    [{ ...EVENT, id: 42 }, /^The EventBridge event needs "id"/],
    [{ ...EVENT, source: '' }, /^The EventBridge event needs "source"/],
    [{ ...EVENT, type: 'a\nb' }, /^The EventBridge event needs "type"/],
    [{ ...EVENT, id: 'x'.repeat(257) }, /^The EventBridge event needs "id"/],
    [{ ...EVENT, time: 1764230130 }, /^The EventBridge event's "time" must be a string/],
    [event('dds-a'), /^The EventBridge event's "data" must be a JSON object, not a string/],
    [event([]), /^The EventBridge event's "data" must be a JSON object, not an array/],
    [event({ instanceIds: 'dds-a' }), /^In the EventBridge event's data, "instanceIds" must be a non-empty array/],
    [event({ instanceIds: ['dds-a', null] }), /^In the EventBridge event's data, "instanceIds" holds null, not an instance id/],
    [event({ instanceId: ['dds-a'] }), /^In the EventBridge event's data, "instanceId" is an array, not an instance id/],
    [event({ requestParameters: 'dds-a' }), /^In the EventBridge event's data, "requestParameters" must be an object/],
    [event({ requestParameters: { DBInstanceId: 7 } }), /^In the EventBridge event's data, "requestParameters.DBInstanceId" is a number, not an instance id/],
    [event({ resourceName: 'acs:dds:cn-hangzhou:1:dbinstance/' }), /^In the EventBridge event's data, "resourceName" is "", not an instance id/],
    [event({ instanceId: 'x'.repeat(65) }), /^In the EventBridge event's data, "instanceId" is "x{80}|x{65}", not an instance id/],
    [event({ referencedResources: ['dds-a'] }), /^In the EventBridge event's data, "referencedResources" must be an object of resource types to lists of ids/],
    [event({ referencedResources: { 'ACS::Dds::DBInstance': 'dds-a' } }), /^In the EventBridge event's data, "referencedResources" lists "ACS::Dds::DBInstance" as a string, not a list of ids/],
    [event({ referencedResources: { 'ACS::Dds::DBInstance': [`dds-${'x'.repeat(61)}`] } }), /^In the EventBridge event's data, "referencedResources" is "dds-x+", not an instance id/],
    [event({ instanceId: 'dds-a', allTargets: 'yes' }), /^In the EventBridge event's data, "allTargets" must be true or false/],
  ])('refuses %j', (body, message) => {
    expect(() => parseTrigger(body, CONTEXT, POLICY)).toThrow(TriggerError);
    expect(() => parseTrigger(body, CONTEXT, POLICY)).toThrow(message);
  });
});
