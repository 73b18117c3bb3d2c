/**
 * Contracts deployed one by one with viem from the forge build's artifacts (`out/<File>.sol/<Contract>.json`;
 * needs `forge build`), for tests and benchmarks that need a contract without the whole deploy script:
 * - the WatchDog license and presale, in the order and wiring the deploy script must follow (license first,
 *   its minter being the presale's predicted address; the presale then checks it is the license's only
 *   minter), and a stand-in stablecoin;
 * - the DID registry and its ENS universal resolver.
 */
import {
  getAddress,
  getContractAddress,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { DID_TLD } from '../chain/did.js';
import { loadArtifact, type Artifact } from './artifacts.js';

export { loadArtifact } from './artifacts.js';

export const licenseArtifact = () => loadArtifact('WatchDogLicense');
export const presaleArtifact = () => loadArtifact('WatchDogPresale');

export interface Tier {
  start: number;
  ethPrice: bigint;
  tokenPrice: bigint;
}

export interface AllowlistPhase {
  start: number;
  end: number;
  reserve: number;
  merkleRoot: Hex;
}

export interface PublicPhase {
  start: number;
  end: number;
  walletCap: number;
  txCap: number;
}

export interface WatchDogSaleParams {
  owner: Address;
  treasury: Address;
  paymentToken: Address;
  supply: number;
  tiers: Tier[];
  /** Omitted: schedule later with `setAllowlistPhase`. */
  allowlist?: AllowlistPhase;
  /** Omitted: schedule later with `setPublicPhase`. */
  publicPhase?: PublicPhase;
  /** From this time a sale neither finalized nor cancelled is expired and its buyers refund themselves; every phase ends by then. */
  selfRefundTime: number;
  /** Refunds end at this time (after `selfRefundTime`); what is left then goes to the treasury. */
  refundDeadline: number;
  unlockTime: bigint;
  maxUnlockTime: bigint;
  name?: string;
  symbol?: string;
  baseURI?: string;
}

export interface WatchDogSale {
  license: Address;
  presale: Address;
  licenseAbi: Abi;
  presaleAbi: Abi;
}

type Wallet = WalletClient<Transport, Chain, Account>;

const NO_ALLOWLIST: AllowlistPhase = { start: 0, end: 0, reserve: 0, merkleRoot: `0x${'0'.repeat(64)}` };
const NO_PUBLIC: PublicPhase = { start: 0, end: 0, walletCap: 0, txCap: 0 };

/** Deploys the license then the presale from `wallet` (two consecutive nonces) and checks the wiring. */
export async function deployWatchDogSale(
  publicClient: PublicClient,
  wallet: Wallet,
  params: WatchDogSaleParams,
): Promise<WatchDogSale> {
  const license = licenseArtifact();
  const presale = presaleArtifact();
  const deployer = wallet.account.address;
  const nonce = await publicClient.getTransactionCount({ address: deployer, blockTag: 'pending' });
  const predictedLicense = getContractAddress({ from: deployer, nonce: BigInt(nonce) });
  const predictedPresale = getContractAddress({ from: deployer, nonce: BigInt(nonce + 1) });

  const licenseHash = await wallet.deployContract({
    abi: license.abi,
    bytecode: license.bytecode,
    nonce,
    args: [
      {
        name: params.name ?? 'SendingNetwork WatchDog License',
        symbol: params.symbol ?? 'SNWD',
        baseURI: params.baseURI ?? 'https://licenses.sendingnetwork.example/watchdog/',
        owner: params.owner,
        minter: predictedPresale,
        unlockTime: params.unlockTime,
        maxUnlockTime: params.maxUnlockTime,
      },
    ],
  });
  const presaleHash = await wallet.deployContract({
    abi: presale.abi,
    bytecode: presale.bytecode,
    nonce: nonce + 1,
    args: [
      {
        owner: params.owner,
        license: predictedLicense,
        paymentToken: params.paymentToken,
        treasury: params.treasury,
        supply: params.supply,
        tiers: params.tiers,
        allowlist: params.allowlist ?? NO_ALLOWLIST,
        publicPhase: params.publicPhase ?? NO_PUBLIC,
        selfRefundTime: params.selfRefundTime,
        refundDeadline: params.refundDeadline,
      },
    ],
  });
  const [licenseReceipt, presaleReceipt] = await Promise.all([
    publicClient.waitForTransactionReceipt({ hash: licenseHash }),
    publicClient.waitForTransactionReceipt({ hash: presaleHash }),
  ]);
  if (
    licenseReceipt.status !== 'success' ||
    licenseReceipt.contractAddress?.toLowerCase() !== predictedLicense.toLowerCase()
  ) {
    throw new Error(`WatchDogLicense deployment failed or landed elsewhere (${licenseReceipt.contractAddress})`);
  }
  if (
    presaleReceipt.status !== 'success' ||
    presaleReceipt.contractAddress?.toLowerCase() !== predictedPresale.toLowerCase()
  ) {
    throw new Error(`WatchDogPresale deployment failed or landed elsewhere (${presaleReceipt.contractAddress})`);
  }
  return { license: predictedLicense, presale: predictedPresale, licenseAbi: license.abi, presaleAbi: presale.abi };
}

/**
 * A plain OpenZeppelin ERC-20 standing in for the stablecoin on local chains: a SendToken whose four
 * allocations all go to `holder` (1,000,000,000 tokens, 18 decimals).
 */
export async function deployStandInStablecoin(
  publicClient: PublicClient,
  wallet: Wallet,
  holder: Address,
): Promise<Address> {
  const token = loadArtifact('SendToken');
  const hash = await wallet.deployContract({
    abi: token.abi,
    bytecode: token.bytecode,
    args: [{ nodeRewards: holder, licensePool: holder, guardianRewards: holder, treasury: holder }],
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress)
    throw new Error('stand-in stablecoin deployment failed');
  return receipt.contractAddress;
}

// ------------------------------------------------------------------------------------------------ DID

export const didRegistryArtifact = () => loadArtifact('DidRegistry.sol', 'DidRegistry');
export const didUniversalResolverArtifact = () => loadArtifact('DidUniversalResolver.sol', 'DidUniversalResolver');

export interface DidDeployment {
  registry: Address;
  universalResolver: Address;
  registryAbi: Abi;
  universalResolverAbi: Abi;
}

/**
 * Deploys DidRegistry(tld, minCommitmentAge, maxCommitmentAge) and DidUniversalResolver(registry) from
 * `deployer` (ages in seconds; the devnet's by default).
 */
export async function deployDid(
  deployer: WalletClient<Transport, Chain, Account>,
  publicClient: PublicClient,
  tld: string = DID_TLD,
  commitmentAges: { min: number; max: number } = { min: 2, max: 86_400 },
): Promise<DidDeployment> {
  const registryArtifact = didRegistryArtifact();
  const resolverArtifact = didUniversalResolverArtifact();
  const deploy = async (artifact: Artifact, args: readonly unknown[]) => {
    const hash = await deployer.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deployment ${hash} failed`);
    return getAddress(receipt.contractAddress);
  };
  const registry = await deploy(registryArtifact, [tld, commitmentAges.min, commitmentAges.max]);
  const universalResolver = await deploy(resolverArtifact, [registry]);
  return { registry, universalResolver, registryAbi: registryArtifact.abi, universalResolverAbi: resolverArtifact.abi };
}
