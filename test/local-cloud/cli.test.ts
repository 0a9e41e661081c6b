import { builtDist } from '../helpers/built';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEMO_FIXTURE_PATH } from '../../local-cloud/state';
import { Readable } from 'node:stream';
import { MongoClient } from 'mongodb';
import { fcClient, fcModels, kmsClient, kmsModels } from '../helpers/sdk';

const ROOT = resolve(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const LISTENING = /^local cloud listening on (http:\/\/127\.0\.0\.1:(\d+))$/;

const fixture = {
  region: 'cn-beijing',
  accessKeys: [{ id: 'LTAI5tCliTest01', secret: 'cli-secret-01' }],
  instances: [{ id: 'dds-bp1clitest01', type: 'replicate', rootPassword: 'Cli#Start-0001' }],
  secrets: [
    {
      name: 'mongodb/dds-bp1clitest01/root',
      instanceId: 'dds-bp1clitest01',
      versions: [{ versionId: 'v1', data: '{"AccountName":"root","AccountPassword":"Cli#Start-0001"}', stages: ['ACSCurrent'], createTime: '-40d' }],
    },
  ],
};

/** A running command, its output split into lines as they arrive. */
class Command {
  readonly stdout: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private pending = '';

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (this.pending + chunk).split('\n');
      this.pending = parts.pop()!;
      this.stdout.push(...parts);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  async line(pattern: RegExp): Promise<RegExpMatchArray> {
    for (;;) {
      const found = this.stdout.map((l) => pattern.exec(l)).find((m) => m !== null);
      if (found) return found;
      if (this.child.exitCode !== null) throw new Error(`exited with ${this.child.exitCode}: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describe('npm run local-cloud', () => {
  let dir: string;
  const running: Command[] = [];
  const start = (command: string, args: string[]) => {
    // Its own process group, so that cleanup can end npm, tsx and node together.
    const cmd = new Command(spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
    running.push(cmd);
    return cmd;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-cloud-cli-'));
    writeFileSync(join(dir, 'fleet.json'), JSON.stringify(fixture));
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ ...fixture, instances: [{ id: 'dds-x', type: 'shard', rootPassword: 'x' }] }));
  });
  afterEach(async () => {
    for (const cmd of running.splice(0)) {
      if (cmd.child.exitCode === null && cmd.child.signalCode === null) {
        process.kill(-cmd.child.pid!, 'SIGKILL');
        await cmd.exited;
      }
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the fixture, prints where and with which keys, and stops cleanly on SIGTERM', async () => {
    const cmd = start('npm', ['run', 'local-cloud', '--', '--port', '0', '--fixture', join(dir, 'fleet.json')]);
    const [, endpoint, port] = await cmd.line(LISTENING);
    const ours = cmd.stdout.filter((l) => l !== '' && !l.startsWith('> '));
    expect(ours[0]).toBe(`local cloud listening on ${endpoint}`);
    await cmd.line(/^access key LTAI5tCliTest01 {2}secret cli-secret-01$/);

    const cloud = { host: `127.0.0.1:${port}`, region: fixture.region, accessKeys: fixture.accessKeys };
    const secret = await kmsClient(cloud).getSecretValue(new kmsModels.GetSecretValueRequest({ secretName: fixture.secrets[0].name }));
    expect(secret.versionId).toBe('v1');

    cmd.child.kill('SIGTERM');
    expect(await cmd.exited).toBe(0);
    await expect(fetch(endpoint)).rejects.toThrow();
    expect(cmd.stdout.join('\n')).not.toContain('GetSecretValue');
    expect(cmd.stdout.join('\n')).not.toContain('Cli#Start-0001');
  });

  it('gives every instance a MongoDB peer with --mongo-peers, applying the fixture\'s mongoFaults', async () => {
    writeFileSync(join(dir, 'peers.json'), JSON.stringify({ ...fixture, mongoFaults: [{ kind: 'rejectLogins', instanceId: 'dds-bp1clitest01', times: 1 }] }));
    const cmd = start(TSX, ['local-cloud/cli.ts', '--port', '0', '--fixture', join(dir, 'peers.json'), '--mongo-peers']);
    const [, host, port] = await cmd.line(/^MongoDB peer of dds-bp1clitest01 on (127\.0\.0\.1):(\d+)$/);
    const login = async () => {
      const client = new MongoClient(`mongodb://${host}:${port}/`, { auth: { username: 'root', password: 'Cli#Start-0001' }, directConnection: true, serverSelectionTimeoutMS: 5_000 });
      try {
        return await client.db('admin').command({ ping: 1 });
      } finally {
        await client.close();
      }
    };
    await expect(login()).rejects.toMatchObject({ code: 18 });
    await expect(login()).resolves.toEqual({ ok: 1 });
    cmd.child.kill('SIGTERM');
    expect(await cmd.exited).toBe(0);
  });

  it('serves the demo fleet without --fixture, and stops on SIGINT', async () => {
    const cmd = start(TSX, ['local-cloud/cli.ts', '--port', '0']);
    await cmd.line(LISTENING);
    expect(cmd.stdout[0]).toMatch(LISTENING);
    const demo = JSON.parse(readFileSync(DEMO_FIXTURE_PATH, 'utf8')) as { accessKeys: { id: string }[] };
    for (const key of demo.accessKeys) await cmd.line(new RegExp(`^access key ${key.id.replace('.', '\\.')} `));
    cmd.child.kill('SIGINT');
    expect(await cmd.exited).toBe(0);
  });

  it('refuses a bad fixture with the field that is wrong, and exits 1', async () => {
    const cmd = start(TSX, ['local-cloud/cli.ts', '--port', '0', '--fixture', join(dir, 'broken.json')]);
    expect(await cmd.exited).toBe(1);
    expect(cmd.stderr).toContain('instances[0].type: must be "replicate" or "sharding", got "shard"');
    expect(cmd.stdout.join('')).toBe('');
  });

  it('deploys the functions an s.yaml declares from their built code, ready for InvokeFunction', async () => {
    copyFileSync(join(ROOT, 's.yaml'), join(dir, 's.yaml'));
    cpSync(builtDist(), join(dir, 'dist'), { recursive: true }); // the functions built once for the run
    const targets = JSON.stringify([{ instanceId: 'dds-bp1clitest01', secretName: fixture.secrets[0].name }]);
    const cmd = new Command(
      spawn(TSX, [join(ROOT, 'local-cloud/cli.ts'), '--port', '0', '--fixture', join(dir, 'fleet.json'), '--deploy', join(dir, 's.yaml')], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
        env: { ...process.env, ROTATION_TARGETS: targets },
      }),
    );
    running.push(cmd);
    const [, , port] = await cmd.line(LISTENING);
    await cmd.line(/^function mongodb-root-rotation deployed from .*s\.yaml/);

    const cloud = { host: `127.0.0.1:${port}`, region: fixture.region, accessKeys: fixture.accessKeys };
    const event = Readable.from(Buffer.from(JSON.stringify({ instanceIds: ['dds-bp1clitest01'], force: true })));
    const response = await fcClient(cloud).invokeFunction('mongodb-root-rotation', new fcModels.InvokeFunctionRequest({ body: event }));
    const chunks: Buffer[] = [];
    for await (const chunk of response.body ?? []) chunks.push(Buffer.from(chunk as Buffer));
    const report = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    expect(report.results).toMatchObject([{ instanceId: 'dds-bp1clitest01', outcome: 'rotated' }]);
    cmd.child.kill('SIGTERM');
    expect(await cmd.exited).toBe(0);
  });

  it('refuses to deploy functions that are not built', async () => {
    writeFileSync(join(dir, 'unbuilt.yaml'), readFileSync(join(ROOT, 's.yaml'), 'utf8').replaceAll('./dist/', './nowhere/'));
    const cmd = start(TSX, ['local-cloud/cli.ts', '--port', '0', '--deploy', join(dir, 'unbuilt.yaml')]);
    expect(await cmd.exited).toBe(1);
    expect(cmd.stderr).toContain('not built; run npm run build first');
  });
});
