import type { ResetLanding } from '../faults/apply-late';
import { type ActionContext, type Params, type ProductService, ApiError } from '../http/api-error';
import { type CloudState, type InstanceState, type Role } from '../state';
import { invalidParameter, missingParameter, page, positiveIntParam, requiredParam } from '../state/params';
import { instanceAttribute, instanceSummary } from './instance-view';
import { passwordRuleBreach } from './password-rule';

/**
 * ApsaraDB for MongoDB (DDS 2015-12-01): the actions the rotation uses, over the cloud's state.
 * A reset it accepts is handed to `landing`, which may land its password later (the `applyLate` fault).
 */
export function createDdsService(state: CloudState, landing?: ResetLanding): ProductService {
  return {
    actions: {
      DescribeDBInstanceAttribute: (params) => describeInstanceAttribute(state, params),
      DescribeDBInstances: (params) => describeInstances(state, params),
      DescribeAccounts: (params) => describeAccounts(state, params),
      ResetAccountPassword: (params, ctx) => resetAccountPassword(state, params, ctx, landing),
    },
    writeActions: new Set(['ResetAccountPassword']),
  };
}

const PAGE_SIZES = [30, 50, 100];
const INSTANCE_TYPES = ['replicate', 'sharding', 'serverless'];
const MAX_TAGS = 20;

function requireInstance(state: CloudState, params: Params): InstanceState {
  const instance = state.findInstance(requiredParam(params, 'DBInstanceId'));
  if (!instance) throw new ApiError('InvalidDBInstanceId.NotFound', 'The DBInstanceId provided does not exist in our records.', 404);
  return instance;
}

function describeInstanceAttribute(state: CloudState, params: Params) {
  const instance = requireInstance(state, params);
  return { DBInstances: { DBInstance: [instanceAttribute(instance, state.region)] } };
}

function describeInstances(state: CloudState, params: Params) {
  const type = params.DBInstanceType || 'replicate';
  if (!INSTANCE_TYPES.includes(type)) throw invalidParameter('DBInstanceType', `expected one of ${INSTANCE_TYPES.join(', ')}`);
  const pageSize = positiveIntParam(params, 'PageSize', 30);
  if (!PAGE_SIZES.includes(pageSize)) throw invalidParameter('PageSize', `expected one of ${PAGE_SIZES.join(', ')}`);
  const pageNumber = positiveIntParam(params, 'PageNumber', 1);
  const tags = tagFilter(params);
  const status = params.DBInstanceStatus || undefined;
  const inRegion = !params.RegionId || params.RegionId === state.region;
  const matches = state
    .listInstances()
    .filter((i) => inRegion && i.type === type && (status === undefined || i.status === status))
    .filter((i) => tags.every(({ key, value }) => key in i.tags && (value === undefined || i.tags[key] === value)));
  return {
    DBInstances: { DBInstance: page(matches, pageNumber, pageSize).map((i) => instanceSummary(i, state.region)) },
    PageNumber: pageNumber,
    PageSize: pageSize,
    TotalCount: matches.length,
  };
}

/** `Tag.N.Key`/`Tag.N.Value`, N = 1..20; every tag must match. A key without a value matches any value. */
function tagFilter(params: Params): Array<{ key: string; value?: string }> {
  const byIndex = new Map<number, { key?: string; value?: string }>();
  for (const [name, value] of Object.entries(params)) {
    const match = /^Tag\.(\d+)\.(Key|Value)$/.exec(name);
    if (!match) continue;
    const index = Number(match[1]);
    if (index < 1 || index > MAX_TAGS) throw invalidParameter(name, `N must be from 1 to ${MAX_TAGS}`);
    const tag = byIndex.get(index) ?? {};
    if (match[2] === 'Key') tag.key = value;
    else tag.value = value;
    byIndex.set(index, tag);
  }
  return [...byIndex].map(([index, { key, value }]) => {
    if (!key) throw invalidParameter(`Tag.${index}.Key`, 'a tag needs a key');
    return value === undefined ? { key } : { key, value };
  });
}

function describeAccounts(state: CloudState, params: Params) {
  const instance = requireInstance(state, params);
  const name = params.AccountName || 'root';
  const roles: Role[] = name !== 'root' ? [] : instance.type === 'sharding' ? ['db', 'cs'] : ['normal'];
  return {
    Accounts: {
      Account: roles.map((role) => ({
        AccountName: 'root',
        AccountStatus: 'Available',
        CharacterType: role,
        AccountDescription: '',
        DBInstanceId: instance.id,
      })),
    },
  };
}

/** DDS account names: a lower-case letter, then lower-case letters, digits or underscores, 4 to 16 in all. */
const ACCOUNT_NAME = /^[a-z][a-z0-9_]{3,15}$/;

/** Every rule and error of the seed's API page, then the instance's lock mode and state (both 403, as the API answers them). */
function resetAccountPassword(state: CloudState, params: Params, ctx: ActionContext, landing: ResetLanding | undefined) {
  if (params.AccountPassword) state.notePassword(params.AccountPassword);
  requiredParam(params, 'DBInstanceId');
  const accountName = requiredParam(params, 'AccountName');
  const password = requiredParam(params, 'AccountPassword');
  const instance = requireInstance(state, params);
  if (!ACCOUNT_NAME.test(accountName)) {
    throw new ApiError('InvalidAccountName.Malformed', 'The specified parameter AccountName is not valid.');
  }
  if (accountName !== 'root') {
    throw new ApiError('InvalidAccountName.NotFound', 'The AccountName provided does not exist in our records.');
  }
  const breach = passwordRuleBreach(password);
  if (breach) throw new ApiError('InvalidAccountPassword.Malformed', `Specified parameter AccountPassword is not valid: ${breach}.`);
  const role = roleToReset(instance, params.CharacterType ?? '');
  if (instance.lockMode !== 'Unlock') {
    throw new ApiError('IncorrectDBInstanceLockMode', `Current DB instance lock mode (${instance.lockMode}) does not support this operation.`, 403);
  }
  if (instance.status !== 'Running') {
    throw new ApiError('IncorrectDBInstanceState', `Current DB instance state (${instance.status}) does not support this operation.`, 403);
  }
  const land = () => state.setRootPassword(instance.id, role, password);
  if (!landing?.deferReset({ requestId: ctx.requestId, instanceId: instance.id, role, params }, land)) land();
  return {};
}

/** CharacterType: `db` or `cs`, required, for a sharded cluster; empty or `normal` for a replica set. */
function roleToReset(instance: InstanceState, characterType: string): Role {
  if (instance.type === 'sharding') {
    if (characterType === '') throw missingParameter('CharacterType');
    if (characterType !== 'db' && characterType !== 'cs') {
      throw invalidParameter('CharacterType', 'a sharded cluster instance takes "db" or "cs"');
    }
    return characterType;
  }
  if (characterType !== '' && characterType !== 'normal') {
    throw invalidParameter('CharacterType', 'a replica set instance takes an empty value or "normal"');
  }
  return 'normal';
}
