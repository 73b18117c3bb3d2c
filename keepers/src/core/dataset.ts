/**
 * The epoch dataset and its evaluation (docs/keepers.md §3–§5), shared by the keeper and every guardian.
 * Pure: no I/O, no clock, no randomness.
 *
 * - `EpochDataset` / `parseEpochDataset` / `datasetFromParts`: the wire format (datasetSchema.ts).
 * - `canonicalJson(dataset)`, `datasetHash(dataset)` = keccak256(utf8(canonical JSON)) = the header's dataHash.
 * - `evaluateEpoch(dataset)`: verifies every signed item, recomputes samples and assignments from the
 *   seeds, verifies openings and transcripts, builds the `ScoringInput` (with the eligible licenses and
 *   their scheduled challenges), scores (core/scoring.ts), builds the trees (account and license leaves)
 *   and returns the header fields. Items that fail verification are listed in `rejected` with a
 *   reason and never make it throw; only a structurally invalid dataset throws (RangeError naming the field).
 */
import type { Address, Hex } from 'viem';
import { canonicalJson, keccakUtf8 } from './canonicalJson.js';
import type { EpochHeader } from './epochHeader.js';
import type { EpochCommitment } from './commitment.js';
import { buildEpochTrees, scoreEpoch, type EpochTrees, type ScoringInput, type ScoringResult } from './scoring.js';
import { parseEpochDataset, type EpochDataset } from './datasetSchema.js';
import { assignmentSeed, samplingSeed } from './sampling.js';
import { evaluateRelay } from './evaluateOpenings.js';
import { evaluateWatchdogs, licenseWeights } from './evaluateWatchdogs.js';

export { canonicalJson } from './canonicalJson.js';
export * from './datasetSchema.js';

/** keccak256(utf8(canonicalJson(dataset))): the header's `dataHash`. */
export function datasetHash(dataset: EpochDataset): Hex {
  return keccakUtf8(canonicalJson(dataset));
}

/** How a node's openings ended. */
export type OpeningsOutcome =
  /** no valid commitment: nothing to open, no volume */
  | 'no-commitment'
  /** committed totalUnits 0: not sampled */
  | 'not-sampled'
  /** equivocated: its commitments are void */
  | 'equivocated'
  /** all k openings verified */
  | 'ok'
  /** no answer, seen by a quorum of guardians: zero volume, strike */
  | 'silent'
  /** no node-signed answer, but silence seen by fewer than the quorum: zero volume, no strike */
  | 'unobserved'
  /** an answer not signed by the node (over the seeded targets and the counted root): zero volume, no penalty */
  | 'unattributed'
  /** unparseable answer or wrong number of openings: zero volume, strike */
  | 'malformed'
  /** an opening failed verification (objective fraud): zero volume, strike, fault leaf with fraudSlash */
  | 'fraud';

export interface NodeEvaluation {
  nodeKey: Address;
  operator: Address;
  committed: boolean;
  equivocated: boolean;
  /** The node's (single valid) commitment. */
  commitment?: { root: Hex; totalUnits: bigint; leafCount: bigint };
  openings: OpeningsOutcome;
  /** All sampled openings verified (or nothing to open). */
  openingsOk: boolean;
  /** Why the openings failed (for silent/malformed/fraud). */
  reason?: string;
  /** Volume credit per sender DID estimated from the samples (before the per-DID cap). */
  estimatedVolume: { senderDid: string; units: bigint }[];
  /** License token ids assigned to this node (assignment seed), ascending by candidate order. */
  assignedWatchdogs: string[];
  /** Success ratios of the assigned WatchDogs whose transcripts were accepted. */
  watchdogRatios: { tokenId: string; ok: number; scheduled: number }[];
  /** From the scoring result: */
  verifiedUnits: bigint;
  availability: number;
  score: number;
  rank: number;
  reward: bigint;
  faults: number;
}

export type RejectedKind = 'commitment' | 'openings' | 'watchdog-commit' | 'transcript' | 'challenge-opening';

export interface RejectedItem {
  kind: RejectedKind;
  /** nodeKey for commitments/openings, tokenId for WatchDog commits/transcripts (plus an index if useful). */
  id: string;
  reason: string;
}

export interface EpochEvaluation {
  header: EpochHeader;
  scoringInput: ScoringInput;
  result: ScoringResult;
  trees: EpochTrees;
  /** One entry per dataset node, ascending nodeKey. */
  perNode: NodeEvaluation[];
  rejected: RejectedItem[];
  /**
   * Licenses whose transcript was accepted (schedule-consistent, revealed): eligible for license rewards,
   * paid pro rata to their scheduled challenges (`result.licenseRewards`, leaves `result.licenseCumulative`).
   */
  eligibleLicenses: string[];
}

export interface EvaluateOptions {
  /** The dataset's hash if already computed (saves hashing a large document twice). */
  dataHash?: Hex;
}

/**
 * Evaluates an epoch dataset (raw JSON or an already-parsed dataset). Rejects with a RangeError naming the
 * field only when the dataset is structurally invalid; every other problem is recorded in `rejected`.
 * Async only because signature recovery is (viem); the result depends on the dataset alone.
 */
