/**
 * Node-signed openings and guardian-signed silence (docs/keepers.md §3, issue 11 finding 1). Pure.
 *
 * - A node answers `POST /epochs/:e/openings { targets }` with `{ openings, signature }`, `signature` =
 *   EIP-712 (NodeStaking domain) of `Openings(uint32 epoch, bytes32 root, bytes32 targetsHash, bytes32
 *   openingsHash)`: `targetsHash` = keccak256(utf8(canonicalJson(targets as decimal strings))),
 *   `openingsHash` = keccak256(utf8(canonicalJson(openings wire array))). The targets are part of the
 *   signed message (a deviation from the first draft, which signed only the openings): otherwise whoever
 *   asks could ask other targets than the seeded ones and present the node's honest answer as openings of
 *   the wrong leaves, i.e. as fraud. `evaluateEpoch` recomputes the k targets from the seed, so only an
 *   answer to exactly the sampled targets is attributable to the node.
 * - A verifier (guardian) that got no node-signed answer within the openings window signs
 *   `OpeningsSilence(uint32 epoch, address nodeKey, bytes32 root)` (EIP-712, EpochSettlement domain);
 *   silence strikes only with `attestationQuorum(guardianSet)` distinct members' silence signatures.
 */
import { hashTypedData, type Address, type Hex, type TypedDataDomain } from 'viem';
import { z } from 'zod';
import { canonicalJson, keccakUtf8 } from './canonicalJson.js';
import { attestationWire } from './attestation.js';
import { openingWire } from './datasetSchema.js';
import { addressWire, bytes32Wire, ecdsaSignatureWire } from './wire.js';

export const OPENINGS_TYPES = {
  Openings: [
    { name: 'epoch', type: 'uint32' },
    { name: 'root', type: 'bytes32' },
    { name: 'targetsHash', type: 'bytes32' },
    { name: 'openingsHash', type: 'bytes32' },
  ],
} as const;

export const OPENINGS_SILENCE_TYPES = {
  OpeningsSilence: [
    { name: 'epoch', type: 'uint32' },
    { name: 'nodeKey', type: 'address' },
    { name: 'root', type: 'bytes32' },
  ],
} as const;

export function targetsHash(targets: readonly (bigint | string)[]): Hex {
  return keccakUtf8(canonicalJson(targets.map((t) => t.toString())));
}

/** keccak256 of the canonical JSON of the openings wire array (as the node sent it, hex lowercase). */
export function openingsHash(openings: readonly unknown[]): Hex {
  return keccakUtf8(canonicalJson(openings));
}

/** The digest a node signs over its answer to `targets` for the commitment with `root`. */
export function openingsDigest(
  stakingDomain: TypedDataDomain,
  epoch: number,
  root: Hex,
  targets: readonly (bigint | string)[],
  openings: readonly unknown[],
): Hex {
  return hashTypedData({
    domain: stakingDomain,
    types: OPENINGS_TYPES,
    primaryType: 'Openings',
    message: { epoch, root, targetsHash: targetsHash(targets), openingsHash: openingsHash(openings) },
  });
}

/** The digest a guardian signs when node `nodeKey` gave it no signed openings for `root` in time. */
export function silenceDigest(settlementDomain: TypedDataDomain, epoch: number, nodeKey: Address, root: Hex): Hex {
  return hashTypedData({
    domain: settlementDomain,
    types: OPENINGS_SILENCE_TYPES,
    primaryType: 'OpeningsSilence',
    message: { epoch, nodeKey, root },
  });
}

/**
 * A guardian's observation of one node's openings (`GET {guardian}/epochs/:e/openings` → `{ epoch,
 * observations }`): the node-signed answer it got, or its own silence signature after the deadline.
 */
export const openingsObservationSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('signed'),
    nodeKey: addressWire,
    root: bytes32Wire,
    openings: z.array(openingWire).max(1024),
    signature: ecdsaSignatureWire,
  }),
  z.object({ status: z.literal('silent'), nodeKey: addressWire, root: bytes32Wire, silence: attestationWire }),
]);
export type OpeningsObservation = z.infer<typeof openingsObservationSchema>;
