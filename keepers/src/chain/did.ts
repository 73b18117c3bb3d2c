/**
 * DID registry facts every program shares: the top-level label, token ids of names, the EIP-712 domain and
 * the consents the registry checks, key types. Deploying the registry from the forge artifacts is dev
 * tooling: devnet/contractDeployments.ts.
 */
import { hexToBigInt, stringToHex, type Address } from 'viem';

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
