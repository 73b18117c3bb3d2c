/**
 * Relay proof part of `evaluateEpoch` (docs/keepers.md §3): commitments (signature, Active node, epoch,
 * equivocation, guardian attestations, leaf bound), then per node the k sample targets from the seed and the verification of each opening
 * (sum path and leaf-for-target, receipt checks, no ticket opened at two leaves), then the cross-node
 * duplicate-ticket check, and the volume estimate per sender DID. Pure; per-node work is independent.
 */
import type { Address, Hex } from 'viem';
import { nodeStakingDomain, recoverCommitmentSigner, type EpochCommitment } from './commitment.js';
import {
  attestationDigest,
  attestationQuorum,
  MAX_LEAF_UNITS,
  recoverSigner,
  validAttestors,
  withinLeafBound,
} from './attestation.js';
import { openingsDigest, silenceDigest } from './openingsProof.js';
import { mapChunked, yieldToEventLoop } from './yieldNow.js';
import { settlementDomain } from './epochHeader.js';
import { checkReceiptKeys, ticketHash, type KeyDirectory } from './relay.js';
import { sampleTargets, verifyOpening, type Opening } from './sampling.js';
import type { CommitmentWire, EpochDataset, NodeOpeningsWire, OpeningWire } from './datasetSchema.js';
import type { OpeningsOutcome, RejectedItem } from './dataset.js';

export interface NodeRelayResult {
  nodeKey: Address;
  committed: boolean;
  equivocated: boolean;
  commitment?: EpochCommitment;
  outcome: OpeningsOutcome;
  reason?: string;
  /** Credited units per sender DID (estimated from the samples). */
  volume: ReadonlyMap<string, bigint>;
  /** ticketHash → leaf index of the verified openings (for the cross-node check). */
  tickets: ReadonlyMap<Hex, number>;
}

const MAX_UINT64 = (1n << 64n) - 1n;
const compareKeys = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Shared by every node that has nothing (never mutated): saves two Map allocations per node. */
const NOTHING_VOLUME: ReadonlyMap<string, bigint> = new Map();
const NOTHING_TICKETS: ReadonlyMap<Hex, number> = new Map();

const commitmentKey = (c: EpochCommitment) => `${c.root}:${c.totalUnits}:${c.leafCount}`;

function toCommitment(w: CommitmentWire): EpochCommitment {
  return {
    epoch: w.commitment.epoch,
    root: w.commitment.root as Hex,
    totalUnits: BigInt(w.commitment.totalUnits),
    leafCount: BigInt(w.commitment.leafCount),
  };
}

/** An opening's wire form as `verifyOpening` takes it. */
export function toOpening(w: OpeningWire): Opening {
  return {
    index: w.index,
    ticket: w.ticket as Opening['ticket'],
    ack: w.ack as Opening['ack'],
    siblings: w.siblings.map((s) => ({ hash: s.hash as Hex, sum: BigInt(s.sum) })),
  };
}

/**
 * The commitments that count per node, and the equivocators. A commitment is *signed* when it is for this
 * epoch, names an Active node and its signature recovers to that node; two different signed commitments
 * of one node are an equivocation whatever their attestations (objective: the node signed both). A signed
 * commitment *counts* when it respects the leaf bound (totalUnits ≤ leafCount × 64) and at least
 * `attestationQuorum(guardianSet)` distinct guardian-set members attested it (the union over the entries
 * of that commitment). Everything else goes to `rejected` with the reason.
 */
