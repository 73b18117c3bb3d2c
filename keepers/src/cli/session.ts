/**
 * One CLI invocation's connection to the world, built lazily from the global options: the RPC client and
 * its chain id, the address book (checked against that chain id and against the code deployed there),
 * the signer, and `send`, which simulates a contract call (so reverts are decoded before anything is
 * signed), sends it and waits for the receipt.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Abi,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hash,
  type PublicClient,
  type ReadContractParameters,
  type ReadContractReturnType,
  type TransactionReceipt,
} from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import { repoRoot } from '../dev/foundry.js';
import { AddressBookError, loadAddressBook, type AddressBook } from '../chain/addressBook.js';
import { describeError, revertOf } from './describeError.js';
import { NetworkError, RejectedError, CliError } from './errors.js';
import { Output } from './output.js';
import { withAllErrors, type RevertContext } from './reverts.js';
import { loadSigner } from './signer.js';

export const DEFAULT_RPC = 'http://127.0.0.1:8545';

/** The global options every command sees (commander `optsWithGlobals()`). */
export interface GlobalOptions {
  rpc: string;
  deployments?: string;
  graphql?: string;
  privateKeyEnv?: string;
  keystore?: string;
  json?: boolean;
}

/** A contract write: what `Session.send` simulates and sends. */
export interface ContractCall {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  value?: bigint;
}

export class Session {
  readonly out: Output;
  private client?: PublicClient;
  private chainIdPromise?: Promise<number>;
  private bookPromise?: Promise<{ book: AddressBook; path: string }>;
  private signerPromise?: Promise<PrivateKeyAccount>;
  private blockTagPromise?: Promise<'pending' | 'latest'>;

  constructor(
    readonly options: GlobalOptions,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.out = new Output(Boolean(options.json));
  }

  get rpcUrl(): string {
    return this.options.rpc;
  }

  publicClient(): PublicClient {
    this.client ??= createPublicClient({
      transport: http(this.rpcUrl, { retryCount: 1, timeout: 15_000 }),
    }) as PublicClient;
    return this.client;
  }

  /** The RPC's chain id; "cannot reach the RPC" if it does not answer. */
  chainId(): Promise<number> {
    this.chainIdPromise ??= this.publicClient()
      .getChainId()
      .catch(() => {
        throw new NetworkError(
          `Cannot reach the RPC at ${this.rpcUrl}: check that the node is running and --rpc (or SENDNET_RPC) is right.`,
          'RpcUnreachable',
        );
      });
    return this.chainIdPromise;
  }

