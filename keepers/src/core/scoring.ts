/**
 * The epoch scoring function (consensus version 1): a pure, deterministic function of the epoch
 * dataset that the keeper and every guardian run, so they build identical reward, fault and scores
 * trees. No I/O, no clock, no randomness; all money is bigint wei, the performance factor is fixed-point
 * parts per million. Any change to the rules below must bump CONSENSUS_VERSION.
 *
 * Rules (docs/protocol.md 5.5, design brief section 3 steps 4-6):
 * - Availability A of a node = median over its assigned WatchDogs of their success ratios (ratios are
 *   rounded to ppm first; an even count takes the floor of the two middle values' mean). No samples: A = 0.
 * - Performance P = clamp((A − aMin)/(aTarget − aMin), 0, 1)^gamma, in ppm, rounded down at each step.
 * - Guardian share G = floor(E · guardianShareBps / 10000), split equally among the signing guardians;
 *   the remainder wei go one each to the lowest addresses. With no signers G joins the node share.
 * - Node share N = E − G splits into a stake pool floor(N · stakeSplitBps / 10000) and a volume pool (the
 *   rest). Stake weight = P · min(stake, stakeCap); volume weight = P · capped verified volume. A pool
 *   whose weights are all zero moves into the other one; if both are zero, N is undistributed.
 * - Volume: per sender DID, credit across the whole epoch is capped at volumeCapPerDid. When a DID's
 *   units over all credited nodes exceed the cap, each node gets floor(units · cap / total) of it.
 * - Objective faults earn nothing (since consensus version 5; docs/protocol.md §7.1): a node with
 *   `openingsFailed` (forged, malformed or unanswered openings: a commitment it cannot open) or
 *   `equivocated` (its commitments are void) has P = 0 for the epoch, so neither stake nor volume credit,
 *   score 0, and does not use up any DID's cap. It gets a fault leaf with a strike and amount
 *   `slashAmount` (forged openings: the dataset's fraudSlash; silence: 0), for an equivocator at least
 *   equivocationSlash. So a caught node's epoch net SEND is −slash ≤ 0.
 * - Pools are paid pro rata, rounded down; the remainder wei (fewer than the number of paid nodes) go one
 *   each by largest fractional part (pool · w mod W), ties by ascending nodeKey. So the sum paid equals E
 *   exactly, unless no node is eligible (then `undistributed` = what was not paid).
 * - Fault leaves: one per node with failed openings, equivocation or a requested slash, ordered by
 *   ascending nodeKey, indices 0..n−1. Strike when openings failed or the node equivocated.
 * - Ranking: score (= P in ppm) descending, then reward descending, then nodeKey ascending. Rank 1 = best.
 * - Addresses in the output are lowercase.
 * - Cumulative rewards: previous + this epoch per account (operators are paid their nodes' rewards;
 *   an account may be both operator and guardian), listed by ascending address. Points mode
 *   (`parameters.rewardsTo = 'nodeKey'`, docs/points.md) credits a node's reward to its node key instead of
 *   its operator, so conversion can check the node; nothing else changes.
 * - License rewards (since consensus version 2): the epoch's license emission L (LicenseRewards'
 *   `epochEmission(epoch)`, a pool of its own) is split among the eligible licenses (accepted,
 *   schedule-consistent transcripts) pro rata to their scheduled challenges on the nodes where their result
 *   is no outlier (since version 3; `licenseWeights`), rounded down; the remainder,
 *   and all of L when no license is eligible, is not paid (it stays in the LicenseRewards pool). A
 *   license's cumulative = previous + this epoch's share; licenses not paid this epoch keep their previous
 *   cumulative. Listed by ascending token id.
 * - Reward tree: the account leaves `rewardLeaf(account, cumulative)` followed by the license leaves
 *   `licenseRewardLeaf(tokenId, cumulative)`. `totalCumulative` and `epochEmission` (header) count account
 *   leaves only.
 */
import { z } from 'zod';
import type { Address, Hex } from 'viem';
import { buildTree, faultLeaf, licenseRewardLeaf, rewardLeaf, type MerkleTree } from './merkle.js';
import { scoresHashChain, type NodeScore } from './epochHeader.js';
import { address, describeZodError, hexAddress } from './wire.js';

