/**
 * What the chain decides about an epoch's dataset (docs/keepers.md §5–§6), read with viem: the epoch's
 * times, the start / seed / assignment blocks (first block with timestamp ≥ the reference time) and their
 * seeds, the Active node set with stake, operator and endpoint at the start block, device-key states at
 * the seed block, WatchDog operators at the start block, the guardian set, the previous epoch's reward root
 * (its `EpochSubmitted` event) and the guardians paid for it (`paidSigners`: its recorded signer bitmap,
 * from storage, never from calldata), and the chain's
 * parameters (emission cap, guardian share, equivocation slash, LicenseRewards' license emission). The keeper assembles datasets from these;
 * every guardian re-derives them to check a dataset before signing.
 */
import { BaseError, ContractFunctionRevertedError, type Address, type Hex, type PublicClient } from 'viem';
import {
  didRegistryAbi,
  epochSettlementAbi,
  licenseRewardsAbi,
  nodeStakingAbi,
  watchDogLicenseAbi,
} from '../generated/contracts.js';
import { canonicalJson } from '../core/canonicalJson.js';
import type { DatasetKey, DatasetNode, EpochDataset } from '../core/datasetSchema.js';
import { samplingSeed, assignmentSeed } from '../core/sampling.js';
import { ZERO_ROOT, buildRewardTree } from '../core/scoring.js';
import { SendnetError } from '../core/errors.js';
import type { IncentiveParameters } from '../core/incentives.js';

/** NodeStaking.NodeStatus.Active */
const NODE_ACTIVE = 1;
/** DidKeys.KeyStatus.Active / KeyType.Ed25519 */
const KEY_ACTIVE = 1;
const KEY_ED25519 = 0;
/** Parallel RPC reads per batch. */
const READ_BATCH = 100;

/** Thrown when a block or event the facts need does not exist yet (retry later). */
export class ChainNotReadyError extends SendnetError {
  override name = 'ChainNotReadyError';
  override readonly code = 'chain-not-ready';
}
/** Thrown when the chain holds something the protocol cannot interpret. */
export class ChainFactsError extends SendnetError {
  override name = 'ChainFactsError';
  override readonly code = 'chain-facts';
}

export interface BlockRef {
  blockNumber: number;
  blockHash: Hex;
  timestamp: number;
}

export interface EpochContracts {
  staking: Address;
  settlement: Address;
  didRegistry: Address;
  license: Address;
  licenseRewards: Address;
}

const lower = <T extends string>(s: string) => s.toLowerCase() as T;

async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += READ_BATCH)
    out.push(...(await Promise.all(items.slice(i, i + READ_BATCH).map(fn))));
  return out;
}

/**
 * The first block whose timestamp is ≥ `timestamp` (binary search from block 0, so the answer does not
 * depend on where anyone starts looking), or null when the chain head is still earlier (the block does
 * not exist yet). `_fromBlock` is accepted for compatibility and ignored: a lower bound other than 0 could
 * skip an earlier block with the same timestamp and make two callers disagree.
 */
export async function firstBlockAtOrAfter(
  client: PublicClient,
  timestamp: number,
  _fromBlock?: bigint,
): Promise<BlockRef | null> {
  const head = await client.getBlock({ blockTag: 'latest' });
  if (head.timestamp < BigInt(timestamp)) return null;
  let lo = 0n;
  let hi = head.number;
  let found = head;
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    const block = await client.getBlock({ blockNumber: mid });
    if (block.timestamp >= BigInt(timestamp)) {
      hi = mid;
      found = block;
    } else lo = mid + 1n;
  }
  if (found.number !== hi) found = await client.getBlock({ blockNumber: hi });
  return { blockNumber: Number(found.number), blockHash: lower(found.hash), timestamp: Number(found.timestamp) };
}

async function requireBlock(client: PublicClient, what: string, timestamp: number): Promise<BlockRef> {
  const block = await firstBlockAtOrAfter(client, timestamp);
  if (!block)
    throw new ChainNotReadyError(`the ${what} block (first with timestamp ≥ ${timestamp}) does not exist yet`);
  return block;
}

