/**
 * Gas of a WatchDog license reward claim (contracts/watchdog/LicenseRewards.sol) with a 20-deep proof:
 * a 2^20-leaf reward tree of license leaves, submitted and finalized through the real settlement.
 *
 * The deploy script does not deploy LicenseRewards yet, so this suite deploys it (and a stand-in ERC-721
 * license, test/watchdog/mocks/MockLicense.sol) from the forge artifacts in out/, funding the pool the way
 * the token will: 120M SEND sent to the predicted address before the constructor runs.
 */
import { getContractAddress, parseEther, type Abi, type Address, type Hex } from 'viem';
import { devAccount } from '../../keepers/src/devnet/devAccounts.js';
import { loadArtifact } from '../../keepers/src/devnet/artifacts.js';
import { epochSettlementAbi, sendTokenAbi } from '../../keepers/src/generated/contracts.js';
import { buildTree, licenseRewardLeaf, type MerkleTree } from '../../keepers/src/core/merkle.js';
import {
  SCORES_END,
  collectQuorumSignatures,
  settlementDomain,
  type EpochHeader,
} from '../../keepers/src/core/epochHeader.js';
import type { GasResult, GasSuite } from './context.js';

export const LICENSE_CLAIM_TREE_DEPTH = 20;
const GUARDIAN_INDICES = [3, 4, 5, 6, 7, 8, 9]; // dev accounts listed in config/devnet.json
const SIGNERS = 5;
const ZERO32: Hex = `0x${'0'.repeat(64)}`;
const POOL = parseEther('120000000');
const HALVING = 730;
const INITIAL_EMISSION = POOL / BigInt(2 * HALVING);

