import { describe, showValue } from './format';
import { ConfigError } from './errors';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { MAX_PASSWORD_LENGTH, MIN_GENERATED_PASSWORD_LENGTH } from './password';
import { VerifyAddressError, parseConnectionHost } from './verify/address';

/** Every environment variable loadConfig reads (docs/design.md §5); s.yaml is checked against this list. */
export const CONFIG_VARIABLES = [
  'ROTATION_TARGETS',
  'ROTATION_TARGETS_FILE',
  'ROTATION_TAG',
  'SECRET_NAME_TEMPLATE',
  'ROTATION_INTERVAL_DAYS',
  'PASSWORD_LENGTH',
  'MAX_CONCURRENCY',
  'EVENT_SOURCES',
  'DRY_RUN',
  'CREATE_MISSING_SECRETS',
  'KMS_INSTANCE_ID',
  'FORCED_ROTATION_COOLDOWN_MINUTES',
  'ALIBABA_CLOUD_REGION_ID',
  'DDS_ENDPOINT',
  'KMS_ENDPOINT',
  'ROTATION_FC_ENDPOINT',
  'DDS_QPS',
  'KMS_QPS',
  'VERIFY_LOGIN',
  'VERIFY_TIMEOUT_MS',
  'VERIFY_WAIT_SECONDS',
  'VERIFY_TLS',
  'VERIFY_TLS_CA_FILE',
  'ALLOW_PLAINTEXT_USER_ADMIN',
] as const;

export type ConfigVariable = (typeof CONFIG_VARIABLES)[number];
export type Env = Readonly<Record<string, string | undefined>>;

/** The only account ResetAccountPassword can reset. */
export const ROOT_ACCOUNT = 'root';

/** How an application user is rotated (docs/design.md §9). */
export const USER_STRATEGIES = ['alternating', 'single'] as const;
export type UserStrategy = (typeof USER_STRATEGIES)[number];
/** The second user of an alternating pair is the first's name with this suffix. */
export const CLONE_SUFFIX = '_clone';

interface TargetBase {
  instanceId: string;
  secretName: string;
  /** `host:port` to connect to instead of the address DescribeDBInstanceAttribute gives. */
  connectionHost?: string;
}

/** The instance's root account, reset through ResetAccountPassword. */
export interface RootTarget extends TargetBase {
  accountName: typeof ROOT_ACCOUNT;
  /** Overrides VERIFY_LOGIN for this target. */
  verify?: boolean;
  strategy?: undefined;
}

/** A MongoDB user of the instance, changed over the database connection as root (docs/design.md §9). */
export interface ApplicationUserTarget extends TargetBase {
  /** The user, or for `alternating` the first of the pair `<accountName>`, `<accountName>_clone`. */
  accountName: string;
  /** The database the user is defined on (its authSource). */
  authDatabase: string;
  strategy: UserStrategy;
  /** The instance's root secret: its ACSCurrent (ACSPending once, after a refused login) is how the function logs in as root. */
  rootSecretName: string;
  /** What lets user commands go without TLS (the target's "allowPlaintext", or ALLOW_PLAINTEXT_USER_ADMIN); unset: TLS. */
  plaintextAllowedBy?: 'allowPlaintext' | 'ALLOW_PLAINTEXT_USER_ADMIN';
  verify?: undefined;
}

export type RotationTarget = RootTarget | ApplicationUserTarget;

export const isApplicationUser = (target: RotationTarget): target is ApplicationUserTarget => target.strategy !== undefined;

/** The login check before promotion (docs/design.md §3, step 5). */
export interface VerifyLoginConfig {
  /** VERIFY_LOGIN: every target verifies unless it says `"verify": false`. */
  enabled: boolean;
  /** Bounds each stage of one login: reaching the server, the handshake, the `ping`. */
  timeoutMs: number;
  /**
   * How long a refused new password is tried again (a reset that lands late) before the check gives up,
   * within the invocation's time; 0: once more, after re-applying it.
   */
  waitMs: number;
  tls: { enabled: boolean; caFile?: string };
}

