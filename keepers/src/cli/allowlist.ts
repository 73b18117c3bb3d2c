/**
 * The published presale allowlist (docs/cli.md, "Allowlist file"):
 *
 *   { "phase": 1, "root": "0x…", "entries": [ { "account": "0x…", "max": 3 }, … ] }
 *
 * The buyer's proof is found by rebuilding the tree with `allowlistTree` (chain/watchdog.ts, the same leaves
 * `WatchDogPresale.allowlistLeaf` hashes) and checking the rebuilt root against the file's and the sale's.
 */
import type { Address, Hex } from 'viem';
import { z } from 'zod';
import { allowlistTree } from '../chain/watchdog.js';
import { hexString } from '../core/wire.js';
import { InputError, RejectedError } from './errors.js';
import { readJsonSource } from './jsonSource.js';

const address = hexString(20, 'must be a 0x-prefixed 20-byte hex address').transform((s) => s as Address);

export const allowlistSchema = z.object({
  phase: z.union([z.literal(1), z.literal('allowlist')]),
  root: hexString(32, 'must be 32 bytes of 0x hex').transform((s) => s.toLowerCase() as Hex),
  entries: z
    .array(
      z.object({
        account: address,
        max: z
          .union([z.number().int().positive(), z.string().regex(/^\d+$/, 'must be a whole number')])
          .transform((v) => BigInt(v)),
      }),
    )
    .min(1, 'must list at least one account'),
});
export type AllowlistFile = z.infer<typeof allowlistSchema>;

export const loadAllowlist = (source: string) => readJsonSource(source, 'allowlist', allowlistSchema);

/** The JSON document for `entries` (what a sale owner publishes). */
export function allowlistDocument(entries: readonly { account: Address; max: bigint | number }[]) {
  const tree = allowlistTree(entries.map((e) => ({ account: e.account, maxQuantity: BigInt(e.max) })));
  return {
    phase: 1 as const,
    root: tree.root,
    entries: entries.map((e) => ({ account: e.account, max: Number(e.max) })),
  };
}

/** `account`'s allowance and proof; the rebuilt root must equal the file's and the sale's `onChainRoot`. */
export function allowlistProof(
  doc: AllowlistFile,
  source: string,
  account: Address,
  onChainRoot: Hex,
): { maxQuantity: bigint; proof: Hex[] } {
  const tree = allowlistTree(doc.entries.map((e) => ({ account: e.account, maxQuantity: e.max })));
  if (tree.root !== doc.root) {
    throw new InputError(
      `The allowlist ${source} is inconsistent: its entries hash to ${tree.root}, not to its root ${doc.root}.`,
    );
  }
  if (doc.root !== onChainRoot.toLowerCase()) {
    throw new RejectedError(
      `The allowlist ${source} (root ${doc.root}) is not the sale's allowlist (root ${onChainRoot}): get the published file.`,
      'AllowlistMismatch',
    );
  }
  const index = doc.entries.findIndex((e) => e.account.toLowerCase() === account.toLowerCase());
  if (index < 0) throw new RejectedError(`${account} is not on the allowlist ${source}.`, 'NotAllowlisted');
  return { maxQuantity: doc.entries[index]!.max, proof: tree.proof(index) };
}
