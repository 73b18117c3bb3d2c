/**
 * WatchDogLicense (ERC-721A): ownership through Transfer (mint from 0x0, burn to 0x0 on refunds), the
 * per-token operator key (OperatorSet; the contract clears it on every transfer), approvals, unlock time.
 */
import { Address, BigInt, ethereum } from '@graphprotocol/graph-ts';
import {
  Approval,
  ApprovalForAll,
  ConsecutiveTransfer,
  OperatorSet,
  OwnershipTransferStarted,
  OwnershipTransferred,
  Transfer,
  UnlockTimeSet,
  VoidTimeSet,
} from '../generated/WatchDogLicense/WatchDogLicense';
import { License, LicenseTransfer } from '../generated/schema';
import { loadLicense } from './licenses';
import {
  ZERO_ADDRESS,
  ensureAccount,
  eventId,
  recordGeneric,
  recordOperatorApproval,
  recordOwnershipTransferStarted,
  recordOwnershipTransferred,
} from './common';

function move(tokenId: BigInt, from: Address, to: Address, event: ethereum.Event, offset: i32): void {
  const license = loadLicense(tokenId, to, event);
  if (to.equals(ZERO_ADDRESS)) {
    license.burned = true;
  } else {
    license.owner = ensureAccount(to).id;
  }
  license.approved = null;
  license.save();
  const transfer = new LicenseTransfer(eventId(event).concatI32(offset));
  transfer.license = license.id;
  transfer.from = from;
  transfer.to = to;
  transfer.blockNumber = event.block.number;
  transfer.timestamp = event.block.timestamp;
  transfer.transaction = event.transaction.hash;
  transfer.save();
}

export function handleTransfer(event: Transfer): void {
  move(event.params.tokenId, event.params.from, event.params.to, event, 0);
}

/** ERC-2309 batch mint (not used by the presale, which mints with Transfer events; indexed for completeness). */
export function handleConsecutiveTransfer(event: ConsecutiveTransfer): void {
  const first = event.params.fromTokenId.toI64();
  const last = event.params.toTokenId.toI64();
  for (let id = first; id <= last; id++) {
    move(BigInt.fromI64(id), event.params.from, event.params.to, event, i32(id - first));
  }
}

export function handleOperatorSet(event: OperatorSet): void {
  const license = License.load(event.params.tokenId.toString());
  if (license == null) return;
  license.operator = event.params.operator.equals(ZERO_ADDRESS) ? null : event.params.operator;
  license.save();
}

export function handleApproval(event: Approval): void {
  const license = License.load(event.params.tokenId.toString());
  if (license == null) return;
  license.approved = event.params.approved.equals(ZERO_ADDRESS) ? null : event.params.approved;
  license.save();
}

export function handleApprovalForAll(event: ApprovalForAll): void {
  recordOperatorApproval(event);
}

export function handleUnlockTimeSet(event: UnlockTimeSet): void {
  recordGeneric(event, 'UnlockTimeSet');
}

export function handleOwnershipTransferStarted(event: OwnershipTransferStarted): void {
  recordOwnershipTransferStarted(event);
}

export function handleOwnershipTransferred(event: OwnershipTransferred): void {
  recordOwnershipTransferred(event);
}

/** The presale's void time of every license (0: never; a cancelled or expired sale's licenses stop working). */
export function handleVoidTimeSet(event: VoidTimeSet): void {
  recordGeneric(event, 'VoidTimeSet');
}