/**
 * 2: license leaves in the reward tree (license emission split by scheduled challenges).
 * 3: commitments count only with a quorum of guardian attestations and within the leaf bound; a sibling
 *    sum above its subtree's capacity is fraud (core/attestation.ts, core/evaluateOpenings.ts).
 *    Also 3: WatchDogs assigned by owner and never to their holder's own nodes, m = 5; a license is paid only
 *    for the nodes where its result agrees with the node's other WatchDogs (core/evaluateWatchdogs.ts
 *    `licenseWeights`).
 * 4: WatchDog results are evidence (issue 11 finding 3): a challenge counts as delivered only with the
 *    node's committed receipt of its envelope (`challengeOpenings`, envelope ids fixed by the secret); an
 *    unproven "ok" is not paid, a failure the receipt contradicts forfeits the license's epoch.
 * 5: misbehaviour never pays (issue 12 §1): a node with failed openings earns nothing for the epoch (P = 0:
 *    no stake share either), as an equivocator already did. Also 5: `parameters.rewardsTo` ('nodeKey' in
 *    points mode, docs/points.md) credits node rewards to node keys instead of operators.
 */
export const CONSENSUS_VERSION = 5;

/** Fault flags in `NodeScore.faults` (uint8). */
export const FAULT_OPENINGS_FAILED = 1;
export const FAULT_EQUIVOCATION = 2;
/** A slash was requested for the node (a fault leaf with a nonzero amount). */
export const FAULT_SLASHED = 4;
/** No WatchDog reported on the node: availability 0. */
export const FAULT_NO_AVAILABILITY_DATA = 8;
/** Availability below aMin: P = 0. */
export const FAULT_BELOW_MIN_AVAILABILITY = 16;

export const PPM = 1_000_000;
const PPM_N = 1_000_000n;
const BPS = 10_000n;
const UINT96_LIMIT = 1n << 96n;
const UINT64_LIMIT = 1n << 64n;
const UINT256_LIMIT = 1n << 256n;
/** The root of a tree without leaves (an empty reward or fault tree; the previous reward root of epoch 1). */
export const ZERO_ROOT: Hex = '0x0000000000000000000000000000000000000000000000000000000000000000';

/** Default chunk size of the scores hash chain (consensus-relevant: the head depends on it). */
export const SCORES_CHUNK_SIZE = 100;

// ---------------------------------------------------------------------------------------------- input

const wei = z.bigint().nonnegative().lt(UINT96_LIMIT, 'must fit in uint96');
const ratio = z.number().finite().min(0).max(1);

const watchdogSample = z.object({
  /** WatchDog identity (license token id or operator key); only used to reject duplicates. */
  watchdog: z.string().min(1),
  /** Fraction of this WatchDog's challenges the node answered, in [0, 1]. */
  successRatio: ratio,
  /** Latencies of the answered challenges, milliseconds. */
  latenciesMs: z.array(z.number().finite().nonnegative().max(0xffffffff)),
});

const volumeEntry = z.object({
  senderDid: z.string().min(1),
  /** Verified units (already filtered by the openings). */
  units: z.bigint().nonnegative().lt(UINT64_LIMIT, 'must fit in uint64'),
});

const nodeInput = z
  .object({
    // Per-node addresses are lowercased by parseInput: a transform here would double the parse time at 1M nodes.
    nodeKey: hexAddress,
    operator: hexAddress,
    stake: z.bigint().nonnegative(),
    watchdogs: z.array(watchdogSample),
    volume: z.array(volumeEntry),
    openingsFailed: z.boolean().default(false),
    equivocated: z.boolean().default(false),
    slashAmount: wei.default(0n),
  })
  .superRefine((node, ctx) => {
    const dogs = new Set<string>();
    node.watchdogs.forEach((w, i) => {
      if (dogs.has(w.watchdog))
        ctx.addIssue({
          code: 'custom',
          path: ['watchdogs', i, 'watchdog'],
          message: `duplicate WatchDog ${w.watchdog}`,
        });
      dogs.add(w.watchdog);
    });
    const dids = new Set<string>();
    node.volume.forEach((v, i) => {
      if (dids.has(v.senderDid))
        ctx.addIssue({
          code: 'custom',
          path: ['volume', i, 'senderDid'],
          message: `duplicate sender DID ${v.senderDid}`,
        });
      dids.add(v.senderDid);
    });
  });

const tokenId = z.bigint().nonnegative().lt(UINT256_LIMIT, 'must fit in uint256');

