/**
 * Edge-node registration on NodeStaking: the node key's EIP-712 `NodeKeyConsent(address operator)` (domain
 * "SendingNetwork NodeStaking" v1) and the approve + register transactions an operator sends.
 */
import type { Account, Address, Chain, Hex, LocalAccount, PublicClient, Transport, WalletClient } from 'viem';
import { nodeStakingAbi, sendTokenAbi } from '../generated/contracts.js';

export const stakingDomain = (chainId: number, staking: Address) =>
  ({ name: 'SendingNetwork NodeStaking', version: '1', chainId, verifyingContract: staking }) as const;

export const nodeKeyConsentTypes = { NodeKeyConsent: [{ name: 'operator', type: 'address' }] } as const;

/** The node key's consent to being registered by `operator` (what `register` checks). */
export function signNodeKeyConsent(
  nodeKey: LocalAccount,
  operator: Address,
  chainId: number,
  staking: Address,
): Promise<Hex> {
  return nodeKey.signTypedData({
    domain: stakingDomain(chainId, staking),
    types: nodeKeyConsentTypes,
    primaryType: 'NodeKeyConsent',
    message: { operator },
  });
}

export interface RegisterNodeParams {
  staking: Address;
  token: Address;
  nodeKey: LocalAccount;
  stake: bigint;
  endpoint: string;
  metadataURI?: string;
}

/** Approves the stake (if the allowance is short) and registers the node; returns the receipt. */
export async function registerNode(
  operator: WalletClient<Transport, Chain, Account>,
  publicClient: PublicClient,
  params: RegisterNodeParams,
) {
  const owner = operator.account.address;
  const allowance = await publicClient.readContract({
    address: params.token,
    abi: sendTokenAbi,
    functionName: 'allowance',
    args: [owner, params.staking],
  });
  if (allowance < params.stake) {
    const hash = await operator.writeContract({
      address: params.token,
      abi: sendTokenAbi,
      functionName: 'approve',
      args: [params.staking, params.stake],
    });
    await publicClient.waitForTransactionReceipt({ hash });
  }
  const consent = await signNodeKeyConsent(params.nodeKey, owner, operator.chain.id, params.staking);
  const hash = await operator.writeContract({
    address: params.staking,
    abi: nodeStakingAbi,
    functionName: 'register',
    args: [params.nodeKey.address, params.stake, consent, params.endpoint, params.metadataURI ?? ''],
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`register ${params.nodeKey.address} reverted (${hash})`);
  return receipt;
}
