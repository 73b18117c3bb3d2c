/**
 * A burst of node registrations for the indexing benchmark: node keys and their EIP-712 consents are made
 * in TypeScript, and script/dev/BulkNodeRegistrar.sol registers them (as their operator) many per
 * transaction; the transactions are sent with automine off and mined in a few large blocks.
 */
import {
  encodeFunctionData,
  keccak256,
  numberToHex,
  toHex,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { loadArtifact } from '../../keepers/src/devnet/artifacts.js';
import { signNodeKeyConsent } from '../../keepers/src/chain/nodeRegistration.js';
import { sendTokenAbi } from '../../keepers/src/generated/contracts.js';

/** Deterministic node keys: keccak256("bench-node-" + i) (all valid secp256k1 scalars in practice). */
export function benchNodeKey(i: number): PrivateKeyAccount {
  return privateKeyToAccount(keccak256(toHex(`bench-node-${i}`)));
}

interface RpcResponse {
  id: number;
  result?: unknown;
  error?: { message: string };
}

/** One batched JSON-RPC request; throws on the first error. */
export async function rpcBatch(rpcUrl: string, calls: { method: string; params: unknown[] }[]): Promise<unknown[]> {
  const body = calls.map((c, id) => ({ jsonrpc: '2.0', id, method: c.method, params: c.params }));
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const results = (await response.json()) as RpcResponse[];
  const byId = new Map(results.map((r) => [r.id, r]));
  return calls.map((c, id) => {
    const r = byId.get(id);
    if (!r || r.error) throw new Error(`${c.method} failed: ${r?.error?.message ?? 'no response'}`);
    return r.result;
  });
}

export interface BurstResult {
  registrations: number;
  transactions: number;
  blocks: number;
  firstBlock: bigint;
  lastBlock: bigint;
  signMs: number;
  sendMs: number;
  mineMs: number;
  /** Wall-clock time when the first burst block was mined. */
  firstMinedAt: number;
  /** Wall-clock time when the last burst block was mined. */
  lastMinedAt: number;
}

export interface BurstParams {
  registrar: Address;
  chainId: number;
  staking: Address;
  /** Unlocked anvil account that sends the transactions. */
  sender: Address;
  from: number;
  count: number;
  stake: bigint;
  /** Registrations per registerMany transaction. */
  perTransaction: number;
  gasPerTransaction: bigint;
}

/** Deploys script/dev/BulkNodeRegistrar.sol from `deployer` and funds it with `stake` SEND per node. */
export async function deployRegistrar(
  deployer: WalletClient<Transport, Chain, Account>,
  publicClient: PublicClient,
  params: { staking: Address; token: Address; fund: bigint },
): Promise<Address> {
  const artifact = loadArtifact('BulkNodeRegistrar.sol', 'BulkNodeRegistrar');
  const hash = await deployer.deployContract({
    abi: artifact.abi,
    bytecode: artifact.bytecode,
    args: [params.staking],
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error('BulkNodeRegistrar deployment failed');
  const fund = await deployer.writeContract({
    address: params.token,
    abi: sendTokenAbi,
    functionName: 'transfer',
    args: [receipt.contractAddress, params.fund],
  });
  await publicClient.waitForTransactionReceipt({ hash: fund });
  return receipt.contractAddress;
}

/**
 * Registers nodes `from .. from+count-1` through the registrar: consents signed in TypeScript for operator
 * = the registrar, `registerMany` transactions sent with automine off, then mined in as few blocks as the
 * gas limit allows. Leaves automine on afterwards.
 */
export async function registrationBurst(
  rpcUrl: string,
  publicClient: PublicClient,
  params: BurstParams,
): Promise<BurstResult> {
  const signStart = Date.now();
  const calls: Hex[] = [];
  for (let i = params.from; i < params.from + params.count; i += params.perTransaction) {
    const keys: Address[] = [];
    const consents: Hex[] = [];
    const endpoints: string[] = [];
    for (let j = i; j < Math.min(i + params.perTransaction, params.from + params.count); j++) {
      const key = benchNodeKey(j);
      keys.push(key.address);
      consents.push(await signNodeKeyConsent(key, params.registrar, params.chainId, params.staking));
      endpoints.push(`ws://bench-${j}.devnet:7000`);
    }
    calls.push(
      encodeFunctionData({
        abi: REGISTRAR_ABI,
        functionName: 'registerMany',
        args: [keys, consents, endpoints, params.stake],
      }),
    );
  }
  const signMs = Date.now() - signStart;

  await rpcBatch(rpcUrl, [{ method: 'evm_setAutomine', params: [false] }]);
  const sendStart = Date.now();
  let nonce = await publicClient.getTransactionCount({ address: params.sender, blockTag: 'pending' });
  const fees = await publicClient.estimateFeesPerGas();
  const PER_REQUEST = 8; // ~50 KB of calldata each: keep JSON-RPC bodies well under anvil's request limit
  for (let i = 0; i < calls.length; i += PER_REQUEST) {
    await rpcBatch(
      rpcUrl,
      calls.slice(i, i + PER_REQUEST).map((data) => ({
        method: 'eth_sendTransaction',
        params: [
          {
            from: params.sender,
            to: params.registrar,
            data,
            gas: numberToHex(params.gasPerTransaction),
            maxFeePerGas: numberToHex(fees.maxFeePerGas * 2n),
            maxPriorityFeePerGas: numberToHex(fees.maxPriorityFeePerGas),
            nonce: numberToHex(nonce++),
          },
        ],
      })),
    );
  }
  const sendMs = Date.now() - sendStart;

  const mineStart = Date.now();
  const before = await publicClient.getBlockNumber({ cacheTime: 0 });
  let firstMinedAt = 0;
  let blocks = 0;
  try {
    for (;;) {
      await rpcBatch(rpcUrl, [{ method: 'evm_mine', params: [] }]);
      blocks++;
      if (!firstMinedAt) firstMinedAt = Date.now();
      const [status] = (await rpcBatch(rpcUrl, [{ method: 'txpool_status', params: [] }])) as { pending: Hex }[];
      if (BigInt(status!.pending) === 0n) break;
      if (blocks > calls.length) throw new Error('the burst did not drain from the transaction pool');
    }
  } finally {
    await rpcBatch(rpcUrl, [{ method: 'evm_setAutomine', params: [true] }]);
  }
  const lastMinedAt = Date.now();
  const lastBlock = await publicClient.getBlockNumber({ cacheTime: 0 });
  return {
    registrations: params.count,
    transactions: calls.length,
    blocks,
    firstBlock: before + 1n,
    lastBlock,
    signMs,
    sendMs,
    mineMs: lastMinedAt - mineStart,
    firstMinedAt,
    lastMinedAt,
  };
}

const REGISTRAR_ABI = [
  {
    type: 'function',
    name: 'registerMany',
    stateMutability: 'nonpayable',
    inputs: [
      { name: 'nodeKeys', type: 'address[]' },
      { name: 'consents', type: 'bytes[]' },
      { name: 'endpoints', type: 'string[]' },
      { name: 'stake', type: 'uint96' },
    ],
    outputs: [],
  },
] as const;
