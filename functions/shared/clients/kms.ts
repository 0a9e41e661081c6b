/** KMS Secrets Manager through the official `@alicloud/kms20160120` client (RPC v1 via @alicloud/rpc-client). */
import KmsClient, * as $Kms from '@alicloud/kms20160120';

export { KmsClient, $Kms };

export const ACS_CURRENT = 'ACSCurrent';
export const ACS_PREVIOUS = 'ACSPrevious';
export const ACS_PENDING = 'ACSPending';

/**
 * CreateSecret with `DKMSInstanceId`, the KMS 3.0 instance the secret goes in: the API takes it, but
 * @alicloud/kms20160120 1.2.0's request model has no field for it, so the model is extended (the field is
 * `declare`d: a plain class field would reset what the Model constructor assigned).
 */
export class CreateSecretInInstanceRequest extends $Kms.CreateSecretRequest {
  declare DKMSInstanceId?: string;

  static names(): Record<string, string> {
    return { ...super.names(), DKMSInstanceId: 'DKMSInstanceId' };
  }

  static types(): Record<string, unknown> {
    return { ...super.types(), DKMSInstanceId: 'string' };
  }
}
