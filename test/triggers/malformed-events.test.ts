/**
 * Malformed events, fuzzed: whatever the shape (random JSON, wrong types, huge strings, missing fields,
 * unknown sources, strangers), the handler refuses with a clear error and sends no request at all. Fast
 * in-process for the many cases; a few through the local FC to see the invocation fail and the instance live on.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { rotationEnv, runRotation } from '../helpers/rotate';
import { fleet, target } from '../rotate/fixture';
import { buildBundle, closeCheckedCloud, deployRotation, invoke, removeBundle, reportOf, rotationRequests } from './deployed';

const RS = 'dds-bp1fuzz0000001';
const SHARDED = 'dds-bp1fuzz0000002';
const REFUSALS = ['InvalidEvent', 'EventSourceNotAllowed', 'InvalidTarget'];

const anyJson = fc.jsonValue({ maxDepth: 3 });
const huge = fc.integer({ min: 1_000, max: 2_000_000 }).map((n) => 'x'.repeat(n));
const notBoolean = anyJson.filter((v) => typeof v !== 'boolean');
const notString = anyJson.filter((v) => typeof v !== 'string');
const notObject = anyJson.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v));
/** A JSON key that no event shape knows. */
const unknownKey = fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !/^(instanceIds|force|dryRun|rotationId|reason|triggerTime|triggerName|payload|specversion|source|__proto__)$/.test(k));
/** Not an instance id: not a string, empty, or too long. */
const badInstanceId = fc.oneof(notString, fc.constant(''), huge);

/** Whole events that are not JSON objects: raw text, bytes, JSON of another type. */
const notAnObject = fc.oneof(
  notObject.filter((v) => v !== null).map((v) => JSON.stringify(v)),
  fc.string({ minLength: 1 }).filter((text) => isMalformedText(text)),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => Buffer.from(bytes)).filter((bytes) => isMalformedText(bytes.toString('utf8'))),
  fc.array(anyJson, { maxLength: 5 }),
);

const manualField = fc.oneof(
  fc.record({ key: fc.constantFrom('force', 'dryRun'), value: notBoolean }),
  fc.record({ key: fc.constant('instanceIds'), value: fc.oneof(notObject.filter((v) => !Array.isArray(v) && v !== null), fc.constant([]), fc.array(badInstanceId, { minLength: 1, maxLength: 3 })) }),
  fc.record({ key: fc.constant('rotationId'), value: fc.oneof(notString, fc.constant(''), fc.constant('has space'), huge) }),
  fc.record({ key: fc.constant('reason'), value: fc.oneof(notString, huge) }),
  fc.record({ key: unknownKey, value: anyJson }),
);
const badManual = manualField.map(({ key, value }) => ({ instanceIds: [RS], force: true, [key]: value }));

const TIMER = { triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily', payload: '' };
const badTimer = fc.oneof(
  fc.record({ key: fc.constant('triggerName'), value: fc.oneof(notString, fc.constant(''), huge) }),
  fc.record({ key: fc.constant('triggerTime'), value: fc.oneof(notString, fc.constantFrom('', 'yesterday', '27/11/2026 03:00')) }),
  fc.record({ key: fc.constant('payload'), value: notString.filter((v) => v !== null) }),
  badManual.map((request) => ({ key: 'payload', value: JSON.stringify(request) })),
  fc.record({ key: unknownKey, value: anyJson }),
).map(({ key, value }) => ({ ...TIMER, [key]: value }));

const EVENT = { specversion: '1.0', id: 'e-1', source: 'acs.actiontrail', type: 'actiontrail:ActionTrail:ApiCall', data: { instanceId: RS } };
const badAttribute = fc.oneof(notString, fc.constant(''), huge, fc.constant('line\nbreak'));
const badEvent = fc.oneof(
  fc.record({ key: fc.constant('specversion'), value: anyJson.filter((v) => v !== '1.0') }),
  fc.record({ key: fc.constantFrom('id', 'source', 'type'), value: badAttribute }),
  fc.record({ key: fc.constantFrom('time', 'subject'), value: notString.filter((v) => v !== null) }),
  fc.record({ key: fc.constant('data'), value: notObject.filter((v) => v !== null) }),
  fc.record({ key: fc.constant('data'), value: fc.record({ instanceIds: fc.oneof(notObject.filter((v) => !Array.isArray(v) && v !== null), fc.constant([]), fc.array(badInstanceId, { minLength: 1, maxLength: 3 })) }) }),
  fc.record({ key: fc.constant('data'), value: fc.record({ instanceId: badInstanceId.filter((v) => v !== null) }) }),
  fc.record({ key: fc.constant('data'), value: fc.record({ requestParameters: fc.oneof(notObject.filter((v) => v !== null), fc.record({ DBInstanceId: badInstanceId.filter((v) => v !== null) })) }) }),
  fc.record({ key: fc.constant('data'), value: fc.record({ resourceName: fc.oneof(badInstanceId.filter((v) => v !== null), fc.constant('acs:dds:cn-hangzhou:1:dbinstance/')) }) }),
).map(({ key, value }) => ({ ...EVENT, [key]: value }));
const missingAttribute = fc.constantFrom('specversion', 'id', 'type').map((key) => Object.fromEntries(Object.entries(EVENT).filter(([k]) => k !== key)));

/** Well-formed, but not to be acted on: an unlisted source, or instances that are not targets. */
const instanceName = fc.stringMatching(/^dds-[a-z0-9]{1,20}$/).filter((id) => id !== RS && id !== SHARDED);
const refusedEvent = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9.]{0,30}$/).filter((s) => s !== 'acs.actiontrail' && s !== 'acs.sas').map((source) => ({ ...EVENT, source })),
  instanceName.map((id) => ({ ...EVENT, data: { instanceIds: [RS, id] } })),
  instanceName.map((id) => ({ instanceIds: [id], force: true })),
  instanceName.map((id) => ({ ...TIMER, payload: JSON.stringify({ instanceIds: [id] }) })),
);

