/**
 * On-chain set-up of a devnet population, through the contracts as a user would drive them: fund accounts,
 * register and stake edge nodes (with the node key's EIP-712 consent), buy WatchDog licenses in the
 * allowlist phase and name their operator keys, register DIDs with their Ed25519 device keys.
 * Everything runs against any RPC and address book; transactions of different accounts go out together.
 */
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseEventLogs,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import type { AddressBook } from '../chain/addressBook.js';
import { allowlistTree } from '../chain/watchdog.js';
import { signNodeKeyConsent } from '../chain/nodeRegistration.js';
import { KeyType } from '../chain/did.js';
import { registerDidWithKeys } from '../chain/didRegistration.js';
import { nodeStakingAbi, sendTokenAbi, watchDogLicenseAbi, watchDogPresaleAbi } from '../generated/contracts.js';

export interface SetupContext {
  rpcUrl: string;
  book: AddressBook;
  chain?: Chain;
}

function clients(ctx: SetupContext) {
  const chain = { ...(ctx.chain ?? foundry), id: ctx.book.chainId };
  const transport = http(ctx.rpcUrl);
  const publicClient = createPublicClient({ chain, transport }) as PublicClient;
  const wallet = (key: Hex) => createWalletClient({ chain, transport, account: privateKeyToAccount(key) });
  return { chain, transport, publicClient, wallet };
}

async function confirm(publicClient: PublicClient, hash: Hex, what: string) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 250 });
  if (receipt.status !== 'success') throw new Error(`${what}: transaction ${hash} reverted`);
  return receipt;
}

/** Gives every address `eth` wei of ETH (anvil only: `anvil_setBalance`). */
export async function fundEth(ctx: SetupContext, addresses: readonly Address[], eth: bigint): Promise<void> {
  const { chain, transport } = clients(ctx);
  const testClient = createTestClient({ chain, transport, mode: 'anvil' });
  await Promise.all(addresses.map((address) => testClient.setBalance({ address, value: eth })));
}

/** Sends `amount` SEND to each recipient from `fromKey` (e.g. the treasury), one nonce after another. */
export async function distributeSend(
  ctx: SetupContext,
  fromKey: Hex,
  recipients: readonly Address[],
  amount: bigint,
): Promise<void> {
  const { publicClient, wallet } = clients(ctx);
  const from = wallet(fromKey);
  let nonce = await publicClient.getTransactionCount({ address: from.account.address, blockTag: 'pending' });
  const hashes: Hex[] = [];
  for (const to of recipients) {
    hashes.push(
      await from.writeContract({
        address: ctx.book.contracts.SendToken,
        abi: sendTokenAbi,
        functionName: 'transfer',
        args: [to, amount],
        nonce: nonce++,
      }),
    );
  }
  await Promise.all(hashes.map((h) => confirm(publicClient, h, 'SEND transfer')));
}

export interface NodeRegistration {
  operatorKey: Hex;
  nodeKey: Hex;
  stake: bigint;
  endpoint: string;
  metadataURI?: string;
}

/**
 * Registers and stakes edge nodes: approve + register per operator (operators may repeat), each operator's
 * transactions sent back to back with explicit nonces (chain/nodeRegistration.ts `registerNode` does one
 * node at a time, waiting for each receipt).
 */
export async function registerNodes(ctx: SetupContext, nodes: readonly NodeRegistration[]): Promise<void> {
  const { publicClient, wallet } = clients(ctx);
  const staking = ctx.book.contracts.NodeStaking;
  const byOperator = new Map<Hex, NodeRegistration[]>();
  for (const n of nodes) byOperator.set(n.operatorKey, [...(byOperator.get(n.operatorKey) ?? []), n]);
  await Promise.all(
    [...byOperator].map(async ([operatorKey, list]) => {
      const operator = wallet(operatorKey);
      let nonce = await publicClient.getTransactionCount({ address: operator.account.address, blockTag: 'pending' });
      const total = list.reduce((a, n) => a + n.stake, 0n);
      const hashes = [
        await operator.writeContract({
          address: ctx.book.contracts.SendToken,
          abi: sendTokenAbi,
          functionName: 'approve',
          args: [staking, total],
          nonce: nonce++,
        }),
      ];
      for (const n of list) {
        const nodeAccount = privateKeyToAccount(n.nodeKey);
        const consent = await signNodeKeyConsent(nodeAccount, operator.account.address, ctx.book.chainId, staking);
        hashes.push(
          await operator.writeContract({
            address: staking,
            abi: nodeStakingAbi,
            functionName: 'register',
            args: [nodeAccount.address, n.stake, consent, n.endpoint, n.metadataURI ?? ''],
            nonce: nonce++,
          }),
        );
      }
      for (const h of hashes) await confirm(publicClient, h, `node registration by ${operator.account.address}`);
    }),
  );
}

export interface LicenseBuyer {
  /** Buys and holds the license. */
  ownerKey: Hex;
  /** The WatchDog's operator key, named on the license. */
  operator: Address;
}

