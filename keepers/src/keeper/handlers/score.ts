/**
 * Stages `transcripts`, `score` (dataset + evaluation + trees) and `publish-dataset`.
 *
 * transcripts.<e>: waits for the transcript deadline (commitDeadline + transcriptGraceSeconds) — and, in a keeper
 * process started less than transcriptGraceSeconds ago, for that long after its start unless every
 * committed license has sent its transcript — then snapshots the WatchDog commits and transcripts the
 * keeper HTTP endpoints accepted, with each license's operator read at the start block, and asks each committed
 * node named by a result for its receipts of the challenge envelopes (`challengeOpenings`, the evidence that
 * makes a result count).
 *
 * score.<e>: waits until epoch e−1 is submitted (its signers are paid in e and its cumulative list is
 * e's starting point), reads what the chain decides (guardian set, signers paid, chain parameters, key
 * states at the seed block), builds the dataset with `datasetFromParts`, stores its canonical JSON
 * (Redis + disk) and runs `evaluateEpoch` — the same function every guardian runs. Output: the header,
 * the scores, the cumulative lists (account and license leaves) and the fault leaves (the trees are rebuilt from these when proofs are
 * needed).
 *
 * publish-dataset.<e>: makes sure the dataset is on disk and reachable at `publicUrl/datasets/<hash>`
 * (a self-check, so a wrong --public-url fails here and not at every guardian).
 */
import type { Hex } from 'viem';
import {
  deriveEpochFacts,
  epochFactsMismatch,
  keyStatesAt,
  keysNamedByOpenings,
  type EpochChainFacts,
} from '../../chain/epochFacts.js';
import { canonicalJson, keccakUtf8 } from '../../core/canonicalJson.js';
import { datasetFromParts, evaluateEpoch, type RejectedItem } from '../../core/dataset.js';
import type { ChallengeOpeningsWire, TranscriptWire, WatchdogCommitWire } from '../../core/datasetSchema.js';
import { challengeEnvelopesByNode } from '../../core/evaluateWatchdogs.js';
import { askNodesForChallengeReceipts } from '../../infra/challengeOpenings.js';
import { nodeFailureReason } from '../../infra/nodeFetch.js';
import type { StoredWatchdogCommit } from '../../core/watchdogApi.js';
import type { EpochHeader, NodeScore } from '../../core/epochHeader.js';
import type { CumulativeReward, FaultRecord, LicenseCumulative, LicenseReward } from '../../core/scoring.js';
import { fetchJson } from '../../infra/httpJson.js';
import type { StageContext, StageHandler } from '../runner.js';
import type { CollectOutput, SeedOutput } from './collect.js';
import { datasetPath, localDataset, previousCumulative, saveDataset } from './datasets.js';
import { epochTimes, nowSeconds, type KeeperEnv } from './env.js';

export interface TranscriptsOutput {
  watchdogs: WatchdogCommitWire[];
  transcripts: TranscriptWire[];
  /** The nodes' openings of their receipts of the transcripts' challenge envelopes (evidence of delivery). */
  challengeOpenings?: ChallengeOpeningsWire[];
}

export interface ScoreOutput {
  dataHash: Hex;
  header: EpochHeader;
  scores: NodeScore[];
  cumulative: CumulativeReward[];
  /** License leaves of the reward tree (after the account leaves), ascending tokenId. */
  licenseCumulative: LicenseCumulative[];
  /** This epoch's license payments. */
  licenseRewards: LicenseReward[];
  faults: FaultRecord[];
  rejected: RejectedItem[];
  eligibleLicenses: string[];
}

export interface PublishOutput {
  dataHash: Hex;
  datasetUrl: string;
}

/** The first field where the pipeline's earlier chain reads disagree with the guardians' derivation. */
function snapshotMismatch(facts: EpochChainFacts, collected: CollectOutput, seeds: SeedOutput): string | null {
  // collected: epoch times, start block, node set; seeds: seed, assignSeed
  const mismatch = epochFactsMismatch(facts, collected) ?? epochFactsMismatch(facts, seeds);
  if (!mismatch) return null;
  return mismatch.field.startsWith('nodes') ? 'node set' : mismatch.field;
}

/** How many nodes the keeper asks for challenge receipts at once. */
const CHALLENGE_OPENINGS_CONCURRENCY = 16;

/**
 * Asks every node named by a transcript's results that gave a commitment for its receipts of the challenge
 * envelopes (infra/challengeOpenings.ts), once, with the request timeout. A node that does not answer proves
 * no delivery; `evaluateEpoch` verifies what the others answered.
 */
