/**
 * Strings from outside (reasons, timer names, event ids, instance ids, what the cloud answers) cannot forge or
 * break a log line: every write of the function's logger is exactly one JSON object and one newline, with no
 * raw character that some reader takes for a line break or a terminal command, and parsing the line gives the
 * original string back. In-process through every path such a string takes, then through the local FC, whose
 * captured stdout is what SLS would receive.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { Logger, MAX_STRING_LENGTH } from '../../functions/shared/logger';
import { LogCapture, rotationEnv, runRotation } from '../helpers/rotate';
import { useSecrecyWatch } from '../helpers/secrecy';
import { fleet, secretName, target } from '../rotate/fixture';
import { buildBundle, deployRotation, FUNCTION_NAME, invoke, removeBundle } from '../triggers/deployed';

const RS = 'dds-rs0loginject01';
const TIME = '2026-11-27T03:00:00Z';

const CASES: Array<[string, string]> = [
  ['a newline', 'line\nbreak'],
  ['a carriage return', 'carriage\rreturn'],
  ['a forged line after CR LF', 'crlf\r\n{"level":"error","msg":"forged"}'],
  ['quotes and backslashes', 'quote"and\\backslash'],
  ['U+2028 and U+2029', 'line\u2028separator\u2029paragraph'],
  ['NEL (U+0085)', 'next\u0085line'],
  ['ANSI and C1 CSI escapes', 'ansi \u001b[31mred\u001b[0m \u009b2J'],
  ['BEL, NUL and DEL', 'bell\u0007nul\u0000del\u007f'],
  ['a lone surrogate', 'lone \ud800 surrogate'],
  ['a closed object and a forged one', '"}\n{"time":"2026-11-27T03:00:00Z","level":"info","msg":"rotation finished"}'],
];
const HOSTILE = CASES.map(([, value]) => value);
/** Characters no log line may carry raw. */
const RAW_HAZARD = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Every write of the logger as it arrived, not split into lines. */
class RawSink extends LogCapture {
  readonly writes: string[] = [];
  override write(text: string): void {
    this.writes.push(text);
    super.write(text);
  }
}

/** Each write is one line holding one JSON object; returns the objects. */
function expectOneObjectPerLine(writes: string[]): Array<Record<string, unknown>> {
  return writes.map((text) => {
    expect(text.endsWith('\n')).toBe(true);
    const line = text.slice(0, -1);
    expect(line.includes('\n')).toBe(false);
    expect(RAW_HAZARD.test(line), `raw control or separator in ${JSON.stringify(line)}`).toBe(false);
    const entry: unknown = JSON.parse(line);
    expect(typeof entry === 'object' && entry !== null && !Array.isArray(entry)).toBe(true);
    return entry as Record<string, unknown>;
  });
}

/** Whether any string anywhere in the entries equals or contains `text`. */
function holds(entries: unknown[], text: string): boolean {
  const seen = (value: unknown): boolean =>
    typeof value === 'string' ? value.includes(text) : typeof value === 'object' && value !== null ? Object.values(value).some(seen) : false;
  return entries.some(seen);
}

