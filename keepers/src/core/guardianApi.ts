/**
 * The guardian's HTTP API (docs/keepers.md §6), shared by the guardian (server) and the keeper (client):
 * the wire form of the epoch header, the `/sign` request and its answers, and the field-by-field header
 * comparison the guardian reports on a mismatch. Pure.
 *
 * - `POST /sign` body `SignRequest` →
 *   200 `SignResponse` (the EIP-712 signature, also for a repeat of the header it already signed);
 *   409 `HeaderMismatch` `{ error: 'header-mismatch', field, ours, theirs }` (the first differing field);
 *   409 `{ error: 'already-signed', message, signedHeaderHash }` (a different header for a signed epoch);
 *   422 `{ error: 'chain-mismatch' | 'hash-mismatch' | 'invalid-dataset', message, field? }`;
 *   400 `{ error: 'bad-request', message }`; 502 `{ error: 'dataset-unavailable', message }`.
 *   The request must carry `KEEPER_TIMESTAMP_HEADER` and `KEEPER_SIGNATURE_HEADER` (`keeperAuthHash`) by a
 *   configured keeper (else 401 `unauthenticated`), name a dataset under a configured origin (else 403
 *   `origin-not-allowed`), and come after the epoch's collection deadlines (else 425 `too-early`); a
 *   dataset that lacks what the guardian observed itself is refused with 409 `missing-commitment` /
 *   `openings-omitted`.
 * - `POST /commitments` (a node's signed commitment) → `{ guardian, signature }` (its attestation);
 *   `GET /epochs/:e/commitments`, `GET /epochs/:e/openings`: what it attested and observed.
 * - `GET /health` → `{ ok: true, guardian, lastSignedEpoch }`; `GET /metrics` → Prometheus text.
 */
import { z } from 'zod';
import { keccak256, type Hex } from 'viem';
import { addressWire, bytes32Wire, ecdsaSignatureWire, uint32, uintString } from './wire.js';
import type { EpochHeader } from './epochHeader.js';

export const headerWireSchema = z.strictObject({
  epoch: uint32,
  consensusVersion: uint32,
  faultCount: uint32,
  totalCumulative: uintString(96),
  epochEmission: uintString(96),
  rewardRoot: bytes32Wire,
  faultRoot: bytes32Wire,
  scoresHash: bytes32Wire,
  dataHash: bytes32Wire,
  seed: bytes32Wire,
});
export type HeaderWire = z.infer<typeof headerWireSchema>;

/** Field order of the header (the EIP-712 struct order): the comparison reports the first difference. */
export const HEADER_FIELDS = [
  'epoch',
  'consensusVersion',
  'faultCount',
  'totalCumulative',
  'epochEmission',
  'rewardRoot',
  'faultRoot',
  'scoresHash',
  'dataHash',
  'seed',
] as const satisfies readonly (keyof EpochHeader)[];
export type HeaderField = (typeof HEADER_FIELDS)[number];

export function headerToWire(h: EpochHeader): HeaderWire {
  return {
    epoch: h.epoch,
    consensusVersion: h.consensusVersion,
    faultCount: h.faultCount,
    totalCumulative: h.totalCumulative.toString(),
    epochEmission: h.epochEmission.toString(),
    rewardRoot: h.rewardRoot.toLowerCase(),
    faultRoot: h.faultRoot.toLowerCase(),
    scoresHash: h.scoresHash.toLowerCase(),
    dataHash: h.dataHash.toLowerCase(),
    seed: h.seed.toLowerCase(),
  };
}

export function headerFromWire(w: HeaderWire): EpochHeader {
  return {
    epoch: w.epoch,
    consensusVersion: w.consensusVersion,
    faultCount: w.faultCount,
    totalCumulative: BigInt(w.totalCumulative),
    epochEmission: BigInt(w.epochEmission),
    rewardRoot: w.rewardRoot as Hex,
    faultRoot: w.faultRoot as Hex,
    scoresHash: w.scoresHash as Hex,
    dataHash: w.dataHash as Hex,
    seed: w.seed as Hex,
  };
}

export interface HeaderDifference {
  field: HeaderField;
  ours: string | number;
  theirs: string | number;
}

/** The first field (in struct order) where two headers differ, or null when they are equal. */
export function firstHeaderDifference(ours: EpochHeader, theirs: EpochHeader): HeaderDifference | null {
  const a = headerToWire(ours);
  const b = headerToWire(theirs);
  for (const field of HEADER_FIELDS) if (a[field] !== b[field]) return { field, ours: a[field], theirs: b[field] };
  return null;
}

export const signRequestSchema = z.strictObject({
  epoch: z.number().int().min(1).max(0xffffffff),
  /** http(s) URL of the canonical dataset JSON. */
  datasetUrl: z.url({ protocol: /^https?$/ }),
  dataHash: bytes32Wire,
  header: headerWireSchema,
});
export type SignRequest = z.infer<typeof signRequestSchema>;

export const signResponseSchema = z.strictObject({
  epoch: z.number().int(),
  guardian: addressWire,
  /** EIP-712 digest of the header (`headerDigest`). */
  digest: bytes32Wire,
  /** 65-byte signature over `digest`; `toCompactSignature` turns it into the contract's form. */
  signature: ecdsaSignatureWire,
});
export type SignResponse = z.infer<typeof signResponseSchema>;

export const headerMismatchSchema = z.strictObject({
  error: z.literal('header-mismatch'),
  field: z.enum(HEADER_FIELDS),
  ours: z.union([z.string(), z.number()]),
  theirs: z.union([z.string(), z.number()]),
});
export type HeaderMismatch = z.infer<typeof headerMismatchSchema>;

export const guardianErrorSchema = z.object({
  error: z.string(),
  message: z.string().optional(),
  field: z.string().optional(),
  signedHeaderHash: bytes32Wire.optional(),
});
export type GuardianError = z.infer<typeof guardianErrorSchema>;

// ------------------------------------------------------------------------------- keeper authentication

/** Headers of an authenticated `/sign` request: unix seconds, and the keeper's EIP-191 signature. */
export const KEEPER_TIMESTAMP_HEADER = 'x-sendnet-timestamp';
export const KEEPER_SIGNATURE_HEADER = 'x-sendnet-keeper-signature';
/** How far a request's timestamp may be from the guardian's clock (seconds). */
export const KEEPER_AUTH_SKEW_SECONDS = 60;

/**
 * What a keeper signs (EIP-191 `personal_sign` over these 32 bytes) to authenticate a `/sign` request:
 * keccak256(utf8("SN-GUARDIAN-SIGN-1:" + timestamp + ":" + keccak256(raw body))). The timestamp bounds a
 * replay to ±60 s, and a replay within it only repeats the very same request.
 */
export function keeperAuthHash(timestamp: number, rawBody: Uint8Array): Hex {
  return keccak256(new TextEncoder().encode(`SN-GUARDIAN-SIGN-1:${timestamp}:${keccak256(rawBody)}`));
}
