/**
 * The keeper's HTTP requests to endpoints that nodes chose themselves (their registered `endpoint`): the
 * collect-commitments and openings handlers go through here and nowhere else (docs/keepers.md §7, node
 * fetch rules). A node is untrusted, so:
 *
 * - a redirect is never followed (`redirect: 'manual'`): a 3xx answer counts as no answer, so a node
 *   cannot point the keeper at another host (an internal service, another node);
 * - every request has a timeout and every answer a size limit, enforced while reading;
 * - what the keeper writes about a failure (an openings `reason` in the published dataset, a missing
 *   commitment's reason, a job's last error) is one of a few fixed sentences with numbers (status, sizes,
 *   times, positions in the schema) — never text the node chose: no response snippets, no host names
 *   (a DNS error would name the node's host), no values from the answer.
 */
import type { z } from 'zod';
import { SendnetError } from '../core/errors.js';
import { readBodyUpTo } from './httpJson.js';

/** The fixed failure categories (the `category` of a NodeFetchError). */
export const NODE_FETCH_FAILURES = ['bad-endpoint', 'unreachable', 'timeout', 'redirect', 'too-large'] as const;
export type NodeFetchFailure = (typeof NODE_FETCH_FAILURES)[number];

/** A request to a node that got no usable answer; the message is fixed text and numbers only. */
export class NodeFetchError extends SendnetError {
  override name = 'NodeFetchError';
  override readonly code = 'node-fetch';
  constructor(
    readonly category: NodeFetchFailure,
    message: string,
  ) {
    super(message);
  }
}

/** The base URL of requests to a node registered as ws(s)://host:port[/path] (ws → http, wss → https). */
export function nodeBaseUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new NodeFetchError('bad-endpoint', 'the registered endpoint is not a URL');
  }
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  else if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new NodeFetchError('bad-endpoint', 'the registered endpoint is not a ws:// or wss:// URL');
  return url.origin + url.pathname.replace(/\/$/, '');
}

export interface NodeFetchOptions {
  /** JSON body: sent as a POST. */
  body?: unknown;
  timeoutMs: number;
  maxBytes: number;
}

export interface NodeAnswer {
  status: number;
  /** The parsed JSON body; `undefined` when the body is empty or not JSON (a schema then refuses it). */
  body: unknown;
}

/** Connection errors by their system code, in words that name nothing the node chose. */
const CONNECTION_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed',
};

function connectionFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  if (code in CONNECTION_ERRORS) return CONNECTION_ERRORS[code]!;
  if (code.startsWith('ERR_TLS') || code.includes('CERT')) return 'TLS handshake failed';
  return 'connection failed';
}

/**
 * One request to a node: GET, or POST with a JSON `body`. Returns the status and the JSON body for any
 * non-redirect status (the caller decides what a 404 means); throws NodeFetchError for no answer, a
 * timeout, a redirect (never followed, the target is never contacted) or an answer over `maxBytes`.
 */
export async function nodeFetchJson(url: string, options: NodeFetchOptions): Promise<NodeAnswer> {
  const { timeoutMs, maxBytes } = options;
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut = () => new NodeFetchError('timeout', `no answer within ${timeoutMs} ms`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw timedOut();
    throw new NodeFetchError('unreachable', connectionFailure(error));
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel().catch(() => undefined);
    throw new NodeFetchError('redirect', `answered with a redirect (HTTP ${response.status}), not followed`);
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new NodeFetchError('too-large', `answer of ${declared} bytes exceeds the ${maxBytes}-byte limit`);
  }
  let text: string;
  try {
    const tooLarge = () => new NodeFetchError('too-large', `answer exceeds the ${maxBytes}-byte limit`);
    text = (await readBodyUpTo(response, maxBytes, tooLarge)).toString('utf8');
  } catch (error) {
    if (error instanceof NodeFetchError) throw error;
    if (signal.aborted) throw timedOut();
    throw new NodeFetchError('unreachable', 'the answer broke off');
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

/** The sentence for an answer with an unexpected status: the status only, never the body. */
export function unexpectedStatus(status: number): NodeFetchError {
  return new NodeFetchError('unreachable', `answered HTTP ${status}`);
}

/** A failure as recorded about a node: a NodeFetchError's fixed sentence, anything else as one fixed phrase. */
export function nodeFailureReason(error: unknown): string {
  return error instanceof NodeFetchError ? error.message : 'request failed';
}

const SCHEMA_KEY = /^[A-Za-z][A-Za-z0-9]{0,31}$/;

/**
 * Why an answer did not match its schema, in fixed words: the first problem's position (array indexes and
 * the schema's own field names only) and zod's issue code. Nothing the node sent is quoted: a key the
 * schema does not know is reported as "unknown field", a value never appears.
 */
export function malformedAnswerReason(error: z.ZodError, what = 'answer'): string {
  const issue = error.issues[0];
  if (!issue) return `${what} does not match the schema`;
  const path = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : SCHEMA_KEY.test(String(p)) ? `.${String(p)}` : '.?'))
    .join('')
    .replace(/^\./, '');
  const code = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.code.replace(/_/g, ' ');
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${what} does not match the schema: ${code} at ${path || 'the top level'}${more}`;
}
