/**
 * Stages `collect-commitments` and `seed`.
 *
 * collect-commitments.<e> (starts at the commit deadline): fixes the epoch's snapshot — the start block
 * (first block with timestamp ≥ epochStart) and the nodes Active there — then fans out one job per node
 * (`collect-commitments.<e>.<nodeKey>`) that GETs `{endpoint}/epochs/<e>/commitment` (`commitmentFetches`
 * times: an equivocating node may hand out different commitments) and keeps every distinct, well-formed
 * commitment naming that node. A node that answers 404/410 or not at all has no commitment.
 *
 * seed.<e>: the sampling seed (first block with timestamp ≥ the commit deadline) and the assignment seed
 * (first block with timestamp ≥ epochStart − assignmentLeadSeconds); waits until those blocks exist.
 */
import { z } from 'zod';
import type { Address, Hex } from 'viem';
import { commitmentWire, type CommitmentWire, type DatasetNode } from '../../core/datasetSchema.js';
import { assignmentSeed, samplingSeed } from '../../core/sampling.js';
import {
  malformedAnswerReason,
  nodeBaseUrl,
  nodeFailureReason,
  nodeFetchJson,
  unexpectedStatus,
} from '../../infra/nodeFetch.js';
import type { StageContext, StageHandler } from '../runner.js';
import { epochTimes, nowSeconds, type KeeperEnv } from './env.js';
import { lowerHex } from '../../core/wire.js';

export interface EpochSnapshot {
  epochStart: number;
  epochEnd: number;
  commitDeadline: number;
  startBlock: { blockNumber: number; blockHash: Hex };
  /** Active at the start block, ascending nodeKey, wire form. */
  nodes: DatasetNode[];
}

export interface CollectOutput extends EpochSnapshot {
  /** Every distinct well-formed commitment received, per node (wire form). */
  commitments: CommitmentWire[];
  /** Nodes that gave none, with the reason. */
  missing: { nodeKey: Address; reason: string }[];
}

export interface NodeCommitments {
  commitments: CommitmentWire[];
  reason?: string;
}

export interface SeedOutput {
  seed: { blockNumber: number; blockHash: Hex; value: Hex };
  assignSeed: { blockNumber: number; blockHash: Hex; value: Hex };
}

const SNAPSHOT_FIELD = 'snapshot';

/**
 * The epoch's start block and node set, computed once and stored (`epoch:<e>` field `snapshot`), or null
 * while the start block does not exist. Shared by the pipeline and the WatchDog endpoints.
 */
export async function epochSnapshot(env: KeeperEnv, epoch: number): Promise<EpochSnapshot | null> {
  const stored = await env.store.getStage(epoch, SNAPSHOT_FIELD);
  if (stored) return stored;
  const clock = await env.chain.clock();
  const times = epochTimes(clock, env, epoch);
  const start = await env.chain.firstBlockAtOrAfter(times.epochStart);
  if (!start) return null;
  const nodes = await env.chain.activeNodesAt(start.number);
  const snapshot: EpochSnapshot = {
    epochStart: times.epochStart,
    epochEnd: times.epochEnd,
    commitDeadline: times.commitDeadline,
    startBlock: { blockNumber: Number(start.number), blockHash: start.hash.toLowerCase() as Hex },
    nodes: nodes.map((n) => ({
      nodeKey: n.nodeKey.toLowerCase(),
      operator: n.operator.toLowerCase(),
      stake: n.stake.toString(),
      endpoint: n.endpoint,
    })),
  };
  return env.store.setStage(epoch, SNAPSHOT_FIELD, snapshot);
}

const nodeInput = z.object({ endpoint: z.string() });

