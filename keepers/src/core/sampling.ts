/**
 * Randomness uses of an epoch (docs/keepers.md §3–4, docs/protocol.md §6): the sampling and assignment
 * seeds, the k sample targets per node and the leaves they pick, the WatchDog-to-node assignment, and the
 * opening of a sampled leaf (wire schema + full verification against the node's commitment).
 *
 *   samplingSeed   = keccak256(abi.encode(uint32 epoch, bytes32 blockHash))
 *   assignmentSeed = keccak256(abi.encode("SN-ASSIGN-1", uint32 epoch, bytes32 blockHash))
 *   r_i            = uint256(keccak256(abi.encode(bytes32 seed, address nodeKey, uint32 i))) mod totalUnits
 *   assignment key = keccak256(abi.encode(bytes32 assignSeed, address node, uint256 tokenId))
 *
 * Pure: no I/O.
 */
import { z } from 'zod';
import { bytesToHex, encodeAbiParameters, hexToBytes, type Address, type Hex } from 'viem';
import { compareBytes, keccak } from './merkle.js';
import {
  ackHashBytes,
  MAX_TICKET_UNITS,
  checkReceipt,
  receiptLeafFromHashes,
  receiptSchema,
  ticketHashBytes,
  type ReceiptRejection,
} from './relay.js';
import { sumSiblingSchema, verifySumPath, type SumPathRejection, type SumSibling, type SumTree } from './sumTree.js';
import type { EpochCommitment } from './commitment.js';
import { assertUint32, isHex32 } from './wire.js';

/** Samples per node and epoch (default). */
export const DEFAULT_SAMPLES = 32;
/** WatchDogs per node (default). */
export const DEFAULT_WATCHDOGS_PER_NODE = 5;

function checkHex32(what: string, value: Hex): void {
  if (!isHex32(value)) throw new RangeError(`${what} must be 32 bytes of hex, got ${value}`);
}

function writeUint(buffer: Uint8Array, end: number, value: bigint): void {
  for (let i = end - 1; value > 0n; i--, value >>= 8n) buffer[i] = Number(value & 0xffn);
}

function writeAddress(buffer: Uint8Array, offset: number, who: Address): void {
  const bytes = hexToBytes(who);
  if (bytes.length !== 20) throw new RangeError(`not a 20-byte address: ${who}`);
  buffer.set(bytes, offset + 12);
}

function toBigint(bytes: Uint8Array): bigint {
  return BigInt(bytesToHex(bytes));
}

/** The header's sampling seed; `blockHash` of the first block at or after the commit deadline. */
export function samplingSeed(epoch: number, blockHash: Hex): Hex {
  assertUint32('epoch', epoch);
  checkHex32('blockHash', blockHash);
  return bytesToHex(
    keccak(hexToBytes(encodeAbiParameters([{ type: 'uint32' }, { type: 'bytes32' }], [epoch, blockHash]))),
  );
}

/** The WatchDog assignment seed; `blockHash` of the first block at or after epochStart − assignmentLeadSeconds. */
export function assignmentSeed(epoch: number, blockHash: Hex): Hex {
  assertUint32('epoch', epoch);
  checkHex32('blockHash', blockHash);
  const encoded = encodeAbiParameters(
    [{ type: 'string' }, { type: 'uint32' }, { type: 'bytes32' }],
    ['SN-ASSIGN-1', epoch, blockHash],
  );
  return bytesToHex(keccak(hexToBytes(encoded)));
}

/** The k targets r_0..r_{k−1} of a node (empty when totalUnits is 0: the node is not sampled). */
export function sampleTargets(seed: Hex, nodeKey: Address, totalUnits: bigint, k: number = DEFAULT_SAMPLES): bigint[] {
  checkHex32('seed', seed);
  assertUint32('k', k);
  if (totalUnits < 0n) throw new RangeError(`totalUnits must be ≥ 0, got ${totalUnits}`);
  if (totalUnits === 0n) return [];
  const buffer = new Uint8Array(96);
  buffer.set(hexToBytes(seed), 0);
  writeAddress(buffer, 32, nodeKey);
  const targets: bigint[] = new Array(k);
  for (let i = 0; i < k; i++) {
    buffer.fill(0, 64);
    writeUint(buffer, 96, BigInt(i));
    targets[i] = toBigint(keccak(buffer)) % totalUnits;
  }
  return targets;
}

export interface Sample {
  /** Sample number i. */
  i: number;
  target: bigint;
  /** Leaf index the walk from the root reaches. */
  index: number;
}

/** The k samples of a node's tree: target r_i and the leaf it falls in. */
export function sampleLeafIndices(tree: SumTree, seed: Hex, nodeKey: Address, k: number = DEFAULT_SAMPLES): Sample[] {
  return sampleTargets(seed, nodeKey, tree.totalUnits, k).map((target, i) => ({
    i,
    target,
    index: tree.findLeafForTarget(target),
  }));
}

export interface WatchdogCandidate {
  tokenId: bigint;
  /** The license's operator key (`WatchDogLicense.operatorOf`). */
  operator: Address;
  /** The license's holder (`ownerOf`): WatchDogs are assigned by owner, so one holder's licenses count once. */
  owner: Address;
}

