/**
 * Every example event in events/ and every trigger kind, end to end: the bundle deployed from s.yaml to
 * the local FC and invoked through InvokeFunction (or its timer fired), checked against the truth.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { startCloud } from '../helpers/cloud';
import { fleet, target } from '../rotate/fixture';
import {
  buildBundle,
  closeCheckedCloud,
  deployRotation,
  expectRotatedTo,
  invoke,
  readEvent,
  removeBundle,
  reportOf,
  reportOfRun,
  rotationRequests,
} from './deployed';

/** The instances the example events name: orders was rotated two days ago (not due), the others are due. */
const ORDERS = 'dds-bp1a4c7e2f9d3b5a8';
const CATALOG = 'dds-bp1e8f0b6c2a7d4e1';
const SESSIONS = 'dds-bp17d3a9c5e1f2b64';
const OLD = { [ORDERS]: 'Old#Orders-Pw1', [CATALOG]: 'Old#Catalog-Pw1', [SESSIONS]: 'Old#Sessions-Pw1' };
const TARGETS = [ORDERS, CATALOG, SESSIONS];
/** incident-custom.json comes from a custom source: an operator lists it in EVENT_SOURCES to act on it. */
const WITH_CUSTOM_SOURCE = { EVENT_SOURCES: 'acs.actiontrail,acs.sas,custom.security' };

