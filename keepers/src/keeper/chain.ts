/**
 * What the keeper reads from the chain (viem), each read pinned to a block where the protocol says so.
 * Reads that guardians repeat to check a dataset (first block at or after a time, Active nodes at a block,
 * key states, WatchDog operators) are chain/epochFacts.ts's, so keeper and guardians derive them the same
 * way; this module adds what only the keeper needs:
 * - the epoch clock, `epochStatus` and settlement progress;
 * - the guardian set in force (`activeGuardianSet`, which already counts a due rotation);
 * - an epoch's submission: its header (`EpochSubmitted`) and the guardians who signed it so far, from the
 *   signer bitmap in storage (`epochEntry`) over the guardian set in force at the submission block —
 *   never from calldata, so any contract may submit (the next epoch pays chain/epochFacts.ts
 *   `paidSigners`, the bitmap as of that epoch's seed block).
 */
import { BaseError, ContractFunctionRevertedError, type Address, type Hex, type PublicClient } from 'viem';
import type { AddressBook } from '../chain/addressBook.js';
import { epochSettlementAbi } from '../generated/contracts.js';
import {
  activeNodesAt,
  firstBlockAtOrAfter,
  signersOfBitmap,
  watchdogOperatorsAt,
  watchdogOwnersAt,
} from '../chain/epochFacts.js';
import type { DatasetNode } from '../core/datasetSchema.js';
import type { EpochHeader } from '../core/epochHeader.js';
import type { EpochTiming } from '../core/deadlines.js';
import { SendnetError } from '../core/errors.js';

/** The custom error name of a reverted contract call, if that is what `error` is. */
export function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
}

export class ChainReadError extends SendnetError {
  override name = 'ChainReadError';
  override readonly code = 'chain-read';
}

/** `EpochSettlement.epochStatus` (EpochLifecycle). */
export const EPOCH_STATUS = ['None', 'Pending', 'Disputed', 'Finalized'] as const;
export type EpochStatus = (typeof EPOCH_STATUS)[number];

export interface BlockRef {
  number: bigint;
  hash: Hex;
  timestamp: bigint;
}

export interface EpochSubmission {
  header: EpochHeader;
  txHash: Hex;
  blockNumber: bigint;
  /** `msg.sender` of submitEpoch (a forwarder or smart account when one submitted). */
  submitter: Address;
  /** The guardian set in force at the submission block (ascending: the bitmap's order). */
  guardians: Address[];
  /** The recorded signer bitmap now (`submitEpoch` plus any `addSignatures`). */
  signerBitmap: bigint;
  /** The guardians whose signatures are recorded now, ascending. */
  signers: Address[];
  /** `epochEntry(epoch).headerDigest` (what later signatures must sign); null once out of the ring or voided. */
  headerDigest: Hex | null;
}

export interface ChainReaderOptions {
  /** Largest block range per eth_getLogs call (default 10,000). */
  logRange?: bigint;
}

const byAddress = (a: Address, b: Address) =>
  a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0;

export class ChainReader {
  private clockCache: EpochTiming | null = null;
  private readonly logRange: bigint;

  constructor(
    readonly client: PublicClient,
    readonly book: AddressBook,
    options: ChainReaderOptions = {},
  ) {
    this.logRange = options.logRange ?? 10_000n;
  }

  get settlement(): Address {
    return this.book.contracts.EpochSettlement;
  }

  /** genesisTime and epochDuration (immutable: read once). */
  async clock(): Promise<EpochTiming> {
    if (this.clockCache) return this.clockCache;
    const [genesis, duration] = await Promise.all([
      this.client.readContract({ address: this.settlement, abi: epochSettlementAbi, functionName: 'genesisTime' }),
      this.client.readContract({ address: this.settlement, abi: epochSettlementAbi, functionName: 'epochDuration' }),
    ]);
    this.clockCache = { genesisTime: Number(genesis), epochDuration: Number(duration) };
    return this.clockCache;
  }

  async currentEpoch(): Promise<number> {
    return this.client.readContract({
      address: this.settlement,
      abi: epochSettlementAbi,
      functionName: 'currentEpoch',
    });
  }

  /** `epochEnd(e)` as the contract computes it. */
  async epochEnd(epoch: number): Promise<number> {
    return Number(
      await this.client.readContract({
        address: this.settlement,
        abi: epochSettlementAbi,
        functionName: 'epochEnd',
        args: [epoch],
      }),
    );
  }

  async epochStatus(epoch: number): Promise<EpochStatus> {
    const status = await this.client.readContract({
      address: this.settlement,
      abi: epochSettlementAbi,
      functionName: 'epochStatus',
      args: [epoch],
    });
    const name = EPOCH_STATUS[status];
    if (!name) throw new ChainReadError(`epochStatus(${epoch}) returned unknown status ${status}`);
    return name;
  }

