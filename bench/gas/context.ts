/**
 * Shared set-up for the gas benchmark suites: a fresh anvil with the protocol deployed exactly as
 * script/Deploy.s.sol deploys it, viem clients, and helpers to fund accounts and read receipts.
 */
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseEther,
  keccak256,
  toBytes,
  type Hex,
  type PublicClient,
  type TestClient,
} from 'viem';
import { privateKeyToAccount, type HDAccount, type PrivateKeyAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilHandle } from '../../keepers/src/dev/anvil.js';
import { deployProtocol } from '../../keepers/src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../../keepers/src/devnet/devAccounts.js';
import type { AddressBook } from '../../keepers/src/chain/addressBook.js';
import { sendTokenAbi } from '../../keepers/src/generated/contracts.js';

export interface GasResult {
  /** receipt gasUsed of the measured transaction */
  gas: number;
  /** the figure to meet, when the issue gives one */
  target?: number;
  /** what exactly was measured */
  note: string;
}

export type GasSuite = (ctx: BenchContext) => Promise<Record<string, GasResult>>;

export type Signer = PrivateKeyAccount | HDAccount;

export interface BenchContext {
  anvil: AnvilHandle;
  book: AddressBook;
  publicClient: PublicClient;
  testClient: TestClient;
  wallet(account: Signer): ReturnType<typeof createWalletClient<ReturnType<typeof http>, typeof foundry, Signer>>;
  /** Waits for the receipt; throws if the transaction reverted. */
  gasOf(hash: Hex): Promise<number>;
  /** A fresh account with 10 ETH and `send` SEND from the treasury. */
  fundedAccount(send: bigint): Promise<PrivateKeyAccount>;
  /** A deterministic key for `label`, so every run sends the same calldata and measures the same gas. */
  keyFor(label: string): Hex;
  log(message: string): void;
}

export async function createBenchContext(): Promise<BenchContext> {
  const anvil = await startAnvil();
  try {
    const { book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) });
    const transport = http(anvil.rpcUrl);
    const publicClient = createPublicClient({ chain: foundry, transport }) as PublicClient;
    const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport }) as unknown as TestClient;
    const wallet = (account: Signer) => createWalletClient({ chain: foundry, transport, account });
    const gasOf = async (hash: Hex) => {
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
      return Number(receipt.gasUsed);
    };
    const treasury = wallet(devAccount(1));
    const keyFor = (label: string) => keccak256(toBytes(`sendingnetwork bench: ${label}`));
    let accounts = 0;
    const fundedAccount = async (send: bigint) => {
      const account = privateKeyToAccount(keyFor(`account ${accounts++}`));
      await testClient.setBalance({ address: account.address, value: parseEther('10') });
      if (send > 0n) {
        await gasOf(
          await treasury.writeContract({
            address: book.contracts.SendToken,
            abi: sendTokenAbi,
            functionName: 'transfer',
            args: [account.address, send],
          }),
        );
      }
      return account;
    };
    const log = (message: string) => process.stderr.write(`[bench:gas] ${message}\n`);
    return { anvil, book, publicClient, testClient, wallet, gasOf, fundedAccount, keyFor, log };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}
