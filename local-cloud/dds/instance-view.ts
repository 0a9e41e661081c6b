import type { InstanceState } from '../state';

/** How DDS 2015-12-01 describes an instance (field names as `@alicloud/dds20151201`'s models). */

const DOMAIN = 'mongodb.rds.aliyuncs.com';
const DEFAULT_PORT = 3717;

const suffixOf = (instance: Pick<InstanceState, 'id'>) => instance.id.replace(/^dds-/, '');

/** `ReplicaSetName` of a replica set instance (its login peer answers hello with it). */
export const replicaSetNameOf = (instance: Pick<InstanceState, 'id'>) => `mgset-${suffixOf(instance)}`;

function tagsOf(instance: InstanceState) {
  return { Tag: Object.entries(instance.tags).map(([Key, Value]) => ({ Key, Value })) };
}

function commonFields(instance: InstanceState, region: string) {
  return {
    DBInstanceId: instance.id,
    DBInstanceDescription: instance.description,
    DBInstanceType: instance.type,
    DBInstanceStatus: instance.status,
    LockMode: instance.lockMode,
    Engine: 'MongoDB',
    EngineVersion: instance.engineVersion,
    RegionId: region,
    ZoneId: `${region}-h`,
    CreationTime: instance.creationTime,
    ChargeType: 'PostPaid',
    NetworkType: 'VPC',
    Tags: tagsOf(instance),
  };
}

const shardIds = (instance: InstanceState) => [1, 2].map((n) => `d-${suffixOf(instance)}${n}`);
const mongosIds = (instance: InstanceState) => [1, 2].map((n) => `s-${suffixOf(instance)}${n}`);

/** Replica set members; every member points at the login peer when the instance has one. */
function replicaSets(instance: InstanceState) {
  return ['Primary', 'Secondary'].map((role, index) => ({
    ReplicaSetRole: role,
    ConnectionDomain: instance.connection?.host ?? `${instance.id}${index + 1}.${DOMAIN}`,
    ConnectionPort: String(instance.connection?.port ?? DEFAULT_PORT),
    NetworkType: 'VPC',
  }));
}

/** Mongos nodes, with the real API's misspelt `ConnectSting` next to `ConnectString`. */
function mongosList(instance: InstanceState) {
  return mongosIds(instance).map((nodeId) => {
    const host = instance.connection?.host ?? `${nodeId}.${DOMAIN}`;
    return {
      NodeId: nodeId,
      NodeClass: 'dds.mongos.mid',
      Status: instance.status,
      LockMode: instance.lockMode,
      ConnectSting: host,
      ConnectString: host,
      Port: instance.connection?.port ?? DEFAULT_PORT,
    };
  });
}

/** One element of DescribeDBInstanceAttribute's `DBInstances.DBInstance`. */
export function instanceAttribute(instance: InstanceState, region: string): Record<string, unknown> {
  const common = { ...commonFields(instance, region), StorageEngine: 'WiredTiger' };
  if (instance.type === 'replicate') {
    return {
      ...common,
      DBInstanceClass: 'dds.mongo.mid',
      DBInstanceStorage: 20,
      ReplicaSetName: replicaSetNameOf(instance),
      ReplicationFactor: '3',
      ReplicaSets: { ReplicaSet: replicaSets(instance) },
    };
  }
  const node = { Status: instance.status, LockMode: instance.lockMode, Port: DEFAULT_PORT };
  return {
    ...common,
    ProtocolType: 'mongodb',
    ShardList: {
      ShardAttribute: shardIds(instance).map((nodeId) => ({
        ...node,
        NodeId: nodeId,
        NodeClass: 'dds.shard.mid',
        NodeStorage: 20,
        ConnectString: `${nodeId}.${DOMAIN}:${DEFAULT_PORT}`,
      })),
    },
    ConfigserverList: {
      ConfigserverAttribute: [
        { ...node, NodeId: `${instance.id}-cs`, NodeClass: 'dds.cs.mid', NodeStorage: 20, ConnectString: `${instance.id}-cs.${DOMAIN}` },
      ],
    },
    MongosList: { MongosAttribute: mongosList(instance) },
  };
}

/** One element of DescribeDBInstances' `DBInstances.DBInstance`: the summary. */
export function instanceSummary(instance: InstanceState, region: string): Record<string, unknown> {
  const common = commonFields(instance, region);
  if (instance.type === 'replicate') {
    return { ...common, DBInstanceClass: 'dds.mongo.mid', DBInstanceStorage: 20, ReplicationFactor: '3' };
  }
  return {
    ...common,
    ShardList: { ShardAttribute: shardIds(instance).map((NodeId) => ({ NodeId, NodeClass: 'dds.shard.mid', NodeStorage: 20 })) },
    MongosList: { MongosAttribute: mongosIds(instance).map((NodeId) => ({ NodeId, NodeClass: 'dds.mongos.mid' })) },
  };
}