  async chain(): Promise<Chain> {
    const id = await this.chainId();
    return defineChain({
      id,
      name: `chain ${id}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [this.rpcUrl] } },
    });
  }

  /** `--deployments`, else `deployments/<chainId>.json` in the working directory, else in the repository. */
  private async bookPath(): Promise<string> {
    if (this.options.deployments) return resolve(this.options.deployments);
    const chainId = await this.chainId();
    const local = resolve('deployments', `${chainId}.json`);
    if (existsSync(local)) return local;
    const inRepo = join(repoRoot, 'deployments', `${chainId}.json`);
    if (existsSync(inRepo)) return inRepo;
    throw new NetworkError(
      `No address book for chain ${chainId}: deployments/${chainId}.json does not exist, so pass --deployments FILE (or set SENDNET_DEPLOYMENTS).`,
      'NoAddressBook',
    );
  }

  /** The address book, checked against the RPC's chain id. */
  book(): Promise<{ book: AddressBook; path: string }> {
    this.bookPromise ??= (async () => {
      const path = await this.bookPath();
      let book: AddressBook;
      try {
        book = loadAddressBook(path);
      } catch (error) {
        if (error instanceof AddressBookError)
          throw new NetworkError(`${error.message.replace(/\.$/, '')}.`, 'BadAddressBook');
        throw error;
      }
      const chainId = await this.chainId();
      if (book.chainId !== chainId) {
        throw new NetworkError(
          `Wrong network: the address book ${path} is for chain ${book.chainId} but the RPC at ${this.rpcUrl} is chain ${chainId}.`,
          'WrongNetwork',
        );
      }
      return { book, path };
    })();
    return this.bookPromise;
  }

  /** The contract `name` of the address book, after checking that code is deployed there. */
  async contract(name: keyof AddressBook['contracts']): Promise<Address> {
    const { book, path } = await this.book();
    const address = book.contracts[name];
    if (!address) {
      // only the points contracts are optional (points mode, docs/points.md)
      throw new NetworkError(
        `The address book ${path} names no ${name} contract (not a points deployment).`,
        'WrongNetwork',
      );
    }
    const code = await this.publicClient().getCode({ address });
    if (!code || code === '0x') {
      throw new NetworkError(
        `Wrong network: there is no ${name} contract at ${address} on chain ${book.chainId}, so the address book ${path} does not match this chain.`,
        'WrongNetwork',
      );
    }
    return address;
  }

  signer(): Promise<PrivateKeyAccount> {
    this.signerPromise ??= loadSigner(
      { privateKeyEnv: this.options.privateKeyEnv, keystore: this.options.keystore },
      this.env,
    );
    return this.signerPromise;
  }

  /**
   * The block reads and simulations run against: `pending` where the RPC supports it (its timestamp is
   * "now", so a sale that opened since the last block reads as open — on an idle devnet the latest block
   * can be minutes old), else `latest`.
   */
  blockTag(): Promise<'pending' | 'latest'> {
    this.blockTagPromise ??= (async () => {
      await this.chainId();
      try {
        const pending = await this.publicClient().getBlock({ blockTag: 'pending' });
        return pending?.timestamp ? 'pending' : 'latest';
      } catch {
        return 'latest';
      }
    })();
    return this.blockTagPromise;
  }

  /** Chain time (unix seconds) of the block calls run against; on a devnet it may differ from the wall clock. */
  async now(): Promise<number> {
    return Number((await this.publicClient().getBlock({ blockTag: await this.blockTag() })).timestamp);
  }

  /**
   * Read-only call at `blockTag()` with every protocol error decodable; typed like viem's `readContract`
   * (the result type follows from the generated ABI and the function name).
   */
  async read<
    const abi extends Abi,
    functionName extends ContractFunctionName<abi, 'pure' | 'view'>,
    const args extends ContractFunctionArgs<abi, 'pure' | 'view', functionName>,
  >(call: ReadContractParameters<abi, functionName, args>): Promise<ReadContractReturnType<abi, functionName, args>> {
    const blockTag = await this.blockTag();
    // Appending the protocol's errors to the ABI hides the call's types from viem: the parameters were
    // checked by this method's signature, and the result has this function's type.
    const withErrors = { ...call, abi: withAllErrors(call.abi), blockTag } as ReadContractParameters;
    return (await this.publicClient().readContract(withErrors)) as ReadContractReturnType<abi, functionName, args>;
  }

  /**
   * Simulates `call` from the signer without sending: null if it would succeed, else the custom error's
   * name and the sentence to throw (other failures are thrown as they are).
   */
  async preflight(call: ContractCall, ctx: RevertContext = {}): Promise<{ errorName: string; error: CliError } | null> {
    const account = await this.signer();
    try {
      await this.publicClient().simulateContract({
        ...call,
        abi: withAllErrors(call.abi),
        account,
        blockTag: await this.blockTag(),
      });
      return null;
    } catch (error) {
      const revert = revertOf(error);
      const described = describeError(error, { ...ctx, now: await this.now().catch(() => undefined) }, this.rpcUrl);
      const cliError = new CliError(described.message, described.exitCode, described.code);
      if (revert && 'errorName' in revert) return { errorName: revert.errorName, error: cliError };
      throw cliError;
    }
  }

  /**
   * Simulates `call` from the signer (a revert becomes its sentence, nothing is signed), sends it and
   * waits for the receipt.
   */
  async send(call: ContractCall, ctx: RevertContext = {}): Promise<TransactionReceipt & { transactionHash: Hash }> {
    const account = await this.signer();
    const chain = await this.chain();
    const client = this.publicClient();
    const abi = withAllErrors(call.abi);
    const blockTag = await this.blockTag();
    try {
      const { request } = await client.simulateContract({ ...call, abi, account, blockTag });
      // estimated against the same block as the simulation, with headroom for state that moves meanwhile
      const gas = await client.estimateContractGas({ ...call, abi, account, blockTag });
      const wallet = createWalletClient({
        account,
        chain,
        transport: http(this.rpcUrl, { retryCount: 1, timeout: 15_000 }),
      });
      const hash = await wallet.writeContract({ ...request, gas: (gas * 12n) / 10n });
      const receipt = await client.waitForTransactionReceipt({ hash, timeout: 120_000 });
      if (receipt.status !== 'success') {
        throw new RejectedError(`The ${call.functionName} transaction ${hash} was mined but reverted.`, 'Reverted');
      }
      return receipt;
    } catch (error) {
      if (error instanceof CliError) throw error;
      let now: number | undefined;
      try {
        now = await this.now();
      } catch {
        now = undefined;
      }
      const described = describeError(error, { ...ctx, now }, this.rpcUrl);
      throw new CliError(described.message, described.exitCode, described.code);
    }
  }
}
