/**
 * What the chain says about an epoch, per node: the published scores (`NodeScorePublished`), the fault
 * leaves executed for it (`FaultExecuted`) and the stake they slashed (`NodeSlashed`). The devnet prints
 * it as a table and checks it against what each node's behaviour must cost (docs/keepers.md §9).
 */
import { formatUnits, type Address, type PublicClient } from 'viem';
import type { AddressBook } from '../chain/addressBook.js';
import { epochSettlementAbi, nodeStakingAbi } from '../generated/contracts.js';
import {
  FAULT_BELOW_MIN_AVAILABILITY,
  FAULT_EQUIVOCATION,
  FAULT_NO_AVAILABILITY_DATA,
  FAULT_OPENINGS_FAILED,
  FAULT_SLASHED,
} from '../core/scoring.js';
import type { Behaviour } from './population.js';
import type { EpochEvaluation } from '../core/dataset.js';

export interface NodeRow {
  /** Index in the devnet population; -1 for a node someone else registered (e.g. with `sendnet node register`). */
  index: number;
  nodeKey: Address;
  /** `external`: not one of the devnet's own nodes, so no behaviour is expected of it. */
  behaviour: Behaviour | 'external';
  rank: number;
  score: number;
  availability: number;
  verifiedUnits: bigint;
  reward: bigint;
  faults: number;
  /** Executed fault leaves of this epoch for the node: requested amount, stake slashed, strike. */
  executed: { requested: bigint; slashed: bigint; strike: boolean }[];
}

export interface EpochReport {
  epoch: number;
  rows: NodeRow[];
  /** Fault leaves of this epoch (header `faultCount`) and how many have been executed. */
  faultCount: number;
  faultsExecuted: number;
}

export interface NodeIdentity {
  index: number;
  nodeKey: Address;
  behaviour: Behaviour;
}

/**
 * The report of `epoch`, or undefined while its scores are not fully published. `fromBlock`: the
 * deployment block.
 */
export async function epochReport(
  client: PublicClient,
  book: AddressBook,
  epoch: number,
  nodes: readonly NodeIdentity[],
  fromBlock = BigInt(book.startBlock),
): Promise<EpochReport | undefined> {
  const settlement = book.contracts.EpochSettlement;
  const done = await client.getContractEvents({
    address: settlement,
    abi: epochSettlementAbi,
    eventName: 'ScoresFullyPublished',
    args: { epoch },
    fromBlock,
  });
  if (done.length === 0) return undefined;
  const [submitted] = await client.getContractEvents({
    address: settlement,
    abi: epochSettlementAbi,
    eventName: 'EpochSubmitted',
    args: { epoch },
    fromBlock,
  });
  const scores = await client.getContractEvents({
    address: settlement,
    abi: epochSettlementAbi,
    eventName: 'NodeScorePublished',
    args: { epoch },
    fromBlock,
  });
  const executed = await client.getContractEvents({
    address: settlement,
    abi: epochSettlementAbi,
    eventName: 'FaultExecuted',
    args: { epoch },
    fromBlock,
  });
  const slashes = await client.getContractEvents({
    address: book.contracts.NodeStaking,
    abi: nodeStakingAbi,
    eventName: 'NodeSlashed',
    args: { epoch },
    fromBlock,
  });
  const byKey = new Map(nodes.map((n) => [n.nodeKey.toLowerCase(), n]));
  const rows: NodeRow[] = scores.map((log) => {
    const a = log.args;
    const key = a.nodeKey!.toLowerCase() as Address;
    const who = byKey.get(key);
    return {
      index: who?.index ?? -1,
      nodeKey: key,
      behaviour: who?.behaviour ?? 'external',
      rank: a.rank!,
      score: a.score!,
      availability: a.availability!,
      verifiedUnits: a.verifiedUnits!,
      reward: a.reward!,
      faults: a.faults!,
      executed: executed
        .filter((f) => f.args.nodeKey!.toLowerCase() === key)
        .map((f) => ({
          requested: f.args.requested!,
          strike: f.args.strike!,
          slashed: slashes
            .filter((s) => s.transactionHash === f.transactionHash)
            .reduce((sum, s) => sum + s.args.amount!, 0n),
        })),
    };
  });
  rows.sort((x, y) => x.rank - y.rank);
  return { epoch, rows, faultCount: submitted?.args.header?.faultCount ?? 0, faultsExecuted: executed.length };
}

