/**
 * The epoch header guardians sign (EIP-712) and the hash chain that commits per-node scores.
 * Pure: the keeper, every guardian and the tests use these very functions.
 */
import {
  bytesToHex,
  hexToBytes,
  hashTypedData,
  parseSignature,
  signatureToCompactSignature,
  type Address,
  type Hex,
  type TypedDataDomain,
} from 'viem';
import { keccak } from './merkle.js';

export interface EpochHeader {
  epoch: number;
  consensusVersion: number;
  faultCount: number;
  totalCumulative: bigint;
  epochEmission: bigint;
  rewardRoot: Hex;
  faultRoot: Hex;
  scoresHash: Hex;
  dataHash: Hex;
  seed: Hex;
}

export interface NodeScore {
  nodeKey: Address;
  rank: number;
  score: number;
  availability: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  verifiedUnits: bigint;
  reward: bigint;
  faults: number;
}

export const EPOCH_HEADER_TYPES = {
  EpochHeader: [
    { name: 'epoch', type: 'uint32' },
    { name: 'consensusVersion', type: 'uint32' },
    { name: 'faultCount', type: 'uint32' },
    { name: 'totalCumulative', type: 'uint96' },
    { name: 'epochEmission', type: 'uint96' },
    { name: 'rewardRoot', type: 'bytes32' },
    { name: 'faultRoot', type: 'bytes32' },
    { name: 'scoresHash', type: 'bytes32' },
    { name: 'dataHash', type: 'bytes32' },
    { name: 'seed', type: 'bytes32' },
  ],
} as const;

/** EIP-712 domain of an EpochSettlement deployment. */
export function settlementDomain(chainId: number, settlement: Address): TypedDataDomain {
  return { name: 'SendingNetwork EpochSettlement', version: '1', chainId, verifyingContract: settlement };
}

export function headerDigest(domain: TypedDataDomain, header: EpochHeader): Hex {
  return hashTypedData({ domain, types: EPOCH_HEADER_TYPES, primaryType: 'EpochHeader', message: header });
}

/** A 65-byte signature as the contract's compact (ERC-2098) `Signature { r, vs }`. */
export function toCompactSignature(signature: Hex): { r: Hex; vs: Hex } {
  const compact = signatureToCompactSignature(parseSignature(signature));
  return { r: compact.r, vs: compact.yParityAndS };
}

/** Value after the last link of a scores hash chain (`EpochHeaderLib.SCORES_END`). */
export const SCORES_END: Hex = '0x0000000000000000000000000000000000000000000000000000000000000001';

/** Words per `NodeScore` in `abi.encode(NodeScore[])` (a static tuple of 9 fields). */
const SCORE_WORDS = 9;
const MASK_64 = (1n << 64n) - 1n;

function putUint(view: DataView, offset: number, value: number, limit: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > limit)
    throw new RangeError(`NodeScore.${what} out of range: ${value}`);
  view.setUint32(offset + 28, value); // limits are at most 32 bits; the rest of the word stays zero
}

function putBig(view: DataView, offset: number, value: bigint, bits: bigint, what: string): void {
  if (value < 0n || value >= 1n << bits) throw new RangeError(`NodeScore.${what} out of range: ${value}`);
  view.setBigUint64(offset + 24, value & MASK_64);
  view.setBigUint64(offset + 16, value >> 64n);
}

/**
 * `abi.encode(NodeScore[] chunk)` written straight into one buffer: the same bytes as viem's
 * `encodeAbiParameters` (tested), without its per-field hex strings, which dominate the cost at 1M nodes.
 */