/** A license eligible for license rewards this epoch. */
const licenseInput = z.object({
  tokenId,
  /** Challenges scheduled in its accepted transcript, over all its assigned nodes: its weight. */
  scheduled: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});

const parameters = z
  .object({
    aMin: ratio,
    aTarget: ratio,
    gamma: z.number().int().min(1).max(8),
    /** Stake counted per node. */
    stakeCap: z.bigint().positive(),
    /** Volume units credited per sender DID per epoch, over all nodes. */
    volumeCapPerDid: z.bigint().positive(),
    /** Share of the node share paid by stake weight (the rest by volume weight). */
    stakeSplitBps: z.number().int().min(0).max(10_000).default(5_000),
    /** Minimum fault amount for an equivocating node. */
    equivocationSlash: wei.default(0n),
    /**
     * Whose account leaf a node's reward is credited to: its operator (default), or its node key (points
     * mode, docs/points.md: PointsConversion checks the node behind a leaf and pays its operator).
     */
    rewardsTo: z.enum(['operator', 'nodeKey']).default('operator'),
  })
  .superRefine((p, ctx) => {
    if (Math.round(p.aTarget * PPM) <= Math.round(p.aMin * PPM)) {
      ctx.addIssue({
        code: 'custom',
        path: ['aTarget'],
        message: `aTarget (${p.aTarget}) must exceed aMin (${p.aMin})`,
      });
    }
  });

const scoringInput = z
  .object({
    epoch: z.number().int().min(1).max(0xffffffff),
    epochEmission: wei,
    guardianShareBps: z.number().int().min(0).max(10_000),
    /** The guardian set in force (to reject unknown signers). */
    guardianSet: z.array(address).min(1),
    /**
     * The guardians paid the guardian share; each must be in `guardianSet`. The signatures over this
     * epoch's header do not exist until its reward root is fixed, so the caller must pass a set known
     * beforehand (e.g. the signers of the previous settled epoch) and every guardian the same one.
     */
    signers: z.array(address),
    parameters,
    nodes: z.array(nodeInput),
    previousCumulative: z.map(address, wei),
    /** License emission of this epoch (LicenseRewards' own schedule, not part of `epochEmission`). */
    licenseEmission: wei.default(0n),
    /** The eligible licenses with their weights. */
    licenses: z.array(licenseInput).default([]),
    /** The license leaves of the previous epoch's reward tree: tokenId → cumulative. */
    previousLicenseCumulative: z.map(tokenId, wei).default(new Map()),
  })
  .superRefine((input, ctx) => {
    const set = new Set(input.guardianSet);
    if (set.size !== input.guardianSet.length)
      ctx.addIssue({ code: 'custom', path: ['guardianSet'], message: 'duplicate guardian' });
    const seen = new Set<string>();
    input.signers.forEach((s, i) => {
      if (!set.has(s)) ctx.addIssue({ code: 'custom', path: ['signers', i], message: `unknown guardian ${s}` });
      if (seen.has(s)) ctx.addIssue({ code: 'custom', path: ['signers', i], message: `guardian ${s} listed twice` });
      seen.add(s);
    });
    const keys = new Set<string>();
    input.nodes.forEach((n, i) => {
      const key = n.nodeKey.toLowerCase();
      if (keys.has(key))
        ctx.addIssue({ code: 'custom', path: ['nodes', i, 'nodeKey'], message: `duplicate node ${n.nodeKey}` });
      keys.add(key);
    });
    // Map keys differing only in case collapse to one account after lowercasing.
    if (new Set(input.previousCumulative.keys()).size !== input.previousCumulative.size) {
      ctx.addIssue({
        code: 'custom',
        path: ['previousCumulative'],
        message: 'an account appears twice (case-insensitive)',
      });
    }
    const licenses = new Set<bigint>();
    input.licenses.forEach((l, i) => {
      if (licenses.has(l.tokenId))
        ctx.addIssue({ code: 'custom', path: ['licenses', i, 'tokenId'], message: `duplicate license ${l.tokenId}` });
      licenses.add(l.tokenId);
    });
  });

export type ScoringInput = z.input<typeof scoringInput>;
type ParsedInput = z.output<typeof scoringInput>;

function parseInput(input: unknown): ParsedInput {
  const result = scoringInput.safeParse(input);
  if (result.success) {
    for (const node of result.data.nodes) {
      node.nodeKey = node.nodeKey.toLowerCase() as Address;
      node.operator = node.operator.toLowerCase() as Address;
    }
    return result.data;
  }
  throw new RangeError(
    `invalid scoring input: ${describeZodError(result.error, { root: '(input)', countMore: true })}`,
  );
}

