/**
 * The guardian's own-view checks before it signs (docs/keepers.md §6): what it observed itself must be in
 * the dataset. Every commitment it attested for the epoch, of a node in the epoch's Active set, must be there with its attestation (else a
 * keeper could drop a node's commitment and take its volume away). Pure.
 */
import type { EpochDataset } from '../core/datasetSchema.js';
import type { EpochEvaluation } from '../core/dataset.js';
import type { AttestedCommitment } from './commitmentStore.js';
import type { OpeningsObservation } from './openingsObserver.js';

/** The first attested commitment missing from the dataset (or present without this guardian's attestation). */
export function missingCommitment(
  attested: readonly AttestedCommitment[],
  d: EpochDataset,
  guardian: string,
): { nodeKey: string; root: string } | null {
  const present = new Set<string>();
  for (const c of d.commitments) {
    const mine = c.attestations.find((a) => a.guardian === guardian);
    if (!mine) continue;
    const { epoch, root, totalUnits, leafCount } = c.commitment;
    present.add([c.nodeKey, epoch, root, totalUnits, leafCount, c.signature, mine.signature].join(':'));
  }
  const nodes = new Set(d.nodes.map((n) => n.nodeKey));
  for (const a of attested) {
    // Only nodes of the epoch's Active set (checked against the chain) count; a node registered during
    // the epoch may have been attested but is not part of it.
    if (!nodes.has(a.nodeKey)) continue;
    const { epoch, root, totalUnits, leafCount } = a.commitment;
    const key = [a.nodeKey, epoch, root, totalUnits, leafCount, a.signature, a.attestation.signature].join(':');
    if (!present.has(key)) return { nodeKey: a.nodeKey, root };
  }
  return null;
}

/**
 * A node this guardian holds a node-signed openings answer of, that the dataset has silent or not at all
 * (a keeper hiding an answer to take a node's volume and strike it); null when there is none.
 */
export function omittedOpenings(observations: readonly OpeningsObservation[], d: EpochDataset): string | null {
  const nodes = new Set(d.nodes.map((n) => n.nodeKey));
  const entries = new Map(d.openings.map((o) => [o.nodeKey, o]));
  for (const o of observations) {
    if (o.status !== 'signed' || !nodes.has(o.nodeKey)) continue;
    const entry = entries.get(o.nodeKey);
    if (!entry || entry.status === 'silent') return o.nodeKey;
  }
  return null;
}

/**
 * After evaluation: a node this guardian holds a node-signed answer of must have its openings counted
 * (ok, malformed or fraud): an entry the evaluation finds unattributable, unobserved or silent hides that
 * answer (e.g. one field changed). The first such node, or null.
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
