/**
 * Stage `openings`: for every node with exactly one validly signed commitment of this epoch and
 * totalUnits > 0, compute its k sample targets from the sampling seed (core/sampling.ts) and ask the node
 * (`POST {endpoint}/epochs/<e>/openings { targets }`, at most 64 per request) — one job per node,
 * `openings.<e>.<nodeKey>`. The answers are recorded as received: `ok` with exactly k openings in wire
 * form, `malformed` (with the reason) or `silent` (no answer by the openings deadline, after retries; a
 * keeper that asks only after the deadline — it was down — still asks once).
 * Verification is `evaluateEpoch`'s job. Equivocating nodes, nodes without a valid commitment and nodes
 * with totalUnits 0 get no entry (docs/keepers.md §5).
 */
import { z } from 'zod';
import type { Address, Hex } from 'viem';
import { verifySignedCommitment } from '../../core/commitment.js';
import { openingWire, type CommitmentWire, type NodeOpeningsWire } from '../../core/datasetSchema.js';
import { sampleTargets } from '../../core/sampling.js';
import {
  malformedAnswerReason,
  nodeBaseUrl,
  nodeFailureReason,
  nodeFetchJson,
  unexpectedStatus,
} from '../../infra/nodeFetch.js';
import type { StageContext, StageHandler } from '../runner.js';
import { epochTimes, nowSeconds, stakingDomain, type KeeperEnv } from './env.js';
import { lowerHex } from '../../core/wire.js';

/** Most targets the reference edge node answers per request. */
export const MAX_TARGETS_PER_REQUEST = 64;

export interface OpeningsOutput {
  openings: NodeOpeningsWire[];
}

interface OpeningsInput {
  endpoint: string;
  targets: string[];
}

const openingsInput = z.object({ endpoint: z.string(), targets: z.array(z.string()) });

/** The single valid commitment of each node (nodes that equivocated or signed nothing valid are absent). */
export async function validCommitments(env: KeeperEnv, epoch: number, commitments: readonly CommitmentWire[]) {
  const domain = stakingDomain(env);
  const valid = new Map<string, CommitmentWire[]>();
  for (const c of commitments) {
    if (c.commitment.epoch !== epoch) continue;
    const ok = await verifySignedCommitment(domain, {
      commitment: {
        epoch: c.commitment.epoch,
        root: c.commitment.root as Hex,
        totalUnits: BigInt(c.commitment.totalUnits),
        leafCount: BigInt(c.commitment.leafCount),
      },
      signature: c.signature as Hex,
      nodeKey: c.nodeKey as Address,
    });
    if (ok) valid.set(c.nodeKey, [...(valid.get(c.nodeKey) ?? []), c]);
  }
  const single = new Map<string, CommitmentWire>();
  for (const [node, list] of valid) if (list.length === 1) single.set(node, list[0]!);
  return single;
}

const answerSchema = (count: number) =>
  z.strictObject({ openings: z.array(openingWire).length(count, `expected exactly ${count} openings`) });

export function openingsStage(env: KeeperEnv): StageHandler<'openings'> {
  return {
    async run(ctx: StageContext): Promise<OpeningsOutput> {
      const collected = await env.store.getStage(ctx.epoch, 'collect-commitments');
      const seeds = await env.store.getStage(ctx.epoch, 'seed');
      if (!collected || !seeds)
        throw new Error(`openings of epoch ${ctx.epoch} need the collect-commitments and seed outputs`);
      const single = await validCommitments(env, ctx.epoch, collected.commitments);
      const endpoints = new Map(collected.nodes.map((n) => [n.nodeKey, n.endpoint]));
      const parts: { part: string; input: OpeningsInput }[] = [];
      for (const [nodeKey, c] of [...single].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const totalUnits = BigInt(c.commitment.totalUnits);
        if (totalUnits === 0n) continue;
        const targets = sampleTargets(seeds.seed.value, nodeKey as Address, totalUnits, env.consensus.k).map(String);
        parts.push({ part: nodeKey, input: { endpoint: endpoints.get(nodeKey) ?? '', targets } });
      }
      const answers = await ctx.fanOut<NodeOpeningsWire>(parts);
      const openings = parts.map(
        ({ part }): NodeOpeningsWire =>
          answers.get(part) ?? { nodeKey: part, status: 'silent', reason: 'openings job failed' },
      );
      const counts = { ok: 0, silent: 0, malformed: 0 };
      for (const o of openings) counts[o.status]++;
      ctx.log.info(counts, 'openings collected');
      return { openings };
    },

    async part(ctx: StageContext): Promise<NodeOpeningsWire> {
      const { endpoint, targets } = openingsInput.parse(ctx.input) as OpeningsInput;
      const nodeKey = ctx.part!.toLowerCase();
      const clock = await env.chain.clock();
      const { openingsDeadline } = epochTimes(clock, env, ctx.epoch);
      const silent = (reason: string): NodeOpeningsWire => ({
        nodeKey,
        status: 'silent',
        reason: reason.slice(0, 500),
      });
      // Even past the deadline the node is asked once: a keeper that was down (or slow) must not turn
      // its own lateness into the node's silence. Only failed requests make a node silent.
      let base: string;
      try {
        base = nodeBaseUrl(endpoint);
      } catch (error) {
        return silent(nodeFailureReason(error));
      }
      const received: unknown[] = [];
      try {
        for (let i = 0; i < targets.length; i += MAX_TARGETS_PER_REQUEST) {
          const batch = targets.slice(i, i + MAX_TARGETS_PER_REQUEST);
          const { status, body } = await nodeFetchJson(`${base}/epochs/${ctx.epoch}/openings`, {
            body: { targets: batch },
            timeoutMs: env.timing.requestTimeoutMs,
            maxBytes: 4 * 1024 * 1024,
          });
          if (status !== 200) throw unexpectedStatus(status);
          const parsed = answerSchema(batch.length).safeParse(lowerHex(body));
          if (!parsed.success)
            return { nodeKey, status: 'malformed', reason: malformedAnswerReason(parsed.error).slice(0, 500) };
          received.push(...parsed.data.openings);
        }
      } catch (error) {
        if (!ctx.isLastAttempt && nowSeconds(env) <= openingsDeadline) throw error;
        return silent(nodeFailureReason(error));
      }
      return { nodeKey, status: 'ok', openings: received as NodeOpeningsWire['openings'] };
    },
  };
}