export async function evaluateCommitments(
  d: Pick<EpochDataset, 'chainId' | 'contracts' | 'epoch' | 'nodes' | 'guardianSet' | 'commitments'>,
  rejected: RejectedItem[],
): Promise<{ commitments: Map<Address, EpochCommitment>; equivocated: Set<Address> }> {
  const domain = nodeStakingDomain(d.chainId, d.contracts.staking as Address);
  const settlement = settlementDomain(d.chainId, d.contracts.settlement as Address);
  const quorum = attestationQuorum(d.guardianSet.length);
  const active = new Set(d.nodes.map((n) => n.nodeKey));
  const signed = new Map<Address, Map<string, { c: EpochCommitment; attestors: Set<Address>; first: number }>>();
  const signers = await mapChunked(d.commitments, 64, (c) =>
    recoverCommitmentSigner(domain, toCommitment(c), c.signature as Hex).catch(() => null),
  );
  const attestors = await mapChunked(d.commitments, 16, async (w, i) =>
    signers[i] === w.nodeKey
      ? validAttestors(
          attestationDigest(settlement, domain, w.nodeKey as Address, toCommitment(w)),
          w.attestations,
          d.guardianSet,
        )
      : null,
  );
  d.commitments.forEach((w, i) => {
    const reject = (reason: string) => rejected.push({ kind: 'commitment', id: `${w.nodeKey}#${i}`, reason });
    if (w.commitment.epoch !== d.epoch) return reject(`commitment is for epoch ${w.commitment.epoch}, not ${d.epoch}`);
    if (!active.has(w.nodeKey)) return reject(`${w.nodeKey} is not an Active node at epoch start`);
    if (signers[i] === null) return reject('signature cannot be recovered');
    if (signers[i] !== w.nodeKey) return reject(`signature recovers to ${signers[i]}, not the node key`);
    const c = toCommitment(w);
    const forNode = signed.get(w.nodeKey as Address) ?? new Map();
    const key = commitmentKey(c);
    const entry = forNode.get(key) ?? { c, attestors: new Set<Address>(), first: i };
    for (const g of attestors[i]!.guardians) entry.attestors.add(g);
    for (const problem of attestors[i]!.problems) reject(problem);
    forNode.set(key, entry);
    signed.set(w.nodeKey as Address, forNode);
  });
  const commitments = new Map<Address, EpochCommitment>();
  const equivocated = new Set<Address>();
  for (const [node, forNode] of signed) {
    if (forNode.size > 1) {
      equivocated.add(node);
      continue;
    }
    const { c, attestors: by, first } = [...forNode.values()][0]!;
    const reject = (reason: string) => rejected.push({ kind: 'commitment', id: `${node}#${first}`, reason });
    if (!withinLeafBound(c))
      reject(`totalUnits ${c.totalUnits} exceeds leafCount ${c.leafCount} × ${MAX_LEAF_UNITS} (unopenable filler)`);
    else if (by.size < quorum)
      reject(`attested by ${by.size} guardians, needs ${quorum}: not shown to exist before the commit deadline`);
    else commitments.set(node, c);
  }
  return { commitments, equivocated };
}

/** Key states of the dataset as core/relay.ts's directory (a key not listed is unknown: not active). */
export function keyDirectory(d: EpochDataset): KeyDirectory {
  const keys = new Map(d.keys.map((k) => [k.key, { active: k.active, did: BigInt(k.did) }]));
  return { statusOf: (key: Hex) => keys.get(key.toLowerCase()) };
}

/** Who an openings entry is attributable to: the node's signature, or the guardians' silence signatures. */
export interface OpeningsAttribution {
  /** The k sample targets (from the seed). */
  targets: bigint[];
  /** The entry's signature recovers to the node over (epoch, root, targets, openings). */
  signedByNode: boolean;
  /** Distinct guardian-set members whose silence signature verifies. */
  silenceBy: number;
  /** Silence signatures needed: attestationQuorum(guardianSet). */
  quorum: number;
}

/**
 * Verifies one committed node's openings. Only what the node signed is held against it: an `ok` or
 * `malformed` entry whose signature does not recover to the node (over this epoch, the counted root and the
 * seeded targets) is unattributable (no volume, no penalty); silence strikes only when a quorum of
 * guardians signed that they got no answer, otherwise it is unobserved (no volume, no strike). Fraud
 * (objective, slashable): a path, sum, sibling capacity, target, signature, node, epoch or binding check
 * fails, or one ticket sits at two leaves. A receipt whose keys are not Active for the DIDs it names at the
 * seed block is not fraud (the key may have been revoked after relaying): the sample simply credits no DID.
 */
