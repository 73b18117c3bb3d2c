/**
 * Gas of node registration, epoch submission, cumulative claims (2^20-leaf tree), fault execution, late
 * guardian signatures (`addSignatures`) and guardian dispute votes.
 */
import { parseEther, type Address, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { devAccount } from '../../keepers/src/devnet/devAccounts.js';
import { epochSettlementAbi, nodeStakingAbi, sendTokenAbi } from '../../keepers/src/generated/contracts.js';
import { buildTree, faultLeaf, rewardLeaf, type MerkleTree } from '../../keepers/src/core/merkle.js';
import {
  SCORES_END,
  collectQuorumSignatures,
  settlementDomain,
  type EpochHeader,
} from '../../keepers/src/core/epochHeader.js';
import type { GasResult, GasSuite } from './context.js';

export const CLAIM_TREE_DEPTH = 20;
export const FAULT_TREE_LEAVES = 1024;
const SIGNERS = 5;
const GUARDIAN_INDICES = [3, 4, 5, 6, 7, 8, 9]; // dev accounts listed in config/devnet.json
const ZERO32: Hex = `0x${'0'.repeat(64)}`;

export const settlementGasSuite: GasSuite = async ({
  book,
  publicClient,
  testClient,
  wallet,
  gasOf,
  fundedAccount,
  keyFor,
  log,
}) => {
  const { SendToken: token, NodeStaking: staking, EpochSettlement: settlement } = book.contracts;
  const keeper = wallet(devAccount(2));
  const guardians = GUARDIAN_INDICES.map((i) => devAccount(i));
  const guardianSet = guardians.map((g) => g.address);
  const domain = settlementDomain(book.chainId, settlement);
  const results: Record<string, GasResult> = {};

  // ---- register + stake (approve is a separate, earlier transaction)
  const minStake = await publicClient.readContract({ address: staking, abi: nodeStakingAbi, functionName: 'minStake' });
  const registerNode = async (stake: bigint) => {
    const operator = await fundedAccount(stake);
    const nodeKey = privateKeyToAccount(keyFor(`node key ${stake}`));
    const approveGas = await gasOf(
      await wallet(operator).writeContract({
        address: token,
        abi: sendTokenAbi,
        functionName: 'approve',
        args: [staking, stake],
      }),
    );
    const consent = await nodeKey.signTypedData({
      domain: { name: 'SendingNetwork NodeStaking', version: '1', chainId: book.chainId, verifyingContract: staking },
      types: { NodeKeyConsent: [{ name: 'operator', type: 'address' }] },
      primaryType: 'NodeKeyConsent',
      message: { operator: operator.address },
    });
    const gas = await gasOf(
      await wallet(operator).writeContract({
        address: staking,
        abi: nodeStakingAbi,
        functionName: 'register',
        args: [nodeKey.address, stake, consent, 'wss://edge-1.sendnet.local:7443', 'ipfs://bafy-node-metadata'],
      }),
    );
    return { gas, approveGas, nodeKey };
  };
  const firstEver = await registerNode(minStake);
  results.registerAndStake_firstNodeEver = {
    gas: firstEver.gas,
    note: 'the very first registration also pays fresh storage for the staking contract balance and totalStaked',
  };
  const typical = await registerNode(minStake * 2n);
  const nodeKey = typical.nodeKey;
  results.registerAndStake = {
    gas: typical.gas,
    note: `a new operator's node, ${(minStake * 2n) / 10n ** 18n} SEND, endpoint + metadata strings, key-consent signature; approve beforehand: ${typical.approveGas}`,
  };
  log(`register + stake: ${results.registerAndStake.gas}`);

  // ---- epochs
  let cumulativeTotal = 0n;
  let lastHeader: EpochHeader | null = null;
  const submit = async (
    epoch: number,
    rewardRoot: Hex,
    totalCumulative: bigint,
    faults?: MerkleTree,
    signers = SIGNERS,
  ) => {
    const endsAt = await publicClient.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'epochEnd',
      args: [epoch],
    });
    const now = (await publicClient.getBlock()).timestamp;
    if (now < endsAt) await testClient.setNextBlockTimestamp({ timestamp: endsAt });
    const emission = totalCumulative - cumulativeTotal;
    const header: EpochHeader = {
      epoch,
      consensusVersion: 1,
      totalCumulative,
      epochEmission: emission,
      rewardRoot,
      faultCount: faults?.leafCount ?? 0,
      faultRoot: faults?.root ?? ZERO32,
      scoresHash: SCORES_END,
      dataHash: ZERO32.replace(/0$/, '1') as Hex,
      seed: ZERO32.replace(/0$/, '2') as Hex,
    };
    const quorum = await collectQuorumSignatures(domain, header, guardianSet, guardians.slice(0, signers));
    lastHeader = header;
    const gas = await gasOf(
      await keeper.writeContract({
        address: settlement,
        abi: epochSettlementAbi,
        functionName: 'submitEpoch',
        args: [header, quorum.guardians, quorum.signerBitmap, quorum.signatures],
      }),
    );
    cumulativeTotal = totalCumulative;
    return gas;
  };
  const passDisputeWindow = async () => {
    await testClient.increaseTime({ seconds: book.disputeWindowSeconds });
    await testClient.mine({ blocks: 1 });
  };

  // Reward tree with 2^20 leaves: the claimant plus 2^20 - 1 other accounts.
  const claimant = privateKeyToAccount(keyFor('claimant')).address;
  const leafCount = 1 << CLAIM_TREE_DEPTH;
  const others: Address[] = [];
  for (let i = 1; i < leafCount; i++) others.push(`0x${(i + 0x1000).toString(16).padStart(40, '0')}` as Address);
  const buildRewardTree = (perAccount: bigint): { tree: MerkleTree; total: bigint } => {
    const started = Date.now();
    const leaves = [rewardLeaf(claimant, perAccount)];
    for (const account of others) leaves.push(rewardLeaf(account, perAccount));
    const tree = buildTree(leaves);
    log(`built a ${leafCount}-leaf reward tree in ${Date.now() - started} ms`);
    return { tree, total: perAccount * BigInt(leafCount) };
  };
  const perEpoch = parseEther('0.2');
  const first = buildRewardTree(perEpoch);
  const submitGas: number[] = [];
  submitGas.push(await submit(1, first.tree.root, first.total));
  await passDisputeWindow();
  const claimArgs = (tree: MerkleTree, cumulative: bigint) =>
    ({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'claim',
      args: [claimant, cumulative, tree.proof(0)],
    }) as const;
  const firstProof = first.tree.proof(0);
  if (firstProof.length !== CLAIM_TREE_DEPTH) throw new Error(`proof length ${firstProof.length}`);
  // Epoch 2 submission finalizes epoch 1 (steady state includes that).
  const second = buildRewardTree(perEpoch * 2n);
  submitGas.push(await submit(2, second.tree.root, second.total));
  results.claim_firstToNewHolder_2pow20Leaves = {
    gas: await gasOf(await keeper.writeContract(claimArgs(first.tree, perEpoch))),
    note: `${CLAIM_TREE_DEPTH}-deep proof, recipient holds no SEND and never claimed`,
  };
  await passDisputeWindow();

  // Epochs 3..12 with small trees and no faults: the ring of 8 slots is reused from epoch 8 on.
  const smallTree = second.tree;
  for (let epoch = 3; epoch <= 12; epoch++) {
    submitGas.push(await submit(epoch, smallTree.root, cumulativeTotal));
    await passDisputeWindow();
  }
  // The claimant's cumulative root is still `second` (epochs 3..12 reused its root): repeat claim now.
  results.claim_repeat_2pow20Leaves = {
    gas: await gasOf(await keeper.writeContract(claimArgs(second.tree, perEpoch * 2n))),
    note: `${CLAIM_TREE_DEPTH}-deep proof, recipient already holds SEND and claimed before`,
  };
  const steady = submitGas.slice(-4);
  results.submitEpoch_5of7_steadyState = {
    gas: Math.max(...steady),
    note: `max of epochs 9-12 (ring slots reused, previous epoch auto-finalized), ${SIGNERS} of ${guardians.length} signatures, no fault root; all epochs: ${submitGas.join(', ')}`,
  };

  // ---- faults: a fault tree of 1024 leaves, the staked node's leaf at index 0
  const slash = parseEther('100');
  const faultTreeFor = (epoch: number, strike: boolean) => {
    const leaves = [faultLeaf(epoch, 0, nodeKey.address, slash, strike)];
    for (let i = 1; i < FAULT_TREE_LEAVES; i++) {
      leaves.push(faultLeaf(epoch, i, `0x${(i + 0x9000).toString(16).padStart(40, '0')}` as Address, slash, true));
    }
    return buildTree(leaves);
  };
  const faultTree13 = faultTreeFor(13, true);
  results.submitEpoch_5of7_withFaults = {
    gas: await submit(13, smallTree.root, cumulativeTotal, faultTree13),
    note: `steady state plus the fault root and ${FAULT_TREE_LEAVES / 256} words of pending-fault bits stored (fresh slots)`,
  };
  await passDisputeWindow();
  await submit(14, smallTree.root, cumulativeTotal); // finalizes 13
  const finder = await fundedAccount(parseEther('1'));
  const executeFault = (from: PrivateKeyAccount, epoch: number, tree: MerkleTree, strike: boolean) =>
    wallet(from).writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'executeFault',
      args: [epoch, 0, nodeKey.address, slash, strike, tree.proof(0)],
    });
  results.executeFault = {
    gas: await gasOf(await executeFault(finder, 13, faultTree13, true)),
    note: `${Math.log2(FAULT_TREE_LEAVES)}-deep proof, the node's first slash + a strike, finder already holds SEND`,
  };
  const faultTree15 = faultTreeFor(15, false);
  await passDisputeWindow();
  await submit(15, smallTree.root, cumulativeTotal, faultTree15);
  await passDisputeWindow();
  await submit(16, smallTree.root, cumulativeTotal); // finalizes 15
  results.executeFault_firstFeeToNewFinder = {
    gas: await gasOf(await executeFault(await fundedAccount(0n), 15, faultTree15, false)),
    note: 'as executeFault (no strike), but the finder holds no SEND yet (fresh balance slot)',
  };

  // ---- every signature submitted, late signatures added, dispute votes (ring slots long reused)
  await passDisputeWindow();
  results.submitEpoch_7of7_steadyState = {
    gas: await submit(17, smallTree.root, cumulativeTotal, undefined, guardians.length),
    note: 'as submitEpoch_5of7_steadyState with all 7 signatures (what the keeper submits when every guardian signed)',
  };
  await passDisputeWindow();
  await submit(18, smallTree.root, cumulativeTotal);
  const header18 = lastHeader!;
  const addOne = async (index: number) => {
    const one = await collectQuorumSignatures(domain, header18, guardianSet, [guardians[index]!]);
    return gasOf(
      await keeper.writeContract({
        address: settlement,
        abi: epochSettlementAbi,
        functionName: 'addSignatures',
        args: [18, one.guardians, one.signerBitmap, one.signatures],
      }),
    );
  };
  results.addSignatures_1 = {
    gas: await addOne(SIGNERS),
    note: `one late signature added to a pending epoch submitted with ${SIGNERS} of ${guardians.length} (guardian list in calldata, bitmap OR-ed into the ring entry)`,
  };
  await addOne(SIGNERS + 1);
  const vote = async (index: number) =>
    gasOf(
      await wallet(guardians[index]!).writeContract({
        address: settlement,
        abi: epochSettlementAbi,
        functionName: 'dispute',
        args: [18, 'benchmark'],
      }),
    );
  results.disputeVote_first = {
    gas: await vote(0),
    note: "a guardian's first vote against a pending epoch (fresh vote slot; active set read to find its index)",
  };
  results.disputeVote_second = { gas: await vote(1), note: 'a second guardian vote (vote slot already written)' };
  results.disputeVote_disputes = {
    gas: await vote(2),
    note: 'the M - T + 1 = 3rd vote, which makes the epoch Disputed (status + expiry written)',
  };
  // governance releases it, so the suites after this one find settlement flowing
  if (book.owner.toLowerCase() !== devAccount(0).address.toLowerCase())
    throw new Error(`the bench expects the deployer (dev account 0) to own the settlement, not ${book.owner}`);
  await gasOf(
    await wallet(devAccount(0)).writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'resolveDispute',
      args: [18, true],
    }),
  );

  results.registerAndStake.target = 150_000;
  results.submitEpoch_5of7_steadyState.target = 107_000;
  results.claim_repeat_2pow20Leaves.target = 61_000;
  results.claim_firstToNewHolder_2pow20Leaves.target = 95_000;
  results.executeFault.target = 90_000;
  return results;
};
