/**
 * What the keeper reads from the chain (viem), each read pinned to a block where the protocol says so:
 * - the epoch clock and `epochStatus`;
 * - the first block whose timestamp ≥ t (binary search; seeds are drawn from its hash);
 * - the Active nodes at a block with operator, stake and endpoint (`NodeRegistered` /
 *   `NodeEndpointUpdated` events up to the block, then `getNode` at the block);
 * - the guardian set in force (`activeGuardianSet`, which already counts a due rotation);
 * - DID key states and WatchDog license operators at a block;
 * - an epoch's submission: its header (`EpochSubmitted`) and the guardians who signed it, decoded from
 *   the `submitEpoch` calldata of the transaction that emitted the event (these are the signers the
 *   next epoch pays).
 */
import {
  decodeFunctionData,
  getAddress,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import type { AddressBook } from '../config/addressBook.js';
import { didRegistryAbi, epochSettlementAbi, nodeStakingAbi, watchDogLicenseAbi } from '../generated/contracts.js';
import type { EpochHeader } from '../core/epochHeader.js';
import type { EpochClock } from './clock.js';

export class ChainReadError extends Error {
  override name = 'ChainReadError';
}

/** `EpochSettlement.epochStatus` (EpochLifecycle). */
export const EPOCH_STATUS = ['None', 'Pending', 'Disputed', 'Finalized'] as const;
export type EpochStatus = (typeof EPOCH_STATUS)[number];

/** `NodeStaking.NodeStatus`. */
export const NODE_STATUS = ['None', 'Active', 'Exiting', 'Ejected'] as const;
/** `DidKeys.KeyStatus`. */
export const KEY_STATUS = ['None', 'Active', 'Revoked'] as const;

export interface BlockRef {
  number: bigint;
  hash: Hex;
  timestamp: bigint;
}

export interface ActiveNode {
  nodeKey: Address;
  operator: Address;
  stake: bigint;
  /** The node's registered endpoint (ws://host:port). */
  endpoint: string;
}

export interface KeyState {
  status: (typeof KEY_STATUS)[number];
  did: bigint;
  keyType: number;
}

export interface EpochSubmission {
  header: EpochHeader;
  txHash: Hex;
  blockNumber: bigint;
  submitter: Address;
  /** The guardian list passed to submitEpoch (sorted ascending). */
  guardians: Address[];
  /** The guardians whose signatures settled the epoch (bitmap order = ascending). */
  signers: Address[];
}

export interface ChainReaderOptions {
  /** Largest block range per eth_getLogs call (default 10,000). */
  logRange?: bigint;
  /** Parallel eth_call requests when reading many items (default 16). */
  concurrency?: number;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}

const byAddress = (a: Address, b: Address) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0);

export class ChainReader {
  private clockCache: EpochClock | null = null;
  private readonly logRange: bigint;
  private readonly concurrency: number;

  constructor(
    readonly client: PublicClient,
    readonly book: AddressBook,
    options: ChainReaderOptions = {},
  ) {
    this.logRange = options.logRange ?? 10_000n;
    this.concurrency = options.concurrency ?? 16;
  }

  get settlement(): Address {
    return this.book.contracts.EpochSettlement;
  }

  /** genesisTime and epochDuration (immutable: read once). */
  async clock(): Promise<EpochClock> {
    if (this.clockCache) return this.clockCache;
    const [genesis, duration] = await Promise.all([
      this.client.readContract({ address: this.settlement, abi: epochSettlementAbi, functionName: 'genesisTime' }),
      this.client.readContract({ address: this.settlement, abi: epochSettlementAbi, functionName: 'epochDuration' }),
    ]);
    this.clockCache = { genesisTime: Number(genesis), epochDuration: Number(duration) };
    return this.clockCache;
  }

  async currentEpoch(): Promise<number> {
    return this.client.readContract({ address: this.settlement, abi: epochSettlementAbi, functionName: 'currentEpoch' });
  }

  /** `epochEnd(e)` as the contract computes it. */
  async epochEnd(epoch: number): Promise<number> {
    return Number(await this.client.readContract({ address: this.settlement, abi: epochSettlementAbi, functionName: 'epochEnd', args: [epoch] }));
  }

  async epochStatus(epoch: number): Promise<EpochStatus> {
    const status = await this.client.readContract({ address: this.settlement, abi: epochSettlementAbi, functionName: 'epochStatus', args: [epoch] });
    const name = EPOCH_STATUS[status];
    if (!name) throw new ChainReadError(`epochStatus(${epoch}) returned unknown status ${status}`);
    return name;
  }

