/**
 * Every local cloud a test starts, starts here (test/architecture/invariant-guard.test.ts fails a test file that
 * calls `startLocalCloud` itself), so that every lifecycle is held to the one rule: after each test, and after a
 * file's last hook, a cloud started here must have recorded no invariant violation since the last check
 * (invariant-guard.ts, which vitest's setupFiles runs in every test file, does the checking).
 *
 * A test that breaks the invariant on purpose says why, in words:
 * - `startCloud(options, { violationsAllowed: 'why' })`: this cloud's violations are never counted (e.g. runs
 *   raced through the local FC with nothing keeping them apart, where the window opens now and then);
 * - `excuseViolations(cloud, 'why')`: the test has asserted the violations recorded so far itself (their
 *   causes and number); later ones still fail it.
 */
import { breachSubject } from '../../local-cloud/state';
import { afterEach } from 'vitest';
import { type LocalCloud, type StartOptions, startLocalCloud } from '../../local-cloud';
import type { Violation } from '../../local-cloud/state';

export interface InvariantOptOut {
  /** Why this cloud's violations are not counted: a sentence, not a word. */
  violationsAllowed: string;
}

interface Guarded {
  cloud: LocalCloud;
  /** Violations counted already (reported, or excused). */
  checked: number;
  optOut?: string;
}

const guarded: Guarded[] = [];
let installed = false;

/** Starts a local cloud on a free port, guarded. */
export async function startCloud(options: StartOptions = {}, optOut?: InvariantOptOut): Promise<LocalCloud> {
  if (optOut) requireReason(optOut.violationsAllowed);
  return guardInvariant(await startLocalCloud({ port: 0, ...options }), optOut);
}

/** Guards a cloud started elsewhere (a script's rig). */
export function guardInvariant(cloud: LocalCloud, optOut?: InvariantOptOut): LocalCloud {
  if (optOut) requireReason(optOut.violationsAllowed);
  if (!guarded.some((g) => g.cloud === cloud)) guarded.push({ cloud, checked: 0, optOut: optOut?.violationsAllowed });
  return cloud;
}

/** The test has checked the violations this cloud recorded so far itself: they no longer fail it. */
export function excuseViolations(cloud: LocalCloud, reason: string): void {
  requireReason(reason);
  const entry = guarded.find((g) => g.cloud === cloud);
  if (!entry) throw new Error('excuseViolations: this cloud was not started with startCloud (test/helpers/cloud.ts)');
  entry.checked = cloud.truth.violations.length;
}

/** Violations recorded since the last check by guarded clouds that did not opt out; they count as checked from now. */
export function uncheckedViolations(): Array<Violation & { cloud: number }> {
  const found: Array<Violation & { cloud: number }> = [];
  guarded.forEach((entry, index) => {
    const all = entry.cloud.truth.violations;
    if (entry.optOut === undefined) found.push(...all.slice(entry.checked).map((v) => ({ ...v, cloud: index })));
    entry.checked = all.length;
  });
  return found;
}

/** Fails the running test (or hook) on any violation not checked yet. */
export function expectNoUncheckedViolations(): void {
  const found = uncheckedViolations().map((v) => `cloud ${v.cloud}: ${v.instanceId} ${breachSubject(v)} out of line after ${v.product} ${v.action} (${v.requestId})${v.ongoing ? ', again' : ''}`);
  if (found.length > 0) {
    throw new Error(`${found.length} invariant violation(s) recorded by a local cloud (test/helpers/cloud.ts: opt out only with a written reason):\n  ${found.join('\n  ')}`);
  }
}

/** Called by invariant-guard.ts, the setup file; the architecture test asserts it ran. */
export function markGuardInstalled(): void {
  installed = true;
}

export function guardInstalled(): boolean {
  return installed;
}

/** At least three words: a reason someone can read later, not a placeholder. */
function requireReason(reason: string): void {
  if (typeof reason !== 'string' || reason.trim().split(/\s+/).length < 3) {
    throw new Error(`an invariant opt-out needs a written reason (a sentence), got ${JSON.stringify(reason)}`);
  }
}

/** A local cloud per test: `useCloudPerTest()` returns a starter; the cloud it started is closed after each test. */
export function useCloudPerTest(): (options: StartOptions) => Promise<LocalCloud> {
  let cloud: LocalCloud | undefined;
  afterEach(async () => {
    const current = cloud;
    cloud = undefined;
    await current?.close();
  });
  return async (options) => (cloud = await startCloud(options));
}

/** What a test harness keeps of the cloud its test started: the cloud, and the violations the test expects. */
export interface CloudSlot {
  /** The cloud the test started (throws before `hold`). */
  cloud(): LocalCloud;
  hold(cloud: LocalCloud): LocalCloud;
  /**
   * The invariant monitor may record what the test expects, for the reason given: after the test, `check` asserts
   * the violations, which then do not fail it.
   */
  allowViolations(reason: string, check: (violations: LocalCloud['truth']['violations']) => void): void;
}

/** One cloud per test for a harness: after each test its expected violations are checked and excused, and it is closed. */
export function useCloudSlot(onClose: () => void = () => undefined): CloudSlot {
  let cloud: LocalCloud | undefined;
  let allowed: { reason: string; check: (violations: LocalCloud['truth']['violations']) => void } | undefined;
  afterEach(async () => {
    const current = cloud;
    const expected = allowed;
    cloud = undefined;
    allowed = undefined;
    onClose();
    if (!current) return;
    try {
      if (expected) {
        expected.check(current.truth.violations);
        excuseViolations(current, expected.reason);
      }
    } finally {
      await current.close();
    }
  });
  return {
    cloud() {
      if (!cloud) throw new Error('start(fixture) first');
      return cloud;
    },
    hold: (started) => (cloud = started),
    allowViolations(reason, check) {
      allowed = { reason, check };
    },
  };
}
