/**
 * PaymentToken (the presale's ERC-20 stablecoin): only transfers into and out of the presale (payments,
 * refunds, proceeds) and approvals of the presale, selected by topic filters in the manifest and checked
 * again here against the presale address in the data-source context.
 */
import { dataSource } from '@graphprotocol/graph-ts';
import { Approval, Transfer } from '../generated/PaymentTokenIn/ERC20';
import { PaymentTransfer } from '../generated/schema';
import { eventId, recordAllowance } from './common';

export function handleTransfer(event: Transfer): void {
  const presale = dataSource.context().getBytes('WatchDogPresale');
  const incoming = event.params.to.equals(presale);
  if (!incoming && !event.params.from.equals(presale)) return;
  const transfer = new PaymentTransfer(eventId(event));
  transfer.from = event.params.from;
  transfer.to = event.params.to;
  transfer.value = event.params.value;
  transfer.direction = incoming ? 'In' : 'Out';
  transfer.blockNumber = event.block.number;
  transfer.transaction = event.transaction.hash;
  transfer.save();
}

export function handleApproval(event: Approval): void {
  const presale = dataSource.context().getBytes('WatchDogPresale');
  if (!event.params.spender.equals(presale)) return;
  recordAllowance(event);
}