export interface EpochTimes {
  epochStart: number;
  epochEnd: number;
}

export async function epochTimes(client: PublicClient, settlement: Address, epoch: number): Promise<EpochTimes> {
  const [start, end] = await Promise.all([
    client.readContract({ address: settlement, abi: epochSettlementAbi, functionName: 'epochEnd', args: [epoch - 1] }),
    client.readContract({ address: settlement, abi: epochSettlementAbi, functionName: 'epochEnd', args: [epoch] }),
  ]);
  return { epochStart: Number(start), epochEnd: Number(end) };
}

/** Nodes Active after block `blockNumber`, ascending nodeKey, with stake, operator and latest endpoint. */
export async function activeNodesAt(
  client: PublicClient,
  staking: Address,
  blockNumber: number,
  fromBlock = 0n,
): Promise<DatasetNode[]> {
  const range = { fromBlock, toBlock: BigInt(blockNumber) };
  const [registered, updated] = await Promise.all([
    client.getContractEvents({ address: staking, abi: nodeStakingAbi, eventName: 'NodeRegistered', ...range }),
    client.getContractEvents({ address: staking, abi: nodeStakingAbi, eventName: 'NodeEndpointUpdated', ...range }),
  ]);
  const endpoints = new Map<string, { at: bigint; endpoint: string }>();
  const note = (key: string, blockNo: bigint | null, logIndex: number | null, endpoint: string) => {
    const at = (blockNo ?? 0n) * 1_000_000n + BigInt(logIndex ?? 0);
    const prev = endpoints.get(key);
    if (!prev || prev.at < at) endpoints.set(key, { at, endpoint });
  };
  for (const log of registered) note(lower(log.args.nodeKey!), log.blockNumber, log.logIndex, log.args.endpoint!);
  for (const log of updated) note(lower(log.args.nodeKey!), log.blockNumber, log.logIndex, log.args.endpoint!);
  const keys = [...endpoints.keys()].sort();
  const states = await inBatches(keys, (nodeKey) =>
    client.readContract({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'getNode',
      args: [nodeKey as Address],
      blockNumber: BigInt(blockNumber),
    }),
  );
  const nodes: DatasetNode[] = [];
  keys.forEach((nodeKey, i) => {
    const s = states[i]!;
    if (s.status !== NODE_ACTIVE) return;
    nodes.push({
      nodeKey,
      operator: lower(s.operator),
      stake: s.stake.toString(),
      endpoint: endpoints.get(nodeKey)!.endpoint,
    });
  });
  return nodes;
}

/** `DidRegistry.keyState` of each key after block `blockNumber`; active = Active and Ed25519. Ascending key. */
export async function keyStatesAt(
  client: PublicClient,
  didRegistry: Address,
  keys: readonly Hex[],
  blockNumber: number,
): Promise<DatasetKey[]> {
  const unique = [...new Set(keys.map((k) => lower<Hex>(k)))].sort();
  const states = await inBatches(unique, (key) =>
    client.readContract({
      address: didRegistry,
      abi: didRegistryAbi,
      functionName: 'keyState',
      args: [key],
      blockNumber: BigInt(blockNumber),
    }),
  );
  return unique.map((key, i) => {
    const [status, did, keyType] = states[i]!;
    return { key, did: did.toString(), active: status === KEY_ACTIVE && keyType === KEY_ED25519 };
  });
}

const ZERO_ADDRESS_LOWER: Address = '0x0000000000000000000000000000000000000000';

/**
 * One address-valued `WatchDogLicense` view per distinct token after block `blockNumber`, lowercase, keyed
 * by token id; `onRevert` (when given) supplies the value for a token whose call reverts.
 */
