/**
 * Availability part of `evaluateEpoch` (docs/keepers.md §4): WatchDog commits (operator signature, one
 * commit per license), the assignment from the assignment seed (core/sampling.ts), transcripts (operator
 * signature, then core/watchdogSchedule.ts `checkTranscript`: the secret opens the commit, results exactly
 * the schedule, each naming the envelope id its secret fixes; plus: no challenge sent before its scheduled
 * time or after the epoch end), and the per-node samples for core/scoring.ts. Pure.
 *
 * A result is evidence, not a claim (issue 11 finding 3): a challenge counts as delivered only when the node
 * opened its committed receipt of the challenge envelope (`challengeOpenings`: a sum path to the node's
 * counted commitment and the receipt's own signatures, the ack by the WatchDog's recipient identity). So:
 *   - "ok" with the receipt: delivered, the reported latency counts;
 *   - "ok" without it: not delivered, and unproven: the license is not paid for it;
 *   - "not ok" without it: not delivered;
 *   - "not ok" with it: delivered (at the timeout as latency) and a provable lie: the WatchDog's own
 *     recipient acked it, and an honest WatchDog acks only deliveries within the timeout. The license
 *     forfeits its whole epoch reward.
 * A node's sample from a WatchDog is the share of its challenges delivered; license weights
 * (`licenseWeights`) pay only results that are proven or uncontradicted, on nodes where the WatchDog's share
 * agrees with the node's median.
 *
 * Timing: a WatchDog learns its assignment only once the start block exists (the node set is read there),
 * so a challenge may go out later than scheduled, but never earlier and never after the epoch.
 */
import type { Address, Hex } from 'viem';
import { assignWatchdogs, type WatchdogCandidate } from './sampling.js';
import {
  challengeOffsets,
  checkTranscript,
  recoverTranscriptSigner,
  recoverWatchdogCommitSigner,
  type NodeAvailability,
  type Transcript,
} from './watchdogSchedule.js';
import type { EpochDataset, TranscriptWire, WatchdogCommitWire } from './datasetSchema.js';
import type { EpochCommitment } from './commitment.js';
import { verifyOpening } from './sampling.js';
import { toOpening } from './evaluateOpenings.js';
import type { RejectedItem } from './dataset.js';
import { PPM, medianInt } from './scoring.js';

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

export interface WatchdogSample {
  watchdog: string;
  successRatio: number;
  latenciesMs: number[];
}

/** One WatchDog's results for one node, judged against the node's opened receipts. */
export interface WatchdogResultCounts {
  tokenId: string;
  /** Challenges delivered: the node opened its receipt of the envelope. */
  ok: number;
  scheduled: number;
  /** Results the WatchDog reported "ok". */
  claimedOk: number;
  /** "ok" without a receipt: not paid. */
  unproven: number;
  /** "not ok" although the node opened the receipt: the license forfeits the epoch. */
  contradicted: number;
}

export interface WatchdogEvaluation {
  /** node → tokenIds assigned (pick order). */
  assignment: Map<Address, string[]>;
  /** node → samples of assigned WatchDogs with accepted transcripts. */
  samples: Map<Address, WatchdogSample[]>;
  /** node → per-WatchDog counts (for reporting and license weights). */
  ratios: Map<Address, WatchdogResultCounts[]>;
  /** Licenses with an accepted transcript covering at least one scheduled challenge. */
  eligibleLicenses: string[];
}

const byTokenId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/** A challenge sent before its scheduled time or after the epoch end; null when all are in time. */
function timingProblem(d: EpochDataset, t: Transcript): string | null {
  const duration = d.epochEnd - d.epochStart;
  const timeoutSeconds = Math.ceil(d.parameters.challengeTimeoutMs / 1000);
  const offsets = new Map<string, number[]>();
  for (const r of t.results) {
    let byIndex = offsets.get(r.node);
    if (!byIndex) {
      byIndex = [];
      for (const { i, offset } of challengeOffsets(
        t.secret,
        r.node,
        d.parameters.challengesPerNode,
        duration,
        timeoutSeconds,
      ))
        byIndex[i] = offset;
      offsets.set(r.node, byIndex);
    }
    const earliest = (d.epochStart + byIndex[r.i]!) * 1000;
    if (r.at < earliest)
      return `challenge ${r.node}#${r.i} sent at ${r.at} ms, before its scheduled time ${earliest} ms`;
    if (r.at >= d.epochEnd * 1000) return `challenge ${r.node}#${r.i} sent at ${r.at} ms, after the epoch end`;
  }
  return null;
}

const recover = <T>(p: Promise<T>): Promise<T | null> => p.catch(() => null);

export interface ValidCommit {
  operator: Address;
  /** The license's holder at the start block (WatchDogs are assigned by owner). */
  owner: Address;
  commit: Hex;
}

