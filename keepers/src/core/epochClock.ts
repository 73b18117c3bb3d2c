/**
 * The settlement epoch clock as an edge node sees it: epoch `e ≥ 1` covers
 * `[genesisTime + (e−1)·epochDuration, genesisTime + e·epochDuration)` (docs/protocol.md §5.1), and a
 * node commits epoch e before `epochEnd(e) + commitGraceSeconds` (docs/keepers.md §3). Pure arithmetic
 * (core/deadlines.ts's formulas) over an injectable `now()`, so tests drive time by hand.
 */
import { z } from 'zod';
import * as deadlines from './deadlines.js';

export interface EpochClockParams {
  /** Unix seconds at which epoch 1 starts. */
  genesisTime: number;
  epochDurationSeconds: number;
  /** Seconds after an epoch's end during which its commitment is still accepted. */
  commitGraceSeconds: number;
}

export const epochClockParamsSchema = z.object({
  genesisTime: z.number().int().nonnegative(),
  epochDurationSeconds: z.number().int().positive(),
  commitGraceSeconds: z.number().int().nonnegative(),
});

export class EpochClock {
  readonly genesisTime: number;
  readonly epochDurationSeconds: number;
  readonly commitGraceSeconds: number;
  private readonly timing: deadlines.EpochTiming;

  /** `now` returns Unix milliseconds (default `Date.now`). */
  constructor(
    params: EpochClockParams,
    readonly now: () => number = Date.now,
  ) {
    const parsed = epochClockParamsSchema.parse(params);
    this.genesisTime = parsed.genesisTime;
    this.epochDurationSeconds = parsed.epochDurationSeconds;
    this.commitGraceSeconds = parsed.commitGraceSeconds;
    this.timing = { genesisTime: this.genesisTime, epochDuration: this.epochDurationSeconds };
  }

  /** The epoch in progress at `atMs` (0 before genesis). */
  epochAt(atMs: number): number {
    return deadlines.epochAt(this.timing, Math.floor(atMs / 1000));
  }

  currentEpoch(): number {
    return this.epochAt(this.now());
  }

  /** Unix seconds at which `epoch` starts. */
  epochStart(epoch: number): number {
    return deadlines.epochStart(this.timing, epoch);
  }

  /** Unix seconds at which `epoch` ends (exclusive). */
  epochEnd(epoch: number): number {
    return deadlines.epochEnd(this.timing, epoch);
  }

  /** Unix seconds after which a commitment of `epoch` is ignored. */
  commitDeadline(epoch: number): number {
    return deadlines.commitDeadline(this.timing, this, epoch);
  }
}
