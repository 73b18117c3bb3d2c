/**
 * Stages `collect-commitments` and `seed`.
 *
 * collect-commitments.<e> (starts at the commit deadline): fixes the epoch's snapshot — the start block
 * (first block with timestamp ≥ epochStart) and the nodes Active there — then fans out one job per
 * guardian (`collect-commitments.<e>.guardian-<i>`) that GETs `{guardian}/epochs/<e>/commitments` (every
 * commitment that guardian attested inside the commit window), and merges them per (node, commitment),
 * unioning the attestations that verify (core/attestation.ts). Two signed commitments of one node stay
 * (equivocation evidence). A node no guardian attested has no commitment.
 *
 * seed.<e>: the sampling seed (first block with timestamp ≥ the commit deadline) and the assignment seed
 * (first block with timestamp ≥ epochStart − assignmentLeadSeconds); waits until those blocks exist.
 */
import { z } from 'zod';
import type { Address, Hex } from 'viem';
import { commitmentWire, type CommitmentWire, type DatasetNode } from '../../core/datasetSchema.js';
import { assignmentSeed, samplingSeed } from '../../core/sampling.js';
import { fetchJson } from '../../infra/httpJson.js';
import type { StageContext, StageHandler } from '../runner.js';
import { epochTimes, headerDomain, nowSeconds, stakingDomain, type KeeperEnv } from './env.js';
import { attestationDigest, attestationWire, recoverSigner } from '../../core/attestation.js';
import { verifySignedCommitment } from '../../core/commitment.js';
import { describeZodError, lowerHex } from '../../core/wire.js';

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

/** What one guardian attested (its list, unverified; `reason` when it could not be read). */
export interface GuardianCommitments {
  commitments: AttestedCommitmentWire[];
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

const guardianInput = z.object({ url: z.string() });

const attestedListSchema = z.object({
  commitments: z
    .array(commitmentWire.omit({ attestations: true }).extend({ attestation: attestationWire }))
    .max(1_000_000),
});

/**
 * Merges the guardians' lists into dataset entries: one per (node, signed commitment), its attestations
 * unioned (ascending guardian, one each). Keeps only attestations whose signature recovers to the named
 * guardian, a member of `guardianSet`, over this commitment, and only commitments of `nodes` signed by
 * their node key for this epoch.
 */
export async function mergeAttestedCommitments(
  env: KeeperEnv,
  epoch: number,
  lists: readonly AttestedCommitmentWire[][],
  nodes: ReadonlySet<string>,
  guardianSet: readonly string[],
): Promise<CommitmentWire[]> {
  const staking = stakingDomain(env);
  const settlement = headerDomain(env);
  const members = new Set(guardianSet.map((g) => g.toLowerCase()));
  const merged = new Map<string, CommitmentWire>();
  for (const list of lists) {
    for (const item of list) {
      if (item.commitment.epoch !== epoch || !nodes.has(item.nodeKey)) continue;
      const { attestation, ...signed } = item;
      const key = JSON.stringify(signed);
      let entry = merged.get(key);
      if (!entry) {
        const c = toEpochCommitment(signed.commitment);
        const ok = await verifySignedCommitment(staking, {
          commitment: c,
          signature: signed.signature as Hex,
          nodeKey: signed.nodeKey as Address,
        });
        if (!ok) continue;
        entry = { ...signed, attestations: [] };
        merged.set(key, entry);
      }
      if (!members.has(attestation.guardian) || entry.attestations.some((a) => a.guardian === attestation.guardian))
        continue;
      const digest = attestationDigest(
        settlement,
        staking,
        signed.nodeKey as Address,
        toEpochCommitment(signed.commitment),
      );
      if ((await recoverSigner(digest, attestation.signature as Hex)) !== attestation.guardian) continue;
      entry.attestations.push(attestation);
    }
  }
  const out = [...merged.values()];
  for (const c of out) c.attestations.sort((a, b) => (a.guardian < b.guardian ? -1 : 1));
  return out;
}

type AttestedCommitmentWire = z.infer<typeof attestedListSchema>['commitments'][number];

const toEpochCommitment = (c: CommitmentWire['commitment']) => ({
  epoch: c.epoch,
  root: c.root as Hex,
  totalUnits: BigInt(c.totalUnits),
  leafCount: BigInt(c.leafCount),
});

export function collectCommitmentsStage(env: KeeperEnv): StageHandler<'collect-commitments'> {
  return {
    async run(ctx: StageContext): Promise<CollectOutput> {
      const clock = await env.chain.clock();
      const times = epochTimes(clock, env, ctx.epoch);
      if (nowSeconds(env) < times.commitDeadline) return ctx.waitUntil(times.commitDeadline * 1000, 'commit deadline');
      const snapshot = await epochSnapshot(env, ctx.epoch);
      if (!snapshot) return ctx.waitUntil(env.nowMs() + 1000, 'start block not mined yet');
      // Commitments count only with guardian attestations (docs/keepers.md §3): ask every guardian for
      // what it attested; node-served commitments are not asked for any more.
      const results = await ctx.fanOut<GuardianCommitments>(
        env.guardianUrls.map((url, i) => ({ part: `guardian-${i}`, input: { url } })),
      );
      const set = await env.chain.guardianSet();
      const lists = env.guardianUrls.map((_, i) => results.get(`guardian-${i}`)?.commitments ?? []);
      const commitments = await mergeAttestedCommitments(
        env,
        ctx.epoch,
        lists,
        new Set(snapshot.nodes.map((n) => n.nodeKey)),
        set.members,
      );
      const committed = new Set(commitments.map((c) => c.nodeKey));
      const missing: { nodeKey: Address; reason: string }[] = snapshot.nodes
        .filter((n) => !committed.has(n.nodeKey))
        .map((n) => ({ nodeKey: n.nodeKey as Address, reason: 'no guardian attested a commitment' }));
      const unreachable = env.guardianUrls.filter((_, i) => results.get(`guardian-${i}`)?.reason !== undefined);
      ctx.log.info(
        { nodes: snapshot.nodes.length, commitments: commitments.length, missing: missing.length, unreachable },
        'commitments collected from the guardians',
      );
      return { ...snapshot, commitments, missing };
    },

    async part(ctx: StageContext): Promise<GuardianCommitments> {
      const { url } = guardianInput.parse(ctx.input);
      try {
        const { status, body } = await fetchJson(`${url.replace(/\/$/, '')}/epochs/${ctx.epoch}/commitments`, {
          timeoutMs: env.timing.requestTimeoutMs,
          maxBytes: 256 * 1024 * 1024,
        });
        if (status !== 200) throw new Error(`HTTP ${status} from ${url}`);
        const parsed = attestedListSchema.safeParse(lowerHex(body));
        if (!parsed.success) return { commitments: [], reason: `malformed list: ${describeZodError(parsed.error)}` };
        return { commitments: parsed.data.commitments };
      } catch (error) {
        if (!ctx.isLastAttempt) throw error;
        return { commitments: [], reason: (error as Error).message };
      }
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
