/**
 * EpochSettlement: epoch headers and their lifecycle (Pending → Disputed → Finalized, or Voided and
 * resubmitted), who signed each epoch (signer bitmap over the guardian set in force at submission), dispute
 * votes and expiries, per-node results from NodeScorePublished (the rankings), executed faults, escrow funding,
 * guardian sets and ownership.
 */
import { BigInt, Bytes, ethereum, store } from '@graphprotocol/graph-ts';
import {
  DisputeExpired,
  DisputeResolved,
  DisputeVoteCast,
  EIP712DomainChanged,
  EpochDisputed,
  EpochFinalized,
  EpochSubmitted,
  EpochsVoided,
  EscrowFunded,
  FaultExecuted,
  GuardianSetActivated,
  GuardianSetProposed,
  NodeScorePublished,
  OwnershipTransferStarted,
  OwnershipTransferred,
  ScoresFullyPublished,
  SignaturesAdded,
} from '../generated/EpochSettlement/EpochSettlement';
import { Epoch, EscrowFunding, Fault, GuardianSet, Node, NodeEpochResult } from '../generated/schema';
import {
  eventId,
  loadProtocol,
  recordGeneric,
  recordOwnershipTransferStarted,
  recordOwnershipTransferred,
} from './common';
import { recordGuardianSetActivated, recordGuardianSetProposed } from './guardians';
import { loadNode } from './nodes';

export const EPOCH_PENDING = 'Pending';
export const EPOCH_DISPUTED = 'Disputed';
export const EPOCH_FINALIZED = 'Finalized';
export const EPOCH_VOIDED = 'Voided';
/** Scores may be published for any epoch still in the contract's ring of 8. */
const OUT_OF_ORDER_WINDOW = 8;
const ZERO_HASH = '0x0000000000000000000000000000000000000000000000000000000000000000';

function epochId(epoch: BigInt): string {
  return epoch.toString();
}

/** The epoch entity, or a placeholder for an event about an epoch this subgraph never saw submitted. */
function loadEpoch(number: i32, event: ethereum.Event): Epoch {
  let epoch = Epoch.load(number.toString());
  if (epoch == null) {
    epoch = new Epoch(number.toString());
    epoch.number = number;
    epoch.consensusVersion = 0;
    epoch.faultCount = 0;
    epoch.totalCumulative = BigInt.zero();
    epoch.epochEmission = BigInt.zero();
    const zero = Bytes.fromHexString(ZERO_HASH);
    epoch.rewardRoot = zero;
    epoch.faultRoot = zero;
    epoch.scoresHash = zero;
    epoch.dataHash = zero;
    epoch.seed = zero;
    epoch.status = EPOCH_PENDING;
    epoch.submitter = event.transaction.from;
    epoch.submittedAt = event.block.timestamp;
    epoch.submittedBlock = event.block.number;
    epoch.submitTransaction = event.transaction.hash;
    epoch.submissions = 0;
    epoch.finalizeAt = event.block.timestamp;
    epoch.signerBitmap = BigInt.zero();
    epoch.signers = new Array<Bytes>();
    epoch.disputeVotes = 0;
    epoch.scoresPublished = false;
    epoch.publishedCount = 0;
    epoch.publishedRewardTotal = BigInt.zero();
  }
  return epoch as Epoch;
}

/** Members of the epoch's guardian set (else the active one) whose bits are set in `bitmap`. */
function setSigners(epoch: Epoch, bitmap: BigInt): void {
  epoch.signerBitmap = bitmap;
  let setId = epoch.guardianSet;
  if (setId === null) setId = loadProtocol().activeGuardianSet;
  const signers = new Array<Bytes>();
  if (setId !== null) {
    const set = GuardianSet.load(setId);
    if (set != null) {
      const bits = bitmap.toU64();
      const members = set.members;
      for (let i = 0; i < members.length && i < 64; i++) if (((bits >> (i as u64)) & 1) == 1) signers.push(members[i]);
    }
  }
  epoch.signers = signers;
}

