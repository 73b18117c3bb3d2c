/**
 * Gas of chat-to-trade swap fills (`SwapSettlement.fill`), whole transaction, steady state: both traders
 * already hold both tokens and have non-zero (finite, so decremented) approvals, and the maker has filled
 * an order before (its nonce bitmap word is non-zero), as a real trader would have.
 */
import { parseEther, zeroAddress, type Abi, type Address, type Hex } from 'viem';
import { devAccount } from '../../keepers/src/devnet/devAccounts.js';
import { loadArtifact, type Artifact } from '../../keepers/src/devnet/artifacts.js';
import { sendTokenAbi } from '../../keepers/src/generated/contracts.js';
import {
  erc20,
  erc721,
  eth,
  signSwapOrder,
  swapDomain,
  type Asset,
  type SwapOrder,
} from '../../keepers/src/core/swapOrder.js';
import type { GasResult, GasSuite, Signer } from './context.js';

const APPROVAL = parseEther('1000000000'); // finite: every fill decrements it (non-zero -> non-zero)

export const swapGasSuite: GasSuite = async (ctx) => {
  const { book, publicClient, wallet, gasOf, fundedAccount, log } = ctx;
  const deployer = wallet(devAccount(0));
  const deploy = async (artifact: Artifact, args: unknown[] = []): Promise<Address> => {
    const hash = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deploying failed: ${hash}`);
    return receipt.contractAddress;
  };
  const swapArtifact = loadArtifact('SwapSettlement');
  const erc20Artifact = loadArtifact('TestTokens', 'TestERC20');
  const erc721Artifact = loadArtifact('TestTokens', 'TestERC721');
  const swap = await deploy(swapArtifact);
  const usd = await deploy(erc20Artifact, ['USD Coin (test)', 'USD']);
  const nft = await deploy(erc721Artifact, ['WatchDog License (test)', 'LIC']);
  const send = book.contracts.SendToken;
  const domain = swapDomain(book.chainId, swap);

  // SEND from the treasury, USD and NFTs minted: both traders hold both tokens.
  const maker = await fundedAccount(parseEther('10000'));
  const taker = await fundedAccount(parseEther('10000'));
  const write = async (
    account: Signer,
    address: Address,
    abi: Abi,
    functionName: string,
    args: unknown[],
    value = 0n,
  ) => gasOf(await wallet(account).writeContract({ address, abi, functionName, args, value }));
  for (const account of [maker, taker]) {
    await write(devAccount(0), usd, erc20Artifact.abi, 'mint', [account.address, parseEther('10000')]);
    await write(account, usd, erc20Artifact.abi, 'approve', [swap, APPROVAL]);
    await write(account, send, sendTokenAbi as Abi, 'approve', [swap, APPROVAL]);
    await write(account, nft, erc721Artifact.abi, 'setApprovalForAll', [swap, true]);
  }
  for (let id = 1n; id <= 4n; id++) await write(devAccount(0), nft, erc721Artifact.abi, 'mint', [maker.address, id]);
  await write(devAccount(0), nft, erc721Artifact.abi, 'mint', [taker.address, 100n]);

  let nonce = 0n;
  const expiry = (await publicClient.getBlock()).timestamp + 86_400n;
  const fill = async (makerAsset: Asset, takerAsset: Asset, fixedTaker = false) => {
    const order: SwapOrder = {
      maker: maker.address,
      taker: fixedTaker ? taker.address : zeroAddress,
      makerAsset,
      takerAsset,
      expiry,
      nonce: nonce++,
    };
    const signature: Hex = await signSwapOrder(maker, domain, order);
    const value = takerAsset.kind === 2 ? takerAsset.amountOrId : 0n;
    return write(taker, swap, swapArtifact.abi, 'fill', [order, signature], value);
  };

  const results: Record<string, GasResult> = {};
  // The maker's first fill ever writes a fresh nonce bitmap word (and is not part of the steady state).
  const first = await fill(erc20(usd, parseEther('10')), erc20(send, parseEther('20')));
  results.swapFill_makersFirstOrder_erc20ForErc20 = {
    gas: first,
    note: "the maker's first fill: a fresh nonce-bitmap word (zero -> non-zero); balances and approvals non-zero",
  };
  results.swapFill_erc20ForErc20 = {
    gas: await fill(erc20(usd, parseEther('10')), erc20(send, parseEther('20'))),
    target: 90_000,
    note: 'open order, USD for SEND, 65-byte ECDSA maker signature; both parties already hold both tokens, finite approvals decremented, maker nonce word already in use',
  };
  results.swapFill_erc721ForErc20 = {
    gas: await fill(erc721(nft, 1n), erc20(send, parseEther('20'))),
    target: 110_000,
    note: 'open order, license NFT (safeTransferFrom to an EOA, ownerOf check) for SEND; the taker already holds one NFT of the collection, the maker keeps others',
  };
  results.swapFill_erc20ForEth_fixedTaker = {
    gas: await fill(erc20(usd, parseEther('10')), eth(parseEther('0.01')), true),
    note: 'fixed-taker order, USD for ETH paid as msg.value and forwarded to the maker',
  };
  await write(maker, swap, swapArtifact.abi, 'deposit', [], parseEther('1'));
  results.swapFill_ethForErc20 = {
    gas: await fill(eth(parseEther('0.01')), erc20(send, parseEther('20'))),
    note: "ETH from the maker's escrow deposit (ledger debited, ETH sent to the taker) for SEND",
  };
  results.swapCancelNonce = {
    gas: await write(maker, swap, swapArtifact.abi, 'cancelNonce', [nonce++]),
    note: 'cancel one nonce in a bitmap word already in use',
  };
  for (const [name, r] of Object.entries(results)) log(`${name}: ${r.gas}`);
  return results;
};
