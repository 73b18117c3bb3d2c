/**
 * Oversell is impossible even with many buyers in one block: on a real anvil with auto-mining off, 50
 * buyers (ETH and stablecoin, quantities 1-3, some with a tight max-total-cost, some overpaying) race
 * for the last 20 licenses, all in the same block. Replaying the block's order through a model of the
 * sale predicts every outcome exactly: exactly the supply is sold, each winner paid its tiers' prices
 * and got its change back, each loser reverted with the custom error the model expects (decoded from
 * the transaction's trace) and paid only gas.
 *
 * Needs the forge artifacts: `npx forge build --skip test` first.
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
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { devAccount } from '../src/devnet/devAccounts.js';
import { Currency, decodeSaleError } from '../src/chain/watchdog.js';
import {
  deployStandInStablecoin,
  deployWatchDogSale,
  loadArtifact,
  type Tier,
  type WatchDogSale,
} from '../src/devnet/contractDeployments.js';

const SUPPLY = 100;
const PRESOLD = 80;
const RACERS = 50;
const TX_CAP = 5;
const WALLET_CAP = 5;
/** The last tier starts inside the race, so early winners move the price under later buyers' feet. */
const TIERS: Tier[] = [
  { start: 0, ethPrice: parseEther('0.1'), tokenPrice: parseEther('300') },
  { start: 90, ethPrice: parseEther('0.2'), tokenPrice: parseEther('600') },
];
const GAS_LIMIT = 300_000n;

let anvil: AnvilHandle;
before(async () => {
  anvil = await startAnvil();
});
after(async () => anvil?.stop());

/** Cost of sale indices [sold, sold + q) in `currency`, from the tier table. */
function modelCost(sold: number, q: number, currency: number): bigint {
  let cost = 0n;
  for (let i = sold; i < sold + q; i++) {
    const tier = [...TIERS].reverse().find((t) => t.start <= i)!;
    cost += currency === Currency.Eth ? tier.ethPrice : tier.tokenPrice;
  }
  return cost;
}

interface Racer {
  account: PrivateKeyAccount;
  quantity: number;
  currency: number;
  maxTotalCost: bigint;
  value: bigint;
  hash?: Hex;
}