/** What an unset VERIFY_* variable means. */
export const VERIFY_LOGIN_DEFAULTS: VerifyLoginConfig = { enabled: false, timeoutMs: 5_000, waitMs: 30_000, tls: { enabled: false } };

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
  /** KMS_INSTANCE_ID: the KMS instance (`kst-…`) CreateSecret puts new secrets in (its `DKMSInstanceId`); set when createMissingSecrets is. */
  kmsInstanceId?: string;
  /** A forced rotation of a secret whose ACSCurrent is younger than this is skipped; 0: no cooldown. */
  forcedRotationCooldownMinutes: number;
  /** Unset: the FC context's region. */
  regionId?: string;
  /** Unset: the region's public endpoint. */
  endpoints: { dds?: Endpoint; kms?: Endpoint; fc?: Endpoint };
  /** DDS_QPS, KMS_QPS: the API rate each product allows this function. Unset: found out by slowing down when throttled. */
  apiRates: { dds?: number; kms?: number };
  verifyLogin: VerifyLoginConfig;
  /** ALLOW_PLAINTEXT_USER_ADMIN: application users' user commands may go without TLS (logged as a warning). */
  allowPlaintextUserAdmin: boolean;
}

export { ConfigError };

export const INSTANCE_ID = /^[a-z][a-z0-9-]{0,63}$/;
/** KMS's rule for secret names; generic secrets must not start with `acs/`. */
const SECRET_NAME = /^[A-Za-z0-9_/+=.@-]{1,192}$/;
const REGION_ID = /^[a-z]{2,}(-[a-z0-9]+)+$/;
const EVENT_SOURCE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const TAG_PART = /^[^\s=,][^=,]{0,127}$/;
const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;
/** A KMS instance id as the KMS console and API show it, e.g. kst-hzz65f176a0ogplgq1a2b. */
const KMS_INSTANCE = /^kst-[a-z0-9]{1,60}$/;
/** FC's environment holds 4 KB in all; a targets file in the code package may be larger, up to this. */
const MAX_TARGETS_FILE_BYTES = 1024 * 1024;
const ROOT_TARGET_FIELDS = ['instanceId', 'secretName', 'accountName', 'verify', 'connectionHost'];
const USER_TARGET_FIELDS = ['instanceId', 'secretName', 'accountName', 'authDatabase', 'strategy', 'connectionHost', 'allowPlaintext'];
const TARGET_FIELDS = [...new Set([...ROOT_TARGET_FIELDS, ...USER_TARGET_FIELDS])];
/** A MongoDB user name as a secret name can carry it (SECRET_NAME_TEMPLATE's {accountName}). */
const ACCOUNT_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;
/** A database name MongoDB accepts for users (not `local`, no `$external`: users with passwords). */
const AUTH_DATABASE = /^[A-Za-z0-9_-]{1,64}$/;
const DEFAULT_AUTH_DATABASE = 'admin';

const EXAMPLES: Record<ConfigVariable, string> = {
  ROTATION_TARGETS: '[{"instanceId":"dds-bp1a2b3c4d5e6f7g","secretName":"mongodb/dds-bp1a2b3c4d5e6f7g/root"}]',
  ROTATION_TARGETS_FILE: '/code/targets.json',
  ROTATION_TAG: 'rotation=enabled',
  SECRET_NAME_TEMPLATE: 'mongodb/{instanceId}/{accountName}',
  ROTATION_INTERVAL_DAYS: '30',
  PASSWORD_LENGTH: '32',
  MAX_CONCURRENCY: '4',
  EVENT_SOURCES: 'acs.actiontrail,acs.sas',
  DRY_RUN: 'false',
  CREATE_MISSING_SECRETS: 'false',
  KMS_INSTANCE_ID: 'kst-hzz65f176a0ogplgq1a2b',
  FORCED_ROTATION_COOLDOWN_MINUTES: '15',
  ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou',
  DDS_ENDPOINT: 'mongodb.cn-hangzhou.aliyuncs.com',
  KMS_ENDPOINT: 'kms.cn-hangzhou.aliyuncs.com',
  ROTATION_FC_ENDPOINT: 'https://1234567890123456.cn-hangzhou.fc.aliyuncs.com',
  DDS_QPS: '20',
  KMS_QPS: '50',
  VERIFY_LOGIN: 'true',
  VERIFY_TIMEOUT_MS: '5000',
  VERIFY_WAIT_SECONDS: '30',
  VERIFY_TLS: 'true',
  VERIFY_TLS_CA_FILE: '/code/ApsaraDB-CA-Chain.pem',
  ALLOW_PLAINTEXT_USER_ADMIN: 'false',
};

