/** `npm start`'s scenario reads the example events: it must understand them as they are shipped. */
import { describe, expect, it } from 'vitest';
import { demoScenario } from '../../scripts/demo/scenario';
import { useCloudPerTest } from '../helpers/cloud';

describe('the npm start scenario', () => {
  const start = useCloudPerTest();

  it('names the instance that events/incident-actiontrail.json names, as EventBridge delivers it', async () => {
    const cloud = await start({});
    const [, incident, override] = demoScenario(cloud).steps;
    expect(incident.title).toBe('EventBridge incident from ActionTrail (AllocatePublicNetworkAddress on dds-bp17d3a9c5e1f2b64): forced, but rotated minutes ago, so the cooldown holds it');
    expect(incident.expected).toEqual({ 'dds-bp17d3a9c5e1f2b64': 'skipped' });
    expect(override.expected).toEqual({ 'dds-bp17d3a9c5e1f2b64': 'rotated' });
  });
});
