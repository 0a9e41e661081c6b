import { accessSync, constants, statSync } from 'node:fs';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password';
import { VerifyAddressError, parseConnectionHost } from './verify/address';

/** Every environment variable loadConfig reads (design §5); s.yaml is checked against this list. */
export const CONFIG_VARIABLES = [
  'ROTATION_TARGETS',
  'ROTATION_TAG',
  'SECRET_NAME_TEMPLATE',
  'ROTATION_INTERVAL_DAYS',
  'PASSWORD_LENGTH',
  'MAX_CONCURRENCY',
  'EVENT_SOURCES',
  'DRY_RUN',
  'CREATE_MISSING_SECRETS',
  'ALIBABA_CLOUD_REGION_ID',
  'DDS_ENDPOINT',
  'KMS_ENDPOINT',
  'ROTATION_FC_ENDPOINT',
  'DDS_QPS',
  'KMS_QPS',
  'VERIFY_LOGIN',
  'VERIFY_TIMEOUT_MS',
  'VERIFY_TLS',
  'VERIFY_TLS_CA_FILE',
] as const;

export type ConfigVariable = (typeof CONFIG_VARIABLES)[number];
export type Env = Readonly<Record<string, string | undefined>>;

/** The only account ResetAccountPassword can reset. */
export const ROOT_ACCOUNT = 'root';

export interface RotationTarget {
  instanceId: string;
  secretName: string;
  accountName: typeof ROOT_ACCOUNT;
  /** Overrides VERIFY_LOGIN for this target. */
  verify?: boolean;
  /** `host:port` to log in to instead of the address DescribeDBInstanceAttribute gives. */
  connectionHost?: string;
}

/** The login check before promotion (design §3, step 5). */
export interface VerifyLoginConfig {
  /** VERIFY_LOGIN: every target verifies unless it says `"verify": false`. */
  enabled: boolean;
  /** Bounds each stage of one login: reaching the server, the handshake, the `ping`. */
  timeoutMs: number;
  tls: { enabled: boolean; caFile?: string };
}

/** What an unset VERIFY_* variable means. */
export const VERIFY_LOGIN_DEFAULTS: VerifyLoginConfig = { enabled: false, timeoutMs: 5_000, tls: { enabled: false } };

export interface Endpoint {
  host: string;
  protocol: 'http' | 'https';
}

export interface Config {
  /** In the order of ROTATION_TARGETS. */
  targets: RotationTarget[];
  rotationTag?: { key: string; value: string };
  secretNameTemplate: string;
  rotationIntervalDays: number;
  passwordLength: number;
  maxConcurrency: number;
  eventSources: string[];
  dryRun: boolean;
  createMissingSecrets: boolean;
  /** Unset: the FC context's region. */
  regionId?: string;
  /** Unset: the region's public endpoint. */
  endpoints: { dds?: Endpoint; kms?: Endpoint; fc?: Endpoint };
  /** DDS_QPS, KMS_QPS: the API rate each product allows this function. Unset: found out by slowing down when throttled. */
  apiRates: { dds?: number; kms?: number };
  verifyLogin: VerifyLoginConfig;
}

/** A configuration value that cannot be used: names the variable, the problem and a good example. */
export class ConfigError extends Error {
  readonly code = 'InvalidConfiguration';

  constructor(
    readonly variable: ConfigVariable,
    problem: string,
    example: string,
  ) {
    super(`${variable} ${problem}; for example ${variable}=${example}`);
    this.name = 'ConfigError';
  }
}

export const INSTANCE_ID = /^[a-z][a-z0-9-]{0,63}$/;
/** KMS's rule for secret names; generic secrets must not start with `acs/`. */
const SECRET_NAME = /^[A-Za-z0-9_/+=.@-]{1,192}$/;
const REGION_ID = /^[a-z]{2,}(-[a-z0-9]+)+$/;
const EVENT_SOURCE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TAG_PART = /^[^\s=,][^=,]{0,127}$/;
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;
const TARGET_FIELDS = ['instanceId', 'secretName', 'accountName', 'verify', 'connectionHost'];

