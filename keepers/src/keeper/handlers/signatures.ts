/**
 * Stage `signatures`: asks every guardian (`POST {guardian}/sign { epoch, datasetUrl, dataHash, header }`,
 * core/guardianApi.ts) in parallel, keeps each signature that recovers to a member of the active guardian
 * set over this header's EIP-712 digest, and stores them per guardian (`epoch:<e>:signatures`), so a retry
 * only asks the guardians that have not signed. Succeeds with at least the set's threshold; otherwise the
 * attempt fails naming every guardian's answer (a `header-mismatch` names the first differing field) and
 * is retried with backoff, then dead-lettered.
 */
import { recoverAddress, type Address, type Hex } from 'viem';
import {
  headerToWire,
  guardianErrorSchema,
  KEEPER_SIGNATURE_HEADER,
  KEEPER_TIMESTAMP_HEADER,
  keeperAuthHash,
  signResponseSchema,
} from '../../core/guardianApi.js';
import { headerDigest } from '../../core/epochHeader.js';
import type { StageContext, StageHandler } from '../runner.js';
import { headerDomain, type KeeperEnv } from './env.js';
import { SendnetError } from '../../core/errors.js';
import { lowerHex } from '../../core/wire.js';

export interface GuardianSignature {
  guardian: Address;
  signature: Hex;
  url: string;
}

export interface SignaturesOutput {
  signatures: GuardianSignature[];
  threshold: number;
  refusals: { url: string; reason: string }[];
}

export class QuorumError extends SendnetError {
  override name = 'QuorumError';
  override readonly code = 'quorum';
}

/**
 * POSTs `body` as JSON with the keeper's authentication headers (core/guardianApi.ts `keeperAuthHash`:
 * EIP-191 signature by the keeper key over the timestamp and the raw body's hash). No redirects.
 */
async function postSigned(
  env: KeeperEnv,
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (env.signer) {
    const timestamp = Math.floor(env.nowMs() / 1000);
    headers[KEEPER_TIMESTAMP_HEADER] = String(timestamp);
    headers[KEEPER_SIGNATURE_HEADER] = await env.signer.signMessage({
      message: { raw: keeperAuthHash(timestamp, new TextEncoder().encode(text)) },
    });
  }
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: text,
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const raw = await response.text();
  if (raw.length > 64 * 1024) throw new Error(`answer of ${url} exceeds 64 KiB`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = raw.slice(0, 300);
  }
  return { status: response.status, body: parsed };
}

export function signaturesStage(env: KeeperEnv): StageHandler<'signatures'> {
  return {
    async run(ctx: StageContext): Promise<SignaturesOutput> {
      const score = await env.store.getStage(ctx.epoch, 'score');
      const publish = await env.store.getStage(ctx.epoch, 'publish-dataset');
      if (!score || !publish)
        throw new Error(`epoch ${ctx.epoch}: signatures need the score and publish-dataset outputs`);
      const set = await env.chain.guardianSet();
      const members = new Set(set.members.map((m) => m.toLowerCase()));
      const digest = headerDigest(headerDomain(env), score.header);
      const stored = await env.store.getParts<GuardianSignature>(ctx.epoch, 'signatures');
      const signedUrls = new Set([...stored.values()].map((s) => s.url));
      const request = {
        epoch: ctx.epoch,
        datasetUrl: publish.datasetUrl,
        dataHash: score.dataHash,
        header: headerToWire(score.header),
      };
      const refusals: { url: string; reason: string }[] = [];

      await Promise.all(
        env.guardianUrls
          .filter((url) => !signedUrls.has(url))
          .map(async (url) => {
            try {
              const { status, body } = await postSigned(
                env,
                `${url.replace(/\/$/, '')}/sign`,
                request,
                // A guardian fetches and evaluates the whole dataset before answering.
                env.timing.requestTimeoutMs * 20,
              );
              if (status !== 200) {
                const err = guardianErrorSchema.safeParse(body);
                const detail = err.success ? JSON.stringify(body) : String(JSON.stringify(body)).slice(0, 300);
                refusals.push({ url, reason: `HTTP ${status} ${detail}` });
                return;
              }
              const parsed = signResponseSchema.safeParse(lowerHex(body));
              if (!parsed.success) {
                refusals.push({ url, reason: `malformed answer: ${parsed.error.issues[0]!.message}` });
                return;
              }
              const { guardian, signature } = parsed.data;
              const signer = (await recoverAddress({ hash: digest, signature: signature as Hex })).toLowerCase();
              if (signer !== guardian) {
                refusals.push({
                  url,
                  reason: `signature recovers to ${signer}, not to the claimed guardian ${guardian}`,
                });
                return;
              }
              if (!members.has(signer)) {
                refusals.push({ url, reason: `${signer} is not in the active guardian set` });
                return;
              }
              await env.store.setPart(ctx.epoch, 'signatures', signer, {
                guardian: signer as Address,
                signature: signature as Hex,
                url,
              });
            } catch (error) {
              refusals.push({ url, reason: (error as Error).message });
            }
          }),
      );

      const all = [...(await env.store.getParts<GuardianSignature>(ctx.epoch, 'signatures')).values()].filter((s) =>
        members.has(s.guardian.toLowerCase()),
      );
      for (const r of refusals) ctx.log.warn(r, 'guardian did not sign');
      if (all.length < set.threshold) {
        throw new QuorumError(
          `epoch ${ctx.epoch}: ${all.length} of the ${set.threshold} guardian signatures needed; ` +
            (refusals.map((r) => `${r.url}: ${r.reason}`).join('; ') || 'no guardian URLs configured'),
        );
      }
      all.sort((a, b) => (a.guardian.toLowerCase() < b.guardian.toLowerCase() ? -1 : 1));
      return { signatures: all, threshold: set.threshold, refusals };
    },
  };
}