export function handleEpochSubmitted(event: EpochSubmitted): void {
  const header = event.params.header;
  const number = event.params.epoch.toI32();
  const epoch = loadEpoch(number, event);
  epoch.consensusVersion = header.consensusVersion.toI32();
  epoch.faultCount = header.faultCount.toI32();
  epoch.totalCumulative = header.totalCumulative;
  epoch.epochEmission = header.epochEmission;
  epoch.rewardRoot = header.rewardRoot;
  epoch.faultRoot = header.faultRoot;
  epoch.scoresHash = header.scoresHash;
  epoch.dataHash = header.dataHash;
  epoch.seed = header.seed;
  epoch.status = EPOCH_PENDING;
  epoch.submitter = event.params.submitter;
  epoch.submittedAt = event.block.timestamp;
  epoch.submittedBlock = event.block.number;
  epoch.submitTransaction = event.transaction.hash;
  epoch.submissions += 1;
  epoch.finalizeAt = event.params.finalizeAt;
  // GuardianSetActivated of a due rotation comes first in the same transaction: the active set signed
  epoch.guardianSet = loadProtocol().activeGuardianSet;
  setSigners(epoch, event.params.signerBitmap);
  epoch.disputeVotes = 0;
  epoch.finalizedAt = null;
  epoch.finalizedBlock = null;
  epoch.disputedBy = null;
  epoch.disputeReason = null;
  epoch.disputedAt = null;
  epoch.disputeResolution = null;
  epoch.resolvedAt = null;
  epoch.voidedAt = null;
  epoch.scoresPublished = false;
  epoch.scoresPublishedAt = null;
  epoch.scoresPublishedBlock = null;
  epoch.publishedCount = 0;
  epoch.publishedRewardTotal = BigInt.zero();
  epoch.save();
  const protocol = loadProtocol();
  protocol.lastSubmittedEpoch = number;
  protocol.save();
}

export function handleEpochFinalized(event: EpochFinalized): void {
  const number = event.params.epoch.toI32();
  const epoch = loadEpoch(number, event);
  epoch.status = EPOCH_FINALIZED;
  epoch.finalizedAt = event.block.timestamp;
  epoch.finalizedBlock = event.block.number;
  epoch.save();
  const protocol = loadProtocol();
  protocol.lastFinalizedEpoch = number;
  protocol.save();
}

export function handleEpochDisputed(event: EpochDisputed): void {
  const epoch = loadEpoch(event.params.epoch.toI32(), event);
  epoch.status = EPOCH_DISPUTED;
  epoch.disputedBy = event.params.by;
  epoch.disputeReason = event.params.reason;
  epoch.disputedAt = event.block.timestamp;
  epoch.save();
}

/** Later valid signatures recorded for a pending epoch: the bitmap after them. */
export function handleSignaturesAdded(event: SignaturesAdded): void {
  const epoch = loadEpoch(event.params.epoch.toI32(), event);
  setSigners(epoch, event.params.signerBitmap);
  epoch.save();
}

/** A guardian's vote against a pending epoch (the epoch becomes Disputed with EpochDisputed). */
export function handleDisputeVoteCast(event: DisputeVoteCast): void {
  const epoch = loadEpoch(event.params.epoch.toI32(), event);
  epoch.disputeVotes = event.params.votes;
  epoch.save();
}

/** An unresolved dispute expired: EpochsVoided follows in the same transaction. */
export function handleDisputeExpired(event: DisputeExpired): void {
  const epoch = loadEpoch(event.params.epoch.toI32(), event);
  epoch.disputeResolution = 'Expired';
  epoch.resolvedAt = event.block.timestamp;
  epoch.save();
}

/** Valid: final-able at once (finalizeAt = now). Invalid: EpochsVoided follows in the same transaction. */
export function handleDisputeResolved(event: DisputeResolved): void {
  const epoch = loadEpoch(event.params.epoch.toI32(), event);
  epoch.resolvedAt = event.block.timestamp;
  if (event.params.headerValid) {
    epoch.disputeResolution = 'Valid';
    epoch.status = EPOCH_PENDING;
    epoch.finalizeAt = event.block.timestamp;
  } else {
    epoch.disputeResolution = 'Invalid';
  }
  epoch.save();
}