async function licenseAddressesAt(
  client: PublicClient,
  license: Address,
  functionName: 'operatorOf' | 'ownerOf',
  tokenIds: readonly bigint[],
  blockNumber: number,
  onRevert?: Address,
): Promise<Map<string, Address>> {
  const unique = [...new Set(tokenIds)];
  const values = await inBatches(unique, (tokenId) =>
    client
      .readContract({
        address: license,
        abi: watchDogLicenseAbi,
        functionName,
        args: [tokenId],
        blockNumber: BigInt(blockNumber),
      })
      .catch((error: unknown) => {
        const reverted = error instanceof BaseError && error.walk((e) => e instanceof ContractFunctionRevertedError);
        if (reverted && onRevert !== undefined) return onRevert;
        throw error;
      }),
  );
  return new Map(unique.map((id, i) => [id.toString(), lower<Address>(values[i]!)]));
}

/** `WatchDogLicense.operatorOf` of each token after block `blockNumber` (lowercase, zero address = none). */
export function watchdogOperatorsAt(
  client: PublicClient,
  license: Address,
  tokenIds: readonly bigint[],
  blockNumber: number,
): Promise<Map<string, Address>> {
  return licenseAddressesAt(client, license, 'operatorOf', tokenIds, blockNumber);
}

/**
 * `WatchDogLicense.ownerOf` of each token after block `blockNumber` (lowercase). A token that does not exist
 * there (burned by a refund) has the zero address; any other failure throws.
 */
export function watchdogOwnersAt(
  client: PublicClient,
  license: Address,
  tokenIds: readonly bigint[],
  blockNumber: number,
): Promise<Map<string, Address>> {
  return licenseAddressesAt(client, license, 'ownerOf', tokenIds, blockNumber, ZERO_ADDRESS_LOWER);
}

export interface PreviousEpoch {
  /** Reward root of the previous epoch's (latest) submission; zero for epoch 1. */
  rewardRoot: Hex;
  totalCumulative: bigint;
  /** Guardians paid for it (`paidSigners`), ascending; empty for epoch 1. */
  signers: Address[];
}

/** Decodes a signer bitmap over a guardian member list in the contract's (ascending) order. */
export function signersOfBitmap(members: readonly Address[], bitmap: bigint): Address[] {
  if (bitmap < 0n || bitmap >> BigInt(members.length) !== 0n)
    throw new ChainFactsError(`signer bitmap 0x${bitmap.toString(16)} has bits beyond the ${members.length} members`);
  return members
    .filter((_, i) => (bitmap >> BigInt(i)) & 1n)
    .map((g) => lower<Address>(g))
    .sort();
}

/**
 * The guardians paid for epoch `epoch` (docs/protocol.md §5.3): the members of the guardian set in force at
 * the block of its latest `EpochSubmitted` event whose bits are set in its signer bitmap as stored
 * (`epochEntry(epoch).signerBitmap`) at block `max(paidAtBlock, submission block)`. The keeper and every
 * guardian pass the same `paidAtBlock` (the next epoch's seed block), so they read the same set whatever
 * `addSignatures` adds later; nothing is decoded from calldata, so forwarders, multisigs and smart accounts
 * may submit. Throws ChainNotReadyError when the epoch has no current submission at that block.
 */
export async function paidSigners(
  client: PublicClient,
  settlement: Address,
  epoch: number,
  paidAtBlock: number,
  fromBlock = 0n,
): Promise<{ signers: Address[]; submission: NonNullable<Awaited<ReturnType<typeof latestSubmission>>> }> {
  const submission = await latestSubmission(client, settlement, epoch, fromBlock);
  if (!submission) throw new ChainNotReadyError(`epoch ${epoch} has not been submitted`);
  const at = BigInt(Math.max(paidAtBlock, Number(submission.blockNumber)));
  const [entry, [, members]] = await Promise.all([
    client.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'epochEntry',
      args: [epoch],
      blockNumber: at,
    }),
    client.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'activeGuardianSet',
      blockNumber: submission.blockNumber,
    }),
  ]);
  if (entry.epoch !== epoch || entry.status === 0)
    throw new ChainNotReadyError(`epoch ${epoch} has no current submission at block ${at} (voided)`);
  return { signers: signersOfBitmap(members, entry.signerBitmap), submission };
}

