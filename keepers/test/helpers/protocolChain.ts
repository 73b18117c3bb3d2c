/**
 * A deployed protocol on a fresh anvil for end-to-end tests, and the on-chain identities an epoch needs:
 * staked edge nodes (key consent signed by the node key), DIDs with Ed25519 device keys, WatchDog licenses
 * with operator keys (minted by impersonating the presale, the license's only minter, so tests need not
 * wait for the sale to open), time travel, and empty epoch submissions signed by the dev guardians.
 */
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseEther,
  parseEventLogs,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilHandle } from '../../src/dev/anvil.js';
import { deployProtocol } from '../../src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../../src/devnet/devAccounts.js';
import { KeyType } from '../../src/chain/did.js';
import { registerDidWithKeys } from '../../src/chain/didRegistration.js';
import { epochSettlementAbi, nodeStakingAbi, sendTokenAbi, watchDogLicenseAbi } from '../../src/generated/contracts.js';
import type { AddressBook } from '../../src/chain/addressBook.js';
import { nodeStakingDomain, signNodeKeyConsent } from '../../src/core/commitment.js';
import { collectQuorumSignatures, settlementDomain, type EpochHeader } from '../../src/core/epochHeader.js';
import type { DeviceKey } from '../../src/core/relay.js';
import type { EpochContracts } from '../../src/chain/epochFacts.js';

const ZERO: Hex = `0x${'0'.repeat(64)}`;

export interface ProtocolChain {
  anvil: AnvilHandle;
  book: AddressBook;
  contracts: EpochContracts;
  publicClient: PublicClient;
  stop(): Promise<void>;
}

export async function startProtocolChain(): Promise<ProtocolChain> {
  const anvil = await startAnvil();
  const { book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) });
  const publicClient = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) }) as PublicClient;
  const contracts: EpochContracts = {
    staking: book.contracts.NodeStaking,
    settlement: book.contracts.EpochSettlement,
    didRegistry: book.contracts.DidRegistry,
    license: book.contracts.WatchDogLicense,
    licenseRewards: book.contracts.LicenseRewards,
  };
  return { anvil, book, contracts, publicClient, stop: () => anvil.stop() };
}

const testClient = (c: ProtocolChain) =>
  createTestClient({ chain: foundry, mode: 'anvil', transport: http(c.anvil.rpcUrl) });
const wallet = (c: ProtocolChain, privateKey: Hex) =>
  createWalletClient({ chain: foundry, transport: http(c.anvil.rpcUrl), account: privateKeyToAccount(privateKey) });

async function send(c: ProtocolChain, hash: Promise<Hex>) {
  const receipt = await c.publicClient.waitForTransactionReceipt({ hash: await hash });
  if (receipt.status !== 'success') throw new Error(`transaction ${receipt.transactionHash} reverted`);
  return receipt;
}

/** Gives `account` 100 ETH for gas. */
export async function fundEth(c: ProtocolChain, account: Address): Promise<void> {
  await testClient(c).setBalance({ address: account, value: parseEther('100') });
}

/** Stakes and registers a node: SEND from the treasury (dev account 1), consent signed by the node key. */
export async function registerNode(
  c: ProtocolChain,
  n: { nodePrivateKey: Hex; operatorPrivateKey: Hex; stake: bigint; endpoint: string },
): Promise<Address> {
  const operator = privateKeyToAccount(n.operatorPrivateKey).address;
  const nodeKey = privateKeyToAccount(n.nodePrivateKey).address;
  await fundEth(c, operator);
  const treasury = createWalletClient({ chain: foundry, transport: http(c.anvil.rpcUrl), account: devAccount(1) });
  await send(
    c,
    treasury.writeContract({
      address: c.book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'transfer',
      args: [operator, n.stake],
    }),
  );
  const op = wallet(c, n.operatorPrivateKey);
  await send(
    c,
    op.writeContract({
      address: c.book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'approve',
      args: [c.contracts.staking, n.stake],
    }),
  );
  const consent = await signNodeKeyConsent(
    n.nodePrivateKey,
    nodeStakingDomain(c.book.chainId, c.contracts.staking),
    operator,
  );
  await send(
    c,
    op.writeContract({
      address: c.contracts.staking,
      abi: nodeStakingAbi,
      functionName: 'register',
      args: [nodeKey, n.stake, consent, n.endpoint, ''],
    }),
  );
  return nodeKey.toLowerCase() as Address;
}

