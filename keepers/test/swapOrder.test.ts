/**
 * Swap orders built, hashed and signed in TypeScript against SwapSettlement on anvil: the TS digest equals
 * the contract's `hashOrder` for every leg kind, the domain separator matches, and an order signed with
 * `signSwapOrder` fills on-chain with the same hash in `OrderFilled`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  domainSeparator,
  http,
  parseEther,
  parseEventLogs,
  zeroAddress,
  type Address,
  type PublicClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { devAccount } from '../src/devnet/devAccounts.js';
import { loadArtifact, type Artifact } from '../src/devnet/artifacts.js';
import {
  AssetKind,
  SWAP_ORDER_TYPES,
  assertWellFormedOrder,
  erc20,
  erc721,
  eth,
  signSwapOrder,
  swapDomain,
  swapOrderHash,
  swapOrderStructHash,
  type SwapOrder,
} from '../src/core/swapOrder.js';

let anvil: AnvilHandle;
let publicClient: PublicClient;
let swap: Address;
let usd: Address;
let nft: Address;
let chainId: number;
const swapArtifact = loadArtifact('SwapSettlement');
const erc20Artifact = loadArtifact('TestTokens', 'TestERC20');
const erc721Artifact = loadArtifact('TestTokens', 'TestERC721');
const deployerAccount = devAccount(0);

before(async () => {
  anvil = await startAnvil();
  const transport = http(anvil.rpcUrl);
  publicClient = createPublicClient({ chain: foundry, transport }) as PublicClient;
  const deployer = createWalletClient({ chain: foundry, transport, account: deployerAccount });
  const deploy = async (artifact: Artifact, args: unknown[] = []) => {
    const hash = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    assert.ok(receipt.contractAddress);
    return receipt.contractAddress;
  };
  swap = await deploy(swapArtifact);
  usd = await deploy(erc20Artifact, ['USD', 'USD']);
  nft = await deploy(erc721Artifact, ['License', 'LIC']);
  chainId = await publicClient.getChainId();
});
after(async () => anvil?.stop());

const randomAddress = () => privateKeyToAccount(generatePrivateKey()).address;

test('the TypeScript domain and order hash equal the contract for every leg kind', async () => {
  const domain = swapDomain(chainId, swap);
  const separator = await publicClient.readContract({
    address: swap,
    abi: swapArtifact.abi,
    functionName: 'DOMAIN_SEPARATOR',
  });
  assert.equal(separator, domainSeparator({ domain }));
  const legs = [erc20(randomAddress(), 123n * 10n ** 18n), erc721(randomAddress(), 2n ** 255n + 7n), eth(1n)];
  for (const makerAsset of legs) {
    for (const takerAsset of legs) {
      const order: SwapOrder = {
        maker: randomAddress(),
        taker: takerAsset.kind === AssetKind.ERC721 ? randomAddress() : zeroAddress,
        makerAsset,
        takerAsset,
        expiry: 2n ** 64n + 1n,
        nonce: 2n ** 256n - 1n,
      };
      const onChain = await publicClient.readContract({
        address: swap,
        abi: swapArtifact.abi,
        functionName: 'hashOrder',
        args: [order],
      });
      assert.equal(onChain, swapOrderHash(domain, order), `kinds ${makerAsset.kind}/${takerAsset.kind}`);
    }
  }
  // The struct hash is the domain-free part: it changes with any field, the digest with the domain too.
  const base: SwapOrder = {
    maker: randomAddress(),
    taker: zeroAddress,
    makerAsset: legs[0]!,
    takerAsset: legs[2]!,
    expiry: 1n,
    nonce: 0n,
  };
  assert.notEqual(swapOrderStructHash(base), swapOrderStructHash({ ...base, nonce: 1n }));
  assert.notEqual(swapOrderHash(domain, base), swapOrderHash(swapDomain(chainId + 1, swap), base));
  assert.notEqual(swapOrderHash(domain, base), swapOrderHash(swapDomain(chainId, randomAddress()), base));
});

test('an order signed with signSwapOrder fills on anvil and OrderFilled carries the TypeScript hash', async () => {
  const transport = http(anvil.rpcUrl);
  const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport });
  const maker = privateKeyToAccount(generatePrivateKey());
  const taker = privateKeyToAccount(generatePrivateKey());
  for (const a of [maker, taker]) await testClient.setBalance({ address: a.address, value: parseEther('10') });
  const deployer = createWalletClient({ chain: foundry, transport, account: deployerAccount });
  const makerWallet = createWalletClient({ chain: foundry, transport, account: maker });
  const takerWallet = createWalletClient({ chain: foundry, transport, account: taker });
  const wait = async (hash: `0x${string}`) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, 'success');
    return receipt;
  };
  await wait(
    await deployer.writeContract({
      address: nft,
      abi: erc721Artifact.abi,
      functionName: 'mint',
      args: [maker.address, 5n],
    }),
  );
  await wait(
    await makerWallet.writeContract({
      address: nft,
      abi: erc721Artifact.abi,
      functionName: 'setApprovalForAll',
      args: [swap, true],
    }),
  );

  const domain = swapDomain(chainId, swap);
  const order: SwapOrder = {
    maker: maker.address,
    taker: taker.address,
    makerAsset: erc721(nft, 5n),
    takerAsset: eth(parseEther('0.5')),
    expiry: (await publicClient.getBlock()).timestamp + 3600n,
    nonce: 42n,
  };
  const signature = await signSwapOrder(maker, domain, order);
  const checked = await publicClient.readContract({
    address: swap,
    abi: swapArtifact.abi,
    functionName: 'checkOrder',
    args: [order, signature, taker.address],
  });
  assert.equal(checked, swapOrderHash(domain, order));
  const makerBalance = await publicClient.getBalance({ address: maker.address });
  const receipt = await wait(
    await takerWallet.writeContract({
      address: swap,
      abi: swapArtifact.abi,
      functionName: 'fill',
      args: [order, signature],
      value: parseEther('0.5'),
    }),
  );
  const [filled] = parseEventLogs({
    abi: swapArtifact.abi,
    logs: receipt.logs,
    eventName: 'OrderFilled',
  }) as unknown as {
    args: { orderHash: string; maker: Address; taker: Address; nonce: bigint };
  }[];
  assert.equal(filled!.args.orderHash, swapOrderHash(domain, order));
  assert.equal(filled!.args.nonce, 42n);
  assert.equal(
    await publicClient.readContract({ address: nft, abi: erc721Artifact.abi, functionName: 'ownerOf', args: [5n] }),
    taker.address,
  );
  assert.equal(await publicClient.getBalance({ address: maker.address }), makerBalance + parseEther('0.5'));
  assert.equal(
    await publicClient.readContract({
      address: swap,
      abi: swapArtifact.abi,
      functionName: 'isNonceUsable',
      args: [maker.address, 42n],
    }),
    false,
  );
  // usd is deployed for the hash test's sake only; it holds nothing.
  assert.equal(
    await publicClient.readContract({ address: usd, abi: erc20Artifact.abi, functionName: 'balanceOf', args: [swap] }),
    0n,
  );
});

test('malformed orders and wrong signers are refused in TypeScript with a message naming the problem', async () => {
  const maker = privateKeyToAccount(generatePrivateKey());
  const domain = swapDomain(31337, randomAddress());
  const ok: SwapOrder = {
    maker: maker.address,
    taker: zeroAddress,
    makerAsset: erc20(randomAddress(), 1n),
    takerAsset: eth(1n),
    expiry: 1n,
    nonce: 0n,
  };
  assertWellFormedOrder(ok);
  assert.throws(
    () => assertWellFormedOrder({ ...ok, makerAsset: { ...ok.makerAsset, kind: 3 } }),
    /unknown asset kind 3/,
  );
  assert.throws(
    () => assertWellFormedOrder({ ...ok, takerAsset: { ...ok.takerAsset, token: randomAddress() } }),
    /ETH leg must not name a token/,
  );
  assert.throws(() => assertWellFormedOrder({ ...ok, makerAsset: erc20(zeroAddress, 1n) }), /needs a token address/);
  assert.throws(
    () => assertWellFormedOrder({ ...ok, makerAsset: erc20(randomAddress(), 0n) }),
    /maker leg: zero amount/,
  );
  assert.throws(() => assertWellFormedOrder({ ...ok, makerAsset: eth(1n) }), /both legs are ETH/);
  assert.throws(() => assertWellFormedOrder({ ...ok, taker: maker.address }), /maker cannot be the taker/);
  assert.doesNotThrow(() => assertWellFormedOrder({ ...ok, makerAsset: erc721(randomAddress(), 0n) }));
  await assert.rejects(
    signSwapOrder(privateKeyToAccount(generatePrivateKey()), domain, ok),
    /is not the order's maker/,
  );
  const sig = await signSwapOrder(maker, domain, ok);
  assert.equal(sig.length, 2 + 65 * 2);
  assert.ok(SWAP_ORDER_TYPES.Asset.length === 3);
});
