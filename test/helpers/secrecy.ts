/**
 * The secrecy check: no password a local cloud ever saw may appear in anything a suite produced — the
 * function's log lines (captured in-process, and by the local FC), error messages and stacks, reports,
 * invocation results and async outcomes — in plain form, JSON-escaped, or base64-encoded (FC's log tails
 * travel base64 in `x-fc-log-result`).
 *
 * Vitest runs each file in its own worker, so the check is per file: a suite calls `useSecrecyWatch()`,
 * starts its clouds through `watch.start()` (or hands them to `watch.watch()`), records what it produced
 * that the clouds do not keep themselves (`record`, `recordRun`, `recordError`), and the scan runs after
 * all its tests. A leak is reported by where it was found and in which form, never with the password.
 */
import { afterAll, expect } from 'vitest';
import type { LocalCloud, StartOptions } from '../../local-cloud';
import { type InvariantOptOut, startCloud } from './cloud';
import { type RotationRun, runTexts } from './rotate';

/** Shorter strings are not scanned for: they would match by chance (the password rule's minimum is 8). */
const MIN_NEEDLE_LENGTH = 8;
const CONTEXT_CHARS = 40;
const MASK = '<password>';

export type LeakForm = 'plain' | 'json-escaped' | 'base64';

export interface Leak {
  /** What the text was (a label given when it was recorded, or the cloud's record it came from). */
  where: string;
  form: LeakForm;
  /** The text around the leak, every password in it replaced by `<password>`. */
  context: string;
}

interface LabelledText {
  where: string;
  text: string;
}

interface Needle {
  form: LeakForm;
  value: string;
}

export class SecrecyWatch {
  private readonly clouds: LocalCloud[] = [];
  private readonly recorded: LabelledText[] = [];
  private readonly extraPasswords = new Set<string>();

  /** Starts a local cloud (guarded: test/helpers/cloud.ts) whose passwords and FC records the scan covers. */
  async start(options: StartOptions = {}, optOut?: InvariantOptOut): Promise<LocalCloud> {
    return this.watch(await startCloud(options, optOut));
  }

  watch(cloud: LocalCloud): LocalCloud {
    if (!this.clouds.includes(cloud)) this.clouds.push(cloud);
    return cloud;
  }

  /** A password known to the test that the clouds may not have seen (e.g. one a fuzzed answer carried). */
  addPassword(password: string): void {
    this.extraPasswords.add(password);
  }

  record(where: string, ...texts: Array<string | undefined>): void {
    for (const text of texts) if (text !== undefined && text !== '') this.recorded.push({ where, text });
  }

  /** An in-process run: its log lines, its error's message and stack, its report. */
  recordRun(where: string, run: RotationRun): void {
    this.record(where, ...runTexts(run));
  }

  /** A rejection: its message, stack and enumerable fields (a RotationFailedError carries its report). */
  recordError(where: string, error: unknown): void {
    if (error instanceof Error) this.record(where, error.message, error.stack, safeJson({ ...error }));
    else this.record(where, String(error));
  }

  passwords(): string[] {
    const all = new Set(this.extraPasswords);
    for (const cloud of this.clouds) for (const password of cloud.truth.passwordsSeen()) all.add(password);
    return [...all].filter((password) => password.length >= MIN_NEEDLE_LENGTH);
  }

  /** Everything scanned: what was recorded, and every cloud's FC invocations and async outcomes. */
  texts(): LabelledText[] {
    const fromClouds = this.clouds.flatMap((cloud, index) => [
      ...cloud.fc.invocations.flatMap((record) => [
        { where: `cloud ${index} FC logs of ${record.requestId} (attempt ${record.attempt})`, text: record.logs },
        { where: `cloud ${index} FC result of ${record.requestId}`, text: record.result?.toString('utf8') ?? '' },
        { where: `cloud ${index} FC error of ${record.requestId}`, text: safeJson(record.error) },
      ]),
      ...cloud.fc.asyncOutcomes.map((outcome) => ({ where: `cloud ${index} async outcome of ${outcome.taskId}`, text: safeJson(outcome) })),
    ]);
    return [...this.recorded, ...fromClouds].filter((t) => t.text !== '');
  }

  leaks(): Leak[] {
    const needles = this.passwords().flatMap(needlesFor);
    const leaks: Leak[] = [];
    for (const { where, text } of this.texts()) {
      const found = needles.filter((needle) => text.includes(needle.value));
      if (found.length === 0) continue;
      const clean = needles.reduce((masked, needle) => masked.replaceAll(needle.value, MASK), text);
      for (const form of new Set(found.map((needle) => needle.form))) leaks.push({ where, form, context: around(clean, clean.indexOf(MASK)) });
    }
    return leaks;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clouds.map((cloud) => cloud.close()));
  }

  /** The scan: it covered at least one password and one text (else it proves nothing), and found no leak. */
  expectClean(): void {
    const coverage = this.coverage();
    expect(coverage.passwords, 'the secrecy scan covered no password: start the clouds with watch.start() or hand them to watch.watch()').toBeGreaterThan(0);
    expect(coverage.texts, 'the secrecy scan covered no text: record what the suite produced (record, recordRun, recordError)').toBeGreaterThan(0);
    expect(this.leaks()).toEqual([]);
  }

  /** How much the scan covered, for a suite that wants to prove it scanned something. */
  coverage(): { passwords: number; texts: number } {
    return { passwords: this.passwords().length, texts: this.texts().length };
  }
}

/**
 * A watch whose scan runs after every test of the file has run; the clouds it started are closed then. A scan
 * that covered no password or no text proves nothing, and fails.
 */
export function useSecrecyWatch(): SecrecyWatch {
  const watch = new SecrecyWatch();
  afterAll(async () => {
    try {
      watch.expectClean();
    } finally {
      await watch.closeAll();
    }
  });
  return watch;
}

/** The forms a password takes in a text: as is, inside a JSON string, and inside any base64 stream. */
export function needlesFor(password: string): Needle[] {
  const needles: Needle[] = [{ form: 'plain', value: password }];
  const escaped = JSON.stringify(password).slice(1, -1);
  if (escaped !== password) needles.push({ form: 'json-escaped', value: escaped });
  for (const value of base64Needles(Buffer.from(password, 'utf8'))) needles.push({ form: 'base64', value });
  return needles;
}

/**
 * Base64 maps 3 bytes to 4 characters, so the encoding of a password inside a longer text depends on where
 * it starts modulo 3. For each of the 3 offsets, the characters that depend only on the password's bytes.
 */
function base64Needles(bytes: Buffer): string[] {
  return [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const start = offset === 0 ? 0 : offset + 1;
    const end = Math.floor((offset + bytes.length) / 3) * 4;
    return encoded.slice(start, end);
  });
}

/** The text around a masked leak (every password in the text masked first, so none shows). */
function around(text: string, at: number): string {
  return text.slice(Math.max(0, at - CONTEXT_CHARS), at + MASK.length + CONTEXT_CHARS);
}

function safeJson(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}