/**
 * WatchDogs per node: for each node, candidates ordered by keccak256(abi.encode(assignSeed, node, tokenId))
 * ascending; the first `m` with pairwise different owners and pairwise different operator keys, skipping
 * any license whose owner or operator key is the node's own operator (fewer if there are not enough
 * owners). Assigning by owner means two licenses of one holder never both judge a node, so a colluding
 * pair needs two holders, and with m = 5 two samples cannot move the median (docs/keepers.md §4).
 * Keys of the result are lowercase node keys in ascending order; each list is in pick order.
 * `nodeOperators`: node key → its operator (lowercase); a node missing from it has no exclusion.
 */
export function assignWatchdogs(args: {
  assignSeed: Hex;
  nodes: readonly Address[];
  watchdogs: readonly WatchdogCandidate[];
  m?: number;
  nodeOperators?: ReadonlyMap<string, string>;
}): Map<Address, bigint[]> {
  const m = args.m ?? DEFAULT_WATCHDOGS_PER_NODE;
  checkHex32('assignSeed', args.assignSeed);
  assertUint32('m', m);
  const seen = new Set<bigint>();
  for (const w of args.watchdogs) {
    if (w.tokenId < 0n || w.tokenId >= 1n << 256n) throw new RangeError(`tokenId out of uint256 range: ${w.tokenId}`);
    if (seen.has(w.tokenId)) throw new RangeError(`WatchDog tokenId ${w.tokenId} listed twice`);
    seen.add(w.tokenId);
  }
  const nodes = [...new Set(args.nodes.map((n) => n.toLowerCase() as Address))].sort((a, b) =>
    BigInt(a) < BigInt(b) ? -1 : 1,
  );
  const buffer = new Uint8Array(96);
  buffer.set(hexToBytes(args.assignSeed), 0);
  const result = new Map<Address, bigint[]>();
  for (const node of nodes) {
    buffer.fill(0, 32, 64);
    writeAddress(buffer, 32, node);
    const ranked = args.watchdogs.map((w) => {
      buffer.fill(0, 64);
      writeUint(buffer, 96, w.tokenId);
      return { w, key: keccak(buffer) };
    });
    ranked.sort((a, b) => compareBytes(a.key, b.key) || (a.w.tokenId < b.w.tokenId ? -1 : 1));
    const nodeOperator = args.nodeOperators?.get(node)?.toLowerCase();
    const operators = new Set<string>();
    const owners = new Set<string>();
    const picked: bigint[] = [];
    for (const { w } of ranked) {
      if (picked.length >= m) break;
      const operator = w.operator.toLowerCase();
      const owner = w.owner.toLowerCase();
      if (operators.has(operator) || owners.has(owner)) continue;
      if (nodeOperator !== undefined && (owner === nodeOperator || operator === nodeOperator)) continue;
      operators.add(operator);
      owners.add(owner);
      picked.push(w.tokenId);
    }
    result.set(node, picked);
  }
  return result;
}

// ------------------------------------------------------------------------------------------- openings

/** JSON wire form of an opening: `{ index, ticket, ack, siblings: [{ hash, sum }] }` (sums decimal strings). */
export const openingSchema = z.object({
  index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  ...receiptSchema.shape,
  siblings: z.array(sumSiblingSchema).max(64),
});
export type Opening = z.infer<typeof openingSchema>;

/** The opening of leaf `index` of `tree` for a receipt, in wire form (ready for JSON). */
export function openingToWire(
  tree: SumTree,
  index: number,
  receipt: { ticket: Opening['ticket']; ack: Opening['ack'] },
) {
  return {
    index,
    ticket: receipt.ticket,
    ack: receipt.ack,
    siblings: tree.openingPath(index).map((s: SumSibling) => ({ hash: s.hash, sum: s.sum.toString() })),
  };
}

export type OpeningRejection = SumPathRejection | ReceiptRejection;

/**
 * Verifies one opening against the node's commitment for sample target `target`: the receipt leaf and
 * siblings give the committed root and total, the leaf's unit interval contains the target, and the
 * receipt passes `checkReceipt` (signatures, node, epoch, ack binding, sender ≠ recipient). Key
 * registration is the caller's check (`checkReceiptKeys`). Any rejection is objective fraud.
 */
export function verifyOpening(
  opening: Opening,
  /** `target` undefined: any leaf of the tree (a challenge receipt, looked up by envelope id). */
  expected: { node: Address; commitment: EpochCommitment; target: bigint | undefined },
): { ok: true; units: number; senderDid: string } | { ok: false; reason: OpeningRejection; detail: string } {
  const { commitment } = expected;
  // each hash once: the leaf and the signature checks share them
  const hashes = { ticketHash: ticketHashBytes(opening.ticket), ackHash: ackHashBytes(opening.ack) };
  const path = verifySumPath({
    leafHash: receiptLeafFromHashes(hashes.ticketHash, hashes.ackHash),
    units: BigInt(opening.ticket.units),
    index: opening.index,
    siblings: opening.siblings,
    root: commitment.root,
    totalUnits: commitment.totalUnits,
    leafCount: commitment.leafCount,
    target: expected.target,
    maxLeafUnits: BigInt(MAX_TICKET_UNITS),
  });
  if (!path.ok) return path;
  const receipt = checkReceipt(opening, { node: expected.node, epoch: commitment.epoch }, hashes);
  if (!receipt.ok) return receipt;
  return { ok: true, units: opening.ticket.units, senderDid: opening.ticket.senderDid };
}
