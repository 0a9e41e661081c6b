import { OWN_CODES } from '../codes';
import { OperationError } from '../errors';
import { withoutUrlSecrets } from '../scrub';

/**
 * One shape for every failed call, read from the service's own body rather than the SDK's decoration:
 * `@alicloud/rpc-client` (KMS) throws `code` = `<Code>Error` with the body in `err.data`;
 * `@alicloud/openapi-core` (DDS) throws `code` = `<Code>`, `statusCode` and the body in `data`;
 * transport failures (timeouts, resets) come from httpx or node with their own names and codes.
 */
export interface ServiceError {
  code: string;
  message: string;
  requestId?: string;
  httpStatus?: number;
  retryable: boolean;
}

const RETRYABLE_CODES = [
  /^Throttling/,
  /^Rejected\.Throttling/,
  /^ServiceUnavailable/,
  /^InternalError$/,
  /^InternalFailure$/,
  /^IncorrectDBInstanceState$/,
  // The instance is busy (a switchover, a configuration change): Terraform's provider retries it too.
  /^InstanceStatusInvalid$/,
  /^OperationDenied\.DBInstanceStatus$/,
  /^OperationDenied\.AccountStatus$/,
];
const NEVER_RETRIED = /^(Invalid|Forbidden)/;
const TRANSPORT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

/** Whether a call that failed with this code (and HTTP status) can succeed if tried again later. */
export function isRetryable(code: string, httpStatus?: number): boolean {
  if (NEVER_RETRIED.test(code)) return false;
  if (RETRYABLE_CODES.some((pattern) => pattern.test(code))) return true;
  return httpStatus !== undefined && httpStatus >= 500;
}

const THROTTLING_CODES = /^(Throttling|Rejected\.Throttling)/;

/** Whether the service turned the call away for going too fast (DDS: Throttling.User, 400; KMS: Rejected.Throttling, 429). */
export function isThrottling(error: Pick<ServiceError, 'code' | 'httpStatus'>): boolean {
  return THROTTLING_CODES.test(error.code) || error.httpStatus === 429;
}

export function toServiceError(err: unknown): ServiceError {
  if (err instanceof OperationError) return err.detail;
  const error = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const body = typeof error.data === 'object' && error.data !== null ? (error.data as Record<string, unknown>) : undefined;
  const bodyCode = stringOf(body?.Code) ?? stringOf(body?.code);
  if (bodyCode !== undefined) {
    const httpStatus = numberOf(error.statusCode) ?? statusFromMessage(error.message);
    return {
      code: bodyCode,
      // Shown only through sanitizeMessage (scrub.ts), which caps it once the secrets are out.
      message: withoutUrlSecrets(stringOf(body?.Message) ?? stringOf(body?.message) ?? bodyCode),
      requestId: stringOf(body?.RequestId) ?? stringOf(body?.requestId),
      httpStatus,
      retryable: isRetryable(bodyCode, httpStatus),
    };
  }
  return transportError(error);
}

/**
 * A failure with no service body. Its SDK message is never copied: httpx puts the request URL in timeout
 * messages, and an RPC request's query holds the password it sends.
 */
function transportError(error: Record<string, unknown>): ServiceError {
  const name = stringOf(error.name) ?? '';
  const code = stringOf(error.code) ?? '';
  const message = stringOf(error.message) ?? '';
  if (/^RequestTimeout(Error)?$/.test(name) || /^(ReadTimeout|ConnectTimeout)/.test(message)) {
    return { code: OWN_CODES.requestTimeout, message: 'the request timed out before the service answered', retryable: true };
  }
  if (TRANSPORT_CODES.has(code) || /socket hang up/i.test(message)) {
    return { code: code || 'ECONNRESET', message: `the connection failed (${code || 'socket hang up'})`, retryable: true };
  }
  return { code: code || OWN_CODES.unknownError, message: `the call failed without a service error (${name || 'Error'})`, retryable: false };
}

function statusFromMessage(message: unknown): number | undefined {
  const match = typeof message === 'string' ? /code: (\d{3})\b/.exec(message) : null;
  return match ? Number(match[1]) : undefined;
}

const stringOf = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const numberOf = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
