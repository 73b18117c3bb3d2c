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
import type { Address, Hex } from 'viem';
import type { EpochCommitment } from '../../core/commitment.js';
import { openingWire, type NodeOpeningsWire } from '../../core/datasetSchema.js';
import { evaluateCommitments } from '../../core/evaluateOpenings.js';
import { recoverSigner } from '../../core/attestation.js';
import {
  openingsDigest,
  openingsObservationSchema,
  silenceDigest,
  type OpeningsObservation,
} from '../../core/openingsProof.js';
import type { CollectOutput } from './collect.js';
import { sampleTargets } from '../../core/sampling.js';
import { fetchJson } from '../../infra/httpJson.js';
import {
  malformedAnswerReason,
  nodeBaseUrl,
  nodeFailureReason,
  nodeFetchJson,
  unexpectedStatus,
} from '../../infra/nodeFetch.js';
import type { StageContext, StageHandler } from '../runner.js';
import { epochTimes, headerDomain, nowSeconds, stakingDomain, type KeeperEnv } from './env.js';
import { ecdsaSignatureWire, lowerHex } from '../../core/wire.js';

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
  z.strictObject({
    openings: z.array(openingWire).length(count, `expected exactly ${count} openings`),
    signature: ecdsaSignatureWire,
  });

const observationsSchema = z.object({ observations: z.array(openingsObservationSchema).max(10_000_000) });

/**
 * Merges the keeper's own answers with the guardians' observations (`GET {guardian}/epochs/<e>/openings`):
 * a node-signed answer from anyone (over this epoch, the counted root and the seeded targets) makes the
 * entry `ok` (or `malformed`, for a signed answer of the wrong size); otherwise the node is `silent` with
 * every guardian's valid silence signature (ascending by guardian). evaluateEpoch decides what counts.
 */
export async function mergeOpenings(
  env: KeeperEnv,
  epoch: number,
  nodes: readonly { nodeKey: string; root: Hex; targets: string[] }[],
  own: ReadonlyMap<string, NodeOpeningsWire>,
  observed: readonly OpeningsObservation[][],
  guardianSet: readonly string[],
): Promise<NodeOpeningsWire[]> {
  const staking = stakingDomain(env);
  const settlement = headerDomain(env);
  const members = new Set(guardianSet.map((g) => g.toLowerCase()));
  const out: NodeOpeningsWire[] = [];
  for (const { nodeKey, root, targets } of nodes) {
    const mine = own.get(nodeKey);
    if (mine && mine.status !== 'silent') {
      out.push(mine);
      continue;
    }
    let signed: NodeOpeningsWire | undefined;
    const silence = new Map<string, string>();
    for (const list of observed) {
      for (const o of list) {
        if (o.nodeKey !== nodeKey || o.root !== root) continue;
        if (o.status === 'signed' && !signed) {
          const digest = openingsDigest(staking, epoch, root, targets, o.openings);
          if ((await recoverSigner(digest, o.signature as Hex)) !== nodeKey) continue;
          signed =
            o.openings.length === env.consensus.k
              ? { nodeKey, status: 'ok', openings: o.openings, signature: o.signature }
              : {
                  nodeKey,
                  status: 'malformed',
                  reason: `${o.openings.length} openings for ${env.consensus.k} samples`,
                  openings: o.openings,
                  signature: o.signature,
                };
        } else if (o.status === 'silent' && members.has(o.silence.guardian) && !silence.has(o.silence.guardian)) {
          const digest = silenceDigest(settlement, epoch, nodeKey as Address, root);
          if ((await recoverSigner(digest, o.silence.signature as Hex)) === o.silence.guardian)
            silence.set(o.silence.guardian, o.silence.signature);
        }
      }
    }
    if (signed) {
      out.push(signed);
      continue;
    }
    out.push({
      nodeKey,
      status: 'silent',
      ...(mine?.reason ? { reason: mine.reason } : {}),
      silenceAttestations: [...silence]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([guardian, signature]) => ({ guardian, signature })),
    });
  }
  return out;
}

/** Every guardian's openings observations (a guardian that cannot be read contributes nothing). */
async function guardianObservations(env: KeeperEnv, epoch: number): Promise<OpeningsObservation[][]> {
  return Promise.all(
    env.guardianUrls.map(async (url) => {
      try {
        const { status, body } = await fetchJson(`${url.replace(/\/$/, '')}/epochs/${epoch}/openings`, {
          timeoutMs: env.timing.requestTimeoutMs * 5,
          maxBytes: 512 * 1024 * 1024,
        });
        if (status !== 200) return [];
        const parsed = observationsSchema.safeParse(lowerHex(body));
        return parsed.success ? parsed.data.observations : [];
      } catch {
        return [];
      }
    }),
  );
}

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
      const parts: { part: string; input: OpeningsInput; root: Hex }[] = [];
      for (const [nodeKey, c] of [...single].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const totalUnits = c.totalUnits;
        if (totalUnits === 0n) continue;
        const targets = sampleTargets(seeds.seed.value, nodeKey as Address, totalUnits, env.consensus.k).map(String);
        parts.push({ part: nodeKey, input: { endpoint: endpoints.get(nodeKey) ?? '', targets }, root: c.root });
      }
      const answers = await ctx.fanOut<NodeOpeningsWire>(parts.map(({ part, input }) => ({ part, input })));
      // The guardians ask the nodes themselves until the openings deadline: their view is complete after it.
      const clock = await env.chain.clock();
      const { openingsDeadline } = epochTimes(clock, env, ctx.epoch);
      const missingOwn = parts.some(({ part }) => answers.get(part)?.status !== 'ok');
      if (missingOwn && nowSeconds(env) <= openingsDeadline)
        return ctx.waitUntil(openingsDeadline * 1000 + 1500, 'the guardians observe openings until the deadline');
      const observed = missingOwn ? await guardianObservations(env, ctx.epoch) : [];
      const openings = await mergeOpenings(
        env,
        ctx.epoch,
        parts.map(({ part, input, root }) => ({ nodeKey: part, root, targets: input.targets })),
        answers,
        observed,
        set.members,
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
      // its own lateness into the node's silence. Only failed requests make a node silent (and only the
      // guardians' silence signatures make that count).
      let base: string;
      try {
        base = nodeBaseUrl(endpoint);
      } catch (error) {
        return silent(nodeFailureReason(error));
      }
      try {
        // One request for all k targets: the node signs its answer to exactly these targets.
        const { status, body } = await nodeFetchJson(`${base}/epochs/${ctx.epoch}/openings`, {
          body: { targets },
          timeoutMs: env.timing.requestTimeoutMs,
          maxBytes: 16 * 1024 * 1024,
        });
        if (status !== 200) throw unexpectedStatus(status);
        const parsed = answerSchema(targets.length).safeParse(lowerHex(body));
        // An unparseable or unsigned answer is not attributable to the node: as good as none.
        if (!parsed.success) return silent(`unusable answer: ${malformedAnswerReason(parsed.error)}`);
        return { nodeKey, status: 'ok', openings: parsed.data.openings, signature: parsed.data.signature };
      } catch (error) {
        if (!ctx.isLastAttempt && nowSeconds(env) <= openingsDeadline) throw error;
        return silent(nodeFailureReason(error));
      }
    },
  };
}
