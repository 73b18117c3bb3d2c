/**
 * Asking a node for its committed receipts of WatchDog challenge envelopes (issue 11 finding 3):
 * `POST {endpoint}/epochs/<e>/openings { envelopeIds }` → `{ openings }`, the openings of those envelopes its
 * epoch tree holds. The keeper asks after the transcripts are in (they reveal which envelopes were
 * challenges); a guardian asks again at `/sign` for results the keeper's dataset leaves unproven. The
 * openings prove themselves (a sum path to the node's committed root, the receipt's signatures), so they need
 * no node signature; anything the node adds that was not asked for is dropped.
 */
import { z } from 'zod';
import type { Address, Hex } from 'viem';
import { openingWire, type OpeningWire } from '../core/datasetSchema.js';
import { lowerHex } from '../core/wire.js';
import { malformedAnswerReason, NodeFetchError, nodeBaseUrl, nodeFetchJson, unexpectedStatus } from './nodeFetch.js';

/** Most envelope ids the reference edge node answers per request (edge-node/http.ts). */
export const MAX_ENVELOPE_IDS_PER_REQUEST = 1024;

const answerSchema = z.object({ openings: z.array(openingWire).max(MAX_ENVELOPE_IDS_PER_REQUEST) });

/**
 * The node's openings of the receipts of `envelopeIds` in `epoch` (only ids asked for, each once, ascending
 * by envelope id). Throws NodeFetchError when the node cannot be asked or answers unusably.
 */
export async function fetchChallengeOpenings(
  endpoint: string,
  epoch: number,
  envelopeIds: readonly Hex[],
  timeoutMs: number,
): Promise<OpeningWire[]> {
  const base = nodeBaseUrl(endpoint);
  const wanted = new Set(envelopeIds.map((id) => id.toLowerCase()));
  const found = new Map<string, OpeningWire>();
  const ids = [...wanted].sort();
  for (let i = 0; i < ids.length; i += MAX_ENVELOPE_IDS_PER_REQUEST) {
    const { status, body } = await nodeFetchJson(`${base}/epochs/${epoch}/openings`, {
      body: { envelopeIds: ids.slice(i, i + MAX_ENVELOPE_IDS_PER_REQUEST) },
      timeoutMs,
      maxBytes: 16 * 1024 * 1024,
    });
    if (status !== 200) throw unexpectedStatus(status);
    const parsed = answerSchema.safeParse(lowerHex(body));
    if (!parsed.success)
      throw new NodeFetchError('unreachable', `unusable answer: ${malformedAnswerReason(parsed.error)}`);
    for (const o of parsed.data.openings)
      if (wanted.has(o.ticket.envelopeId) && !found.has(o.ticket.envelopeId)) found.set(o.ticket.envelopeId, o);
  }
  return [...found.values()].sort((a, b) => (a.ticket.envelopeId < b.ticket.envelopeId ? -1 : 1));
}

/** One node to ask for its receipts of `envelopeIds`. */
export interface ChallengeReceiptAsk {
  nodeKey: Address;
  endpoint: string;
  envelopeIds: readonly Hex[];
}

/**
 * Asks every node of `asks`, `concurrency` at a time, with `fetchChallengeOpenings`: each answer goes to
 * `onAnswer` (which returns true to stop asking further nodes), each failure to `onFailure` (a node that does
 * not answer proves nothing). Shared by the keeper's `transcripts` stage and the guardian's own view.
 */
export async function askNodesForChallengeReceipts(
  asks: readonly ChallengeReceiptAsk[],
  epoch: number,
  options: {
    timeoutMs: number;
    concurrency: number;
    onAnswer: (ask: ChallengeReceiptAsk, openings: OpeningWire[]) => boolean | undefined;
    onFailure: (ask: ChallengeReceiptAsk, error: unknown) => void;
  },
): Promise<void> {
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (next < asks.length && !stopped) {
      const ask = asks[next++]!;
      try {
        const openings = await fetchChallengeOpenings(ask.endpoint, epoch, ask.envelopeIds, options.timeoutMs);
        if (options.onAnswer(ask, openings)) stopped = true;
      } catch (error) {
        options.onFailure(ask, error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}