/** Registers DID `name` for `ownerPrivateKey` and adds the device key to it. Returns the DID. */
export async function registerDevice(
  c: ProtocolChain,
  ownerPrivateKey: Hex,
  name: string,
  device: DeviceKey,
): Promise<bigint> {
  await fundEth(c, privateKeyToAccount(ownerPrivateKey).address);
  const { did } = await registerDidWithKeys(wallet(c, ownerPrivateKey), c.publicClient, c.contracts.didRegistry, name, [
    { key: device.publicKey, keyType: KeyType.Ed25519 },
  ]);
  return did;
}

/** Mints one license to `holder` (impersonating the presale) and names `operator` its operator key. */
export async function mintLicense(c: ProtocolChain, holderPrivateKey: Hex, operator: Address): Promise<bigint> {
  const holder = privateKeyToAccount(holderPrivateKey).address;
  const presale = c.book.contracts.WatchDogPresale;
  const tc = testClient(c);
  await fundEth(c, holder);
  await tc.setBalance({ address: presale, value: parseEther('1') });
  await tc.impersonateAccount({ address: presale });
  const minter = createWalletClient({ chain: foundry, transport: http(c.anvil.rpcUrl), account: presale });
  const receipt = await send(
    c,
    minter.writeContract({
      address: c.contracts.license,
      abi: watchDogLicenseAbi,
      functionName: 'mint',
      args: [holder, 1n, 0n, 0],
    }),
  );
  await tc.stopImpersonatingAccount({ address: presale });
  const [transfer] = parseEventLogs({ abi: watchDogLicenseAbi, logs: receipt.logs, eventName: 'Transfer' });
  const tokenId = transfer!.args.tokenId;
  await send(
    c,
    wallet(c, holderPrivateKey).writeContract({
      address: c.contracts.license,
      abi: watchDogLicenseAbi,
      functionName: 'setOperator',
      args: [tokenId, operator],
    }),
  );
  return tokenId;
}

export async function epochStartOf(c: ProtocolChain, epoch: number): Promise<number> {
  return Number(
    await c.publicClient.readContract({
      address: c.contracts.settlement,
      abi: epochSettlementAbi,
      functionName: 'epochEnd',
      args: [epoch - 1],
    }),
  );
}

export async function currentEpoch(c: ProtocolChain): Promise<number> {
  return Number(
    await c.publicClient.readContract({
      address: c.contracts.settlement,
      abi: epochSettlementAbi,
      functionName: 'currentEpoch',
    }),
  );
}

/** Mines one block at exactly `timestamp` (which must be later than the head). */
export async function mineAt(c: ProtocolChain, timestamp: number): Promise<void> {
  const tc = testClient(c);
  await tc.setNextBlockTimestamp({ timestamp: BigInt(timestamp) });
  await tc.mine({ blocks: 1 });
}

/** The dev guardians (accounts 3–9). */
export const guardianKeys = (): Hex[] => [3, 4, 5, 6, 7, 8, 9].map((i) => devPrivateKey(i));

/** Submits `header` with signatures of `signers` (guardian private keys) from the keeper (dev account 2). */
export async function submitHeader(c: ProtocolChain, header: EpochHeader, signers: readonly Hex[]) {
  const [, members] = await c.publicClient.readContract({
    address: c.contracts.settlement,
    abi: epochSettlementAbi,
    functionName: 'activeGuardianSet',
  });
  const quorum = await collectQuorumSignatures(
    settlementDomain(c.book.chainId, c.contracts.settlement),
    header,
    members,
    signers.map((k) => privateKeyToAccount(k)),
  );
  const keeper = createWalletClient({ chain: foundry, transport: http(c.anvil.rpcUrl), account: devAccount(2) });
  return send(
    c,
    keeper.writeContract({
      address: c.contracts.settlement,
      abi: epochSettlementAbi,
      functionName: 'submitEpoch',
      args: [header, quorum.guardians, quorum.signerBitmap, quorum.signatures],
    }),
  );
}

/** Submits the epochs after the last submitted one up to `upTo` with nothing to pay (zero roots). */
export async function submitEmptyEpochs(c: ProtocolChain, upTo: number, signers: readonly Hex[]): Promise<void> {
  const progress = await c.publicClient.readContract({
    address: c.contracts.settlement,
    abi: epochSettlementAbi,
    functionName: 'settlementProgress',
  });
  for (let epoch = progress.lastSubmitted + 1; epoch <= upTo; epoch++) {
    await submitHeader(
      c,
      {
        epoch,
        consensusVersion: 1,
        faultCount: 0,
        totalCumulative: 0n,
        epochEmission: 0n,
        rewardRoot: ZERO,
        faultRoot: ZERO,
        scoresHash: ZERO,
        dataHash: ZERO,
        seed: ZERO,
      },
      signers,
    );
  }
}