const DEFAULT_COOLDOWN_MINUTES = 15;
/** A day: past that, an incident could not force a rotation on the day it happens. */
const MAX_COOLDOWN_MINUTES = 1440;
const MIN_API_RATE = 0.1;
const MAX_API_RATE = 10_000;

function fail(variable: ConfigVariable, problem: string): never {
  throw new ConfigError(variable, problem, EXAMPLES[variable]);
}

/** Reads and validates the configuration; throws ConfigError at the first bad value. */
export function loadConfig(env: Env): Config {
  const read = (name: ConfigVariable): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const secretNameTemplate = parseTemplate(read('SECRET_NAME_TEMPLATE') ?? DEFAULT_SECRET_NAME_TEMPLATE);
  const rotationTag = parseTag(read('ROTATION_TAG'));
  const allowPlaintextUserAdmin = parseBoolean('ALLOW_PLAINTEXT_USER_ADMIN', read('ALLOW_PLAINTEXT_USER_ADMIN'), false);
  const targets = parseTargets(targetsSource(read), { template: secretNameTemplate, hasTag: rotationTag !== undefined, allowPlaintextUserAdmin });
  const createMissingSecrets = parseBoolean('CREATE_MISSING_SECRETS', read('CREATE_MISSING_SECRETS'), false);
  const config: Config = {
    targets,
    secretNameTemplate,
    rotationIntervalDays: parseInteger('ROTATION_INTERVAL_DAYS', read('ROTATION_INTERVAL_DAYS'), 30, 1, 3650),
    passwordLength: parseInteger(
      'PASSWORD_LENGTH',
      read('PASSWORD_LENGTH'),
      MAX_PASSWORD_LENGTH,
      MIN_GENERATED_PASSWORD_LENGTH,
      MAX_PASSWORD_LENGTH,
      `ApsaraDB accepts 8, but a root password shorter than ${MIN_GENERATED_PASSWORD_LENGTH} is refused here`,
    ),
    maxConcurrency: parseInteger('MAX_CONCURRENCY', read('MAX_CONCURRENCY'), 4, 1, 64),
    eventSources: parseEventSources(read('EVENT_SOURCES') ?? 'acs.actiontrail,acs.sas'),
    dryRun: parseBoolean('DRY_RUN', read('DRY_RUN'), false),
    createMissingSecrets,
    forcedRotationCooldownMinutes: parseInteger(
      'FORCED_ROTATION_COOLDOWN_MINUTES',
      read('FORCED_ROTATION_COOLDOWN_MINUTES'),
      DEFAULT_COOLDOWN_MINUTES,
      0,
      MAX_COOLDOWN_MINUTES,
      '0 turns the cooldown off',
    ),
    endpoints: {
      dds: parseEndpoint('DDS_ENDPOINT', read('DDS_ENDPOINT')),
      kms: parseEndpoint('KMS_ENDPOINT', read('KMS_ENDPOINT')),
      fc: parseEndpoint('ROTATION_FC_ENDPOINT', read('ROTATION_FC_ENDPOINT')),
    },
    apiRates: { dds: parseRate('DDS_QPS', read('DDS_QPS')), kms: parseRate('KMS_QPS', read('KMS_QPS')) },
    verifyLogin: parseVerifyLogin(read, targets),
    allowPlaintextUserAdmin,
  };
  if (rotationTag) config.rotationTag = rotationTag;
  const kmsInstanceId = parseKmsInstanceId(read('KMS_INSTANCE_ID'), createMissingSecrets);
  if (kmsInstanceId !== undefined) config.kmsInstanceId = kmsInstanceId;
  const regionId = read('ALIBABA_CLOUD_REGION_ID');
  if (regionId !== undefined) {
    if (!REGION_ID.test(regionId)) fail('ALIBABA_CLOUD_REGION_ID', `must be a region id, got ${showValue(regionId)}`);
    config.regionId = regionId;
  }
  return config;
}