// --------------------------------------------------------------------------------------------- output

export interface FaultRecord {
  epoch: number;
  index: number;
  nodeKey: Address;
  amount: bigint;
  strike: boolean;
}

export interface CumulativeReward {
  account: Address;
  cumulative: bigint;
}

/** A license leaf of the reward tree (`cumulative`), or this epoch's payment to a license (`amount`). */
export interface LicenseCumulative {
  tokenId: bigint;
  cumulative: bigint;
}

export interface LicenseReward {
  tokenId: bigint;
  amount: bigint;
}

export interface ScoringResult {
  consensusVersion: number;
  epoch: number;
  epochEmission: bigint;
  /** Scores in rank order (rank 1 first). */
  scores: NodeScore[];
  /** Every account ever rewarded with its new cumulative amount, ascending by address. */
  cumulative: CumulativeReward[];
  /** This epoch's payment per account (nonzero only), ascending by address. */
  epochRewards: CumulativeReward[];
  guardianRewardTotal: bigint;
  nodeRewardTotal: bigint;
  /** epochEmission − everything paid this epoch. Nonzero only when nothing was eligible. */
  undistributed: bigint;
  totalCumulative: bigint;
  /** Fault leaves, ascending by nodeKey, index = position. */
  faults: FaultRecord[];
  /** License emission of this epoch (LicenseRewards' schedule). */
  licenseEmission: bigint;
  /** Every license ever rewarded with its new cumulative amount, ascending by token id. */
  licenseCumulative: LicenseCumulative[];
  /** This epoch's payment per license (nonzero only), ascending by token id. */
  licenseRewards: LicenseReward[];
  licenseRewardTotal: bigint;
  /** licenseEmission − licenseRewardTotal: rounding remainder (or all of it), left in the license pool. */
  licenseUndistributed: bigint;
}

// ------------------------------------------------------------------------------------------- helpers

/** Addresses are lowercase 0x + 40 hex after parsing, so string order is numeric order. */
const compareAddress = (a: Address, b: Address): number => (a < b ? -1 : a > b ? 1 : 0);
const compareBigint = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

const toPpm = (x: number): number => Math.round(x * PPM);

/** Median of integers; even count: floor of the mean of the two middle values. Empty: 0. */
export function medianInt(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.floor((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** Nearest-rank percentile of the samples (an actual sample, rounded to whole ms). Empty: 0. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100));
  return Math.round(sorted[rank - 1]!);
}

/** P = clamp((A − aMin)/(aTarget − aMin), 0, 1)^gamma, all in ppm, rounded down. */
export function performancePpm(availabilityPpm: number, aMinPpm: number, aTargetPpm: number, gamma: number): number {
  if (availabilityPpm <= aMinPpm) return 0;
  if (availabilityPpm >= aTargetPpm) return PPM;
  const x = (BigInt(availabilityPpm - aMinPpm) * PPM_N) / BigInt(aTargetPpm - aMinPpm);
  let p = PPM_N;
  for (let i = 0; i < gamma; i++) p = (p * x) / PPM_N;
  return Number(p);
}

/**
 * Splits `pool` pro rata to `weights` (all ≥ 0, sum > 0): floor shares, then the remainder wei one each by
 * largest fractional part, ties by `tieKeys` ascending. The result sums to `pool` exactly.
 */
function splitPool(pool: bigint, weights: readonly bigint[], tieKeys: readonly Address[]): bigint[] {
  let total = 0n;
  for (const w of weights) total += w;
  const shares = weights.map((w) => (pool * w) / total);
  let remainder = pool;
  for (const s of shares) remainder -= s;
  if (remainder > 0n) {
    const order = weights
      .map((w, i) => ({ i, frac: (pool * w) % total }))
      .filter(({ i }) => weights[i]! > 0n)
      .sort((a, b) => (a.frac > b.frac ? -1 : a.frac < b.frac ? 1 : compareAddress(tieKeys[a.i]!, tieKeys[b.i]!)));
    // remainder < number of positive weights, so one wei each suffices.
    for (let k = 0; remainder > 0n; k++, remainder--) shares[order[k]!.i]! += 1n;
  }
  return shares;
}

// ------------------------------------------------------------------------------------------- scoring

