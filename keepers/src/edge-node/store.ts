/**
 * An edge node's persistent state in one LevelDB (classic-level) in its data dir:
 *
 *   p!<recipientKey>!<envelopeId>  → pending envelope (stored until acked; delivered on the next login)
 *   s!<epoch>!<envelopeId>         → envelope ids seen per ticket epoch (replay protection across restarts)
 *   r!<epoch>!<ticketHash>         → receipts of an epoch (ticket + ack), the leaves of its sum tree
 *   c!<epoch>                      → the epoch's signed commitment(s) once made
 *
 * Epochs are zero-padded so keys sort numerically. Values are JSON strings; callers validate what they
 * read back. Writes go through a queue flushed as one LevelDB batch every `flushIntervalMs` (default 5 ms;
 * 0 = every event-loop turn), no fsync per envelope: LevelDB's write-ahead log without sync survives a
 * process crash, not a power loss. Within a pending batch the last write of a key wins, and values may be
 * given lazily, so an envelope stored and acked within one interval is never serialised or written: its
 * put is replaced by the (tiny) delete. Callers wait on `write` before telling anyone a thing is stored.
 */
import { ClassicLevel } from 'classic-level';
import { SendnetError } from '../core/errors.js';

const EPOCH_DIGITS = 10;
const pad = (epoch: number) => String(epoch).padStart(EPOCH_DIGITS, '0');

export const storeKeys = {
  pending: (recipientKey: string, envelopeId: string) => `p!${recipientKey}!${envelopeId}`,
  seen: (epoch: number, envelopeId: string) => `s!${pad(epoch)}!${envelopeId}`,
  receipt: (epoch: number, ticketHash: string) => `r!${pad(epoch)}!${ticketHash}`,
  commitment: (epoch: number) => `c!${pad(epoch)}`,
};

/** A write; a put's value may be a function, called only if the put is still current at flush time. */
export type StoreOp = { type: 'put'; key: string; value: string | (() => string) } | { type: 'del'; key: string };
type Op = StoreOp;

export class StoreError extends SendnetError {
  override name = 'StoreError';
  override readonly code = 'relay-store';
}

export class RelayStore {
  private readonly db: ClassicLevel<string, string>;
  private queue = new Map<string, Op>();
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private scheduled = false;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    readonly location: string,
    private readonly flushIntervalMs = 5,
  ) {
    this.db = new ClassicLevel<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  }

  async open(): Promise<void> {
    try {
      await this.db.open({ createIfMissing: true });
    } catch (error) {
      throw new StoreError(`cannot open relay store ${this.location}: ${(error as Error).message}`);
    }
  }

  /** Queues writes; the promise resolves once they are in LevelDB (batched with the others of the interval). */
  write(ops: readonly Op[]): Promise<void> {
    if (this.closed) return Promise.reject(new StoreError(`relay store ${this.location} is closed`));
    for (const op of ops) {
      this.queue.delete(op.key); // keep the queue in write order per key: the last write wins
      this.queue.set(op.key, op);
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        if (this.flushIntervalMs > 0) setTimeout(() => this.flush(), this.flushIntervalMs);
        else setImmediate(() => this.flush());
      }
    });
  }

  put(key: string, value: string): Promise<void> {
    return this.write([{ type: 'put', key, value }]);
  }

  del(key: string): Promise<void> {
    return this.write([{ type: 'del', key }]);
  }

  private flush(): void {
    this.scheduled = false;
    const ops: ({ type: 'put'; key: string; value: string } | { type: 'del'; key: string })[] = [];
    for (const op of this.queue.values()) {
      ops.push(
        op.type === 'put' && typeof op.value === 'function'
          ? { type: 'put', key: op.key, value: op.value() }
          : (op as (typeof ops)[number]),
      );
    }
    const waiters = this.waiters;
    this.queue = new Map();
    this.waiters = [];
    if (ops.length === 0) {
      for (const w of waiters) w.resolve();
      return;
    }
    // batches are written in order: a later batch never lands before an earlier one
    this.writing = this.writing.then(() =>
      this.db.batch(ops).then(
        () => waiters.forEach((w) => w.resolve()),
        (error: Error) =>
          waiters.forEach((w) => w.reject(new StoreError(`relay store write failed: ${error.message}`))),
      ),
    );
  }

  /** Resolves once everything queued so far is written. */
  async drain(): Promise<void> {
    if (this.queue.size > 0 || this.scheduled) await this.write([]);
    await this.writing;
  }

  async get(key: string): Promise<string | undefined> {
    return this.db.get(key);
  }

  /** Every entry whose key starts with `prefix`, in key order. */
  async scan(prefix: string): Promise<[string, string][]> {
    const out: [string, string][] = [];
    for await (const [key, value] of this.db.iterator({ gte: prefix, lt: `${prefix}\xff` })) out.push([key, value]);
    return out;
  }

  async scanKeys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for await (const key of this.db.keys({ gte: prefix, lt: `${prefix}\xff` })) out.push(key);
    return out;
  }

  /** Deletes the keys of the per-epoch prefixes `kinds` (`s` seen ids, `r` receipts, `c` commitments) below `epoch`. */
  async pruneBefore(epoch: number, kinds: readonly ('s' | 'r' | 'c')[] = ['s', 'r', 'c']): Promise<void> {
    await this.drain();
    for (const kind of kinds) {
      await this.db.clear({ gte: `${kind}!`, lt: `${kind}!${pad(epoch)}` });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain();
    this.closed = true;
    await this.db.close();
  }
}

export const epochOfKey = (key: string): number => Number(key.slice(2, 2 + EPOCH_DIGITS));