export const licenseRewardsGasSuite: GasSuite = async ({
  book,
  publicClient,
  testClient,
  wallet,
  gasOf,
  fundedAccount,
  log,
}) => {
  const { SendToken: token, EpochSettlement: settlement } = book.contracts;
  const rewardsArtifact = loadArtifact('LicenseRewards.sol', 'LicenseRewards');
  const licenseArtifact = loadArtifact('MockLicense.sol', 'MockLicense');
  const deployer = await fundedAccount(0n);
  const treasury = wallet(devAccount(1));
  const keeper = wallet(devAccount(2));
  const guardians = GUARDIAN_INDICES.map((i) => devAccount(i));
  const domain = settlementDomain(book.chainId, settlement);
  const results: Record<string, GasResult> = {};

  const deploy = async (a: { abi: Abi; bytecode: Hex }, args: unknown[]) => {
    const hash = await wallet(deployer).deployContract({ abi: a.abi, bytecode: a.bytecode, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error('deployment failed');
    return receipt.contractAddress;
  };

  // ---- license (mock ERC-721) and LicenseRewards with its pool minted... sent to the predicted address
  const license = await deploy(licenseArtifact, []);
  const nonce = await publicClient.getTransactionCount({ address: deployer.address });
  const predicted = getContractAddress({ from: deployer.address, nonce: BigInt(nonce) });
  await gasOf(
    await treasury.writeContract({
      address: token,
      abi: sendTokenAbi,
      functionName: 'transfer',
      args: [predicted, POOL],
    }),
  );
  const rewards = await deploy(rewardsArtifact, [
    {
      token,
      settlement,
      license,
      firstEpoch: 1,
      halvingIntervalEpochs: HALVING,
      initialEpochEmission: INITIAL_EMISSION,
    },
  ]);
  if (rewards.toLowerCase() !== predicted.toLowerCase()) throw new Error('LicenseRewards address prediction failed');
  const owner = await fundedAccount(0n); // holds no SEND yet
  const tokenId = 1n;
  await gasOf(
    await wallet(deployer).writeContract({
      address: license,
      abi: licenseArtifact.abi,
      functionName: 'mint',
      args: [owner.address, tokenId],
    }),
  );

  // ---- epochs continue from wherever earlier suites left the settlement, account total unchanged
  const progress = await publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'settlementProgress',
  });
  let epoch = progress.lastSubmitted;
  const accountTotal = (
    await publicClient.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'epochEntry',
      args: [epoch],
    })
  ).totalCumulative;
  const submitNext = async (rewardRoot: Hex) => {
    epoch += 1;
    const endsAt = await publicClient.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'epochEnd',
      args: [epoch],
    });
    const now = (await publicClient.getBlock()).timestamp;
    if (now < endsAt) await testClient.setNextBlockTimestamp({ timestamp: endsAt });
    const header: EpochHeader = {
      epoch,
      consensusVersion: 1,
      totalCumulative: accountTotal,
      epochEmission: 0n,
      rewardRoot,
      faultCount: 0,
      faultRoot: ZERO32,
      scoresHash: SCORES_END,
      dataHash: ZERO32.replace(/0$/, '3') as Hex,
      seed: ZERO32.replace(/0$/, '4') as Hex,
    };
    const quorum = await collectQuorumSignatures(
      domain,
      header,
      guardians.map((g) => g.address),
      guardians.slice(0, SIGNERS),
    );
    await gasOf(
      await keeper.writeContract({
        address: settlement,
        abi: epochSettlementAbi,
        functionName: 'submitEpoch',
        args: [header, quorum.guardians, quorum.signerBitmap, quorum.signatures],
      }),
    );
  };
  const passDisputeWindow = async () => {
    await testClient.increaseTime({ seconds: book.disputeWindowSeconds });
    await testClient.mine({ blocks: 1 });
  };

  // A 2^20-leaf tree of license leaves: the measured license (id 1) and 2^20 - 1 others.
  const leafCount = 1 << LICENSE_CLAIM_TREE_DEPTH;
  const buildLicenseTree = (perLicense: bigint): MerkleTree => {
    const started = Date.now();
    const leaves: Uint8Array[] = [];
    for (let id = 1; id <= leafCount; id++) leaves.push(licenseRewardLeaf(BigInt(id), perLicense));
    const tree = buildTree(leaves);
    log(`built a ${leafCount}-leaf license reward tree in ${Date.now() - started} ms`);
    return tree;
  };
  const perEpoch = parseEther('50');
  const claim = (tree: MerkleTree, cumulative: bigint) =>
    keeper.writeContract({
      address: rewards,
      abi: rewardsArtifact.abi,
      functionName: 'claim',
      args: [tokenId, cumulative, tree.proof(0)],
    });

  const first = buildLicenseTree(perEpoch);
  if (first.proof(0).length !== LICENSE_CLAIM_TREE_DEPTH) throw new Error(`proof length ${first.proof(0).length}`);
  await passDisputeWindow(); // earlier suites may have left an epoch pending
  await submitNext(first.root);
  await passDisputeWindow();
  const second = buildLicenseTree(perEpoch * 2n);
  await submitNext(second.root); // finalizes the first tree's epoch
  results.licenseClaim_first_2pow20Leaves = {
    gas: await gasOf(await claim(first, perEpoch)),
    note: `${LICENSE_CLAIM_TREE_DEPTH}-deep proof; the contract's first payout, the license's first claim, owner holds no SEND (three fresh slots)`,
  };
  await passDisputeWindow();
  await submitNext(second.root); // finalizes the second tree's epoch
  results.licenseClaim_repeat_2pow20Leaves = {
    gas: await gasOf(await claim(second, perEpoch * 2n)),
    note: `${LICENSE_CLAIM_TREE_DEPTH}-deep proof, license claimed before, owner holds SEND: settlement root view + ownerOf + voided (license's void time, +2.7k since the presale deadlines) + transfer`,
  };
  const paid = await publicClient.readContract({
    address: token,
    abi: sendTokenAbi,
    functionName: 'balanceOf',
    args: [owner.address as Address],
  });
  if (paid !== perEpoch * 2n) throw new Error(`owner received ${paid}, expected ${perEpoch * 2n}`);
  log(
    `license claim: first ${results.licenseClaim_first_2pow20Leaves.gas}, repeat ${results.licenseClaim_repeat_2pow20Leaves.gas}`,
  );
  return results;
};
