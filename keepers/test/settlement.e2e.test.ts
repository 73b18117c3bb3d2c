/**
 * The keeper's pure code against the real contracts on anvil: headers signed with the TypeScript EIP-712
 * code are accepted, reward and fault trees built in TypeScript prove on-chain, and the score hash chain
 * computed in TypeScript is the one `publishScores` checks. Guardians and the keeper will run this code.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseEther,
  parseEventLogs,
  type Address,
  type Hex,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../src/devnet/devAccounts.js';
import { epochSettlementAbi, sendTokenAbi } from '../src/generated/contracts.js';
import type { AddressBook } from '../src/chain/addressBook.js';
import { buildTree, rewardLeaf, type MerkleTree } from '../src/core/merkle.js';
import {
  SCORES_END,
  collectQuorumSignatures,
  scoresHashChain,
  settlementDomain,
  type EpochHeader,
  type NodeScore,
} from '../src/core/epochHeader.js';

const ZERO: Hex = `0x${'0'.repeat(64)}`;
let anvil: AnvilHandle;
let book: AddressBook;

before(async () => {
  anvil = await startAnvil();
  ({ book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) }));
});
after(async () => anvil?.stop());

test('headers, reward proofs and score chunks built in TypeScript are accepted on-chain', async () => {
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain: foundry, transport });
  const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport });
  const keeper = createWalletClient({ chain: foundry, transport, account: devAccount(2) });
  const settlement = book.contracts.EpochSettlement;
  const domain = settlementDomain(book.chainId, settlement);
  const [, members] = await publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'activeGuardianSet',
  });
  const guardianAccounts = [3, 4, 5, 6, 7, 8, 9].map((i) => devAccount(i));

  const accounts: Address[] = Array.from({ length: 37 }, () => privateKeyToAccount(generatePrivateKey()).address);
  const rewards = accounts.map((_, i) => parseEther(String(i + 1)));
  const total = rewards.reduce((a, b) => a + b, 0n);
  const tree: MerkleTree = buildTree(accounts.map((a, i) => rewardLeaf(a, rewards[i]!)));
  const scores: NodeScore[] = accounts.slice(0, 25).map((nodeKey, i) => ({
    nodeKey,
    rank: i + 1,
    score: 1_000_000 - i * 1000,
    availability: 990_000,
    latencyP50Ms: 40,
    latencyP95Ms: 120,
    verifiedUnits: BigInt(1000 - i),
    reward: rewards[i]!,
    faults: 0,
  }));
  const chain = scoresHashChain(scores, 10);
  assert.equal(chain.chunks.length, 3);

  const submit = async (header: EpochHeader, signers = guardianAccounts.slice(0, 5)) => {
    const endsAt = await publicClient.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'epochEnd',
      args: [header.epoch],
    });
    const now = (await publicClient.getBlock()).timestamp;
    if (now < endsAt) await testClient.setNextBlockTimestamp({ timestamp: endsAt });
    const quorum = await collectQuorumSignatures(domain, header, members, signers);
    const hash = await keeper.writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'submitEpoch',
      args: [header, quorum.guardians, quorum.signerBitmap, quorum.signatures],
    });
    return publicClient.waitForTransactionReceipt({ hash });
  };
  const header1: EpochHeader = {
    epoch: 1,
    consensusVersion: 1,
    faultCount: 0,
    totalCumulative: total,
    epochEmission: total,
    rewardRoot: tree.root,
    faultRoot: ZERO,
    scoresHash: chain.head,
    dataHash: ZERO,
    seed: ZERO,
  };
  // the contract's own digest equals the TypeScript one
  const onChainDigest = await publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'headerDigest',
    args: [header1],
  });
  const { headerDigest } = await import('../src/core/epochHeader.js');
  assert.equal(onChainDigest, headerDigest(domain, header1));

  // four signatures are not a quorum: the contract names the problem
  await assert.rejects(submit(header1, guardianAccounts.slice(0, 4)), /QuorumNotReached/);
  const receipt = await submit(header1, guardianAccounts.slice(2, 7));
  assert.equal(receipt.status, 'success');

  // scores: chunks out of order are rejected, in order accepted, every record emitted
  await assert.rejects(
    keeper.writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'publishScores',
      args: [1, chain.chunks[1]!, chain.nexts[1]!],
    }),
    /ScoresChunkMismatch/,
  );
  let published = 0;
  for (let i = 0; i < chain.chunks.length; i++) {
    const hash = await keeper.writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'publishScores',
      args: [1, chain.chunks[i]!, chain.nexts[i]!],
    });
    const logs = parseEventLogs({
      abi: epochSettlementAbi,
      logs: (await publicClient.waitForTransactionReceipt({ hash })).logs,
      eventName: 'NodeScorePublished',
    });
    published += logs.length;
  }
  assert.equal(published, scores.length);
  assert.equal(chain.nexts.at(-1), SCORES_END);

  // finalize after the window, then every account claims with a TypeScript proof
  await testClient.increaseTime({ seconds: book.disputeWindowSeconds });
  await testClient.mine({ blocks: 1 });
  await keeper.writeContract({ address: settlement, abi: epochSettlementAbi, functionName: 'finalizeEpochs' });
  for (const i of [0, 17, 36]) {
    const hash = await keeper.writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'claim',
      args: [accounts[i]!, rewards[i]!, tree.proof(i)],
    });
    assert.equal((await publicClient.waitForTransactionReceipt({ hash })).status, 'success');
    const balance = await publicClient.readContract({
      address: book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'balanceOf',
      args: [accounts[i]!],
    });
    assert.equal(balance, rewards[i]);
  }
  // a proof for another amount is rejected, and a second claim pays nothing
  await assert.rejects(
    keeper.writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'claim',
      args: [accounts[1]!, rewards[1]! + 1n, tree.proof(1)],
    }),
    /InvalidRewardProof/,
  );
  await assert.rejects(
    keeper.writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'claim',
      args: [accounts[0]!, rewards[0]!, tree.proof(0)],
    }),
    /NothingToClaim/,
  );
  const claimedTotal = await publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'totalClaimed',
  });
  assert.equal(claimedTotal, rewards[0]! + rewards[17]! + rewards[36]!);
});
