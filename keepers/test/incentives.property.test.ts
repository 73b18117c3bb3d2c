/**
 * Misbehaviour never pays (issue 12 §1, docs/protocol.md §7.1), checked against the real scoring function
 * (core/scoring.ts `scoreEpoch`) for the devnet's and the production config's parameter sets:
 * - for forged fractions f from 0.1% to 100% of a node's committed units, the expected epoch net of
 *   forging — undetected with probability (1 − f)^k, then paid for its inflated volume; caught otherwise,
 *   then paid what scoring pays a node with failed openings minus the slash — is below the honest reward,
 *   both for a forger that answers (fraud: fraudSlash) and for one that goes silent (strike, no slash);
 * - a caught node (failed openings or equivocation) is paid nothing, so its epoch net is −slash;
 * - the parameter bounds refuse what the deploy script refuses.
 * Networks are random (fast-check): node count, stakes (some above the stake cap), availabilities (some
 * below the floor), per-DID volumes (DIDs shared between nodes, some over the per-DID cap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { encodeAbiParameters, keccak256, type Address } from 'viem';
import { scoreEpoch, type ScoringInput } from '../src/core/scoring.js';
import { DEVNET_CONSENSUS, parseConsensusParameters, type ConsensusParameters } from '../src/core/consensus.js';
import {
  assertIncentiveParameters,
  expectedNet,
  IncentiveParameterError,
  incentiveViolations,
  undetectedProbability,
  type IncentiveParameters,
} from '../src/core/incentives.js';

const readConfig = (name: string) =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`../../config/${name}`, import.meta.url)), 'utf8'));

interface ParameterSet {
  name: string;
  consensus: ConsensusParameters;
  incentives: IncentiveParameters;
}

function parameterSet(name: string): ParameterSet {
  const config = readConfig(name);
  const consensus = parseConsensusParameters(config.consensus, `config/${name} consensus`);
  return {
    name,
    consensus,
    incentives: {
      minStake: BigInt(config.staking.minStake),
      maxSlashBps: config.staking.maxSlashBps,
      equivocationSlash: BigInt(config.staking.equivocationSlash),
      fraudSlash: BigInt(consensus.fraudSlash),
      samplesPerNode: consensus.k,
      initialEpochEmission: BigInt(config.settlement.initialEpochEmission),
      guardianShareBps: config.settlement.guardianShareBps,
    },
  };
}

const SETS = [parameterSet('devnet.json'), parameterSet('production.json')];

function addr(i: number): Address {
  return keccak256(encodeAbiParameters([{ type: 'uint256' }], [BigInt(i)])).slice(0, 42) as Address;
}
const guardians = [1, 2, 3, 4, 5, 6, 7].map((i) => addr(1000 + i));

/** A random honest network (node i's operator is its own, so an account's reward is its node's). */
const networkArb = fc.array(
  fc.record({
    stakeFactor: fc.integer({ min: 100, max: 2_000 }), // stake = minStake · factor / 100 (up to 20×: over the devnet's cap)
    ratios: fc.array(fc.constantFrom(1, 1, 0.995, 0.97, 0.93, 0.5), { minLength: 1, maxLength: 5 }),
    volume: fc.array(fc.record({ did: fc.integer({ min: 0, max: 9 }), units: fc.bigInt({ min: 1n, max: 30_000n }) }), {
      maxLength: 4,
    }),
  }),
  { minLength: 1, maxLength: 10 },
);
type NetworkValue = typeof networkArb extends fc.Arbitrary<infer T> ? T : never;

function scoringInput(set: ParameterSet, network: NetworkValue): ScoringInput {
  const c = set.consensus;
  return {
    epoch: 1,
    epochEmission: set.incentives.initialEpochEmission,
    guardianShareBps: set.incentives.guardianShareBps,
    guardianSet: guardians,
    signers: guardians.slice(0, 5),
    parameters: {
      aMin: c.aMin,
      aTarget: c.aTarget,
      gamma: c.gamma,
      stakeCap: BigInt(c.stakeCap),
      volumeCapPerDid: BigInt(c.volumeCapPerDid),
      stakeSplitBps: c.stakeSplitBps,
      equivocationSlash: set.incentives.equivocationSlash,
    },
    nodes: network.map((n, i) => {
      const perDid = new Map<string, bigint>();
      for (const v of n.volume) perDid.set(`did:${v.did}`, (perDid.get(`did:${v.did}`) ?? 0n) + v.units);
      return {
        nodeKey: addr(i),
        operator: addr(500 + i),
        stake: (set.incentives.minStake * BigInt(n.stakeFactor)) / 100n,
        watchdogs: n.ratios.map((r, w) => ({ watchdog: `wd-${w}`, successRatio: r, latenciesMs: [] })),
        volume: [...perDid].map(([senderDid, units]) => ({ senderDid, units })),
      };
    }),
    previousCumulative: new Map(),
  };
}

