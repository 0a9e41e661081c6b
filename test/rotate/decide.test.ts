/**
 * The engine's decisions, table by table, without a network: each row is a secret's versions (their
 * labels and ages) and what the trigger asks, and the action the rotation must take next.
 */
import { describe, expect, it } from 'vitest';
import {
  type StageContext,
  decideConfirm,
  decideLostAtStage,
  decidePromote,
  decideResume,
  decideStage,
  decideTakeOver,
  dueness,
} from '../../functions/rotate/engine/decide';
import type { SecretVersion } from '../../functions/rotate/engine/versions';

const NOW = Date.parse('2026-12-07T03:00:00Z');
const DAY = 86_400_000;
const OWN = 'r-own';
const REPLACEMENT = 'r-own-replacement';

/** `v('v1', 'ACSCurrent', 40)`: version v1 carrying ACSCurrent, created 40 days ago. */
const v = (versionId: string, stages: string | string[] = [], ageDays = 40): SecretVersion => ({
  versionId,
  stages: typeof stages === 'string' ? stages.split('+').filter((s) => s !== '') : stages,
  createTime: new Date(NOW - ageDays * DAY).toISOString(),
});

const ctx = (over: Partial<StageContext> = {}): StageContext => ({
  ownVersionId: OWN,
  replacementVersionId: REPLACEMENT,
  force: false,
  dryRun: false,
  now: NOW,
  rotationIntervalDays: 30,
  forcedCooldownMinutes: 15,
  ignoreCooldown: false,
  ...over,
});

/** A version created `minutes` ago. */
const fresh = (versionId: string, stages: string, minutes: number): SecretVersion => ({ ...v(versionId, stages), createTime: new Date(NOW - minutes * 60_000).toISOString() });

describe('decideStage: the first decision of a rotation', () => {
  it.each([
    ['a due secret gets a fresh password under our VersionId', [v('v1', 'ACSCurrent', 40)], {}, { action: 'fresh', versionId: OWN }],
    ['a secret that is not due is skipped, with its age', [v('v1', 'ACSCurrent', 2)], {}, { action: 'skip', versionId: 'v1', reason: 'not due: ACSCurrent is 2 days old; the interval is 30 days' }],
    ['a forced run rotates a secret that is not due', [v('v1', 'ACSCurrent', 2)], { force: true }, { action: 'fresh', reason: 'forced (not due: ACSCurrent is 2 days old; the interval is 30 days)' }],
    ['a dry run plans the rotation', [v('v1', 'ACSCurrent', 40)], { dryRun: true }, { action: 'plan', versionId: OWN, reason: expect.stringMatching(/^would rotate: /) }],
    ['a pending version is resumed, whoever staged it', [v('v1', 'ACSCurrent'), v('r-other', 'ACSPending', 0)], {}, { action: 'resume', versionId: 'r-other' }],
    ['a pending version is resumed even when not due', [v('v1', 'ACSCurrent', 1), v('r-other', 'ACSPending', 0)], {}, { action: 'resume', versionId: 'r-other' }],
    ['a dry run plans the resume', [v('v1', 'ACSCurrent'), v('r-other', 'ACSPending')], { dryRun: true }, { action: 'plan', versionId: 'r-other', reason: 'would resume the pending version' }],
    ['a cut-off promote of another run is finished first', [v('v1', 'ACSPrevious'), v('r-other', 'ACSCurrent+ACSPending')], {}, { action: 'finish-cutoff', versionId: 'r-other', ours: false }],
    ['a cut-off promote of ours ends the run as resumed', [v('v1', 'ACSPrevious'), v(OWN, 'ACSCurrent+ACSPending')], {}, { action: 'finish-cutoff', versionId: OWN, ours: true }],
    ['our replacement counts as ours', [v('v1', 'ACSPrevious'), v(REPLACEMENT, 'ACSCurrent+ACSPending')], {}, { action: 'finish-cutoff', ours: true }],
    ['a dry run only plans to finish a cut-off promote', [v(OWN, 'ACSCurrent+ACSPending')], { dryRun: true }, { action: 'plan', versionId: OWN }],
    ['our version already current: this trigger rotated it', [v('v1', 'ACSPrevious'), v(OWN, 'ACSCurrent', 0)], { force: true }, { action: 'skip', versionId: OWN, reason: 'already rotated by this trigger' }],
    ['our version previous: rotated and rotated past', [v(OWN, 'ACSPrevious'), v('r-next', 'ACSCurrent', 0)], { force: true }, { action: 'skip', versionId: OWN, reason: 'already rotated by this trigger' }],
    ['our version unlabelled and nothing pending: rotated long ago', [v(OWN, []), v('r-next', 'ACSCurrent', 0)], { force: true }, { action: 'skip', versionId: OWN }],
    ['our version unlabelled while another is pending: that one is resumed', [v('v1', 'ACSCurrent'), v(OWN, []), v(REPLACEMENT, 'ACSPending')], {}, { action: 'resume', versionId: REPLACEMENT }],
    ['our own pending version is resumed', [v('v1', 'ACSCurrent'), v(OWN, 'ACSPending')], {}, { action: 'resume', versionId: OWN }],
    ['a secret without ACSCurrent is due', [v('v1', [])], {}, { action: 'fresh', reason: 'the secret has no ACSCurrent version' }],
    ['a created secret holds no password yet: due', [v(`init-${OWN}`, 'ACSCurrent', 0)], {}, { action: 'fresh', reason: 'the secret holds no password yet' }],
  ] as const)('%s', (_, versions, over, expected) => {
    expect(decideStage(versions, ctx(over))).toMatchObject(expected);
  });
});

