/**
 * What the demo does with the demo fleet, and what each target should come to: the targets are
 * the instances tagged rotation=enabled; the expectations follow from the fixture (a secret
 * rotated two days ago is not due, a locked instance fails, the others rotate). Then an incident
 * arrives for an instance the timer has just rotated: the forced-rotation cooldown holds it, until the
 * on-call engineer overrides the cooldown, with a reason.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LocalCloud } from '../../local-cloud';
import { DEMO_FIXTURE_PATH, loadFixture } from '../../local-cloud/state';
import type { InvocationRecord } from '../../local-cloud/fc/types';
import { deliverEvent } from './eventbridge';

export type Outcome = 'rotated' | 'resumed' | 'skipped' | 'planned' | 'failed';

export interface DemoTarget {
  instanceId: string;
  secretName: string;
  type: string;
}

export interface DemoStep {
  title: string;
  /** Outcome expected per instance id; targets left out are not part of this run. */
  expected: Record<string, Outcome>;
  invoke(functionName: string): Promise<InvocationRecord>;
}

export interface DemoScenario {
  targets: DemoTarget[];
  steps: DemoStep[];
}

const NOT_DUE = 'dds-bp1a4c7e2f9d3b5a8';
const INCIDENT_EVENT = path.join(__dirname, '..', '..', 'events', 'incident-actiontrail.json');

export function demoScenario(cloud: LocalCloud): DemoScenario {
  const targets = loadFixture(DEMO_FIXTURE_PATH).instances
    .filter((instance) => instance.tags?.rotation === 'enabled')
    .map((instance) => ({ instanceId: instance.id, secretName: `mongodb/${instance.id}/root`, type: instance.type }));
  const scheduled = Object.fromEntries(targets.map((t) => [t.instanceId, scheduledOutcome(cloud, t)]));
  const incident = readFileSync(INCIDENT_EVENT);
  const { data } = JSON.parse(incident.toString('utf8')) as { data: { eventName: string; referencedResources: Record<string, string[]> } };
  const named = Object.values(data.referencedResources).flat().find((id) => id.startsWith('dds-'))!;
  return {
    targets,
    steps: [
      {
        title: 'Timer trigger "daily-rotation" (scheduled rules: rotate what is older than 30 days)',
        expected: scheduled,
        invoke: (functionName) => cloud.fc.fireTimer(functionName, 'daily-rotation'),
      },
      {
        // Async, as EventBridge delivers it (s.yaml: asyncInvocationType): queued, retried on failure.
        title: `EventBridge incident from ActionTrail (${data.eventName} on ${named}): forced, but rotated minutes ago, so the cooldown holds it`,
        expected: { [named]: 'skipped' },
        invoke: (functionName) => deliverEvent(cloud, functionName, incident),
      },
      {
        title: `The on-call engineer forces ${named} past the cooldown ("ignoreCooldown": true, with a reason)`,
        expected: { [named]: 'rotated' },
        invoke: (functionName) => deliverEvent(cloud, functionName, Buffer.from(JSON.stringify(override(named, data.eventName))), { async: false }),
      },
    ],
  };
}

/** The manual event an operator sends (`npm run invoke -- --instance … --force --ignore-cooldown --reason …`). */
function override(instanceId: string, eventName: string) {
  return { instanceIds: [instanceId], force: true, ignoreCooldown: true, rotationId: 'demo-override-1', reason: `ActionTrail ${eventName}: rotate now` };
}

function scheduledOutcome(cloud: LocalCloud, target: DemoTarget): Outcome {
  if (cloud.truth.instance(target.instanceId)?.lockMode !== 'Unlock') return 'failed';
  return target.instanceId === NOT_DUE ? 'skipped' : 'rotated';
}