const EXAMPLES: Record<ConfigVariable, string> = {
  ROTATION_TARGETS: '[{"instanceId":"dds-bp1a2b3c4d5e6f7g","secretName":"mongodb/dds-bp1a2b3c4d5e6f7g/root"}]',
  ROTATION_TAG: 'rotation=enabled',
  SECRET_NAME_TEMPLATE: 'mongodb/{instanceId}/root',
  ROTATION_INTERVAL_DAYS: '30',
  PASSWORD_LENGTH: '32',
  MAX_CONCURRENCY: '4',
  EVENT_SOURCES: 'acs.actiontrail,acs.sas',
  DRY_RUN: 'false',
  CREATE_MISSING_SECRETS: 'false',
  ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou',
  DDS_ENDPOINT: 'mongodb.cn-hangzhou.aliyuncs.com',
  KMS_ENDPOINT: 'kms.cn-hangzhou.aliyuncs.com',
  ROTATION_FC_ENDPOINT: 'https://1234567890123456.cn-hangzhou.fc.aliyuncs.com',
  DDS_QPS: '20',
  KMS_QPS: '50',
  VERIFY_LOGIN: 'true',
  VERIFY_TIMEOUT_MS: '5000',
  VERIFY_TLS: 'true',
  VERIFY_TLS_CA_FILE: '/code/ApsaraDB-CA-Chain.pem',
};

const SHOWN_VALUE_LIMIT = 80;
const MIN_API_RATE = 0.1;
const MAX_API_RATE = 10_000;

/** A value as an error message may show it: JSON-quoted (control characters escaped) and capped. */
export function showValue(value: string): string {
  const capped = value.length > SHOWN_VALUE_LIMIT ? `${value.slice(0, SHOWN_VALUE_LIMIT)}…` : value;
  return JSON.stringify(capped);
}

function fail(variable: ConfigVariable, problem: string): never {
  throw new ConfigError(variable, problem, EXAMPLES[variable]);
}

/** Reads and validates the configuration; throws ConfigError at the first bad value. */
export function loadConfig(env: Env): Config {
  const read = (name: ConfigVariable): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const secretNameTemplate = parseTemplate(read('SECRET_NAME_TEMPLATE') ?? 'mongodb/{instanceId}/root');
  const rotationTag = parseTag(read('ROTATION_TAG'));
  const targets = parseTargets(read('ROTATION_TARGETS'), secretNameTemplate, rotationTag !== undefined);
  const config: Config = {
    targets,
    secretNameTemplate,
    rotationIntervalDays: parseInteger('ROTATION_INTERVAL_DAYS', read('ROTATION_INTERVAL_DAYS'), 30, 1, 3650),
    passwordLength: parseInteger('PASSWORD_LENGTH', read('PASSWORD_LENGTH'), MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH),
    maxConcurrency: parseInteger('MAX_CONCURRENCY', read('MAX_CONCURRENCY'), 4, 1, 64),
    eventSources: parseEventSources(read('EVENT_SOURCES') ?? 'acs.actiontrail,acs.sas'),
    dryRun: parseBoolean('DRY_RUN', read('DRY_RUN'), false),
    createMissingSecrets: parseBoolean('CREATE_MISSING_SECRETS', read('CREATE_MISSING_SECRETS'), false),
    endpoints: {
      dds: parseEndpoint('DDS_ENDPOINT', read('DDS_ENDPOINT')),
      kms: parseEndpoint('KMS_ENDPOINT', read('KMS_ENDPOINT')),
      fc: parseEndpoint('ROTATION_FC_ENDPOINT', read('ROTATION_FC_ENDPOINT')),
    },
    apiRates: { dds: parseRate('DDS_QPS', read('DDS_QPS')), kms: parseRate('KMS_QPS', read('KMS_QPS')) },
    verifyLogin: parseVerifyLogin(read),
  };
  if (rotationTag) config.rotationTag = rotationTag;
  const regionId = read('ALIBABA_CLOUD_REGION_ID');
  if (regionId !== undefined) {
    if (!REGION_ID.test(regionId)) fail('ALIBABA_CLOUD_REGION_ID', `must be a region id, got ${showValue(regionId)}`);
    config.regionId = regionId;
  }
  return config;
}

/** The secret name SECRET_NAME_TEMPLATE gives an instance. */
export function secretNameFor(template: string, instanceId: string): string {
  return template.replaceAll('{instanceId}', instanceId);
}

