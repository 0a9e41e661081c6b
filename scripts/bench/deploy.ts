/**
 * The functions the benchmark runs, deployed to the local FC from s.yaml out of a fresh build, as a
 * deployer would configure them for the fleet: inline, the rotate function alone with MAX_CONCURRENCY
 * workers; fanned out, the dispatcher plus the rotate function with that many instances, each keeping to
 * its share of the rate limits.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LocalCloud } from '../../local-cloud';
import type { FunctionSpec } from '../../local-cloud/fc/types';
import { FLEET_TAG } from './fleet';
import type { BenchOptions } from './options';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ROTATE_FUNCTION = 'mongodb-root-rotation';
export const DISPATCH_FUNCTION = 'mongodb-root-rotation-dispatch';
/** The dispatcher's own pool: InvokeFunction calls in flight. */
const DISPATCH_CONCURRENCY = 16;
/** FC 3.0's longest function timeout. */
const MAX_TIMEOUT_SECONDS = 86_400;

/** `node scripts/build.mjs --outdir <tmp>/dist`; returns the folder s.yaml's `code: ./dist/<name>` is relative to. */
export async function buildBundles(): Promise<{ codeRoot: string; remove(): void }> {
  const codeRoot = mkdtempSync(join(tmpdir(), 'bench-build-'));
  await promisify(execFile)(process.execPath, [join(PROJECT_ROOT, 'scripts', 'build.mjs'), '--outdir', join(codeRoot, 'dist')], { cwd: PROJECT_ROOT });
  return { codeRoot, remove: () => rmSync(codeRoot, { recursive: true, force: true }) };
}

/** Registers the functions of `options.mode`; returns the one the benchmark invokes. */
export function deployFunctions(cloud: LocalCloud, codeRoot: string, options: BenchOptions, timeoutSeconds: number): string {
  const specs = cloud.fc.registerFromServerlessYaml(join(PROJECT_ROOT, 's.yaml'), {
    codeRoot,
    accountId: cloud.accountId,
    env: { ROTATION_TAG: `${FLEET_TAG.key}=${FLEET_TAG.value}` },
  });
  const spec = (name: string) => specs.find((s) => s.name === name) ?? missing(name);
  const rates = (share: number): Record<string, string> =>
    options.unknownRates ? {} : { DDS_QPS: String(options.ddsQps / share), KMS_QPS: String(options.kmsQps / share) };
  const timeout = Math.min(MAX_TIMEOUT_SECONDS, Math.ceil(timeoutSeconds));
  if (options.mode === 'inline') {
    redeploy(cloud, spec(ROTATE_FUNCTION), { MAX_CONCURRENCY: String(options.concurrency), ...rates(1) }, timeout);
    return ROTATE_FUNCTION;
  }
  // Fanned out, no one rate limiter sees every call: each of the `concurrency` instances keeps to its share.
  redeploy(cloud, spec(ROTATE_FUNCTION), { MAX_CONCURRENCY: '1', ...rates(options.concurrency) });
  cloud.fc.putConcurrency(ROTATE_FUNCTION, options.concurrency);
  redeploy(cloud, spec(DISPATCH_FUNCTION), { MAX_CONCURRENCY: String(DISPATCH_CONCURRENCY), DDS_QPS: options.unknownRates ? '' : String(options.ddsQps) }, timeout);
  return DISPATCH_FUNCTION;
}

function redeploy(cloud: LocalCloud, spec: FunctionSpec, environment: Record<string, string>, timeoutSeconds = spec.timeoutSeconds): void {
  cloud.fc.register({ ...spec, environment: { ...spec.environment, ...environment }, timeoutSeconds: Math.max(spec.timeoutSeconds, timeoutSeconds) });
}

function missing(name: string): never {
  throw new Error(`s.yaml declares no function ${name}`);
}
