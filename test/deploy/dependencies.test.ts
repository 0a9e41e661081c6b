/**
 * Dependencies with known advisories are kept out of what the functions run. xml2js before 0.5.0
 * lets a crafted XML document set `__proto__` (CVE-2023-0842, GHSA-776f-qx25-q3cc, fixed in
 * 0.5.0); @alicloud/rpc-util (through @alicloud/rpc-client, the KMS client's transport) asks for
 * ^0.4.22, so package.json overrides it. These checks read what is installed and locked, so they
 * hold without the registry's audit endpoint.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './s-yaml';

/** The first version no longer affected by CVE-2023-0842. */
const XML2JS_FIXED = [0, 5, 0];

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

function parseVersion(version: string): number[] {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) throw new Error(`not a version: ${version}`);
  return match.slice(1, 4).map(Number);
}

function atLeast(version: string, minimum: number[]): boolean {
  const parts = parseVersion(version);
  for (let i = 0; i < 3; i++) if (parts[i] !== minimum[i]) return parts[i] > minimum[i];
  return true;
}

/** Every installed copy of a package under node_modules, nested ones included: path → version. */
function installedCopies(name: string, dir = path.join(PROJECT_ROOT, 'node_modules')): Record<string, string> {
  const copies: Record<string, string> = {};
  const own = path.join(dir, name, 'package.json');
  if (existsSync(own)) copies[path.relative(PROJECT_ROOT, path.dirname(own))] = readJson<{ version: string }>(own).version;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.bin') continue;
    const packages = entry.name.startsWith('@') ? readdirSync(path.join(dir, entry.name)).map((n) => path.join(entry.name, n)) : [entry.name];
    for (const pkg of packages) {
      const nested = path.join(dir, pkg, 'node_modules');
      if (existsSync(nested)) Object.assign(copies, installedCopies(name, nested));
    }
  }
  return copies;
}

describe('xml2js (CVE-2023-0842)', () => {
  it('is overridden in package.json to a release with the fix', () => {
    const { overrides } = readJson<{ overrides?: Record<string, string> }>(path.join(PROJECT_ROOT, 'package.json'));
    const range = overrides?.xml2js ?? '';
    expect(range).toMatch(/^[\^~]?\d+\.\d+\.\d+$/);
    expect(atLeast(range.replace(/^[\^~]/, ''), XML2JS_FIXED), range).toBe(true);
  });

  it('is locked at a fixed version everywhere package-lock.json places it', () => {
    const { packages } = readJson<{ packages: Record<string, { version?: string }> }>(path.join(PROJECT_ROOT, 'package-lock.json'));
    const locked = Object.entries(packages).filter(([where]) => where.endsWith('node_modules/xml2js'));
    expect(locked.length).toBeGreaterThan(0);
    for (const [where, { version }] of locked) expect(atLeast(version ?? '0.0.0', XML2JS_FIXED), `${where}@${version}`).toBe(true);
  });

  it('is installed only at a fixed version, including the copy @alicloud/rpc-util loads', () => {
    const copies = installedCopies('xml2js');
    expect(Object.keys(copies).length).toBeGreaterThan(0);
    for (const [where, version] of Object.entries(copies)) expect(atLeast(version, XML2JS_FIXED), `${where}@${version}`).toBe(true);
    const fromRpcUtil = require.resolve('xml2js/package.json', { paths: [path.join(PROJECT_ROOT, 'node_modules/@alicloud/rpc-util')] });
    expect(atLeast(readJson<{ version: string }>(fromRpcUtil).version, XML2JS_FIXED)).toBe(true);
  });

  it('would catch a vulnerable version', () => {
    expect(atLeast('0.4.23', XML2JS_FIXED)).toBe(false);
    expect(atLeast('0.5.0', XML2JS_FIXED)).toBe(true);
    expect(atLeast('1.0.0', XML2JS_FIXED)).toBe(true);
  });
});