/** `{accountName}` is `root` for root targets, which makes this default name root secrets as before. */
export const DEFAULT_SECRET_NAME_TEMPLATE = 'mongodb/{instanceId}/{accountName}';

/** The secret name SECRET_NAME_TEMPLATE gives an instance's account (root unless named). */
export function secretNameFor(template: string, instanceId: string, accountName: string = ROOT_ACCOUNT): string {
  return template.replaceAll('{instanceId}', instanceId).replaceAll('{accountName}', accountName);
}

function parseTemplate(template: string): string {
  if (!template.includes('{instanceId}')) fail('SECRET_NAME_TEMPLATE', `must contain {instanceId}, got ${showValue(template)}`);
  const sample = secretNameFor(template, 'dds-bp1a2b3c4d5e6f7g');
  if (!SECRET_NAME.test(sample) || sample.startsWith('acs/')) {
    fail('SECRET_NAME_TEMPLATE', `must give a KMS secret name (up to 192 letters, digits and _/+=.@-, not starting acs/), got ${showValue(template)}`);
  }
  return template;
}

/** Where the targets come from: ROTATION_TARGETS itself, or the file ROTATION_TARGETS_FILE names. */
interface TargetsSource {
  variable: 'ROTATION_TARGETS' | 'ROTATION_TARGETS_FILE';
  /** The file's path, which every message about its content names. */
  file?: string;
  json?: string;
}

/** Exactly one of ROTATION_TARGETS and ROTATION_TARGETS_FILE; the file is read here, once, at start. */
function targetsSource(read: (name: ConfigVariable) => string | undefined): TargetsSource {
  const inline = read('ROTATION_TARGETS');
  const path = read('ROTATION_TARGETS_FILE');
  if (inline !== undefined && path !== undefined) {
    fail('ROTATION_TARGETS_FILE', 'is set and so is ROTATION_TARGETS: set only one of them (the file for lists past FC\'s 4 KB of environment)');
  }
  if (path === undefined) return { variable: 'ROTATION_TARGETS', json: inline };
  return { variable: 'ROTATION_TARGETS_FILE', file: path, json: readTargetsFile(path) };
}

