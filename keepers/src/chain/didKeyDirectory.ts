/**
 * Login key checks against the chain: a device key may log in only while `DidRegistry.keyState(key)` says
 * it is an Active Ed25519 key of the DID the client names. Answers are cached for `cacheMs` (default 10 s),
 * so a reconnect storm costs one RPC call per key.
 */
import type { Address, Hex, PublicClient } from 'viem';
import { didRegistryAbi } from '../generated/contracts.js';
import { KeyType } from './did.js';
import type { LoginKeyDirectory } from '../core/relayLogin.js';

const KEY_STATUS_ACTIVE = 1;

export function didRegistryKeyDirectory(
  publicClient: PublicClient,
  registry: Address,
  cacheMs = 10_000,
): LoginKeyDirectory {
  const cache = new Map<Hex, { at: number; value: { active: boolean; did: bigint } | undefined }>();
  return {
    async lookup(key) {
      const hit = cache.get(key);
      if (hit && Date.now() - hit.at < cacheMs) return hit.value;
      const [status, did, keyType] = await publicClient.readContract({
        address: registry,
        abi: didRegistryAbi,
        functionName: 'keyState',
        args: [key],
      });
      const value =
        did === 0n ? undefined : { active: status === KEY_STATUS_ACTIVE && keyType === KeyType.Ed25519, did };
      cache.set(key, { at: Date.now(), value });
      return value;
    },
  };
}
