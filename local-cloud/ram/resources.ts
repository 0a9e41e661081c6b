/**
 * The resource ARNs RAM checks for a request, per product and action, as the services'
 * authorization tables define them.
 */

export type RamProduct = 'dds' | 'kms' | 'fc';

export interface RequestScope {
  product: RamProduct;
  action: string;
  params: Record<string, string>;
  region: string;
  accountId: string;
}

/** Every resource is checked; a request is allowed only if all of them are. */
export function resourcesFor(scope: RequestScope): string[] {
  switch (scope.product) {
    case 'dds':
      return [ddsResource(scope)];
    case 'kms':
      return [kmsResource(scope)];
    case 'fc':
      return [fcResource(scope)];
  }
}

// DescribeDBInstances is authorized on the instance wildcard (dds API reference); every
// other instance-level action names its instance.
function ddsResource({ action, params, region, accountId }: RequestScope): string {
  const base = `acs:dds:${region}:${accountId}:dbinstance`;
  if (action === 'DescribeDBInstances') return `${base}/*`;
  return params.DBInstanceId ? `${base}/${params.DBInstanceId}` : '*';
}

// KMS "Use RAM to control access": CreateSecret and ListSecrets act on the secret container,
// the other secret operations on the secret, which a caller may also name by its full ARN.
const KMS_SECRET_CONTAINER_ACTIONS = new Set(['CreateSecret', 'ListSecrets']);

function kmsResource({ action, params, region, accountId }: RequestScope): string {
  const container = `acs:kms:${region}:${accountId}:secret`;
  if (KMS_SECRET_CONTAINER_ACTIONS.has(action)) return container;
  const name = params.SecretName;
  if (!name) return '*';
  return name.startsWith('acs:kms:') ? name : `${container}/${name}`;
}

// FC 3.0 has no services: a function is `functions/<name>`.
function fcResource({ params, region, accountId }: RequestScope): string {
  const name = params.functionName ?? params.FunctionName;
  return name ? `acs:fc:${region}:${accountId}:functions/${name}` : '*';
}
