/**
 * The settlement's epoch clock and the keeper's deadlines derived from it (pure, seconds as numbers).
 *
 * Epoch e ≥ 1 covers [genesis + (e−1)·duration, genesis + e·duration) (docs/protocol.md 5.1).
 * - WatchDog commits are accepted until the epoch starts (docs/keepers.md §4).
 * - The commit deadline is `epochEnd + commitGraceSeconds` (§3); collecting commitments starts then.
 * - Openings are answered until `commitDeadline + openingsWindowSeconds`.
 * - Transcripts are accepted from the commit deadline (a transcript reveals the WatchDog's secret and with
 *   it the challenge envelope ids, so only once every commitment is fixed) until `commitDeadline +
 *   transcriptGraceSeconds` at least (until the pipeline's `transcripts` stage fixes them).
 */

/** The settlement's clock parameters (unix seconds); `EpochClock` (epochClock.ts) wraps them with a `now`. */
export interface EpochTiming {
  genesisTime: number;
  epochDuration: number;
}

export interface Deadlines {
  commitGraceSeconds: number;
  assignmentLeadSeconds: number;
  openingsWindowSeconds: number;
  transcriptGraceSeconds: number;
}

export function epochStart(clock: EpochTiming, epoch: number): number {
  return clock.genesisTime + (epoch - 1) * clock.epochDuration;
}

export function epochEnd(clock: EpochTiming, epoch: number): number {
  return clock.genesisTime + epoch * clock.epochDuration;
}

/** The epoch in progress at `t` (0 before genesis), as `EpochSettlement.currentEpoch()`. */
export function epochAt(clock: EpochTiming, t: number): number {
  if (t < clock.genesisTime) return 0;
  return Math.floor((t - clock.genesisTime) / clock.epochDuration) + 1;
}

export function commitDeadline(clock: EpochTiming, d: Pick<Deadlines, 'commitGraceSeconds'>, epoch: number): number {
  return epochEnd(clock, epoch) + d.commitGraceSeconds;
}

/** Reference time of the WatchDog assignment seed: `epochStart − assignmentLeadSeconds`. */
export function assignmentTime(clock: EpochTiming, d: Deadlines, epoch: number): number {
  return epochStart(clock, epoch) - d.assignmentLeadSeconds;
}

export function openingsDeadline(clock: EpochTiming, d: Deadlines, epoch: number): number {
  return commitDeadline(clock, d, epoch) + d.openingsWindowSeconds;
}

export function transcriptDeadline(clock: EpochTiming, d: Deadlines, epoch: number): number {
  return commitDeadline(clock, d, epoch) + d.transcriptGraceSeconds;
}

/** Epochs whose commit deadline has passed at `t`, i.e. whose pipeline may start: 1..n (0 if none). */
export function lastEpochDue(clock: EpochTiming, d: Deadlines, t: number): number {
  // commitDeadline(e) = genesis + e·duration + grace ≤ t  ⇔  e ≤ (t − genesis − grace) / duration
  const n = Math.floor((t - clock.genesisTime - d.commitGraceSeconds) / clock.epochDuration);
  return Math.max(0, n);
}
