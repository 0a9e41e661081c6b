/**
 * `npm run build` makes a bundle FC can run with no node_modules: built into a temporary folder, copied
 * alone to another one outside the repository, required by a plain `node` child there, and run for one
 * real rotation against the local cloud.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { builtDist } from '../helpers/built';
import { startCloud } from '../helpers/cloud';
import { findLeaks, rotationEnv } from '../helpers/rotate';
import { ACCESS_KEY, fleet, secretName, target } from './fixture';

const run = promisify(execFile);
const RS = 'dds-rs0bundle01';
const SHARDED = 'dds-sh0bundle01';

/** Loads the bundle the way FC does (`index.handler`, `index.initialize`) and invokes it once with a Buffer event. */
const INVOKE = `
const fs = require('fs');
const fn = require('./index.js');
const context = JSON.parse(process.env.TEST_CONTEXT);
(async () => {
  if (typeof fn.handler !== 'function' || typeof fn.initialize !== 'function') throw new Error('exports: ' + Object.keys(fn));
  await fn.initialize(context);
  const report = await fn.handler(Buffer.from(process.env.TEST_EVENT), context);
  fs.writeFileSync('report.json', JSON.stringify(report));
})().catch((err) => { console.error('invocation failed: ' + err.message); process.exit(1); });
`;

describe('the built bundle', () => {
  let buildDir: string;
  let runDir: string;
  let cloud: LocalCloud;

  beforeAll(async () => {
    buildDir = builtDist();
    runDir = mkdtempSync(join(tmpdir(), 'rotate-run-'));
    copyFileSync(join(buildDir, 'rotate', 'index.js'), join(runDir, 'index.js'));
    cloud = await startCloud({ port: 0, fixture: fleet(target(RS, { password: 'Old#Bundle-Pw1' }), target(SHARDED, { type: 'sharding', password: 'Old#Bundle-Pw2' })) });
  }, 60_000);

  afterAll(async () => {
    await cloud?.close();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  });

  it('runs a rotation from a folder with no node_modules anywhere above it', async () => {
    for (let dir = runDir; ; dir = dirname(dir)) {
      expect(existsSync(join(dir, 'node_modules'))).toBe(false);
      if (dir === parse(dir).root) break;
    }
    const targets = [RS, SHARDED].map((instanceId) => ({ instanceId, secretName: secretName(instanceId) }));
    const context = {
      requestId: 'bundle-test-1',
      credentials: { accessKeyId: ACCESS_KEY.id, accessKeySecret: ACCESS_KEY.secret },
      function: { name: 'mongodb-root-rotation', handler: 'index.handler', timeout: 60 },
      region: cloud.region,
    };
    const { stdout } = await run(process.execPath, ['-e', INVOKE], {
      cwd: runDir,
      env: {
        PATH: process.env.PATH,
        ...rotationEnv(cloud, targets),
        TEST_CONTEXT: JSON.stringify(context),
        TEST_EVENT: JSON.stringify({ triggerTime: '2026-11-27T03:00:00Z', triggerName: 'daily', payload: '' }),
      },
      timeout: 30_000,
    });

    const report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8'));
    expect(report.results).toMatchObject([
      { instanceId: RS, outcome: 'rotated', characterTypes: ['normal'] },
      { instanceId: SHARDED, outcome: 'rotated', characterTypes: ['db', 'cs'] },
    ]);
    for (const id of [RS, SHARDED]) {
      const current = cloud.truth.secretPassword(secretName(id));
      expect(Object.values(cloud.truth.rootPasswords(id)).every((held) => held === current)).toBe(true);
    }
    expect(cloud.truth.rootPassword(RS)).not.toBe('Old#Bundle-Pw1');
    expect(cloud.truth.violations).toEqual([]);

    const lines = stdout.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(findLeaks([stdout, JSON.stringify(report)], cloud.truth.passwordsSeen())).toEqual([]);
  });
});
