/**
 * The keeper's WatchDog endpoints (docs/keepers.md §4), shared by the keeper (server) and the WatchDog
 * service (client): request/response zod schemas. The commit and transcript formats, hashes and
 * signatures are core/watchdogSchedule.ts's; this module only adds the HTTP envelope. Pure.
 *
 * - `POST {keeper}/watchdog/commit`      body `WatchdogCommitMessage` (`{ tokenId, epoch, commit, signature }`)
 *   → 200 `WatchdogAck`. Accepted only before epochStart, when the signature recovers to the license's
 *   operator (`WatchDogLicense.operatorOf`); a second, different commit of a license for an epoch is refused.
 * - `GET  {keeper}/epochs/:e/watchdogs`  → 200 `EpochWatchdogsResponse`: the node set, the assignment seed
 *   and the commits received so far; `final` once epochStart has passed and the keeper fixed them.
 * - `POST {keeper}/watchdog/transcript`  body `SignedTranscript` (`{ transcript, signature }`) → 200
 *   `WatchdogAck`. Accepted after epochEnd (until the keeper assembles the dataset).
 *
 * Errors: 400 `ApiError` for a body that does not parse; 409 `ApiError` for a commit or transcript refused
 * (late, conflicting, bad signature, unknown license); 404 for an unknown epoch.
 */
import { z } from 'zod';
import { signedTranscriptSchema, watchdogCommitMessageSchema } from './watchdogSchedule.js';
import { datasetNodeWire } from './datasetSchema.js';
import { addressWire, bytes32Wire, ecdsaSignatureWire, uintString } from './wire.js';

export const watchdogCommitRequestSchema = watchdogCommitMessageSchema;
export const transcriptRequestSchema = signedTranscriptSchema;
export type {
  WatchdogCommitMessage as WatchdogCommitRequest,
  SignedTranscript as TranscriptRequest,
} from './watchdogSchedule.js';

export const watchdogAckSchema = z.object({
  accepted: z.boolean(),
  reason: z.string().optional(),
});
export type WatchdogAck = z.infer<typeof watchdogAckSchema>;

export const apiErrorSchema = z.object({ error: z.string(), message: z.string() });
export type ApiError = z.infer<typeof apiErrorSchema>;

/** A commit as the keeper stores it and lists it (and as it goes into the dataset's `watchdogs`). */
export const storedWatchdogCommitSchema = z.strictObject({
  tokenId: uintString(256),
  /** The license's operator (`operatorOf` at the time the keeper accepted the commit). */
  operator: addressWire,
  commit: bytes32Wire,
  signature: ecdsaSignatureWire,
});
export type StoredWatchdogCommit = z.infer<typeof storedWatchdogCommitSchema>;

export const epochWatchdogsResponseSchema = z.object({
  epoch: z.number().int().min(1),
  epochStart: z.number().int().min(0),
  epochEnd: z.number().int().min(0),
  /** True once epochStart has passed and the start block exists: nodes, assignSeed and watchdogs are fixed. */
  final: z.boolean(),
  parameters: z.object({
    m: z.number().int().min(1),
    challengesPerNode: z.number().int().min(1),
    challengeTimeoutMs: z.number().int().min(1),
  }),
  /** Known once its block (first with timestamp ≥ epochStart − assignmentLeadSeconds) exists. */
  assignSeed: z.object({ blockNumber: z.number().int().min(0), blockHash: bytes32Wire, value: bytes32Wire }).nullable(),
  /** Nodes Active at epoch start (as in the dataset); null until the start block exists. */
  nodes: z.array(datasetNodeWire).nullable(),
  /**
   * Commits received for this epoch, ascending tokenId; once `final`, each carries the license's `owner` at
   * the start block (WatchDogs are assigned by owner).
   */
  watchdogs: z.array(storedWatchdogCommitSchema.extend({ owner: addressWire.optional() })),
});
export type EpochWatchdogsResponse = z.infer<typeof epochWatchdogsResponseSchema>;