/**
 * The WatchDog commits that count for `epoch` (tokenId → operator and commit): the signature recovers to
 * the named operator (not zero); a license with two different valid commits is dropped. Problems go to
 * `rejected`. The WatchDog service runs this too, so it computes the assignment the guardians compute.
 */
export async function validWatchdogCommits(
  epoch: number,
  entries: readonly WatchdogCommitWire[],
  rejected: RejectedItem[] = [],
): Promise<Map<string, ValidCommit>> {
  const signers = await Promise.all(
    entries.map((w) =>
      recover(
        recoverWatchdogCommitSigner({
          tokenId: w.tokenId,
          epoch,
          commit: w.commit as Hex,
          signature: w.signature as Hex,
        }),
      ),
    ),
  );
  const commits = new Map<string, Map<string, ValidCommit>>();
  entries.forEach((w, i) => {
    const reject = (reason: string) => rejected.push({ kind: 'watchdog-commit', id: `${w.tokenId}#${i}`, reason });
    if (w.operator === ZERO_ADDRESS) return reject('license has no operator');
    if (w.owner === ZERO_ADDRESS) return reject('license has no owner (burned)');
    if (signers[i] !== w.operator)
      return reject(`signature recovers to ${signers[i] ?? 'nothing'}, not operator ${w.operator}`);
    const forToken = commits.get(w.tokenId) ?? new Map<string, ValidCommit>();
    forToken.set(`${w.operator}:${w.commit}`, {
      operator: w.operator as Address,
      owner: w.owner as Address,
      commit: w.commit as Hex,
    });
    commits.set(w.tokenId, forToken);
  });
  const valid = new Map<string, ValidCommit>();
  for (const [tokenId, forToken] of [...commits.entries()].sort((a, b) => byTokenId(a[0], b[0]))) {
    if (forToken.size > 1)
      rejected.push({ kind: 'watchdog-commit', id: tokenId, reason: 'two different commits for one license' });
    else valid.set(tokenId, [...forToken.values()][0]!);
  }
  return valid;
}

/**
 * The assignment of core/sampling.ts over the valid commits: node → tokenIds, and tokenId → nodes. `nodes`:
 * the node set with each node's operator (a license is never assigned to a node its owner or operator key
 * operates).
 */
export function watchdogAssignment(
  assignSeed: Hex,
  nodeSet: readonly { nodeKey: string; operator: string }[],
  valid: ReadonlyMap<string, ValidCommit>,
  m: number,
): { assignment: Map<Address, string[]>; nodesOf: Map<string, Address[]> } {
  const nodes = nodeSet.map((n) => n.nodeKey.toLowerCase() as Address);
  const nodeOperators = new Map(nodeSet.map((n) => [n.nodeKey.toLowerCase(), n.operator.toLowerCase()]));
  if (!nodes.every((n, i) => i === 0 || nodes[i - 1]! < n)) nodes.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const candidates: WatchdogCandidate[] = [...valid.entries()].map(([tokenId, c]) => ({
    tokenId: BigInt(tokenId),
    operator: c.operator,
    owner: c.owner,
  }));
  // No candidates: every node gets none (skips a per-node pass over the whole node set).
  const assigned =
    candidates.length > 0
      ? assignWatchdogs({ assignSeed, nodes, watchdogs: candidates, m, nodeOperators })
      : new Map<Address, bigint[]>();
  const assignment = new Map<Address, string[]>();
  const nodesOf = new Map<string, Address[]>();
  for (const node of nodes) {
    const ids = (assigned.get(node) ?? []).map((id) => id.toString());
    assignment.set(node, ids);
    for (const id of ids) {
      const list = nodesOf.get(id);
      if (list) list.push(node);
      else nodesOf.set(id, [node]);
    }
  }
  return { assignment, nodesOf };
}

/** `sortedNodeKeys`: the dataset's node keys, ascending. */
/**
 * The challenge envelopes each node proved it delivered: node → envelope ids of the `challengeOpenings` that
 * verify against the node's counted commitment (`commitments`, from core/evaluateOpenings.ts) and name the
 * node and epoch. Anything else goes to `rejected` (and proves nothing).
 */
export function deliveredChallenges(
  d: Pick<EpochDataset, 'epoch' | 'challengeOpenings'>,
  commitments: ReadonlyMap<Address, EpochCommitment>,
  rejected: RejectedItem[],
): Map<Address, Set<Hex>> {
  const delivered = new Map<Address, Set<Hex>>();
  for (const entry of d.challengeOpenings) {
    const node = entry.nodeKey as Address;
    const commitment = commitments.get(node);
    const reject = (id: string, reason: string) => rejected.push({ kind: 'challenge-opening', id, reason });
    if (!commitment) {
      reject(node, 'the node has no counted commitment: its challenge receipts prove nothing');
      continue;
    }
    const ids = new Set<Hex>();
    for (const w of entry.openings) {
      const check = verifyOpening(toOpening(w), { node, commitment, target: undefined });
      if (check.ok) ids.add(w.ticket.envelopeId as Hex);
      else reject(`${node}@${w.ticket.envelopeId}`, `${check.reason}: ${check.detail}`);
    }
    delivered.set(node, ids);
  }
  return delivered;
}

