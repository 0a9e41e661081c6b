/**
 * What the demo does with the demo fleet, and what each target should come to: the targets are
 * the instances tagged rotation=enabled; the expectations follow from the fixture (a secret
 * rotated two days ago is not due, a locked instance fails, the others rotate).
 */
import type { LocalCloud } from '../../local-cloud';
import { DEMO_FIXTURE_PATH, loadFixture } from '../../local-cloud/state';
import type { InvocationRecord } from '../../local-cloud/fc/types';

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

export function demoScenario(cloud: LocalCloud): DemoScenario {
  const targets = loadFixture(DEMO_FIXTURE_PATH).instances
    .filter((instance) => instance.tags?.rotation === 'enabled')
    .map((instance) => ({ instanceId: instance.id, secretName: `mongodb/${instance.id}/root`, type: instance.type }));
  const scheduled = Object.fromEntries(targets.map((t) => [t.instanceId, scheduledOutcome(cloud, t)]));
  return {
    targets,
    steps: [
      {
        title: 'Timer trigger "daily-rotation" (scheduled rules: rotate what is older than 30 days)',
        expected: scheduled,
        invoke: (functionName) => cloud.fc.fireTimer(functionName, 'daily-rotation'),
      },
    ],
  };
}

function scheduledOutcome(cloud: LocalCloud, target: DemoTarget): Outcome {
  if (cloud.truth.instance(target.instanceId)?.lockMode !== 'Unlock') return 'failed';
  return target.instanceId === NOT_DUE ? 'skipped' : 'rotated';
}
