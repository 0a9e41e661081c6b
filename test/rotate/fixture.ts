/** Small local-cloud fixtures for the rotation suites: instances with their secrets, ages relative to now. */

export const REGION = 'cn-hangzhou';
export const ACCESS_KEY = { id: 'LTAI5tRotationSuite01', secret: 'rotation-suite-secret-01' };
export const STS_KEY = { id: 'STS.RotationSuiteRole', secret: 'rotation-suite-sts-secret', securityToken: 'rotation-suite-sts-token' };

export type InstanceType = 'replicate' | 'sharding';

export interface InstanceSeed {
  id: string;
  type?: InstanceType;
  password: string;
  lockMode?: string;
  status?: string;
  tags?: Record<string, string>;
}

export interface VersionSeed {
  versionId: string;
  password?: string;
  /** Raw data instead of the usual JSON built from `password`. */
  data?: string;
  stages: string[];
  createTime?: string;
}

export interface SecretSeed {
  instanceId: string;
  name?: string;
  versions: VersionSeed[];
}

export const secretName = (instanceId: string) => `mongodb/${instanceId}/root`;

export function secretData(instanceId: string, password: string, type: InstanceType = 'replicate'): string {
  return JSON.stringify({
    AccountName: 'root',
    AccountPassword: password,
    DBInstanceId: instanceId,
    CharacterTypes: type === 'sharding' ? ['db', 'cs'] : ['normal'],
  });
}

/** One instance whose ACSCurrent (holding the instance's password) is `age` old, e.g. "-40d". */
export function target(id: string, options: { type?: InstanceType; password?: string; age?: string; lockMode?: string; tags?: Record<string, string> } = {}) {
  const password = options.password ?? `Old#${id.slice(-6)}-Pw1`;
  const instance: InstanceSeed = { id, type: options.type ?? 'replicate', password };
  if (options.lockMode) instance.lockMode = options.lockMode;
  if (options.tags) instance.tags = options.tags;
  const secret: SecretSeed = {
    instanceId: id,
    versions: [{ versionId: `v-${id}-1`, password, stages: ['ACSCurrent'], createTime: options.age ?? '-40d' }],
  };
  return { instance, secret };
}

export function fixture(parts: { instances: InstanceSeed[]; secrets: SecretSeed[] }): object {
  const typeOf = new Map(parts.instances.map((i) => [i.id, i.type ?? 'replicate']));
  return {
    region: REGION,
    accessKeys: [ACCESS_KEY, STS_KEY],
    instances: parts.instances.map((i) => ({
      id: i.id,
      type: i.type ?? 'replicate',
      rootPassword: i.password,
      ...(i.lockMode && { lockMode: i.lockMode }),
      ...(i.status && { status: i.status }),
      ...(i.tags && { tags: i.tags }),
    })),
    secrets: parts.secrets.map((s) => ({
      name: s.name ?? secretName(s.instanceId),
      instanceId: s.instanceId,
      versions: s.versions.map((v) => ({
        versionId: v.versionId,
        data: v.data ?? secretData(s.instanceId, v.password ?? '', typeOf.get(s.instanceId)),
        stages: v.stages,
        createTime: v.createTime ?? '-40d',
      })),
    })),
  };
}

/** A fixture of whole targets (instance + secret each). */
export function fleet(...targets: Array<ReturnType<typeof target>>): object {
  return fixture({ instances: targets.map((t) => t.instance), secrets: targets.map((t) => t.secret) });
}