export function encodeScoreChunk(chunk: readonly NodeScore[]): Uint8Array {
  const out = new Uint8Array(64 + chunk.length * SCORE_WORDS * 32);
  const view = new DataView(out.buffer);
  view.setUint32(28, 0x20);
  view.setUint32(60, chunk.length);
  let o = 64;
  for (const s of chunk) {
    const key = s.nodeKey;
    if (key.length !== 42) throw new RangeError(`NodeScore.nodeKey is not a 20-byte address: ${key}`);
    for (let i = 0; i < 20; i++) {
      const byte = parseInt(key.slice(2 + 2 * i, 4 + 2 * i), 16);
      if (Number.isNaN(byte)) throw new RangeError(`NodeScore.nodeKey is not hex: ${key}`);
      out[o + 12 + i] = byte;
    }
    putUint(view, o + 32, s.rank, 0xffffffff, 'rank');
    putUint(view, o + 64, s.score, 0xffffffff, 'score');
    putUint(view, o + 96, s.availability, 0xffffffff, 'availability');
    putUint(view, o + 128, s.latencyP50Ms, 0xffffffff, 'latencyP50Ms');
    putUint(view, o + 160, s.latencyP95Ms, 0xffffffff, 'latencyP95Ms');
    putBig(view, o + 192, s.verifiedUnits, 64n, 'verifiedUnits');
    putBig(view, o + 224, s.reward, 96n, 'reward');
    putUint(view, o + 256, s.faults, 0xff, 'faults');
    o += SCORE_WORDS * 32;
  }
  return out;
}

/**
 * Splits scores into chunks and links them: `link_i = keccak256(abi.encode(keccak256(abi.encode(chunk_i)), link_{i+1}))`,
 * ending in SCORES_END. Returns the head (the header's `scoresHash`) and, per chunk, the `next` value
 * to pass to `publishScores`.
 */
export function scoresHashChain(scores: readonly NodeScore[], chunkSize: number) {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunk size must be >= 1, got ${chunkSize}`);
  const chunks: NodeScore[][] = [];
  for (let i = 0; i < scores.length; i += chunkSize) chunks.push(scores.slice(i, i + chunkSize));
  const nexts: Hex[] = new Array(chunks.length);
  let next: Hex = SCORES_END;
  const link = new Uint8Array(64);
  for (let i = chunks.length - 1; i >= 0; i--) {
    nexts[i] = next;
    link.set(keccak(encodeScoreChunk(chunks[i]!)), 0);
    link.set(hexToBytes(next), 32);
    next = bytesToHex(keccak(link));
  }
  return { head: next, chunks, nexts };
}

/** Anything that can sign a 32-byte hash (a viem local account). */
export interface HashSigner {
  address: Address;
  sign(parameters: { hash: Hex }): Promise<Hex>;
}

export interface QuorumSignatures {
  /** The guardian list, sorted ascending as the contract stores it. */
  guardians: Address[];
  /** Bit i set when guardians[i] signed. */
  signerBitmap: bigint;
  /** Compact signatures in ascending guardian order. */
  signatures: { r: Hex; vs: Hex }[];
}

/**
 * Collects signatures over `header` from `signers` (a subset of `guardianSet`) in the form
 * `submitEpoch` takes. Throws if a signer is not in the set.
 */
export async function collectQuorumSignatures(
  domain: TypedDataDomain,
  header: EpochHeader,
  guardianSet: readonly Address[],
  signers: readonly HashSigner[],
): Promise<QuorumSignatures> {
  const guardians = [...guardianSet].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  const index = new Map(guardians.map((g, i) => [g.toLowerCase(), i]));
  const digest = headerDigest(domain, header);
  const ordered = signers
    .map((signer) => {
      const i = index.get(signer.address.toLowerCase());
      if (i === undefined) throw new Error(`signer ${signer.address} is not in the guardian set`);
      return { i, signer };
    })
    .sort((a, b) => a.i - b.i);
  let signerBitmap = 0n;
  const signatures: { r: Hex; vs: Hex }[] = [];
  for (const { i, signer } of ordered) {
    if (signerBitmap & (1n << BigInt(i))) throw new Error(`guardian ${signer.address} listed twice`);
    signerBitmap |= 1n << BigInt(i);
    signatures.push(toCompactSignature(await signer.sign({ hash: digest })));
  }
  return { guardians, signerBitmap, signatures };
}
