/**
 * What every stage handler of the keeper may use: chain access, the transaction sender, the Redis store,
 * the parameters, the clock. Built once per Keeper (keeper/keeper.ts); tests build it directly.
 */
import type { Logger } from 'pino';
import type { Hex, PublicClient, TypedDataDomain } from 'viem';
import type { AddressBook } from '../../chain/addressBook.js';
import { settlementDomain } from '../../core/epochHeader.js';
import { nodeStakingDomain } from '../../core/commitment.js';
import type { ChainReader } from '../chain.js';
import type { TxSender } from '../chainTx.js';
import type { ConsensusParameters, KeeperTiming } from '../config.js';
import type { KeeperMetrics } from '../metrics.js';
import type { PipelineStore } from '../store.js';
import {
  commitDeadline,
  epochEnd,
  epochStart,
  openingsDeadline,
  transcriptDeadline,
  type Deadlines,
  type EpochTiming,
} from '../../core/deadlines.js';

export interface KeeperEnv {
  book: AddressBook;
  client: PublicClient;
  chain: ChainReader;
  sender: TxSender;
  /** The keeper key: signs `/sign` requests so guardians know them from a configured keeper. */
  signer?: { signMessage(args: { message: { raw: Hex } }): Promise<Hex> };
  store: PipelineStore;
  consensus: ConsensusParameters;
  timing: KeeperTiming;
  /** Guardian `/sign` services (base URLs). */
  guardianUrls: string[];
  /** Base URL under which this keeper (or its load balancer) serves `/datasets/:hash`. */
  publicUrl: string;
  /** Directory where published datasets are written (`<hash>.json`). */
  datasetsDir: string;
  /** Other keepers' base URLs to fetch datasets from when this one lacks its own history. */
  resyncUrls: string[];
  /** Wall clock in ms (tests may move it). */
  nowMs(): number;
  /** When this keeper process started (ms): a restarted keeper gives WatchDogs a fresh transcript grace. */
  startedAtMs?: number;
  log: Logger;
  metrics?: KeeperMetrics;
}

export function deadlinesOf(env: KeeperEnv): Deadlines {
  return {
    commitGraceSeconds: env.consensus.commitGraceSeconds,
    assignmentLeadSeconds: env.consensus.assignmentLeadSeconds,
    openingsWindowSeconds: env.timing.openingsWindowSeconds,
    transcriptGraceSeconds: env.timing.transcriptGraceSeconds,
  };
}

export interface EpochTimes {
  epochStart: number;
  epochEnd: number;
  commitDeadline: number;
  openingsDeadline: number;
  transcriptDeadline: number;
}

export function epochTimes(clock: EpochTiming, env: KeeperEnv, epoch: number): EpochTimes {
  const d = deadlinesOf(env);
  return {
    epochStart: epochStart(clock, epoch),
    epochEnd: epochEnd(clock, epoch),
    commitDeadline: commitDeadline(clock, d, epoch),
    openingsDeadline: openingsDeadline(clock, d, epoch),
    transcriptDeadline: transcriptDeadline(clock, d, epoch),
  };
}

export const nowSeconds = (env: KeeperEnv): number => Math.floor(env.nowMs() / 1000);

export function stakingDomain(env: KeeperEnv): TypedDataDomain {
  return nodeStakingDomain(env.book.chainId, env.book.contracts.NodeStaking);
}

export function headerDomain(env: KeeperEnv): TypedDataDomain {
  return settlementDomain(env.book.chainId, env.book.contracts.EpochSettlement);
}
