/** KMS Secrets Manager through the official `@alicloud/kms20160120` client (RPC v1 via @alicloud/rpc-client). */
import KmsClient, * as $Kms from '@alicloud/kms20160120';

export { KmsClient, $Kms };

export const ACS_CURRENT = 'ACSCurrent';
export const ACS_PREVIOUS = 'ACSPrevious';
export const ACS_PENDING = 'ACSPending';

/** KMS's answer when a secret (or one of its versions) does not exist. */
export const SECRET_NOT_FOUND = 'Forbidden.ResourceNotFound';
