/**
 * Settles a scored epoch on a devnet the way the keeper does, without the pipeline: waits for the epoch to
 * end (moving anvil's clock), builds the reward tree from cumulative rewards, signs the header with the
 * dev guardian keys (anvil accounts 3–9), submits it and publishes the per-node scores in hash-chained
 * chunks. For tests, benchmarks and seeding a devnet; the keeper pipeline computes the same from data.
 */
import type { Account, Address, Chain, Hash, Hex, PublicClient, TestClient, Transport, WalletClient } from 'viem';
import type { AddressBook } from '../chain/addressBook.js';
import { epochSettlementAbi } from '../generated/contracts.js';
import {
  collectQuorumSignatures,
  scoresHashChain,
  settlementDomain,
  type EpochHeader,
  type NodeScore,
} from '../core/epochHeader.js';
import { buildTree, rewardLeaf, type MerkleTree } from '../core/merkle.js';
import { devAccount } from './devAccounts.js';

const ZERO: Hex = `0x${'0'.repeat(64)}`;

export interface DevEpochParams {
  book: AddressBook;
  epoch: number;
  scores: readonly NodeScore[];
  /** Every account's cumulative reward after this epoch (the reward tree). */
  cumulative: ReadonlyMap<Address, bigint>;
  /** Scores per publishScores transaction (default 100). */
  chunkSize?: number;
  /** Guardian signers (default anvil accounts 3–7: a 5-of-7 quorum of the devnet set). */
  guardianIndices?: number[];
  /** Hook called right before the submit transaction is sent (for timing). */
  onSubmit?: () => void;
}

export interface DevEpochResult {
  header: EpochHeader;
  tree: MerkleTree;
  accounts: Address[];
  submitHash: Hash;
  publishHashes: Hash[];
  /** Block of the last publishScores transaction. */
  lastBlock: bigint;
}

/** Submits `epoch` with a reward root over `cumulative` and publishes `scores`. */
export async function settleDevEpoch(
  keeper: WalletClient<Transport, Chain, Account>,
  publicClient: PublicClient,
  testClient: TestClient,
  params: DevEpochParams,
): Promise<DevEpochResult> {
  const settlement = params.book.contracts.EpochSettlement;
  const accounts = [...params.cumulative.keys()];
  const amounts = accounts.map((a) => params.cumulative.get(a) as bigint);
  const tree = buildTree(accounts.map((a, i) => rewardLeaf(a, amounts[i]!)));
  const totalCumulative = amounts.reduce((a, b) => a + b, 0n);
  const progress = await publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'settlementProgress',
  });
  let previousTotal = 0n;
  if (progress.lastSubmitted > 0) {
    const entry = await publicClient.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'epochEntry',
      args: [progress.lastSubmitted],
    });
    previousTotal = entry.totalCumulative;
  }
  const chain = scoresHashChain(params.scores, params.chunkSize ?? 100);
  const header: EpochHeader = {
    epoch: params.epoch,
    consensusVersion: 1,
    faultCount: 0,
    totalCumulative,
    epochEmission: totalCumulative - previousTotal,
    rewardRoot: tree.root,
    faultRoot: ZERO,
    scoresHash: chain.head,
    dataHash: ZERO,
    seed: ZERO,
  };
  const endsAt = await publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'epochEnd',
    args: [params.epoch],
  });
  const now = (await publicClient.getBlock()).timestamp;
  if (now < endsAt) await testClient.setNextBlockTimestamp({ timestamp: endsAt });
  const [, members] = await publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'activeGuardianSet',
  });
  const signers = (params.guardianIndices ?? [3, 4, 5, 6, 7]).map((i) => devAccount(i));
  const quorum = await collectQuorumSignatures(
    settlementDomain(params.book.chainId, settlement),
    header,
    members,
    signers,
  );
  params.onSubmit?.();
  const submitHash = await keeper.writeContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'submitEpoch',
    args: [header, quorum.guardians, quorum.signerBitmap, quorum.signatures],
  });
  const submitted = await publicClient.waitForTransactionReceipt({ hash: submitHash });
  if (submitted.status !== 'success') throw new Error(`submitEpoch ${params.epoch} reverted (${submitHash})`);
  const publishHashes: Hash[] = [];
  let lastBlock = submitted.blockNumber;
  for (let i = 0; i < chain.chunks.length; i++) {
    const hash = await keeper.writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'publishScores',
      args: [params.epoch, chain.chunks[i]!, chain.nexts[i]!],
    });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`publishScores ${params.epoch} chunk ${i} reverted (${hash})`);
    publishHashes.push(hash);
    lastBlock = receipt.blockNumber;
  }
  return { header, tree, accounts, submitHash, publishHashes, lastBlock };
}
