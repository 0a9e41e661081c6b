/**
 * Hostile input, fuzzed with fast-check against the function in-process (one local cloud per suite): malformed
 * events and manual payloads, and bad values of every configuration variable. Each is refused with an Error whose
 * message says what was expected, before any call to the cloud (so nothing is written), with no unhandled
 * rejection, and with a message on one line. Values that happen to be valid run as a dry run: they may read,
 * never write.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { CONFIG_VARIABLES, ConfigError, type ConfigVariable } from '../../functions/shared/config';
import { PlanError } from '../../functions/shared/targets';
import { RotationFailedError } from '../../functions/rotate/report';
import { EventSourceError, TriggerError } from '../../functions/shared/trigger';
import { type RotationRun, rotationEnv, runRotation } from '../helpers/rotate';
import { useSecrecyWatch } from '../helpers/secrecy';
import { fleet, secretName, target } from '../rotate/fixture';

const RS = 'dds-rs0fuzzinput1';
const SHARDED = 'dds-sh0fuzzinput1';
const TARGETS = [RS, SHARDED];
const RUNS = 300;

const REQUEST_FIELDS = ['instanceIds', 'force', 'dryRun', 'rotationId', 'reason'];
const TIMER_FIELDS = ['triggerTime', 'triggerName', 'payload'];
const EVENT_FIELDS = ['specversion', 'id', 'source', 'type', 'time', 'subject', 'data', 'datacontenttype', 'dataschema'];

// Values

const notBoolean = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.boolean()), fc.object({ maxDepth: 1 }));
const notString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));
/** Strings with anything in them: controls, quotes, line separators, lone surrogates, ANSI escapes. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\n', '\r\n', '"', '\\', '\u2028', '\u2029', '\u0085', '\u001b[31m', '\ud800', '\u0000'),
);
const huge = fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'x'.repeat(n));
/** Looks like an instance id, but no configured one. */
const strangerId = fc.stringMatching(/^dds-[a-z0-9]{8,16}$/).filter((id) => !TARGETS.includes(id));
const unknownKey = (known: string[]) => fc.string({ minLength: 1, maxLength: 20 }).filter((key) => !known.includes(key) && key !== '__proto__');

/** Not a list of configured instance ids: not a list, empty, too long, holding a non-id, or naming strangers. */
const badInstanceIds = fc.oneof(
  notString.filter((v) => !Array.isArray(v)),
  fc.constant([]),
  fc.array(fc.constant(RS), { minLength: 1_001, maxLength: 1_001 }),
  fc.tuple(fc.constantFrom(...TARGETS), fc.oneof(notString, fc.constant(''), fc.string({ minLength: 65, maxLength: 80 }))).map(([id, bad]) => [id, bad]),
  fc.array(strangerId, { minLength: 1, maxLength: 3 }),
);

/** A valid manual payload with one field made bad (or a field the payload does not have). */
const badManual = fc.oneof(
  fc.record({ force: notBoolean }),
  fc.record({ dryRun: notBoolean }),
  fc.record({ instanceIds: badInstanceIds, force: fc.boolean() }),
  fc.record({ rotationId: fc.oneof(notString, fc.constant(''), fc.string({ minLength: 129, maxLength: 140 }), hostileString.map((s) => `id ${s}`)) }),
  fc.record({ reason: fc.oneof(notString, fc.string({ minLength: 513, maxLength: 600 }), huge) }),
  fc.tuple(unknownKey([...REQUEST_FIELDS, ...TIMER_FIELDS, ...EVENT_FIELDS]), fc.jsonValue({ maxDepth: 1 })).map(([key, value]) => ({ force: true, [key]: value })),
);

const TIME = '2026-11-27T03:00:00Z';
const badTimer = fc.oneof(
  fc.record({ triggerName: fc.oneof(notString, fc.constant(''), fc.string({ minLength: 129, maxLength: 140 })), triggerTime: fc.constant(TIME), payload: fc.constant('') }),
  fc.record({ triggerName: fc.constant('daily'), triggerTime: fc.oneof(notString, fc.string().filter((s) => Number.isNaN(Date.parse(s)))), payload: fc.constant('') }),
  fc.record({ triggerName: fc.constant('daily'), triggerTime: fc.constant(TIME), payload: notString }),
  fc.record({ triggerName: fc.constant('daily'), triggerTime: fc.constant(TIME), payload: badManual.map((manual) => JSON.stringify(manual)) }),
  unknownKey([...TIMER_FIELDS, ...EVENT_FIELDS]).map((key) => ({ triggerName: 'daily', triggerTime: TIME, payload: '', [key]: 1 })),
);

