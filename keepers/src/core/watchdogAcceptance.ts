/**
 * When a keeper accepts a WatchDog commit or transcript (docs/keepers.md §4), as pure rules over what the
 * keeper's HTTP server has read — the time, the recovered signer, the license's operator, what is already
 * stored. Each rule returns the refusal (the server answers 409 `{ error: code, message }`) or null.
 *
 * Commits: accepted for the next `COMMIT_EPOCHS_AHEAD` epochs only (before the epoch starts, never further
 * ahead), signed by the license's operator; one commit per license and epoch. Transcripts: accepted from the
 * epoch's commit deadline until the pipeline fixed the epoch's WatchDog data (its `transcripts` stage, after the
 * transcript deadline at the earliest); the license committed, the body is no larger than its schedule can
 * need (`maxTranscriptBytes`), the secret opens its commit, the commit's operator signed, and the results
 * are exactly the license's schedule (`transcriptScheduleRefusal`); one transcript per license and epoch.
 */
import type { Address } from 'viem';
import type { StoredWatchdogCommit } from './watchdogApi.js';
import { epochAt, epochStart, type EpochTiming } from './deadlines.js';
import {
  checkTranscript,
  watchdogCommit,
  type SignedTranscript,
  type Transcript,
  type TranscriptExpectation,
  type WatchdogCommitMessage,
} from './watchdogSchedule.js';

export interface Refusal {
  code: string;
  message: string;
}

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

/**
 * How many epochs ahead a commit may be for: epoch e is open for commits while `now` is in epoch
 * e − COMMIT_EPOCHS_AHEAD .. e − 1 (the WatchDog service commits for the next epoch only). Anything further
 * ahead would sit in the keeper's store for epochs nobody can yet plan for.
 */
export const COMMIT_EPOCHS_AHEAD = 2;

/**
 * Commits are taken for epochs current+1 .. current+COMMIT_EPOCHS_AHEAD only (`now`: unix seconds; current
 * is 0 before genesis): `too-late` once the epoch started, `too-far-ahead` beyond the window.
 */
export function commitWindowRefusal(epoch: number, now: number, clock: EpochTiming): Refusal | null {
  const start = epochStart(clock, epoch);
  const late = commitTooLate(epoch, now, start);
  if (late) return late;
  const current = epochAt(clock, now);
  if (epoch > current + COMMIT_EPOCHS_AHEAD) {
    return {
      code: 'too-far-ahead',
      message: `epoch ${epoch} starts at ${start}: commits are taken for epochs ${current + 1} to ${current + COMMIT_EPOCHS_AHEAD} only (the current epoch is ${current})`,
    };
  }
  return null;
}

/** Commits close when the epoch starts (`now`, `epochStart`: unix seconds). */
export function commitTooLate(epoch: number, now: number, epochStart: number): Refusal | null {
  return now >= epochStart
    ? { code: 'too-late', message: `epoch ${epoch} started at ${epochStart}: commits are closed` }
    : null;
}

export const COMMIT_SIGNATURE_UNRECOVERABLE: Refusal = {
  code: 'bad-signature',
  message: 'the commit signature does not recover',
};

/** The commit is signed by the license's operator when it is received (`operator`; zero address: none). */
export function commitSignerRefusal(tokenId: string, signer: Address, operator: Address): Refusal | null {
  if (operator === ZERO_ADDRESS) return { code: 'unknown-license', message: `license ${tokenId} has no operator` };
  if (signer !== operator)
    return {
      code: 'not-operator',
      message: `commit signed by ${signer}, but license ${tokenId}'s operator is ${operator}`,
    };
  return null;
}

/** A license commits once per epoch: the same commit again is fine, another one is refused. */
export function commitConflict(c: WatchdogCommitMessage, existing: StoredWatchdogCommit | undefined): Refusal | null {
  if (existing?.commit === c.commit) return null;
  return {
    code: 'conflict',
    message: `license ${c.tokenId} already committed ${existing?.commit} for epoch ${c.epoch}`,
  };
}

/**
 * Transcripts open at the commit deadline: a transcript reveals the secret, and with it which envelopes were
 * challenges, so it must not be known while nodes can still commit (`now`, `commitDeadline`: unix seconds).
 */
export function transcriptTooEarly(epoch: number, now: number, commitDeadline: number): Refusal | null {
  return now < commitDeadline
    ? {
        code: 'too-early',
        message: `transcripts of epoch ${epoch} are taken from its commit deadline ${commitDeadline} on`,
      }
    : null;
}

/** The pipeline fixes an epoch's WatchDog data only after its transcript deadline: before, it cannot be fixed. */
export function watchdogDataMayBeFixed(now: number, transcriptDeadline: number): boolean {
  return now > transcriptDeadline;
}

