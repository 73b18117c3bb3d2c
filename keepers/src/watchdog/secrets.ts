/**
 * The WatchDog's epoch secrets, kept in its data directory (written atomically before the commit leaves
 * the process), so a WatchDog that restarts mid-epoch can still reveal its secret in the transcript.
 * Secrets of epochs older than `keepEpochs` before the newest are dropped.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { bytesToHex, type Hex } from 'viem';
import { SendnetError } from '../core/errors.js';
import { bytes32Wire } from '../core/wire.js';

const fileSchema = z.record(z.string().regex(/^[1-9][0-9]*$/), bytes32Wire);

export class SecretStoreError extends SendnetError {
  override name = 'SecretStoreError';
  override readonly code = 'secret-store';
}

export class SecretStore {
  private readonly path: string;
  private readonly secrets = new Map<number, Hex>();

  constructor(
    dataDir: string,
    tokenId: bigint,
    private readonly keepEpochs = 16,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, `secrets-${tokenId}.json`);
    let text: string | undefined;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text === undefined) return;
    try {
      for (const [epoch, secret] of Object.entries(fileSchema.parse(JSON.parse(text))))
        this.secrets.set(Number(epoch), secret as Hex);
    } catch (error) {
      throw new SecretStoreError(`corrupt secrets file ${this.path}: ${(error as Error).message}`);
    }
  }

  get(epoch: number): Hex | undefined {
    return this.secrets.get(epoch);
  }

  /** The secret of `epoch`, drawn and stored durably the first time. */
  secretFor(epoch: number): Hex {
    const existing = this.secrets.get(epoch);
    if (existing) return existing;
    const secret = bytesToHex(randomBytes(32));
    this.secrets.set(epoch, secret);
    for (const e of this.secrets.keys()) if (e < epoch - this.keepEpochs) this.secrets.delete(e);
    const out: Record<string, Hex> = {};
    for (const [e, s] of [...this.secrets.entries()].sort((a, b) => a[0] - b[0])) out[String(e)] = s;
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(out));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    return secret;
  }
}