const rewardOf = (input: ScoringInput, node: number): bigint =>
  scoreEpoch(input).scores.find((s) => s.nodeKey === addr(node))!.reward;

/**
 * The forger's three outcomes: honest, undetected (every per-DID estimate scaled by 1/(1 − f): the sample
 * estimate spreads the inflated total over the honest DIDs the samples hit), caught (failed openings).
 */
function outcomes(set: ParameterSet, network: NetworkValue, cheater: number, f: number) {
  const honest = scoringInput(set, network);
  const scale = (units: bigint) => (units * 1_000_000n) / BigInt(Math.max(1, Math.round((1 - f) * 1_000_000)));
  const undetected: ScoringInput = {
    ...honest,
    nodes: honest.nodes.map((n, i) =>
      i === cheater ? { ...n, volume: n.volume.map((v) => ({ ...v, units: scale(v.units) })) } : n,
    ),
  };
  const caught = (slashAmount: bigint): ScoringInput => ({
    ...honest,
    nodes: honest.nodes.map((n, i) => (i === cheater ? { ...n, openingsFailed: true, slashAmount } : n)),
  });
  const caughtResult = scoreEpoch(caught(set.incentives.fraudSlash));
  const fault = caughtResult.faults.find((x) => x.nodeKey === addr(cheater))!;
  return {
    honestReward: rewardOf(honest, cheater),
    undetectedReward: f < 1 ? rewardOf(undetected, cheater) : 0n,
    caughtReward: caughtResult.scores.find((s) => s.nodeKey === addr(cheater))!.reward,
    caughtFault: fault,
    silentReward: rewardOf(caught(0n), cheater),
  };
}

/** Forged fractions from 0.1% to 100%: a log grid plus random ones. */
const GRID = [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99, 1];
const fractionArb = fc.oneof(fc.constantFrom(...GRID), fc.double({ min: 0.001, max: 1, noNaN: true }));

for (const set of SETS) {
  test(`${set.name}: the parameter set meets every incentive bound`, () => {
    assert.deepEqual(incentiveViolations(set.incentives), []);
  });

  test(`${set.name}: forging any fraction f ∈ [0.1%, 100%] has a lower expected net than honest work`, () => {
    const k = set.consensus.k;
    fc.assert(
      fc.property(networkArb, fc.nat(), fractionArb, (network, pick, f) => {
        const cheater = pick % network.length;
        const o = outcomes(set, network, cheater, f);
        const q = undetectedProbability(f, k);
        const honest = Number(o.honestReward);
        const answering = expectedNet(q, o.undetectedReward, o.caughtReward, set.incentives.fraudSlash);
        const silent = expectedNet(q, o.undetectedReward, o.silentReward, 0n);
        // A node that earns nothing honestly (below the availability floor) gains nothing by forging either.
        if (honest === 0) {
          assert.ok(answering < 0, `answering forger with no honest reward: ${answering}`);
          assert.ok(silent <= 0, `silent forger with no honest reward: ${silent}`);
          return;
        }
        assert.ok(answering < honest, `f=${f}: forging and answering expects ${answering} > honest ${honest}`);
        assert.ok(silent < honest, `f=${f}: forging and going silent expects ${silent} > honest ${honest}`);
      }),
      { numRuns: 300, seed: 12_2026 },
    );
  });

  test(`${set.name}: a caught node is paid nothing, so its epoch net is −slash (< 0 when it answered with forgeries)`, () => {
    fc.assert(
      fc.property(networkArb, fc.nat(), fc.boolean(), (network, pick, equivocate) => {
        const cheater = pick % network.length;
        const input = scoringInput(set, network);
        const faulted: ScoringInput = {
          ...input,
          nodes: input.nodes.map((n, i) =>
            i !== cheater
              ? n
              : equivocate
                ? { ...n, equivocated: true }
                : { ...n, openingsFailed: true, slashAmount: set.incentives.fraudSlash },
          ),
        };
        const result = scoreEpoch(faulted);
        const score = result.scores.find((s) => s.nodeKey === addr(cheater))!;
        assert.equal(score.reward, 0n);
        assert.equal(score.score, 0);
        assert.equal(
          result.epochRewards.find((r) => r.account === addr(500 + cheater)),
          undefined,
        );
        const fault = result.faults.find((x) => x.nodeKey === addr(cheater))!;
        const slash = equivocate ? set.incentives.equivocationSlash : set.incentives.fraudSlash;
        assert.equal(fault.amount, slash);
        assert.equal(fault.strike, true);
        assert.ok(0n - fault.amount < 0n);
      }),
      { numRuns: 100, seed: 8_12 },
    );
  });
}