/** The latest `EpochSubmitted` event of `epoch` (a voided epoch is submitted again), or null. */
export async function latestSubmission(client: PublicClient, settlement: Address, epoch: number, fromBlock = 0n) {
  const logs = await client.getContractEvents({
    address: settlement,
    abi: epochSettlementAbi,
    eventName: 'EpochSubmitted',
    args: { epoch },
    fromBlock,
    toBlock: 'latest',
    strict: true,
  });
  const last = logs.at(-1);
  if (!last) return null;
  return {
    header: last.args.header,
    signerBitmap: last.args.signerBitmap,
    submitter: lower<Address>(last.args.submitter),
    blockNumber: last.blockNumber,
    txHash: last.transactionHash,
  };
}

/**
 * The previous epoch's reward root (its latest `EpochSubmitted` event) and the guardians paid for it
 * (`paidSigners` as of `paidAtBlock`, the seed block of `epoch`).
 */
export async function previousEpoch(
  client: PublicClient,
  settlement: Address,
  epoch: number,
  paidAtBlock: number,
  fromBlock = 0n,
): Promise<PreviousEpoch> {
  if (epoch <= 1) return { rewardRoot: ZERO_ROOT, totalCumulative: 0n, signers: [] };
  const { signers, submission } = await paidSigners(client, settlement, epoch - 1, paidAtBlock, fromBlock);
  return {
    rewardRoot: lower(submission.header.rewardRoot),
    totalCumulative: submission.header.totalCumulative,
    signers,
  };
}

/**
 * The reward root the account leaves plus the license leaves commit to (zero when both lists are empty),
 * as core/scoring.ts builds it.
 */
export function cumulativeRoot(
  accounts: readonly { account: string; cumulative: string | bigint }[],
  licenses: readonly { tokenId: string | bigint; cumulative: string | bigint }[],
): Hex {
  return buildRewardTree(accounts, licenses)?.root ?? ZERO_ROOT;
}

export interface EpochChainFacts extends EpochTimes {
  chainId: number;
  commitDeadline: number;
  startBlock: { blockNumber: number; blockHash: Hex };
  seed: { blockNumber: number; blockHash: Hex; value: Hex };
  assignSeed: { blockNumber: number; blockHash: Hex; value: Hex };
  nodes: DatasetNode[];
  guardianSet: Address[];
  signersPaid: Address[];
  previousRewardRoot: Hex;
  previousTotalCumulative: bigint;
  equivocationSlash: string;
  guardianShareBps: number;
  epochEmission: string;
  /** `LicenseRewards.epochEmission(epoch)`. */
  licenseEmission: string;
  /** Points mode (`rewardsToOf`): node rewards credited to node keys. */
  rewardsTo: RewardsTo;
}

export type RewardsTo = 'operator' | 'nodeKey';

/**
 * Whom the scoring credits node rewards to, as the deployment decides it (docs/points.md): a settlement that
 * pays another token than the one nodes stake pays points (points mode: `TestnetPoints`), and points are
 * credited to node keys so `PointsConversion` can check the node; a settlement paying the staked token (SEND)
 * credits operators.
 */
export function rewardsToOf(settlementToken: Address, stakingToken: Address): RewardsTo {
  return settlementToken.toLowerCase() === stakingToken.toLowerCase() ? 'operator' : 'nodeKey';
}

export interface EpochFactsOptions {
  commitGraceSeconds: number;
  assignmentLeadSeconds: number;
  /** First block to search for events (the deployment block). */
  fromBlock?: bigint;
}

/**
 * Everything the chain decides about `epoch`'s dataset except key states and WatchDog operators (which
 * depend on the dataset's contents: `keyStatesAt`, `watchdogOperatorsAt`). Throws ChainNotReadyError while
 * a needed block (up to the seed block, after the commit deadline) does not exist yet.
 */