async function collectChallengeOpenings(
  env: KeeperEnv,
  ctx: StageContext,
  collected: CollectOutput,
  transcripts: readonly TranscriptWire[],
): Promise<ChallengeOpeningsWire[]> {
  const endpoints = new Map(collected.nodes.map((n) => [n.nodeKey.toLowerCase(), n.endpoint]));
  const committed = new Set(collected.commitments.map((c) => c.nodeKey.toLowerCase()));
  const asks = [...challengeEnvelopesByNode(transcripts)]
    .filter(([node]) => committed.has(node) && endpoints.has(node))
    .map(([nodeKey, envelopeIds]) => ({ nodeKey, endpoint: endpoints.get(nodeKey)!, envelopeIds }));
  const out: ChallengeOpeningsWire[] = [];
  await askNodesForChallengeReceipts(asks, ctx.epoch, {
    timeoutMs: env.timing.requestTimeoutMs,
    concurrency: CHALLENGE_OPENINGS_CONCURRENCY,
    onAnswer: ({ nodeKey }, openings) => {
      if (openings.length > 0) out.push({ nodeKey, openings });
      return false;
    },
    onFailure: ({ nodeKey }, error) =>
      ctx.log.info({ node: nodeKey, reason: nodeFailureReason(error) }, 'no challenge receipts from node'),
  });
  return out.sort((a, b) => (a.nodeKey < b.nodeKey ? -1 : 1));
}

export function transcriptsStage(env: KeeperEnv): StageHandler<'transcripts'> {
  return {
    async run(ctx: StageContext): Promise<TranscriptsOutput> {
      const clock = await env.chain.clock();
      const { transcriptDeadline } = epochTimes(clock, env, ctx.epoch);
      if (nowSeconds(env) < transcriptDeadline)
        return ctx.waitUntil(transcriptDeadline * 1000 + 200, 'transcript deadline');
      const collected = await env.store.requireStage(ctx.epoch, 'collect-commitments');
      const commits = await env.store.getWatchdog<StoredWatchdogCommit>(ctx.epoch, 'commits');
      const transcripts = await env.store.getWatchdog<TranscriptWire>(ctx.epoch, 'transcripts');
      // A keeper (re)started after the epoch ended may have been unreachable during the grace: WatchDogs
      // keep retrying, so give them the grace again from the start of this process.
      const graceEndMs = (env.startedAtMs ?? 0) + env.timing.transcriptGraceSeconds * 1000;
      if (env.nowMs() < graceEndMs && [...commits.keys()].some((tokenId) => !transcripts.has(tokenId))) {
        return ctx.waitUntil(graceEndMs, 'transcript grace after a keeper restart');
      }
      const tokenIds = [...commits.keys()].map((id) => BigInt(id));
      const startBlock = BigInt(collected.startBlock.blockNumber);
      const [operators, owners] = await Promise.all([
        env.chain.watchdogOperatorsAt(tokenIds, startBlock),
        env.chain.watchdogOwnersAt(tokenIds, startBlock),
      ]);
      const watchdogs: WatchdogCommitWire[] = [...commits.values()].map((c) => ({
        tokenId: c.tokenId,
        operator: (operators.get(c.tokenId) ?? c.operator).toLowerCase(),
        owner: owners.get(c.tokenId)!,
        commit: c.commit,
        signature: c.signature,
      }));
      const challengeOpenings = await collectChallengeOpenings(env, ctx, collected, [...transcripts.values()]);
      ctx.log.info(
        {
          commits: watchdogs.length,
          transcripts: transcripts.size,
          challengeReceipts: challengeOpenings.reduce((n, c) => n + c.openings.length, 0),
        },
        'WatchDog data snapshot',
      );
      return { watchdogs, transcripts: [...transcripts.values()], challengeOpenings };
    },
  };
}