export async function evaluateEpoch(raw: unknown, options: EvaluateOptions = {}): Promise<EpochEvaluation> {
  const d = parseEpochDataset(raw);
  if (samplingSeed(d.epoch, d.seed.blockHash as Hex) !== d.seed.value) {
    throw new RangeError('invalid epoch dataset: seed.value: is not seedAt(epoch, seed.blockHash)');
  }
  if (assignmentSeed(d.epoch, d.assignSeed.blockHash as Hex) !== d.assignSeed.value) {
    throw new RangeError('invalid epoch dataset: assignSeed.value: is not the assignment seed of assignSeed.blockHash');
  }
  // Lowercase hex of equal length: string order is numeric order.
  const nodes = [...d.nodes].sort((a, b) => (a.nodeKey < b.nodeKey ? -1 : a.nodeKey > b.nodeKey ? 1 : 0));
  const rejected: RejectedItem[] = [];
  const relay = await evaluateRelay(d, rejected);
  const counted = new Map<Address, EpochCommitment>();
  for (const [node, r] of relay) if (r.commitment) counted.set(node, r.commitment);
  const watchdogs = await evaluateWatchdogs(
    d,
    nodes.map((n) => n.nodeKey as Address),
    rejected,
    counted,
  );
  const p = d.parameters;
  const fraudSlash = BigInt(p.fraudSlash);
  // License weights: scheduled challenges of each eligible license's accepted transcript, summed over the
  // nodes it was assigned where its result agrees with the node's other WatchDogs (`licenseWeights`).
  const scheduledOf = licenseWeights(watchdogs, rejected);

  const scoringInput: ScoringInput = {
    epoch: d.epoch,
    epochEmission: BigInt(p.epochEmission),
    guardianShareBps: p.guardianShareBps,
    guardianSet: d.guardianSet as Address[],
    signers: d.signersPaid as Address[],
    parameters: {
      aMin: p.aMin,
      aTarget: p.aTarget,
      gamma: p.gamma,
      stakeCap: BigInt(p.stakeCap),
      volumeCapPerDid: BigInt(p.volumeCapPerDid),
      stakeSplitBps: p.stakeSplitBps,
      equivocationSlash: BigInt(p.equivocationSlash),
      rewardsTo: p.rewardsTo ?? 'operator',
    },
    nodes: nodes.map((n) => {
      const r = relay.get(n.nodeKey as Address)!;
      const failed = r.outcome === 'silent' || r.outcome === 'malformed' || r.outcome === 'fraud';
      return {
        nodeKey: n.nodeKey as Address,
        operator: n.operator as Address,
        stake: BigInt(n.stake),
        watchdogs: watchdogs.samples.get(n.nodeKey as Address) ?? [],
        volume: [...r.volume.entries()]
          .sort((a, b) => (a[0] < b[0] ? -1 : 1))
          .map(([senderDid, units]) => ({ senderDid, units })),
        openingsFailed: failed,
        equivocated: r.equivocated,
        slashAmount: r.outcome === 'fraud' ? fraudSlash : 0n,
      };
    }),
    previousCumulative: new Map(d.previousCumulative.map((c) => [c.account as Address, BigInt(c.cumulative)])),
    licenseEmission: BigInt(p.licenseEmission),
    licenses: [...scheduledOf.entries()].map(([tokenId, scheduled]) => ({ tokenId: BigInt(tokenId), scheduled })),
    previousLicenseCumulative: new Map(
      d.previousLicenseCumulative.map((c) => [BigInt(c.tokenId), BigInt(c.cumulative)]),
    ),
  };
  let result: ScoringResult;
  try {
    result = scoreEpoch(scoringInput);
  } catch (error) {
    if (error instanceof RangeError) throw new RangeError(`invalid epoch dataset: ${error.message}`);
    throw error;
  }
  const trees = buildEpochTrees(result);
  const header: EpochHeader = {
    epoch: d.epoch,
    consensusVersion: trees.consensusVersion,
    faultCount: trees.faultCount,
    totalCumulative: trees.totalCumulative,
    epochEmission: trees.epochEmission,
    rewardRoot: trees.rewardRoot,
    faultRoot: trees.faultRoot,
    scoresHash: trees.scoresHash,
    dataHash: options.dataHash ?? datasetHash(d),
    seed: d.seed.value as Hex,
  };

  const scoreOf = new Map(result.scores.map((s) => [s.nodeKey, s]));
  const perNode: NodeEvaluation[] = nodes.map((n) => {
    const key = n.nodeKey as Address;
    const r = relay.get(key)!;
    const s = scoreOf.get(key)!;
    return {
      nodeKey: key,
      operator: n.operator as Address,
      committed: r.committed,
      equivocated: r.equivocated,
      commitment: r.commitment && {
        root: r.commitment.root,
        totalUnits: r.commitment.totalUnits,
        leafCount: r.commitment.leafCount,
      },
      openings: r.outcome,
      openingsOk: r.outcome === 'ok' || r.outcome === 'not-sampled' || r.outcome === 'no-commitment',
      reason: r.reason,
      estimatedVolume: [...r.volume.entries()].map(([senderDid, units]) => ({ senderDid, units })),
      assignedWatchdogs: watchdogs.assignment.get(key) ?? [],
      watchdogRatios: watchdogs.ratios.get(key) ?? [],
      verifiedUnits: s.verifiedUnits,
      availability: s.availability,
      score: s.score,
      rank: s.rank,
      reward: s.reward,
      faults: s.faults,
    };
  });
  const order = (x: RejectedItem) => `${x.kind}\u0000${x.id}\u0000${x.reason}`;
  rejected.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return { header, scoringInput, result, trees, perNode, rejected, eligibleLicenses: watchdogs.eligibleLicenses };
}
