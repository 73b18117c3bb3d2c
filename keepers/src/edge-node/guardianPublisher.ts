/**
 * Sends the node's signed commitments to the guardians (docs/keepers.md §3): a commitment counts only
 * with attestations of a quorum of guardians, and a guardian attests only inside the commit window. Each
 * (guardian, commitment) pair is POSTed to `{guardian}/commitments` until the guardian answers 200 or
 * refuses for good (4xx other than 425/429), or the commit deadline passes; retried every `retryMs`.
 * The only place the edge node calls guardians.
 */
import type { Logger } from 'pino';

export interface PublishResult {
  /** Guardian URL → the attestation it returned, per commitment index. */
  attested: { url: string; index: number; attestation: unknown }[];
  refused: { url: string; index: number; status: number; body: unknown }[];
  unanswered: { url: string; index: number }[];
}

export async function publishCommitments(args: {
  guardianUrls: readonly string[];
  commitments: readonly unknown[];
  /** Unix ms after which no guardian attests any more. */
  deadlineMs: number;
  nowMs?: () => number;
  retryMs?: number;
  requestTimeoutMs?: number;
  log?: Logger;
}): Promise<PublishResult> {
  const now = args.nowMs ?? Date.now;
  const result: PublishResult = { attested: [], refused: [], unanswered: [] };
  let pending = args.guardianUrls.flatMap((url) => args.commitments.map((_, index) => ({ url, index })));
  while (pending.length > 0 && now() < args.deadlineMs) {
    const next: typeof pending = [];
    await Promise.all(
      pending.map(async (p) => {
        try {
          const response = await fetch(`${p.url.replace(/\/$/, '')}/commitments`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(args.commitments[p.index]),
            redirect: 'error',
            signal: AbortSignal.timeout(
              Math.max(100, Math.min(args.requestTimeoutMs ?? 2000, args.deadlineMs - now())),
            ),
          });
          const body: unknown = await response.json().catch(() => null);
          if (response.status === 200) result.attested.push({ ...p, attestation: body });
          else if (
            response.status >= 400 &&
            response.status < 500 &&
            response.status !== 425 &&
            response.status !== 429
          ) {
            result.refused.push({ ...p, status: response.status, body });
            args.log?.warn({ guardian: p.url, status: response.status, body }, 'guardian refused the commitment');
          } else next.push(p);
        } catch {
          next.push(p);
        }
      }),
    );
    pending = next;
    if (pending.length > 0) await new Promise((r) => setTimeout(r, args.retryMs ?? 250));
  }
  result.unanswered = pending;
  if (pending.length > 0)
    args.log?.warn(
      { guardians: [...new Set(pending.map((p) => p.url))] },
      'guardians did not attest before the deadline',
    );
  return result;
}