describe('the forced-rotation cooldown', () => {
  it.each([
    ['a forced rotation of a secret rotated 5 minutes ago waits', [fresh('v1', 'ACSCurrent', 5)], { force: true }, { action: 'skip', versionId: 'v1', reason: expect.stringMatching(/^cooldown: ACSCurrent is 5 minutes old and forced rotations wait FORCED_ROTATION_COOLDOWN_MINUTES \(15\)/) }],
    ['14 minutes: still waits', [fresh('v1', 'ACSCurrent', 14)], { force: true }, { action: 'skip' }],
    ['15 minutes: goes', [fresh('v1', 'ACSCurrent', 15)], { force: true }, { action: 'fresh' }],
    ['a cooldown of 0 never waits', [fresh('v1', 'ACSCurrent', 0)], { force: true, forcedCooldownMinutes: 0 }, { action: 'fresh' }],
    ['ignoreCooldown goes, and says so', [fresh('v1', 'ACSCurrent', 1)], { force: true, ignoreCooldown: true }, { action: 'fresh', reason: expect.stringContaining('the cooldown ignored on request') }],
    ['a pending rotation is resumed whatever the cooldown', [fresh('v1', 'ACSCurrent', 1), fresh('r-b', 'ACSPending', 1)], { force: true }, { action: 'resume', versionId: 'r-b' }],
    ['a cut-off promote is finished whatever the cooldown', [fresh('v1', 'ACSPrevious', 2), fresh('r-b', 'ACSCurrent+ACSPending', 1)], { force: true }, { action: 'finish-cutoff' }],
    ['a created secret holds no password: never waits', [fresh(`init-${OWN}`, 'ACSCurrent', 1)], { force: true }, { action: 'fresh' }],
    ['a dry run reports the wait', [fresh('v1', 'ACSCurrent', 3)], { force: true, dryRun: true }, { action: 'skip', reason: expect.stringMatching(/^cooldown: /) }],
  ] as const)('%s', (_, versions, over, expected) => {
    expect(decideStage(versions, ctx(over))).toMatchObject(expected);
  });
});

describe('dueness', () => {
  it.each([
    [29.9, 30, false],
    [30, 30, true],
    [1, 1, true],
    [0, 1, false],
  ])('ACSCurrent %s days old, interval %s days: due %s', (ageDays, rotationIntervalDays, due) => {
    expect(dueness(v('v1', 'ACSCurrent', ageDays), { now: NOW, rotationIntervalDays }).due).toBe(due);
  });

  it('treats an unreadable CreateTime as due rather than guess an age', () => {
    expect(dueness({ versionId: 'v1', stages: ['ACSCurrent'], createTime: 'yesterday' }, { now: NOW, rotationIntervalDays: 30 })).toEqual({
      due: true,
      reason: 'the ACSCurrent version has no readable CreateTime',
    });
  });
});

