/**
 * Guardian attestations of commitments (docs/keepers.md §3, issue 11 finding 2): a guardian that received
 * a node-signed commitment inside the epoch's commit window signs
 * `CommitmentAttestation(uint32 epoch, address nodeKey, bytes32 commitmentDigest)` (EIP-712, the
 * EpochSettlement domain), `commitmentDigest` = `NodeStaking.commitmentDigest` of the commitment. A
 * commitment counts in `evaluateEpoch` only with attestations of at least `attestationQuorum(M)` distinct
 * members of the guardian set (M members, threshold T = ⌊2M/3⌋ + 1, quorum M − T + 1: a set in which fewer
 * than T guardians are honest cannot settle anyway, so at least one honest guardian saw the commitment
 * before the deadline, hence before the seed). Also the leaf bound (a committed tree holds at most 64 units
 * per leaf) and the commit window. Pure: no I/O.
 */
import { z } from 'zod';
import { hashTypedData, recoverAddress, type Address, type Hex, type TypedDataDomain } from 'viem';
import { commitmentDigest, type EpochCommitment, type SecpSigner } from './commitment.js';
import { sign } from 'viem/accounts';
import { addressWire, ecdsaSignatureWire } from './wire.js';
import { MAX_TICKET_UNITS } from './relay.js';

export const COMMITMENT_ATTESTATION_TYPES = {
  CommitmentAttestation: [
    { name: 'epoch', type: 'uint32' },
    { name: 'nodeKey', type: 'address' },
    { name: 'commitmentDigest', type: 'bytes32' },
  ],
} as const;

/** Largest units one sum-tree leaf may carry (a receipt's `units` is at most 64). */
export const MAX_LEAF_UNITS = BigInt(MAX_TICKET_UNITS);

/** `{ guardian, signature }`: a guardian's signature over an attestation digest (lowercase hex). */
export const attestationWire = z.strictObject({ guardian: addressWire, signature: ecdsaSignatureWire });
export type AttestationWire = z.infer<typeof attestationWire>;

/** The settlement's BFT threshold for M guardians: ⌊2M/3⌋ + 1. */
export function guardianThreshold(members: number): number {
  return Math.floor((2 * members) / 3) + 1;
}

/** Attestations (or silence observations) a fact needs: M − T + 1 (7 guardians → 3). */
export function attestationQuorum(members: number): number {
  return members - guardianThreshold(members) + 1;
}

/** True when `c` respects the leaf bound: totalUnits ≤ leafCount × 64. */
export function withinLeafBound(c: Pick<EpochCommitment, 'totalUnits' | 'leafCount'>): boolean {
  return c.totalUnits <= c.leafCount * MAX_LEAF_UNITS;
}

export function attestationDigest(
  settlement: TypedDataDomain,
  stakingDomain: TypedDataDomain,
  nodeKey: Address,
  c: EpochCommitment,
): Hex {
  return hashTypedData({
    domain: settlement,
    types: COMMITMENT_ATTESTATION_TYPES,
    primaryType: 'CommitmentAttestation',
    message: { epoch: c.epoch, nodeKey, commitmentDigest: commitmentDigest(stakingDomain, c) },
  });
}

export async function signHashWith(signer: SecpSigner, hash: Hex): Promise<Hex> {
  const signature =
    typeof signer === 'string' ? await sign({ hash, privateKey: signer, to: 'hex' }) : await signer.sign({ hash });
  return signature.toLowerCase() as Hex;
}

/** The signer of `signature` over `hash`, lowercase, or null when it cannot be recovered. */
export async function recoverSigner(hash: Hex, signature: Hex): Promise<Address | null> {
  try {
    return (await recoverAddress({ hash, signature })).toLowerCase() as Address;
  } catch {
    return null;
  }
}

/**
 * The distinct members of `guardianSet` whose attestation over `digest` verifies (a signature by a
 * non-member, one that recovers to another address than its `guardian`, or a repeat counts nothing), and
 * a reason per attestation that did not count.
 */
export async function validAttestors(
  digest: Hex,
  attestations: readonly AttestationWire[],
  guardianSet: readonly string[],
): Promise<{ guardians: Set<Address>; problems: string[] }> {
  const members = new Set(guardianSet.map((g) => g.toLowerCase()));
  const guardians = new Set<Address>();
  const problems: string[] = [];
  const signers = await Promise.all(attestations.map((a) => recoverSigner(digest, a.signature as Hex)));
  attestations.forEach((a, i) => {
    const signer = signers[i];
    if (signer !== a.guardian.toLowerCase()) problems.push(`attestation of ${a.guardian} does not recover to it`);
    else if (!members.has(signer)) problems.push(`${signer} is not in the guardian set`);
    else guardians.add(signer);
  });
  return { guardians, problems };
}

/** Where `now` (unix seconds) stands against epoch e's commit window [epochStart, commitDeadline). */
export function commitWindowState(
  now: number,
  window: { epochStart: number; commitDeadline: number },
): 'early' | 'open' | 'closed' {
  if (now < window.epochStart) return 'early';
  return now < window.commitDeadline ? 'open' : 'closed';
}
