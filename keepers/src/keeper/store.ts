/**
 * Where the pipeline keeps its state in Redis (every keeper process on every machine shares it).
 *
 * Keys, under a prefix (default `sn`):
 * - `<p>:epoch:<e>`             hash, field = stage → that stage's output (JSON); written once (HSETNX)
 * - `<p>:epoch:<e>:<part>`      hash, field = node key / token id → per-part output (commitments, openings)
 * - `<p>:wd:<e>:commits`        hash, token id → WatchDog secret commitment as received
 * - `<p>:wd:<e>:transcripts`    hash, token id → WatchDog transcript as received
 * - `<p>:dataset:<hash>`        string, the canonical JSON of a published dataset
 * - `<p>:tx:<name>`             string, a signed transaction (hash, raw, nonce) stored before it is sent
 * - `<p>:epochs`                sorted set of the epochs the pipeline has touched
 *
 * JSON values keep bigints as `{"$n":"<decimal>"}` so they round-trip exactly.
 */
import type { Redis } from 'ioredis';
import type { EpochWatchdogsResponse } from '../core/watchdogApi.js';
import type { EpochSnapshot } from './handlers/collect.js';
import type { Stage, StageOutputs } from './stages.js';

/** The fields of `<p>:epoch:<e>` and their values: every stage's output, and two values kept beside them. */
export interface EpochFields extends StageOutputs {
  /** The epoch's start block and node set (handlers/collect.ts `epochSnapshot`). */
  snapshot: EpochSnapshot;
  /** The final `GET /epochs/:e/watchdogs` answer (keeperHttp.ts). */
  'watchdog-view': EpochWatchdogsResponse;
}

/** A map from field name to value type with (at least) every stage's output: what the runner needs. */
export type StageFields = Record<Stage, unknown>;

export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? { $n: v.toString() } : v));
}

export function decodeJson<T = unknown>(text: string): T {
  return JSON.parse(text, (_key, v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$n' && typeof v.$n === 'string' && /^-?[0-9]+$/.test(v.$n))
        return BigInt(v.$n);
    }
    return v;
  }) as T;
}

/** `F`: the epoch fields' value types (the keeper's `EpochFields`; tests of the runner alone use their own). */
export class PipelineStore<F extends object = EpochFields> {
  constructor(
    readonly redis: Redis,
    readonly prefix = 'sn',
  ) {}

  key(...parts: (string | number)[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** The stored output of `stage` for `epoch`, or undefined. */
  async getStage<K extends keyof F & string>(epoch: number, stage: K): Promise<F[K] | undefined> {
    const raw = await this.redis.hget(this.key('epoch', epoch), stage);
    return raw === null ? undefined : decodeJson<F[K]>(raw);
  }

  /** The stored output of `stage` for `epoch`; throws when it is missing (a stage needs an earlier one's). */
  async requireStage<K extends keyof F & string>(epoch: number, stage: K): Promise<F[K]> {
    const value = await this.getStage(epoch, stage);
    if (value === undefined) throw new Error(`epoch ${epoch}: the ${stage} output is missing`);
    return value;
  }

  /**
   * Stores the output of `stage` once: if an output is already there (a concurrent or earlier run),
   * that one is kept and returned, so every reader sees one value.
   */
  async setStage<K extends keyof F & string>(epoch: number, stage: K, value: F[K]): Promise<F[K]> {
    const key = this.key('epoch', epoch);
    const written = await this.redis
      .multi()
      .hsetnx(key, stage, encodeJson(value))
      .hget(key, stage)
      .zadd(this.key('epochs'), epoch, String(epoch))
      .exec();
    const stored = written?.[1]?.[1];
    if (typeof stored !== 'string') throw new Error(`could not store stage ${stage} of epoch ${epoch}`);
    return decodeJson<F[K]>(stored);
  }

  /** Forgets a stage's output (an operator's re-run after a resync). */
  async clearStage(epoch: number, stage: keyof F & string): Promise<void> {
    await this.redis.hdel(this.key('epoch', epoch), stage);
  }

  async stageOutputs(epoch: number): Promise<Partial<F>> {
    const all = await this.redis.hgetall(this.key('epoch', epoch));
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, decodeJson(v)])) as Partial<F>;
  }

  /** Per-part outputs (`kind` e.g. "commitments"), written once per part. */
  async setPart<T>(epoch: number, kind: string, part: string, value: T): Promise<T> {
    const key = this.key('epoch', epoch, kind);
    const written = await this.redis.multi().hsetnx(key, part, encodeJson(value)).hget(key, part).exec();
    const stored = written?.[1]?.[1];
    if (typeof stored !== 'string') throw new Error(`could not store ${kind} ${part} of epoch ${epoch}`);
    return decodeJson<T>(stored);
  }

  async getPart<T = unknown>(epoch: number, kind: string, part: string): Promise<T | undefined> {
    const raw = await this.redis.hget(this.key('epoch', epoch, kind), part);
    return raw === null ? undefined : decodeJson<T>(raw);
  }

  async getParts<T = unknown>(epoch: number, kind: string): Promise<Map<string, T>> {
    const all = await this.redis.hgetall(this.key('epoch', epoch, kind));
    return new Map(Object.entries(all).map(([k, v]) => [k, decodeJson<T>(v)]));
  }

  /** A WatchDog message (`kind` "commits" or "transcripts"); the first one per token id is kept. */
  async putWatchdog(epoch: number, kind: 'commits' | 'transcripts', tokenId: string, value: unknown): Promise<boolean> {
    return (await this.redis.hsetnx(this.key('wd', epoch, kind), tokenId, encodeJson(value))) === 1;
  }

  async getWatchdog<T = unknown>(epoch: number, kind: 'commits' | 'transcripts'): Promise<Map<string, T>> {
    const all = await this.redis.hgetall(this.key('wd', epoch, kind));
    return new Map(Object.entries(all).map(([k, v]) => [k, decodeJson<T>(v)]));
  }

  /** Deletes the WatchDog commits and transcripts of `epoch` as received (the dataset keeps its own copy). */
  async pruneWatchdogs(epoch: number): Promise<void> {
    await this.redis.del(this.key('wd', epoch, 'commits'), this.key('wd', epoch, 'transcripts'));
  }

  async putDataset(hash: string, canonicalJson: string): Promise<void> {
    await this.redis.set(this.key('dataset', hash.toLowerCase()), canonicalJson);
  }

  async getDataset(hash: string): Promise<string | null> {
    return this.redis.get(this.key('dataset', hash.toLowerCase()));
  }

  /** Deletes the per-part hashes of `epoch` (`<p>:epoch:<e>:<kind>`); the stage outputs stay. */
  async prunePartsOf(epoch: number, kinds: readonly string[]): Promise<void> {
    if (kinds.length > 0) await this.redis.del(...kinds.map((k) => this.key('epoch', epoch, k)));
  }

  /** The last epoch pruned (0 if none). */
  async prunedThrough(): Promise<number> {
    return Number((await this.redis.get(this.key('pruned-through'))) ?? '0');
  }

  async setPrunedThrough(epoch: number): Promise<void> {
    await this.redis.set(this.key('pruned-through'), String(epoch));
  }

  /** A short-lived named lock (`SET NX PX`); true when this caller got it. */
  async tryLock(name: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.key('lock', name), String(process.pid), 'PX', ttlMs, 'NX')) === 'OK';
  }

  async epochsTouched(): Promise<number[]> {
    return (await this.redis.zrange(this.key('epochs'), 0, -1)).map(Number);
  }
}