const goodEvent = { specversion: '1.0', id: 'evt-fuzz-1', source: 'acs.actiontrail', type: 'actiontrail:ActionTrail:ApiCall', time: TIME, data: { instanceIds: [RS] } };
const badAttribute = fc.oneof(notString, fc.constant(''), fc.string({ minLength: 257, maxLength: 300 }), hostileString.filter((s) => /[\u0000-\u001f\u007f]/.test(s)));
const badCloudEvent = fc.oneof(
  fc.oneof(notString, fc.constant('0.3'), fc.constant('')).map((specversion) => ({ ...goodEvent, specversion })),
  fc.tuple(fc.constantFrom('id', 'source', 'type'), badAttribute).map(([name, value]) => ({ ...goodEvent, [name]: value })),
  fc.tuple(fc.constantFrom('time', 'subject'), notString).map(([name, value]) => ({ ...goodEvent, [name]: value })),
  fc.oneof(fc.string(), fc.integer(), fc.array(fc.string(), { maxLength: 2 })).map((data) => ({ ...goodEvent, data })),
  badInstanceIds.map((instanceIds) => ({ ...goodEvent, data: { instanceIds } })),
  fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 })).map((requestParameters) => ({ ...goodEvent, data: { requestParameters } })),
  fc.stringMatching(/^[a-z][a-z0-9.]{2,20}$/).filter((s) => s !== 'acs.actiontrail' && s !== 'acs.sas').map((source) => ({ ...goodEvent, source })),
);

/** Not a JSON object at all: text that is not JSON, or JSON of another kind. */
const notAnObject = fc.oneof(
  fc.string({ minLength: 1 }).filter((s) => s.trim() !== '').map((s) => `x${s}`),
  // (JSON null means no event: the scheduled rules for every target.)
  fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.array(fc.jsonValue({ maxDepth: 1 })), fc.string()).map((v) => JSON.stringify(v)).filter((json) => json !== 'null'),
);

/** The forms FC hands a handler an event in. */
const delivered = (event: fc.Arbitrary<unknown>) =>
  fc.tuple(event, fc.constantFrom('object', 'string', 'buffer')).map(([value, form]) => {
    if (typeof value === 'string') return form === 'buffer' ? Buffer.from(value) : value;
    const json = JSON.stringify(value);
    return form === 'object' ? value : form === 'string' ? json : Buffer.from(json);
  });

const EXPECTATION = /Expected a timer event|EVENT_SOURCES|not a rotation target|ROTATION_TARGETS/;

/**
 * The refusals the README documents, by code: a bad configuration, a malformed event, a source not in
 * EVENT_SOURCES, an instance that is not a target. Anything else thrown (a TypeError, a RangeError) is a crash.
 */
const REFUSALS = { InvalidConfiguration: ConfigError, InvalidEvent: TriggerError, EventSourceNotAllowed: EventSourceError, InvalidTarget: PlanError } as const;

/** The refusal's code if `error` is one of the documented refusals (its class and its code agree); else undefined. */
function documentedRefusal(error: unknown): keyof typeof REFUSALS | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !(code in REFUSALS)) return undefined;
  return error instanceof REFUSALS[code as keyof typeof REFUSALS] ? (code as keyof typeof REFUSALS) : undefined;
}

/** What a crash looks like in a message, without the stack (which names no secret either, but is long). */
const crash = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

describe('what passes as a refusal', () => {
  it('only the documented refusals, each of its own class: a TypeError or a look-alike code is a crash', () => {
    expect(documentedRefusal(new ConfigError('PASSWORD_LENGTH', 'must be from 8 to 32, got 99', '32'))).toBe('InvalidConfiguration');
    expect(documentedRefusal(new TriggerError('not JSON'))).toBe('InvalidEvent');
    expect(documentedRefusal(new EventSourceError('custom.x', ['acs.sas']))).toBe('EventSourceNotAllowed');
    expect(documentedRefusal(new PlanError('dds-x is not a rotation target'))).toBe('InvalidTarget');
    expect(documentedRefusal(new TypeError("Cannot read properties of undefined (reading 'map')"))).toBeUndefined();
    expect(documentedRefusal(Object.assign(new Error('looks like one'), { code: 'InvalidEvent' }))).toBeUndefined();
    expect(documentedRefusal(undefined)).toBeUndefined();
  });
});
const ONE_LINE = /^[^\n\r\u2028\u2029]*$/;

