/**
 * SendToken: allocation buckets, allowances, and reward claims. A claim's payout is the SEND Transfer from
 * the settlement escrow (EpochSettlement.claim emits nothing else); the manifest filters Transfer to
 * `from = EpochSettlement`, and the handler checks it again against the data-source context.
 */
import { AllocationMinted, Approval, EIP712DomainChanged, Transfer } from '../generated/SendToken/SendToken';
import { Allocation } from '../generated/schema';
import { recordAllowance, recordGeneric, recordRewardClaim } from './common';

export function handleAllocationMinted(event: AllocationMinted): void {
  const allocation = new Allocation(event.params.allocation);
  allocation.recipient = event.params.recipient;
  allocation.amount = event.params.amount;
  allocation.blockNumber = event.block.number;
  allocation.transaction = event.transaction.hash;
  allocation.save();
}

export function handleTransfer(event: Transfer): void {
  recordRewardClaim(event, event.params.from, event.params.to, event.params.value);
}

export function handleApproval(event: Approval): void {
  recordAllowance(event);
}

export function handleEIP712DomainChanged(event: EIP712DomainChanged): void {
  recordGeneric(event, 'EIP712DomainChanged');
}
