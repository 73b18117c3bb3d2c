/**
 * The edge node's HTTP routes (same port as its WebSocket):
 *
 *   GET  /health                      → { ok, node, epoch, connections, pending }
 *   GET  /epochs/:epoch/commitment    → the signed commitment (404 until made, 410 once pruned)
 *   POST /epochs/:epoch/openings      { indices: number[] } or { targets: string[] } (1..1024 of them)
 *                                     → { openings: [...] } in request order (for targets also
 *                                       `signature`, the node's Openings signature, core/openingsProof.ts); a target r (decimal) opens the
 *                                       leaf whose unit interval contains r (the walk of docs/keepers.md §3),
 *                                       so a verifier that has only the commitment can ask for its samples;
 *                                     or { envelopeIds: string[] } → { openings } of the receipts of those
 *                                       envelopes the tree holds (WatchDog challenge evidence, unsigned: a
 *                                       sum path to the committed root proves itself), ids not held omitted
 *   GET  /metrics                     → Prometheus text
 *
 * Every input is validated; errors answer `{ error, reason }` with a status that names the class of
 * problem and never reach the process.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { BodyTooLargeError, readBody, sendJson } from '../infra/httpJson.js';
import { describeZodError } from '../core/wire.js';

/** Up to the largest k (the dataset schema's bound), so one signed answer covers every sample. */
export const MAX_OPENING_INDICES = 1024;
const MAX_BODY_BYTES = 64 * 1024;

export const openingsRequestSchema = z.union([
  z.strictObject({
    indices: z.array(z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)).min(1).max(MAX_OPENING_INDICES),
  }),
  z.strictObject({
    targets: z
      .array(z.string().regex(/^(0|[1-9][0-9]{0,38})$/, 'not a decimal uint128'))
      .min(1)
      .max(MAX_OPENING_INDICES),
  }),
  z.strictObject({
    envelopeIds: z
      .array(z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'not a 32-byte hex envelope id'))
      .min(1)
      .max(MAX_OPENING_INDICES),
  }),
]);
export type OpeningsRequest = { indices: number[] } | { targets: bigint[] } | { envelopeIds: `0x${string}`[] };

/** A handler's answer: status and JSON body (or text for metrics). */
export interface HttpAnswer {
  status: number;
  body: unknown;
  contentType?: string;
}

export interface RelayHttpApi {
  health(): HttpAnswer;
  commitment(epoch: number, request: IncomingMessage): Promise<HttpAnswer>;
  openings(epoch: number, request: OpeningsRequest): Promise<HttpAnswer>;
  metrics(): Promise<HttpAnswer>;
  /** Called with every rejected request's reason (for metrics). */
  rejected(reason: string): void;
}

export const httpError = (status: number, reason: string, error: string): HttpAnswer => ({
  status,
  body: { error, reason },
});

const EPOCH_ROUTE = /^\/epochs\/(\d{1,10})\/(commitment|openings)$/;

async function route(api: RelayHttpApi, request: IncomingMessage): Promise<HttpAnswer> {
  const path = (request.url ?? '/').split('?')[0]!;
  if (path === '/health' && request.method === 'GET') return api.health();
  if (path === '/metrics' && request.method === 'GET') return api.metrics();
  const match = EPOCH_ROUTE.exec(path);
  if (!match) return httpError(404, 'not-found', `no route ${request.method} ${path}`);
  const epoch = Number(match[1]);
  if (epoch > 0xffffffff) return httpError(400, 'bad-epoch', `epoch ${match[1]} is not a uint32`);
  if (match[2] === 'commitment') {
    if (request.method !== 'GET') return httpError(405, 'method-not-allowed', 'use GET');
    return api.commitment(epoch, request);
  }
  if (request.method !== 'POST') return httpError(405, 'method-not-allowed', 'use POST');
  let raw: string;
  try {
    raw = await readBody(request, MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return httpError(413, 'body-too-large', error.message);
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return httpError(400, 'bad-json', 'request body is not JSON');
  }
  const parsed = openingsRequestSchema.safeParse(json);
  if (!parsed.success) {
    const problem = describeZodError(parsed.error, { root: '(body)' });
    return httpError(
      400,
      'bad-request',
      `${problem} (send { indices: number[] }, { targets: string[] } or { envelopeIds: string[] }, 1-${MAX_OPENING_INDICES})`,
    );
  }
  const body = parsed.data;
  if ('envelopeIds' in body)
    return api.openings(epoch, { envelopeIds: body.envelopeIds.map((id) => id.toLowerCase() as `0x${string}`) });
  return api.openings(epoch, 'indices' in body ? { indices: body.indices } : { targets: body.targets.map(BigInt) });
}

/** A `request` listener for node:http serving `api`. */
export function relayHttpHandler(api: RelayHttpApi) {
  return (request: IncomingMessage, response: ServerResponse) => {
    route(api, request)
      .catch((error: Error): HttpAnswer => httpError(500, 'internal', error.message))
      .then((answer) => {
        if (answer.status >= 400) {
          const reason = (answer.body as { reason?: string } | undefined)?.reason ?? 'unknown';
          api.rejected(`http-${reason}`);
        }
        // drains an oversized request body before closing, so the client reads the 413 instead of a reset
        sendJson(
          response,
          answer.status,
          typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body),
          answer.contentType,
        );
      })
      .catch(() => response.destroy());
  };
}
