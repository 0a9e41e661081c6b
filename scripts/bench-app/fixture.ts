/**
 * What the benchmark seeds the local cloud with: one instance, its root secret and, for the
 * application-user strategies, the user `orders` (readWrite on `app`) with its own secret; and the
 * rotation target the function is configured with.
 */
import type { BenchAppOptions, Strategy } from './options';

export const INSTANCE_ID = 'dds-benchapp000001';
export const APP_USER = 'orders';
export const AUTH_DATABASE = 'admin';
/** The database and collection the clients query (empty: the query is the round trip, not the data). */
export const APP_DATABASE = 'app';
export const APP_COLLECTION = 'orders';

/** An operator's key: the clients read their secret with it, and the bench invokes the function with it. */
export const APP_KEY = { id: 'LTAI5tBenchAppKey0001', secret: 'bench-app-secret-0001' };
/** The function's role (FC hands it over as context.credentials). */
const ROLE_KEY = { id: 'STS.BenchAppRole0001', secret: 'bench-app-sts-secret-0001', securityToken: 'bench-app-sts-token-0001' };

const ROOT_PASSWORD = 'Bench#Root-Initial-0001';
const APP_PASSWORD = 'Bench#Orders-Initial-0001';

export const rootSecretName = (instanceId: string) => `mongodb/${instanceId}/root`;
export const appSecretName = (instanceId: string) => `mongodb/${instanceId}/${APP_USER}`;

/** The account the clients log in as and the function rotates. */
export interface RotatedAccount {
  secretName: string;
  /** The name the first ACSCurrent holds; alternating moves it between `orders` and `orders_clone`. */
  accountName: string;
  authDatabase: string;
}

export function rotatedAccount(strategy: Strategy): RotatedAccount {
  return strategy === 'root'
    ? { secretName: rootSecretName(INSTANCE_ID), accountName: 'root', authDatabase: 'admin' }
    : { secretName: appSecretName(INSTANCE_ID), accountName: APP_USER, authDatabase: AUTH_DATABASE };
}

export function benchFixture(options: Pick<BenchAppOptions, 'strategy' | 'instanceType'>): object {
  const roles = options.instanceType === 'sharding' ? ['db', 'cs'] : ['normal'];
  const rootSecret = {
    name: rootSecretName(INSTANCE_ID),
    instanceId: INSTANCE_ID,
    versions: [
      {
        versionId: 'v-bench-root-1',
        data: JSON.stringify({ AccountName: 'root', AccountPassword: ROOT_PASSWORD, DBInstanceId: INSTANCE_ID, CharacterTypes: roles }),
        stages: ['ACSCurrent'],
        createTime: '-40d',
      },
    ],
  };
  const appSecret = {
    name: appSecretName(INSTANCE_ID),
    instanceId: INSTANCE_ID,
    strategy: options.strategy,
    versions: [
      {
        versionId: 'v-bench-orders-1',
        data: JSON.stringify({ AccountName: APP_USER, AccountPassword: APP_PASSWORD, DBInstanceId: INSTANCE_ID, AuthDatabase: AUTH_DATABASE }),
        stages: ['ACSCurrent'],
        createTime: '-40d',
      },
    ],
  };
  const appUsers = options.strategy === 'root' ? [] : [{ user: APP_USER, db: AUTH_DATABASE, password: APP_PASSWORD, roles: [{ role: 'readWrite', db: APP_DATABASE }] }];
  return {
    region: 'cn-hangzhou',
    accessKeys: [APP_KEY, ROLE_KEY],
    instances: [{ id: INSTANCE_ID, type: options.instanceType, rootPassword: ROOT_PASSWORD, users: appUsers }],
    secrets: options.strategy === 'root' ? [rootSecret] : [rootSecret, appSecret],
  };
}

/**
 * ROTATION_TARGETS: root, or the application user with its strategy. The root secret stays where
 * SECRET_NAME_TEMPLATE (mongodb/{instanceId}/root) names it: the function logs in as root with it.
 */
export function rotationTargets(strategy: Strategy): object[] {
  if (strategy === 'root') return [{ instanceId: INSTANCE_ID, secretName: rootSecretName(INSTANCE_ID) }];
  return [{ instanceId: INSTANCE_ID, accountName: APP_USER, authDatabase: AUTH_DATABASE, strategy, secretName: appSecretName(INSTANCE_ID) }];
}
