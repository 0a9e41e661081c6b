/**
 * The report of a run with application users: root's results as before, each application user's naming its
 * account and strategy; `npm run invoke` prints an account column when there are application users.
 */
import { describe, expect, it } from 'vitest';
import { printText } from '../../scripts/invoke/print';
import { appFixture, instance, rootSecretName, userSecret, userSecretName } from './fixture';
import { forced, useAppHarness } from './harness';

const RS = 'dds-rsappreport01';

describe('the report', () => {
  const h = useAppHarness();

  it("names an application user's account and strategy, keeps root's result as it was, and prints the account", async () => {
    await h.start(
      appFixture(
        [instance({ id: RS, rootPassword: 'Root#Report-Pw01', users: [{ user: 'orders', password: 'Orders#Report-01' }, { user: 'reports', password: 'Reports#Report-1' }] })],
        [userSecret(RS, 'orders', 'Orders#Report-01'), userSecret(RS, 'reports', 'Reports#Report-1', { strategy: 'single' })],
      ),
    );
    const run = await h.run({
      targets: [{ instanceId: RS }, { instanceId: RS, accountName: 'orders' }, { instanceId: RS, accountName: 'reports', strategy: 'single' }],
      event: forced('report'),
    });
    const [root, orders, reports] = run.report!.results;
    expect(Object.keys(root)).toEqual(['instanceId', 'secretName', 'outcome', 'characterTypes', 'attempts', 'durationMs', 'versionId']);
    expect(root).toMatchObject({ secretName: rootSecretName(RS), characterTypes: ['normal'] });
    expect(Object.keys(orders).slice(0, 5)).toEqual(['instanceId', 'secretName', 'accountName', 'strategy', 'outcome']);
    expect(orders).toMatchObject({ secretName: userSecretName(RS, 'orders'), accountName: 'orders', strategy: 'alternating', characterTypes: [] });
    expect(reports).toMatchObject({ accountName: 'reports', strategy: 'single' });

    const lines = printText({ kind: 'report', requestId: 'report', report: run.report! }, 'mongodb-root-rotation').stdout.trimEnd().split('\n');
    expect(lines[1].split(/\s{2,}/).filter(Boolean)).toEqual(['instance', 'account', 'roles', 'outcome', 'version', 'attempts', 'duration', 'note']);
    expect(lines.slice(3, 6).map((line) => line.split(/\s{2,}/).filter(Boolean).slice(0, 4))).toEqual([
      [RS, 'root', 'normal', 'rotated'],
      [RS, 'orders (alternating)', '-', 'rotated'],
      [RS, 'reports (single)', '-', 'rotated'],
    ]);
  });
});
