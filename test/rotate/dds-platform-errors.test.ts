/**
 * DDS answers as the real API gives them (README "platform facts"): an unknown instance is
 * InvalidDBInstanceId.NotFound, a locked or busy instance 403, and InstanceStatusInvalid means "busy":
 * retried, never a failed rotation.
 */
import { describe, expect, it } from 'vitest';
import { fixture, fleet, target } from './fixture';
import { expectRotated, useHarness } from './harness';

const RS = 'dds-rs0platform1';
const GHOST = 'dds-bp1nothere000001';
const timer = (triggerTime: string) => ({ triggerTime, triggerName: 'daily', payload: '' });

describe('DDS errors as the platform answers them', () => {
  const h = useHarness();

  it('retries a reset refused with InstanceStatusInvalid (a busy instance) and completes the rotation', async () => {
    const cloud = await h.start(fleet(target(RS, { password: 'Old#Platform-Pw1' })));
    cloud.faults.error({ product: 'dds', action: 'ResetAccountPassword', code: 'InstanceStatusInvalid', httpStatus: 403, times: 2 });

    const run = await h.run({ event: timer('2026-11-27T03:00:00Z') });

    expect(run.report?.results).toMatchObject([{ outcome: 'rotated', attempts: expect.any(Number) }]);
    expect(run.report!.results[0].attempts).toBeGreaterThan(1);
    expect(run.logs.find((e) => e.msg === 'retrying ResetAccountPassword')[0]).toMatchObject({ error: { code: 'InstanceStatusInvalid' } });
    expectRotated(cloud, RS, 'Old#Platform-Pw1');
  });

  it('treats an instance DDS does not know (InvalidDBInstanceId.NotFound) as no target: refused, nothing written', async () => {
    const cloud = await h.start(fixture({ instances: [{ id: RS, password: 'Old#Platform-Pw1', tags: { rotation: 'enabled' } }], secrets: [] }));

    const run = await h.run({ event: { instanceIds: [GHOST], force: true }, targets: [], env: { ROTATION_TARGETS: undefined, ROTATION_TAG: 'rotation=enabled' } });

    expect(run.error?.name).toBe('PlanError');
    expect(run.error?.message).toBe(`Refusing the invocation: "${GHOST}" is not a rotation target (ROTATION_TARGETS, or tagged per ROTATION_TAG); nothing was changed`);
    expect(cloud.truth.requests.map((r) => [r.action, r.code])).toEqual([['DescribeDBInstanceAttribute', 'InvalidDBInstanceId.NotFound']]);
    expect(cloud.truth.writeRequests()).toEqual([]);
  });
});