  /** The dataset parameters the chain decides for `epoch` (wire form: decimal strings). */
  async chainParameters(epoch: number): Promise<{ equivocationSlash: string; guardianShareBps: number; epochEmission: string }> {
    const [equivocationSlash, guardianShareBps, emission] = await Promise.all([
      this.client.readContract({ address: this.book.contracts.NodeStaking, abi: nodeStakingAbi, functionName: 'equivocationSlash' }),
      this.client.readContract({ address: this.settlement, abi: epochSettlementAbi, functionName: 'guardianShareBps' }),
      this.client.readContract({ address: this.settlement, abi: epochSettlementAbi, functionName: 'emissionCap', args: [epoch] }),
    ]);
    return { equivocationSlash: equivocationSlash.toString(), guardianShareBps: Number(guardianShareBps), epochEmission: emission.toString() };
  }

  /** lastSubmitted, lastFinalized, totalFunded, finalizedCumulative. */
  async progress() {
    return this.client.readContract({ address: this.settlement, abi: epochSettlementAbi, functionName: 'settlementProgress' });
  }

  async latestBlock(): Promise<BlockRef> {
    const b = await this.client.getBlock({ blockTag: 'latest' });
    return { number: b.number, hash: b.hash, timestamp: b.timestamp };
  }

  async block(number: bigint): Promise<BlockRef> {
    const b = await this.client.getBlock({ blockNumber: number });
    return { number: b.number, hash: b.hash, timestamp: b.timestamp };
  }

  /**
   * The first block whose timestamp is ≥ `t` (seconds), or null if no such block exists yet. Searches
   * from the deployment block (timestamps are non-decreasing, so a binary search is exact).
   */
  async firstBlockAtOrAfter(t: number): Promise<BlockRef | null> {
    const target = BigInt(t);
    const latest = await this.latestBlock();
    if (latest.timestamp < target) return null;
    let lo = BigInt(this.book.startBlock);
    let hi = latest.number;
    let best = latest;
    const first = await this.block(lo);
    if (first.timestamp >= target) return first;
    // invariant: block(lo).timestamp < target ≤ block(hi).timestamp
    while (hi - lo > 1n) {
      const mid = (lo + hi) / 2n;
      const b = await this.block(mid);
      if (b.timestamp >= target) {
        hi = mid;
        best = b;
      } else lo = mid;
    }
    return best.number === hi ? best : this.block(hi);
  }

  /** Events of `eventName` on `address` from the deployment block to `toBlock`, in log-range chunks. */
  private async logs<const abi extends readonly unknown[]>(
    address: Address,
    abi: abi,
    eventName: string,
    toBlock: bigint,
    args?: Record<string, unknown>,
    fromBlock: bigint = BigInt(this.book.startBlock),
  ) {
    const out = [];
    for (let from = fromBlock; from <= toBlock; from += this.logRange) {
      const to = from + this.logRange - 1n < toBlock ? from + this.logRange - 1n : toBlock;
      // viem's generics over a dynamic event name are not worth fighting here; results are decoded logs.
      const chunk = await (this.client.getContractEvents as (a: unknown) => Promise<unknown[]>)({
        address,
        abi,
        eventName,
        args,
        fromBlock: from,
        toBlock: to,
        strict: true,
      });
      out.push(...chunk);
    }
    return out as { args: Record<string, unknown>; blockNumber: bigint; logIndex: number; transactionHash: Hex }[];
  }

  /** Active nodes at `blockNumber`, ascending by node key. */
  async activeNodesAt(blockNumber: bigint): Promise<ActiveNode[]> {
    const staking = this.book.contracts.NodeStaking;
    const [registered, updated] = await Promise.all([
      this.logs(staking, nodeStakingAbi, 'NodeRegistered', blockNumber),
      this.logs(staking, nodeStakingAbi, 'NodeEndpointUpdated', blockNumber),
    ]);
    const endpoint = new Map<string, string>();
    const ordered = [...registered, ...updated].sort((a, b) =>
      a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
    );
    for (const log of ordered) endpoint.set((log.args.nodeKey as string).toLowerCase(), log.args.endpoint as string);
    const keys = [...new Set(registered.map((l) => getAddress(l.args.nodeKey as string)))];
    const nodes = await mapLimit(keys, this.concurrency, async (nodeKey) => {
      const node = await this.client.readContract({ address: staking, abi: nodeStakingAbi, functionName: 'getNode', args: [nodeKey], blockNumber });
      return NODE_STATUS[node.status] === 'Active'
        ? { nodeKey, operator: node.operator, stake: node.stake, endpoint: endpoint.get(nodeKey.toLowerCase()) ?? '' }
        : null;
    });
    return nodes.filter((n): n is ActiveNode => n !== null).sort((a, b) => byAddress(a.nodeKey, b.nodeKey));
  }