describe('decideResume: what reading the pending version showed', () => {
  it.each([
    [['ACSPending'], { action: 'use' }],
    [['ACSCurrent'], { action: 'skip', reason: 'already rotated by this trigger' }],
    [['ACSPrevious'], { action: 'lost' }],
    [[], { action: 'lost' }],
  ])('stages %j → %j', (stages, expected) => {
    expect(decideResume(stages)).toEqual(expected);
  });

  it('a version lost at the start is taken over only while another is pending', () => {
    expect(decideLostAtStage([v('v1', 'ACSCurrent'), v('r-b', 'ACSPending')])).toEqual({ action: 'take-over' });
    expect(decideLostAtStage([v('v1', 'ACSPrevious'), v('r-b', 'ACSCurrent')])).toEqual({
      action: 'skip',
      versionId: 'r-b',
      reason: 'a concurrent run rotated the secret meanwhile',
    });
  });
});

describe('decideConfirm: right before the database is touched', () => {
  const fresh = { versionId: OWN, origin: 'fresh' as const };
  const restored = { versionId: 'v1', origin: 'restored' as const };
  it.each([
    ['our version still pending: apply', [v('v1', 'ACSCurrent'), v(OWN, 'ACSPending')], fresh, false, { action: 'apply' }],
    ['our version lost ACSPending to another: take over', [v('v1', 'ACSCurrent'), v(OWN, []), v('r-b', 'ACSPending')], fresh, true, { action: 'take-over' }],
    ['promoted by its owner, nothing of ours applied: skip', [v('v1', 'ACSPrevious'), v(OWN, 'ACSCurrent')], fresh, false, { action: 'skip' }],
    ['promoted by its owner after our reset: restore it', [v('v1', 'ACSPrevious'), v(OWN, 'ACSCurrent')], fresh, true, { action: 'restore' }],
    ['promoted, but a newer rotation is pending: take that over', [v(OWN, 'ACSCurrent'), v('r-b', 'ACSPending')], fresh, true, { action: 'take-over' }],
    ['a restore goes ahead while ACSCurrent is still there', [v('v1', 'ACSCurrent'), v(OWN, [])], restored, true, { action: 'apply' }],
    ['a restore gives way to a newer pending rotation', [v('v1', 'ACSCurrent'), v('r-b', 'ACSPending')], restored, true, { action: 'take-over' }],
  ] as const)('%s', (_, versions, staged, touched, expected) => {
    expect(decideConfirm(versions, staged, touched)).toMatchObject(expected);
  });
});

describe('decideTakeOver: carry on with the version a label points to', () => {
  it.each([
    ['a pending rotation is resumed', [v('v1', 'ACSCurrent'), v('r-b', 'ACSPending')], false, { action: 'resume', versionId: 'r-b' }],
    ['nothing pending, nothing of ours applied: skip', [v('v1', 'ACSPrevious'), v('r-b', 'ACSCurrent')], false, { action: 'skip', versionId: 'r-b' }],
    ['nothing pending after our reset: ACSCurrent goes back on', [v('v1', 'ACSPrevious'), v('r-b', 'ACSCurrent')], true, { action: 'restore', versionId: 'r-b' }],
    ['a cut-off promote is not a pending rotation', [v('v1', 'ACSPrevious'), v('r-b', 'ACSCurrent+ACSPending')], true, { action: 'restore', versionId: 'r-b' }],
  ] as const)('%s', (_, versions, touched, expected) => {
    expect(decideTakeOver(versions, touched)).toMatchObject(expected);
  });
});

describe('decidePromote: after the guarded move was refused', () => {
  it.each([
    ['promoted by a concurrent run: done', [v('v1', 'ACSPrevious'), v(OWN, 'ACSCurrent')], { action: 'done' }],
    ['promoted, a newer rotation pending: take it over', [v(OWN, 'ACSCurrent'), v('r-b', 'ACSPending')], { action: 'take-over' }],
    ['lost both labels: take over', [v('v1', 'ACSCurrent'), v(OWN, [])], { action: 'take-over' }],
    ['both labels: a cut-off promote to finish', [v('v1', 'ACSPrevious'), v(OWN, 'ACSCurrent+ACSPending')], { action: 'finish-cutoff' }],
    ['still only pending: move ACSCurrent', [v('v2', 'ACSCurrent'), v(OWN, 'ACSPending')], { action: 'move' }],
  ] as const)('%s', (_, versions, expected) => {
    expect(decidePromote(versions, OWN)).toEqual(expected);
  });
});
