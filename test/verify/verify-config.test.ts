import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/shared/config';
import { configProblem } from '../helpers/config';
import { CA_FILE, TLS_FIXTURES } from './tls-proxy';

const ID = 'dds-bp1a2b3c4d5e6f7g';
const TARGETS = JSON.stringify([{ instanceId: ID }]);
const scratch = mkdtempSync(join(tmpdir(), 'verify-config-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const problem = (env: Record<string, string>) => configProblem({ ROTATION_TARGETS: TARGETS, ...env });

describe('login check configuration', () => {
  it('is off by default, with a 5 s timeout and no TLS', () => {
    expect(loadConfig({ ROTATION_TARGETS: TARGETS }).verifyLogin).toEqual({ enabled: false, timeoutMs: 5000, waitMs: 30_000, tls: { enabled: false } });
  });

  it('reads VERIFY_LOGIN, VERIFY_TIMEOUT_MS, VERIFY_WAIT_SECONDS, VERIFY_TLS and VERIFY_TLS_CA_FILE', () => {
    const config = loadConfig({ ROTATION_TARGETS: TARGETS, VERIFY_LOGIN: 'true', VERIFY_TIMEOUT_MS: '500', VERIFY_WAIT_SECONDS: '0', VERIFY_TLS: 'TRUE', VERIFY_TLS_CA_FILE: CA_FILE });
    expect(config.verifyLogin).toEqual({ enabled: true, timeoutMs: 500, waitMs: 0, tls: { enabled: true, caFile: CA_FILE } });
  });

  it('reads "verify" and "connectionHost" per target', () => {
    const targets = [
      { instanceId: 'dds-a1', verify: true, connectionHost: 'dds-a1.mongodb.rds.aliyuncs.com:3717' },
      { instanceId: 'dds-b2', verify: false },
      { instanceId: 'dds-c3', connectionHost: '[fd00::7]:3717' },
    ];
    expect(loadConfig({ ROTATION_TARGETS: JSON.stringify(targets) }).targets).toEqual([
      { instanceId: 'dds-a1', secretName: 'mongodb/dds-a1/root', accountName: 'root', verify: true, connectionHost: 'dds-a1.mongodb.rds.aliyuncs.com:3717' },
      { instanceId: 'dds-b2', secretName: 'mongodb/dds-b2/root', accountName: 'root', verify: false },
      { instanceId: 'dds-c3', secretName: 'mongodb/dds-c3/root', accountName: 'root', connectionHost: '[fd00::7]:3717' },
    ]);
  });

  it.each([
    [{ VERIFY_LOGIN: 'yes' }, /^VERIFY_LOGIN must be true or false, got "yes"; for example VERIFY_LOGIN=true$/],
    [{ VERIFY_TIMEOUT_MS: '499' }, /^VERIFY_TIMEOUT_MS must be a whole number from 500 to 60000, got "499"/],
    [{ VERIFY_TIMEOUT_MS: '60001' }, /^VERIFY_TIMEOUT_MS must be a whole number from 500 to 60000/],
    [{ VERIFY_TLS: '1' }, /^VERIFY_TLS must be true or false, got "1"/],
    [{ VERIFY_TLS_CA_FILE: CA_FILE }, /^VERIFY_TLS_CA_FILE is set but VERIFY_TLS is not true: set VERIFY_TLS=true to use it, or unset it/],
  ])('refuses %o', (env, message) => {
    expect(problem(env)).toMatch(message);
  });

  it('refuses a CA file it cannot read, at start rather than at the first login', () => {
    const missing = join(scratch, 'missing.pem');
    expect(problem({ VERIFY_TLS: 'true', VERIFY_TLS_CA_FILE: missing })).toBe(
      `VERIFY_TLS_CA_FILE cannot be read (no such file): ${JSON.stringify(missing)}; for example VERIFY_TLS_CA_FILE=/code/ApsaraDB-CA-Chain.pem`,
    );
    expect(problem({ VERIFY_TLS: 'true', VERIFY_TLS_CA_FILE: TLS_FIXTURES })).toMatch(/^VERIFY_TLS_CA_FILE must be a file, got the directory /);
    const present = join(scratch, 'ca.pem');
    writeFileSync(present, 'not checked for content here: the driver reads it');
    expect(loadConfig({ ROTATION_TARGETS: TARGETS, VERIFY_TLS: 'true', VERIFY_TLS_CA_FILE: present }).verifyLogin.tls.caFile).toBe(present);
  });

  it.each([
    [{ verify: 'true' }, /^ROTATION_TARGETS item 0 "verify" must be true or false, got "true"/],
    [{ connectionHost: 'dds-a1.mongodb.rds.aliyuncs.com' }, /^ROTATION_TARGETS item 0 "connectionHost" must be host:port, such as "dds-bp1a2b3c4d5e6f7g\.mongodb\.rds\.aliyuncs\.com:3717", got "dds-a1\.mongodb\.rds\.aliyuncs\.com"/],
    [{ connectionHost: 'host:99999' }, /"connectionHost" must be host:port/],
    [{ connectionHost: 3717 }, /"connectionHost" must be host:port, .*, got a number/],
  ])('refuses the target field %o', (fields, message) => {
    expect(problem({ ROTATION_TARGETS: JSON.stringify([{ instanceId: ID, ...fields }]) })).toMatch(message);
  });
});