export async function deriveEpochFacts(
  client: PublicClient,
  contracts: EpochContracts,
  epoch: number,
  options: EpochFactsOptions,
): Promise<EpochChainFacts> {
  const fromBlock = options.fromBlock ?? 0n;
  const { settlement, staking } = contracts;
  const [chainId, times] = await Promise.all([client.getChainId(), epochTimes(client, settlement, epoch)]);
  const commitDeadline = times.epochEnd + options.commitGraceSeconds;
  const assignTime = Math.max(0, times.epochStart - options.assignmentLeadSeconds);
  const [startBlock, seedBlock, assignBlock] = await Promise.all([
    requireBlock(client, 'epoch start', times.epochStart),
    requireBlock(client, 'seed', commitDeadline),
    requireBlock(client, 'assignment', assignTime),
  ]);
  const [
    nodes,
    guardianSetResult,
    previous,
    equivocationSlash,
    guardianShareBps,
    emission,
    licenseEmission,
    settlementToken,
    stakingToken,
  ] = await Promise.all([
    activeNodesAt(client, staking, startBlock.blockNumber, fromBlock),
    client.readContract({ address: settlement, abi: epochSettlementAbi, functionName: 'activeGuardianSet' }),
    previousEpoch(client, settlement, epoch, seedBlock.blockNumber, fromBlock),
    client.readContract({ address: staking, abi: nodeStakingAbi, functionName: 'equivocationSlash' }),
    client.readContract({ address: settlement, abi: epochSettlementAbi, functionName: 'guardianShareBps' }),
    client.readContract({ address: settlement, abi: epochSettlementAbi, functionName: 'emissionCap', args: [epoch] }),
    client.readContract({
      address: contracts.licenseRewards,
      abi: licenseRewardsAbi,
      functionName: 'epochEmission',
      args: [epoch],
    }),
    client.readContract({ address: settlement, abi: epochSettlementAbi, functionName: 'token' }),
    client.readContract({ address: staking, abi: nodeStakingAbi, functionName: 'token' }),
  ]);
  return {
    chainId,
    ...times,
    commitDeadline,
    startBlock: { blockNumber: startBlock.blockNumber, blockHash: startBlock.blockHash },
    seed: {
      blockNumber: seedBlock.blockNumber,
      blockHash: seedBlock.blockHash,
      value: samplingSeed(epoch, seedBlock.blockHash),
    },
    assignSeed: {
      blockNumber: assignBlock.blockNumber,
      blockHash: assignBlock.blockHash,
      value: assignmentSeed(epoch, assignBlock.blockHash),
    },
    nodes,
    guardianSet: guardianSetResult[1].map((g) => lower<Address>(g)).sort(),
    signersPaid: previous.signers,
    previousRewardRoot: previous.rewardRoot,
    previousTotalCumulative: previous.totalCumulative,
    equivocationSlash: equivocationSlash.toString(),
    guardianShareBps: Number(guardianShareBps),
    epochEmission: emission.toString(),
    licenseEmission: licenseEmission.toString(),
    rewardsTo: rewardsToOf(settlementToken, stakingToken),
  };
}

/** What a dataset (or the keeper's earlier reads) says of the facts `deriveEpochFacts` reads. */
export interface ClaimedEpochFacts {
  parameters?: Pick<
    EpochDataset['parameters'],
    'equivocationSlash' | 'guardianShareBps' | 'epochEmission' | 'licenseEmission' | 'rewardsTo'
  >;
  epochStart?: number;
  epochEnd?: number;
  commitDeadline?: number;
  startBlock?: { blockNumber: number; blockHash: string };
  seed?: { blockNumber: number; blockHash: string; value: string };
  assignSeed?: { blockNumber: number; blockHash: string; value: string };
  guardianSet?: readonly string[];
  signersPaid?: readonly string[];
  nodes?: readonly DatasetNode[];
}

