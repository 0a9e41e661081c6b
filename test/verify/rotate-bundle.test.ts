/**
 * The real function bundle (`node scripts/build.mjs`) carries the `mongodb` driver but evaluates it only
 * when a login is checked, so functions that do not verify pay nothing for it at start-up. The bundle runs
 * alone in a plain `node` child (no node_modules above it), which records the Node built-in modules it
 * requires: the built-ins the driver requires when it is evaluated must not appear after a whole rotation
 * without the login check, and must after one with it.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { builtDist } from '../helpers/built';
import { startCloud } from '../helpers/cloud';
import { findLeaks, rotationEnv } from '../helpers/rotate';
import { defaultKey } from '../helpers/sdk';
import { fleet, secretName, target } from '../rotate/fixture';

const run = promisify(execFile);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PLAIN = 'dds-rs0lazy01';
const VERIFIED = 'dds-rs0lazy02';

/** Records every built-in module required from now on; `snapshot()` lists them. */
const RECORD_BUILTINS = `
const Module = require('node:module');
const builtins = new Set();
const original = Module.prototype.require;
Module.prototype.require = function (id) {
  if (Module.isBuiltin(id)) builtins.add(id.replace(/^node:/, ''));
  return original.apply(this, arguments);
};
const snapshot = () => [...builtins].sort();
`;

/** Loads the bundle as FC does, then rotates one target without the login check and one with it. */
const PROBE = `${RECORD_BUILTINS}
const fs = require('fs');
const fn = require('./index.js');
const atLoad = snapshot();
const context = JSON.parse(process.env.TEST_CONTEXT);
const invoke = (instanceId) => fn.handler(Buffer.from(JSON.stringify({ instanceIds: [instanceId] })), { ...context, requestId: 'probe-' + instanceId });
(async () => {
  await fn.initialize(context);
  const plain = await invoke(${JSON.stringify(PLAIN)});
  const afterPlain = snapshot();
  const verified = await invoke(${JSON.stringify(VERIFIED)});
  const afterVerified = snapshot();
  fs.writeFileSync('probe.json', JSON.stringify({ atLoad, afterPlain, afterVerified, results: [...plain.results, ...verified.results] }));
})().catch((err) => { console.error('invocation failed: ' + err.message); process.exit(1); });
`;

const DRIVER = `${RECORD_BUILTINS}
require('mongodb');
process.stdout.write(JSON.stringify(snapshot()));
`;

let buildDir: string;
let runDir: string;
let cloud: LocalCloud;

beforeAll(async () => {
  buildDir = builtDist();
  runDir = mkdtempSync(join(tmpdir(), 'verify-run-'));
  cpSync(join(buildDir, 'rotate'), runDir, { recursive: true });
  const fixture = fleet(target(PLAIN, { password: 'Old#Lazy-Pw1' }), target(VERIFIED, { password: 'Old#Lazy-Pw2' }));
  cloud = await startCloud({ port: 0, fixture, mongoPeers: true });
}, 60_000);

afterAll(async () => {
  await cloud?.close();
  if (runDir) rmSync(runDir, { recursive: true, force: true });
});

it('evaluates the driver only when a target verifies its login', async () => {
  const targets = [
    { instanceId: PLAIN, secretName: secretName(PLAIN) },
    { instanceId: VERIFIED, secretName: secretName(VERIFIED), verify: true },
  ];
  const key = defaultKey(cloud);
  const context = {
    requestId: 'probe',
    credentials: { accessKeyId: key.id, accessKeySecret: key.secret, securityToken: key.securityToken },
    function: { name: 'mongodb-root-rotation', timeout: 60 },
    region: cloud.region,
  };
  const env = { PATH: process.env.PATH, ...rotationEnv(cloud, targets), TEST_CONTEXT: JSON.stringify(context) };
  const { stdout } = await run(process.execPath, ['-e', PROBE], { cwd: runDir, env, timeout: 30_000 });
  const probe = JSON.parse(readFileSync(join(runDir, 'probe.json'), 'utf8')) as Record<string, string[]> & { results: Array<Record<string, unknown>> };

  expect(probe.results).toMatchObject([
    { instanceId: PLAIN, outcome: 'rotated' },
    { instanceId: VERIFIED, outcome: 'rotated' },
  ]);
  const steps = stdout.split('\n').filter((line) => line.includes('"step":"verify"')).map((line) => JSON.parse(line));
  expect(steps).toMatchObject([{ instanceId: VERIFIED, msg: 'verify done', outcome: 'ok' }]);
  expect(findLeaks([stdout], cloud.truth.passwordsSeen())).toEqual([]);
  expect(cloud.truth.violations).toEqual([]);

  const driverBuiltins = JSON.parse((await run(process.execPath, ['-e', DRIVER], { cwd: repo })).stdout) as string[];
  const driverOnly = driverBuiltins.filter((id) => !probe.afterPlain!.includes(id));
  expect(driverOnly.length).toBeGreaterThan(0);
  expect(probe.afterVerified).toEqual(expect.arrayContaining(driverOnly));
});