function parseTemplate(template: string): string {
  if (!template.includes('{instanceId}')) fail('SECRET_NAME_TEMPLATE', `must contain {instanceId}, got ${showValue(template)}`);
  const sample = secretNameFor(template, 'dds-bp1a2b3c4d5e6f7g');
  if (!SECRET_NAME.test(sample) || sample.startsWith('acs/')) {
    fail('SECRET_NAME_TEMPLATE', `must give a KMS secret name (up to 192 letters, digits and _/+=.@-, not starting acs/), got ${showValue(template)}`);
  }
  return template;
}

function parseTargets(raw: string | undefined, template: string, hasTag: boolean): RotationTarget[] {
  if (raw === undefined) {
    if (hasTag) return [];
    fail('ROTATION_TARGETS', 'is not set and neither is ROTATION_TAG: there is nothing to rotate');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail('ROTATION_TARGETS', `is not valid JSON, got ${showValue(raw)}`);
  }
  if (!Array.isArray(parsed)) fail('ROTATION_TARGETS', `must be a JSON array of targets, got ${showValue(raw)}`);
  if (parsed.length === 0 && !hasTag) fail('ROTATION_TARGETS', 'is an empty array and ROTATION_TAG is not set: there is nothing to rotate');
  const targets = parsed.map((item, index) => parseTarget(item, index, template));
  rejectDuplicates(targets.map((t) => t.instanceId), 'instanceId');
  rejectDuplicates(targets.map((t) => t.secretName), 'secretName');
  return targets;
}

function parseTarget(item: unknown, index: number, template: string): RotationTarget {
  const at = `item ${index}`;
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    fail('ROTATION_TARGETS', `${at} must be an object with "instanceId" and "secretName"`);
  }
  const fields = item as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !TARGET_FIELDS.includes(key));
  if (unknown.length > 0) {
    fail('ROTATION_TARGETS', `${at} has unknown field ${showValue(unknown[0])}; the fields are ${TARGET_FIELDS.join(', ')}`);
  }
  const { instanceId, secretName, accountName } = fields;
  if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
    fail('ROTATION_TARGETS', `${at} needs "instanceId", an instance id such as "dds-bp1a2b3c4d5e6f7g", got ${describe(instanceId)}`);
  }
  const name = secretName ?? secretNameFor(template, instanceId);
  if (typeof name !== 'string' || !SECRET_NAME.test(name) || name.startsWith('acs/')) {
    fail('ROTATION_TARGETS', `${at} "secretName" must be a KMS secret name (up to 192 letters, digits and _/+=.@-, not starting acs/), got ${describe(name)}`);
  }
  if (accountName !== undefined && accountName !== ROOT_ACCOUNT) {
    fail('ROTATION_TARGETS', `${at} "accountName" can only be "root" (ResetAccountPassword resets root only), got ${describe(accountName)}`);
  }
  const target: RotationTarget = { instanceId, secretName: name, accountName: ROOT_ACCOUNT };
  if (fields.verify !== undefined) {
    if (typeof fields.verify !== 'boolean') fail('ROTATION_TARGETS', `${at} "verify" must be true or false, got ${describe(fields.verify)}`);
    target.verify = fields.verify;
  }
  if (fields.connectionHost !== undefined) target.connectionHost = parseTargetConnectionHost(fields.connectionHost, at);
  return target;
}

function parseTargetConnectionHost(value: unknown, at: string): string {
  const problem = `${at} "connectionHost" must be host:port, such as "dds-bp1a2b3c4d5e6f7g.mongodb.rds.aliyuncs.com:3717"`;
  if (typeof value !== 'string') fail('ROTATION_TARGETS', `${problem}, got ${describe(value)}`);
  try {
    parseConnectionHost(value);
  } catch (err) {
    if (!(err instanceof VerifyAddressError)) throw err;
    fail('ROTATION_TARGETS', `${problem}, got ${describe(value)}`);
  }
  return value.trim();
}

function rejectDuplicates(values: string[], field: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) fail('ROTATION_TARGETS', `names ${field} ${showValue(value)} twice; each target needs its own`);
    seen.add(value);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  return typeof value === 'string' ? showValue(value) : `a ${value === null ? 'null' : typeof value}`;
}

