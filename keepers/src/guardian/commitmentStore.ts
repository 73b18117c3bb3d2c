/**
 * The guardian's record of the commitments it attested (docs/keepers.md §6): per epoch an append-only
 * JSON-lines file `commitments/<epoch>.jsonl` in its data directory, one line per accepted commitment,
 * fsynced before the attestation leaves the process, so a restarted guardian still serves them and still
 * requires them in the epoch's dataset. At most `perNode` (2) distinct commitments per (epoch, node): the
 * second is equivocation evidence, a third is refused. Files of epochs older than the newest one minus
 * `retainEpochs` are deleted.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { epochCommitmentWire } from '../core/datasetSchema.js';
import { addressWire, ecdsaSignatureWire } from '../core/wire.js';
import { attestationWire } from '../core/attestation.js';
import { SendnetError } from '../core/errors.js';

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
  private readonly dir: string;
  private readonly epochs = new Map<number, AttestedCommitment[]>();

  constructor(
    dataDir: string,
    private readonly retainEpochs = 16,
    private readonly perNode = 2,
  ) {
    this.dir = join(dataDir, 'commitments');
    mkdirSync(this.dir, { recursive: true });
  }

  private file(epoch: number): string {
    return join(this.dir, `${epoch}.jsonl`);
  }

  /** Every commitment attested for `epoch`, in the order accepted. */
  list(epoch: number): AttestedCommitment[] {
    const cached = this.epochs.get(epoch);
    if (cached) return cached;
    let text = '';
    try {
      text = readFileSync(this.file(epoch), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const entries: AttestedCommitment[] = [];
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      try {
        entries.push(attestedCommitmentSchema.parse(JSON.parse(line)));
      } catch (error) {
        // A torn last line (crash mid-write) was never answered: drop it. Anything else is corruption.
        if (lines.slice(i + 1).every((l) => l.trim() === '')) break;
        throw new CommitmentStoreError(`corrupt ${this.file(epoch)} line ${i + 1}: ${(error as Error).message}`);
      }
    }
    this.epochs.set(epoch, entries);
    return entries;
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
    const epoch = entry.commitment.epoch;
    const entries = this.list(epoch);
    const fd = openSync(this.file(epoch), 'a');
    try {
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    entries.push(entry);
    this.prune(epoch);
  }

  private prune(newest: number): void {
    for (const name of readdirSync(this.dir)) {
      const m = /^(\d+)\.jsonl$/.exec(name);
      if (m && Number(m[1]) < newest - this.retainEpochs) {
        rmSync(join(this.dir, name), { force: true });
        this.epochs.delete(Number(m[1]));
      }
    }
  }
}