/** Scores an epoch. Throws RangeError naming the offending field when the input is invalid. */
export function scoreEpoch(rawInput: ScoringInput): ScoringResult {
  const input = parseInput(rawInput);
  const { parameters: params, epoch, epochEmission } = input;
  const aMinPpm = toPpm(params.aMin);
  const aTargetPpm = toPpm(params.aTarget);

  // Canonical order: ascending nodeKey, so nothing depends on the input order.
  const nodes = [...input.nodes].sort((a, b) => compareAddress(a.nodeKey, b.nodeKey));
  const n = nodes.length;

  // Availability, performance, latency.
  const availability = new Array<number>(n);
  const perf = new Array<bigint>(n);
  const faults = new Array<number>(n).fill(0);
  const p50 = new Array<number>(n);
  const p95 = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const node = nodes[i]!;
    availability[i] = medianInt(node.watchdogs.map((w) => toPpm(w.successRatio)));
    const objectiveFault = node.equivocated || node.openingsFailed;
    const p = objectiveFault ? 0 : performancePpm(availability[i]!, aMinPpm, aTargetPpm, params.gamma);
    perf[i] = BigInt(p);
    const latencies = node.watchdogs.flatMap((w) => w.latenciesMs).sort((a, b) => a - b);
    p50[i] = percentile(latencies, 50);
    p95[i] = percentile(latencies, 95);
    if (node.watchdogs.length === 0) faults[i]! |= FAULT_NO_AVAILABILITY_DATA;
    else if (availability[i]! <= aMinPpm) faults[i]! |= FAULT_BELOW_MIN_AVAILABILITY;
    if (node.openingsFailed) faults[i]! |= FAULT_OPENINGS_FAILED;
    if (node.equivocated) faults[i]! |= FAULT_EQUIVOCATION;
  }

  // Volume credit, capped per sender DID over all credited nodes.
  const credited = (i: number) => !nodes[i]!.openingsFailed && !nodes[i]!.equivocated;
  const didTotals = new Map<string, bigint>();
  for (let i = 0; i < n; i++) {
    if (!credited(i)) continue;
    for (const v of nodes[i]!.volume) didTotals.set(v.senderDid, (didTotals.get(v.senderDid) ?? 0n) + v.units);
  }
  const verifiedUnits = new Array<bigint>(n).fill(0n);
  for (let i = 0; i < n; i++) {
    if (!credited(i)) continue;
    let units = 0n;
    for (const v of nodes[i]!.volume) {
      const total = didTotals.get(v.senderDid)!;
      units += total <= params.volumeCapPerDid ? v.units : (v.units * params.volumeCapPerDid) / total;
    }
    if (units >= UINT64_LIMIT) throw new RangeError(`verified units of node ${nodes[i]!.nodeKey} exceed uint64`);
    verifiedUnits[i] = units;
  }

  // Emission split.
  const signers = [...input.signers].sort(compareAddress);
  let guardianShare = (epochEmission * BigInt(input.guardianShareBps)) / BPS;
  if (signers.length === 0) guardianShare = 0n;
  const nodeShare = epochEmission - guardianShare;

  const stakeWeights = nodes.map((node, i) => perf[i]! * (node.stake < params.stakeCap ? node.stake : params.stakeCap));
  const volumeWeights = verifiedUnits.map((u, i) => perf[i]! * u);
  const hasStake = stakeWeights.some((w) => w > 0n);
  const hasVolume = volumeWeights.some((w) => w > 0n);
  let stakePool = (nodeShare * BigInt(params.stakeSplitBps)) / BPS;
  let volumePool = nodeShare - stakePool;
  if (!hasStake) [stakePool, volumePool] = [0n, volumePool + stakePool];
  if (!hasVolume) [stakePool, volumePool] = [stakePool + volumePool, 0n];
  const keys = nodes.map((node) => node.nodeKey);
  const reward = new Array<bigint>(n).fill(0n);
  if (hasStake && stakePool > 0n) splitPool(stakePool, stakeWeights, keys).forEach((r, i) => (reward[i]! += r));
  if (hasVolume && volumePool > 0n) splitPool(volumePool, volumeWeights, keys).forEach((r, i) => (reward[i]! += r));
  let nodeRewardTotal = 0n;
  for (const r of reward) nodeRewardTotal += r;

  // Per-account payments this epoch.
  const paid = new Map<Address, bigint>();
  const pay = (account: Address, amount: bigint) => {
    if (amount > 0n) paid.set(account, (paid.get(account) ?? 0n) + amount);
  };
  const byNodeKey = params.rewardsTo === 'nodeKey';
  for (let i = 0; i < n; i++) pay(byNodeKey ? nodes[i]!.nodeKey : nodes[i]!.operator, reward[i]!);
  if (signers.length > 0) {
    const each = guardianShare / BigInt(signers.length);
    const extra = Number(guardianShare % BigInt(signers.length));
    signers.forEach((g, k) => pay(g, each + (k < extra ? 1n : 0n)));
  }

  // Fault leaves.
  const faultRecords: FaultRecord[] = [];
  for (let i = 0; i < n; i++) {
    const node = nodes[i]!;
    let amount = node.slashAmount;
    if (node.equivocated && params.equivocationSlash > amount) amount = params.equivocationSlash;
    if (amount > 0n) faults[i]! |= FAULT_SLASHED;
    if (node.openingsFailed || node.equivocated || amount > 0n) {
      faultRecords.push({
        epoch,
        index: faultRecords.length,
        nodeKey: node.nodeKey,
        amount,
        strike: node.openingsFailed || node.equivocated,
      });
    }
  }

  // Scores, ranked.
  const order = nodes
    .map((_, i) => i)
    .sort((a, b) => {
      if (perf[a] !== perf[b]) return perf[a]! > perf[b]! ? -1 : 1;
      if (reward[a] !== reward[b]) return reward[a]! > reward[b]! ? -1 : 1;
      return compareAddress(keys[a]!, keys[b]!);
    });
  const scores: NodeScore[] = order.map((i, r) => ({
    nodeKey: keys[i]!,
    rank: r + 1,
    score: Number(perf[i]),
    availability: availability[i]!,
    latencyP50Ms: p50[i]!,
    latencyP95Ms: p95[i]!,
    verifiedUnits: verifiedUnits[i]!,
    reward: reward[i]!,
    faults: faults[i]!,
  }));

  // Cumulative rewards.
  const cumulativeMap = new Map<Address, bigint>(input.previousCumulative);
  for (const [account, amount] of paid) cumulativeMap.set(account, (cumulativeMap.get(account) ?? 0n) + amount);
  const accounts = [...cumulativeMap.keys()].sort(compareAddress);
  const cumulative = accounts.map((account) => ({ account, cumulative: cumulativeMap.get(account)! }));
  let totalCumulative = 0n;
  for (const c of cumulative) totalCumulative += c.cumulative;
  if (totalCumulative >= UINT96_LIMIT) throw new RangeError(`totalCumulative ${totalCumulative} exceeds uint96`);
  const epochRewards = [...paid.keys()]
    .sort(compareAddress)
    .map((account) => ({ account, cumulative: paid.get(account)! }));

  // License rewards: a pool of their own, pro rata to scheduled challenges, floor; the remainder stays unpaid.
  const licenses = [...input.licenses].sort((a, b) => compareBigint(a.tokenId, b.tokenId));
  let licenseWeight = 0n;
  for (const l of licenses) licenseWeight += BigInt(l.scheduled);
  const licensePaid = new Map<bigint, bigint>();
  let licenseRewardTotal = 0n;
  if (licenseWeight > 0n) {
    for (const l of licenses) {
      const share = (input.licenseEmission * BigInt(l.scheduled)) / licenseWeight;
      if (share === 0n) continue;
      licensePaid.set(l.tokenId, share);
      licenseRewardTotal += share;
    }
  }
  const licenseMap = new Map<bigint, bigint>(input.previousLicenseCumulative);
  for (const [id, amount] of licensePaid) licenseMap.set(id, (licenseMap.get(id) ?? 0n) + amount);
  const licenseCumulative = [...licenseMap.keys()]
    .sort(compareBigint)
    .map((id) => ({ tokenId: id, cumulative: licenseMap.get(id)! }));
  let licenseTotal = 0n;
  for (const c of licenseCumulative) licenseTotal += c.cumulative;
  if (licenseTotal >= UINT96_LIMIT) throw new RangeError(`license cumulative total ${licenseTotal} exceeds uint96`);
  // `licenses` is in token-id order, so `licensePaid` is too
  const licenseRewards = [...licensePaid].map(([id, amount]) => ({ tokenId: id, amount }));

  const guardianRewardTotal = signers.length > 0 ? guardianShare : 0n;
  return {
    consensusVersion: CONSENSUS_VERSION,
    epoch,
    epochEmission,
    scores,
    cumulative,
    epochRewards,
    guardianRewardTotal,
    nodeRewardTotal,
    undistributed: epochEmission - guardianRewardTotal - nodeRewardTotal,
    totalCumulative,
    faults: faultRecords,
    licenseEmission: input.licenseEmission,
    licenseCumulative,
    licenseRewards,
    licenseRewardTotal,
    licenseUndistributed: input.licenseEmission - licenseRewardTotal,
  };
}

