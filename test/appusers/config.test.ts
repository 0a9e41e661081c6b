/**
 * Application-user targets in ROTATION_TARGETS (docs/design.md §9): the fields and their defaults, the secret
 * names SECRET_NAME_TEMPLATE gives them, the root secret each logs in with, TLS and ALLOW_PLAINTEXT_USER_ADMIN,
 * and every ConfigError naming the target and the fix.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/shared/config';
import { configProblem } from '../helpers/config';
import { CA_FILE } from '../verify/tls-proxy';

const targets = (...items: object[]) => ({ ROTATION_TARGETS: JSON.stringify(items) });

describe('application-user targets', () => {
  it('are alternating on admin by default, named by the template, and log in with the root secret of their instance', () => {
    const config = loadConfig(targets({ instanceId: 'dds-a1' }, { instanceId: 'dds-a1', accountName: 'orders' }, { instanceId: 'dds-b2', accountName: 'reports', strategy: 'single', authDatabase: 'app' }));
    expect(config.targets).toEqual([
      { instanceId: 'dds-a1', secretName: 'mongodb/dds-a1/root', accountName: 'root' },
      { instanceId: 'dds-a1', secretName: 'mongodb/dds-a1/orders', accountName: 'orders', authDatabase: 'admin', strategy: 'alternating', rootSecretName: 'mongodb/dds-a1/root' },
      { instanceId: 'dds-b2', secretName: 'mongodb/dds-b2/reports', accountName: 'reports', authDatabase: 'app', strategy: 'single', rootSecretName: 'mongodb/dds-b2/root' },
    ]);
  });

  it("log in with the root target's own secretName when the instance has one", () => {
    const config = loadConfig(
      targets({ instanceId: 'dds-a1', accountName: 'orders', secretName: 'apps/orders' }, { instanceId: 'dds-a1', secretName: 'admins/dds-a1' }),
    );
    expect(config.targets.find((t) => t.accountName === 'orders')).toMatchObject({ secretName: 'apps/orders', rootSecretName: 'admins/dds-a1' });
  });

  it('fill {accountName} of a custom template, root with "root"', () => {
    const config = loadConfig({ ...targets({ instanceId: 'dds-a1' }, { instanceId: 'dds-a1', accountName: 'orders' }), SECRET_NAME_TEMPLATE: 'db/{accountName}@{instanceId}' });
    expect(config.targets.map((t) => t.secretName)).toEqual(['db/root@dds-a1', 'db/orders@dds-a1']);
    expect(config.targets[1]).toMatchObject({ rootSecretName: 'db/root@dds-a1' });
  });

  it('go over TLS unless the target or ALLOW_PLAINTEXT_USER_ADMIN allows plain text, which they record', () => {
    const both = targets({ instanceId: 'dds-a1', accountName: 'orders' }, { instanceId: 'dds-a1', accountName: 'reports', allowPlaintext: true });
    expect(loadConfig(both).targets.map((t) => ('plaintextAllowedBy' in t ? t.plaintextAllowedBy : 'tls'))).toEqual(['tls', 'allowPlaintext']);
    const everyone = loadConfig({ ...both, ALLOW_PLAINTEXT_USER_ADMIN: 'true' });
    expect(everyone.allowPlaintextUserAdmin).toBe(true);
    expect(everyone.targets.map((t) => ('plaintextAllowedBy' in t ? t.plaintextAllowedBy : 'tls'))).toEqual(['ALLOW_PLAINTEXT_USER_ADMIN', 'allowPlaintext']);
  });

  it('take VERIFY_TLS_CA_FILE for their TLS connections without VERIFY_TLS, which root targets alone still need', () => {
    const config = loadConfig({ ...targets({ instanceId: 'dds-a1', accountName: 'orders' }), VERIFY_TLS_CA_FILE: CA_FILE });
    expect(config.verifyLogin.tls).toEqual({ enabled: false, caFile: CA_FILE });
    expect(configProblem({ ...targets({ instanceId: 'dds-a1', accountName: 'orders', allowPlaintext: true }), VERIFY_TLS_CA_FILE: CA_FILE })).toMatch(
      /^VERIFY_TLS_CA_FILE is set but VERIFY_TLS is not true/,
    );
  });

  it('may be the only targets of an instance', () => {
    expect(loadConfig(targets({ instanceId: 'dds-a1', accountName: 'orders' })).targets).toHaveLength(1);
  });
});

describe('ConfigErrors naming the target and the fix', () => {
  it.each([
    [
      'an unknown strategy',
      [{ instanceId: 'dds-a1', accountName: 'orders', strategy: 'rolling' }],
      'ROTATION_TARGETS item 0 (the target "dds-a1" accountName "orders") "strategy" must be "alternating" (two users, no application ever refused) or "single" (one user), got "rolling"',
    ],
    [
      'root with a strategy',
      [{ instanceId: 'dds-a1', accountName: 'root', strategy: 'alternating' }],
      'ROTATION_TARGETS item 0 ("dds-a1", accountName "root") has "strategy", a field of application users: root is reset through ResetAccountPassword, one user, over the API; remove "strategy", or name the application user in "accountName"',
    ],
    [
      'root with an authDatabase',
      [{ instanceId: 'dds-a1', authDatabase: 'app' }],
      'ROTATION_TARGETS item 0 ("dds-a1", accountName "root") has "authDatabase", a field of application users',
    ],
    [
      'the same account of an instance twice',
      [{ instanceId: 'dds-a1', accountName: 'orders' }, { instanceId: 'dds-a1', accountName: 'orders', secretName: 'other' }],
      'ROTATION_TARGETS names instanceId "dds-a1" twice for accountName "orders"; each account of an instance is one target',
    ],
    [
      'the same secret for two users',
      [{ instanceId: 'dds-a1', accountName: 'orders', secretName: 'shared' }, { instanceId: 'dds-a1', accountName: 'reports', secretName: 'shared' }],
      'ROTATION_TARGETS names secretName "shared" twice; each target needs its own',
    ],
    [
      'the root secret for a user',
      [{ instanceId: 'dds-a1', accountName: 'orders', secretName: 'mongodb/dds-a1/root' }],
      'ROTATION_TARGETS the target "dds-a1" accountName "orders" has secretName "mongodb/dds-a1/root", the root secret of dds-a1: give the application user a secret of its own, e.g. "mongodb/dds-a1/orders"',
    ],
    [
      'verify on a user',
      [{ instanceId: 'dds-a1', accountName: 'orders', verify: false }],
      'ROTATION_TARGETS item 0 (the target "dds-a1" accountName "orders") has "verify": application users are always verified by logging in',
    ],
    [
      'the clone named as the user',
      [{ instanceId: 'dds-a1', accountName: 'orders_clone' }],
      'ROTATION_TARGETS item 0 (the target "dds-a1" accountName "orders_clone") "accountName" ends in _clone: name the first user of the pair ("orders")',
    ],
    [
      'a bad authDatabase',
      [{ instanceId: 'dds-a1', accountName: 'orders', authDatabase: 'local' }],
      'ROTATION_TARGETS item 0 (the target "dds-a1" accountName "orders") "authDatabase" must be the database the user is defined on',
    ],
    [
      'a bad allowPlaintext',
      [{ instanceId: 'dds-a1', accountName: 'orders', allowPlaintext: 'yes' }],
      'ROTATION_TARGETS item 0 (the target "dds-a1" accountName "orders") "allowPlaintext" must be true or false, got "yes"',
    ],
    ['a user name no secret name can hold', [{ instanceId: 'dds-a1', accountName: 'or ders' }], 'ROTATION_TARGETS item 0 "accountName" must be "root" or the name of a MongoDB user'],
  ])('%s', (_, items, message) => {
    const problem = configProblem(targets(...items));
    expect(problem.slice(0, message.length)).toBe(message);
    expect(problem).toMatch(/; for example ROTATION_TARGETS=/);
  });

  it('a user without secretName under a template without {accountName}, which would name the root secret', () => {
    expect(configProblem({ ...targets({ instanceId: 'dds-a1', accountName: 'orders' }), SECRET_NAME_TEMPLATE: 'mongodb/{instanceId}/root' })).toBe(
      'ROTATION_TARGETS item 0 (the target "dds-a1" accountName "orders") has no "secretName" and SECRET_NAME_TEMPLATE "mongodb/{instanceId}/root" has no {accountName}, ' +
        'so it would name the root secret: give the target its "secretName", or put {accountName} in SECRET_NAME_TEMPLATE (e.g. mongodb/{instanceId}/{accountName}); ' +
        'for example ROTATION_TARGETS=[{"instanceId":"dds-bp1a2b3c4d5e6f7g","secretName":"mongodb/dds-bp1a2b3c4d5e6f7g/root"}]',
    );
    // With its own secretName, the same target is fine.
    const config = loadConfig({ ...targets({ instanceId: 'dds-a1', accountName: 'orders', secretName: 'apps/orders' }), SECRET_NAME_TEMPLATE: 'mongodb/{instanceId}/root' });
    expect(config.targets[0]).toMatchObject({ secretName: 'apps/orders', rootSecretName: 'mongodb/dds-a1/root' });
  });

  it('ALLOW_PLAINTEXT_USER_ADMIN that is not true or false', () => {
    expect(configProblem({ ...targets({ instanceId: 'dds-a1' }), ALLOW_PLAINTEXT_USER_ADMIN: 'yes' })).toBe(
      'ALLOW_PLAINTEXT_USER_ADMIN must be true or false, got "yes"; for example ALLOW_PLAINTEXT_USER_ADMIN=false',
    );
  });
});
