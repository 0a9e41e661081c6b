/**
 * A single user (docs/design.md §9): `updateUser` changes the one user's password; its roles and mechanisms stay.
 * Its password is always in ACSCurrent or ACSPending (the local cloud's monitor checks it after every command); the
 * password applications held stops working at the change, which alternating users avoid.
 */
import { describe, expect, it } from 'vitest';
import { appFixture, instance, userSecret, userSecretName } from './fixture';
import { forced, labelled, stagesOf, useAppHarness, userCommands } from './harness';

const RS = 'dds-rsappsingle01';
const ROOT_PW = 'Root#Single-Pw01';
const REPORTS_PW = 'Reports#Single-01';
const REPORTS = { instanceId: RS, accountName: 'reports', strategy: 'single', authDatabase: 'app' };
const ROLES = [{ role: 'read', db: 'app' }];

describe('a single user', () => {
  const h = useAppHarness();

  it('changes the one user, twice, keeping its roles and mechanisms; its password is in ACSCurrent or ACSPending throughout', async () => {
    const cloud = await h.start(
      appFixture(
        [instance({ id: RS, rootPassword: ROOT_PW, users: [{ user: 'reports', db: 'app', password: REPORTS_PW, roles: ROLES, mechanisms: ['SCRAM-SHA-1'] }] })],
        [userSecret(RS, 'reports', REPORTS_PW, { db: 'app', strategy: 'single' })],
      ),
    );
    // Just before and after the change: the user holds ACSCurrent's password, then ACSPending's.
    const held: Array<string | undefined> = [];
    const holds = () => {
      const password = cloud.truth.userPassword(RS, 'reports', 'app');
      held.push(password === labelled(cloud, RS, 'reports')?.password ? 'ACSCurrent' : password === labelled(cloud, RS, 'reports', 'ACSPending')?.password ? 'ACSPending' : password);
    };
    cloud.mongo.onCommand({ instanceId: RS, command: 'updateUser', phase: 'before' }, holds);
    cloud.mongo.onCommand({ instanceId: RS, command: 'updateUser', phase: 'after' }, holds);

    let previous = REPORTS_PW;
    for (const round of [1, 2]) {
      const run = await h.run({ targets: [REPORTS], event: forced(`single-${round}`) });
      expect(run.report?.results).toMatchObject([{ secretName: userSecretName(RS, 'reports'), accountName: 'reports', strategy: 'single', outcome: 'rotated', characterTypes: [] }]);
      const current = labelled(cloud, RS, 'reports')!;
      expect(current.user).toBe('reports');
      expect(current.password).not.toBe(previous);
      expect(labelled(cloud, RS, 'reports', 'ACSPrevious')).toEqual({ user: 'reports', password: previous });
      expect(cloud.truth.users(RS).find((u) => u.user === 'reports')).toMatchObject({ db: 'app', password: current.password, roles: ROLES, mechanisms: ['SCRAM-SHA-1'] });
      expect(await h.login(RS, { user: 'reports', password: current.password, db: 'app' })).toBe('ok');
      expect(await h.login(RS, { user: 'reports', password: previous, db: 'app' })).toBe(18);
      previous = current.password;
    }
    expect(held).toEqual(['ACSCurrent', 'ACSPending', 'ACSCurrent', 'ACSPending']);
    // Each rotation: the check before staging (the user exists), then the rotation's own usersInfo and updateUser.
    expect(userCommands(cloud, RS)).toEqual(['usersInfo', 'usersInfo', 'updateUser', 'usersInfo', 'usersInfo', 'updateUser']);
    expect(cloud.truth.users(RS).map((u) => u.user)).toEqual(['root', 'reports']);
    expect(Object.values(stagesOf(cloud, userSecretName(RS, 'reports')))).toEqual([[], ['ACSPrevious'], ['ACSCurrent']]);
  });

  it('keeps the new password pending when it does not log in, and the next run applies the same one', async () => {
    const cloud = await h.start(
      appFixture([instance({ id: RS, rootPassword: ROOT_PW, users: [{ user: 'reports', db: 'app', password: REPORTS_PW, roles: ROLES }] })], [userSecret(RS, 'reports', REPORTS_PW, { db: 'app', strategy: 'single' })]),
    );
    // The new password, again after re-applying it, and the old one: all refused (a login path that lags).
    const refusing = cloud.mongo.rejectLogins(RS, { user: 'reports', db: 'app', times: 3 });
    // The login check gives up at once (VERIFY_WAIT_SECONDS=0) rather than keep trying a password that may land late.
    const first = await h.run({ targets: [REPORTS], event: forced('single-refused'), env: { VERIFY_WAIT_SECONDS: '0' } });
    expect(refusing.hits).toBe(3);
    expect(first.report?.results).toMatchObject([{ outcome: 'failed', error: { code: 'VerifyLoginFailed', message: expect.stringContaining('keeps ACSPending') } }]);
    const pending = labelled(cloud, RS, 'reports', 'ACSPending')!;
    expect(labelled(cloud, RS, 'reports')).toEqual({ user: 'reports', password: REPORTS_PW });
    expect(cloud.truth.userPassword(RS, 'reports', 'app')).toBe(pending.password);

    const second = await h.run({ targets: [REPORTS], event: forced('single-again') });
    expect(second.report?.results).toMatchObject([{ outcome: 'resumed', versionId: first.report!.results[0].versionId }]);
    expect(labelled(cloud, RS, 'reports')).toEqual(pending);
    expect(labelled(cloud, RS, 'reports', 'ACSPending')).toBeUndefined();
  });
});
