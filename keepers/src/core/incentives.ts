/**
 * The incentive bounds of docs/protocol.md §7.1: the parameter inequalities under which no fault the
 * protocol detects pays, and the expected-value arithmetic behind them. The deploy script
 * (`script/Deploy.s.sol`, the same bounds in Solidity) and the keeper (`Keeper.start`, against the chain's
 * parameters and its consensus parameters) refuse a parameter set that breaks one, naming the parameter
 * and the bound. Pure: no I/O.
 *
 * Why these bounds are enough (the derivation is in docs/protocol.md §7.1):
 * - A node with an objective fault earns nothing for the epoch (core/scoring.ts, consensus version 5), so
 *   a caught node's epoch net is −slash: it is below zero exactly when the slash is positive and lands.
 * - A node that forges a fraction f of its committed units escapes k uniform samples with probability
 *   (1 − f)^k; undetected it gains at most R_vol · f/(1 − f) (the sample estimate scales its honest
 *   per-DID credit by 1/(1 − f), capped per DID), caught it forfeits its honest reward R ≥ R_vol. Since
 *   1 − (1 − f)^k ≥ k · f · (1 − f)^(k−1), forging has a lower expected value than honest work for every
 *   f in (0, 1] once k ≥ 2 — with no slash at all (a forger that goes silent when a forged leaf is
 *   sampled is struck, not slashed) — as long as the honest reward it forfeits is positive, which needs a
 *   positive node share of the emission.
 */
import { SendnetError } from './errors.js';

const BPS = 10_000n;

/** The parameters the bounds involve: NodeStaking's and EpochSettlement's, and the keepers' consensus ones. */
export interface IncentiveParameters {
  /** NodeStaking `minStake` (wei). */
  minStake: bigint;
  /** NodeStaking `maxSlashBps`: the slash cap per settlement-clock epoch, of the node's stake. */
  maxSlashBps: number;
  /** NodeStaking `equivocationSlash` (wei). */
  equivocationSlash: bigint;
  /** Consensus `fraudSlash` (wei): the fault amount of a node whose openings fail verification. */
  fraudSlash: bigint;
  /** Consensus `k`: openings sampled per node and epoch. */
  samplesPerNode: number;
  /** EpochSettlement `initialEpochEmission` (wei). */
  initialEpochEmission: bigint;
  /** EpochSettlement `guardianShareBps`. */
  guardianShareBps: number;
}

export interface IncentiveViolation {
  /** The parameter to change, as its deploy-config path (config/devnet.json): `staking.minStake` etc. */
  parameter: string;
  /** The bound it breaks, as an inequality. */
  bound: string;
  /** Why the bound matters, with the values. */
  message: string;
}

/** The slash a minimum-stake node's per-clock-epoch cap can take in full: minStake · maxSlashBps / 10⁴. */
export function slashCapOfMinimumStake(p: Pick<IncentiveParameters, 'minStake' | 'maxSlashBps'>): bigint {
  return (p.minStake * BigInt(p.maxSlashBps)) / BPS;
}

/** Every bound of docs/protocol.md §7.1 that `p` breaks (empty: the set is accepted). */
export function incentiveViolations(p: IncentiveParameters): IncentiveViolation[] {
  const out: IncentiveViolation[] = [];
  const cap = slashCapOfMinimumStake(p);
  for (const [parameter, slash, fault] of [
    ['consensus.fraudSlash', p.fraudSlash, 'forged openings'],
    ['staking.equivocationSlash', p.equivocationSlash, 'equivocation'],
  ] as const) {
    const name = parameter.split('.')[1]!;
    if (slash <= 0n)
      out.push({
        parameter,
        bound: `${name} > 0`,
        message: `${name} is ${slash}: a node caught at ${fault} forfeits its reward but must also end the epoch below zero`,
      });
    else if (slash > cap)
      out.push({
        parameter,
        bound: `${name} ≤ minStake · maxSlashBps / 10000 (= ${cap})`,
        message: `${name} ${slash} exceeds what the per-epoch slash cap takes from a minimum-stake node (${cap}); the excess would be forgiven`,
      });
  }
  if (!Number.isInteger(p.samplesPerNode) || p.samplesPerNode < 2)
    out.push({
      parameter: 'consensus.k',
      bound: 'k ≥ 2',
      message: `k is ${p.samplesPerNode}: with fewer than 2 samples per node a small forgery can pay in expectation`,
    });
  if (!Number.isInteger(p.guardianShareBps) || p.guardianShareBps < 0 || p.guardianShareBps > 10_000)
    out.push({
      parameter: 'settlement.guardianShareBps',
      bound: '0 ≤ guardianShareBps ≤ 10000',
      message: `guardianShareBps is ${p.guardianShareBps}`,
    });
  else if ((p.initialEpochEmission * (BPS - BigInt(p.guardianShareBps))) / BPS <= 0n)
    out.push({
      parameter: 'settlement.initialEpochEmission',
      bound: 'initialEpochEmission · (10000 − guardianShareBps) / 10000 > 0',
      message: `the nodes' share of the emission is zero (emission ${p.initialEpochEmission}, guardian share ${p.guardianShareBps} bps): a caught forger would forfeit nothing`,
    });
  return out;
}

export class IncentiveParameterError extends SendnetError {
  override name = 'IncentiveParameterError';
  override readonly code = 'incentive-parameters';
  constructor(
    readonly violations: readonly IncentiveViolation[],
    source: string,
  ) {
    super(
      `${source} break the incentive bounds (docs/protocol.md §7.1): ${violations
        .map((v) => `${v.parameter}: needs ${v.bound}; ${v.message}`)
        .join('; ')}`,
    );
  }
}

/** Throws IncentiveParameterError naming every broken bound. */
export function assertIncentiveParameters(p: IncentiveParameters, source = 'the parameters'): void {
  const violations = incentiveViolations(p);
  if (violations.length > 0) throw new IncentiveParameterError(violations, source);
}

/** Probability that k uniform samples all miss a forged fraction f of the committed units: (1 − f)^k. */
export function undetectedProbability(forgedFraction: number, samples: number): number {
  if (!(forgedFraction >= 0 && forgedFraction <= 1)) throw new RangeError(`forged fraction ${forgedFraction} ∉ [0, 1]`);
  return (1 - forgedFraction) ** samples;
}

/**
 * Expected epoch net of a strategy that ends undetected with probability q: q · undetectedNet +
 * (1 − q) · (caughtReward − slash). Amounts in wei as numbers (expectations are not integral).
 */
export function expectedNet(q: number, undetectedNet: bigint, caughtReward: bigint, slash: bigint): number {
  return q * Number(undetectedNet) + (1 - q) * (Number(caughtReward) - Number(slash));
}