export function faultNames(flags: number): string[] {
  const names: string[] = [];
  if (flags & FAULT_OPENINGS_FAILED) names.push('openings-failed');
  if (flags & FAULT_EQUIVOCATION) names.push('equivocation');
  if (flags & FAULT_SLASHED) names.push('slash');
  if (flags & FAULT_NO_AVAILABILITY_DATA) names.push('no-availability-data');
  if (flags & FAULT_BELOW_MIN_AVAILABILITY) names.push('below-min-availability');
  return names;
}

const pct = (ppm: number) => `${(ppm / 10_000).toFixed(1)}%`;
const send = (wei: bigint) => Number(formatUnits(wei, 18)).toLocaleString('en-US', { maximumFractionDigits: 1 });

/**
 * What the settlement pays: SEND, or testnet points in points mode (docs/points.md). Stake and slashes are
 * SEND in both.
 */
export type RewardUnit = 'SEND' | 'points';

/** A fixed-width table, one line per node in rank order. */
export function renderEpochTable(report: EpochReport, unit: RewardUnit = 'SEND'): string {
  const header = ['rank', 'node', 'behaviour', 'availability', 'volume', 'score', `reward ${unit}`, 'faults'];
  const lines = report.rows.map((r) => {
    const executed = r.executed.map((e) =>
      e.slashed > 0n ? `slashed ${send(e.slashed)}` : e.strike ? 'strike' : 'executed',
    );
    return [
      String(r.rank),
      `${r.index >= 0 ? `#${r.index}` : '-'} ${r.nodeKey.slice(0, 10)}`,
      r.behaviour,
      pct(r.availability),
      r.verifiedUnits.toString(),
      pct(r.score),
      send(r.reward),
      [...faultNames(r.faults), ...executed].join(', ') || '-',
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((cell, c) => (c >= 3 && c <= 6 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [
    `epoch ${report.epoch}: ${report.rows.length} nodes, ${report.faultCount} fault leaves (${report.faultsExecuted} executed)`,
    fmt(header),
    ...lines.map(fmt),
  ].join('\n');
}

/**
 * What each behaviour must cost in an epoch the whole network took part in, as one sentence per
 * violation (empty = as specified): honest nodes are paid and never penalised; droppers fall below the
 * availability floor and earn nothing; an inflating node fails its openings and its fraud fault leaf is
 * executed (slash + strike); a node that went offline earns nothing and is faulted; and no misbehaving node
 * nets more than zero SEND for the epoch (reward − slashed stake).
 * `faultsFinal`: the epoch is finalized and its fault leaves are due to have been executed.
 */
export function checkEpoch(report: EpochReport, faultsFinal: boolean, pointsRatio?: bigint): string[] {
  const problems: string[] = [];
  for (const r of report.rows) {
    const who = `epoch ${report.epoch} node #${r.index} (${r.behaviour})`;
    switch (r.behaviour) {
      case 'honest':
        if (r.reward === 0n) problems.push(`${who} earned nothing`);
        if (
          r.faults &
          (FAULT_OPENINGS_FAILED |
            FAULT_EQUIVOCATION |
            FAULT_SLASHED |
            FAULT_BELOW_MIN_AVAILABILITY |
            FAULT_NO_AVAILABILITY_DATA)
        ) {
          problems.push(`${who} was penalised: ${faultNames(r.faults).join(', ')}`);
        }
        if (r.executed.length > 0) problems.push(`${who} had a fault executed`);
        break;
      case 'dropper':
        if (r.reward !== 0n) problems.push(`${who} was paid ${r.reward} wei although it drops messages`);
        if (!(r.faults & (FAULT_BELOW_MIN_AVAILABILITY | FAULT_NO_AVAILABILITY_DATA)))
          problems.push(`${who} was not caught below the availability floor`);
        break;
      case 'inflater':
        if (r.reward !== 0n) problems.push(`${who} was paid ${r.reward} wei although it was caught forging openings`);
        if (r.verifiedUnits !== 0n)
          problems.push(`${who} got ${r.verifiedUnits} volume credit for an inflated commitment`);
        if (!(r.faults & FAULT_OPENINGS_FAILED) || !(r.faults & FAULT_SLASHED))
          problems.push(`${who} was not flagged for fraud (${faultNames(r.faults).join(', ') || 'no faults'})`);
        if (faultsFinal && !r.executed.some((e) => e.slashed > 0n && e.strike))
          problems.push(`${who}: its fraud fault was not executed with a slash and a strike`);
        break;
      case 'offline':
        if (r.reward !== 0n) problems.push(`${who} was paid ${r.reward} wei although it went offline`);
        if (r.faults === 0) problems.push(`${who} has no fault flags`);
        break;
      case 'equivocator':
        if (r.reward !== 0n) problems.push(`${who} was paid ${r.reward} wei although it signed two commitments`);
        if (!(r.faults & FAULT_EQUIVOCATION) || !(r.faults & FAULT_SLASHED))
          problems.push(`${who} was not flagged for equivocation (${faultNames(r.faults).join(', ') || 'no faults'})`);
        if (faultsFinal && !r.executed.some((e) => e.slashed > 0n && e.strike))
          problems.push(`${who}: its equivocation fault was not executed with a slash and a strike`);
        break;
      case 'late-committer':
        if (r.verifiedUnits !== 0n)
          problems.push(`${who} got ${r.verifiedUnits} volume credit for a commitment made after the seed`);
        break;
      case 'external':
        break; // someone else's node (joined with sendnet while the devnet runs): shown, not judged
    }
  }
  // Misbehaviour never pays (docs/protocol.md §7.1): whatever a misbehaving node did, its epoch net is ≤ 0.
  for (const entry of misbehaviourLedger(report, pointsRatio)) {
    if (entry.net > 0n)
      problems.push(
        `epoch ${report.epoch} node #${entry.index} (${entry.behaviour}) netted +${formatUnits(entry.net, 18)} SEND: reward ${formatUnits(entry.reward, 18)}${pointsRatio === undefined ? '' : ' points'}, slashed ${formatUnits(entry.slashed, 18)}`,
      );
  }
  return problems;
}

/** One misbehaving node's epoch: what it was paid against what it lost. */
export interface MisbehaviourEntry {
  epoch: number;
  index: number;
  behaviour: Behaviour;
  /** In SEND, or in points in points mode. */
  reward: bigint;
  /** Stake slashed by the epoch's executed fault leaves (after the per-epoch cap). */
  slashed: bigint;
  /** Strikes recorded by them. */
  strikes: number;
  /** SEND: reward − slashed; in points mode the reward counts at the conversion ratio. */
  net: bigint;
}

/**
 * Reward and slash side by side for every misbehaving devnet node of the epoch (population order).
 * `pointsRatio` (points mode): the reward is in points, worth reward × ratio / 1e18 SEND once converted.
 */
export function misbehaviourLedger(report: EpochReport, pointsRatio?: bigint): MisbehaviourEntry[] {
  return report.rows
    .filter((r): r is NodeRow & { behaviour: Behaviour } => r.behaviour !== 'honest' && r.behaviour !== 'external')
    .map((r) => {
      const slashed = r.executed.reduce((sum, e) => sum + e.slashed, 0n);
      return {
        epoch: report.epoch,
        index: r.index,
        behaviour: r.behaviour,
        reward: r.reward,
        slashed,
        strikes: r.executed.filter((e) => e.strike).length,
        net: (pointsRatio === undefined ? r.reward : (r.reward * pointsRatio) / 10n ** 18n) - slashed,
      };
    })
    .sort((a, b) => a.epoch - b.epoch || a.index - b.index);
}

/**
 * The ledger as a fixed-width table: epoch, node, behaviour, reward (SEND or points), slashed, strikes,
 * net (SEND; points counted at the conversion ratio).
 */
export function renderMisbehaviourTable(entries: readonly MisbehaviourEntry[], unit: RewardUnit = 'SEND'): string {
  const header = ['epoch', 'node', 'behaviour', `reward ${unit}`, 'slashed SEND', 'strikes', 'net SEND'];
  const signed = (wei: bigint) => (wei > 0n ? `+${send(wei)}` : wei < 0n ? `−${send(-wei)}` : '0');
  const lines = entries.map((e) => [
    String(e.epoch),
    `#${e.index}`,
    e.behaviour,
    send(e.reward),
    send(e.slashed),
    String(e.strikes),
    signed(e.net),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((cell, c) => (c >= 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...lines.map(fmt)].join('\n');
}

/** Who the colluding WatchDogs are and whom they lie about (node keys lowercase). */
export interface Collusion {
  licenses: readonly bigint[];
  victim: string | undefined;
  offline: ReadonlySet<string>;
}

/**
 * What the colluding WatchDog licenses (one holder) must gain from lying in an epoch, checked on the
 * epoch's evaluation (`evaluateEpoch` of the published dataset): nothing. No node is judged by two of them;
 * each one assigned to the victim or an offline node is an outlier there and unpaid for it; each is credited
 * no more challenges than it scheduled on the nodes it did not lie about, and per credited challenge it never
 * earns more than the best-paid honest license. The victim's and the offline node's
 * own outcomes are `checkEpoch`'s (the victim is an honest node, the offline node earns nothing).
 * `lies`: the (license, target node) pairs it lied about this epoch.
 */
export function checkCollusion(
  epoch: number,
  e: EpochEvaluation,
  collusion: Collusion,
): { problems: string[]; lies: number } {
  const problems: string[] = [];
  let lies = 0;
  const colluders = new Set(collusion.licenses.map(String));
  if (colluders.size === 0) return { problems, lies };
  const perNode = e.scoringInput.licenses ?? [];
  const weightOf = new Map(perNode.map((l) => [l.tokenId.toString(), l.scheduled]));
  const scheduledOf = new Map<string, number>();
  for (const n of e.perNode) {
    const judging = n.assignedWatchdogs.filter((id) => colluders.has(id));
    if (judging.length > 1)
      problems.push(`epoch ${epoch}: node ${n.nodeKey} was judged by ${judging.length} colluding licenses`);
    const target = n.nodeKey === collusion.victim || collusion.offline.has(n.nodeKey);
    // challenges scheduled on nodes it did not lie about: all a license could be credited for honestly
    if (!target)
      for (const r of n.watchdogRatios) scheduledOf.set(r.tokenId, (scheduledOf.get(r.tokenId) ?? 0) + r.scheduled);
    for (const id of judging) {
      const reported = n.watchdogRatios.some((r) => r.tokenId === id);
      if (target && reported) lies++;
      // caught: an outlier against the node's median, contradicted by the node's receipt, or an "ok" with none
      // (a contradicted license forfeits the whole epoch, so its other lies need no item of their own)
      const caught = (r: { id: string; reason: string }) =>
        (r.id === `${id}@${n.nodeKey}` && /^(outlier|unproven):/.test(r.reason)) ||
        (r.id.startsWith(`${id}@`) && /^contradicted:/.test(r.reason));
      if (target && reported && !e.rejected.some(caught))
        problems.push(
          `epoch ${epoch}: colluding license ${id} lied about ${n.nodeKey} and was neither an outlier nor contradicted by the evidence`,
        );
    }
  }
  // Licenses are paid pro rata to their credited weight (scheduled challenges on the nodes where their result
  // is proven and no outlier), at one rate per credited challenge. So lying gained nothing iff a colluder's
  // weight is no more than what it scheduled on nodes it did not lie about, and its rate is no better than an
  // honest license's (1 wei of rounding). Comparing rates per *scheduled* challenge instead would blame the
  // assignment: an honest license assigned a node without a counted commitment (offline, late, equivocating)
  // is unpaid there, through no lie of its own.
  const rewardOf = new Map(e.result.licenseRewards.map((r) => [r.tokenId.toString(), r.amount]));
  const rate = (id: string) => {
    const weight = weightOf.get(id) ?? 0;
    return weight === 0 ? 0n : (rewardOf.get(id) ?? 0n) / BigInt(weight);
  };
  let bestHonest = 0n;
  for (const id of weightOf.keys()) if (!colluders.has(id) && rate(id) > bestHonest) bestHonest = rate(id);
  for (const id of colluders) {
    const credited = weightOf.get(id) ?? 0;
    const honestly = scheduledOf.get(id) ?? 0;
    if (credited > honestly)
      problems.push(
        `epoch ${epoch}: colluding license ${id} was credited ${credited} challenges, more than the ${honestly} it scheduled on nodes it did not lie about`,
      );
    if (credited === 0 && (rewardOf.get(id) ?? 0n) > 0n)
      problems.push(
        `epoch ${epoch}: colluding license ${id} earned ${rewardOf.get(id)} wei for no credited challenge, more than any honest license can`,
      );
    if (rate(id) > bestHonest + 1n)
      problems.push(
        `epoch ${epoch}: colluding license ${id} earned ${rate(id)} wei per credited challenge, more than any honest license (${bestHonest})`,
      );
  }
  return { problems, lies };
}