describe('hostile input is refused before any call', () => {
  const watch = useSecrecyWatch();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  let cloud: LocalCloud;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    // Not due: an event that happens to be valid and not forced writes nothing either.
    const fresh = { age: '-2d' };
    cloud = await watch.start({ fixture: fleet(target(RS, { password: 'Old#FuzzInput-Pw1', ...fresh }), target(SHARDED, { type: 'sharding', password: 'Old#FuzzInput-Pw2', ...fresh })) });
  });

  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
    expect(cloud.truth.writeRequests()).toEqual([]);
    expect(cloud.truth.violations).toEqual([]);
  });

  const env = () => rotationEnv(cloud, TARGETS.map((instanceId) => ({ instanceId, secretName: secretName(instanceId) })));

  async function refused(run: RotationRun, label: string): Promise<Error & { code?: string }> {
    watch.recordRun(label, run);
    expect(run.report).toBeUndefined();
    expect(run.error).toBeInstanceOf(Error);
    return run.error!;
  }

  it('malformed events, timer events, CloudEvents and manual payloads: a clear refusal, no call at all', async () => {
    await fc.assert(
      fc.asyncProperty(delivered(fc.oneof(badManual, badTimer, badCloudEvent, notAnObject)), async (event) => {
        const calls = cloud.truth.requests.length;
        const error = await refused(await runRotation(cloud, { env: env(), event }), 'malformed event');
        expect(documentedRefusal(error), crash(error)).toBeDefined();
        expect(['InvalidEvent', 'EventSourceNotAllowed', 'InvalidTarget']).toContain(error.code);
        expect(error.message).toMatch(EXPECTATION);
        expect(error.message).toMatch(ONE_LINE);
        expect(cloud.truth.requests).toHaveLength(calls);
      }),
      { numRuns: RUNS },
    );
  });

  it('every configuration variable with a bad value: refused, naming the variable and an example, before any call', async () => {
    const badValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), hostileString, huge, fc.integer({ min: -1e9, max: 1e12 }).map(String));
    // Endpoints and the CA file are tried with values that cannot be valid: a valid one would be dialled or read.
    const fuzzed = CONFIG_VARIABLES.filter((name) => !/_ENDPOINT$|_CA_FILE$/.test(name));
    const badEndpoint = fc.oneof(
      fc.string({ minLength: 1, maxLength: 30 }).filter((s) => /[^A-Za-z0-9.:\-\s]/.test(s.trim()) && !s.includes('://')),
      fc.constantFrom('ftp://mongodb.example.com', 'https://user:S3cret-Pw@kms.example.com', 'http://kms.example.com/path', 'http://[::1', 'https://kms.example.com?x=1'),
    );
    const cases = fc.oneof(
      fc.tuple(fc.constantFrom(...fuzzed), badValue),
      fc.tuple(fc.constantFrom<ConfigVariable>('DDS_ENDPOINT', 'KMS_ENDPOINT', 'ROTATION_FC_ENDPOINT'), badEndpoint),
      fc.tuple(fc.constant<ConfigVariable>('VERIFY_TLS_CA_FILE'), fc.string({ minLength: 1 }).filter((s) => s.trim() !== '')),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ([name, value]) => {
        const calls = cloud.truth.requests.length;
        const writes = cloud.truth.writeRequests().length;
        const run = await runRotation(cloud, { env: { ...env(), [name]: value }, event: { dryRun: true } });
        watch.recordRun(`config ${name}`, run);
        if (run.error?.code === 'InvalidConfiguration') {
          expect(run.error).toBeInstanceOf(ConfigError);
          expect(run.error.message.startsWith(`${name} `)).toBe(true);
          expect(run.error.message).toContain(`for example ${name}=`);
          expect(run.error.message).toMatch(ONE_LINE);
          expect(run.error.message).not.toContain('S3cret-Pw');
          expect(cloud.truth.requests).toHaveLength(calls);
        } else {
          // A value that happens to be valid (a number in range, "true", a template with {instanceId}) runs dry: it
          // ends with a report, or with the documented failure naming the failed targets (a secret the template does
          // not name, say), each with the service's or the protocol's code. A crash inside a target comes out as
          // UnknownError; one outside, as an error with no report.
          expect(run.report, crash(run.error)).toBeDefined();
          if (run.error) expect(run.error, crash(run.error)).toBeInstanceOf(RotationFailedError);
          for (const result of run.report!.results) expect(result.error?.code, result.error?.message).not.toBe('UnknownError');
          expect(cloud.truth.writeRequests()).toHaveLength(writes);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