export function verifyNodeOpenings(
  d: EpochDataset,
  nodeKey: Address,
  commitment: EpochCommitment,
  entry: NodeOpeningsWire | undefined,
  keys: KeyDirectory,
  attribution: OpeningsAttribution,
): Pick<NodeRelayResult, 'outcome' | 'reason' | 'volume' | 'tickets'> {
  const nothing = { volume: NOTHING_VOLUME, tickets: NOTHING_TICKETS };
  if (commitment.totalUnits === 0n) return { outcome: 'not-sampled', ...nothing };
  const k = d.parameters.k;
  if (!entry || entry.status === 'silent') {
    if (attribution.silenceBy < attribution.quorum)
      return {
        outcome: 'unobserved',
        reason: `silence seen by ${attribution.silenceBy} verifiers, needs ${attribution.quorum}`,
        ...nothing,
      };
    return { outcome: 'silent', reason: 'no openings before the deadline', ...nothing };
  }
  if (!attribution.signedByNode)
    return { outcome: 'unattributed', reason: 'openings not signed by the node', ...nothing };
  if (entry.status === 'malformed') return { outcome: 'malformed', reason: entry.reason, ...nothing };
  const openings = entry.openings ?? [];
  if (openings.length !== k)
    return { outcome: 'malformed', reason: `${openings.length} openings for ${k} samples`, ...nothing };
  const volume = new Map<string, bigint>();
  const tickets = new Map<Hex, number>();
  const targets = attribution.targets;
  const samplesPerDid = new Map<string, number>();
  for (let i = 0; i < k; i++) {
    const opening = toOpening(openings[i]!);
    const fraud = (reason: string) => ({
      outcome: 'fraud' as const,
      reason: `opening ${i}: ${reason}`,
      volume: NOTHING_VOLUME,
      tickets: NOTHING_TICKETS,
    });
    const verdict = verifyOpening(opening, { node: nodeKey, commitment, target: targets[i]! });
    if (!verdict.ok) return fraud(`${verdict.reason}: ${verdict.detail}`);
    const th = ticketHash(opening.ticket);
    const seenAt = tickets.get(th);
    if (seenAt !== undefined && seenAt !== opening.index) return fraud(`ticket ${th} also opened at leaf ${seenAt}`);
    tickets.set(th, opening.index);
    if (checkReceiptKeys(opening, keys).ok) {
      samplesPerDid.set(verdict.senderDid, (samplesPerDid.get(verdict.senderDid) ?? 0) + 1);
    }
  }
  for (const [did, samples] of samplesPerDid) {
    const credit = (commitment.totalUnits * BigInt(samples)) / BigInt(k);
    // Scoring takes uint64 volume entries; only a tree of > 2^64 units could exceed it.
    volume.set(did, credit < MAX_UINT64 ? credit : MAX_UINT64);
  }
  return { outcome: 'ok', volume, tickets };
}

/** The attribution of every committed, sampled node's openings entry (signature recoveries in parallel). */
async function attributeOpenings(
  d: EpochDataset,
  commitments: ReadonlyMap<Address, EpochCommitment>,
  entries: ReadonlyMap<string, NodeOpeningsWire>,
): Promise<Map<Address, OpeningsAttribution>> {
  const staking = nodeStakingDomain(d.chainId, d.contracts.staking as Address);
  const settlement = settlementDomain(d.chainId, d.contracts.settlement as Address);
  const quorum = attestationQuorum(d.guardianSet.length);
  const out = new Map<Address, OpeningsAttribution>();
  await mapChunked([...commitments], 32, async ([nodeKey, c]) => {
    if (c.totalUnits === 0n) return;
    const targets = sampleTargets(d.seed.value as Hex, nodeKey, c.totalUnits, d.parameters.k);
    const entry = entries.get(nodeKey);
    let signedByNode = false;
    let silenceBy = 0;
    if (entry && entry.status !== 'silent' && entry.signature) {
      const digest = openingsDigest(staking, d.epoch, c.root, targets, entry.openings ?? []);
      signedByNode = (await recoverSigner(digest, entry.signature as Hex)) === nodeKey;
    } else if (entry?.silenceAttestations) {
      const digest = silenceDigest(settlement, d.epoch, nodeKey, c.root);
      silenceBy = (await validAttestors(digest, entry.silenceAttestations, d.guardianSet)).guardians.size;
    }
    out.set(nodeKey, { targets, signedByNode, silenceBy, quorum });
  });
  return out;
}

