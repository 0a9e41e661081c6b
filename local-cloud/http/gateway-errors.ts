import { ApiError } from './api-error';

/**
 * The errors the API gateway itself answers with, before a product sees the request.
 * Codes, messages and statuses as Alibaba's common (POP) error table lists them; the
 * `InvalidSecurityToken.*` statuses are not documented there, 400 is our choice.
 */
export const gatewayErrors = {
  missingParameter: (name: string) =>
    new ApiError('MissingParameter', `The input parameter "${name}" that is mandatory for processing this request is not supplied.`, 400),
  invalidParameter: (name: string) => new ApiError('InvalidParameter', `Specified parameter ${name} is not valid.`, 400),
  apiNotFound: () => new ApiError('InvalidApi.NotFound', 'Specified api is not found, please check your url and method.', 404),
  accessKeyNotFound: () => new ApiError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.', 404),
  incompleteSignature: (detail: string) =>
    new ApiError('IncompleteSignature', `The request signature does not conform to Aliyun standards. ${detail}`, 400),
  signatureMethod: () => new ApiError('InvalidSignatureMethod', 'Specified signature method is not valid.', 400),
  /**
   * The POP gateway quotes the string it signed (RPC v1), every parameter in it percent-encoded twice: a
   * request's secrets come back in the error's message (public error reports show it, e.g.
   * `server string to sign is:POST&%2F&AccessKeyId%3D…%26TemplateParam%3D%257B%2522code%2522…`).
   */
  signatureMismatch: (stringToSign?: string) =>
    new ApiError(
      'SignatureDoesNotMatch',
      `Specified signature is not matched with our calculation.${stringToSign === undefined ? '' : ` server string to sign is:${stringToSign}`}`,
      400,
    ),
  timestampFormat: () =>
    new ApiError('InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.', 400),
  timestampExpired: () => new ApiError('InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.', 400),
  nonceUsed: () => new ApiError('SignatureNonceUsed', 'Specified signature nonce was used already.', 400),
  missingSecurityToken: () => new ApiError('MissingSecurityToken', 'SecurityToken is mandatory for this action.', 400),
  securityTokenMismatch: () =>
    new ApiError('InvalidSecurityToken.MismatchWithAccessKey', 'Specified SecurityToken mismatch with the AccessKey.', 400),
  /** Names only the kind of the unexpected error: its message could quote what was sent. */
  internal: (err: unknown) =>
    new ApiError('InternalError', `The request processing has failed due to some unknown error (${errorKind(err)}).`, 500),
};

function errorKind(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
