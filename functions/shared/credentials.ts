import Credential, { Config as CredentialConfig } from '@alicloud/credentials';

/** What FC puts in `context.credentials` once the function has a role: an STS token. */
export interface FcCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/**
 * The function's role credentials from the FC context; without them (no role, or run outside FC), the
 * default chain of @alicloud/credentials (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET/SECURITY_TOKEN, profile, …).
 */
export function credentialFor(fc: FcCredentials | undefined): Credential {
  if (!fc || !fc.accessKeyId || !fc.accessKeySecret) return new Credential();
  const config = new CredentialConfig({
    type: fc.securityToken ? 'sts' : 'access_key',
    accessKeyId: fc.accessKeyId,
    accessKeySecret: fc.accessKeySecret,
    securityToken: fc.securityToken,
  });
  return new Credential(config);
}