/**
 * Epochs fromEpoch..toEpoch are void: their published results are removed and every affected node's
 * latest fields, cumulative rewards and verified units are rolled back to its newest surviving result.
 */
export function handleEpochsVoided(event: EpochsVoided): void {
  const from = event.params.fromEpoch.toI32();
  const to = event.params.toEpoch.toI32();
  for (let e = to; e >= from; e--) {
    const epoch = Epoch.load(e.toString());
    if (epoch == null) continue;
    const results = epoch.results.load();
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      const node = Node.load(result.node);
      if (node != null) {
        node.cumulativeRewards = node.cumulativeRewards.minus(result.reward);
        node.totalVerifiedUnits = node.totalVerifiedUnits.minus(result.verifiedUnits);
        if (node.latestEpoch >= from) restoreLatest(node, from);
        node.updatedAt = event.block.timestamp;
        node.save();
      }
    }
    // remove after every node of this epoch was rolled back (restoreLatest walks older results only)
    for (let i = 0; i < results.length; i++) store.remove('NodeEpochResult', results[i].id);
    epoch.status = EPOCH_VOIDED;
    epoch.voidedAt = event.block.timestamp;
    epoch.scoresPublished = false;
    epoch.publishedCount = 0;
    epoch.publishedRewardTotal = BigInt.zero();
    epoch.save();
  }
  const protocol = loadProtocol();
  protocol.lastSubmittedEpoch = from - 1;
  if (protocol.latestScoredEpoch >= from) {
    const scored = latestScoredBefore(from);
    if (scored == 0) protocol.unset('latestScoredEpoch');
    else protocol.latestScoredEpoch = scored;
  }
  protocol.save();
}

/** Newest fully published epoch below `from`, or 0. */
function latestScoredBefore(from: i32): i32 {
  for (let e = from - 1; e >= 1; e--) {
    const epoch = Epoch.load(e.toString());
    if (epoch != null && epoch.scoresPublished) return e;
  }
  return 0;
}

/**
 * Sets the node's latest* fields to its newest result in an epoch below `from`. Results published out of
 * order lie within the ring window below `from`; anything older is on the chain of previousLatestEpoch links.
 */
function restoreLatest(node: Node, from: i32): void {
  const key = node.id.toHexString();
  let found: NodeEpochResult | null = null;
  const floor = from - OUT_OF_ORDER_WINDOW > 1 ? from - OUT_OF_ORDER_WINDOW : 1;
  for (let e = from - 1; e >= floor; e--) {
    found = NodeEpochResult.load(e.toString() + '-' + key);
    if (found != null) break;
  }
  if (found == null) {
    // nullable Int fields read 0 when unset; epochs start at 1
    let current = node.latestEpoch;
    while (current >= from) {
      const link = NodeEpochResult.load(current.toString() + '-' + key);
      const previous = link == null ? 0 : link.previousLatestEpoch;
      current = previous < current ? previous : 0; // links only go back in time
    }
    if (current > 0) found = NodeEpochResult.load(current.toString() + '-' + key);
  }
  if (found == null) {
    node.unset('latestEpoch');
    node.unset('latestRank');
    node.unset('latestScore');
    node.unset('latestAvailability');
    node.unset('latestVerifiedUnits');
    node.unset('latestReward');
  } else {
    copyLatest(node, found as NodeEpochResult);
  }
}

function copyLatest(node: Node, result: NodeEpochResult): void {
  node.latestEpoch = result.epochNumber;
  node.latestRank = result.rank;
  node.latestScore = result.score;
  node.latestAvailability = result.availability;
  node.latestVerifiedUnits = result.verifiedUnits;
  node.latestReward = result.reward;
}

