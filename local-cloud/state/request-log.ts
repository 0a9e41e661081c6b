import type { Params, Product } from '../http/api-error';

/** One request as the gateway answered it. Its params never hold a password or secret data (see redactParams). */
export interface RequestRecord {
  time: string;
  requestId: string;
  product: Product;
  action: string;
  params: Params;
  accessKeyId: string;
  status: number;
  code?: string;
  write: boolean;
}

export const REDACTED = '[redacted]';

/** Parameters that carry a password or secret data. */
export const SECRET_PARAMS = ['AccountPassword', 'SecretData'] as const;

export function redactParams(params: Params): Params {
  const copy = { ...params };
  for (const name of SECRET_PARAMS) {
    if (name in copy) copy[name] = REDACTED;
  }
  return copy;
}
