/**
 * Gas of WatchDog license purchases: public phase in ETH (1 and 10 licenses), the allowlist's overhead
 * over the same public purchase (Merkle proof in calldata and its verification), and purchases in the
 * stablecoin. Each measured buyer is a fresh account that holds no license yet (it pays for its fresh
 * balance word), in a sale that has already sold some licenses (as every buyer but the very first
 * sees it). Deploys its own license + presale (and a plain ERC-20 as the stablecoin) from the forge
 * artifacts, exactly as the deploy script must wire them.
 */
import { parseEther, type Abi, type Address } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import { Currency, allowlistTree } from '../../keepers/src/chain/watchdog.js';
import {
  deployStandInStablecoin,
  deployWatchDogSale,
  loadArtifact,
  type Tier,
} from '../../keepers/src/devnet/contractDeployments.js';
import type { GasResult, GasSuite } from './context.js';

/** 2^14 accounts: every leaf sits at depth 14 (a 14-hash proof); any list up to this size costs at most that. */
export const ALLOWLIST_SIZE = 16_384;
const SUPPLY = 10_000;
const RESERVE = 2_000;
const TX_CAP = 10;
const WALLET_CAP = 20;
/** Eight tiers of 1,250 licenses, 0.10 ETH / 300 tokens rising by a tenth per tier. */
const TIERS: Tier[] = Array.from({ length: 8 }, (_, i) => ({
  start: i * 1250,
  ethPrice: parseEther('0.1') + parseEther('0.01') * BigInt(i),
  tokenPrice: parseEther('300') + parseEther('30') * BigInt(i),
}));

export const watchdogGasSuite: GasSuite = async ({ publicClient, testClient, wallet, gasOf, fundedAccount, log }) => {
  const results: Record<string, GasResult> = {};
  const owner = await fundedAccount(0n);
  const ownerWallet = wallet(owner);
  const tokenAbi: Abi = loadArtifact('SendToken').abi;
  const stablecoin = await deployStandInStablecoin(publicClient, ownerWallet, owner.address);

  // allowlist of 16,384 accounts (14-hash proofs); the measured allowlist buyers are among them
  const listed: PrivateKeyAccount[] = [];
  for (let i = 0; i < 4; i++) listed.push(await fundedAccount(0n));
  const entries = Array.from({ length: ALLOWLIST_SIZE }, (_, i) => ({
    account: i < listed.length ? listed[i]!.address : (`0x${(i + 0x5000).toString(16).padStart(40, '0')}` as Address),
    maxQuantity: 10n,
  }));
  const tree = allowlistTree(entries);

  const now = Number((await publicClient.getBlock()).timestamp);
  const { presale, presaleAbi } = await deployWatchDogSale(publicClient, ownerWallet, {
    owner: owner.address,
    treasury: owner.address,
    paymentToken: stablecoin,
    supply: SUPPLY,
    tiers: TIERS,
    // both phases open together, so an allowlist and a public purchase run against the same state
    allowlist: { start: now + 5, end: now + 1_000_000, reserve: RESERVE, merkleRoot: tree.root },
    publicPhase: { start: now + 5, end: now + 1_000_000, walletCap: WALLET_CAP, txCap: TX_CAP },
    selfRefundTime: now + 1_500_000,
    refundDeadline: now + 4_000_000,
    unlockTime: BigInt(now + 2_000_000),
    maxUnlockTime: BigInt(now + 3_000_000),
  });
  await testClient.increaseTime({ seconds: 10 });
  await testClient.mine({ blocks: 1 });

  const quote = (quantity: number, currency: number) =>
    publicClient.readContract({
      address: presale,
      abi: presaleAbi,
      functionName: 'quote',
      args: [quantity, currency],
    }) as Promise<bigint>;
  const buyPublic = async (quantity: number) => {
    const buyer = await fundedAccount(0n);
    const cost = await quote(quantity, Currency.Eth);
    return gasOf(
      await wallet(buyer).writeContract({
        address: presale,
        abi: presaleAbi,
        functionName: 'buyPublic',
        args: [quantity, cost],
        value: cost,
      }),
    );
  };
  const buyAllowlist = async (index: number, quantity: number) => {
    const cost = await quote(quantity, Currency.Eth);
    return gasOf(
      await wallet(listed[index]!).writeContract({
        address: presale,
        abi: presaleAbi,
        functionName: 'buyAllowlist',
        args: [quantity, entries[index]!.maxQuantity, tree.proof(index), cost],
        value: cost,
      }),
    );
  };
  const buyWithToken = async (quantity: number) => {
    const buyer = await fundedAccount(0n);
    const cost = await quote(quantity, Currency.Token);
    await gasOf(
      await ownerWallet.writeContract({
        address: stablecoin,
        abi: tokenAbi,
        functionName: 'transfer',
        args: [buyer.address, cost],
      }),
    );
    await gasOf(
      await wallet(buyer).writeContract({
        address: stablecoin,
        abi: tokenAbi,
        functionName: 'approve',
        args: [presale, cost],
      }),
    );
    return gasOf(
      await wallet(buyer).writeContract({
        address: presale,
        abi: presaleAbi,
        functionName: 'buyPublicWithToken',
        args: [quantity, cost],
      }),
    );
  };

  // warm-up: the sale's first purchases in each currency pay for its fresh counters and balances
  const firstEver = await buyPublic(1);
  const firstToken = await buyWithToken(1);
  await buyPublic(3);

  const public1 = await buyPublic(1);
  const public10 = await buyPublic(10);
  const allowlist1 = await buyAllowlist(0, 1);
  const publicAgain1 = await buyPublic(1);
  const allowlist10 = await buyAllowlist(1, 10);
  const publicAgain10 = await buyPublic(10);
  const token1 = await buyWithToken(1);
  const token10 = await buyWithToken(10);
  const proofLength = tree.proof(0).length;

  results.licenseBuy_public_1_eth = {
    gas: public1,
    target: 110_000,
    note: `buyPublic(1) in ETH, exact payment, a buyer holding no license yet; the sale's very first purchase: ${firstEver}`,
  };
  results.licenseBuy_public_10_eth = {
    gas: public10,
    target: 300_000,
    note: 'buyPublic(10) in ETH, exact payment, a buyer holding no license yet',
  };
  results.licenseBuy_allowlistOverhead_1 = {
    gas: allowlist1 - publicAgain1,
    target: 14_000,
    note: `buyAllowlist(1) minus buyPublic(1), same state, fresh buyers: ${allowlist1} - ${publicAgain1}; ${ALLOWLIST_SIZE.toLocaleString('en-US')}-account allowlist (${proofLength}-hash proof)`,
  };
  results.licenseBuy_allowlistOverhead_10 = {
    gas: allowlist10 - publicAgain10,
    note: `buyAllowlist(10) minus buyPublic(10): ${allowlist10} - ${publicAgain10}`,
  };
  results.licenseBuy_public_1_token = {
    gas: token1,
    note: `buyPublicWithToken(1), stablecoin pulled with transferFrom (approve beforehand); the sale's first stablecoin purchase: ${firstToken}`,
  };
  results.licenseBuy_public_10_token = {
    gas: token10,
    note: 'buyPublicWithToken(10)',
  };
  log(
    `license buys: public 1 ${public1}, public 10 ${public10}, allowlist overhead ${allowlist1 - publicAgain1}, token 1 ${token1}`,
  );
  return results;
};