function readTargetsFile(path: string): string {
  let text: string;
  try {
    if (!statSync(path).isFile()) fail('ROTATION_TARGETS_FILE', `must name a file, got the directory ${showValue(path)}`);
    if (statSync(path).size > MAX_TARGETS_FILE_BYTES) fail('ROTATION_TARGETS_FILE', `${showValue(path)} is larger than ${MAX_TARGETS_FILE_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    fail('ROTATION_TARGETS_FILE', `cannot be read (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')}): ${showValue(path)}; ship it in the code package`);
  }
  if (text.trim() === '') fail('ROTATION_TARGETS_FILE', `${showValue(path)} is empty; it must hold the JSON array of targets`);
  return text;
}

interface TargetDefaults {
  template: string;
  hasTag: boolean;
  allowPlaintextUserAdmin: boolean;
}

function parseTargets(source: TargetsSource, defaults: TargetDefaults): RotationTarget[] {
  const { hasTag } = defaults;
  const { json, file } = source;
  if (json === undefined) {
    if (hasTag) return [];
    fail('ROTATION_TARGETS', 'is not set and neither is ROTATION_TARGETS_FILE nor ROTATION_TAG: there is nothing to rotate');
  }
  // The variable's value is shown back; a file's content is not (the file names where to look).
  const got = file === undefined ? `, got ${showValue(json)}` : '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    failTargets(source, `is not valid JSON${file === undefined ? got : jsonErrorPlace(json, (err as Error).message)}`);
  }
  if (!Array.isArray(parsed)) failTargets(source, `must be a JSON array of targets${got}`);
  if (parsed.length === 0 && !hasTag) failTargets(source, 'is an empty array and ROTATION_TAG is not set: there is nothing to rotate');
  const parsedTargets = parsed.map((item, index) => parseTarget(item, index, defaults.template, source));
  const targets = withRootSecrets(parsedTargets, defaults);
  rejectDuplicateAccounts(targets, source);
  rejectDuplicates(targets.map((t) => t.secretName), 'secretName', source);
  rejectRootSecretsAsUserSecrets(targets, source);
  return targets;
}

/** A target as parsed: an application user's root secret and TLS are settled once every target is read. */
type ParsedTarget = RootTarget | Omit<ApplicationUserTarget, 'rootSecretName' | 'plaintextAllowedBy'> & { allowPlaintext?: boolean };

/**
 * The root secret an application user's rotation logs in with: the instance's root target's secretName if one is
 * configured, else SECRET_NAME_TEMPLATE's name for root (as discovery names it).
 */
function withRootSecrets(targets: ParsedTarget[], defaults: TargetDefaults): RotationTarget[] {
  const rootSecrets = new Map(targets.flatMap((t) => (t.strategy === undefined ? [[t.instanceId, t.secretName] as const] : [])));
  return targets.map((parsed): RotationTarget => {
    if (parsed.strategy === undefined) return parsed;
    const { allowPlaintext, ...target } = parsed;
    const rootSecretName = rootSecrets.get(target.instanceId) ?? secretNameFor(defaults.template, target.instanceId);
    const plaintextAllowedBy: ApplicationUserTarget['plaintextAllowedBy'] = allowPlaintext
      ? 'allowPlaintext'
      : defaults.allowPlaintextUserAdmin
        ? 'ALLOW_PLAINTEXT_USER_ADMIN'
        : undefined;
    return { ...target, rootSecretName, ...(plaintextAllowedBy && { plaintextAllowedBy }) };
  });
}

/** One target per account of an instance. */
function rejectDuplicateAccounts(targets: RotationTarget[], source: TargetsSource): void {
  const seen = new Set<string>();
  for (const { instanceId, accountName } of targets) {
    const key = `${instanceId}\n${accountName}`;
    if (seen.has(key)) {
      failTargets(source, `names instanceId ${showValue(instanceId)} twice for accountName ${showValue(accountName)}; each account of an instance is one target`);
    }
    seen.add(key);
  }
}

/** An application user's secret is never the secret root logs in with, of its instance or another. */
function rejectRootSecretsAsUserSecrets(targets: RotationTarget[], source: TargetsSource): void {
  const rootSecrets = new Map<string, string>();
  for (const target of targets) rootSecrets.set(isApplicationUser(target) ? target.rootSecretName : target.secretName, target.instanceId);
  for (const target of targets) {
    if (!isApplicationUser(target) || !rootSecrets.has(target.secretName)) continue;
    failTargets(
      source,
      `${describeTarget(target)} has secretName ${showValue(target.secretName)}, the root secret of ${rootSecrets.get(target.secretName)}: ` +
        `give the application user a secret of its own, e.g. ${showValue(secretNameFor(DEFAULT_SECRET_NAME_TEMPLATE, target.instanceId, target.accountName))}`,
    );
  }
}

/** How a message names an application-user target. */
function describeTarget(target: { instanceId: string; accountName: string }): string {
  return `the target ${showValue(target.instanceId)} accountName ${showValue(target.accountName)}`;
}

/** Where JSON.parse stopped, as line and column (its own message may quote the text). */
function jsonErrorPlace(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message);
  if (!position) return '';
  const before = text.slice(0, Number(position[1]));
  return ` (line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')})`;
}

