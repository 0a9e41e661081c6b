import * as $dara from '@darabonba/typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local-cloud';
import { excuseViolations, startCloud } from '../helpers/cloud';
import { type Clients, createClients } from '../../functions/shared/clients';
import * as $Dds from '../../functions/shared/clients/dds';
import { toServiceError } from '../../functions/shared/clients/errors';
import { $Kms } from '../../functions/shared/clients/kms';
import { loadConfig } from '../../functions/shared/config';
import { ddsCall } from '../helpers/sdk';
import { ACCESS_KEY, fleet, secretName, target } from './fixture';

const RS = 'dds-rs0clients01';
const SHARDED = 'dds-sh0clients01';
const PASSWORD = 'Client#Test-Pw1"\\';

/** How a call failed, as the rotation sees it. */
async function failure(call: Promise<unknown>) {
  try {
    await call;
  } catch (err) {
    return { raw: err as Error, error: toServiceError(err) };
  }
  throw new Error('expected the call to fail');
}

describe('the DDS and KMS clients against the local cloud', () => {
  let cloud: LocalCloud;
  let clients: Clients;

  beforeEach(async () => {
    cloud = await startCloud({ port: 0, fixture: fleet(target(RS), target(SHARDED, { type: 'sharding' })) });
    const config = loadConfig({ ROTATION_TARGETS: JSON.stringify([{ instanceId: RS }]), DDS_ENDPOINT: cloud.endpoint, KMS_ENDPOINT: cloud.endpoint });
    clients = createClients(config, cloud.region, { accessKeyId: ACCESS_KEY.id, accessKeySecret: ACCESS_KEY.secret });
  });

  afterEach(() => cloud.close());

  it('describes an instance into the generated-SDK model shape', async () => {
    const response = await clients.dds.describeDBInstanceAttribute(new $Dds.DescribeDBInstanceAttributeRequest({ DBInstanceId: SHARDED }));
    expect(response.statusCode).toBe(200);
    expect(response.body?.requestId).toEqual(expect.any(String));
    const [instance] = response.body!.DBInstances!.DBInstance!;
    expect(instance).toBeInstanceOf($Dds.DBInstanceAttribute);
    expect(instance).toMatchObject({ DBInstanceId: SHARDED, DBInstanceType: 'sharding', DBInstanceStatus: 'Running', lockMode: 'Unlock', engine: 'MongoDB' });
    expect(instance.mongosList?.mongosAttribute?.[0]).toMatchObject({ port: 3717, connectString: expect.any(String) });
  });

  it('lists instances by tag and type; the local cloud lists the root accounts per role', async () => {
    const listed = await clients.dds.describeDBInstances(
      new $Dds.DescribeDBInstancesRequest({ DBInstanceType: 'sharding', pageSize: 30, tag: [new $Dds.DescribeDBInstancesRequestTag({ key: 'none', value: 'x' })] }),
    );
    expect(listed.body).toMatchObject({ totalCount: 0, pageSize: 30 });
    const all = await clients.dds.describeDBInstances(new $Dds.DescribeDBInstancesRequest({ DBInstanceType: 'sharding' }));
    expect(all.body?.DBInstances?.DBInstance?.map((i) => i.DBInstanceId)).toEqual([SHARDED]);
    // DescribeAccounts is not in the function's client (it never calls it): the test helper sends it.
    const accounts = (await ddsCall(cloud, 'DescribeAccounts', { DBInstanceId: SHARDED, AccountName: 'root' })).Accounts as { Account: Array<{ CharacterType: string }> };
    expect(accounts.Account.map((a) => a.CharacterType)).toEqual(['db', 'cs']);
  });

  it('resets a role of a sharded cluster, with the request fields mapped to the API names', async () => {
    await clients.dds.resetAccountPassword(new $Dds.ResetAccountPasswordRequest({ DBInstanceId: SHARDED, accountName: 'root', accountPassword: 'New#Client-Pw2', characterType: 'cs' }));
    expect(cloud.truth.rootPassword(SHARDED, 'cs')).toBe('New#Client-Pw2');
    const [request] = cloud.truth.requests.filter((r) => r.action === 'ResetAccountPassword');
    expect(request.params).toMatchObject({ DBInstanceId: SHARDED, AccountName: 'root', CharacterType: 'cs', AccountPassword: '[redacted]' });
    excuseViolations(cloud, 'the client test resets a password that no KMS version holds');
  });

  it('reads the service code of an openapi-core (DDS) error', async () => {
    const { raw, error } = await failure(clients.dds.describeDBInstanceAttribute(new $Dds.DescribeDBInstanceAttributeRequest({ DBInstanceId: 'dds-nothere' })));
    expect(raw).toMatchObject({ code: 'InvalidDBInstanceId.NotFound', statusCode: 404 });
    expect(error).toEqual({ code: 'InvalidDBInstanceId.NotFound', message: 'The DBInstanceId provided does not exist in our records.', requestId: expect.any(String), httpStatus: 404, retryable: false });
  });

  it('reads the service code of an rpc-client (KMS) error, not its "…Error" decoration', async () => {
    const { raw, error } = await failure(clients.kms.getSecretValue(new $Kms.GetSecretValueRequest({ secretName: 'missing/secret' })));
    expect((raw as Error & { code: string }).code).toBe('Forbidden.ResourceNotFoundError');
    expect(error).toMatchObject({ code: 'Forbidden.ResourceNotFound', httpStatus: 404, requestId: expect.any(String), retryable: false });
  });

  it.each([
    ['dds', 'Throttling.User', 400, true],
    ['kms', 'Rejected.Throttling', 429, true],
    ['kms', 'ServiceUnavailableTemporary', 503, true],
    ['dds', 'InternalError', 500, true],
    ['dds', 'IncorrectDBInstanceState', 403, true],
    ['dds', 'OperationDenied.DBInstanceStatus', 403, true],
    ['dds', 'InstanceStatusInvalid', 403, true],
    ['dds', 'InstanceStatusInvalid', 400, true],
    ['dds', 'IncorrectDBInstanceLockMode', 403, false],
    ['dds', 'SomethingNew', 502, true],
    ['dds', 'Forbidden.RAM', 503, false],
    ['kms', 'InvalidParameter', 500, false],
    ['dds', 'OperationDenied.AccountType', 403, false],
  ] as const)('classifies %s %s (HTTP %i) as retryable: %s', async (product, code, httpStatus, retryable) => {
    cloud.faults.error({ product, code, httpStatus });
    const call =
      product === 'dds'
        ? clients.dds.describeDBInstanceAttribute(new $Dds.DescribeDBInstanceAttributeRequest({ DBInstanceId: RS }))
        : clients.kms.listSecretVersionIds(new $Kms.ListSecretVersionIdsRequest({ secretName: secretName(RS) }));
    const { error } = await failure(call);
    expect(error).toMatchObject({ code, httpStatus, retryable, requestId: expect.any(String) });
  });

  it('turns a dropped connection into a retryable error that carries no request text', async () => {
    cloud.faults.drop({ product: 'dds', action: 'ResetAccountPassword' });
    const reset = new $Dds.ResetAccountPasswordRequest({ DBInstanceId: RS, accountName: 'root', accountPassword: PASSWORD });
    const { error } = await failure(clients.dds.resetAccountPassword(reset));
    expect(error).toMatchObject({ retryable: true, code: expect.stringMatching(/^E[A-Z]+/) });
    expect(JSON.stringify(error)).not.toContain('Client#Test');
  });

  it('turns a timeout into RequestTimeout, without the URL (whose query holds the password)', async () => {
    cloud.faults.hang({ product: 'dds', action: 'ResetAccountPassword', ms: 2_000 });
    const reset = new $Dds.ResetAccountPasswordRequest({ DBInstanceId: RS, accountName: 'root', accountPassword: PASSWORD });
    const { raw, error } = await failure(clients.dds.resetAccountPasswordWithOptions(reset, new $dara.RuntimeOptions({ readTimeout: 200 })));
    expect(error).toEqual({ code: 'RequestTimeout', message: 'the request timed out before the service answered', retryable: true });
    expect(raw.name).toBe('RequestTimeoutError');
  });

  it('keeps SecretData out of a KMS error', async () => {
    cloud.faults.hang({ product: 'kms', action: 'PutSecretValue', ms: 2_000 });
    const put = new $Kms.PutSecretValueRequest({ secretName: secretName(RS), versionId: 'v9', secretData: JSON.stringify({ AccountPassword: PASSWORD }), versionStages: '["ACSPending"]' });
    const { error } = await failure(clients.kms.putSecretValueEx(put, new $dara.RuntimeOptions({ readTimeout: 200 })));
    expect(error.code).toBe('RequestTimeout');
    expect(JSON.stringify(error)).not.toContain('Client#Test');
  });
});
