/**
 * Local-cloud fixtures for the application-user suites: instances with their root secret and MongoDB users, and the
 * users' secrets (`{"AccountName","AccountPassword","DBInstanceId","AuthDatabase"}`), ages relative to now.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TLS_FIXTURES } from '../verify/tls-proxy';

export const REGION = 'cn-hangzhou';
export const ACCESS_KEY = { id: 'LTAI5tAppUsersSuite1', secret: 'app-users-suite-secret-1' };

export const APP_ROLES = [{ role: 'readWrite', db: 'app' }];

/** The key and certificate of TLS-only peers (`mongoTls`); the CA that signed them is test/verify/fixtures/tls/ca.pem. */
export const PEER_TLS = { key: readFileSync(join(TLS_FIXTURES, 'server.key')), cert: readFileSync(join(TLS_FIXTURES, 'server.pem')) };

export const rootSecretName = (instanceId: string) => `mongodb/${instanceId}/root`;
export const userSecretName = (instanceId: string, user: string) => `mongodb/${instanceId}/${user}`;

export function userData(instanceId: string, user: string, password: string, authDatabase = 'admin'): string {
  return JSON.stringify({ AccountName: user, AccountPassword: password, DBInstanceId: instanceId, AuthDatabase: authDatabase });
}

export function rootData(instanceId: string, password: string, type: 'replicate' | 'sharding' = 'replicate'): string {
  return JSON.stringify({ AccountName: 'root', AccountPassword: password, DBInstanceId: instanceId, CharacterTypes: type === 'sharding' ? ['db', 'cs'] : ['normal'] });
}

export interface UserSeed {
  user: string;
  password: string;
  db?: string;
  roles?: Array<{ role: string; db: string }>;
  mechanisms?: string[];
}

export interface VersionSeed {
  versionId: string;
  data: string;
  stages: string[];
  createTime?: string;
}

export interface SecretSeed {
  name: string;
  instanceId: string;
  strategy?: 'alternating' | 'single';
  versions: VersionSeed[];
}

export interface InstanceSeed {
  id: string;
  type?: 'replicate' | 'sharding';
  rootPassword: string;
  users?: UserSeed[];
  lockMode?: string;
}

/** An instance with its root secret (ACSCurrent: the root password, 40 days old) and users. */
export function instance(seed: InstanceSeed): { instance: InstanceSeed; secrets: SecretSeed[] } {
  const rootSecret: SecretSeed = {
    name: rootSecretName(seed.id),
    instanceId: seed.id,
    versions: [{ versionId: `v-root-${seed.id.slice(-4)}`, data: rootData(seed.id, seed.rootPassword, seed.type), stages: ['ACSCurrent'], createTime: '-40d' }],
  };
  return { instance: seed, secrets: [rootSecret] };
}

/** An application user's secret whose ACSCurrent names `user` with `password`, `age` old (default 40 days: due). */
export function userSecret(instanceId: string, user: string, password: string, options: { age?: string; db?: string; strategy?: 'alternating' | 'single'; name?: string } = {}): SecretSeed {
  return {
    name: options.name ?? userSecretName(instanceId, user),
    instanceId,
    ...(options.strategy && { strategy: options.strategy }),
    versions: [{ versionId: `v-${user}-1`, data: userData(instanceId, user, password, options.db), stages: ['ACSCurrent'], createTime: options.age ?? '-40d' }],
  };
}

/** A fixture of the parts given (each instance with its root secret), plus more secrets. */
export function appFixture(parts: Array<ReturnType<typeof instance>>, secrets: SecretSeed[] = []): object {
  return {
    region: REGION,
    accessKeys: [ACCESS_KEY],
    instances: parts.map(({ instance: i }) => ({
      id: i.id,
      type: i.type ?? 'replicate',
      rootPassword: i.rootPassword,
      ...(i.lockMode && { lockMode: i.lockMode }),
      users: (i.users ?? []).map((u) => ({ user: u.user, db: u.db ?? 'admin', password: u.password, roles: u.roles ?? APP_ROLES, ...(u.mechanisms && { mechanisms: u.mechanisms }) })),
    })),
    secrets: [...parts.flatMap((p) => p.secrets), ...secrets].map((s) => ({
      name: s.name,
      instanceId: s.instanceId,
      ...(s.strategy && { strategy: s.strategy }),
      versions: s.versions.map((v) => ({ versionId: v.versionId, data: v.data, stages: v.stages, createTime: v.createTime ?? '-40d' })),
    })),
  };
}
