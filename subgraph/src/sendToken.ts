/**
 * SendToken: allocation buckets, allowances, and reward claims. A claim's payout is the SEND Transfer from
 * the settlement escrow (EpochSettlement.claim emits nothing else); the manifest filters Transfer to
 * `from = EpochSettlement`, and the handler checks it again against the data-source context.
 */
import { dataSource } from '@graphprotocol/graph-ts';
import { AllocationMinted, Approval, EIP712DomainChanged, Transfer } from '../generated/SendToken/SendToken';
import { Allocation, Claim } from '../generated/schema';
import { eventId, loadAccount, loadProtocol, recordAllowance, recordGeneric } from './common';

export function handleAllocationMinted(event: AllocationMinted): void {
  const allocation = new Allocation(event.params.allocation);
  allocation.recipient = event.params.recipient;
  allocation.amount = event.params.amount;
  allocation.blockNumber = event.block.number;
  allocation.transaction = event.transaction.hash;
  allocation.save();
}

export function handleTransfer(event: Transfer): void {
  const settlement = dataSource.context().getBytes('EpochSettlement');
  if (!event.params.from.equals(settlement)) return;
  const account = loadAccount(event.params.to);
  account.claimedRewards = account.claimedRewards.plus(event.params.value);
  account.save();
  const claim = new Claim(eventId(event));
  claim.account = account.id;
  claim.amount = event.params.value;
  claim.blockNumber = event.block.number;
  claim.timestamp = event.block.timestamp;
  claim.transaction = event.transaction.hash;
  claim.save();
  const protocol = loadProtocol();
  protocol.totalClaimed = protocol.totalClaimed.plus(event.params.value);
  protocol.save();
}

export function handleApproval(event: Approval): void {
  recordAllowance(event);
}

export function handleEIP712DomainChanged(event: EIP712DomainChanged): void {
  recordGeneric(event, 'EIP712DomainChanged');
}
