/**
 * Epoch commitments of edge nodes (docs/keepers.md §3): `EpochCommitment(uint32 epoch, bytes32 root,
 * uint128 totalUnits, uint64 leafCount)` signed EIP-712 by the node key under the NodeStaking domain,
 * byte-for-byte `NodeStaking.commitmentDigest`, so two different signed commitments of one epoch are an
 * equivocation proof `NodeStaking.proveEquivocation` accepts. Also the node-key registration consent
 * `NodeKeyConsent(address operator)` under the same domain. Pure: no I/O.
 *
 * Wire form of a signed commitment (JSON): `{ commitment: { epoch, root, totalUnits, leafCount }, signature,
 * nodeKey }` with epoch a number, totalUnits and leafCount decimal strings, hex lowercase.
 */
import { z } from 'zod';
import { hashTypedData, recoverAddress, type Address, type Hex, type TypedDataDomain } from 'viem';
import { sign } from 'viem/accounts';
import { address, decimalBigint, describeZodError, hex32, secpSignature, uint32 } from './wire.js';
import { SendnetError } from './errors.js';

/** The struct as the contract takes it (viem's types for uint32 / bytes32 / uint128 / uint64). */
export interface EpochCommitment {
  epoch: number;
  root: Hex;
  totalUnits: bigint;
  leafCount: bigint;
}

export interface SignedCommitment {
  commitment: EpochCommitment;
  /** 65-byte secp256k1 signature over `commitmentDigest`. */
  signature: Hex;
  /** The node key (the signer), lowercase. */
  nodeKey: Address;
}

export const EPOCH_COMMITMENT_TYPES = {
  EpochCommitment: [
    { name: 'epoch', type: 'uint32' },
    { name: 'root', type: 'bytes32' },
    { name: 'totalUnits', type: 'uint128' },
    { name: 'leafCount', type: 'uint64' },
  ],
} as const;

export const NODE_KEY_CONSENT_TYPES = { NodeKeyConsent: [{ name: 'operator', type: 'address' }] } as const;

export class CommitmentFormatError extends SendnetError {
  override name = 'CommitmentFormatError';
  override readonly code = 'commitment-format';
}

/** EIP-712 domain of a NodeStaking deployment. */
export function nodeStakingDomain(chainId: number, stakingAddress: Address): TypedDataDomain {
  return { name: 'SendingNetwork NodeStaking', version: '1', chainId, verifyingContract: stakingAddress };
}

/** Equals `NodeStaking.commitmentDigest(c)` on the deployment `domain` describes. */
export function commitmentDigest(domain: TypedDataDomain, c: EpochCommitment): Hex {
  return hashTypedData({ domain, types: EPOCH_COMMITMENT_TYPES, primaryType: 'EpochCommitment', message: c });
}

/** Equals `NodeStaking.nodeKeyConsentDigest(operator)`. */
export function nodeKeyConsentDigest(domain: TypedDataDomain, operator: Address): Hex {
  return hashTypedData({ domain, types: NODE_KEY_CONSENT_TYPES, primaryType: 'NodeKeyConsent', message: { operator } });
}

/** A raw private key, or anything that signs a 32-byte hash (a viem local account). */
export type SecpSigner = Hex | { sign(parameters: { hash: Hex }): Promise<Hex> };

async function signHash(signer: SecpSigner, hash: Hex): Promise<Hex> {
  if (typeof signer === 'string') return sign({ hash, privateKey: signer, to: 'hex' });
  return signer.sign({ hash });
}

export function signCommitment(signer: SecpSigner, domain: TypedDataDomain, c: EpochCommitment): Promise<Hex> {
  return signHash(signer, commitmentDigest(domain, c));
}

/** The node key's consent (the `keyConsent` argument of `NodeStaking.register`) to be registered by `operator`. */
export function signNodeKeyConsent(nodeKey: SecpSigner, domain: TypedDataDomain, operator: Address): Promise<Hex> {
  return signHash(nodeKey, nodeKeyConsentDigest(domain, operator));
}

/** The address that signed `c` (lowercase); throws on a malformed signature. */
export async function recoverCommitmentSigner(
  domain: TypedDataDomain,
  c: EpochCommitment,
  signature: Hex,
): Promise<Address> {
  const signer = await recoverAddress({ hash: commitmentDigest(domain, c), signature });
  return signer.toLowerCase() as Address;
}

/** True when the signed commitment's signature recovers to its `nodeKey`; never throws. */
export async function verifySignedCommitment(domain: TypedDataDomain, s: SignedCommitment): Promise<boolean> {
  try {
    return (await recoverCommitmentSigner(domain, s.commitment, s.signature)) === s.nodeKey.toLowerCase();
  } catch {
    return false;
  }
}

/** Two signed commitments that `proveEquivocation` accepts: same signer and epoch, different content. */
export function isEquivocation(a: SignedCommitment, b: SignedCommitment): boolean {
  return (
    a.nodeKey.toLowerCase() === b.nodeKey.toLowerCase() &&
    a.commitment.epoch === b.commitment.epoch &&
    (a.commitment.root.toLowerCase() !== b.commitment.root.toLowerCase() ||
      a.commitment.totalUnits !== b.commitment.totalUnits ||
      a.commitment.leafCount !== b.commitment.leafCount)
  );
}

// ------------------------------------------------------------------------------------------- wire

export const epochCommitmentSchema = z.object({
  epoch: uint32,
  root: hex32,
  totalUnits: decimalBigint(128),
  leafCount: decimalBigint(64),
});

export const signedCommitmentSchema = z.object({
  commitment: epochCommitmentSchema,
  signature: secpSignature,
  nodeKey: address,
});

/** Parses the JSON wire form; the error names the offending field. Does not check the signature. */
export function parseSignedCommitment(value: unknown): SignedCommitment {
  const parsed = signedCommitmentSchema.safeParse(value);
  if (!parsed.success)
    throw new CommitmentFormatError(`malformed signed commitment: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

export function commitmentToWire(c: EpochCommitment) {
  return {
    epoch: c.epoch,
    root: c.root.toLowerCase(),
    totalUnits: c.totalUnits.toString(),
    leafCount: c.leafCount.toString(),
  };
}

export function signedCommitmentToWire(s: SignedCommitment) {
  return {
    commitment: commitmentToWire(s.commitment),
    signature: s.signature.toLowerCase(),
    nodeKey: s.nodeKey.toLowerCase(),
  };
}
