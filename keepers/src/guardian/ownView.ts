/**
 * The guardian's own-view checks before it signs (docs/keepers.md §6): what it observed itself must be in
 * the dataset. Every commitment it attested for the epoch, of a node in the epoch's Active set, must be there with its attestation (else a
 * keeper could drop a node's commitment and take its volume away); a challenge receipt a node opens to this
 * guardian must not be missing from `challengeOpenings` (`unprovenChallenges`, `provenByAnswer`). Pure.
 */
import type { Address, Hex } from 'viem';
import type { EpochCommitment } from '../core/commitment.js';
import type { EpochDataset, OpeningWire } from '../core/datasetSchema.js';
import { challengeEnvelopesByNode, deliveredChallenges } from '../core/evaluateWatchdogs.js';
import type { EpochEvaluation } from '../core/dataset.js';
import type { AttestedCommitment } from './commitmentStore.js';
import type { OpeningsObservation } from './openingsObserver.js';

/**
 * The first attested commitment (of a node in the epoch's Active set) missing from the dataset: the same
 * node-signed commitment must be there. Its entry need not carry this guardian's attestation (a guardian
 * that was unreachable when the keeper collected could otherwise never sign); whether it counts is checked
 * after evaluation (`uncountedCommitment`).
 */
export function missingCommitment(
  attested: readonly AttestedCommitment[],
  d: EpochDataset,
  _guardian?: string,
): { nodeKey: string; root: string } | null {
  const key = (nodeKey: string, c: AttestedCommitment['commitment'], signature: string) =>
    [nodeKey, c.epoch, c.root, c.totalUnits, c.leafCount, signature].join(':');
  const present = new Set(d.commitments.map((c) => key(c.nodeKey, c.commitment, c.signature)));
  const nodes = new Set(d.nodes.map((n) => n.nodeKey));
  for (const a of attested) {
    // Only nodes of the epoch's Active set (checked against the chain) count; a node registered during
    // the epoch may have been attested but is not part of it.
    if (!nodes.has(a.nodeKey)) continue;
    if (!present.has(key(a.nodeKey, a.commitment, a.signature))) return { nodeKey: a.nodeKey, root: a.commitment.root };
  }
  return null;
}

/**
 * After evaluation: a node whose commitment this guardian attested must have a counted commitment (or be
 * an equivocator) — unless the dataset carries this guardian's own attestation of it. A dataset that strips
 * attestations below the quorum hides a node's volume: refused. But when the keeper did include this
 * guardian's attestation, the commitment simply did not reach q attestations (other guardians were down
 * or saw it late): refusing then would stall the epoch for a fact no keeper can change.
 */
export function uncountedCommitment(
  attested: readonly AttestedCommitment[],
  evaluation: Pick<EpochEvaluation, 'perNode'>,
  d: Pick<EpochDataset, 'commitments'>,
  guardian: string,
): string | null {
  const byNode = new Map(evaluation.perNode.map((n) => [n.nodeKey as string, n]));
  const me = guardian.toLowerCase();
  for (const a of attested) {
    const n = byNode.get(a.nodeKey);
    if (!n || n.committed) continue;
    const entry = d.commitments.find(
      (c) => c.nodeKey === a.nodeKey && c.signature === a.signature && c.commitment.root === a.commitment.root,
    );
    if (entry?.attestations.some((x) => x.guardian === me)) continue;
    return a.nodeKey;
  }
  return null;
}

/**
 * After evaluation: a node this guardian holds a node-signed answer of must have its openings counted
 * (ok, malformed or fraud) when its commitment counts: an entry the evaluation finds unattributable,
 * unobserved or silent — or no entry at all — hides that answer (e.g. one field changed, or the keeper
 * marked the node silent). A node whose commitment does not count has nothing to open ('no-commitment'),
 * so this guardian's answer is moot there. The first such node, or null.
 */
export function observedButNotCounted(
  observations: readonly OpeningsObservation[],
  evaluation: Pick<EpochEvaluation, 'perNode'>,
): { nodeKey: string; outcome: string } | null {
  const outcome = new Map(evaluation.perNode.map((n) => [n.nodeKey as string, n.openings]));
  for (const o of observations) {
    if (o.status !== 'signed') continue;
    const got = outcome.get(o.nodeKey);
    if (got === 'unattributed' || got === 'unobserved' || got === 'silent') return { nodeKey: o.nodeKey, outcome: got };
  }
  return null;
}

/**
 * After evaluation: the challenge results the dataset leaves unproven, per node whose commitment counts —
 * the envelope ids of the transcripts' results with no verified receipt in `challengeOpenings`. The guardian
 * asks those nodes itself (a keeper that drops a node's receipts takes its availability away, and hides a
 * lying WatchDog); ascending ids.
 */
export function unprovenChallenges(
  d: Pick<EpochDataset, 'epoch' | 'transcripts' | 'challengeOpenings'>,
  evaluation: Pick<EpochEvaluation, 'perNode'>,
): Map<Address, { commitment: EpochCommitment; envelopeIds: Hex[] }> {
  const counted = new Map<Address, EpochCommitment>();
  for (const n of evaluation.perNode)
    if (n.commitment) counted.set(n.nodeKey as Address, { epoch: d.epoch, ...n.commitment } as EpochCommitment);
  const proven = deliveredChallenges(d, counted, []);
  const out = new Map<Address, { commitment: EpochCommitment; envelopeIds: Hex[] }>();
  for (const [node, ids] of challengeEnvelopesByNode(d.transcripts)) {
    const commitment = counted.get(node);
    if (!commitment) continue;
    const missing = ids.filter((id) => !proven.get(node)?.has(id));
    if (missing.length > 0) out.set(node, { commitment, envelopeIds: missing });
  }
  return out;
}

/** Of a node's answer, the envelope ids whose receipt verifies against its counted commitment. */
export function provenByAnswer(
  epoch: number,
  node: Address,
  commitment: EpochCommitment,
  openings: readonly OpeningWire[],
): Hex[] {
  const proven = deliveredChallenges(
    { epoch, challengeOpenings: [{ nodeKey: node, openings: [...openings] }] },
    new Map([[node, commitment]]),
    [],
  );
  return [...(proven.get(node) ?? [])].sort();
}
