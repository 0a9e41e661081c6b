/**
 * `npm run local-cloud -- [--port 9000] [--fixture path/to/fleet.json] [--deploy s.yaml] [--mongo-peers]`
 *
 * Starts the local cloud, prints `local cloud listening on http://127.0.0.1:<port>` once it accepts
 * requests, then the access keys it accepts, and runs until SIGINT or SIGTERM. Without `--fixture`
 * it serves the demo fleet. `--deploy` puts the functions an s.yaml declares on the local FC, from
 * their built code (`npm run build` first), with the s.yaml's `${env(...)}` read from this
 * process's environment (ROTATION_TARGETS, ROTATION_TAG, …). `--mongo-peers` gives every instance a
 * MongoDB peer (local-cloud/mongo) and prints its address. It never prints the request log.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readServerlessYaml } from './fc';
import { startLocalCloud, type LocalCloud } from './index';
import { FixtureError } from './state';

const DEFAULT_PORT = 9000;
const USAGE = 'usage: npm run local-cloud -- [--port 9000] [--fixture path/to/fleet.json] [--deploy s.yaml] [--mongo-peers]';

async function main(): Promise<void> {
  const { port, fixture, deploy, mongoPeers } = readArguments(process.argv.slice(2));
  const cloud = await startLocalCloud({ port, fixture, mongoPeers });
  try {
    const deployed = deploy === undefined ? [] : deployFunctions(cloud, deploy);
    process.stdout.write(`local cloud listening on ${cloud.endpoint}\n${describeCloud(cloud)}${deployed.join('')}`);
  } catch (err) {
    await cloud.close();
    throw err;
  }
  await stopOnSignal(cloud);
}

function readArguments(args: string[]): { port: number; fixture?: string; deploy?: string; mongoPeers: boolean } {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      fixture: { type: 'string' },
      deploy: { type: 'string' },
      'mongo-peers': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be a port number from 0 to 65535, got "${values.port}"`);
  }
  return { port, fixture: values.fixture, deploy: values.deploy, mongoPeers: values['mongo-peers'] === true };
}

/** Registers the s.yaml's functions; their code must be built. Returns one line per function. */
function deployFunctions(cloud: LocalCloud, file: string): string[] {
  if (!existsSync(file)) throw new UsageError(`--deploy: no file ${JSON.stringify(file)}`);
  const unbuilt = readServerlessYaml(file).filter((spec) => !existsSync(spec.codeDir));
  if (unbuilt.length > 0) {
    throw new UsageError(`--deploy: ${unbuilt.map((spec) => path.relative(process.cwd(), spec.codeDir)).join(', ')} not built; run npm run build first`);
  }
  return cloud.fc.registerFromServerlessYaml(file).map((spec) => `function ${spec.name} deployed from ${file} (${path.relative(process.cwd(), spec.codeDir)}, handler ${spec.handler})\n`);
}

function describeCloud(cloud: LocalCloud): string {
  const lines = [`region ${cloud.region}, account ${cloud.accountId}`];
  for (const key of cloud.accessKeys) {
    const token = key.securityToken === undefined ? '' : `  security token ${key.securityToken}`;
    lines.push(`access key ${key.id}  secret ${key.secret}${token}`);
  }
  for (const id of cloud.mongo.instanceIds) {
    const peer = cloud.mongo.peer(id);
    lines.push(`MongoDB peer of ${id} on ${peer.host}:${peer.port}`);
  }
  return `${lines.join('\n')}\n`;
}

function stopOnSignal(cloud: LocalCloud): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      cloud.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

class UsageError extends Error {}

main().catch((err: unknown) => {
  if (err instanceof FixtureError || err instanceof UsageError) {
    process.stderr.write(`${err.message}\n${err instanceof UsageError ? `${USAGE}\n` : ''}`);
  } else {
    process.stderr.write(`local cloud failed to start: ${(err as Error).message}\n`);
  }
  process.exitCode = 1;
});