test('50 buyers race for the last 20 licenses in one block: exactly the supply is sold, every loser reverts with a named error', async (t) => {
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain: foundry, transport }) as PublicClient;
  const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport });
  const deployer = createWalletClient({ chain: foundry, transport, account: devAccount(0) });
  const wallet = (account: PrivateKeyAccount) => createWalletClient({ chain: foundry, transport, account });
  const tokenAbi = loadArtifact('SendToken').abi;

  const stablecoin = await deployStandInStablecoin(publicClient, deployer, deployer.account.address);
  const now = Number((await publicClient.getBlock()).timestamp);
  const sale: WatchDogSale = await deployWatchDogSale(publicClient, deployer, {
    owner: deployer.account.address,
    treasury: devAccount(1).address,
    paymentToken: stablecoin,
    supply: SUPPLY,
    tiers: TIERS,
    publicPhase: { start: now + 10, end: now + 100_000, walletCap: WALLET_CAP, txCap: TX_CAP },
    selfRefundTime: now + 200_000,
    refundDeadline: now + 3_000_000,
    unlockTime: BigInt(now + 1_000_000),
    maxUnlockTime: BigInt(now + 2_000_000),
  });
  const { presale, license, presaleAbi, licenseAbi } = sale;
  const read = <T>(address: Address, abi: Abi, functionName: string, args: readonly unknown[] = []) =>
    publicClient.readContract({ address, abi, functionName, args }) as Promise<T>;
  const mined = async (hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, 'success', `setup transaction ${hash} reverted`);
    return receipt;
  };
  await testClient.increaseTime({ seconds: 20 });
  await testClient.mine({ blocks: 1 });

  // ---- 80 licenses sold before the race (16 buyers x 5, exact payment)
  for (let i = 0; i < PRESOLD / TX_CAP; i++) {
    const buyer = privateKeyToAccount(generatePrivateKey());
    await testClient.setBalance({ address: buyer.address, value: parseEther('10') });
    const cost = await read<bigint>(presale, presaleAbi, 'quote', [TX_CAP, Currency.Eth]);
    await mined(
      await wallet(buyer).writeContract({
        address: presale,
        abi: presaleAbi,
        functionName: 'buyPublic',
        args: [TX_CAP, cost],
        value: cost,
      }),
    );
  }
  assert.equal(await read<bigint>(presale, presaleAbi, 'sold'), BigInt(PRESOLD));

  // ---- 50 racers: every fifth pays in the stablecoin, every seventh signs a tight max-total-cost (the
  // price it was quoted now), the others accept up to the top tier's price; every third overpays in ETH
  const racers: Racer[] = [];
  for (let i = 0; i < RACERS; i++) {
    const account = privateKeyToAccount(generatePrivateKey());
    const quantity = i % 2 === 0 ? 1 : 2 + (i % 4 === 1 ? 1 : 0);
    const currency = i % 5 === 4 ? Currency.Token : Currency.Eth;
    const top = currency === Currency.Eth ? TIERS[1]!.ethPrice : TIERS[1]!.tokenPrice;
    const maxTotalCost = i % 7 === 3 ? modelCost(PRESOLD, quantity, currency) : top * BigInt(quantity);
    const value = currency === Currency.Eth ? maxTotalCost + (i % 3 === 0 ? parseEther('0.05') : 0n) : 0n;
    await testClient.setBalance({ address: account.address, value: parseEther('10') });
    if (currency === Currency.Token) {
      await mined(
        await deployer.writeContract({
          address: stablecoin,
          abi: tokenAbi,
          functionName: 'transfer',
          args: [account.address, maxTotalCost],
        }),
      );
      await mined(
        await wallet(account).writeContract({
          address: stablecoin,
          abi: tokenAbi,
          functionName: 'approve',
          args: [presale, maxTotalCost],
        }),
      );
    }
    racers.push({ account, quantity, currency, maxTotalCost, value });
  }
  const ethBefore = new Map<Address, bigint>();
  const tokenBefore = new Map<Address, bigint>();
  for (const r of racers) {
    ethBefore.set(r.account.address, await publicClient.getBalance({ address: r.account.address }));
    tokenBefore.set(r.account.address, await read<bigint>(stablecoin, tokenAbi, 'balanceOf', [r.account.address]));
  }
  const presaleEthBefore = await publicClient.getBalance({ address: presale });

  // ---- the race: all 50 signed and sent while nothing is mined, then one block
  const block = await publicClient.getBlock();
  const maxFeePerGas = (block.baseFeePerGas ?? 1_000_000_000n) * 4n + 1_000_000_000n;
  await testClient.setAutomine(false);
  try {
    for (const r of racers) {
      const nonce = r.currency === Currency.Token ? 1 : 0; // token buyers already sent their approve
      r.hash = await wallet(r.account).writeContract({
        address: presale,
        abi: presaleAbi,
        functionName: r.currency === Currency.Eth ? 'buyPublic' : 'buyPublicWithToken',
        args: [r.quantity, r.maxTotalCost],
        value: r.value,
        gas: GAS_LIMIT,
        nonce,
        maxFeePerGas,
        maxPriorityFeePerGas: 1_000_000_000n,
      });
    }
    const pending = await publicClient.getBlock({ blockTag: 'pending' });
    assert.equal(pending.transactions.length, RACERS, 'all racers pending together');
    await testClient.mine({ blocks: 1 });
  } finally {
    await testClient.setAutomine(true);
  }

  const receipts = new Map<Hex, TransactionReceipt>();
  for (const r of racers) receipts.set(r.hash!, await publicClient.getTransactionReceipt({ hash: r.hash! }));
  const blockNumbers = new Set([...receipts.values()].map((x) => x.blockNumber));
  assert.equal(blockNumbers.size, 1, 'every racer landed in the same block');

  // ---- replay the block's order through the model; compare every outcome
  const ordered = [...racers].sort(
    (a, b) => receipts.get(a.hash!)!.transactionIndex - receipts.get(b.hash!)!.transactionIndex,
  );
  let sold = PRESOLD;
  let winners = 0;
  let ethIn = 0n;
  const losses: Record<string, number> = {};
  for (const r of ordered) {
    const receipt = receipts.get(r.hash!)!;
    const gasFee = receipt.gasUsed * receipt.effectiveGasPrice;
    const ethDelta =
      ethBefore.get(r.account.address)! - (await publicClient.getBalance({ address: r.account.address }));
    const tokenDelta =
      tokenBefore.get(r.account.address)! -
      (await read<bigint>(stablecoin, tokenAbi, 'balanceOf', [r.account.address]));
    const licenses = await read<bigint>(license, licenseAbi, 'balanceOf', [r.account.address]);
    const available = SUPPLY - sold;
    const cost = r.quantity <= available ? modelCost(sold, r.quantity, r.currency) : 0n;
    const label = `racer at index ${receipt.transactionIndex} (q=${r.quantity}, ${r.currency === Currency.Eth ? 'ETH' : 'token'})`;

    if (r.quantity <= available && cost <= r.maxTotalCost) {
      assert.equal(receipt.status, 'success', `${label} should have bought`);
      const [event] = parseEventLogs({ abi: presaleAbi, logs: receipt.logs, eventName: 'Purchased' }) as unknown as {
        args: { buyer: Address; firstTokenId: bigint; quantity: bigint; cost: bigint };
      }[];
      assert.equal(event!.args.buyer, r.account.address);
      assert.equal(event!.args.firstTokenId, BigInt(sold + 1), `${label}: token ids follow sold`);
      assert.equal(event!.args.quantity, BigInt(r.quantity));
      assert.equal(event!.args.cost, cost, `${label}: each license at its own tier's price`);
      assert.equal(licenses, BigInt(r.quantity));
      if (r.currency === Currency.Eth) {
        assert.equal(ethDelta, cost + gasFee, `${label}: paid the cost, change returned in the same transaction`);
        assert.equal(tokenDelta, 0n);
        ethIn += cost;
      } else {
        assert.equal(ethDelta, gasFee);
        assert.equal(tokenDelta, cost);
      }
      sold += r.quantity;
      winners++;
      continue;
    }

    assert.equal(receipt.status, 'reverted', `${label} should have been rejected`);
    assert.equal(ethDelta, gasFee, `${label}: a loser pays only gas`);
    assert.equal(tokenDelta, 0n);
    assert.equal(licenses, 0n);
    const trace = (await publicClient.request({
      method: 'debug_traceTransaction' as never,
      params: [r.hash!, { tracer: 'callTracer' }] as never,
    })) as { output?: Hex };
    assert.ok(trace.output && trace.output !== '0x', `${label}: revert data available`);
    const error = decodeSaleError(trace.output);
    if (r.quantity > available) {
      assert.deepEqual(
        error,
        { errorName: 'ExceedsAvailableSupply', args: [BigInt(r.quantity), BigInt(available)] },
        label,
      );
    } else {
      assert.deepEqual(error, { errorName: 'CostAboveMax', args: [cost, r.maxTotalCost] }, label);
    }
    losses[error.errorName] = (losses[error.errorName] ?? 0) + 1;
  }

  assert.equal(sold, SUPPLY, 'the model sells out');
  assert.equal(await read<bigint>(presale, presaleAbi, 'sold'), BigInt(SUPPLY), 'exactly the supply sold');
  assert.equal(await read<bigint>(license, licenseAbi, 'totalSupply'), BigInt(SUPPLY));
  assert.equal(await read<bigint>(license, licenseAbi, 'totalMinted'), BigInt(SUPPLY));
  assert.equal(
    (await publicClient.getBalance({ address: presale })) - presaleEthBefore,
    ethIn,
    "the presale kept exactly the winners' ETH costs",
  );
  assert.ok(
    losses.ExceedsAvailableSupply! > 0 && losses.CostAboveMax! > 0,
    `both kinds of losers seen: ${JSON.stringify(losses)}`,
  );
  assert.equal(winners + losses.ExceedsAvailableSupply! + losses.CostAboveMax!, RACERS);
  t.diagnostic(`block of ${RACERS} purchases: ${winners} winners, losers ${JSON.stringify(losses)}`);
  // once sold out, a further buyer gets the same named error from a normal (simulated) call
  await assert.rejects(
    wallet(racers[0]!.account).writeContract({
      address: presale,
      abi: presaleAbi,
      functionName: 'buyPublic',
      args: [1, parseEther('1')],
      value: parseEther('1'),
    }),
    /ExceedsAvailableSupply/,
  );
});
