/**
 * Node entity helpers shared by the staking and settlement mappings.
 */
import { BigInt, Bytes, ethereum } from '@graphprotocol/graph-ts';
import { Node, StakeChange } from '../generated/schema';
import { eventId } from './common';

export const STATUS_ACTIVE = 'Active';
export const STATUS_UNBONDING = 'Unbonding';
export const STATUS_EJECTED = 'Ejected';
export const STATUS_WITHDRAWN = 'Withdrawn';
/** A node key that appears in published scores or faults without a NodeRegistered event. */
export const STATUS_UNREGISTERED = 'Unregistered';

/** The node of `key`; a zeroed Unregistered node (not saved) when it was never registered. */
export function loadNode(key: Bytes, event: ethereum.Event): Node {
  let node = Node.load(key);
  if (node == null) {
    node = new Node(key);
    node.operator = Bytes.fromHexString('0x0000000000000000000000000000000000000000');
    node.stake = BigInt.zero();
    node.unbonding = BigInt.zero();
    node.status = STATUS_UNREGISTERED;
    node.strikes = 0;
    node.totalStrikes = 0;
    node.slashedTotal = BigInt.zero();
    node.endpoint = '';
    node.metadataURI = '';
    node.totalVerifiedUnits = BigInt.zero();
    node.cumulativeRewards = BigInt.zero();
    node.registeredAt = event.block.timestamp;
    node.registeredBlock = event.block.number;
    node.updatedAt = event.block.timestamp;
  }
  return node as Node;
}

/** Appends a StakeChange for `node` as it is after the change. */
export function recordStakeChange(node: Node, kind: string, amount: BigInt, event: ethereum.Event): void {
  const change = new StakeChange(eventId(event));
  change.node = node.id;
  change.kind = kind;
  change.amount = amount;
  change.stakeAfter = node.stake;
  change.unbondingAfter = node.unbonding;
  change.blockNumber = event.block.number;
  change.timestamp = event.block.timestamp;
  change.transaction = event.transaction.hash;
  change.save();
}
