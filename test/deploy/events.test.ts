import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cloudEventProblems,
  instanceIdsOf,
  isObject,
  manualEventProblems,
  timerEventProblems,
} from './event-shapes';
import { PROJECT_ROOT } from './s-yaml';

const EVENTS_DIR = `${PROJECT_ROOT}events/`;

type Kind = 'timer' | 'manual' | 'incident';
const EXPECTED_FILES: Record<string, Kind> = {
  'timer.json': 'timer',
  'manual.json': 'manual',
  'manual-dry-run.json': 'manual',
  'incident-actiontrail.json': 'incident',
  'incident-custom.json': 'incident',
  'incident-failed-call.json': 'incident',
  'incident-no-instance.json': 'incident',
};

const PROBLEMS: Record<Kind, (event: unknown) => string[]> = {
  timer: timerEventProblems,
  manual: manualEventProblems,
  incident: cloudEventProblems,
};

function readEvent(file: string): Record<string, unknown> {
  const event: unknown = JSON.parse(readFileSync(EVENTS_DIR + file, 'utf8'));
  if (!isObject(event)) throw new Error(`${file} is not a JSON object`);
  return event;
}

describe('events/', () => {
  it('holds exactly the documented example events', () => {
    expect(readdirSync(EVENTS_DIR).sort()).toEqual(Object.keys(EXPECTED_FILES).sort());
  });

  it.each(Object.entries(EXPECTED_FILES))('%s is a valid %s event', (file, kind) => {
    expect(PROBLEMS[kind](readEvent(file))).toEqual([]);
  });

  it('the timer event carries a manual event as its payload', () => {
    expect(manualEventProblems(JSON.parse(readEvent('timer.json').payload as string))).toEqual([]);
  });

  it('the dry-run event plans without forcing or naming instances', () => {
    expect(readEvent('manual-dry-run.json')).toMatchObject({ dryRun: true });
    expect(readEvent('manual-dry-run.json')).not.toHaveProperty('force');
  });

  it('the ActionTrail event is an ActionTrail API call on a DDS instance, in the shape EventBridge documents (no requestParameters)', () => {
    const event = readEvent('incident-actiontrail.json');
    expect(event).toMatchObject({ source: 'acs.actiontrail', type: 'actiontrail:ActionTrail:ApiCall' });
    expect(event.data).toMatchObject({
      eventType: 'ApiCall',
      eventRW: 'Write',
      serviceName: 'Dds',
      acsRegion: 'cn-hangzhou',
      eventName: expect.any(String),
      requestId: expect.any(String),
      userIdentity: expect.any(Object),
      referencedResources: { 'ACS::MongoDB::DBInstance': [expect.stringMatching(/^dds-/)] },
    });
    expect(event.data).not.toHaveProperty('requestParameters');
    for (const attribute of ['aliyunaccountid', 'aliyunregionid', 'aliyuneventbusname', 'aliyunpublishtime']) {
      expect(event).toHaveProperty(attribute);
    }
  });

  it('each incident names the instances to rotate where the handler looks for them', () => {
    expect(instanceIdsOf(readEvent('incident-actiontrail.json'))).toEqual(['dds-bp17d3a9c5e1f2b64']);
    expect(instanceIdsOf(readEvent('incident-custom.json'))).toEqual(['dds-bp1e8f0b6c2a7d4e1', 'dds-bp17d3a9c5e1f2b64']);
  });

  it('the refused examples: a record of a failed call (errorCode), and an incident that names no instance', () => {
    expect(readEvent('incident-failed-call.json').data).toMatchObject({ errorCode: expect.any(String), errorMessage: expect.any(String) });
    expect(instanceIdsOf(readEvent('incident-no-instance.json'))).toEqual([]);
    expect(readEvent('incident-no-instance.json').data).not.toHaveProperty('allTargets');
  });

  it('the custom incident uses a custom source (acs.* belongs to Alibaba Cloud services)', () => {
    expect(readEvent('incident-custom.json').source).not.toMatch(/^acs\./);
  });

  it('the checks reject malformed events', () => {
    expect(timerEventProblems({ triggerTime: 'yesterday', triggerName: '', payload: {} })).toHaveLength(3);
    expect(manualEventProblems({ instanceIds: 'dds-1', force: 'yes', everything: true })).toHaveLength(3);
    expect(cloudEventProblems({ specversion: '0.3', id: '', source: 'x', time: '27/11/2026' })).toEqual([
      'specversion must be "1.0"',
      'id must be a non-empty string',
      'type must be a non-empty string',
      'time must be an RFC 3339 timestamp',
      'data must be an object',
    ]);
  });
});