/** Commitments, openings and the cross-node duplicate-ticket rule for every dataset node. */
export async function evaluateRelay(d: EpochDataset, rejected: RejectedItem[]): Promise<Map<Address, NodeRelayResult>> {
  const { commitments, equivocated } = await evaluateCommitments(d, rejected);
  const keys = keyDirectory(d);
  const entries = new Map(d.openings.map((o) => [o.nodeKey, o]));
  const nodes = d.nodes.map((n) => n.nodeKey as Address);
  const attribution = await attributeOpenings(d, commitments, entries);
  const results = new Map<Address, NodeRelayResult>();
  let sinceYield = 0;
  for (const nodeKey of nodes) {
    // ~64 Ed25519 verifications per node: let pending I/O in every few nodes
    if (++sinceYield >= 4) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
    const base = { nodeKey, volume: NOTHING_VOLUME, tickets: NOTHING_TICKETS };
    if (equivocated.has(nodeKey)) {
      results.set(nodeKey, {
        ...base,
        committed: true,
        equivocated: true,
        outcome: 'equivocated',
        reason: 'two different signed commitments',
      });
      continue;
    }
    const commitment = commitments.get(nodeKey);
    if (!commitment) {
      results.set(nodeKey, { ...base, committed: false, equivocated: false, outcome: 'no-commitment' });
      continue;
    }
    results.set(nodeKey, {
      nodeKey,
      committed: true,
      equivocated: false,
      commitment,
      ...verifyNodeOpenings(
        d,
        nodeKey,
        commitment,
        entries.get(nodeKey),
        keys,
        attribution.get(nodeKey) ?? {
          targets: [],
          signedByNode: false,
          silenceBy: 0,
          quorum: attestationQuorum(d.guardianSet.length),
        },
      ),
    });
  }
  // A ticket opened at two nodes is fraud for the later node in nodeKey order (lowercase hex of equal
  // length: string order is numeric order).
  const ticketOwner = new Map<Hex, Address>();
  const opened = nodes.filter((n) => results.get(n)!.outcome === 'ok').sort(compareKeys);
  for (const nodeKey of opened) {
    const r = results.get(nodeKey)!;
    const clash = [...r.tickets.keys()].find((th) => ticketOwner.has(th));
    if (clash) {
      Object.assign(r, {
        outcome: 'fraud',
        reason: `ticket ${clash} already opened at node ${ticketOwner.get(clash)}`,
        volume: NOTHING_VOLUME,
      });
      continue;
    }
    for (const th of r.tickets.keys()) ticketOwner.set(th, nodeKey);
  }
  for (const [nodeKey, r] of results) {
    if (
      r.outcome === 'fraud' ||
      r.outcome === 'malformed' ||
      r.outcome === 'unattributed' ||
      r.outcome === 'unobserved'
    )
      rejected.push({ kind: 'openings', id: nodeKey, reason: `${r.outcome}: ${r.reason}` });
  }
  for (const entry of d.openings) {
    const r = results.get(entry.nodeKey as Address);
    if (!r || r.outcome === 'no-commitment' || r.outcome === 'equivocated' || r.outcome === 'not-sampled') {
      rejected.push({
        kind: 'openings',
        id: entry.nodeKey,
        reason: `no openings expected (${r?.outcome ?? 'not an Active node'}): ignored`,
      });
    }
  }
  return results;
}
