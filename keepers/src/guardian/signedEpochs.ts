/**
 * The guardian's record of what it signed: epoch → EIP-712 header digest, in a small JSON file in its data
 * directory, written atomically (temp file + rename) before a signature leaves the process. A guardian
 * that restarts still refuses to sign a second, different header for an epoch it signed.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Hex } from 'viem';
import { SendnetError } from '../core/errors.js';
import { bytes32Wire } from '../core/wire.js';

const fileSchema = z.record(z.string().regex(/^[1-9][0-9]*$/), z.object({ digest: bytes32Wire, signedAt: z.string() }));

export class SignedEpochsError extends SendnetError {
  override name = 'SignedEpochsError';
  override readonly code = 'signed-epochs';
}

export class SignedEpochs {
  private readonly path: string;
  private records: Map<number, { digest: Hex; signedAt: string }>;

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
      for (const [epoch, r] of Object.entries(parsed))
        this.records.set(Number(epoch), { digest: r.digest as Hex, signedAt: r.signedAt });
    }
  }

  get(epoch: number): Hex | undefined {
    return this.records.get(epoch)?.digest;
  }

  get lastEpoch(): number {
    let last = 0;
    for (const e of this.records.keys()) if (e > last) last = e;
    return last;
  }

  /** Records `digest` for `epoch` (durably). Throws if a different digest is already recorded. */
  record(epoch: number, digest: Hex): void {
    const existing = this.records.get(epoch);
    if (existing && existing.digest !== digest)
      throw new SignedEpochsError(`epoch ${epoch} already signed with digest ${existing.digest}`);
    if (existing) return;
    this.records.set(epoch, { digest, signedAt: new Date().toISOString() });
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