type NodeEvidence = Omit<WatchdogResultCounts, 'tokenId'> & { latenciesMs: number[] };

/**
 * One accepted transcript's results judged against the nodes' opened challenge receipts (the rules in this
 * file's header): node → counts and the latencies of the delivered challenges (i ascending).
 */
function judgeResults(
  t: Transcript,
  scheduled: ReadonlyMap<Address, NodeAvailability>,
  delivered: ReadonlyMap<Address, ReadonlySet<Hex>>,
  timeoutMs: number,
): Map<Address, NodeEvidence> {
  const out = new Map<Address, NodeEvidence>();
  for (const [node, a] of scheduled)
    out.set(node, { ok: 0, scheduled: a.scheduled, claimedOk: 0, unproven: 0, contradicted: 0, latenciesMs: [] });
  for (const r of t.results) {
    const node = r.node.toLowerCase() as Address;
    const e = out.get(node)!;
    const proven = delivered.get(node)?.has(r.envelopeId.toLowerCase() as Hex) ?? false;
    if (r.ok) e.claimedOk++;
    if (proven) {
      e.ok++;
      e.latenciesMs.push(r.ok ? r.latencyMs : timeoutMs);
      if (!r.ok) e.contradicted++;
    } else if (r.ok) e.unproven++;
  }
  return out;
}

/**
 * `sortedNodeKeys`: the dataset's node keys, ascending; `commitments`: each node's counted commitment (the
 * challenge receipts are opened against it).
 */
export async function evaluateWatchdogs(
  d: EpochDataset,
  sortedNodeKeys: readonly Address[],
  rejected: RejectedItem[],
  commitments: ReadonlyMap<Address, EpochCommitment> = new Map(),
): Promise<WatchdogEvaluation> {
  const validCommits = await validWatchdogCommits(d.epoch, d.watchdogs, rejected);
  const nodes = sortedNodeKeys;
  const { assignment, nodesOf } = watchdogAssignment(d.assignSeed.value as Hex, d.nodes, validCommits, d.parameters.m);

  // Transcripts.
  const duration = d.epochEnd - d.epochStart;
  const timeoutSeconds = Math.ceil(d.parameters.challengeTimeoutMs / 1000);
  const transcriptSigners = await Promise.all(
    d.transcripts.map((t) => recover(recoverTranscriptSigner(t.transcript as Transcript, t.signature as Hex))),
  );
  const accepted = new Map<string, Map<string, { wire: TranscriptWire; nodes: Map<Address, NodeAvailability> }>>();
  d.transcripts.forEach((w, i) => {
    const t = w.transcript as Transcript;
    const reject = (reason: string) => rejected.push({ kind: 'transcript', id: `${t.tokenId}#${i}`, reason });
    const commit = validCommits.get(t.tokenId);
    if (!commit) return reject('no valid commit for this license');
    if (t.epoch !== d.epoch) return reject(`transcript is for epoch ${t.epoch}, not ${d.epoch}`);
    if (transcriptSigners[i] !== commit.operator) {
      return reject(`signature recovers to ${transcriptSigners[i] ?? 'nothing'}, not operator ${commit.operator}`);
    }
    const check = checkTranscript(t, {
      commit: commit.commit,
      nodes: nodesOf.get(t.tokenId) ?? [],
      count: d.parameters.challengesPerNode,
      epochDurationSeconds: duration,
      timeoutSeconds,
      tokenId: BigInt(t.tokenId),
      epoch: d.epoch,
    });
    if (!check.ok) return reject(`${check.reason}: ${check.detail}`);
    const late = timingProblem(d, t);
    if (late) return reject(`off-schedule: ${late}`);
    const forToken = accepted.get(t.tokenId) ?? new Map();
    forToken.set(w.signature, { wire: w, nodes: check.nodes });
    accepted.set(t.tokenId, forToken);
  });
  const transcripts = new Map<string, Map<Address, NodeEvidence>>();
  const delivered = deliveredChallenges(d, commitments, rejected);
  for (const [tokenId, forToken] of accepted) {
    if (forToken.size > 1)
      rejected.push({ kind: 'transcript', id: tokenId, reason: 'two different transcripts for one license' });
    else {
      const { wire, nodes: scheduled } = [...forToken.values()][0]!;
      transcripts.set(
        tokenId,
        judgeResults(wire.transcript as Transcript, scheduled, delivered, d.parameters.challengeTimeoutMs),
      );
    }
  }

  // Samples per node from its assigned WatchDogs' accepted transcripts.
  const samples = new Map<Address, WatchdogSample[]>();
  const ratios = new Map<Address, WatchdogResultCounts[]>();
  for (const node of nodes) {
    const s: WatchdogSample[] = [];
    const counts: WatchdogResultCounts[] = [];
    for (const tokenId of assignment.get(node)!) {
      const evidence = transcripts.get(tokenId)?.get(node);
      if (!evidence) continue;
      const { latenciesMs, ...c } = evidence;
      s.push({ watchdog: tokenId, successRatio: c.scheduled === 0 ? 0 : c.ok / c.scheduled, latenciesMs });
      counts.push({ tokenId, ...c });
    }
    samples.set(node, s);
    ratios.set(node, counts);
  }
  const eligibleLicenses = [...transcripts.keys()].filter((id) => (nodesOf.get(id)?.length ?? 0) > 0).sort(byTokenId);
  return { assignment, samples, ratios, eligibleLicenses };
}

