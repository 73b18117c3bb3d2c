/**
 * Availability part of `evaluateEpoch` (docs/keepers.md §4): WatchDog commits (operator signature, one
 * commit per license), the assignment from the assignment seed (core/sampling.ts), transcripts (operator
 * signature, then core/watchdogSchedule.ts `checkTranscript`: the secret opens the commit, results exactly
 * the schedule; plus: no challenge sent before its scheduled time or after the epoch end), and the
 * per-node samples for core/scoring.ts: for every assigned WatchDog with an accepted transcript, its
 * success ratio (ok / scheduled) and the latencies of its successful challenges. Pure.
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
import type { RejectedItem } from './dataset.js';
import { PPM, medianInt } from './scoring.js';

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

export interface WatchdogSample {
  watchdog: string;
  successRatio: number;
  latenciesMs: number[];
}

export interface WatchdogEvaluation {
  /** node → tokenIds assigned (pick order). */
  assignment: Map<Address, string[]>;
  /** node → samples of assigned WatchDogs with accepted transcripts. */
  samples: Map<Address, WatchdogSample[]>;
  /** node → per-WatchDog counts (for reporting). */
  ratios: Map<Address, { tokenId: string; ok: number; scheduled: number }[]>;
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
export async function evaluateWatchdogs(
  d: EpochDataset,
  sortedNodeKeys: readonly Address[],
  rejected: RejectedItem[],
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
  const transcripts = new Map<string, Map<Address, NodeAvailability>>();
  for (const [tokenId, forToken] of accepted) {
    if (forToken.size > 1)
      rejected.push({ kind: 'transcript', id: tokenId, reason: 'two different transcripts for one license' });
    else transcripts.set(tokenId, [...forToken.values()][0]!.nodes);
  }

  // Samples per node from its assigned WatchDogs' accepted transcripts.
  const samples = new Map<Address, WatchdogSample[]>();
  const ratios = new Map<Address, { tokenId: string; ok: number; scheduled: number }[]>();
  for (const node of nodes) {
    const s: WatchdogSample[] = [];
    const counts: { tokenId: string; ok: number; scheduled: number }[] = [];
    for (const tokenId of assignment.get(node)!) {
      const availability = transcripts.get(tokenId)?.get(node);
      if (!availability) continue;
      s.push({ watchdog: tokenId, successRatio: availability.successRatio, latenciesMs: availability.latenciesMs });
      counts.push({ tokenId, ok: availability.ok, scheduled: availability.scheduled });
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
 * License reward weights: for each eligible license, the challenges it was scheduled on the nodes where its
 * success ratio lies within `OUTLIER_TOLERANCE_PPM` of that node's median (the node's availability before
 * rounding to performance). A WatchDog that reports an honest node down, or an offline node up, against its
 * independent peers is not paid for that node (a `transcript` item in `rejected` says so); with m = 5 and
 * assignment by owner, a colluding pair cannot move the median either, so lying earns less than reporting
 * the truth (docs/keepers.md §4).
 */
export function licenseWeights(w: WatchdogEvaluation, rejected: RejectedItem[]): Map<string, number> {
  const weights = new Map<string, number>(w.eligibleLicenses.map((id) => [id, 0]));
  for (const [node, counts] of w.ratios) {
    const ppm = counts.map((c) => Math.round((c.ok / c.scheduled) * PPM));
    const median = medianInt(ppm);
    counts.forEach((c, i) => {
      const weight = weights.get(c.tokenId);
      if (weight === undefined) return;
      if (Math.abs(ppm[i]! - median) > OUTLIER_TOLERANCE_PPM) {
        rejected.push({
          kind: 'transcript',
          id: `${c.tokenId}@${node}`,
          reason: `outlier: success ${ppm[i]} ppm for ${node} against its WatchDogs' median ${median} ppm; not paid for this node`,
        });
        return;
      }
      weights.set(c.tokenId, weight + c.scheduled);
    });
  }
  return weights;
}