/** An allowlist: each account's allowance for the whole allowlist phase, and the tree of their leaves. */
export interface Allowlist {
  entries: { account: Address; maxQuantity: bigint }[];
  tree: ReturnType<typeof allowlistTree>;
}

/** The allowlist of `entries` (default allowance: one license each). */
export function allowlistFor(entries: readonly (Address | { account: Address; maxQuantity: bigint })[]): Allowlist {
  const normalised = entries.map((e) => (typeof e === 'string' ? { account: e, maxQuantity: 1n } : { ...e }));
  return { entries: normalised, tree: allowlistTree(normalised) };
}

/**
 * Schedules the presale's allowlist phase (owner only) from the next second for `durationSeconds`, with
 * `reserve` licenses kept for it, and waits until it is open.
 */
export async function openAllowlist(
  ctx: SetupContext,
  ownerKey: Hex,
  root: Hex,
  reserve: number,
  durationSeconds = 86_400,
): Promise<void> {
  const { publicClient, wallet } = clients(ctx);
  const presale = ctx.book.contracts.WatchDogPresale;
  const now = Number((await publicClient.getBlock()).timestamp);
  const start = Math.max(now, Math.floor(Date.now() / 1000)) + 2;
  const hash = await wallet(ownerKey).writeContract({
    address: presale,
    abi: watchDogPresaleAbi,
    functionName: 'setAllowlistPhase',
    args: [{ start, end: start + durationSeconds, reserve, merkleRoot: root }],
  });
  await confirm(publicClient, hash, 'setAllowlistPhase');
  const deadline = Date.now() + 30_000;
  while (
    !(await publicClient.readContract({
      address: presale,
      abi: watchDogPresaleAbi,
      functionName: 'phaseOpen',
      args: [1],
      blockTag: 'pending',
    }))
  ) {
    if (Date.now() > deadline) throw new Error('the presale allowlist phase did not open within 30 s');
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Each buyer buys one license in the allowlist phase (proof from `allowlist`, whose root `openAllowlist`
 * must have set; default: the buyers with one license each), then names its operator key. Returns the
 * token ids in buyer order.
 */
export async function buyLicenses(
  ctx: SetupContext,
  buyers: readonly LicenseBuyer[],
  allowlist?: Allowlist,
): Promise<bigint[]> {
  const { publicClient, wallet } = clients(ctx);
  const presale = ctx.book.contracts.WatchDogPresale;
  const license = ctx.book.contracts.WatchDogLicense;
  const owners = buyers.map((b) => privateKeyToAccount(b.ownerKey).address);
  const { entries, tree } = allowlist ?? allowlistFor(owners);
  const price = await publicClient.readContract({
    address: presale,
    abi: watchDogPresaleAbi,
    functionName: 'quote',
    args: [1n, 0],
  });
  return Promise.all(
    buyers.map(async (buyer, i) => {
      const owner = wallet(buyer.ownerKey);
      const leaf = entries.findIndex((e) => e.account.toLowerCase() === owners[i]!.toLowerCase());
      if (leaf < 0) throw new Error(`license buyer ${owners[i]} is not on the allowlist`);
      const buy = await owner.writeContract({
        address: presale,
        abi: watchDogPresaleAbi,
        functionName: 'buyAllowlist',
        args: [1n, entries[leaf]!.maxQuantity, tree.proof(leaf), price * 2n],
        value: price * 2n,
      });
      const receipt = await confirm(publicClient, buy, `license purchase by ${owner.account.address}`);
      const [minted] = parseEventLogs({ abi: watchDogLicenseAbi, eventName: 'Transfer', logs: receipt.logs });
      if (!minted) throw new Error(`license purchase by ${owner.account.address} minted nothing`);
      const tokenId = minted.args.tokenId;
      const set = await owner.writeContract({
        address: license,
        abi: watchDogLicenseAbi,
        functionName: 'setOperator',
        args: [tokenId, buyer.operator],
      });
      await confirm(publicClient, set, `setOperator(${tokenId})`);
      return tokenId;
    }),
  );
}

export interface DidRegistration {
  walletKey: Hex;
  name: string;
  /** Ed25519 device public keys (32 bytes) to add to the DID. */
  deviceKeys: readonly Hex[];
}

/**
 * Registers DIDs and adds their Ed25519 device keys, through the registry's commit–reveal (all owners at
 * once: one wait of the minimum commitment age). Returns the DID ids in input order.
 */
export async function registerDids(ctx: SetupContext, dids: readonly DidRegistration[]): Promise<bigint[]> {
  const { publicClient, wallet } = clients(ctx);
  const registry = ctx.book.contracts.DidRegistry;
  return Promise.all(
    dids.map(async (d) => {
      const { did } = await registerDidWithKeys(
        wallet(d.walletKey),
        publicClient,
        registry,
        d.name,
        d.deviceKeys.map((key) => ({ key, keyType: KeyType.Ed25519 })),
      );
      return did;
    }),
  );
}
