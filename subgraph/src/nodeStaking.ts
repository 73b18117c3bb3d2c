/**
 * NodeStaking: node registry, stake, unbonding, slashes, strikes, ejections, equivocation proofs.
 * Status mapping: NodeRegistered → Active; UnbondRequested leaving no active stake → Unbonding (unless
 * Ejected); NodeEjected → Ejected; StakeWithdrawn leaving nothing staked or unbonding on a node that is not
 * Active → Withdrawn.
 */
import { BigInt } from '@graphprotocol/graph-ts';
import {
  EIP712DomainChanged,
  EquivocationProven,
  NodeEjected,
  NodeEndpointUpdated,
  NodeRegistered,
  NodeSlashed,
  SlashedSwept,
  StakeIncreased,
  StakeWithdrawn,
  StrikeRecorded,
  UnbondRequested,
} from '../generated/NodeStaking/NodeStaking';
import { Equivocation, Slash, Strike } from '../generated/schema';
import { eventId, loadProtocol, minBigInt, recordGeneric } from './common';
import {
  STATUS_ACTIVE,
  STATUS_EJECTED,
  STATUS_UNBONDING,
  STATUS_WITHDRAWN,
  loadNode,
  recordStakeChange,
} from './nodes';

export function handleNodeRegistered(event: NodeRegistered): void {
  const node = loadNode(event.params.nodeKey, event);
  const protocol = loadProtocol();
  protocol.nodeCount += 1;
  protocol.activeNodeCount += 1;
  protocol.totalStaked = protocol.totalStaked.plus(event.params.stake);
  protocol.save();
  node.operator = event.params.operator;
  node.stake = event.params.stake;
  node.status = STATUS_ACTIVE;
  node.endpoint = event.params.endpoint;
  node.metadataURI = event.params.metadataURI;
  node.registeredAt = event.block.timestamp;
  node.registeredBlock = event.block.number;
  node.updatedAt = event.block.timestamp;
  node.save();
  recordStakeChange(node, 'Register', event.params.stake, event);
}

export function handleNodeEndpointUpdated(event: NodeEndpointUpdated): void {
  const node = loadNode(event.params.nodeKey, event);
  node.endpoint = event.params.endpoint;
  node.metadataURI = event.params.metadataURI;
  node.updatedAt = event.block.timestamp;
  node.save();
}

export function handleStakeIncreased(event: StakeIncreased): void {
  const node = loadNode(event.params.nodeKey, event);
  node.stake = event.params.newStake;
  node.updatedAt = event.block.timestamp;
  node.save();
  const protocol = loadProtocol();
  protocol.totalStaked = protocol.totalStaked.plus(event.params.amount);
  protocol.save();
  recordStakeChange(node, 'Increase', event.params.amount, event);
}

export function handleUnbondRequested(event: UnbondRequested): void {
  const node = loadNode(event.params.nodeKey, event);
  const amount = event.params.amount;
  node.stake = event.params.remainingStake;
  node.unbonding = node.unbonding.plus(amount);
  node.unbondingReleaseAt = event.params.releaseAt;
  const protocol = loadProtocol();
  if (event.params.remainingStake.isZero() && node.status == STATUS_ACTIVE) {
    node.status = STATUS_UNBONDING;
    protocol.activeNodeCount -= 1;
  }
  protocol.totalStaked = protocol.totalStaked.minus(amount);
  protocol.totalUnbonding = protocol.totalUnbonding.plus(amount);
  protocol.save();
  node.updatedAt = event.block.timestamp;
  node.save();
  recordStakeChange(node, 'Unbond', amount, event);
}

export function handleStakeWithdrawn(event: StakeWithdrawn): void {
  const node = loadNode(event.params.nodeKey, event);
  const amount = event.params.amount;
  node.unbonding = node.unbonding.ge(amount) ? node.unbonding.minus(amount) : BigInt.zero();
  node.unbondingReleaseAt = null;
  if (node.status != STATUS_ACTIVE && node.stake.isZero() && node.unbonding.isZero()) node.status = STATUS_WITHDRAWN;
  node.updatedAt = event.block.timestamp;
  node.save();
  const protocol = loadProtocol();
  protocol.totalUnbonding = protocol.totalUnbonding.minus(amount);
  protocol.save();
  recordStakeChange(node, 'Withdraw', amount, event);
}

/** A slash takes active stake first, then unbonding stake (NodeStaking._slash). */
export function handleNodeSlashed(event: NodeSlashed): void {
  const node = loadNode(event.params.nodeKey, event);
  const amount = event.params.amount;
  const fromStake = minBigInt(amount, node.stake);
  const fromUnbonding = minBigInt(amount.minus(fromStake), node.unbonding);
  node.stake = node.stake.minus(fromStake);
  node.unbonding = node.unbonding.minus(fromUnbonding);
  node.slashedTotal = node.slashedTotal.plus(amount);
  node.updatedAt = event.block.timestamp;
  node.save();
  const protocol = loadProtocol();
  protocol.totalStaked = protocol.totalStaked.minus(fromStake);
  protocol.totalUnbonding = protocol.totalUnbonding.minus(fromUnbonding);
  protocol.totalSlashed = protocol.totalSlashed.plus(amount);
  protocol.save();
  const slash = new Slash(eventId(event));
  slash.node = node.id;
  slash.epoch = event.params.epoch.toI32();
  slash.amount = amount;
  slash.finder = event.params.finder;
  slash.finderFee = event.params.finderFee;
  slash.blockNumber = event.block.number;
  slash.timestamp = event.block.timestamp;
  slash.transaction = event.transaction.hash;
  slash.save();
  recordStakeChange(node, 'Slash', amount, event);
}

export function handleStrikeRecorded(event: StrikeRecorded): void {
  const node = loadNode(event.params.nodeKey, event);
  node.strikes = event.params.strikesInWindow;
  node.totalStrikes += 1;
  node.updatedAt = event.block.timestamp;
  node.save();
  const strike = new Strike(eventId(event));
  strike.node = node.id;
  strike.epoch = event.params.epoch.toI32();
  strike.strikesInWindow = event.params.strikesInWindow;
  strike.blockNumber = event.block.number;
  strike.timestamp = event.block.timestamp;
  strike.transaction = event.transaction.hash;
  strike.save();
}

/** The stake itself moves in the UnbondRequested the contract emits right after. */
export function handleNodeEjected(event: NodeEjected): void {
  const node = loadNode(event.params.nodeKey, event);
  if (node.status == STATUS_ACTIVE) {
    const protocol = loadProtocol();
    protocol.activeNodeCount -= 1;
    protocol.save();
  }
  node.status = STATUS_EJECTED;
  node.ejectReason = event.params.reason == 0 ? 'StakeBelowMinimum' : 'TooManyStrikes';
  node.updatedAt = event.block.timestamp;
  node.save();
  recordStakeChange(node, 'Eject', node.stake, event);
}

export function handleEquivocationProven(event: EquivocationProven): void {
  const node = loadNode(event.params.nodeKey, event);
  node.save();
  const proof = new Equivocation(eventId(event));
  proof.node = node.id;
  proof.epoch = event.params.epoch.toI32();
  proof.finder = event.params.finder;
  proof.blockNumber = event.block.number;
  proof.timestamp = event.block.timestamp;
  proof.transaction = event.transaction.hash;
  proof.save();
}

export function handleSlashedSwept(event: SlashedSwept): void {
  recordGeneric(event, 'SlashedSwept');
}

export function handleEIP712DomainChanged(event: EIP712DomainChanged): void {
  recordGeneric(event, 'EIP712DomainChanged');
}
