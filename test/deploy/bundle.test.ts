/**
 * The bundles hold only what the functions run: every input esbuild put in them comes from
 * functions/ or node_modules/, never from the local cloud, the tests or the scripts, and the
 * packages the functions never reach (scripts/build/left-out.mjs) are stubs. And
 * `npm run bench:cold` runs and prints its figures (no timing is asserted).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeBundle, packageOfInput, readMetafile } from '../../scripts/bench-cold/bundle';
import { LEFT_OUT, stubName } from '../../scripts/build/left-out.mjs';
import { builtDist } from '../helpers/built';
import { PROJECT_ROOT } from './s-yaml';

describe('the built bundles', () => {
  let outDir: string;
  let functionNames: string[];

  beforeAll(() => {
    outDir = builtDist(); // built once for the run, with its metafiles
    functionNames = readdirSync(outDir)
      .filter((name) => name.endsWith('.meta.json'))
      .map((name) => name.slice(0, -'.meta.json'.length));
  }, 60_000);

  it('include the rotate function, each with its metafile', () => {
    expect(functionNames).toContain('rotate');
    for (const name of functionNames) expect(readdirSync(join(outDir, name)).filter((file) => file !== 'node_modules')).toEqual(['index.js']);
    expect(readdirSync(join(outDir, 'rotate', 'node_modules'))).toEqual(['mongodb']);
  });

  it('take nothing from the local cloud, the tests or the scripts', () => {
    for (const name of functionNames) {
      const metafile = readMetafile(outDir, name);
      const inputs = Object.keys(metafile.inputs);
      expect(inputs, name).toContain(`functions/${name}/index.ts`);
      expect(inputs.filter((path) => /^(local-cloud|test|scripts)\//.test(path)), name).toEqual([]);
      expect(analyzeBundle(metafile).strayInputs, name).toEqual([]);
    }
  });

  it('ship the mongodb driver apart from the rotate bundle, for the login check to load lazily', () => {
    const facts = analyzeBundle(readMetafile(outDir, 'rotate'));
    expect(facts.eagerPackages).not.toContain('mongodb');
    expect(facts.packages.map((p) => p.name)).not.toContain('mongodb');
    expect(facts.lazyPackages).toEqual(['mongodb']);
  });

  it('hold a stub, not the code, of every module left out', () => {
    const everywhere = LEFT_OUT.filter((entry) => !entry.importer).map((entry) => entry.module);
    for (const name of functionNames) {
      const facts = analyzeBundle(readMetafile(outDir, name));
      expect(facts.leftOut, name).toEqual(LEFT_OUT.map(stubName).sort());
      expect(facts.packages.map((p) => p.name).filter((p) => everywhere.includes(p)), name).toEqual([]);
      expect(readFileSync(join(outDir, name, 'index.js'), 'utf8'), name).toContain('LeftOutModuleReached');
    }
    // xml2js is left out only as @alicloud/rpc-util requires it: the one copy (package.json overrides it to a
    // version without CVE-2023-0842) stays for @darabonba/typescript, which parses XML error bodies with it.
    const [, output] = Object.entries(readMetafile(outDir, 'rotate').outputs).find(([path]) => path.endsWith('rotate/index.js'))!;
    const inputs = Object.keys(output.inputs);
    expect(inputs.filter((path) => path.includes('/xml2js/') && !path.startsWith('node_modules/xml2js/'))).toEqual([]);
    expect(inputs.filter((path) => /\/(websocket|file)\.js$|\/websocketUtils\//.test(path))).toEqual([]);
    expect(inputs.some((path) => path === 'node_modules/xml2js/lib/parser.js')).toBe(true);
    expect(inputs.some((path) => path === 'node_modules/xml2js/lib/builder.js')).toBe(true); // required by xml2js itself; xmlbuilder is the stub
  });

  it('leave the FC SDK to the dispatcher: the rotate function never invokes a function', () => {
    const packagesOf = (name: string) => analyzeBundle(readMetafile(outDir, name)).packages.map((p) => p.name);
    expect(packagesOf('rotate')).not.toContain('@alicloud/fc20230330');
    expect(packagesOf('dispatch')).toContain('@alicloud/fc20230330');
  });
});

describe('analyzeBundle', () => {
  const input = (imports: Metafile['inputs'][string]['imports'] = []) => ({ bytes: 1, imports });
  const metafile: Metafile = {
    inputs: {
      'functions/rotate/index.ts': input([
        { path: 'functions/shared/verify/login.ts', kind: 'import-statement', original: '../shared/verify/login' },
        { path: 'node_modules/@alicloud/openapi-core/dist/client.js', kind: 'import-statement', original: '@alicloud/openapi-core' },
        { path: 'local-cloud/state/model.ts', kind: 'import-statement', original: '../../local-cloud/state/model' },
      ]),
      'functions/shared/verify/login.ts': input([{ path: 'mongodb', kind: 'dynamic-import', external: true }]),
      'node_modules/@alicloud/openapi-core/dist/client.js': input([{ path: 'left-out:moment', kind: 'require-call', original: 'moment' }]),
      'left-out:moment': input(),
      'node_modules/mongodb/lib/index.js': input([{ path: 'node_modules/mongodb/node_modules/bson/lib/bson.cjs', kind: 'require-call', original: 'bson' }]),
      'node_modules/mongodb/node_modules/bson/lib/bson.cjs': input(),
      'local-cloud/state/model.ts': input([{ path: 'test/helpers/sdk.ts', kind: 'import-statement', original: '../../test/helpers/sdk' }]),
      'test/helpers/sdk.ts': input(),
    },
    outputs: {
      'dist/rotate/index.js': {
        bytes: 1000,
        entryPoint: 'functions/rotate/index.ts',
        imports: [],
        exports: [],
        inputs: {
          'functions/rotate/index.ts': { bytesInOutput: 50 },
          'functions/shared/verify/login.ts': { bytesInOutput: 30 },
          'node_modules/@alicloud/openapi-core/dist/client.js': { bytesInOutput: 300 },
          'left-out:moment': { bytesInOutput: 400 },
          'local-cloud/state/model.ts': { bytesInOutput: 10 },
          'test/helpers/sdk.ts': { bytesInOutput: 10 },
        },
      },
      'dist/rotate/node_modules/mongodb/index.js': {
        bytes: 600,
        imports: [],
        exports: [],
        inputs: {
          'node_modules/mongodb/lib/index.js': { bytesInOutput: 400 },
          'node_modules/mongodb/node_modules/bson/lib/bson.cjs': { bytesInOutput: 200 },
        },
      },
    },
  };

  it('finds inputs that are not function code, what the function imports eagerly and lazily, and what is left out', () => {
    const facts = analyzeBundle(metafile);
    expect(facts.strayInputs).toEqual(['local-cloud/state/model.ts', 'test/helpers/sdk.ts']);
    expect(facts.leftOut).toEqual(['moment']);
    expect(facts.eagerPackages).toEqual(['@alicloud/openapi-core']);
    expect(facts.lazyPackages).toEqual(['mongodb']);
    expect(facts.lazyBytes).toBe(600);
    expect(facts.outputBytes).toBe(1000);
  });

  it('sums the bundle per package, largest first, stubs aside', () => {
    expect(analyzeBundle(metafile).packages.slice(0, 2)).toEqual([
      { name: '@alicloud/openapi-core', bytes: 300, files: 1 },
      { name: 'functions/rotate', bytes: 50, files: 1 },
    ]);
    expect(packageOfInput('functions/shared/clients/dds.ts')).toBe('functions/shared');
    expect(packageOfInput('node_modules/a/node_modules/@s/b/lib/x.js')).toBe('@s/b');
  });
});

describe('npm run bench:cold', () => {
  it('is the package script', () => {
    const { scripts } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts['bench:cold']).toBe('tsx scripts/bench-cold.ts');
  });

  it('prints the bundle size, what it leaves out, its checks, load times of the bundle and of the unbundled SDKs, and their ratio', async () => {
    const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
    const { stdout } = await promisify(execFile)(tsx, [join(PROJECT_ROOT, 'scripts', 'bench-cold.ts'), '--runs', '1'], {
      cwd: PROJECT_ROOT,
      timeout: 60_000,
    });
    expect(stdout).toMatch(/^bundle {3}dist\/rotate\/index\.js: [\d,]+ bytes \(\d+ KiB\), gzip [\d,]+ bytes/m);
    expect(stdout).not.toMatch(/FAILED/);
    expect(stdout).toMatch(/^left out {2}.*\bmoment\b.*: never reached/m);
    expect(stdout.match(/^check .*: ok$/gm)).toHaveLength(3);
    const row = (name: string) => new RegExp(`^  ${name.replace(/[()/.+]/g, '\\$&')} +[\\d.]+ +[\\d.]+ +[\\d.]+ +[\\d.]+$`, 'm');
    expect(stdout).toMatch(row('bundle (dist/rotate/index.js)'));
    expect(stdout).toMatch(row('same SDKs, unbundled'));
    expect(stdout).toMatch(row('bundle + mongodb driver (first login check)'));
    expect(stdout).toMatch(/^ratio {4}bundle \/ unbundled SDKs, medians: load \d+%, whole process \d+%$/m);
  }, 60_000);
});
