/**
 * The keeper's WatchDog endpoints (docs/keepers.md §4), shared by the keeper (server) and the WatchDog
 * service (client): request/response zod schemas, and the hashes and EIP-191 signatures of commits and
 * transcripts. Pure (signing takes a viem account, recovery is viem's).
 *
 * - `POST {keeper}/watchdog/commit`      body `WatchdogCommitRequest` → `WatchdogAck`
 *   (accepted only before epochStart; one commit per license and epoch — a second, different one is refused)
 * - `GET  {keeper}/epochs/:e/watchdogs`  → `EpochWatchdogsResponse` (the node set, the assignment seed and
 *   the commits received so far; `final` once epochStart has passed and the keeper fixed them)
 * - `POST {keeper}/watchdog/transcript`  body `TranscriptWire` → `WatchdogAck` (after epochEnd)
 *
 * Errors: 400 `{ error, message }` for a body that does not parse; 409 `{ error, message }` for a commit or
 * transcript refused (late, conflicting, bad signature).
 */
import { z } from 'zod';
import { recoverMessageAddress, type Address, type Hex } from 'viem';
import { canonicalJson, keccakUtf8 } from './canonicalJson.js';
import {
  addressWire,
  bytes32Wire,
  datasetNodeWire,
  ecdsaSignatureWire,
  transcriptWire,
  uintString,
  type TranscriptBodyWire,
  type TranscriptWire,
} from './datasetSchema.js';

export const watchdogCommitRequestSchema = z.strictObject({
  tokenId: uintString(256),
  epoch: z.number().int().min(1).max(0xffffffff),
  operator: addressWire,
  /** keccak256(abi.encode("SN-WD-1", uint256 tokenId, uint32 epoch, bytes32 secret)) */
  commit: bytes32Wire,
  /** EIP-191 personal_sign of the raw 32 commit bytes by `operator`. */
  signature: ecdsaSignatureWire,
});
export type WatchdogCommitRequest = z.infer<typeof watchdogCommitRequestSchema>;

export const watchdogAckSchema = z.strictObject({
  accepted: z.boolean(),
  reason: z.string().optional(),
});
export type WatchdogAck = z.infer<typeof watchdogAckSchema>;

export const apiErrorSchema = z.object({ error: z.string(), message: z.string() });
export type ApiError = z.infer<typeof apiErrorSchema>;

export const epochWatchdogsResponseSchema = z.strictObject({
  epoch: z.number().int().min(1),
  epochStart: z.number().int().min(0),
  epochEnd: z.number().int().min(0),
  /** True once epochStart has passed: nodes, assignSeed and watchdogs no longer change. */
  final: z.boolean(),
  parameters: z.strictObject({
    m: z.number().int().min(1),
    challengesPerNode: z.number().int().min(1),
    challengeTimeoutMs: z.number().int().min(1),
  }),
  /** Known once its block (first with timestamp ≥ epochStart − assignmentLeadSeconds) exists. */
  assignSeed: z.strictObject({ blockNumber: z.number().int().min(0), blockHash: bytes32Wire, value: bytes32Wire }).nullable(),
  /** Nodes Active at epoch start (as in the dataset); null until the start block exists. */
  nodes: z.array(datasetNodeWire).nullable(),
  /** Commits received for this epoch, ascending tokenId. */
  watchdogs: z.array(
    z.strictObject({ tokenId: uintString(256), operator: addressWire, commit: bytes32Wire, signature: ecdsaSignatureWire }),
  ),
});
export type EpochWatchdogsResponse = z.infer<typeof epochWatchdogsResponseSchema>;

export const transcriptRequestSchema = transcriptWire;
export type TranscriptRequest = TranscriptWire;

// ------------------------------------------------------------------------------------------ hashing

/** Domain tag prefixed to the canonical transcript body before hashing. */
export const TRANSCRIPT_TAG = 'SN-WD-TRANSCRIPT-1:';

/** keccak256(utf8("SN-WD-TRANSCRIPT-1:" ‖ canonicalJson({ tokenId, epoch, secret, results }))). */
export function transcriptHash(body: TranscriptBodyWire): Hex {
  const { tokenId, epoch, secret, results } = body;
  return keccakUtf8(TRANSCRIPT_TAG + canonicalJson({ tokenId, epoch, secret, results }));
}

/** Anything that can `personal_sign` (a viem local account). */
export interface MessageSigner {
  address: Address;
  signMessage(args: { message: { raw: Hex } }): Promise<Hex>;
}

/** The operator's EIP-191 signature over a commit (raw 32 bytes). */
export async function signWatchdogCommit(operator: MessageSigner, commit: Hex): Promise<Hex> {
  return operator.signMessage({ message: { raw: commit } });
}

/** Signs a transcript body; returns the wire transcript. */
export async function signTranscript(operator: MessageSigner, body: TranscriptBodyWire): Promise<TranscriptWire> {
  const signature = await operator.signMessage({ message: { raw: transcriptHash(body) } });
  return { ...body, signature };
}

/** Recovers the signer of a personal_sign over a raw 32-byte hash; null for an unrecoverable signature. */
export async function recoverPersonalSigner(hash: Hex, signature: Hex): Promise<Address | null> {
  try {
    return (await recoverMessageAddress({ message: { raw: hash }, signature })).toLowerCase() as Address;
  } catch {
    return null;
  }
}