function parseVerifyLogin(read: (name: ConfigVariable) => string | undefined): VerifyLoginConfig {
  const tls = parseBoolean('VERIFY_TLS', read('VERIFY_TLS'), VERIFY_LOGIN_DEFAULTS.tls.enabled);
  const caFile = read('VERIFY_TLS_CA_FILE');
  if (caFile !== undefined && !tls) fail('VERIFY_TLS_CA_FILE', `is set but VERIFY_TLS is not true: set VERIFY_TLS=true to use it, or unset it`);
  const verify: VerifyLoginConfig = {
    enabled: parseBoolean('VERIFY_LOGIN', read('VERIFY_LOGIN'), VERIFY_LOGIN_DEFAULTS.enabled),
    timeoutMs: parseInteger('VERIFY_TIMEOUT_MS', read('VERIFY_TIMEOUT_MS'), VERIFY_LOGIN_DEFAULTS.timeoutMs, 500, 60_000),
    tls: { enabled: tls },
  };
  if (caFile !== undefined) verify.tls.caFile = readableFile('VERIFY_TLS_CA_FILE', caFile);
  return verify;
}

/** Checked at start, so that a missing CA file stops the run before any rotation rather than after a reset. */
function readableFile(name: ConfigVariable, path: string): string {
  try {
    if (!statSync(path).isFile()) fail(name, `must be a file, got the directory ${showValue(path)}`);
    accessSync(path, constants.R_OK);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    fail(name, `cannot be read (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')}): ${showValue(path)}`);
  }
  return path;
}

function parseTag(raw: string | undefined): { key: string; value: string } | undefined {
  if (raw === undefined) return undefined;
  const separator = raw.indexOf('=');
  const key = raw.slice(0, separator).trim();
  const value = raw.slice(separator + 1).trim();
  if (separator < 0 || !TAG_PART.test(key) || !TAG_PART.test(value)) {
    fail('ROTATION_TAG', `must be key=value, got ${showValue(raw)}`);
  }
  return { key, value };
}

function parseInteger(name: ConfigVariable, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    fail(name, `must be a whole number from ${min} to ${max}, got ${showValue(raw)}`);
  }
  return value;
}

/** Calls a second, fractions allowed (fan-out gives each function instance a share of the quota). */
function parseRate(name: ConfigVariable, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= MIN_API_RATE && value <= MAX_API_RATE)) fail(name, `must be a number of calls a second from ${MIN_API_RATE} to ${MAX_API_RATE}, got ${showValue(raw)}`);
  return value;
}

function parseBoolean(name: ConfigVariable, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if (lower !== 'true' && lower !== 'false') fail(name, `must be true or false, got ${showValue(raw)}`);
  return lower === 'true';
}

function parseEventSources(raw: string): string[] {
  const sources = raw.split(',').map((s) => s.trim());
  const bad = sources.find((s) => !EVENT_SOURCE.test(s));
  if (bad !== undefined) fail('EVENT_SOURCES', `must be a comma-separated list of event sources, got ${showValue(bad)} in ${showValue(raw)}`);
  return [...new Set(sources)];
}

function parseEndpoint(name: ConfigVariable, raw: string | undefined): Endpoint | undefined {
  if (raw === undefined) return undefined;
  // A URL may carry user:password@; an error message shows the value without it.
  const shown = showValue(raw.replace(/\/\/[^/@]*@/, '//…@'));
  if (!raw.includes('://')) {
    if (!HOST.test(raw)) fail(name, `must be a host name or an http(s) URL, got ${shown}`);
    return { host: raw, protocol: 'https' };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(name, `is not a valid URL, got ${shown}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(name, `must use http or https, got ${shown}`);
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    fail(name, `must be a scheme and host only (no path, query or user), got ${shown}`);
  }
  return { host: url.host, protocol: url.protocol === 'http:' ? 'http' : 'https' };
}

/** The region's public endpoints, unless overridden. */
export function endpointFor(product: 'dds' | 'kms', config: Config, regionId: string): Endpoint {
  const override = config.endpoints[product];
  if (override) return override;
  const host = product === 'dds' ? `mongodb.${regionId}.aliyuncs.com` : `kms.${regionId}.aliyuncs.com`;
  return { host, protocol: 'https' };
}
