/**
 * DID registry helpers shared by tests and benchmarks: load the forge artifacts, deploy the registry and its
 * ENS universal resolver with viem, and build the EIP-712 consents the registry checks.
 */
import {
  getAddress,
  hexToBigInt,
  stringToHex,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { loadArtifact, type Artifact } from '../devnet/artifacts.js';

/** Top-level label DID names resolve under (`alice.send`). */
export const DID_TLD = 'send';

export const didRegistryArtifact = () => loadArtifact('DidRegistry.sol', 'DidRegistry');
export const didUniversalResolverArtifact = () => loadArtifact('DidUniversalResolver.sol', 'DidUniversalResolver');

export interface DidDeployment {
  registry: Address;
  universalResolver: Address;
  registryAbi: Abi;
  universalResolverAbi: Abi;
}

/** Deploys DidRegistry(tld) and DidUniversalResolver(registry) from `deployer`. */
export async function deployDid(
  deployer: WalletClient<Transport, Chain, Account>,
  publicClient: PublicClient,
  tld: string = DID_TLD,
): Promise<DidDeployment> {
  const registryArtifact = didRegistryArtifact();
  const resolverArtifact = didUniversalResolverArtifact();
  const deploy = async (artifact: Artifact, args: readonly unknown[]) => {
    const hash = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deployment ${hash} failed`);
    return getAddress(receipt.contractAddress);
  };
  const registry = await deploy(registryArtifact, [tld]);
  const universalResolver = await deploy(resolverArtifact, [registry]);
  return { registry, universalResolver, registryAbi: registryArtifact.abi, universalResolverAbi: resolverArtifact.abi };
}

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