describe('log lines cannot be forged or broken', () => {
  const watch = useSecrecyWatch();
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await watch.start({ fixture: fleet(target(RS, { password: 'Old#LogInject-Pw1', tags: { rotation: 'enabled' } })) });
  });

  // Every run here is a dry run (DRY_RUN=true in-process and on the deployed function): it may read, never write.
  afterEach(() => {
    expect(cloud.truth.writeRequests().map((r) => r.action)).toEqual([]);
  });
  afterAll(() => {
    expect(cloud.truth.requests.filter((r) => r.product !== 'fc').length, 'the dry runs reached the cloud').toBeGreaterThan(0);
  });

  async function logsOf(event: unknown, env: Record<string, string> = {}): Promise<Array<Record<string, unknown>>> {
    const sink = new RawSink();
    const base = rotationEnv(cloud, [{ instanceId: RS, secretName: secretName(RS) }], { DRY_RUN: 'true', ...env });
    const run = await runRotation(cloud, { env: base, event, logs: sink });
    watch.recordRun('log injection', run);
    watch.record('log injection raw', ...sink.writes);
    expect(sink.writes.length).toBeGreaterThan(0);
    return expectOneObjectPerLine(sink.writes);
  }

  for (const [what, hostile] of CASES) {
    it(`gives back a string with ${what} from a reason, a timer name and an event, on lines of their own`, async () => {
      expect(holds(await logsOf({ reason: hostile, force: true }), hostile)).toBe(true);
      expect(holds(await logsOf({ triggerName: hostile, triggerTime: TIME, payload: JSON.stringify({ reason: hostile }) }), hostile)).toBe(true);
      const event = { specversion: '1.0', id: `evt-${hostile}`, source: 'acs.sas', type: 'sas:Alert', data: { reason: hostile, instanceIds: [RS] } };
      const entries = await logsOf(event);
      // An id with control characters is refused (the refusal is logged); one without is the rotation id.
      if (!/[\u0000-\u001f\u007f]/.test(hostile)) expect(holds(entries, `evt-${hostile}`)).toBe(true);
      await logsOf({ instanceIds: [`dds-${hostile}`] });
    });
  }

  it('keeps lines whole when the cloud itself answers with hostile instance ids (tag discovery)', async () => {
    const fault = cloud.faults.corrupt({
      action: 'DescribeDBInstances',
      times: Infinity,
      mutate: (body) => {
        const listed = (body.DBInstances as { DBInstance: Array<Record<string, unknown>> }).DBInstance;
        for (const [i, hostile] of HOSTILE.entries()) listed.push({ ...listed[0], DBInstanceId: `dds-${i}-${hostile}` });
        return body;
      },
    });
    try {
      const entries = await logsOf({}, { ROTATION_TAG: 'rotation=enabled' });
      expect(holds(entries, `dds-2-${HOSTILE[2]}`)).toBe(true);
    } finally {
      fault.remove();
    }
  });

  it('cuts a huge string, saying how much was left out, and never cuts a secret in two', () => {
    const sink = new RawSink();
    const log = Logger.create({ sink });
    const secret = 'Kept#Secret-Pw-0123456789';
    log.keepSecret(secret);
    log.info('huge', { reason: `${'a'.repeat(MAX_STRING_LENGTH - 5)}${secret}${'b'.repeat(10_000)}` });
    const [entry] = expectOneObjectPerLine(sink.writes);
    const reason = entry.reason as string;
    expect(reason.length).toBeLessThan(MAX_STRING_LENGTH + 40);
    expect(reason).toMatch(/…\[\d+ more characters\]$/);
    expect(sink.writes[0]).not.toContain(secret.slice(0, 8));
    expect(reason).toContain('[RED');
  });

  describe('through the local FC', () => {
    let codeRoot: string;

    beforeAll(async () => {
      codeRoot = await buildBundle();
      deployRotation(cloud, codeRoot, { targets: [RS], timeoutSeconds: 60, environment: { DRY_RUN: 'true' } });
    });
    afterAll(() => removeBundle(codeRoot));

    it('the stdout FC captures holds its own lines and one JSON object per line of the function, each giving the input back', async () => {
      const reason = HOSTILE.filter((h) => !h.includes('\ud800')).join(' | ');
      await invoke(cloud, { force: true, reason });
      await invoke(cloud, { triggerName: HOSTILE[2], triggerTime: TIME, payload: '' });
      const entries = cloud.fc.invocations
        .filter((record) => record.functionName === FUNCTION_NAME)
        .flatMap((record) => record.logs.split('\n').filter((line) => line !== '' && !/^FC (Initialize|Invoke) (Start|End) RequestId: /.test(line)))
        .map((line) => `${line}\n`);
      const parsed = expectOneObjectPerLine(entries);
      expect(holds(parsed, reason)).toBe(true);
      expect(holds(parsed, HOSTILE[2])).toBe(true);
      expect(parsed.filter((e) => e.msg === 'forged')).toEqual([]);
    });
  });
});
