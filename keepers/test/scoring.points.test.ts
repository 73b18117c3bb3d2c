/**
 * Points mode in the scoring function (docs/points.md): `parameters.rewardsTo = 'nodeKey'` credits each
 * node's reward to its node key instead of its operator. Same emission, same scores, faults and license
 * leaves; the account leaves are keyed by node key, and the trees differ only in the reward root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAbiParameters, keccak256, type Address } from 'viem';
import { buildTree, licenseRewardLeaf, rewardLeaf } from '../src/core/merkle.js';
import { buildEpochTrees, scoreEpoch, type ScoringInput } from '../src/core/scoring.js';

const addr = (i: number): Address =>
  keccak256(encodeAbiParameters([{ type: 'uint256' }], [BigInt(i)])).slice(0, 42) as Address;

const SEND = 10n ** 18n;
const guardians = [1, 2, 3, 4, 5, 6, 7].map((i) => addr(100 + i));
const operators = [1, 2].map((i) => addr(200 + i));
const nodeKeys = [1, 2, 3, 4].map((i) => addr(300 + i));

type NodeIn = ScoringInput['nodes'][number];

function node(i: number, overrides: Partial<NodeIn> = {}): NodeIn {
  return {
    nodeKey: nodeKeys[i]!,
    operator: operators[i % 2]!, // operators[0] runs nodes 0 and 2, operators[1] nodes 1 and 3
    stake: (10_000n + BigInt(i) * 1_000n) * SEND,
    watchdogs: [
      { watchdog: 'wd-a', successRatio: 1 - i * 0.01, latenciesMs: [10, 20] },
      { watchdog: 'wd-b', successRatio: 1, latenciesMs: [15] },
      { watchdog: 'wd-c', successRatio: 0.98, latenciesMs: [30] },
    ],
    volume: [{ senderDid: `did:${i}`, units: 40n + BigInt(i) }],
    ...overrides,
  };
}

function input(rewardsTo?: 'operator' | 'nodeKey', overrides: Partial<ScoringInput> = {}): ScoringInput {
  return {
    epoch: 5,
    epochEmission: 273_972n * SEND + 7n,
    guardianShareBps: 500,
    guardianSet: guardians,
    signers: guardians.slice(0, 5),
    parameters: {
      aMin: 0.9,
      aTarget: 0.99,
      gamma: 2,
      stakeCap: 50_000n * SEND,
      volumeCapPerDid: 1_000n,
      ...(rewardsTo ? { rewardsTo } : {}),
    },
    // node 3 failed its openings: a fault leaf and a strike, the same in both modes
    nodes: [node(0), node(1), node(2), node(3, { openingsFailed: true, slashAmount: 3n * SEND })],
    previousCumulative: new Map<Address, bigint>(),
    licenseEmission: 1_000n * SEND + 1n,
    licenses: [
      { tokenId: 1n, scheduled: 8 },
      { tokenId: 9n, scheduled: 3 },
    ],
    ...overrides,
  };
}

test('points mode: same emission, scores and faults; account leaves keyed by node key; only the reward root differs', () => {
  const byOperator = scoreEpoch(input());
  const explicitOperator = scoreEpoch(input('operator'));
  const byNodeKey = scoreEpoch(input('nodeKey'));
  assert.deepEqual(explicitOperator, byOperator, "'operator' is the default");

  for (const field of [
    'epochEmission',
    'guardianRewardTotal',
    'nodeRewardTotal',
    'undistributed',
    'totalCumulative',
    'licenseEmission',
    'licenseRewardTotal',
    'licenseUndistributed',
  ] as const) {
    assert.equal(byNodeKey[field], byOperator[field], field);
  }
  assert.deepEqual(byNodeKey.scores, byOperator.scores);
  assert.deepEqual(byNodeKey.faults, byOperator.faults);
  assert.deepEqual(byNodeKey.licenseCumulative, byOperator.licenseCumulative);
  assert.deepEqual(byNodeKey.licenseRewards, byOperator.licenseRewards);
  assert.equal(byNodeKey.undistributed, 0n);
  assert.equal(byNodeKey.guardianRewardTotal + byNodeKey.nodeRewardTotal, byNodeKey.epochEmission);

  // node leaves: one per rewarded node, its own reward; no operator leaf
  const reward = new Map(byNodeKey.scores.map((s) => [s.nodeKey, s.reward]));
  const accounts = new Map(byNodeKey.cumulative.map((c) => [c.account, c.cumulative]));
  let nodeLeaves = 0;
  for (const key of nodeKeys) {
    if (reward.get(key)! === 0n) continue;
    nodeLeaves++;
    assert.equal(accounts.get(key), reward.get(key), `leaf of node ${key}`);
  }
  assert.ok(nodeLeaves >= 3, 'at least three nodes earned');
  for (const op of operators) assert.equal(accounts.has(op), false, `no leaf for operator ${op}`);

  // folding node keys into their operators gives back exactly the operator-mode leaves
  const operatorOf = new Map(input().nodes.map((n) => [n.nodeKey as Address, n.operator as Address]));
  const folded = new Map<Address, bigint>();
  for (const { account, cumulative } of byNodeKey.cumulative) {
    const to = operatorOf.get(account) ?? account;
    folded.set(to, (folded.get(to) ?? 0n) + cumulative);
  }
  assert.deepEqual(
    [...folded].sort(([a], [b]) => (a < b ? -1 : 1)),
    byOperator.cumulative.map((c) => [c.account, c.cumulative]),
  );
  // guardians are paid to their own address in both modes
  for (const g of guardians.slice(0, 5)) assert.equal(accounts.get(g), folded.get(g));

  const treesOp = buildEpochTrees(byOperator);
  const treesNk = buildEpochTrees(byNodeKey);
  assert.notEqual(treesNk.rewardRoot, treesOp.rewardRoot);
  // the account leaves (node keys and guardians) then the license leaves, as in operator mode
  const leaves = byNodeKey.cumulative.map((c) => rewardLeaf(c.account, c.cumulative));
  leaves.push(...byNodeKey.licenseCumulative.map((l) => licenseRewardLeaf(l.tokenId, l.cumulative)));
  assert.equal(treesNk.rewardRoot, buildTree(leaves).root);
  // more account leaves (one per node, not per operator), so the license leaves start later
  assert.equal(treesNk.licenseLeafOffset, byNodeKey.cumulative.length);
  assert.ok(treesNk.licenseLeafOffset > treesOp.licenseLeafOffset);
  for (const field of ['faultRoot', 'faultCount', 'totalCumulative', 'epochEmission', 'scoresHash'] as const) {
    assert.deepEqual(treesNk[field], treesOp[field], field);
  }
});

test('points mode: cumulative carries over per node key, and a node key never merges with its operator', () => {
  const first = scoreEpoch(input('nodeKey'));
  const previous = new Map(first.cumulative.map((c) => [c.account, c.cumulative] as [Address, bigint]));
  const second = scoreEpoch(input('nodeKey', { epoch: 6, previousCumulative: previous }));
  const paid = new Map(second.epochRewards.map((r) => [r.account, r.cumulative]));
  for (const c of second.cumulative) {
    assert.equal(c.cumulative, (previous.get(c.account) ?? 0n) + (paid.get(c.account) ?? 0n), c.account);
  }
  assert.equal(second.totalCumulative, first.totalCumulative + second.epochEmission);
});

test('rewardsTo must be operator or nodeKey', () => {
  const bad = input();
  (bad.parameters as Record<string, unknown>).rewardsTo = 'owner';
  assert.throws(
    () => scoreEpoch(bad),
    (e: unknown) => e instanceof RangeError && /parameters\.rewardsTo/.test(e.message),
  );
});