const malformed = fc.oneof(notAnObject, badManual, badTimer, badEvent, missingAttribute, refusedEvent);

/** Text that decodes to no event at all: not blank (blank means `{}`), and not JSON of an object or null. */
function isMalformedText(text: string): boolean {
  if (text.trim() === '') return false;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value !== 'object' || Array.isArray(value);
  } catch {
    return true;
  }
}

describe('malformed events', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({ port: 0, fixture: fleet(target(RS), target(SHARDED, { type: 'sharding' })) });
  });

  afterAll(async () => {
    await cloud?.close();
  });

  it('are refused with a clear, bounded error and no request, whatever their shape', async () => {
    const env = rotationEnv(cloud, [RS, SHARDED].map((instanceId) => ({ instanceId })));
    await fc.assert(
      fc.asyncProperty(malformed, fc.constantFrom('object', 'text', 'buffer'), async (event, form) => {
        const delivered = form === 'object' || typeof event === 'string' || Buffer.isBuffer(event) ? event : form === 'text' ? JSON.stringify(event) : Buffer.from(JSON.stringify(event));
        const run = await runRotation(cloud, { env, event: delivered });

        expect(run.report).toBeUndefined();
        expect(run.error).toBeInstanceOf(Error);
        expect(REFUSALS).toContain(run.error?.code);
        expect(run.error?.message.length).toBeLessThan(1_000);
        expect(run.error?.message).toMatch(/^(The |In |Refusing )/);
        expect(run.logs.find((entry) => entry.msg === 'invocation refused; nothing was changed')).toHaveLength(1);
        expect(cloud.truth.requests).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('malformed events through the local FC', () => {
  let codeRoot: string;
  let cloud: LocalCloud;

  beforeAll(async () => {
    codeRoot = await buildBundle();
  });

  afterAll(() => removeBundle(codeRoot));

  afterEach(async () => {
    await closeCheckedCloud(cloud);
  });

  it('fail the invocation with a clear error; the instance lives on and serves the next event', async () => {
    cloud = await startCloud({ port: 0, fixture: fleet(target(RS)) });
    deployRotation(cloud, codeRoot, { targets: [RS] });
    const events: Array<[Buffer | object, string, RegExp]> = [
      [Buffer.from('{"instanceIds": ['), 'TriggerError', /^The event is not JSON\./],
      [Buffer.from([0xff, 0xfe, 0x00, 0x7b]), 'TriggerError', /^The event is not JSON\./],
      [[RS], 'TriggerError', /^The event is a JSON array, not an object\./],
      [{ instanceIds: ['x'.repeat(3_000_000)] }, 'TriggerError', /^In the event, "instanceIds" holds "x{80}…", not an instance id\./],
      [{ ...EVENT, id: undefined }, 'TriggerError', /^The EventBridge event needs "id"/],
      [{ ...EVENT, data: 'dds-bp1fuzz0000001' }, 'TriggerError', /^The EventBridge event's "data" must be a JSON object, not a string\./],
      [{ ...EVENT, source: 'evil.source' }, 'EventSourceError', /^Refusing the event: its source "evil\.source" is not in EVENT_SOURCES/],
    ];
    for (const [event, errorType, message] of events) {
      const invocation = await invoke(cloud, event);
      expect(invocation.mode === 'sync' && invocation.failure).toEqual({ errorType, errorMessage: expect.stringMatching(message) });
    }
    expect(rotationRequests(cloud)).toEqual([]);

    const report = reportOf(await invoke(cloud, { instanceIds: [RS], force: true }));
    expect(report.results).toMatchObject([{ instanceId: RS, outcome: 'rotated' }]);
    const runs = cloud.fc.invocations;
    expect(runs.map((run) => run.status)).toEqual([...events.map(() => 'failed'), 'succeeded']);
    expect(new Set(runs.map((run) => run.instanceId)).size).toBe(1);
  });
});
