/**
 * WatchDog presale facts every program shares: phase and currency ids, allowlist leaves and trees (the
 * proofs buyers submit), and decoding the presale's and license's custom errors with the generated ABIs.
 * Deploying the sale from the forge artifacts is dev tooling: devnet/contractDeployments.ts.
 */
import { decodeErrorResult, encodeAbiParameters, hexToBytes, keccak256, type Address, type Hex } from 'viem';
import { buildTree, type MerkleTree } from '../core/merkle.js';
import { watchDogLicenseAbi, watchDogPresaleAbi } from '../generated/contracts.js';

/** Presale phase ids (`WatchDogPresale.Phase`); the allowlist's is bound into its leaves. */
export const Phase = { None: 0, Allowlist: 1, Public: 2 } as const;
/** `WatchDogPresale.Currency`. */
export const Currency = { Eth: 0, Token: 1 } as const;

/** Allowlist leaf: abi.encode(address account, uint256 maxQuantity, uint8 phase = 1), double-hashed. */
export function allowlistLeaf(account: Address, maxQuantity: bigint): Hex {
  const encoded = encodeAbiParameters(
    [{ type: 'address' }, { type: 'uint256' }, { type: 'uint8' }],
    [account, maxQuantity, Phase.Allowlist],
  );
  return keccak256(keccak256(encoded));
}

/** The allowlist tree (OpenZeppelin standard tree) over `entries`; proofs by entry index. */
export function allowlistTree(entries: readonly { account: Address; maxQuantity: bigint }[]): MerkleTree {
  return buildTree(entries.map((e) => hexToBytes(allowlistLeaf(e.account, e.maxQuantity))));
}

/** Name and arguments of a presale or license custom error from its revert data. */
export function decodeSaleError(data: Hex): { errorName: string; args: readonly unknown[] } {
  const abi = [...watchDogPresaleAbi, ...watchDogLicenseAbi];
  const decoded = decodeErrorResult({ abi, data });
  return { errorName: decoded.errorName, args: decoded.args ?? [] };
}
