/**
 * DID registration with the registry's commit–reveal (docs/did.md §2a): commit to the name and to each
 * device key, wait until the commitments are `minCommitmentAge` old, then `register` and `addKey`. One
 * function for every program that registers DIDs (the relay client, the devnet, tests); the CLI drives the
 * same steps itself to print each one.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import { didRegistryAbi } from '../generated/contracts.js';
import { commitmentSecret, didId, keyCommitment, registerCommitment } from './did.js';

export interface DidKeyToAdd {
  key: Hex;
  keyType: number;
  /** Hex bytes emitted in `KeyAdded` (a device label); '0x' for none. */
  metadata?: Hex;
}

/** The registry's commitment window in seconds. */
export async function commitmentAges(
  publicClient: PublicClient,
  registry: Address,
): Promise<{ minAge: number; maxAge: number }> {
  const [minAge, maxAge] = await Promise.all([
    publicClient.readContract({ address: registry, abi: didRegistryAbi, functionName: 'minCommitmentAge' }),
    publicClient.readContract({ address: registry, abi: didRegistryAbi, functionName: 'maxCommitmentAge' }),
  ]);
  return { minAge: Number(minAge), maxAge: Number(maxAge) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The custom error name of a reverted contract call, if that is what `error` is. */
export function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
}

/**
 * Runs `reveal` once the commitments mined in the block with timestamp `committedAt` are `minAge` old:
 * waits until then by the wall clock (the reveal's block cannot be older; an automining node mines it at the
 * current time), then retries once a second while the node still answers `CommitmentTooNew` (a late block),
 * at most `minAge + 30` times.
 */
export async function revealWhenUsable<T>(
  publicClient: PublicClient,
  committedAt: bigint,
  minAge: number,
  reveal: () => Promise<T>,
): Promise<T> {
  const latest = (await publicClient.getBlock()).timestamp;
  const remaining = Number(committedAt) + minAge - Number(latest);
  if (remaining > 0) await sleep(remaining * 1000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await reveal();
    } catch (error) {
      if (revertName(error) !== 'CommitmentTooNew' || attempt >= minAge + 30) throw error;
      await sleep(1000);
    }
  }
}

/**
 * Registers `name` to the wallet's account and adds `keys` to it, through the commit–reveal: one commitment
 * per name and key (sent together), one wait of the registry's minimum age, then `register` and the
 * `addKey`s. Waits for every transaction; throws naming the step whose transaction reverted.
 */
export async function registerDidWithKeys(
  walletClient: WalletClient<Transport, Chain, Account>,
  publicClient: PublicClient,
  registry: Address,
  name: string,
  keys: readonly DidKeyToAdd[] = [],
): Promise<{ did: bigint; register: TransactionReceipt; keys: TransactionReceipt[] }> {
  const owner = walletClient.account.address;
  const did = didId(name);
  const secret = commitmentSecret();
  const commitments = [
    registerCommitment(name, owner, secret),
    ...keys.map((k) => keyCommitment(did, k.key, k.keyType, owner)),
  ];
  const { minAge } = await commitmentAges(publicClient, registry);
  const confirm = async (hash: Hex, what: string) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`${what}: transaction ${hash} reverted`);
    return receipt;
  };
  let nonce = await publicClient.getTransactionCount({ address: owner, blockTag: 'pending' });
  const commitHashes: Hex[] = [];
  for (const commitment of commitments) {
    commitHashes.push(
      await walletClient.writeContract({
        address: registry,
        abi: didRegistryAbi,
        functionName: 'commit',
        args: [commitment],
        nonce: nonce++,
      }),
    );
  }
  let committedAt = 0n;
  for (const hash of commitHashes) {
    const receipt = await confirm(hash, `DID commit for ${name}`);
    const block = await publicClient.getBlock({ blockNumber: receipt.blockNumber });
    if (block.timestamp > committedAt) committedAt = block.timestamp;
  }
  const register = await revealWhenUsable(publicClient, committedAt, minAge, async () =>
    confirm(
      await walletClient.writeContract({
        address: registry,
        abi: didRegistryAbi,
        functionName: 'register',
        args: [name, secret],
      }),
      `DID register ${name}`,
    ),
  );
  nonce = await publicClient.getTransactionCount({ address: owner, blockTag: 'pending' });
  const keyHashes: Hex[] = [];
  for (const k of keys) {
    keyHashes.push(
      await walletClient.writeContract({
        address: registry,
        abi: didRegistryAbi,
        functionName: 'addKey',
        args: [did, k.key, k.keyType, k.metadata ?? '0x'],
        nonce: nonce++,
      }),
    );
  }
  const keyReceipts: TransactionReceipt[] = [];
  for (const hash of keyHashes) keyReceipts.push(await confirm(hash, `DID addKey to ${name}`));
  return { did, register, keys: keyReceipts };
}
