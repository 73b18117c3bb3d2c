/**
 * Sending the keeper's transactions exactly once, across crashes and several keeper processes.
 *
 * `TxSender.sendOnce(name, call, isDone)`:
 *   1. A record for `name` exists (a transaction signed earlier): its receipt decides. Mined → return it
 *      (reverted and `isDone()` false → forget it and start over). Not mined and its nonce still unused →
 *      broadcast the same signed bytes again (same hash) and wait. Nonce used by another transaction →
 *      the record is dead; forget it.
 *   2. `isDone()` (e.g. `epochStatus(e) != None`) → nothing to send.
 *   3. Under a Redis lock per sender address (so processes sharing a key never race for a nonce):
 *      simulate (a revert throws with the contract's error name), sign locally, store
 *      `{hash, raw, nonce}` in Redis, then broadcast. The hash is in Redis before the transaction can
 *      exist anywhere, so a keeper killed at any point finds it on restart.
 *   4. Wait for the receipt.
 */
import {
  encodeFunctionData,
  keccak256,
  type Abi,
  type Address,
  type Chain,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
  TransactionReceiptNotFoundError,
} from 'viem';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { failpoint } from '../infra/failpoints.js';
import { log as rootLog } from '../infra/log.js';
import { SendnetError } from '../core/errors.js';

export class TxError extends SendnetError {
  override name = 'TxError';
  override readonly code = 'tx';
}

interface TxRecord {
  hash: Hex;
  raw: Hex;
  nonce: number;
  to: Address;
  functionName: string;
  createdAt: string;
}

export interface ContractCall {
  address: Address;
  abi: Abi;
  functionName: string;
  args?: readonly unknown[];
}

export type SendOutcome =
  | { status: 'mined'; hash: Hex; receipt: TransactionReceipt; sentByUs: true }
  | { status: 'done-elsewhere' };

export interface TxSenderOptions {
  client: PublicClient;
  account: LocalAccount;
  chain: Chain;
  redis: Redis;
  /** Redis key prefix (the pipeline store's). */
  prefix: string;
  log?: Logger;
  /** How long to wait for a receipt before the job's attempt fails (default 60 s). */
  receiptTimeoutMs?: number;
  /** Poll interval for receipts (default 250 ms). */
  pollingIntervalMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TxSender {
  private readonly log: Logger;

  constructor(private readonly options: TxSenderOptions) {
    this.log = options.log ?? rootLog;
  }

  get address(): Address {
    return this.options.account.address;
  }

  private recordKey(name: string): string {
    return `${this.options.prefix}:tx:${name}`;
  }

  /** The stored record of `name`, if any (for status pages and tests). */
  async record(name: string): Promise<TxRecord | null> {
    const raw = await this.options.redis.get(this.recordKey(name));
    return raw === null ? null : (JSON.parse(raw) as TxRecord);
  }

  /** Drops the record of `name` (its effect was not enough; a later `sendOnce` builds a new transaction). */
  async forget(name: string): Promise<void> {
    await this.options.redis.del(this.recordKey(name));
  }

  private async receipt(hash: Hex): Promise<TransactionReceipt | null> {
    try {
      return await this.options.client.getTransactionReceipt({ hash });
    } catch (error) {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    }
  }

  private async waitReceipt(hash: Hex): Promise<TransactionReceipt> {
    return this.options.client.waitForTransactionReceipt({
      hash,
      timeout: this.options.receiptTimeoutMs ?? 60_000,
      pollingInterval: this.options.pollingIntervalMs ?? 250,
    });
  }

  private async broadcast(raw: Hex): Promise<void> {
    try {
      await this.options.client.sendRawTransaction({ serializedTransaction: raw });
    } catch (error) {
      const message = (error as Error).message;
      // Re-broadcasting a transaction the node already has is fine.
      if (/already known|already imported|known transaction|nonce too low/i.test(message)) return;
      throw error;
    }
  }

  /** Runs `fn` holding the per-address send lock (so nonces are assigned one at a time). */
  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const key = `${this.options.prefix}:lock:sender:${this.address.toLowerCase()}`;
    const token = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    const deadline = Date.now() + 60_000;
    while ((await this.options.redis.set(key, token, 'PX', 10_000, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new TxError(`sender lock ${key} held for over 60 s`);
      await sleep(50);
    }
    try {
      return await fn();
    } finally {
      // Release only our own lock.
      await this.options.redis.eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
        1,
        key,
        token,
      );
    }
  }

  /** See the module comment. `isDone` must answer true once the call's effect is on-chain. */
  async sendOnce(name: string, call: ContractCall, isDone: () => Promise<boolean>): Promise<SendOutcome> {
    const { client, account, chain, redis } = this.options;
    const key = this.recordKey(name);
    for (let round = 0; round < 3; round++) {
      const existing = await this.record(name);
      if (existing) {
        let receipt = await this.receipt(existing.hash);
        if (!receipt) {
          const used = await client.getTransactionCount({ address: account.address, blockTag: 'latest' });
          if (used <= existing.nonce) {
            this.log.info(
              { name, hash: existing.hash },
              'transaction signed earlier is not mined: broadcasting it again',
            );
            await this.broadcast(existing.raw);
            receipt = await this.waitReceipt(existing.hash);
          } else {
            receipt = await this.receipt(existing.hash); // mined between the two reads?
            if (!receipt) {
              this.log.warn(
                { name, hash: existing.hash, nonce: existing.nonce },
                'nonce used by another transaction: forgetting the stored one',
              );
              await redis.del(key);
              continue;
            }
          }
        }
        if (receipt.status === 'success') return { status: 'mined', hash: existing.hash, receipt, sentByUs: true };
        if (await isDone()) return { status: 'done-elsewhere' };
        this.log.warn({ name, hash: existing.hash }, 'stored transaction reverted: building a new one');
        await redis.del(key);
        continue;
      }
      if (await isDone()) return { status: 'done-elsewhere' };
      const hash = await this.withLock(async () => {
        // Simulation first: a revert throws here with the contract's error, and nothing is stored.
        await client.simulateContract({ ...call, account } as Parameters<PublicClient['simulateContract']>[0]);
        const data = encodeFunctionData({ abi: call.abi, functionName: call.functionName, args: call.args ?? [] });
        const nonce = await client.getTransactionCount({ address: account.address, blockTag: 'pending' });
        const request = await client.prepareTransactionRequest({ account, chain, to: call.address, data, nonce });
        const raw = await account.signTransaction(request as Parameters<LocalAccount['signTransaction']>[0]);
        const txHash = keccak256(raw);
        const record: TxRecord = {
          hash: txHash,
          raw,
          nonce,
          to: call.address,
          functionName: call.functionName,
          createdAt: new Date().toISOString(),
        };
        await redis.set(key, JSON.stringify(record));
        failpoint(`tx-stored:${name}`);
        await this.broadcast(raw);
        failpoint(`tx-sent:${name}`);
        this.log.info({ name, hash: txHash, nonce }, `sent ${call.functionName}`);
        return txHash;
      });
      const receipt = await this.waitReceipt(hash);
      if (receipt.status === 'success') return { status: 'mined', hash, receipt, sentByUs: true };
      if (await isDone()) return { status: 'done-elsewhere' };
      this.log.warn({ name, hash }, 'transaction reverted after a successful simulation: retrying');
      await redis.del(key);
    }
    throw new TxError(`could not get ${name} (${call.functionName}) mined after 3 rounds`);
  }
}
