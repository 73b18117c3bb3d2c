/**
 * An edge node's epoch ledger: the receipts acked in each epoch, the commitment it signs once the epoch
 * is over (Merkle-sum tree over the receipts sorted by ticketHash, docs/keepers.md §3), and the openings
 * it answers afterwards. Receipts and commitments are persisted (RelayStore), so a restarted node still
 * opens what it committed; trees are rebuilt from the stored receipts on demand.
 *
 * Misbehaviour for the devnet and tests: `inflateUnits` adds forged receipts (tickets and acks with
 * signatures nobody made) worth that fraction of the real total before committing; `equivocate` signs a
 * second, different commitment that `commitmentFor` hands to every other caller.
 */
import { randomBytes } from 'node:crypto';
import { bytesToHex, type Address, type Hex, type TypedDataDomain } from 'viem';
import { z } from 'zod';
import { keccak } from '../core/merkle.js';
import { receiptLeafHash, receiptSchema, ticketHash, MAX_TICKET_UNITS, type Receipt } from '../core/relay.js';
import { buildSumTree, type SumTree } from '../core/sumTree.js';
import {
  signCommitment,
  signedCommitmentSchema,
  signedCommitmentToWire,
  type EpochCommitment,
  type SecpSigner,
  type SignedCommitment,
} from '../core/commitment.js';
import { openingToWire } from '../core/sampling.js';
import { epochOfKey, storeKeys, type RelayStore, type StoreOp } from './store.js';
import { SendnetError } from '../core/errors.js';

/** A receipt with its leaf hash (computed once, when the ack arrives). */
export interface LedgerEntry {
  ticketHash: Hex;
  leafHash: Hex;
  receipt: Receipt;
}

const storedReceiptSchema = z.object({ receipt: receiptSchema, leafHash: z.string().optional() });
const storedCommitmentSchema = z.object({ commitments: z.array(signedCommitmentSchema).min(1).max(2) });

export interface Committed {
  epoch: number;
  commitments: SignedCommitment[];
  wire: ReturnType<typeof signedCommitmentToWire>[];
}

export class OpeningIndexError extends SendnetError {
  override name = 'OpeningIndexError';
  override readonly code = 'opening-index';
}

export interface LedgerOptions {
  store: RelayStore;
  nodeKey: Address;
  signer: SecpSigner;
  domain: TypedDataDomain;
  inflateUnits?: number;
  equivocate?: boolean;
}

/**
 * Forged receipts worth round(realUnits × factor) units, cloned from real receipts' parties with a fresh
 * envelope id and random signatures: what a node inflating its volume would have to invent. Pure apart
 * from the randomness; empty when there is nothing real to clone or the factor is 0.
 */
export function forgeReceipts(real: readonly Receipt[], factor: number): Receipt[] {
  if (!(factor > 0) || real.length === 0) return [];
  const realUnits = real.reduce((sum, r) => sum + r.ticket.units, 0);
  let remaining = Math.round(realUnits * factor);
  const forged: Receipt[] = [];
  for (let i = 0; remaining > 0; i++) {
    const model = real[i % real.length]!;
    const units = Math.min(remaining, MAX_TICKET_UNITS);
    remaining -= units;
    const ticketFields = { ...model.ticket, envelopeId: bytesToHex(randomBytes(32)), units };
    const ticket = { ...ticketFields, sig: bytesToHex(randomBytes(64)) };
    const ackFields = { ...model.ack, ticketHash: ticketHash(ticketFields) };
    forged.push({ ticket, ack: { ...ackFields, sig: bytesToHex(randomBytes(64)) } });
  }
  return forged;
}

export class EpochLedger {
  private readonly open = new Map<number, Map<Hex, LedgerEntry>>();
  private readonly committed = new Map<number, Committed>();
  private readonly trees = new Map<
    number,
    { tree: SumTree; entries: LedgerEntry[]; byEnvelope: Map<string, number> }
  >();
  private serveCount = 0;

  constructor(private readonly options: LedgerOptions) {}

  /** Loads committed epochs and the receipts of epochs ≥ `fromEpoch` from the store. */
  async load(fromEpoch: number): Promise<void> {
    for (const [key, value] of await this.options.store.scan('c!')) {
      const epoch = epochOfKey(key);
      if (epoch < fromEpoch) continue;
      const parsed = storedCommitmentSchema.parse(JSON.parse(value));
      this.committed.set(epoch, {
        epoch,
        commitments: parsed.commitments,
        wire: parsed.commitments.map(signedCommitmentToWire),
      });
    }
    for (const [key, value] of await this.options.store.scan('r!')) {
      const epoch = epochOfKey(key);
      if (epoch < fromEpoch) continue;
      const { receipt } = storedReceiptSchema.parse(JSON.parse(value));
      this.entriesOf(epoch).set(ticketHash(receipt.ticket), entryOf(receipt));
    }
  }

  /** Envelope ids (with their epochs) of the receipts held for epochs ≥ `fromEpoch`. */
  *envelopeIds(fromEpoch: number): Generator<[Hex, number]> {
    for (const [epoch, entries] of this.open) {
      if (epoch < fromEpoch) continue;
      for (const entry of entries.values()) yield [entry.receipt.ticket.envelopeId, epoch];
    }
  }

  isCommitted(epoch: number): boolean {
    return this.committed.has(epoch);
  }

  hasReceipt(epoch: number, th: Hex): boolean {
    return this.open.get(epoch)?.has(th) ?? false;
  }

  receiptCount(epoch: number): number {
    return this.open.get(epoch)?.size ?? 0;
  }