  /** The guardian set in force at `blockNumber` (default latest): members ascending and threshold. */
  async guardianSet(blockNumber?: bigint): Promise<{ id: number; members: Address[]; threshold: number }> {
    const [set, members] = await this.client.readContract({
      address: this.settlement,
      abi: epochSettlementAbi,
      functionName: 'activeGuardianSet',
      ...(blockNumber === undefined ? {} : { blockNumber }),
    });
    return { id: set.id, members: [...members].sort(byAddress), threshold: set.threshold };
  }

  /** `DidRegistry.keyState` of each Ed25519/X25519 key (bytes32) at `blockNumber`. */
  async keyStatesAt(keys: readonly Hex[], blockNumber: bigint): Promise<Map<Hex, KeyState>> {
    const unique = [...new Set(keys.map((k) => k.toLowerCase() as Hex))];
    const states = await mapLimit(unique, this.concurrency, async (key) => {
      const [status, did, keyType] = await this.client.readContract({
        address: this.book.contracts.DidRegistry,
        abi: didRegistryAbi,
        functionName: 'keyState',
        args: [key],
        blockNumber,
      });
      const name = KEY_STATUS[status];
      if (!name) throw new ChainReadError(`keyState(${key}) returned unknown status ${status}`);
      return [key, { status: name, did, keyType }] as const;
    });
    return new Map(states);
  }

  /** `WatchDogLicense.operatorOf` per token id at `blockNumber` (zero address: none set). */
  async watchdogOperatorsAt(tokenIds: readonly bigint[], blockNumber: bigint): Promise<Map<bigint, Address>> {
    const unique = [...new Set(tokenIds)];
    const operators = await mapLimit(unique, this.concurrency, async (tokenId) => {
      const operator = await this.client.readContract({
        address: this.book.contracts.WatchDogLicense,
        abi: watchDogLicenseAbi,
        functionName: 'operatorOf',
        args: [tokenId],
        blockNumber,
      });
      return [tokenId, operator] as const;
    });
    return new Map(operators);
  }

  /**
   * The submission of `epoch` currently on-chain (the latest `EpochSubmitted` for it: a voided epoch is
   * submitted again), or null if none. Logs are searched from the first block after the epoch ended.
   */
  async submission(epoch: number): Promise<EpochSubmission | null> {
    const clock = await this.clock();
    const from = await this.firstBlockAtOrAfter(clock.genesisTime + epoch * clock.epochDuration);
    if (!from) return null;
    const latest = await this.client.getBlockNumber();
    const logs = await this.logs(this.settlement, epochSettlementAbi, 'EpochSubmitted', latest, { epoch }, from.number);
    const log = logs.at(-1);
    if (!log) return null;
    const tx = await this.client.getTransaction({ hash: log.transactionHash });
    if (!tx.to || tx.to.toLowerCase() !== this.settlement.toLowerCase()) {
      throw new ChainReadError(
        `epoch ${epoch} was submitted by transaction ${log.transactionHash} to ${tx.to ?? '(creation)'}, not to the settlement: its signers cannot be decoded from calldata`,
      );
    }
    let decoded;
    try {
      decoded = decodeFunctionData({ abi: epochSettlementAbi, data: tx.input });
    } catch (error) {
      throw new ChainReadError(`transaction ${log.transactionHash} of epoch ${epoch}: calldata is not submitEpoch (${(error as Error).message})`);
    }
    if (decoded.functionName !== 'submitEpoch') {
      throw new ChainReadError(`transaction ${log.transactionHash} of epoch ${epoch} calls ${decoded.functionName}, not submitEpoch`);
    }
    const [header, guardians, bitmap] = decoded.args;
    if (header.epoch !== epoch) throw new ChainReadError(`transaction ${log.transactionHash} submits epoch ${header.epoch}, expected ${epoch}`);
    const signers = guardians.filter((_, i) => (bitmap >> BigInt(i)) & 1n);
    return {
      header: { ...header },
      txHash: log.transactionHash,
      blockNumber: log.blockNumber,
      submitter: tx.from,
      guardians: [...guardians],
      signers,
    };
  }

  /** The guardians paid in `epoch`: the signers of epoch − 1's submission ([] for epoch 1). */
  async signersPaidIn(epoch: number): Promise<Address[]> {
    if (epoch <= 1) return [];
    const previous = await this.submission(epoch - 1);
    if (!previous) throw new ChainReadError(`epoch ${epoch - 1} is not submitted yet: the guardians paid in epoch ${epoch} are unknown`);
    return previous.signers;
  }
}
