/**
 * Reward proofs published by the keeper for a finalized epoch (docs/cli.md, "Reward proofs"):
 *
 *   { "epoch": 12, "root": "0x…",
 *     "claims":   { "<account>": { "cumulative": "123…", "proof": ["0x…", …] } },
 *     "licenses": { "<tokenId>": { "cumulative": "456…", "proof": ["0x…", …] } } }   // optional
 *
 * served at `GET {keeper}/epochs/:epoch/claims` or saved as a file. Amounts are decimal strings (wei).
 * Entries are checked against the document's root here, before anything is sent.
 */
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { hashPair, licenseRewardLeaf, rewardLeaf } from '../core/merkle.js';
import { hexString } from '../core/wire.js';
import { InputError, RejectedError } from './errors.js';
import { isUrl, readJsonSource } from './jsonSource.js';

const hex32 = hexString(32, 'must be 32 bytes of 0x hex').transform((s) => s.toLowerCase() as Hex);
const claimEntry = z.object({
  cumulative: z.string().regex(/^\d+$/, 'must be a decimal string (wei)').transform(BigInt),
  proof: z.array(hex32),
});

export const rewardProofsSchema = z.object({
  epoch: z.number().int().positive(),
  root: hex32,
  claims: z.record(hexString(20, 'keys must be addresses'), claimEntry),
  licenses: z.record(z.string().regex(/^\d+$/, 'keys must be token ids'), claimEntry).optional(),
});
export type RewardProofs = z.infer<typeof rewardProofsSchema>;
export type ClaimEntry = z.infer<typeof claimEntry>;

/** `--proofs` with `{epoch}` replaced by `epoch` (so one URL template serves every epoch). */
export function proofsSource(source: string, epoch: number): string {
  return source.replaceAll('{epoch}', String(epoch));
}

export async function loadRewardProofs(source: string): Promise<RewardProofs> {
  return readJsonSource(source, 'reward proofs', rewardProofsSchema);
}

/** Root reached from `leaf` through `proof` (OpenZeppelin sorted-pair hashing). */
export function processProof(leaf: Uint8Array, proof: readonly Hex[]): Hex {
  let node = leaf;
  for (const sibling of proof) node = hashPair(node, hexToBytes(sibling));
  return bytesToHex(node);
}

function checkAgainst(doc: RewardProofs, source: string, leaf: Uint8Array, entry: ClaimEntry, who: string) {
  if (processProof(leaf, entry.proof) !== doc.root) {
    throw new InputError(
      `The proof for ${who} in ${isUrl(source) ? 'the reward proofs at ' : ''}${source} does not lead to its root ${doc.root}: the document is corrupt.`,
    );
  }
}

/** `account`'s entry, verified against the document's root. */
export function accountClaim(doc: RewardProofs, source: string, account: Address): ClaimEntry {
  const key = Object.keys(doc.claims).find((k) => k.toLowerCase() === account.toLowerCase());
  if (!key)
    throw new RejectedError(`${account} has no rewards in the epoch ${doc.epoch} proofs from ${source}.`, 'NoRewards');
  const entry = doc.claims[key]!;
  checkAgainst(doc, source, rewardLeaf(account, entry.cumulative), entry, account);
  return entry;
}

/** License `tokenId`'s entry, verified against the document's root. */
export function licenseClaim(doc: RewardProofs, source: string, tokenId: bigint): ClaimEntry {
  const entry = doc.licenses?.[tokenId.toString()];
  if (!entry)
    throw new RejectedError(
      `License ${tokenId} has no rewards in the epoch ${doc.epoch} proofs from ${source}.`,
      'NoRewards',
    );
  checkAgainst(doc, source, licenseRewardLeaf(tokenId, entry.cumulative), entry, `license ${tokenId}`);
  return entry;
}

/** Refuses proofs of another epoch than the one claims are checked against now. */
export function requireCurrentRoot(doc: RewardProofs, source: string, onChain: { epoch: number; root: Hex }): void {
  if (onChain.epoch === 0)
    throw new RejectedError('No epoch has been finalized yet, so there are no rewards to claim.', 'NoFinalizedEpoch');
  if (doc.root !== onChain.root.toLowerCase()) {
    throw new RejectedError(
      `The proofs from ${source} are for epoch ${doc.epoch} but claims are checked against finalized epoch ${onChain.epoch}: fetch the proofs of epoch ${onChain.epoch}.`,
      'StaleProofs',
    );
  }
}
