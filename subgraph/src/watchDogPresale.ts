/**
 * WatchDogPresale: phases, tiers, purchases, refunds and the sale's end. Tiers and supply are constructor
 * parameters without events, so they are read once with eth_call when the presale's first event is indexed
 * (the contract exists by then; the address book's startBlock precedes its deployment). The calls bind the
 * WatchDogPresaleView ABI: the same functions with `tier`'s static struct output flattened (identical bytes).
 */
import { Address, BigInt, ethereum } from '@graphprotocol/graph-ts';
import {
  AllowlistPhaseSet,
  OwnershipTransferStarted,
  OwnershipTransferred,
  ProceedsWithdrawn,
  PublicPhaseSet,
  Purchased,
  Refunded,
  SaleCancelled,
  SaleFinalized,
  UnrefundedSwept,
} from '../generated/WatchDogPresale/WatchDogPresale';
import { WatchDogPresaleView } from '../generated/WatchDogPresale/WatchDogPresaleView';
import { License, Presale, PresaleTier, Purchase, Refund } from '../generated/schema';
import {
  ensureAccount,
  eventId,
  loadProtocol,
  recordGeneric,
  recordOwnershipTransferStarted,
  recordOwnershipTransferred,
} from './common';

const PRESALE_ID = 'presale';
const MAX_TIERS = 8;

function loadPresale(address: Address): Presale {
  let presale = Presale.load(PRESALE_ID);
  if (presale == null) {
    presale = new Presale(PRESALE_ID);
    presale.status = 'Active';
    presale.sold = 0;
    presale.ethRaised = BigInt.zero();
    presale.tokenRaised = BigInt.zero();
    presale.ethRefunded = BigInt.zero();
    presale.tokenRefunded = BigInt.zero();
    presale.ethSwept = BigInt.zero();
    presale.tokenSwept = BigInt.zero();
    readTiers(presale as Presale, address);
  }
  return presale as Presale;
}

function readTiers(presale: Presale, address: Address): void {
  const contract = WatchDogPresaleView.bind(address);
  const supply = contract.try_supply();
  if (!supply.reverted) presale.supply = supply.value;
  const count = contract.try_tierCount();
  if (count.reverted) return;
  for (let i = 0; i < count.value && i < MAX_TIERS; i++) {
    const result = contract.try_tier(BigInt.fromI32(i));
    if (result.reverted) continue;
    const tier = new PresaleTier(i.toString());
    tier.presale = PRESALE_ID;
    tier.index = i;
    tier.start = result.value.getStart();
    tier.end = result.value.getEnd();
    tier.ethPrice = result.value.getEthPrice();
    tier.tokenPrice = result.value.getTokenPrice();
    tier.sold = 0;
    tier.save();
  }
}

export function handleAllowlistPhaseSet(event: AllowlistPhaseSet): void {
  const presale = loadPresale(event.address);
  presale.allowlistStart = event.params.start;
  presale.allowlistEnd = event.params.end;
  presale.allowlistReserve = event.params.reserve.toI32();
  presale.allowlistMerkleRoot = event.params.merkleRoot;
  presale.save();
}

export function handlePublicPhaseSet(event: PublicPhaseSet): void {
  const presale = loadPresale(event.address);
  presale.publicStart = event.params.start;
  presale.publicEnd = event.params.end;
  presale.publicWalletCap = event.params.walletCap.toI32();
  presale.publicTxCap = event.params.txCap.toI32();
  presale.save();
}

/** Sale indices [sold, sold + quantity) are counted into the tiers they fall in. */
export function handlePurchased(event: Purchased): void {
  const presale = loadPresale(event.address);
  const quantity = event.params.quantity.toI32();
  const first = presale.sold;
  const last = first + quantity; // exclusive
  for (let i = 0; i < MAX_TIERS; i++) {
    const tier = PresaleTier.load(i.toString());
    if (tier == null) break;
    const start = tier.start.toI32();
    const end = tier.end.toI32();
    const from = first > start ? first : start;
    const to = last < end ? last : end;
    if (to > from) {
      tier.sold += to - from;
      tier.save();
    }
  }
  presale.sold = last;
  const inToken = event.params.currency == 1;
  if (inToken) presale.tokenRaised = presale.tokenRaised.plus(event.params.cost);
  else presale.ethRaised = presale.ethRaised.plus(event.params.cost);
  presale.save();

  const buyer = ensureAccount(event.params.buyer);
  const purchase = new Purchase(eventId(event));
  purchase.buyer = buyer.id;
  purchase.phase = event.params.phase == 1 ? 'Allowlist' : 'Public';
  purchase.currency = inToken ? 'Token' : 'Eth';
  purchase.firstTokenId = event.params.firstTokenId;
  purchase.quantity = quantity;
  purchase.cost = event.params.cost;
  purchase.blockNumber = event.block.number;
  purchase.timestamp = event.block.timestamp;
  purchase.transaction = event.transaction.hash;
  purchase.save();

  // the licenses were minted (Transfer events) earlier in this transaction
  for (let i = 0; i < quantity; i++) {
    const license = License.load(event.params.firstTokenId.plus(BigInt.fromI32(i)).toString());
    if (license == null) continue;
    license.purchase = purchase.id;
    license.save();
  }
  const protocol = loadProtocol();
  protocol.licensesSold += quantity;
  protocol.save();
}

export function handleRefunded(event: Refunded): void {
  const presale = loadPresale(event.address);
  presale.ethRefunded = presale.ethRefunded.plus(event.params.ethAmount);
  presale.tokenRefunded = presale.tokenRefunded.plus(event.params.tokenAmount);
  presale.save();
  const refund = new Refund(eventId(event));
  refund.holder = event.params.holder;
  refund.tokenIds = event.params.tokenIds;
  refund.ethAmount = event.params.ethAmount;
  refund.tokenAmount = event.params.tokenAmount;
  refund.blockNumber = event.block.number;
  refund.timestamp = event.block.timestamp;
  refund.transaction = event.transaction.hash;
  refund.save();
}

export function handleSaleCancelled(event: SaleCancelled): void {
  setStatus(event, 'Cancelled');
  recordGeneric(event, 'SaleCancelled');
}

export function handleSaleFinalized(event: SaleFinalized): void {
  setStatus(event, 'Finalized');
  recordGeneric(event, 'SaleFinalized');
}

function setStatus(event: ethereum.Event, status: string): void {
  const presale = loadPresale(event.address);
  presale.status = status;
  presale.save();
}

/** After the refund deadline: what buyers did not refund went to the treasury. */
export function handleUnrefundedSwept(event: UnrefundedSwept): void {
  const presale = loadPresale(event.address);
  presale.ethSwept = presale.ethSwept.plus(event.params.ethAmount);
  presale.tokenSwept = presale.tokenSwept.plus(event.params.tokenAmount);
  presale.save();
  recordGeneric(event, 'UnrefundedSwept');
}

export function handleProceedsWithdrawn(event: ProceedsWithdrawn): void {
  recordGeneric(event, 'ProceedsWithdrawn');
}

export function handleOwnershipTransferStarted(event: OwnershipTransferStarted): void {
  recordOwnershipTransferStarted(event);
}

export function handleOwnershipTransferred(event: OwnershipTransferred): void {
  recordOwnershipTransferred(event);
}
