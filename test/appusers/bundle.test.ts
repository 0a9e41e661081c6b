/**
 * The built function (`node scripts/build.mjs`) on the local FC, each run in its own process as FC runs it: it
 * rotates an instance's root, then its application users; the dispatcher hands an instance over once; and a run
 * SIGKILLed at any step of an application user's rotation (as a KMS call or a user command arrives, or once it
 * was applied) is completed by the next run of the same trigger. The rule holds at every instant (the monitor
 * checks it after every write and user command), and no password reaches a log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { LocalCloud } from '../../local-cloud';
import type { RotationReport } from '../../functions/rotate/report';
import { useSecrecyWatch } from '../helpers/secrecy';
import { buildBundle, deployRotation, FUNCTION_NAME, invoke, removeBundle, reportOfRun, REPO } from '../triggers/deployed';
import { appFixture, instance, rootSecretName, userSecret, userSecretName } from './fixture';
import { labelled } from './harness';

const RS = 'dds-rsappbundle01';
const SH = 'dds-shappbundle01';
const ROOT_PW = 'Root#Bundle-Pw-01';
const ORDERS_PW = 'Orders#Bundle-P01';
const REPORTS_PW = 'Reports#Bundle-P1';
const DISPATCH = 'mongodb-root-rotation-dispatch';

const fixture = () =>
  appFixture(
    [
      instance({ id: RS, rootPassword: ROOT_PW, users: [{ user: 'orders', password: ORDERS_PW }, { user: 'reports', password: REPORTS_PW }] }),
      instance({ id: SH, type: 'sharding', rootPassword: ROOT_PW, users: [{ user: 'orders', password: ORDERS_PW }] }),
    ],
    [userSecret(RS, 'orders', ORDERS_PW), userSecret(RS, 'reports', REPORTS_PW, { strategy: 'single' }), userSecret(SH, 'orders', ORDERS_PW)],
  );

const TARGETS = [
  { instanceId: RS, accountName: 'orders' },
  { instanceId: RS, accountName: 'reports', strategy: 'single' },
  { instanceId: RS },
  { instanceId: SH },
  { instanceId: SH, accountName: 'orders' },
];
const ENVIRONMENT = { ROTATION_TARGETS: JSON.stringify(TARGETS), ALLOW_PLAINTEXT_USER_ADMIN: 'true', FORCED_ROTATION_COOLDOWN_MINUTES: '0' };

describe('the built function', () => {
  const watch = useSecrecyWatch();
  let codeRoot: string;
  let cloud: LocalCloud | undefined;

  beforeAll(async () => {
    codeRoot = await buildBundle();
  }, 120_000);

  afterAll(() => removeBundle(codeRoot));

  afterEach(async () => {
    await cloud?.close();
    cloud = undefined;
  });

  const start = async (): Promise<LocalCloud> => {
    cloud = await watch.start({ fixture: fixture(), mongoPeers: true });
    deployRotation(cloud, codeRoot, { targets: [], environment: ENVIRONMENT });
    return cloud;
  };

  /** A sync run through the official FC client: the report it returned or logged, and whether FC saw it killed. */
  const run = async (current: LocalCloud, event: object): Promise<{ report?: RotationReport; killed: boolean }> => {
    const invocation = await invoke(current, event);
    const record = current.fc.invocations.find((r) => r.requestId === invocation.requestId)!;
    return { report: reportOfRun(record), killed: record.status === 'failed' && /Process exited unexpectedly/.test(record.error?.errorMessage ?? '') };
  };

  it("rotates each instance's root, then its application users, and names the account in the report", async () => {
    const current = await start();
    const { report } = await run(current, { force: true, rotationId: 'bundle-all' });

    expect(report?.results.map((r) => [r.instanceId, r.accountName ?? 'root', r.strategy ?? '-', r.outcome])).toEqual([
      [RS, 'root', '-', 'rotated'],
      [RS, 'orders', 'alternating', 'rotated'],
      [RS, 'reports', 'single', 'rotated'],
      [SH, 'root', '-', 'rotated'],
      [SH, 'orders', 'alternating', 'rotated'],
    ]);
    // Within an instance, root's reset lands before its users are touched; the users' commands log in as root with its new password.
    const resetAt = (id: string) => current.truth.requests.filter((r) => r.action === 'ResetAccountPassword' && r.params.DBInstanceId === id).map((r) => r.time).sort().at(-1)!;
    for (const id of [RS, SH]) {
      const commands = current.mongo.commands.filter((c) => c.instanceId === id && ['createUser', 'updateUser'].includes(c.command));
      expect(commands.length).toBeGreaterThan(0);
      expect(commands.every((c) => c.time >= resetAt(id) && c.user === 'root@admin' && c.ok)).toBe(true);
    }
    expect(labelled(current, RS, 'orders')?.user).toBe('orders_clone');
    expect(labelled(current, SH, 'orders')?.user).toBe('orders_clone');
    expect(current.truth.userPassword(RS, 'reports')).toBe(labelled(current, RS, 'reports')?.password);
    expect(current.truth.rootPassword(RS)).toBe(current.truth.secretPassword(rootSecretName(RS)));
  });

  it('is handed each instance once by the dispatcher, and rotates its root, then its users, in that one run', async () => {
    cloud = await watch.start({ fixture: fixture(), mongoPeers: true });
    const current = cloud;
    current.fc.registerFromServerlessYaml(join(REPO, 's.yaml'), { codeRoot, accountId: current.accountId, env: ENVIRONMENT });
    for (const name of [FUNCTION_NAME, DISPATCH]) {
      const spec = current.fc.spec(name);
      // Fleet mode as s.yaml describes it: the dispatcher's timer enabled.
      current.fc.register({ ...spec, environment: { ...spec.environment, ...ENVIRONMENT }, triggers: spec.triggers?.map((t) => ({ ...t, enable: t.enable || name === DISPATCH })) });
    }

    const dispatched = await current.fc.fireTimer(DISPATCH, 'fleet-dispatch', { triggerTime: '2026-11-27T03:00:00Z' });
    expect(JSON.parse(dispatched.result!.toString('utf8'))).toMatchObject({ summary: { dispatched: 2, alreadyDispatched: 0, failed: 0 } });
    await current.fc.whenIdle();

    const rotations = current.fc.invocations.filter((r) => r.functionName === FUNCTION_NAME);
    expect(rotations.map((r) => JSON.parse(r.event.toString('utf8')).instanceIds).sort()).toEqual([[RS], [SH]]);
    const outcomes = rotations.map((r) => reportOfRun(r)!.results.map((result) => `${result.instanceId} ${result.accountName ?? 'root'} ${result.outcome}`));
    expect(outcomes.flat().sort()).toEqual([`${RS} orders rotated`, `${RS} reports rotated`, `${RS} root rotated`, `${SH} orders rotated`, `${SH} root rotated`]);
    for (const results of outcomes) expect(results[0]).toMatch(/ root rotated$/);
  });

  describe('killed at any step of an application user rotation, then run again with the same trigger', () => {
    /** Where the first run is killed: as a KMS call or a user command arrives (never applied), or once it was applied. */
    const KILLS = [
      { at: 'PutSecretValue arrives', kms: { action: 'PutSecretValue', phase: 'arrive' as const } },
      { at: 'PutSecretValue is applied', kms: { action: 'PutSecretValue', phase: 'after' as const } },
      { at: 'createUser arrives', mongo: { command: 'createUser', phase: 'arrive' as const } },
      { at: 'createUser is applied', mongo: { command: 'createUser', phase: 'after' as const } },
      { at: 'the login check pings', mongo: { command: 'ping', when: (c: { user?: { user: string } }) => c.user?.user === 'orders_clone', phase: 'arrive' as const } },
      { at: 'ACSCurrent is moved', kms: { action: 'UpdateSecretVersionStage', phase: 'after' as const } },
      { at: 'ACSPending is removed', kms: { action: 'UpdateSecretVersionStage', nth: 2, phase: 'arrive' as const } },
      { at: 'the single user is changed', mongo: { command: 'updateUser', phase: 'after' as const }, single: true },
    ];

    it.each(KILLS)('$at', async (kill) => {
      const current = await start();
      const target = kill.single ? { instanceId: RS, accountName: 'reports', strategy: 'single' } : { instanceId: RS, accountName: 'orders' };
      const user = kill.single ? 'reports' : 'orders';
      const secret = userSecretName(RS, user);
      current.fc.register({ ...current.fc.spec(FUNCTION_NAME), environment: { ...ENVIRONMENT, ...current.fc.spec(FUNCTION_NAME).environment, ROTATION_TARGETS: JSON.stringify([target]) } });
      const before = labelled(current, RS, user)!;
      const killFunction = async () => {
        const pids = current.fc.pids();
        for (const pid of pids) process.kill(pid, 'SIGKILL');
        while (pids.some(alive)) await new Promise((resolve) => setTimeout(resolve, 5));
      };
      const hook = kill.kms
        ? current.faults.onAction({ product: 'kms', action: kill.kms.action, nth: kill.kms.nth, when: (p) => p.SecretName === secret, phase: kill.kms.phase }, killFunction)
        : current.mongo.onCommand({ instanceId: RS, ...kill.mongo! }, killFunction);
      const event = { force: true, rotationId: `killed-${kill.at.replaceAll(' ', '-')}` };

      const first = await run(current, event);
      expect(hook.hits).toBe(1);
      expect(first.killed).toBe(true);
      hook.remove();
      await current.mongo.settled();

      const second = await run(current, event);
      expect(['rotated', 'resumed', 'skipped']).toContain(second.report?.results[0]?.outcome);
      const after = labelled(current, RS, user)!;
      expect(after.password).not.toBe(before.password);
      expect(current.truth.userPassword(RS, after.user)).toBe(after.password);
      expect(labelled(current, RS, user, 'ACSPending')).toBeUndefined();
      expect(labelled(current, RS, user, 'ACSPrevious')).toEqual(before);
      if (!kill.single) {
        expect(after.user).toBe('orders_clone');
        expect(current.truth.userPassword(RS, 'orders')).toBe(ORDERS_PW); // the user applications held was never touched
      }
      expect(current.truth.secret(secret)!.versions).toHaveLength(2); // one rotation, one version
    });
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
