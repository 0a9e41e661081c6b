import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ApiError, Product } from './api-error';

/** An answer ready to send. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The service's error code, for the request log. */
  code?: string;
}

/** Alibaba's request ids: an upper-case UUID. */
export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

function jsonReply(status: number, body: object, requestId: string): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': requestId },
    body: Buffer.from(JSON.stringify(body), 'utf8'),
  };
}

export function successReply(body: Record<string, unknown>, requestId: string): Reply {
  return jsonReply(200, { RequestId: requestId, ...body }, requestId);
}

/** The gateway's error body: `{ RequestId, HostId, Code, Message }` with the code's HTTP status. */
export function errorReply(error: ApiError, requestId: string, hostId: string): Reply {
  const body = { RequestId: requestId, HostId: hostId, Code: error.code, Message: error.message };
  return { ...jsonReply(error.httpStatus, body, requestId), code: error.code };
}

/** The public host of a product, which Alibaba reports as `HostId`. */
export function productHost(product: Product | undefined, region: string, accountId: string): string {
  switch (product) {
    case 'dds':
      return `mongodb.${region}.aliyuncs.com`;
    case 'kms':
      return `kms.${region}.aliyuncs.com`;
    case 'fc':
      return `${accountId}.${region}.fc.aliyuncs.com`;
    default:
      return `${region}.aliyuncs.com`;
  }
}

export function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': String(reply.body.length) });
  res.end(reply.body);
}