export function handleNodeScorePublished(event: NodeScorePublished): void {
  const number = event.params.epoch.toI32();
  const epoch = loadEpoch(number, event);
  const node = loadNode(event.params.nodeKey, event);
  const id = epochId(event.params.epoch) + '-' + node.id.toHexString();
  const result = new NodeEpochResult(id);
  result.epoch = epoch.id;
  result.epochNumber = number;
  result.node = node.id;
  result.rank = event.params.rank.toI32();
  result.score = event.params.score.toI32();
  result.availability = event.params.availability.toI32();
  result.latencyP50Ms = event.params.latencyP50Ms.toI32();
  result.latencyP95Ms = event.params.latencyP95Ms.toI32();
  result.verifiedUnits = event.params.verifiedUnits;
  result.reward = event.params.reward;
  result.faults = event.params.faults;
  // the link a void rolls back along: set only when this result becomes the node's latest
  const becomesLatest = number >= node.latestEpoch;
  if (becomesLatest && node.latestEpoch > 0 && node.latestEpoch < number) result.previousLatestEpoch = node.latestEpoch;
  result.publishedAt = event.block.timestamp;
  result.blockNumber = event.block.number;
  result.transaction = event.transaction.hash;
  result.save();

  node.totalVerifiedUnits = node.totalVerifiedUnits.plus(event.params.verifiedUnits);
  node.cumulativeRewards = node.cumulativeRewards.plus(event.params.reward);
  if (becomesLatest) copyLatest(node, result);
  node.updatedAt = event.block.timestamp;
  node.save();

  epoch.publishedCount += 1;
  epoch.publishedRewardTotal = epoch.publishedRewardTotal.plus(event.params.reward);
  epoch.save();
}

export function handleScoresFullyPublished(event: ScoresFullyPublished): void {
  const number = event.params.epoch.toI32();
  const epoch = loadEpoch(number, event);
  epoch.scoresPublished = true;
  epoch.scoresPublishedAt = event.block.timestamp;
  epoch.scoresPublishedBlock = event.block.number;
  epoch.save();
  const protocol = loadProtocol();
  if (number > protocol.latestScoredEpoch) protocol.latestScoredEpoch = number;
  protocol.save();
}

export function handleFaultExecuted(event: FaultExecuted): void {
  const number = event.params.epoch.toI32();
  const epoch = loadEpoch(number, event);
  epoch.save();
  const node = loadNode(event.params.nodeKey, event);
  node.save();
  const fault = new Fault(number.toString() + '-' + event.params.index.toString());
  fault.epoch = epoch.id;
  fault.epochNumber = number;
  fault.index = event.params.index.toI32();
  fault.node = node.id;
  fault.requested = event.params.requested;
  fault.strike = event.params.strike;
  fault.executor = event.transaction.from;
  fault.blockNumber = event.block.number;
  fault.timestamp = event.block.timestamp;
  fault.transaction = event.transaction.hash;
  fault.save();
}

export function handleEscrowFunded(event: EscrowFunded): void {
  const funding = new EscrowFunding(eventId(event));
  funding.from = event.params.from;
  funding.amount = event.params.amount;
  funding.totalFunded = event.params.totalFunded;
  funding.blockNumber = event.block.number;
  funding.transaction = event.transaction.hash;
  funding.save();
  const protocol = loadProtocol();
  protocol.escrowFunded = event.params.totalFunded;
  protocol.save();
}

export function handleGuardianSetProposed(event: GuardianSetProposed): void {
  recordGuardianSetProposed(event.params.id.toI32(), event.params.members, event.params.threshold, event.params.activatesAt, event);
}

export function handleGuardianSetActivated(event: GuardianSetActivated): void {
  recordGuardianSetActivated(event.params.id.toI32(), event.params.members, event.params.threshold, event);
}

export function handleOwnershipTransferStarted(event: OwnershipTransferStarted): void {
  recordOwnershipTransferStarted(event);
}

export function handleOwnershipTransferred(event: OwnershipTransferred): void {
  recordOwnershipTransferred(event);
}

export function handleEIP712DomainChanged(event: EIP712DomainChanged): void {
  recordGeneric(event, 'EIP712DomainChanged');
}
