/**
 * The guardian's record of what it signed: epoch → EIP-712 header digest, in a small JSON file in its data
 * directory, written atomically (temp file + rename) before a signature leaves the process. A guardian
 * that restarts still refuses to sign a second, different header for an epoch it signed — unless the chain
 * voided that epoch after the guardian signed (an `EpochsVoided` event covering it in a block after the one
 * recorded at signing, and `epochStatus(epoch) == None` now: `voidedSinceSigned`). Then the new digest
 * replaces the old one, which is kept in the record's `replaced` history.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Address, Hex, PublicClient } from 'viem';
import { epochSettlementAbi } from '../generated/contracts.js';
import { SendnetError } from '../core/errors.js';
import { bytes32Wire } from '../core/wire.js';

const signing = z.object({
  digest: bytes32Wire,
  signedAt: z.string(),
  /** Chain head when it was signed (records written before voided epochs could be re-signed lack it). */
  signedAtBlock: z.number().int().nonnegative().optional(),
});
const recordSchema = signing.extend({
  /** Earlier digests of the epoch, each replaced after the chain voided it. */
  replaced: z.array(signing.extend({ voidedAtBlock: z.number().int().nonnegative() })).optional(),
});
type SignedRecord = z.infer<typeof recordSchema>;
const fileSchema = z.record(z.string().regex(/^[1-9][0-9]*$/), recordSchema);

/** Where a guardian reads the settlement's voidings from. */
export interface SettlementView {
  client: PublicClient;
  settlement: Address;
  /** Deployment block: where event searches start. */
  fromBlock?: bigint;
}

export class SignedEpochsError extends SendnetError {
  override name = 'SignedEpochsError';
  override readonly code = 'signed-epochs';
}

export class SignedEpochs {
  private readonly path: string;
  private records: Map<number, SignedRecord>;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, 'signed-epochs.json');
    this.records = new Map();
    let text: string | undefined;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      let parsed;
      try {
        parsed = fileSchema.parse(JSON.parse(text));
      } catch (error) {
        // Refuse to start rather than forget what was signed.
        throw new SignedEpochsError(`corrupt signed-epochs file ${this.path}: ${(error as Error).message}`);
      }
      for (const [epoch, r] of Object.entries(parsed)) this.records.set(Number(epoch), r);
    }
  }

  get(epoch: number): Hex | undefined {
    return this.records.get(epoch)?.digest as Hex | undefined;
  }

  /** The whole record of `epoch`: current digest and the replaced ones. */
  history(epoch: number): SignedRecord | undefined {
    return this.records.get(epoch);
  }

  /**
   * The block of an `EpochsVoided` event covering `epoch` emitted after the guardian signed its recorded
   * digest (after `signedAtBlock`, or after `signedAt` by block time for older records), provided
   * `epochStatus(epoch)` is None now; null otherwise (nothing recorded, never voided since, or submitted
   * again). Only then may a different header be signed for `epoch`.
   */
  async voidedSinceSigned(epoch: number, view: SettlementView): Promise<number | null> {
    const record = this.records.get(epoch);
    if (!record) return null;
    const status = await view.client.readContract({
      address: view.settlement,
      abi: epochSettlementAbi,
      functionName: 'epochStatus',
      args: [epoch],
    });
    if (status !== 0) return null;
    const fromBlock = record.signedAtBlock === undefined ? (view.fromBlock ?? 0n) : BigInt(record.signedAtBlock) + 1n;
    const head = await view.client.getBlockNumber({ cacheTime: 0 });
    if (fromBlock > head) return null; // nothing happened since it was signed
    const logs = await view.client.getContractEvents({
      address: view.settlement,
      abi: epochSettlementAbi,
      eventName: 'EpochsVoided',
      fromBlock,
      toBlock: head,
      strict: true,
    });
    for (const log of logs.reverse()) {
      if (log.args.fromEpoch > epoch || log.args.toEpoch < epoch) continue;
      if (record.signedAtBlock === undefined) {
        const block = await view.client.getBlock({ blockNumber: log.blockNumber });
        if (Number(block.timestamp) * 1000 <= Date.parse(record.signedAt)) continue;
      }
      return Number(log.blockNumber);
    }
    return null;
  }

  get lastEpoch(): number {
    let last = 0;
    for (const e of this.records.keys()) if (e > last) last = e;
    return last;
  }

  /**
   * Records `digest` for `epoch` with the chain head now; a different recorded digest is replaced only if
   * the chain voided the epoch since it was signed (`voidedSinceSigned`), else SignedEpochsError.
   */
  async recordChecked(epoch: number, digest: Hex, view: SettlementView): Promise<void> {
    const existing = this.get(epoch);
    const voidedAt = existing && existing !== digest ? await this.voidedSinceSigned(epoch, view) : null;
    const head = Number(await view.client.getBlockNumber({ cacheTime: 0 }));
    this.record(epoch, digest, head, voidedAt);
  }

  /**
   * Records `digest` for `epoch` (durably) with the chain head `signedAtBlock`. Throws if a different digest
   * is already recorded, unless `voidedAtBlock` (from `voidedSinceSigned`) says the chain voided the epoch
   * after it was signed: then the old digest moves to the record's history.
   */
  record(epoch: number, digest: Hex, signedAtBlock?: number, voidedAtBlock?: number | null): void {
    const existing = this.records.get(epoch);
    if (existing && existing.digest === digest) return;
    if (existing && (voidedAtBlock === undefined || voidedAtBlock === null))
      throw new SignedEpochsError(`epoch ${epoch} already signed with digest ${existing.digest}`);
    const { replaced = [], ...previous } = existing ?? {};
    const next: SignedRecord = {
      digest,
      signedAt: new Date().toISOString(),
      ...(signedAtBlock === undefined ? {} : { signedAtBlock }),
      ...(existing
        ? { replaced: [...replaced, { ...(previous as SignedRecord), voidedAtBlock: voidedAtBlock! }] }
        : {}),
    };
    this.records.set(epoch, next);
    const out: Record<string, unknown> = {};
    for (const [e, r] of [...this.records.entries()].sort((a, b) => a[0] - b[0])) out[String(e)] = r;
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(out, null, 1));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
