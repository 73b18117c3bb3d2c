/**
 * Helpers shared by every mapping: event ids, the Protocol singleton, accounts, contracts and the
 * administrative-event record (ownership, EIP-712 domain, sale settlement, sweeps).
 * AssemblyScript (graph-ts 0.38): no closures, explicit nullability.
 */
import { Address, BigInt, Bytes, dataSource, ethereum } from '@graphprotocol/graph-ts';
import { Account, AdminEvent, Allowance, Claim, Contract, OperatorApproval, Protocol } from '../generated/schema';

export const PROTOCOL_ID = 'protocol';
export const ZERO_ADDRESS = Address.zero();

/** Unique, sortable id of a log: transaction hash ++ log index. */
export function eventId(event: ethereum.Event): Bytes {
  return event.transaction.hash.concatI32(event.logIndex.toI32());
}

export function loadProtocol(): Protocol {
  let p = Protocol.load(PROTOCOL_ID);
  if (p == null) {
    p = new Protocol(PROTOCOL_ID);
    p.nodeCount = 0;
    p.activeNodeCount = 0;
    p.totalStaked = BigInt.zero();
    p.totalUnbonding = BigInt.zero();
    p.totalSlashed = BigInt.zero();
    p.lastSubmittedEpoch = 0;
    p.lastFinalizedEpoch = 0;
    p.escrowFunded = BigInt.zero();
    p.totalClaimed = BigInt.zero();
    p.licensesSold = 0;
    p.licenseRewardsClaimed = BigInt.zero();
    p.didCount = 0;
    p.swapCount = 0;
  }
  // points mode: every data source of a points deployment carries context rewardUnit = "points"
  // (subgraph/scripts/manifest.ts); a token deployment's carry none
  const context = dataSource.context();
  const unit = context.isSet('rewardUnit') ? context.getString('rewardUnit') : 'SEND';
  p.rewardUnit = unit;
  p.pointsMode = unit == 'points';
  return p as Protocol;
}

/** The account entity of `address`, created (not saved) when new. */
export function loadAccount(address: Bytes): Account {
  let a = Account.load(address);
  if (a == null) {
    a = new Account(address);
    a.claimedRewards = BigInt.zero();
  }
  return a as Account;
}

/** Saves and returns the account entity of `address`, creating it if needed. */
export function ensureAccount(address: Bytes): Account {
  const a = loadAccount(address);
  a.save();
  return a;
}

/** The Contract entity of the data source's address (name from the manifest context `contractName`). */
export function loadContract(address: Address): Contract {
  let c = Contract.load(address);
  if (c == null) {
    c = new Contract(address);
    const context = dataSource.context();
    c.name = context.isSet('contractName') ? context.getString('contractName') : dataSource.network();
  }
  return c as Contract;
}

export function recordAdminEvent(event: ethereum.Event, name: string, args: string): void {
  const contract = loadContract(event.address);
  contract.save();
  const record = new AdminEvent(eventId(event));
  record.contract = contract.id;
  record.event = name;
  record.args = args;
  record.blockNumber = event.block.number;
  record.timestamp = event.block.timestamp;
  record.transaction = event.transaction.hash;
  record.save();
}

/** name=value pairs of the event's parameters, for AdminEvent.args. */
export function describeParams(event: ethereum.Event): string {
  const parts = new Array<string>();
  for (let i = 0; i < event.parameters.length; i++) {
    const param = event.parameters[i];
    parts.push(param.name + '=' + describeValue(param.value));
  }
  return parts.join(' ');
}

function describeValue(value: ethereum.Value): string {
  const kind = value.kind;
  if (kind == ethereum.ValueKind.ADDRESS) return value.toAddress().toHexString();
  if (kind == ethereum.ValueKind.BOOL) return value.toBoolean() ? 'true' : 'false';
  if (kind == ethereum.ValueKind.STRING) return value.toString();
  if (kind == ethereum.ValueKind.INT || kind == ethereum.ValueKind.UINT) return value.toBigInt().toString();
  if (kind == ethereum.ValueKind.BYTES || kind == ethereum.ValueKind.FIXED_BYTES) return value.toBytes().toHexString();
  return '?';
}

/** Generic handler body for events recorded only as AdminEvent. */
export function recordGeneric(event: ethereum.Event, name: string): void {
  recordAdminEvent(event, name, describeParams(event));
}

/** OwnershipTransferStarted(previousOwner, newOwner): the pending owner. */
export function recordOwnershipTransferStarted(event: ethereum.Event): void {
  const contract = loadContract(event.address);
  contract.pendingOwner = event.parameters[1].value.toAddress();
  contract.save();
  recordAdminEvent(event, 'OwnershipTransferStarted', describeParams(event));
}

/** OwnershipTransferred(previousOwner, newOwner): the owner, pending cleared. */
export function recordOwnershipTransferred(event: ethereum.Event): void {
  const contract = loadContract(event.address);
  contract.owner = event.parameters[1].value.toAddress();
  contract.pendingOwner = null;
  contract.save();
  recordAdminEvent(event, 'OwnershipTransferred', describeParams(event));
}

export function minBigInt(a: BigInt, b: BigInt): BigInt {
  return a.lt(b) ? a : b;
}

/** ERC-20 Approval(owner, spender, value): the latest allowance. */
export function recordAllowance(event: ethereum.Event): void {
  const owner = event.parameters[0].value.toAddress();
  const spender = event.parameters[1].value.toAddress();
  const id = event.address.concat(owner).concat(spender);
  let allowance = Allowance.load(id);
  if (allowance == null) {
    allowance = new Allowance(id);
    allowance.token = event.address;
    allowance.owner = owner;
    allowance.spender = spender;
  }
  allowance.value = event.parameters[2].value.toBigInt();
  allowance.updatedAt = event.block.timestamp;
  allowance.save();
}

/** ERC-721 ApprovalForAll(owner, operator, approved). */
export function recordOperatorApproval(event: ethereum.Event): void {
  const owner = event.parameters[0].value.toAddress();
  const operator = event.parameters[1].value.toAddress();
  const id = event.address.concat(owner).concat(operator);
  let approval = OperatorApproval.load(id);
  if (approval == null) {
    approval = new OperatorApproval(id);
    approval.contract = event.address;
    approval.owner = owner;
    approval.operator = operator;
  }
  approval.approved = event.parameters[2].value.toBoolean();
  approval.save();
}

/**
 * A reward claim: the reward token's transfer `value` from the settlement escrow to `to` (SEND, or
 * TestnetPoints in points mode). Transfers from anywhere else are ignored.
 */
export function recordRewardClaim(event: ethereum.Event, from: Address, to: Address, value: BigInt): void {
  const settlement = dataSource.context().getBytes('EpochSettlement');
  if (!from.equals(settlement)) return;
  const account = loadAccount(to);
  account.claimedRewards = account.claimedRewards.plus(value);
  account.save();
  const claim = new Claim(eventId(event));
  claim.account = account.id;
  claim.amount = value;
  claim.blockNumber = event.block.number;
  claim.timestamp = event.block.timestamp;
  claim.transaction = event.transaction.hash;
  claim.save();
  const protocol = loadProtocol();
  protocol.totalClaimed = protocol.totalClaimed.plus(value);
  protocol.save();
}