// --------------------------------------------------------------------------------------------- trees

export interface EpochTrees {
  /**
   * Reward leaves: the account leaves in `result.cumulative` order (proof index = position), then the
   * license leaves in `result.licenseCumulative` order (proof index = `licenseLeafOffset` + position).
   */
  rewardTree: MerkleTree | null;
  /** Index in `rewardTree` of the first license leaf (= number of account leaves). */
  licenseLeafOffset: number;
  rewardRoot: Hex;
  faultTree: MerkleTree | null;
  faultRoot: Hex;
  faultCount: number;
  /** Account leaves only (see `buildEpochTrees`). */
  totalCumulative: bigint;
  /** The settlement's emission only (see `buildEpochTrees`). */
  epochEmission: bigint;
  scoresHash: Hex;
  consensusVersion: number;
}

/**
 * The reward tree's leaves: account leaves `rewardLeaf(account, cumulative)` in list order, then license
 * leaves `licenseRewardLeaf(tokenId, cumulative)` in list order (so license i has leaf index
 * `accounts.length + i`). Amounts may be bigints or decimal strings (stored outputs, dataset lists).
 */
export function rewardTreeLeaves(
  accounts: readonly { account: string; cumulative: bigint | string }[],
  licenses: readonly { tokenId: bigint | string; cumulative: bigint | string }[],
): Uint8Array[] {
  return [
    ...accounts.map((c) => rewardLeaf(c.account as Address, BigInt(c.cumulative))),
    ...licenses.map((l) => licenseRewardLeaf(BigInt(l.tokenId), BigInt(l.cumulative))),
  ];
}

