/**
 * The lines between states, exactly: the interval, the grace, an hour of pending, 9 versions; and the
 * states that outrank others. Pure (the reads are given), so the boundaries can be hit to the millisecond.
 */
import { describe, expect, it } from 'vitest';
import { assess, type Assessment, byUrgency, summarize } from '../../scripts/status/assess';
import type { InstanceRead, SecretRead, TargetRead } from '../../scripts/status/read';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SETTINGS: Assessment = { intervalDays: 30, graceHours: 24, now: NOW };
const RUNNING: InstanceRead = { found: true, instance: { type: 'replicate', status: 'Running', lockMode: 'Unlock' } };

const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();
const current = (msAgo: number, versionId = 'v1') => ({ versionId, stages: ['ACSCurrent'], createTime: at(msAgo) });
const read = (secret: SecretRead, instance: InstanceRead = RUNNING): TargetRead => ({
  target: { instanceId: 'dds-bp1test', secretName: 'mongodb/dds-bp1test/root', source: 'ROTATION_TAG' },
  instance,
  secret,
});
const withVersions = (...versions: Array<{ versionId: string; stages: string[]; createTime: string }>): SecretRead => ({ found: true, versions });
const stateOf = (target: TargetRead, settings = SETTINGS) => assess(target, settings).state;

describe('assessing one target', () => {
  it('is fresh up to the interval, due from it, overdue from the interval plus the grace', () => {
    expect(stateOf(read(withVersions(current(30 * DAY - 1))))).toBe('fresh');
    expect(stateOf(read(withVersions(current(30 * DAY))))).toBe('due');
    expect(stateOf(read(withVersions(current(31 * DAY - 1))))).toBe('due');
    expect(stateOf(read(withVersions(current(31 * DAY))))).toBe('overdue');
    expect(stateOf(read(withVersions(current(30 * DAY))), { ...SETTINGS, graceHours: 0 })).toBe('overdue');
    expect(assess(read(withVersions(current(2 * DAY))), SETTINGS).current?.dueAt).toBe(new Date(NOW + 28 * DAY).toISOString());
  });

  it('calls a pending rotation under way for an hour, stuck from then on', () => {
    const pendingFor = (ms: number) => read(withVersions(current(30 * DAY), { versionId: 'r-1', stages: ['ACSPending'], createTime: at(ms) }));
    expect(stateOf(pendingFor(HOUR - 1))).toBe('rotating');
    expect(stateOf(pendingFor(HOUR))).toBe('stuck');
    // A promote cut off after moving ACSCurrent leaves both labels on one version: still half done.
    const cutOff = assess(read(withVersions({ versionId: 'r-2', stages: ['ACSCurrent', 'ACSPending'], createTime: at(2 * HOUR) })), SETTINGS);
    expect(cutOff.state).toBe('stuck');
    expect(cutOff.problems[0].message).toMatch(/promote was cut off/);
  });

  it('warns from 9 of the 10 versions, counting unlabelled ones', () => {
    const versions = (n: number) => withVersions(...Array.from({ length: n - 1 }, (_, i) => ({ versionId: `old${i}`, stages: [], createTime: at(90 * DAY) })), current(DAY));
    expect(stateOf(read(versions(8)))).toBe('fresh');
    expect(assess(read(versions(9)), SETTINGS)).toMatchObject({ state: 'many-versions', versionsUsed: 9 });
    expect(stateOf(read(versions(10)))).toBe('many-versions');
  });

  it('ranks problems: the state is the most severe, the others are listed', () => {
    const locked: InstanceRead = { found: true, instance: { type: 'sharding', status: 'Running', lockMode: 'LockByExpiration' } };
    const status = assess(read(withVersions(current(60 * DAY), { versionId: 'r-1', stages: ['ACSPending'], createTime: at(5 * HOUR) }), locked), SETTINGS);
    expect(status.problems.map((p) => p.state)).toEqual(['locked', 'stuck', 'overdue']);
    expect(status.state).toBe('locked');
    expect(status.action).toBe('renew the subscription; the next scheduled run then rotates it if due');
  });

  it('treats any lock mode but Unlock as locked, as the function does', () => {
    expect(stateOf(read(withVersions(current(DAY)), { found: true, instance: { type: 'replicate', status: 'Running' } }))).toBe('locked');
  });

  it('sees a secret created without a password (CREATE_MISSING_SECRETS) as missing its password', () => {
    const status = assess(read(withVersions(current(DAY, 'init-r-0123'))), SETTINGS);
    expect(status.state).toBe('secret-missing');
    expect(status.action).toBe('rotate it now, so that KMS holds the password: npm run invoke -- --instance dds-bp1test');
  });

  it('keeps an overdue target overdue while a rotation is under way, and says to wait for it', () => {
    const status = assess(read(withVersions(current(40 * DAY), { versionId: 'r-1', stages: ['ACSPending'], createTime: at(5 * 60_000) })), SETTINGS);
    expect(status).toMatchObject({ state: 'overdue', attention: true, action: 'a rotation is under way: check again once it has ended' });
  });

  it('does not guess when KMS answers without exactly one ACSCurrent', () => {
    expect(stateOf(read(withVersions({ versionId: 'v1', stages: [], createTime: at(DAY) })))).toBe('unreadable');
  });

  it('orders by urgency and counts every state', () => {
    const statuses = [
      assess(read(withVersions(current(DAY))), SETTINGS),
      assess(read(withVersions(current(40 * DAY))), SETTINGS),
      assess(read({ found: false }), SETTINGS),
    ];
    expect(byUrgency(statuses).map((s) => s.state)).toEqual(['secret-missing', 'overdue', 'fresh']);
    expect(summarize(statuses)).toMatchObject({ targets: 3, attention: 2, states: { fresh: 1, overdue: 1, 'secret-missing': 1, due: 0 } });
  });
});
