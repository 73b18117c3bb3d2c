/**
 * Stage `openings`: for every node whose commitment counts (node-signed, attested by a quorum of
 * guardians, within the leaf bound; `validCommitments`) and has totalUnits > 0, compute its k sample targets from the sampling seed (core/sampling.ts) and ask the node
 * (`POST {endpoint}/epochs/<e>/openings { targets }`, at most 64 per request) — one job per node,
 * `openings.<e>.<nodeKey>`. The answers are recorded as received: `ok` with exactly k openings in wire
 * form, `malformed` (with the reason) or `silent` (no answer by the openings deadline, after retries; a
 * keeper that asks only after the deadline — it was down — still asks once).
 * Verification is `evaluateEpoch`'s job. Equivocating nodes, nodes without a valid commitment and nodes
 * with totalUnits 0 get no entry (docs/keepers.md §5).
 */
import { z } from 'zod';
import type { Address } from 'viem';
import type { EpochCommitment } from '../../core/commitment.js';
import { openingWire, type NodeOpeningsWire } from '../../core/datasetSchema.js';
import { evaluateCommitments } from '../../core/evaluateOpenings.js';
import type { CollectOutput } from './collect.js';
import { sampleTargets } from '../../core/sampling.js';
import { fetchJson, httpBaseOfEndpoint } from '../../infra/httpJson.js';
import type { StageContext, StageHandler } from '../runner.js';
import { epochTimes, nowSeconds, type KeeperEnv } from './env.js';
import { describeZodError, lowerHex } from '../../core/wire.js';

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

/**
 * The commitment that counts for each node, by `evaluateEpoch`'s own rule (core/evaluateOpenings.ts
 * `evaluateCommitments`: node-signed, a quorum of guardian attestations, the leaf bound; equivocators and
 * nodes without one are absent).
 */
export async function validCommitments(
  env: KeeperEnv,
  epoch: number,
  collected: Pick<CollectOutput, 'commitments' | 'nodes'>,
  guardianSet: readonly string[],
): Promise<Map<string, EpochCommitment>> {
  const { book } = env;
  const { commitments } = await evaluateCommitments(
    {
      chainId: book.chainId,
      contracts: {
        staking: book.contracts.NodeStaking.toLowerCase(),
        settlement: book.contracts.EpochSettlement.toLowerCase(),
        didRegistry: book.contracts.DidRegistry.toLowerCase(),
        license: book.contracts.WatchDogLicense.toLowerCase(),
        licenseRewards: book.contracts.LicenseRewards.toLowerCase(),
      },
      epoch,
      nodes: collected.nodes,
      guardianSet: guardianSet.map((g) => g.toLowerCase()),
      commitments: collected.commitments,
    },
    [],
  );
  return new Map([...commitments].map(([k, c]) => [k.toLowerCase(), c]));
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
      const set = await env.chain.guardianSet();
      const single = await validCommitments(env, ctx.epoch, collected, set.members);
      const endpoints = new Map(collected.nodes.map((n) => [n.nodeKey, n.endpoint]));
      const parts: { part: string; input: OpeningsInput }[] = [];
      for (const [nodeKey, c] of [...single].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const totalUnits = c.totalUnits;
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
        base = httpBaseOfEndpoint(endpoint);
      } catch (error) {
        return silent((error as Error).message);
      }
      const received: unknown[] = [];
      try {
        for (let i = 0; i < targets.length; i += MAX_TARGETS_PER_REQUEST) {
          const batch = targets.slice(i, i + MAX_TARGETS_PER_REQUEST);
          const { status, body } = await fetchJson(`${base}/epochs/${ctx.epoch}/openings`, {
            body: { targets: batch },
            timeoutMs: env.timing.requestTimeoutMs,
            maxBytes: 4 * 1024 * 1024,
          });
          if (status !== 200) throw new Error(`HTTP ${status} from ${base}: ${JSON.stringify(body).slice(0, 200)}`);
          const parsed = answerSchema(batch.length).safeParse(lowerHex(body));
          if (!parsed.success)
            return { nodeKey, status: 'malformed', reason: describeZodError(parsed.error).slice(0, 500) };
          received.push(...parsed.data.openings);
        }
      } catch (error) {
        if (!ctx.isLastAttempt && nowSeconds(env) <= openingsDeadline) throw error;
        return silent((error as Error).message);
      }
      return { nodeKey, status: 'ok', openings: received as NodeOpeningsWire['openings'] };
    },
  };
}
