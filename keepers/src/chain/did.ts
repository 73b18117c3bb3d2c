/**
 * DID registry facts every program shares: the top-level label, token ids of names, the EIP-712 domain and
 * the consents the registry checks, key types. Deploying the registry from the forge artifacts is dev
 * tooling: devnet/contractDeployments.ts.
 */
import { bytesToHex, encodeAbiParameters, hexToBigInt, keccak256, stringToHex, type Address, type Hex } from 'viem';

/** Top-level label DID names resolve under (`alice.send`). */
export const DID_TLD = 'send';

/** Token id of a DID name: its ASCII bytes read as a big-endian integer. */
export function didId(name: string): bigint {
  return hexToBigInt(stringToHex(name));
}

export const didDomain = (chainId: number, registry: Address) =>
  ({ name: 'SendingNetwork DidRegistry', version: '1', chainId, verifyingContract: registry }) as const;

export const linkConsentTypes = {
  LinkConsent: [
    { name: 'did', type: 'uint256' },
    { name: 'wallet', type: 'address' },
    { name: 'owner', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

export const transferConsentTypes = {
  TransferConsent: [
    { name: 'did', type: 'uint256' },
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

/** Key types of `DidKeys.KeyType`. */
export const KeyType = { Ed25519: 0, X25519: 1 } as const;

/** `DidCommitments.REGISTER_COMMITMENT_TYPEHASH`. */
export const REGISTER_COMMITMENT_TYPEHASH = keccak256(
  stringToHex('RegisterCommitment(uint256 did,address owner,bytes32 secret)'),
);
/** `DidCommitments.KEY_COMMITMENT_TYPEHASH`. */
export const KEY_COMMITMENT_TYPEHASH = keccak256(
  stringToHex('KeyCommitment(uint256 did,bytes32 key,uint8 keyType,address owner)'),
);

/**
 * The commitment `owner` sends (`DidRegistry.commit`) at least `minCommitmentAge` seconds before
 * `register(name, secret)`: `keccak256(abi.encode(REGISTER_COMMITMENT_TYPEHASH, didId(name), owner, secret))`.
 */
export function registerCommitment(name: string, owner: Address, secret: Hex): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'bytes32' }],
      [REGISTER_COMMITMENT_TYPEHASH, didId(name), owner, secret],
    ),
  );
}

/**
 * The commitment `owner` sends at least `minCommitmentAge` seconds before `addKey(did, key, keyType, …)`:
 * `keccak256(abi.encode(KEY_COMMITMENT_TYPEHASH, did, key, keyType, owner))` (no secret: a fresh public key
 * is unguessable until its `addKey` reveals it).
 */
export function keyCommitment(did: bigint, key: Hex, keyType: number, owner: Address): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'bytes32' }, { type: 'uint8' }, { type: 'address' }],
      [KEY_COMMITMENT_TYPEHASH, did, key, keyType, owner],
    ),
  );
}

/** A random 32-byte secret for a name commitment. */
export const commitmentSecret = (): Hex => bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