function parseTarget(item: unknown, index: number, template: string, source: TargetsSource): ParsedTarget {
  const at = `item ${index}`;
  const fail: (problem: string) => never = (problem) => failTargets(source, problem);
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    fail(`${at} must be an object with "instanceId" and "secretName"`);
  }
  const fields = item as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !TARGET_FIELDS.includes(key));
  if (unknown.length > 0) {
    fail(`${at} has unknown field ${showValue(unknown[0])}; the fields are ${TARGET_FIELDS.join(', ')}`);
  }
  const { instanceId, accountName = ROOT_ACCOUNT } = fields;
  if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
    fail(`${at} needs "instanceId", an instance id such as "dds-bp1a2b3c4d5e6f7g", got ${describe(instanceId)}`);
  }
  if (typeof accountName !== 'string' || !ACCOUNT_NAME.test(accountName)) {
    fail(`${at} "accountName" must be "root" or the name of a MongoDB user (up to 64 letters, digits and _.@-), got ${describe(accountName)}`);
  }
  const target = accountName === ROOT_ACCOUNT ? parseRootTarget(fields, instanceId, at, source) : parseUserTarget(fields, instanceId, accountName, at, source);
  target.secretName = parseSecretName(fields.secretName, target, template, at, source);
  if (fields.connectionHost !== undefined) target.connectionHost = parseTargetConnectionHost(fields.connectionHost, at, source);
  return target;
}

function parseRootTarget(fields: Record<string, unknown>, instanceId: string, at: string, source: TargetsSource): RootTarget {
  const userField = ['strategy', 'authDatabase', 'allowPlaintext'].find((field) => fields[field] !== undefined);
  if (userField !== undefined) {
    failTargets(
      source,
      `${at} (${showValue(instanceId)}, accountName "root") has ${showValue(userField)}, a field of application users: root is reset through ResetAccountPassword, ` +
        `one user, over the API; remove ${showValue(userField)}, or name the application user in "accountName"`,
    );
  }
  const target: RootTarget = { instanceId, secretName: '', accountName: ROOT_ACCOUNT };
  if (fields.verify !== undefined) {
    if (typeof fields.verify !== 'boolean') failTargets(source, `${at} "verify" must be true or false, got ${describe(fields.verify)}`);
    target.verify = fields.verify;
  }
  return target;
}

function parseUserTarget(fields: Record<string, unknown>, instanceId: string, accountName: string, at: string, source: TargetsSource): ParsedTarget {
  const named = `${at} (${describeTarget({ instanceId, accountName })})`;
  const fail: (problem: string) => never = (problem) => failTargets(source, `${named} ${problem}`);
  if (fields.verify !== undefined) fail('has "verify": application users are always verified by logging in as the rotated user before promotion; remove "verify"');
  const { strategy = 'alternating', authDatabase = DEFAULT_AUTH_DATABASE, allowPlaintext } = fields;
  if (typeof strategy !== 'string' || !(USER_STRATEGIES as readonly string[]).includes(strategy)) {
    fail(`"strategy" must be "alternating" (two users, no application ever refused) or "single" (one user), got ${describe(strategy)}`);
  }
  if (strategy === 'alternating' && accountName.endsWith(CLONE_SUFFIX)) {
    fail(`"accountName" ends in ${CLONE_SUFFIX}: name the first user of the pair (${showValue(accountName.slice(0, -CLONE_SUFFIX.length))}); the function pairs it with <name>${CLONE_SUFFIX}`);
  }
  if (typeof authDatabase !== 'string' || !AUTH_DATABASE.test(authDatabase) || authDatabase === 'local') {
    fail(`"authDatabase" must be the database the user is defined on (letters, digits, _ and -, not local), such as "admin", got ${describe(authDatabase)}`);
  }
  if (allowPlaintext !== undefined && typeof allowPlaintext !== 'boolean') fail(`"allowPlaintext" must be true or false, got ${describe(allowPlaintext)}`);
  return { instanceId, secretName: '', accountName, authDatabase, strategy: strategy as UserStrategy, ...(allowPlaintext === true && { allowPlaintext }) };
}