/**
 * How far (ppm of success ratio) a WatchDog's result for a node may lie from the median of the node's
 * WatchDogs and still be paid. Part of the consensus function.
 */
export const OUTLIER_TOLERANCE_PPM = 250_000;

/**
 * License reward weights: for each eligible license, its paid results. A license with a contradicted result
 * (it reported "not ok" for a challenge the node proved delivered) gets nothing this epoch. Otherwise, on each
 * node where its delivered share lies within `OUTLIER_TOLERANCE_PPM` of the node's median (over the node's
 * WatchDogs), it is paid for the results it did not claim without proof (scheduled − unproven). A WatchDog that
 * reports "ok" without sending is unpaid for those results and, since nothing was delivered, an outlier
 * wherever the node is up; one that reports an honest node down is caught by the node's receipts; with m = 5
 * and assignment by owner a colluding pair cannot move the median either (docs/keepers.md §4). Each refusal is
 * a `transcript` item in `rejected`.
 */
export function licenseWeights(w: WatchdogEvaluation, rejected: RejectedItem[]): Map<string, number> {
  const weights = new Map<string, number>(w.eligibleLicenses.map((id) => [id, 0]));
  const forfeited = new Set<string>();
  for (const [node, counts] of w.ratios)
    for (const c of counts)
      if (c.contradicted > 0 && weights.has(c.tokenId)) {
        forfeited.add(c.tokenId);
        rejected.push({
          kind: 'transcript',
          id: `${c.tokenId}@${node}`,
          reason: `contradicted: ${c.contradicted} challenge(s) reported failed that ${node} proved delivered (its receipt, acked by the WatchDog); the license forfeits the epoch`,
        });
      }
  for (const [node, counts] of w.ratios) {
    const ppm = counts.map((c) => Math.round((c.ok / c.scheduled) * PPM));
    const median = medianInt(ppm);
    counts.forEach((c, i) => {
      const weight = weights.get(c.tokenId);
      if (weight === undefined || forfeited.has(c.tokenId)) return;
      if (Math.abs(ppm[i]! - median) > OUTLIER_TOLERANCE_PPM) {
        rejected.push({
          kind: 'transcript',
          id: `${c.tokenId}@${node}`,
          reason: `outlier: ${ppm[i]} ppm of its challenges to ${node} delivered against its WatchDogs' median ${median} ppm; not paid for this node`,
        });
        return;
      }
      if (c.unproven > 0)
        rejected.push({
          kind: 'transcript',
          id: `${c.tokenId}@${node}`,
          reason: `unproven: ${c.unproven} challenge(s) reported ok without the node's receipt; not paid for them`,
        });
      weights.set(c.tokenId, weight + c.scheduled - c.unproven);
    });
  }
  for (const id of forfeited) weights.set(id, 0);
  return weights;
}

/**
 * The challenge envelope ids of `transcripts`' results per node (ascending, each once): what the keeper asks
 * each node to open (`challengeOpenings`).
 */
export function challengeEnvelopesByNode(
  transcripts: readonly { transcript: { results: readonly { node: string; envelopeId: string }[] } }[],
): Map<Address, Hex[]> {
  const byNode = new Map<Address, Set<Hex>>();
  for (const t of transcripts)
    for (const r of t.transcript.results) {
      const node = r.node.toLowerCase() as Address;
      const ids = byNode.get(node) ?? new Set<Hex>();
      ids.add(r.envelopeId.toLowerCase() as Hex);
      byNode.set(node, ids);
    }
  return new Map([...byNode].map(([node, ids]) => [node, [...ids].sort()]));
}