describe('the example events and the triggers, through the local FC', () => {
  let codeRoot: string;
  let cloud: LocalCloud | undefined;

  beforeAll(async () => {
    codeRoot = await buildBundle();
  });

  afterAll(() => removeBundle(codeRoot));

  afterEach(async () => {
    await closeCheckedCloud(cloud);
    cloud = undefined;
  });

  async function start(environment?: Record<string, string>): Promise<LocalCloud> {
    cloud = await startCloud({
      port: 0,
      fixture: fleet(
        target(ORDERS, { password: OLD[ORDERS], age: '-2d' }),
        target(CATALOG, { type: 'sharding', password: OLD[CATALOG] }),
        target(SESSIONS, { password: OLD[SESSIONS] }),
      ),
    });
    deployRotation(cloud, codeRoot, { targets: TARGETS, environment });
    return cloud;
  }

  const outcomes = (results: Array<{ instanceId: string; outcome: string }>) => Object.fromEntries(results.map((r) => [r.instanceId, r.outcome]));

  it('timer.json: the scheduled rules rotate what is due and skip the rest', async () => {
    const cloud = await start();
    const report = reportOf(await invoke(cloud, readEvent('timer.json')));

    expect(report.trigger).toEqual({ kind: 'timer', triggerName: 'daily-rotation', triggerTime: '2026-11-27T03:00:00Z' });
    expect(outcomes(report.results)).toEqual({ [ORDERS]: 'skipped', [CATALOG]: 'rotated', [SESSIONS]: 'rotated' });
    expectRotatedTo(cloud, CATALOG, OLD[CATALOG]);
    expectRotatedTo(cloud, SESSIONS, OLD[SESSIONS]);
    expect(cloud.truth.rootPassword(ORDERS)).toBe(OLD[ORDERS]);
  });

  it("the timer trigger of s.yaml, fired by FC (sync), then again asynchronously with a new time", async () => {
    const cloud = await start();
    const first = await cloud.fc.fireTimer('mongodb-root-rotation', 'daily-rotation', { triggerTime: '2026-11-27T03:00:00Z' });
    expect(first.status).toBe('succeeded');
    expect(outcomes(reportOfRun(first)!.results)).toEqual({ [ORDERS]: 'skipped', [CATALOG]: 'rotated', [SESSIONS]: 'rotated' });
    const current = expectRotatedTo(cloud, SESSIONS, OLD[SESSIONS]);

    const next = await cloud.fc.fireTimerAsync('mongodb-root-rotation', 'daily-rotation', { triggerTime: '2026-11-28T03:00:00Z' });
    expect(next).toMatchObject({ status: 'succeeded', attempts: 1, destination: 'onSuccess' });
    const run = cloud.fc.invocations.find((record) => record.kind === 'async')!;
    expect(outcomes(reportOfRun(run)!.results)).toEqual({ [ORDERS]: 'skipped', [CATALOG]: 'skipped', [SESSIONS]: 'skipped' });
    expect(cloud.truth.secretPassword('mongodb/dds-bp17d3a9c5e1f2b64/root')).toBe(current);
  });

  it('manual.json: the named instance is rotated although it is not due', async () => {
    const cloud = await start();
    const report = reportOf(await invoke(cloud, readEvent('manual.json')));

    expect(report.trigger).toEqual({ kind: 'manual', force: true, instanceIds: [ORDERS], reason: 'operator request: rotate now' });
    expect(outcomes(report.results)).toEqual({ [ORDERS]: 'rotated' });
    expectRotatedTo(cloud, ORDERS, OLD[ORDERS]);
    expect(cloud.truth.rootPassword(SESSIONS)).toBe(OLD[SESSIONS]);
  });

  it('manual-dry-run.json: plans every target and writes nothing', async () => {
    const cloud = await start();
    const report = reportOf(await invoke(cloud, readEvent('manual-dry-run.json')));

    expect(report.dryRun).toBe(true);
    expect(outcomes(report.results)).toEqual({ [ORDERS]: 'skipped', [CATALOG]: 'planned', [SESSIONS]: 'planned' });
    expect(cloud.truth.writeRequests()).toEqual([]);
  });

  it('incident-actiontrail.json: the instance ActionTrail names is rotated now, forced', async () => {
    const cloud = await start();
    const report = reportOf(await invoke(cloud, readEvent('incident-actiontrail.json')));

    expect(report.rotationId).toBe('7b1f3c2e-5d4a-4e8f-9c6b-2a1d0e9f8c7b');
    expect(report.trigger).toEqual({
      kind: 'event',
      source: 'acs.actiontrail',
      id: '7b1f3c2e-5d4a-4e8f-9c6b-2a1d0e9f8c7b',
      type: 'actiontrail:ActionTrail:ApiCall',
      instanceIds: [SESSIONS],
    });
    expect(outcomes(report.results)).toEqual({ [SESSIONS]: 'rotated' });
    expectRotatedTo(cloud, SESSIONS, OLD[SESSIONS]);
    expect(cloud.truth.rootPassword(CATALOG)).toBe(OLD[CATALOG]);
  });

  it('incident-custom.json: rotates both instances it names once custom.security is in EVENT_SOURCES', async () => {
    const cloud = await start(WITH_CUSTOM_SOURCE);
    const report = reportOf(await invoke(cloud, readEvent('incident-custom.json')));

    expect(report.trigger).toMatchObject({ kind: 'event', source: 'custom.security', reason: 'MongoDB root credentials found in a build log' });
    expect(outcomes(report.results)).toEqual({ [CATALOG]: 'rotated', [SESSIONS]: 'rotated' });
    expect(report.results.find((r) => r.instanceId === CATALOG)?.characterTypes).toEqual(['db', 'cs']);
    expectRotatedTo(cloud, CATALOG, OLD[CATALOG]);
    expectRotatedTo(cloud, SESSIONS, OLD[SESSIONS]);
    expect(cloud.truth.rootPassword(ORDERS)).toBe(OLD[ORDERS]);
  });

  it('incident-failed-call.json: an ActionTrail record of a call that failed is skipped, with a warning; nothing read or written', async () => {
    const cloud = await start();
    const invocation = await invoke(cloud, readEvent('incident-failed-call.json'));

    expect(invocation.mode === 'sync' && invocation.failure).toBeUndefined();
    const warnings = cloud.fc.invocations[0].logs
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((entry) => entry.level === 'warn');
    expect(warnings.map((entry) => entry.msg)).toEqual([
      'skipping the event: it records a call "ModifySecurityIps" that failed (errorCode "Forbidden.RAM") and so changed nothing; nothing is rotated',
    ]);
    expect(rotationRequests(cloud)).toEqual([]);
    expect(cloud.truth.rootPassword(SESSIONS)).toBe(OLD[SESSIONS]);
  });

  it('incident-no-instance.json: an incident that names no instance is refused (incidents fail closed), nothing read or written', async () => {
    const cloud = await start();
    const invocation = await invoke(cloud, readEvent('incident-no-instance.json'));

    expect(invocation.mode === 'sync' && invocation.failure).toEqual({
      errorType: 'EventScopeError',
      errorMessage: expect.stringMatching(/^Refusing the event: it names no instance .* "allTargets": true in its data\. Nothing was changed$/),
    });
    expect(rotationRequests(cloud)).toEqual([]);
  });

  it("incident-custom.json with s.yaml's EVENT_SOURCES: refused with a clear error, nothing read or written", async () => {
    const cloud = await start();
    const invocation = await invoke(cloud, readEvent('incident-custom.json'));

    expect(invocation.mode === 'sync' && invocation.failure).toEqual({
      errorType: 'EventSourceError',
      errorMessage: expect.stringMatching(/^Refusing the event: its source "custom\.security" is not in EVENT_SOURCES \(acs\.actiontrail,acs\.sas\)/),
    });
    expect(rotationRequests(cloud)).toEqual([]);
  });
});
