/**
 * The guardian's record of the commitments it attested (docs/keepers.md §6): per epoch an append-only
 * JSON-lines file `commitments/<epoch>.jsonl` in its data directory, one line per accepted commitment,
 * fsynced before the attestation leaves the process, so a restarted guardian still serves them and still
 * requires them in the epoch's dataset. At most `perNode` (2) distinct commitments per (epoch, node): the
 * second is equivocation evidence, a third is refused. Files of epochs older than the newest one minus
 * `retainEpochs` are deleted.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { epochCommitmentWire } from '../core/datasetSchema.js';
import { addressWire, ecdsaSignatureWire } from '../core/wire.js';
import { attestationWire } from '../core/attestation.js';
import { SendnetError } from '../core/errors.js';
import { EpochJournal } from './epochJournal.js';

/** One attested commitment: the node's signed commitment (wire form) and this guardian's attestation. */
export const attestedCommitmentSchema = z.object({
  commitment: epochCommitmentWire,
  signature: ecdsaSignatureWire,
  nodeKey: addressWire,
  attestation: attestationWire,
  /** Unix ms at which the guardian accepted it. */
  receivedAtMs: z.number().int().nonnegative(),
});
export type AttestedCommitment = z.infer<typeof attestedCommitmentSchema>;

export class CommitmentStoreError extends SendnetError {
  override name = 'CommitmentStoreError';
  override readonly code = 'commitment-store';
}

/** The identity of a commitment's content (a repeat of the same signed commitment is not a new one). */
const contentKey = (c: AttestedCommitment['commitment']) => `${c.root}:${c.totalUnits}:${c.leafCount}`;

export class CommitmentStore {
  private readonly journal: EpochJournal<AttestedCommitment>;

  constructor(
    dataDir: string,
    retainEpochs = 16,
    private readonly perNode = 2,
  ) {
    this.journal = new EpochJournal(
      join(dataDir, 'commitments'),
      attestedCommitmentSchema,
      retainEpochs,
      (message) => new CommitmentStoreError(message),
    );
  }

  /** Every commitment attested for `epoch`, in the order accepted. */
  list(epoch: number): AttestedCommitment[] {
    return this.journal.list(epoch);
  }

  /** The stored entry with the same node and content, if any. */
  find(epoch: number, nodeKey: string, commitment: AttestedCommitment['commitment']): AttestedCommitment | undefined {
    const key = contentKey(commitment);
    return this.list(epoch).find((e) => e.nodeKey === nodeKey && contentKey(e.commitment) === key);
  }

  /** Distinct commitments stored for (epoch, node). */
  countFor(epoch: number, nodeKey: string): number {
    return this.list(epoch).filter((e) => e.nodeKey === nodeKey).length;
  }

  get full(): number {
    return this.perNode;
  }

  /** Appends `entry` durably (the caller checked it is new and under the per-node bound). */
  add(entry: AttestedCommitment): void {
    this.journal.append(entry.commitment.epoch, entry);
  }
}
