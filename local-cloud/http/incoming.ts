import type { IncomingMessage } from 'node:http';
import type { Params } from './api-error';
import { ApiError } from './api-error';

/** An HTTP request as the gateway sees it: everything a signature can cover, decoded once. */
export interface IncomingApiRequest {
  method: string;
  /** The path exactly as sent (still percent-encoded), without the query string. */
  rawPath: string;
  query: Params;
  /** Fields of an `application/x-www-form-urlencoded` body; empty for any other body. */
  form: Params;
  /** Lower-case names; repeated headers joined with ','. */
  headers: Record<string, string>;
  body: Buffer;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;

export async function readIncoming(req: IncomingMessage): Promise<IncomingApiRequest> {
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const rawPath = queryStart < 0 ? url : url.slice(0, queryStart);
  const rawQuery = queryStart < 0 ? '' : url.slice(queryStart + 1);
  const headers = normalizeHeaders(req);
  const body = await readBody(req);
  const isForm = (headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    rawPath,
    query: parseUrlEncoded(rawQuery),
    form: isForm ? parseUrlEncoded(body.toString('utf8')) : {},
    headers,
    body,
  };
}

/** Decodes `a=1&b=x%20y`; for a repeated name the first value wins (the SDKs never repeat one). */
function parseUrlEncoded(text: string): Params {
  const params: Params = {};
  for (const [name, value] of new URLSearchParams(text)) {
    if (!(name in params)) params[name] = value;
  }
  return params;
}

/** Alibaba's percent-encoding (RFC 3986): what both signature versions apply to names and values. */
export function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function normalizeHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    headers[name] = name in headers ? `${headers[name]},${raw[i + 1]}` : raw[i + 1];
  }
  return headers;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError('RequestEntityTooLarge', `The request body exceeds ${MAX_BODY_BYTES} bytes.`, 413));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