test('forging more never helps: at f = 100% the forger is always caught, at small f the loss is k·f of its reward', () => {
  const set = SETS[0]!;
  const network: NetworkValue = [
    { stakeFactor: 100, ratios: [1, 1, 1], volume: [{ did: 1, units: 5_000n }] },
    { stakeFactor: 100, ratios: [1, 1, 1], volume: [{ did: 2, units: 5_000n }] },
    { stakeFactor: 100, ratios: [1, 1, 1], volume: [{ did: 3, units: 5_000n }] },
  ];
  const o1 = outcomes(set, network, 0, 1);
  assert.equal(undetectedProbability(1, set.consensus.k), 0);
  assert.equal(expectedNet(0, o1.undetectedReward, o1.caughtReward, set.incentives.fraudSlash), -1e21);
  const f = 0.01;
  const o = outcomes(set, network, 0, f);
  const q = undetectedProbability(f, set.consensus.k);
  const loss = Number(o.honestReward) - expectedNet(q, o.undetectedReward, o.caughtReward, 0n);
  // (1 − q) · R − q · G with G ≤ R · f/(1 − f): about 27% of R at k = 32, f = 1%
  assert.ok(loss > 0.25 * Number(o.honestReward), `loss ${loss} of ${o.honestReward}`);
  assert.ok(o.undetectedReward > o.honestReward, 'an undetected forgery does pay more — in expectation it does not');
});

test('the bounds name each broken parameter and bound (the deploy script refuses the same sets)', () => {
  const ok = SETS[0]!.incentives;
  const cases: [Partial<IncentiveParameters>, string, string][] = [
    [{ fraudSlash: 0n }, 'consensus.fraudSlash', 'fraudSlash > 0'],
    [{ fraudSlash: ok.minStake }, 'consensus.fraudSlash', 'fraudSlash ≤ minStake · maxSlashBps / 10000'],
    [{ maxSlashBps: 500 }, 'consensus.fraudSlash', 'fraudSlash ≤ minStake · maxSlashBps / 10000'],
    [{ minStake: 9_999n * 10n ** 18n }, 'staking.equivocationSlash', 'equivocationSlash ≤ minStake · maxSlashBps'],
    [{ equivocationSlash: 0n }, 'staking.equivocationSlash', 'equivocationSlash > 0'],
    [{ samplesPerNode: 1 }, 'consensus.k', 'k ≥ 2'],
    [{ guardianShareBps: 10_000 }, 'settlement.initialEpochEmission', '(10000 − guardianShareBps)'],
    [{ initialEpochEmission: 0n }, 'settlement.initialEpochEmission', '> 0'],
    [{ guardianShareBps: 10_001 }, 'settlement.guardianShareBps', 'guardianShareBps ≤ 10000'],
  ];
  for (const [change, parameter, bound] of cases) {
    const violations = incentiveViolations({ ...ok, ...change });
    const hit = violations.find((v) => v.parameter === parameter);
    assert.ok(hit, `${JSON.stringify(change, (_, v) => (typeof v === 'bigint' ? `${v}` : v))}: no ${parameter}`);
    assert.ok(hit.bound.includes(bound), `${parameter}: ${hit.bound}`);
    assert.throws(
      () => assertIncentiveParameters({ ...ok, ...change }, 'the test set'),
      (e: unknown) => e instanceof IncentiveParameterError && e.message.includes(parameter),
    );
  }
});

test('config/devnet.json consensus equals DEVNET_CONSENSUS (the deploy script checks the file, keepers use the constant)', () => {
  assert.deepEqual(parseConsensusParameters(readConfig('devnet.json').consensus), DEVNET_CONSENSUS);
});