/** The target's own secretName, else SECRET_NAME_TEMPLATE's, which for an application user must name the account. */
function parseSecretName(given: unknown, target: ParsedTarget, template: string, at: string, source: TargetsSource): string {
  const user = target.strategy !== undefined;
  if (given === undefined && user && !template.includes('{accountName}')) {
    failTargets(
      source,
      `${at} (${describeTarget(target)}) has no "secretName" and SECRET_NAME_TEMPLATE ${showValue(template)} has no {accountName}, so it would name the root secret: ` +
        `give the target its "secretName", or put {accountName} in SECRET_NAME_TEMPLATE (e.g. ${DEFAULT_SECRET_NAME_TEMPLATE})`,
    );
  }
  const name = given ?? secretNameFor(template, target.instanceId, target.accountName);
  if (typeof name !== 'string' || !SECRET_NAME.test(name) || name.startsWith('acs/')) {
    failTargets(source, `${at} "secretName" must be a KMS secret name (up to 192 letters, digits and _/+=.@-, not starting acs/), got ${describe(name)}`);
  }
  return name;
}

function parseTargetConnectionHost(value: unknown, at: string, source: TargetsSource): string {
  const problem = `${at} "connectionHost" must be host:port, such as "dds-bp1a2b3c4d5e6f7g.mongodb.rds.aliyuncs.com:3717"`;
  if (typeof value !== 'string') failTargets(source, `${problem}, got ${describe(value)}`);
  try {
    parseConnectionHost(value);
  } catch (err) {
    if (!(err instanceof VerifyAddressError)) throw err;
    failTargets(source, `${problem}, got ${describe(value)}`);
  }
  return value.trim();
}

function rejectDuplicates(values: string[], field: string, source: TargetsSource): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) failTargets(source, `names ${field} ${showValue(value)} twice; each target needs its own`);
    seen.add(value);
  }
}

/** A problem with the targets; one from a file names the file first. */
function failTargets(source: TargetsSource, problem: string): never {
  return fail(source.variable, source.file === undefined ? problem : `${showValue(source.file)}: ${problem}`);
}

