/**
 * Relay login: a client proves it holds the private half of its device key by signing the node's
 * one-time challenge.
 *
 *   loginHash = keccak256(abi.encode("SN-LOGIN-1", bytes32 nonce, address node, uint256 did, bytes32 key))
 *   sig       = Ed25519(key, loginHash bytes)
 *
 * Binding the node address stops a login signed for one node from being replayed at another; the nonce
 * is fresh per connection. Pure: no I/O.
 */
import { encodeAbiParameters, hexToBytes, type Address, type Hex } from 'viem';
import { keccak } from './merkle.js';
import { ed25519Sign, ed25519Verify, type DeviceSigningKey } from './relay.js';

const LOGIN_PARAMS = [
  { type: 'string' },
  { type: 'bytes32' },
  { type: 'address' },
  { type: 'uint256' },
  { type: 'bytes32' },
] as const;

export interface LoginFields {
  nonce: Hex;
  node: Address;
  did: string;
  key: Hex;
}

export function loginHash(f: LoginFields): Uint8Array {
  return keccak(hexToBytes(encodeAbiParameters(LOGIN_PARAMS, ['SN-LOGIN-1', f.nonce, f.node, BigInt(f.did), f.key])));
}

export function signLogin(f: LoginFields, key: DeviceSigningKey): Hex {
  return ed25519Sign(loginHash(f), key);
}

export function verifyLogin(f: LoginFields, sig: Hex): boolean {
  return ed25519Verify(f.key, loginHash(f), sig);
}

/** Where an edge node checks login keys: Active on-chain for the DID the client names (chain/didKeyDirectory.ts). */
export interface LoginKeyDirectory {
  lookup(key: Hex): Promise<{ active: boolean; did: bigint } | undefined>;
}