export interface EpochFactsMismatch {
  field: string;
  /** What the chain says. */
  ours: unknown;
  /** What was claimed. */
  theirs: unknown;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/**
 * The first fact where `claimed` differs from the chain's (canonical JSON comparison), or null. Only the
 * facts `claimed` has are compared, in this order: the chain's parameters (`parameters.<name>`), epochStart,
 * epochEnd, commitDeadline, startBlock, seed, assignSeed, guardianSet, signersPaid, then the node set
 * node by node (`nodes (<nodeKey>)`, the claimed nodes sorted by key; a missing node is null).
 */
export function epochFactsMismatch(facts: EpochChainFacts, claimed: ClaimedEpochFacts): EpochFactsMismatch | null {
  const pairs: [string, unknown, unknown][] = [];
  if (claimed.parameters) {
    const p = claimed.parameters;
    pairs.push(
      ['parameters.equivocationSlash', facts.equivocationSlash, p.equivocationSlash],
      ['parameters.guardianShareBps', facts.guardianShareBps, p.guardianShareBps],
      ['parameters.epochEmission', facts.epochEmission, p.epochEmission],
      ['parameters.licenseEmission', facts.licenseEmission, p.licenseEmission],
      // absent in a dataset = operator (the canonical form of a token deployment's datasets)
      ['parameters.rewardsTo', facts.rewardsTo, p.rewardsTo ?? 'operator'],
    );
  }
  for (const field of [
    'epochStart',
    'epochEnd',
    'commitDeadline',
    'startBlock',
    'seed',
    'assignSeed',
    'guardianSet',
    'signersPaid',
  ] as const) {
    if (field in claimed) pairs.push([field, facts[field], claimed[field]]);
  }
  for (const [field, ours, theirs] of pairs) if (!same(ours, theirs)) return { field, ours, theirs };

  if (claimed.nodes) {
    const theirNodes = [...claimed.nodes].sort((a, b) => (a.nodeKey < b.nodeKey ? -1 : 1));
    for (let i = 0; i < Math.max(facts.nodes.length, theirNodes.length); i++) {
      if (!same(facts.nodes[i], theirNodes[i])) {
        return {
          field: `nodes (${facts.nodes[i]?.nodeKey ?? theirNodes[i]?.nodeKey})`,
          ours: facts.nodes[i] ?? null,
          theirs: theirNodes[i] ?? null,
        };
      }
    }
  }
  return null;
}

/** Every device key a dataset's openings name (ticket sender and recipient, ack recipient). */
export function keysNamedByOpenings(dataset: Pick<EpochDataset, 'openings'>): Hex[] {
  const keys = new Set<string>();
  for (const entry of dataset.openings) {
    for (const o of entry.openings ?? []) {
      keys.add(o.ticket.senderKey);
      keys.add(o.ticket.recipientKey);
      keys.add(o.ack.recipientKey);
    }
  }
  return [...keys].sort() as Hex[];
}

/**
 * The parameters of docs/protocol.md §7.1's incentive bounds as this deployment has them: NodeStaking's
 * and EpochSettlement's from the chain, `fraudSlash` and `k` from the keepers' consensus parameters.
 */
export async function readIncentiveParameters(
  client: PublicClient,
  contracts: Pick<EpochContracts, 'settlement' | 'staking'>,
  consensus: { fraudSlash: string; k: number },
): Promise<IncentiveParameters> {
  const { settlement, staking } = contracts;
  const [minStake, maxSlashBps, equivocationSlash, initialEpochEmission, guardianShareBps] = await Promise.all([
    client.readContract({ address: staking, abi: nodeStakingAbi, functionName: 'minStake' }),
    client.readContract({ address: staking, abi: nodeStakingAbi, functionName: 'maxSlashBps' }),
    client.readContract({ address: staking, abi: nodeStakingAbi, functionName: 'equivocationSlash' }),
    client.readContract({ address: settlement, abi: epochSettlementAbi, functionName: 'initialEpochEmission' }),
    client.readContract({ address: settlement, abi: epochSettlementAbi, functionName: 'guardianShareBps' }),
  ]);
  return {
    minStake,
    maxSlashBps: Number(maxSlashBps),
    equivocationSlash,
    fraudSlash: BigInt(consensus.fraudSlash),
    samplesPerNode: consensus.k,
    initialEpochEmission,
    guardianShareBps: Number(guardianShareBps),
  };
}
