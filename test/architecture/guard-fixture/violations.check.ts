/**
 * Run only by invariant-guard.test.ts, in a vitest of its own (vitest.config.mts here): one test that breaks the
 * invariant and says nothing (the guard must fail it), one that opts out with a reason, one that writes cleanly.
 */
import { expect, it } from 'vitest';
import { startCloud } from '../../helpers/cloud';

const RS = 'dds-bp1guardcheck01';
const fixture = {
  region: 'cn-hangzhou',
  accessKeys: [{ id: 'LTAI5tGuardCheckKey1', secret: 'guard-check-secret-1' }],
  instances: [{ id: RS, type: 'replicate', rootPassword: 'Check#Start-Pw1' }],
  secrets: [
    {
      name: `mongodb/${RS}/root`,
      instanceId: RS,
      versions: [{ versionId: 'v1', data: JSON.stringify({ AccountName: 'root', AccountPassword: 'Check#Start-Pw1' }), stages: ['ACSCurrent'] }],
    },
  ],
};

it('breaks the invariant without a word', async () => {
  const cloud = await startCloud({ fixture });
  cloud.truth.setRootPassword(RS, 'Check#Drift-Pw2');
  await cloud.close();
});

it('breaks it with a written reason', async () => {
  const cloud = await startCloud({ fixture }, { violationsAllowed: 'the test drifts the password on purpose' });
  cloud.truth.setRootPassword(RS, 'Check#Drift-Pw3');
  await cloud.close();
});

it('keeps it', async () => {
  const cloud = await startCloud({ fixture });
  expect(cloud.truth.rootPassword(RS)).toBe('Check#Start-Pw1');
  await cloud.close();
});