export function collectCommitmentsStage(env: KeeperEnv): StageHandler<'collect-commitments'> {
  return {
    async run(ctx: StageContext): Promise<CollectOutput> {
      const clock = await env.chain.clock();
      const times = epochTimes(clock, env, ctx.epoch);
      if (nowSeconds(env) < times.commitDeadline) return ctx.waitUntil(times.commitDeadline * 1000, 'commit deadline');
      const snapshot = await epochSnapshot(env, ctx.epoch);
      if (!snapshot) return ctx.waitUntil(env.nowMs() + 1000, 'start block not mined yet');
      const results = await ctx.fanOut<NodeCommitments>(
        snapshot.nodes.map((n) => ({ part: n.nodeKey, input: { endpoint: n.endpoint } })),
      );
      const commitments: CommitmentWire[] = [];
      const missing: { nodeKey: Address; reason: string }[] = [];
      for (const node of snapshot.nodes) {
        const r = results.get(node.nodeKey);
        if (!r) missing.push({ nodeKey: node.nodeKey as Address, reason: 'commitment job failed' });
        else if (r.commitments.length === 0)
          missing.push({ nodeKey: node.nodeKey as Address, reason: r.reason ?? 'no commitment' });
        commitments.push(...(r?.commitments ?? []));
      }
      ctx.log.info(
        { nodes: snapshot.nodes.length, commitments: commitments.length, missing: missing.length },
        'commitments collected',
      );
      return { ...snapshot, commitments, missing };
    },

    async part(ctx: StageContext): Promise<NodeCommitments> {
      const { endpoint } = nodeInput.parse(ctx.input);
      const nodeKey = ctx.part!.toLowerCase();
      let base: string;
      try {
        base = nodeBaseUrl(endpoint);
      } catch (error) {
        return { commitments: [], reason: nodeFailureReason(error) };
      }
      const seen = new Map<string, CommitmentWire>();
      let reason: string | undefined;
      try {
        for (let i = 0; i < env.timing.commitmentFetches; i++) {
          const { status, body } = await nodeFetchJson(`${base}/epochs/${ctx.epoch}/commitment`, {
            timeoutMs: env.timing.requestTimeoutMs,
            maxBytes: 64 * 1024,
          });
          if (status === 404 || status === 410) {
            reason = `HTTP ${status}`;
            break;
          }
          if (status !== 200) throw unexpectedStatus(status);
          const parsed = commitmentWire.safeParse(lowerHex(body));
          if (!parsed.success) {
            reason = `malformed commitment: ${malformedAnswerReason(parsed.error)}`;
            continue;
          }
          if (parsed.data.nodeKey !== nodeKey) {
            reason = `commitment names node ${parsed.data.nodeKey}, not ${nodeKey}`;
            continue;
          }
          seen.set(JSON.stringify(parsed.data), parsed.data);
        }
      } catch (error) {
        if (!ctx.isLastAttempt) throw error;
        reason = nodeFailureReason(error);
      }
      return seen.size > 0
        ? { commitments: [...seen.values()] }
        : { commitments: [], reason: reason ?? 'no commitment' };
    },
  };
}

export function seedStage(env: KeeperEnv): StageHandler<'seed'> {
  return {
    async run(ctx: StageContext): Promise<SeedOutput> {
      const clock = await env.chain.clock();
      const times = epochTimes(clock, env, ctx.epoch);
      const assignTime = Math.max(0, times.epochStart - env.consensus.assignmentLeadSeconds);
      const [seedBlock, assignBlock] = await Promise.all([
        env.chain.firstBlockAtOrAfter(times.commitDeadline),
        env.chain.firstBlockAtOrAfter(assignTime),
      ]);
      if (!seedBlock || !assignBlock) return ctx.waitUntil(env.nowMs() + 1000, 'seed block not mined yet');
      const seedHash = seedBlock.hash.toLowerCase() as Hex;
      const assignHash = assignBlock.hash.toLowerCase() as Hex;
      return {
        seed: { blockNumber: Number(seedBlock.number), blockHash: seedHash, value: samplingSeed(ctx.epoch, seedHash) },
        assignSeed: {
          blockNumber: Number(assignBlock.number),
          blockHash: assignHash,
          value: assignmentSeed(ctx.epoch, assignHash),
        },
      };
    },
  };
}
