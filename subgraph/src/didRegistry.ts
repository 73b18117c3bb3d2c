/**
 * DidRegistry: DID NFTs (name, ENS node, owner, generation), wallet links, primary DIDs, device keys,
 * text records and the profile content hash. A transfer (DidReset) starts a new generation: the new owner
 * starts with no links (the contract emits WalletUnlinked for each), no active keys and no records.
 */
import { BigInt, Bytes, store } from '@graphprotocol/graph-ts';
import {
  Approval,
  ApprovalForAll,
  ContenthashChanged,
  DidReset,
  EIP712DomainChanged,
  KeyAdded,
  KeyRevoked,
  PrimaryChanged,
  Registered,
  TextChanged,
  Transfer,
  TransferOffered,
  WalletLinked,
  WalletUnlinked,
} from '../generated/DidRegistry/DidRegistry';
import { DeviceKey, Did, DidNode, TextRecord, WalletLink } from '../generated/schema';
import { ZERO_ADDRESS, ensureAccount, loadAccount, loadProtocol, recordGeneric, recordOperatorApproval } from './common';

const ZERO_NODE = '0x0000000000000000000000000000000000000000000000000000000000000000';

function didId(tokenId: BigInt): string {
  return tokenId.toString();
}

/** Register emits Transfer(0, owner, did) first, then Registered(did, node, name): the Transfer creates it. */
export function handleTransfer(event: Transfer): void {
  const id = didId(event.params.tokenId);
  let did = Did.load(id);
  if (did == null) {
    did = new Did(id);
    did.tokenId = event.params.tokenId;
    did.name = '';
    did.node = Bytes.fromHexString(ZERO_NODE);
    did.generation = 0;
    did.registeredAt = event.block.timestamp;
  }
  did.owner = ensureAccount(event.params.to).id;
  did.offeredTo = null;
  did.approved = null;
  did.save();
}

export function handleRegistered(event: Registered): void {
  const id = didId(event.params.did);
  let did = Did.load(id);
  if (did == null) {
    did = new Did(id);
    did.tokenId = event.params.did;
    did.owner = ensureAccount(event.transaction.from).id;
    did.generation = 0;
  }
  did.name = event.params.name;
  did.node = event.params.node;
  did.registeredAt = event.block.timestamp;
  did.save();
  const lookup = new DidNode(event.params.node);
  lookup.did = id;
  lookup.save();
  const protocol = loadProtocol();
  protocol.didCount += 1;
  protocol.save();
}

export function handleTransferOffered(event: TransferOffered): void {
  const did = Did.load(didId(event.params.did));
  if (did == null) return;
  did.offeredTo = event.params.to.equals(ZERO_ADDRESS) ? null : event.params.to;
  did.save();
}

/** New generation: keys of older generations are void and records start empty. */
export function handleDidReset(event: DidReset): void {
  const did = Did.load(didId(event.params.did));
  if (did == null) return;
  did.generation = event.params.generation.toI32();
  did.contenthash = null;
  did.save();
  const keys = did.keys.load();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key.status != 'Active') continue;
    key.status = 'Revoked';
    key.revokedAt = event.block.timestamp;
    key.save();
  }
  const texts = did.texts.load();
  for (let i = 0; i < texts.length; i++) store.remove('TextRecord', texts[i].id);
}

export function handleWalletLinked(event: WalletLinked): void {
  const id = didId(event.params.did) + '-' + event.params.wallet.toHexString();
  let link = WalletLink.load(id);
  if (link == null) {
    link = new WalletLink(id);
    link.did = didId(event.params.did);
    link.wallet = ensureAccount(event.params.wallet).id;
  }
  link.linked = true;
  link.linkedAt = event.block.timestamp;
  link.unlinkedAt = null;
  link.unlinkedBy = null;
  link.save();
}

export function handleWalletUnlinked(event: WalletUnlinked): void {
  const link = WalletLink.load(didId(event.params.did) + '-' + event.params.wallet.toHexString());
  if (link == null) return;
  link.linked = false;
  link.unlinkedAt = event.block.timestamp;
  link.unlinkedBy = event.params.by;
  link.save();
}

export function handlePrimaryChanged(event: PrimaryChanged): void {
  const account = loadAccount(event.params.account);
  account.primaryDid = event.params.did.isZero() ? null : didId(event.params.did);
  account.save();
}

export function handleKeyAdded(event: KeyAdded): void {
  const key = new DeviceKey(event.params.key);
  key.did = didId(event.params.did);
  key.keyType = event.params.keyType == 0 ? 'Ed25519' : 'X25519';
  key.generation = event.params.generation.toI32();
  key.status = 'Active';
  key.metadata = event.params.metadata;
  key.addedAt = event.block.timestamp;
  key.save();
}

export function handleKeyRevoked(event: KeyRevoked): void {
  const key = DeviceKey.load(event.params.key);
  if (key == null) return;
  key.status = 'Revoked';
  key.revokedAt = event.block.timestamp;
  key.save();
}

/** An empty value deletes the record (DidRecords.setText). */
export function handleTextChanged(event: TextChanged): void {
  const lookup = DidNode.load(event.params.node);
  if (lookup == null) return;
  const id = lookup.did + '-' + event.params.key;
  if (event.params.value.length == 0) {
    if (TextRecord.load(id) != null) store.remove('TextRecord', id);
    return;
  }
  let record = TextRecord.load(id);
  if (record == null) {
    record = new TextRecord(id);
    record.did = lookup.did;
    record.key = event.params.key;
  }
  record.value = event.params.value;
  record.updatedAt = event.block.timestamp;
  record.save();
}

export function handleContenthashChanged(event: ContenthashChanged): void {
  const lookup = DidNode.load(event.params.node);
  if (lookup == null) return;
  const did = Did.load(lookup.did);
  if (did == null) return;
  did.contenthash = event.params.hash.length == 0 ? null : event.params.hash;
  did.save();
}

export function handleApproval(event: Approval): void {
  const did = Did.load(didId(event.params.tokenId));
  if (did == null) return;
  did.approved = event.params.approved.equals(ZERO_ADDRESS) ? null : event.params.approved;
  did.save();
}

export function handleApprovalForAll(event: ApprovalForAll): void {
  recordOperatorApproval(event);
}

export function handleEIP712DomainChanged(event: EIP712DomainChanged): void {
  recordGeneric(event, 'EIP712DomainChanged');
}