  /** lastSubmitted, lastFinalized, totalFunded, finalizedCumulative. */
  async progress() {
    return this.client.readContract({
      address: this.settlement,
      abi: epochSettlementAbi,
      functionName: 'settlementProgress',
    });
  }

  async latestBlock(): Promise<BlockRef> {
    const b = await this.client.getBlock({ blockTag: 'latest' });
    return { number: b.number, hash: b.hash, timestamp: b.timestamp };
  }

  async block(number: bigint): Promise<BlockRef> {
    const b = await this.client.getBlock({ blockNumber: number });
    return { number: b.number, hash: b.hash, timestamp: b.timestamp };
  }

  /** The first block whose timestamp is ≥ `t` (seconds), or null if it does not exist yet (chain/epochFacts.ts). */
  async firstBlockAtOrAfter(t: number): Promise<BlockRef | null> {
    const b = await firstBlockAtOrAfter(this.client, t, BigInt(this.book.startBlock));
    return b && { number: BigInt(b.blockNumber), hash: b.blockHash, timestamp: BigInt(b.timestamp) };
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

  /** Active nodes after `blockNumber`, ascending node key, wire form (chain/epochFacts.ts, as guardians read them). */
  async activeNodesAt(blockNumber: bigint): Promise<DatasetNode[]> {
    return activeNodesAt(
      this.client,
      this.book.contracts.NodeStaking,
      Number(blockNumber),
      BigInt(this.book.startBlock),
    );
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

  /** `WatchDogLicense.operatorOf` per token id after `blockNumber`, lowercase (zero address: none set). */
  async watchdogOperatorsAt(tokenIds: readonly bigint[], blockNumber: bigint): Promise<Map<string, Address>> {
    return watchdogOperatorsAt(this.client, this.book.contracts.WatchDogLicense, tokenIds, Number(blockNumber));
  }

  /** `WatchDogLicense.ownerOf` per token id after `blockNumber`, lowercase (zero address: burned). */
  async watchdogOwnersAt(tokenIds: readonly bigint[], blockNumber: bigint): Promise<Map<string, Address>> {
    return watchdogOwnersAt(this.client, this.book.contracts.WatchDogLicense, tokenIds, Number(blockNumber));
  }

  /**
   * How many times `epoch` was voided (`EpochsVoided` events covering it): its submission round. The
   * keeper names a round's transactions apart, so a voided epoch is submitted (and published) again.
   */
  async voidings(epoch: number): Promise<number> {
    const latest = await this.client.getBlockNumber({ cacheTime: 0 });
    const logs = await this.logs(this.settlement, epochSettlementAbi, 'EpochsVoided', latest);
    return logs.filter((l) => Number(l.args.fromEpoch) <= epoch && epoch <= Number(l.args.toEpoch)).length;
  }

  /**
   * The submission of `epoch` currently on-chain (the latest `EpochSubmitted` for it: a voided epoch is
   * submitted again), or null if none. Logs are searched from the first block after the epoch ended.
   */
  async submission(epoch: number): Promise<EpochSubmission | null> {
    const clock = await this.clock();
    const from = await this.firstBlockAtOrAfter(clock.genesisTime + epoch * clock.epochDuration);
    if (!from) return null;
    // viem caches getBlockNumber for its polling interval: a just-mined submission would be missed.
    const latest = await this.client.getBlockNumber({ cacheTime: 0 });
    const logs = await this.logs(this.settlement, epochSettlementAbi, 'EpochSubmitted', latest, { epoch }, from.number);
    const log = logs.at(-1);
    if (!log) return null;
    const header = log.args.header as EpochHeader;
    const eventBitmap = log.args.signerBitmap as bigint;
    const [entry, [, members]] = await Promise.all([
      this.client
        .readContract({
          address: this.settlement,
          abi: epochSettlementAbi,
          functionName: 'epochEntry',
          args: [epoch],
          blockNumber: latest,
        })
        .catch((error: unknown) => {
          // the ring slot holds a later epoch now: fall back to the bitmap the event recorded at submission
          if (revertName(error) === 'EpochNotInRing') return null;
          throw error;
        }),
      this.client.readContract({
        address: this.settlement,
        abi: epochSettlementAbi,
        functionName: 'activeGuardianSet',
        blockNumber: log.blockNumber,
      }),
    ]);
    // voided after the event and not submitted again: storage no longer describes this submission
    const current = entry !== null && entry.epoch === epoch && entry.status !== 0;
    const signerBitmap = current ? entry.signerBitmap : eventBitmap;
    return {
      header: { ...header },
      txHash: log.transactionHash,
      blockNumber: log.blockNumber,
      submitter: log.args.submitter as Address,
      guardians: [...members],
      signerBitmap,
      signers: signersOfBitmap(members, signerBitmap),
      headerDigest: current ? entry.headerDigest : null,
    };
  }
}