  /** Records an acked receipt for its ticket's epoch; false (unpaid) if that epoch is committed already. */
  record(th: Hex, receipt: Receipt, leafHash: Hex): { paid: boolean; ops: StoreOp[] } {
    const epoch = receipt.ticket.epoch;
    if (this.committed.has(epoch)) return { paid: false, ops: [] };
    this.entriesOf(epoch).set(th, { ticketHash: th, leafHash, receipt });
    return {
      paid: true,
      ops: [{ type: 'put', key: storeKeys.receipt(epoch, th), value: () => JSON.stringify({ receipt, leafHash }) }],
    };
  }

  private entriesOf(epoch: number): Map<Hex, LedgerEntry> {
    let entries = this.open.get(epoch);
    if (!entries) {
      entries = new Map();
      this.open.set(epoch, entries);
    }
    return entries;
  }

  /** Builds the tree (forged receipts included if inflating), signs and persists the commitment(s). */
  async commit(epoch: number): Promise<Committed> {
    const existing = this.committed.get(epoch);
    if (existing) return existing;
    const { store, signer, domain, nodeKey } = this.options;
    const entries = this.entriesOf(epoch);
    const forged = forgeReceipts(
      [...entries.values()].map((e) => e.receipt),
      this.options.inflateUnits ?? 0,
    );
    const ops: { type: 'put'; key: string; value: string }[] = [];
    for (const receipt of forged) {
      const th = ticketHash(receipt.ticket);
      const entry = entryOf(receipt);
      entries.set(th, entry);
      ops.push({
        type: 'put',
        key: storeKeys.receipt(epoch, th),
        value: JSON.stringify({ receipt, leafHash: entry.leafHash }),
      });
    }
    const { tree } = this.treeOf(epoch);
    const honest: EpochCommitment = {
      epoch,
      root: tree.root,
      totalUnits: tree.totalUnits,
      leafCount: BigInt(tree.leafCount),
    };
    const versions = [honest];
    if (this.options.equivocate) {
      versions.push({ ...honest, root: bytesToHex(keccak(new TextEncoder().encode(`SN-EQUIVOCATE|${tree.root}`))) });
    }
    const commitments: SignedCommitment[] = [];
    for (const c of versions)
      commitments.push({ commitment: c, signature: await signCommitment(signer, domain, c), nodeKey });
    const wire = commitments.map(signedCommitmentToWire);
    ops.push({ type: 'put', key: storeKeys.commitment(epoch), value: JSON.stringify({ commitments: wire }) });
    await store.write(ops);
    const done: Committed = { epoch, commitments, wire };
    this.committed.set(epoch, done);
    return done;
  }

  /** The signed commitment in wire form; an equivocating node alternates between its two versions. */
  commitmentFor(epoch: number): ReturnType<typeof signedCommitmentToWire> | undefined {
    const c = this.committed.get(epoch);
    if (!c) return undefined;
    if (c.wire.length === 1) return c.wire[0];
    return c.wire[this.serveCount++ % c.wire.length];
  }

  committedEpoch(epoch: number): Committed | undefined {
    return this.committed.get(epoch);
  }

  private treeOf(epoch: number): { tree: SumTree; entries: LedgerEntry[]; byEnvelope: Map<string, number> } {
    let cached = this.trees.get(epoch);
    if (!cached) {
      const entries = [...this.entriesOf(epoch).values()].sort((a, b) =>
        a.ticketHash < b.ticketHash ? -1 : a.ticketHash > b.ticketHash ? 1 : 0,
      );
      const tree = buildSumTree(entries.map((e) => ({ hash: e.leafHash, units: BigInt(e.receipt.ticket.units) })));
      const byEnvelope = new Map(entries.map((e, index) => [e.receipt.ticket.envelopeId.toLowerCase(), index]));
      cached = { tree, entries, byEnvelope };
      this.trees.set(epoch, cached);
    }
    return cached;
  }

  /**
   * Openings of a committed epoch's leaves (docs/keepers.md §3), by leaf index, by envelope id (ids not in the tree omitted) or by sample target (the leaf
   * whose unit interval contains it); throws OpeningIndexError for an index or target out of range.
   */
  openings(
    epoch: number,
    request: { indices: readonly number[] } | { targets: readonly bigint[] } | { envelopeIds: readonly string[] },
  ) {
    if (!this.committed.has(epoch)) throw new Error(`epoch ${epoch} is not committed`);
    const { tree, entries, byEnvelope } = this.treeOf(epoch);
    const indices =
      'indices' in request
        ? request.indices
        : 'envelopeIds' in request
          ? request.envelopeIds.flatMap((id) => {
              const index = byEnvelope.get(id.toLowerCase());
              return index === undefined ? [] : [index];
            })
          : request.targets.map((target) => {
              if (target >= tree.totalUnits) {
                throw new OpeningIndexError(
                  `target ${target} out of range: epoch ${epoch} has ${tree.totalUnits} units`,
                );
              }
              return tree.findLeafForTarget(target);
            });
    return indices.map((index) => {
      if (index >= tree.leafCount)
        throw new OpeningIndexError(`leaf index ${index} out of range: epoch ${epoch} has ${tree.leafCount} leaves`);
      return openingToWire(tree, index, entries[index]!.receipt);
    });
  }

  /** Forgets epochs below `epoch` (the store prunes its own keys). */
  forgetBefore(epoch: number): void {
    for (const map of [this.open, this.committed, this.trees] as Map<number, unknown>[]) {
      for (const e of [...map.keys()]) if (e < epoch) map.delete(e);
    }
  }
}

function entryOf(receipt: Receipt): LedgerEntry {
  return { ticketHash: ticketHash(receipt.ticket), leafHash: receiptLeafHash(receipt), receipt };
}