export function scoreStage(env: KeeperEnv): StageHandler<'score'> {
  return {
    async run(ctx: StageContext): Promise<ScoreOutput> {
      const epoch = ctx.epoch;
      if (epoch > 1 && (await env.chain.epochStatus(epoch - 1)) === 'None') {
        return ctx.waitUntil(env.nowMs() + 2000, `epoch ${epoch - 1} is not submitted yet`);
      }
      const collected = await env.store.requireStage(epoch, 'collect-commitments');
      const seeds = await env.store.requireStage(epoch, 'seed');
      const { openings } = await env.store.requireStage(epoch, 'openings');
      const { watchdogs, transcripts, challengeOpenings } = await env.store.requireStage(epoch, 'transcripts');
      const { contracts } = env.book;
      const epochContracts = {
        staking: contracts.NodeStaking,
        settlement: contracts.EpochSettlement,
        didRegistry: contracts.DidRegistry,
        license: contracts.WatchDogLicense,
        licenseRewards: contracts.LicenseRewards,
      };
      // What the chain decides, derived exactly as every guardian derives it (chain/epochFacts.ts).
      const [facts, previous] = await Promise.all([
        deriveEpochFacts(env.client, epochContracts, epoch, {
          commitGraceSeconds: env.consensus.commitGraceSeconds,
          assignmentLeadSeconds: env.consensus.assignmentLeadSeconds,
          fromBlock: BigInt(env.book.startBlock),
        }),
        previousCumulative(env, epoch),
      ]);
      const mismatch = snapshotMismatch(facts, collected, seeds);
      if (mismatch) throw new Error(`epoch ${epoch}: the pipeline's ${mismatch} differs from the chain's (reorg?)`);
      const keys = await keyStatesAt(
        env.client,
        contracts.DidRegistry,
        keysNamedByOpenings({ openings }),
        seeds.seed.blockNumber,
      );
      const dataset = datasetFromParts({
        chainId: env.book.chainId,
        contracts: epochContracts,
        epoch,
        epochStart: collected.epochStart,
        epochEnd: collected.epochEnd,
        commitDeadline: collected.commitDeadline,
        parameters: {
          ...env.consensus,
          equivocationSlash: facts.equivocationSlash,
          guardianShareBps: facts.guardianShareBps,
          epochEmission: facts.epochEmission,
          licenseEmission: facts.licenseEmission,
          rewardsTo: facts.rewardsTo,
        },
        startBlock: collected.startBlock,
        seed: seeds.seed,
        assignSeed: seeds.assignSeed,
        nodes: collected.nodes,
        keys,
        watchdogs,
        commitments: collected.commitments,
        openings,
        transcripts,
        challengeOpenings: challengeOpenings ?? [],
        guardianSet: facts.guardianSet,
        signersPaid: facts.signersPaid,
        previousCumulative: previous.accounts,
        previousLicenseCumulative: previous.licenses,
      });
      const json = canonicalJson(dataset);
      const dataHash = keccakUtf8(json);
      await saveDataset(env, dataHash, json);
      const evaluation = await evaluateEpoch(dataset, { dataHash });
      if (evaluation.header.dataHash.toLowerCase() !== dataHash) {
        throw new Error(`evaluateEpoch returned dataHash ${evaluation.header.dataHash}, expected ${dataHash}`);
      }
      ctx.log.info(
        {
          dataHash,
          rejected: evaluation.rejected.length,
          faults: evaluation.result.faults.length,
          rewardRoot: evaluation.header.rewardRoot,
        },
        'epoch evaluated',
      );
      return {
        dataHash,
        header: evaluation.header,
        scores: evaluation.result.scores,
        cumulative: evaluation.result.cumulative,
        licenseCumulative: evaluation.result.licenseCumulative,
        licenseRewards: evaluation.result.licenseRewards,
        faults: evaluation.result.faults,
        rejected: evaluation.rejected,
        eligibleLicenses: evaluation.eligibleLicenses,
      };
    },
  };
}

export function publishDatasetStage(env: KeeperEnv): StageHandler<'publish-dataset'> {
  return {
    async run(ctx: StageContext): Promise<PublishOutput> {
      const { dataHash } = await env.store.requireStage(ctx.epoch, 'score');
      const json = await localDataset(env, dataHash);
      if (json === null)
        throw new Error(
          `dataset ${dataHash} of epoch ${ctx.epoch} is missing from Redis and ${datasetPath(env, dataHash)}`,
        );
      await saveDataset(env, dataHash, json);
      const datasetUrl = `${env.publicUrl.replace(/\/$/, '')}/datasets/${dataHash}`;
      const { status, body } = await fetchJson(datasetUrl, {
        timeoutMs: env.timing.requestTimeoutMs * 10,
        maxBytes: env.timing.maxDatasetBytes,
      });
      if (status !== 200)
        throw new Error(`dataset is not reachable at ${datasetUrl} (HTTP ${status}): check the keeper's public URL`);
      if (keccakUtf8(canonicalJson(body)) !== dataHash)
        throw new Error(`${datasetUrl} serves a document whose hash is not ${dataHash}`);
      return { dataHash, datasetUrl };
    },
  };
}