/** Transcripts close when the pipeline fixed the epoch's WatchDog data. */
export function watchdogDataFixed(epoch: number, transcriptDeadline: number): Refusal {
  return {
    code: 'too-late',
    message: `the WatchDog data of epoch ${epoch} was fixed (transcript deadline ${transcriptDeadline})`,
  };
}

/** A transcript stored while the data was being fixed counts only if the fixed data has it. */
export function missedFixedData(
  t: Transcript,
  fixed: { transcripts: readonly { transcript: { tokenId: string } }[] } | undefined,
): boolean {
  return fixed !== undefined && !fixed.transcripts.some((x) => x.transcript.tokenId === t.tokenId);
}

/** A transcript needs its license's commit for the epoch. */
export function transcriptWithoutCommit(t: Transcript): Refusal {
  return { code: 'no-commit', message: `license ${t.tokenId} did not commit for epoch ${t.epoch}` };
}

/** The transcript's secret opens its license's commit. */
export function transcriptSecretRefusal(t: Transcript, commit: StoredWatchdogCommit): Refusal | null {
  if (watchdogCommit(BigInt(t.tokenId), t.epoch, t.secret) === commit.commit) return null;
  return {
    code: 'secret-mismatch',
    message: `the secret does not open license ${t.tokenId}'s commit ${commit.commit}`,
  };
}

export const TRANSCRIPT_SIGNATURE_UNRECOVERABLE: Refusal = {
  code: 'bad-signature',
  message: 'the transcript signature does not recover',
};

/**
 * Bytes one challenge result may take in a transcript body: the longest compact JSON of a result
 * (`{"node":"0x…40","i":4294967295,"at":9007199254740991,"envelopeId":"0x…64","latencyMs":4294967295,"ok":false}`
 * and its comma: 207 bytes) plus room for indentation.
 */
export const MAX_TRANSCRIPT_RESULT_BYTES = 256;
/** Bytes of a transcript body around its results (token id up to 78 digits, epoch, secret, signature, spacing). */
export const TRANSCRIPT_OVERHEAD_BYTES = 1024;

/**
 * The largest transcript body a license's schedule can need: one result per assigned node and challenge
 * (`assignedNodes` × `challengesPerNode`) at `MAX_TRANSCRIPT_RESULT_BYTES` each, plus the fixed overhead.
 * Summed over licenses this is at most nodes × m × challengesPerNode results: what the dataset can hold.
 */
export function maxTranscriptBytes(assignedNodes: number, challengesPerNode: number): number {
  return assignedNodes * challengesPerNode * MAX_TRANSCRIPT_RESULT_BYTES + TRANSCRIPT_OVERHEAD_BYTES;
}

/** A transcript body of `bytes` (UTF-8 as received) larger than its license's schedule can need. */
export function transcriptTooLarge(
  t: Transcript,
  bytes: number,
  assignedNodes: number,
  challengesPerNode: number,
): Refusal | null {
  const max = maxTranscriptBytes(assignedNodes, challengesPerNode);
  if (bytes <= max) return null;
  return {
    code: 'too-large',
    message: `transcript of license ${t.tokenId} is ${bytes} bytes; its schedule (${assignedNodes} assigned nodes × ${challengesPerNode} challenges) allows at most ${max}`,
  };
}

/**
 * The results are exactly the license's schedule (core/watchdogSchedule.ts `checkTranscript`, as
 * `evaluateEpoch` runs it): only assigned nodes, every challenge once, canonical order, latencies within
 * the timeout. The refusal's code is the rejection (`unassigned-node`, `missing-result`, …).
 */
export function transcriptScheduleRefusal(t: Transcript, expected: TranscriptExpectation): Refusal | null {
  const check = checkTranscript(t, expected);
  if (check.ok) return null;
  return {
    code: check.reason,
    message: `transcript of license ${t.tokenId} does not match its schedule for epoch ${t.epoch}: ${check.detail}`,
  };
}

/** The transcript is signed by the operator the commit was accepted from. */
export function transcriptSignerRefusal(signer: Address, commit: StoredWatchdogCommit): Refusal | null {
  return signer !== commit.operator
    ? { code: 'bad-signature', message: `transcript signed by ${signer}, not by operator ${commit.operator}` }
    : null;
}

/** A license sends one transcript per epoch: the same one again is fine, another one is refused. */
export function transcriptConflict(signed: SignedTranscript, existing: SignedTranscript | undefined): Refusal | null {
  if (JSON.stringify(existing) === JSON.stringify(signed)) return null;
  const t = signed.transcript;
  return { code: 'conflict', message: `license ${t.tokenId} already sent another transcript for epoch ${t.epoch}` };
}