function parseVerifyLogin(read: (name: ConfigVariable) => string | undefined, targets: RotationTarget[]): VerifyLoginConfig {
  const tls = parseBoolean('VERIFY_TLS', read('VERIFY_TLS'), VERIFY_LOGIN_DEFAULTS.tls.enabled);
  const caFile = read('VERIFY_TLS_CA_FILE');
  // Application users' user commands go over TLS (unless allowed otherwise), with this CA file when it is set.
  const usersOverTls = targets.some((t) => isApplicationUser(t) && t.plaintextAllowedBy === undefined);
  if (caFile !== undefined && !tls && !usersOverTls) {
    fail('VERIFY_TLS_CA_FILE', `is set but VERIFY_TLS is not true: set VERIFY_TLS=true to use it, or unset it`);
  }
  const verify: VerifyLoginConfig = {
    enabled: parseBoolean('VERIFY_LOGIN', read('VERIFY_LOGIN'), VERIFY_LOGIN_DEFAULTS.enabled),
    timeoutMs: parseInteger('VERIFY_TIMEOUT_MS', read('VERIFY_TIMEOUT_MS'), VERIFY_LOGIN_DEFAULTS.timeoutMs, 500, 60_000),
    waitMs: 1_000 * parseInteger('VERIFY_WAIT_SECONDS', read('VERIFY_WAIT_SECONDS'), VERIFY_LOGIN_DEFAULTS.waitMs / 1_000, 0, 600),
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

/** `note`: why the range is what it is, shown with it. */
function parseInteger(name: ConfigVariable, raw: string | undefined, fallback: number, min: number, max: number, note?: string): number {
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    fail(name, `must be a whole number from ${min} to ${max}${note ? ` (${note})` : ''}, got ${showValue(raw)}`);
  }
  return value;
}

/** CreateSecret puts a new secret in this KMS instance: KMS 3.0 keeps secrets in instances, and refuses one without it. */
function parseKmsInstanceId(raw: string | undefined, createMissingSecrets: boolean): string | undefined {
  if (raw === undefined) {
    if (createMissingSecrets) {
      fail('KMS_INSTANCE_ID', 'is not set but CREATE_MISSING_SECRETS=true needs it: the KMS instance (kst-…) that new secrets go in, as the KMS console lists it');
    }
    return undefined;
  }
  if (!KMS_INSTANCE.test(raw)) fail('KMS_INSTANCE_ID', `must be a KMS instance id (kst- and up to 60 lower-case letters and digits), got ${showValue(raw)}`);
  return raw;
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
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    fail(name, `may use http:// only for a loopback host (127.0.0.0/8, ::1, localhost): requests carry the new password and the STS token in their query; use https://, got ${shown}`);
  }
  return { host: url.host, protocol: url.protocol === 'http:' ? 'http' : 'https' };
}

/** `hostname` as WHATWG URL gives it: lower case, IPv4 normalized (`127.1` is 127.0.0.1), IPv6 in brackets. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * The regions whose DDS endpoint is the central `mongodb.aliyuncs.com`, as the official SDK's endpoint map
 * has them (alibabacloud-go/dds-20151201, client/client.go, EndpointMap); every other region has
 * `mongodb.<region>.aliyuncs.com`.
 */
const DDS_CENTRAL_REGIONS = new Set([
  'cn-qingdao', 'cn-beijing', 'cn-wulanchabu', 'cn-hangzhou', 'cn-shanghai', 'cn-shenzhen', 'cn-heyuan', 'cn-hangzhou-finance',
  'ap-northeast-2-pop', 'cn-beijing-finance-1', 'cn-beijing-finance-pop', 'cn-beijing-gov-1', 'cn-beijing-nu16-b01', 'cn-edge-1',
  'cn-fujian', 'cn-haidian-cm12-c01', 'cn-hangzhou-bj-b01', 'cn-hangzhou-internal-prod-1', 'cn-hangzhou-internal-test-1',
  'cn-hangzhou-internal-test-2', 'cn-hangzhou-internal-test-3', 'cn-hangzhou-test-306', 'cn-hongkong-finance-pop',
  'cn-huhehaote-nebula-1', 'cn-qingdao-nebula', 'cn-shanghai-et15-b01', 'cn-shanghai-et2-b01', 'cn-shanghai-inner',
  'cn-shanghai-internal-test-1', 'cn-shenzhen-inner', 'cn-shenzhen-st4-d01', 'cn-shenzhen-su18-b01', 'cn-wuhan', 'cn-yushanfang',
  'cn-zhangbei', 'cn-zhangbei-na61-b01', 'cn-zhangjiakou-na62-a01', 'cn-zhengzhou-nebula-1', 'eu-west-1-oxs', 'rus-west-1-pop',
]);

/** The region's public endpoints, unless overridden. */
export function endpointFor(product: 'dds' | 'kms', config: Config, regionId: string): Endpoint {
  const override = config.endpoints[product];
  if (override) return override;
  if (product === 'kms') return { host: `kms.${regionId}.aliyuncs.com`, protocol: 'https' };
  return { host: DDS_CENTRAL_REGIONS.has(regionId) ? 'mongodb.aliyuncs.com' : `mongodb.${regionId}.aliyuncs.com`, protocol: 'https' };
}
