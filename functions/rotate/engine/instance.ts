/** The instance as DescribeDBInstanceAttribute shows it, checked to be the one asked for; both appliers read it. */
import type DdsClient from '../../shared/clients/dds';
import * as $Dds from '../../shared/clients/dds';
import { OWN_CODES, SERVICE_CODES } from '../../shared/codes';
import { OperationError } from '../../shared/errors';
import { shown } from '../../shared/format';
import type { SendCall } from './secret-store';

export async function describeInstance(dds: DdsClient, call: SendCall, instanceId: string): Promise<$Dds.DBInstanceAttribute> {
  const request = new $Dds.DescribeDBInstanceAttributeRequest({ DBInstanceId: instanceId });
  const response = await call('DescribeDBInstanceAttribute', (runtime) => dds.describeDBInstanceAttributeWithOptions(request, runtime));
  const instances: unknown = response.body?.DBInstances?.DBInstance;
  const instance = Array.isArray(instances) ? (instances[0] as $Dds.DBInstanceAttribute | undefined) : undefined;
  if (!instance) throw OperationError.of(SERVICE_CODES.instanceNotFound, `DescribeDBInstanceAttribute returned no instance ${instanceId}`);
  if (instance.DBInstanceId !== instanceId) {
    throw OperationError.of(OWN_CODES.invalidResponse, `DescribeDBInstanceAttribute answered for instance ${shown(instance.DBInstanceId)}, not ${instanceId}`);
  }
  return instance;
}

const UNLOCKED = 'Unlock';
export type InstanceType = 'replicate' | 'sharding';

/** The instance's type, once it is known to be rotatable: unlocked, and a replica set or a sharded cluster. */
export function rotatableType(instance: $Dds.DBInstanceAttribute): InstanceType {
  if (instance.lockMode !== UNLOCKED) {
    throw OperationError.of(SERVICE_CODES.lockedInstance, `the instance is locked (LockMode ${shown(instance.lockMode)}); nothing was changed`);
  }
  const type = instance.DBInstanceType;
  if (type !== 'replicate' && type !== 'sharding') {
    throw OperationError.of(OWN_CODES.unsupportedInstanceType, `instance type ${shown(type)} is neither replicate nor sharding; nothing was changed`);
  }
  return type;
}
