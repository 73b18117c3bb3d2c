/**
 * Small JSON-over-HTTP helpers for the keeper: a client with a timeout and a response size limit (edge
 * nodes and guardians are untrusted), and server-side body reading with a size limit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SendnetError } from '../core/errors.js';

export class HttpRequestError extends SendnetError {
  override name = 'HttpRequestError';
  override readonly code = 'http-request';
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface FetchJsonOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  timeoutMs?: number;
  maxBytes?: number;
}

/**
 * Reads a response body of at most `maxBytes`: past the limit the stream is cancelled and `tooLarge()` is
 * thrown, without reading further. Other read failures (a reset, a timeout) propagate as they are.
 */
export async function readBodyUpTo(response: Response, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * Requests `url` and returns `{ status, body }` with the body parsed as JSON (or the raw text if it is
 * not JSON). Throws HttpRequestError on network errors, timeouts and oversized responses — never on a
 * status code; the caller decides what a 404 or 409 means.
 */
export async function fetchJson(
  url: string,
  options: FetchJsonOptions = {},
): Promise<{ status: number; body: unknown }> {
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
  } catch (error) {
    const e = error as Error;
    const cause = (e as { cause?: Error }).cause?.message;
    throw new HttpRequestError(
      `${method} ${url}: ${e.name === 'TimeoutError' ? `no answer within ${options.timeoutMs ?? 5000} ms` : (cause ?? e.message)}`,
    );
  }
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > maxBytes) {
    await response.body?.cancel();
    throw new HttpRequestError(
      `${url}: response of ${length} bytes exceeds the ${maxBytes}-byte limit`,
      response.status,
    );
  }
  let bytes: Buffer;
  try {
    bytes = await readBodyUpTo(
      response,
      maxBytes,
      () => new HttpRequestError(`${url}: response exceeds the ${maxBytes}-byte limit`, response.status),
    );
  } catch (error) {
    if (error instanceof HttpRequestError) throw error;
    throw new HttpRequestError(`${url}: reading the response failed: ${(error as Error).message}`, response.status);
  }
  const text = bytes.toString('utf8');
  try {
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

export class BodyTooLargeError extends SendnetError {
  override name = 'BodyTooLargeError';
  override readonly code = 'body-too-large';
}

/**
 * Reads a request body up to `maxBytes` (BodyTooLargeError beyond, also at once when the declared
 * content-length is larger). An oversized body is not read any further but drained, so the caller can
 * still answer (e.g. 413 with a reason): destroying the request would reset the connection and the client
 * would never learn why. `sendJson` bounds how long such a body is drained.
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    const tooLarge = (declared?: number) => {
      request.off('data', onData);
      request.resume();
      reject(
        new BodyTooLargeError(
          `request body ${declared === undefined ? '' : `of ${declared} bytes `}exceeds the ${maxBytes}-byte limit`,
        ),
      );
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return tooLarge();
      chunks.push(chunk);
    };
    const declared = Number(request.headers['content-length'] ?? '0');
    if (declared > maxBytes) return tooLarge(declared);
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * Answers with JSON. A request body that is still being drained (oversized) is read to its end first —
 * closing the connection while the client still sends would reset it before it reads the answer — but
 * for 10 s at most.
 */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const text =
    typeof body === 'string' ? body : JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  response.end(text);
  const request = response.req;
  if (!request.complete) {
    const timer = setTimeout(() => request.destroy(), 10_000).unref();
    request.once('end', () => clearTimeout(timer));
  }
}
