/**
 * A guardian's durable per-epoch record: one append-only JSON-lines file `<dir>/<epoch>.jsonl`, each line
 * fsynced before the caller answers, read back (and cached) after a restart. A torn last line (a crash
 * mid-write, never answered) is dropped; any other bad line is corruption and refuses to load. Files of
 * epochs older than the newest appended one minus `retainEpochs` are deleted. Used by the commitment
 * store and the openings observer.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';

export class EpochJournal<T> {
  private readonly epochs = new Map<number, T[]>();

  constructor(
    private readonly dir: string,
    private readonly schema: z.ZodType<T>,
    private readonly retainEpochs: number,
    /** The error a corrupt file is reported with. */
    private readonly corrupt: (message: string) => Error,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private file(epoch: number): string {
    return join(this.dir, `${epoch}.jsonl`);
  }

  /** Every entry of `epoch`, in the order appended (the cached array: append through `append`). */
  list(epoch: number): T[] {
    const cached = this.epochs.get(epoch);
    if (cached) return cached;
    let text = '';
    try {
      text = readFileSync(this.file(epoch), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const entries: T[] = [];
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      try {
        entries.push(this.schema.parse(JSON.parse(line)));
      } catch (error) {
        if (lines.slice(i + 1).every((l) => l.trim() === '')) break; // a torn last line
        throw this.corrupt(`corrupt ${this.file(epoch)} line ${i + 1}: ${(error as Error).message}`);
      }
    }
    this.epochs.set(epoch, entries);
    return entries;
  }

  /** Appends `entry` to `epoch` durably, then drops the files of epochs too old to keep. */
  append(epoch: number, entry: T): void {
    const entries = this.list(epoch);
    const fd = openSync(this.file(epoch), 'a');
    try {
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    entries.push(entry);
    for (const name of readdirSync(this.dir)) {
      const m = /^(\d+)\.jsonl$/.exec(name);
      if (m && Number(m[1]) < epoch - this.retainEpochs) {
        rmSync(join(this.dir, name), { force: true });
        this.epochs.delete(Number(m[1]));
      }
    }
  }
}