/** The reward tree over `rewardTreeLeaves(accounts, licenses)`, or null when both lists are empty (root 0). */
export function buildRewardTree(
  accounts: readonly { account: string; cumulative: bigint | string }[],
  licenses: readonly { tokenId: bigint | string; cumulative: bigint | string }[],
): MerkleTree | null {
  return accounts.length + licenses.length > 0 ? buildTree(rewardTreeLeaves(accounts, licenses)) : null;
}

/**
 * The reward and fault trees and the header fields they determine, for the keeper and every guardian.
 * Roots are zero when a tree is empty (`faultCount` 0 ⇔ `faultRoot` 0, as `submitEpoch` requires).
 *
 * The header's `totalCumulative` and `epochEmission` are the settlement's amounts only (node and guardian
 * rewards, i.e. the account leaves), never the license leaves: EpochSettlement's circuit breaker
 * (`_checkEmissionAndEscrow`: epochEmission ≤ emissionCap(epoch), totalCumulative − previous ≤
 * epochEmission, totalCumulative ≤ totalFunded) and its claim payout floor (totalFunded −
 * finalizedCumulative) are about its own escrow, while license leaves are paid from the LicenseRewards
 * pool and bounded by that contract's own schedule (`emittedUpTo`).
 */
export function buildEpochTrees(result: ScoringResult, scoresChunkSize: number = SCORES_CHUNK_SIZE): EpochTrees {
  const rewardTree = buildRewardTree(result.cumulative, result.licenseCumulative);
  const faultTree =
    result.faults.length > 0
      ? buildTree(result.faults.map((f) => faultLeaf(f.epoch, f.index, f.nodeKey, f.amount, f.strike)))
      : null;
  return {
    rewardTree,
    licenseLeafOffset: result.cumulative.length,
    rewardRoot: rewardTree?.root ?? ZERO_ROOT,
    faultTree,
    faultRoot: faultTree?.root ?? ZERO_ROOT,
    faultCount: result.faults.length,
    totalCumulative: result.totalCumulative,
    epochEmission: result.epochEmission,
    scoresHash: scoresHashChain(result.scores, scoresChunkSize).head,
    consensusVersion: result.consensusVersion,
  };
}
