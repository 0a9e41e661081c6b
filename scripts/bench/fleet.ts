/**
 * A generated fleet for the local cloud: `instances` instances carrying the rotation tag, the first
 * `shardedRatio` share of every hundred sharded clusters (spread evenly), each with its KMS secret whose
 * ACSCurrent is 40 days old (due), named by the default SECRET_NAME_TEMPLATE.
 */
export const FLEET_REGION = 'cn-hangzhou';
export const FLEET_TAG = { key: 'rotation', value: 'enabled' };
export const FLEET_ACCESS_KEY = { id: 'LTAI5tFleetBenchKey01', secret: 'fleet-bench-secret-01' };
export const FLEET_ROLE_KEY = { id: 'STS.FleetBenchRole01', secret: 'fleet-bench-sts-secret-01', securityToken: 'fleet-bench-sts-token-01' };

export type InstanceType = 'replicate' | 'sharding';

export interface FleetOptions {
  instances: number;
  /** 0..1: the share of sharded clusters. */
  shardedRatio: number;
  /** Instance ids start with this (after `dds-`); default `fleet`. */
  prefix?: string;
  /** Tags of every instance; default the rotation tag. */
  tags?: Record<string, string>;
}

export interface FleetInstance {
  id: string;
  type: InstanceType;
  secretName: string;
}

export interface Fleet {
  instances: FleetInstance[];
  /** What startLocalCloud takes. */
  fixture: object;
}

export const fleetSecretName = (instanceId: string) => `mongodb/${instanceId}/root`;

export function generateFleet(options: FleetOptions): Fleet {
  const prefix = options.prefix ?? 'fleet';
  const tags = options.tags ?? { [FLEET_TAG.key]: FLEET_TAG.value };
  const instances = Array.from({ length: options.instances }, (_, index): FleetInstance => {
    const id = `dds-${prefix}${String(index + 1).padStart(6, '0')}`;
    // Spread the sharded clusters evenly: index i is sharded when the running share falls short of the ratio.
    const type: InstanceType = Math.floor((index + 1) * options.shardedRatio) > Math.floor(index * options.shardedRatio) ? 'sharding' : 'replicate';
    return { id, type, secretName: fleetSecretName(id) };
  });
  const fixture = {
    region: FLEET_REGION,
    accessKeys: [FLEET_ACCESS_KEY, FLEET_ROLE_KEY],
    instances: instances.map((instance, index) => ({ id: instance.id, type: instance.type, rootPassword: initialPassword(index), tags })),
    secrets: instances.map((instance, index) => ({
      name: instance.secretName,
      instanceId: instance.id,
      versions: [
        {
          versionId: `v-${instance.id}-1`,
          data: JSON.stringify({
            AccountName: 'root',
            AccountPassword: initialPassword(index),
            DBInstanceId: instance.id,
            CharacterTypes: instance.type === 'sharding' ? ['db', 'cs'] : ['normal'],
          }),
          stages: ['ACSCurrent'],
          createTime: '-40d',
        },
      ],
    })),
  };
  return { instances, fixture };
}

function initialPassword(index: number): string {
  return `Fleet#Initial-${String(index + 1).padStart(6, '0')}`;
}
