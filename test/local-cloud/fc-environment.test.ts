/**
 * The local FC refuses the environment variables Function Compute refuses: names beginning with
 * `FC_` (reserved), and more than 4 KB in all. Deploying from an s.yaml goes through the same check.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalFc, ENVIRONMENT_SIZE_LIMIT_BYTES, environmentSize, type FunctionSpec, type LocalFc } from '../../local-cloud/fc';

const REPO = path.resolve(__dirname, '../..');
const ECHO = path.join(REPO, 'test/fixtures/functions/echo');
const ROLE_KEY = { id: 'STS.fc-env-role', secret: 'role-secret', securityToken: 'role-token' };

const spec = (environment: Record<string, string>): FunctionSpec => ({
  name: 'env-check',
  codeDir: ECHO,
  handler: 'index.handler',
  timeoutSeconds: 5,
  memoryMB: 128,
  environment,
});

/** Variables whose JSON form takes exactly `bytes` bytes. */
function environmentOfSize(bytes: number): Record<string, string> {
  const environment = { PADDING: '' };
  environment.PADDING = 'x'.repeat(bytes - environmentSize(environment));
  return environment;
}

describe('local FC: environment variables', () => {
  let fc: LocalFc;
  let dir: string;

  beforeEach(() => {
    fc = createLocalFc({ region: 'cn-hangzhou', accountId: '1234567890123456', roleKey: ROLE_KEY });
    dir = mkdtempSync(path.join(tmpdir(), 'fc-env-'));
  });

  afterEach(async () => {
    await fc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a name beginning with FC_ with FC’s message, and deploys nothing', () => {
    expect(() => fc.register(spec({ DDS_ENDPOINT: 'mongodb.aliyuncs.com', FC_ENDPOINT: 'https://example' }))).toThrow(
      "InvalidArgument: The environment variable name 'FC_ENDPOINT' is reserved by Function Compute",
    );
    expect(() => fc.spec('env-check')).toThrow();
  });

  it('accepts the names FC allows, FC_ inside a name included', () => {
    fc.register(spec({ ROTATION_FC_ENDPOINT: 'https://example', lower_case: 'x', A1: 'y' }));
    expect(fc.spec('env-check').environment.ROTATION_FC_ENDPOINT).toBe('https://example');
  });

  it('refuses a name that does not start with a letter', () => {
    expect(() => fc.register(spec({ '1ST': 'x' }))).toThrow(/InvalidArgument: The environment variable name '1ST' is invalid/);
    expect(() => fc.register(spec({ 'A-B': 'x' }))).toThrow(/InvalidArgument: The environment variable name 'A-B' is invalid/);
  });

  it('accepts 4 KB of variables and refuses one byte more, naming the size', () => {
    fc.register(spec(environmentOfSize(ENVIRONMENT_SIZE_LIMIT_BYTES)));
    expect(() => fc.register(spec(environmentOfSize(ENVIRONMENT_SIZE_LIMIT_BYTES + 1)))).toThrow(
      "InvalidArgument: The environment variables take 4097 bytes, more than Function Compute's limit of 4 KB (4096 bytes)",
    );
  });

  it('counts multi-byte characters and JSON escapes, as the request body carries them', () => {
    expect(environmentSize({ A: 'é' })).toBe('{"A":"é"}'.length + 1);
    expect(environmentSize({ T: '[{"instanceId":"dds-1"}]' })).toBe(JSON.stringify({ T: '[{"instanceId":"dds-1"}]' }).length);
  });

  it('refuses an s.yaml that sets a reserved name when it deploys it', () => {
    const file = path.join(dir, 's.yaml');
    writeFileSync(
      file,
      [
        'edition: 3.0.0',
        'name: reserved',
        'resources:',
        '  fn:',
        '    component: fc3',
        '    props:',
        '      functionName: reserved-name',
        `      code: ${ECHO}`,
        '      handler: index.handler',
        '      environmentVariables:',
        "        FC_ENDPOINT: ${env('FC_ENDPOINT', '')}",
        '',
      ].join('\n'),
    );
    expect(() => fc.registerFromServerlessYaml(file, { env: {} })).toThrow(
      "InvalidArgument: The environment variable name 'FC_ENDPOINT' is reserved by Function Compute",
    );
  });
});
