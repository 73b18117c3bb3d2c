import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAbiParameters, keccak256, type Address } from 'viem';
import {
  CONSENSUS_VERSION,
  FAULT_EQUIVOCATION,
  FAULT_OPENINGS_FAILED,
  FAULT_SLASHED,
  buildEpochTrees,
  buildRewardTree,
  medianInt,
  performancePpm,
  scoreEpoch,
  type ScoringInput,
} from '../src/core/scoring.js';
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { buildTree, faultLeaf, hashPair, licenseRewardLeaf, rewardLeaf } from '../src/core/merkle.js';

function addr(i: number): Address {
  // lowercase, as scoreEpoch returns addresses
  return keccak256(encodeAbiParameters([{ type: 'uint256' }], [BigInt(i)])).slice(0, 42) as Address;
}

const SEND = 10n ** 18n;
const guardians = [1, 2, 3, 4, 5, 6, 7].map((i) => addr(100 + i));
const operators = [1, 2, 3].map((i) => addr(200 + i));
const nodeKeys = [1, 2, 3, 4, 5].map((i) => addr(300 + i));

type NodeIn = ScoringInput['nodes'][number];

function node(i: number, overrides: Partial<NodeIn> = {}): NodeIn {
  return {
    nodeKey: nodeKeys[i]!,
    operator: operators[i % 3]!,
    stake: 10_000n * SEND,
    watchdogs: [
      { watchdog: 'wd-a', successRatio: 1, latenciesMs: [10, 20, 30] },
      { watchdog: 'wd-b', successRatio: 1, latenciesMs: [15, 25] },
      { watchdog: 'wd-c', successRatio: 1, latenciesMs: [100] },
    ],
    volume: [
      { senderDid: 'did:a', units: 100n },
      { senderDid: `did:own-${i}`, units: 50n + BigInt(i) },
    ],
    ...overrides,
  };
}

function baseInput(overrides: Partial<ScoringInput> = {}): ScoringInput {
  return {
    epoch: 7,
    epochEmission: 273_972n * SEND + 12_345n, // odd, so integer division leaves remainders
    guardianShareBps: 500,
    guardianSet: guardians,
    signers: guardians.slice(0, 5),
    parameters: { aMin: 0.9, aTarget: 0.99, gamma: 2, stakeCap: 50_000n * SEND, volumeCapPerDid: 1_000n },
    nodes: [0, 1, 2, 3, 4].map((i) => node(i)),
    previousCumulative: new Map([[operators[0]!, 5n * SEND]]),
    ...overrides,
  };
}

function epochPaid(result: ReturnType<typeof scoreEpoch>): bigint {
  return result.epochRewards.reduce((s, r) => s + r.cumulative, 0n);
}

test('honest epoch: everything is paid exactly, an operator with two nodes gets both', () => {
  const input = baseInput();
  const result = scoreEpoch(input);
  assert.equal(result.consensusVersion, CONSENSUS_VERSION);
  assert.equal(result.undistributed, 0n);
  assert.equal(epochPaid(result), input.epochEmission);
  assert.equal(result.guardianRewardTotal + result.nodeRewardTotal, input.epochEmission);
  assert.equal(result.guardianRewardTotal, (input.epochEmission * 500n) / 10_000n);
  assert.equal(result.totalCumulative, 5n * SEND + input.epochEmission);
  assert.equal(result.faults.length, 0);

  // operators[0] runs nodes 0 and 3; operators[1] nodes 1 and 4.
  const reward = (k: Address) => result.scores.find((s) => s.nodeKey === k)!.reward;
  const paid = (a: Address) => result.epochRewards.find((r) => r.account === a)!.cumulative;
  assert.equal(paid(operators[0]!), reward(nodeKeys[0]!) + reward(nodeKeys[3]!));
  assert.equal(paid(operators[1]!), reward(nodeKeys[1]!) + reward(nodeKeys[4]!));
  const cum = (a: Address) => result.cumulative.find((r) => r.account === a)!.cumulative;
  assert.equal(cum(operators[0]!), 5n * SEND + paid(operators[0]!));

  // guardians: five signers share equally (within 1 wei), non-signers get nothing
  const shares = guardians.slice(0, 5).map(paid);
  const [min, max] = [shares.reduce((a, b) => (a < b ? a : b)), shares.reduce((a, b) => (a > b ? a : b))];
  assert.ok(max - min <= 1n, 'guardian shares differ by at most 1 wei');
  assert.equal(
    result.epochRewards.find((r) => r.account === guardians[6]),
    undefined,
  );

  // ranks 1..n, all full availability
  assert.deepEqual(
    result.scores.map((s) => s.rank),
    [1, 2, 3, 4, 5],
  );
  for (const s of result.scores) {
    assert.equal(s.score, 1_000_000);
    assert.equal(s.availability, 1_000_000);
    assert.equal(s.faults, 0);
  }
  const s0 = result.scores.find((s) => s.nodeKey === nodeKeys[0])!;
  assert.equal(s0.latencyP50Ms, 20); // sorted [10,15,20,25,30,100], nearest rank ceil(0.5·6) = 3
  assert.equal(s0.latencyP95Ms, 100);

  // header fields and roots match trees built directly from the leaves
  const trees = buildEpochTrees(result);
  const direct = buildTree(result.cumulative.map((c) => rewardLeaf(c.account, c.cumulative)));
  assert.equal(trees.rewardRoot, direct.root);
  assert.equal(trees.faultCount, 0);
  assert.equal(trees.faultRoot, `0x${'0'.repeat(64)}`);
  assert.equal(trees.totalCumulative, result.totalCumulative);
  assert.equal(trees.epochEmission, input.epochEmission);
});

test('performance curve: A = 0.90 → 0, 0.99 → 1, 0.945 → 0.25', () => {
  assert.equal(performancePpm(900_000, 900_000, 990_000, 2), 0);
  assert.equal(performancePpm(990_000, 900_000, 990_000, 2), 1_000_000);
  assert.equal(performancePpm(945_000, 900_000, 990_000, 2), 250_000);
  assert.equal(performancePpm(500_000, 900_000, 990_000, 2), 0);
  assert.equal(performancePpm(1_000_000, 900_000, 990_000, 2), 1_000_000);
  // through scoreEpoch
  const at = (a: number) => {
    const n = node(0, { watchdogs: [{ watchdog: 'w', successRatio: a, latenciesMs: [] }] });
    return scoreEpoch(baseInput({ nodes: [n, node(1)] })).scores.find((s) => s.nodeKey === nodeKeys[0])!;
  };
  assert.equal(at(0.9).score, 0);
  assert.equal(at(0.9).reward, 0n);
  assert.equal(at(0.99).score, 1_000_000);
  assert.equal(at(0.945).score, 250_000);
});

test('availability is the median of three WatchDogs', () => {
  assert.equal(medianInt([3, 1, 2]), 2);
  assert.equal(medianInt([4, 1, 2, 3]), 2);
  assert.equal(medianInt([]), 0);
  const n = node(0, {
    watchdogs: [
      { watchdog: 'a', successRatio: 0.2, latenciesMs: [] }, // a lying or broken WatchDog is outvoted
      { watchdog: 'b', successRatio: 0.945, latenciesMs: [] },
      { watchdog: 'c', successRatio: 1, latenciesMs: [] },
    ],
  });
  const s = scoreEpoch(baseInput({ nodes: [n] })).scores[0]!;
  assert.equal(s.availability, 945_000);
  assert.equal(s.score, 250_000);
});

test('failed openings: no reward at all (stake share included), score 0, last rank and a strike', () => {
  const input = baseInput({ nodes: [node(0, { openingsFailed: true }), node(1), node(2)] });
  const result = scoreEpoch(input);
  const s = result.scores.find((x) => x.nodeKey === nodeKeys[0])!;
  assert.equal(s.verifiedUnits, 0n);
  assert.equal(s.faults & FAULT_OPENINGS_FAILED, FAULT_OPENINGS_FAILED);
  assert.equal(s.reward, 0n, 'an objective fault forfeits the stake share too');
  assert.equal(s.score, 0);
  assert.equal(s.rank, 3);
  assert.ok(s.availability > 0, 'availability is still reported');
  assert.equal(result.epochRewards.find((r) => r.account === operators[0])?.cumulative, undefined);
  assert.deepEqual(result.faults, [{ epoch: 7, index: 0, nodeKey: nodeKeys[0], amount: 0n, strike: true }]);
  assert.equal(result.undistributed, 0n);
  assert.equal(epochPaid(result), input.epochEmission);
  const trees = buildEpochTrees(result);
  assert.equal(trees.faultCount, 1);
  assert.equal(trees.faultRoot, buildTree([faultLeaf(7, 0, nodeKeys[0]!, 0n, true)]).root);
});

test('equivocation: no reward, a fault leaf with the slash and a strike', () => {
  const input = baseInput({
    parameters: { ...baseInput().parameters, equivocationSlash: 1_000n * SEND },
    nodes: [node(0), node(1, { equivocated: true }), node(2, { slashAmount: 7n })],
  });
  const result = scoreEpoch(input);
  const s = result.scores.find((x) => x.nodeKey === nodeKeys[1])!;
  assert.equal(s.reward, 0n);
  assert.equal(s.faults & (FAULT_EQUIVOCATION | FAULT_SLASHED), FAULT_EQUIVOCATION | FAULT_SLASHED);
  const expected = [
    { epoch: 7, nodeKey: nodeKeys[1], amount: 1_000n * SEND, strike: true },
    { epoch: 7, nodeKey: nodeKeys[2], amount: 7n, strike: false },
  ].sort((a, b) => (a.nodeKey! < b.nodeKey! ? -1 : 1));
  assert.deepEqual(
    result.faults,
    expected.map((f, index) => ({ ...f, index })),
  );
  assert.equal(epochPaid(result), input.epochEmission);
  const trees = buildEpochTrees(result);
  assert.equal(trees.faultCount, 2);
  assert.equal(
    trees.faultRoot,
    buildTree(result.faults.map((f) => faultLeaf(f.epoch, f.index, f.nodeKey, f.amount, f.strike))).root,
  );
});

test('stake above the cap counts as the cap', () => {
  const cap = 50_000n * SEND;
  const noVolume = (i: number, stake: bigint) => node(i, { stake, volume: [] });
  const input = baseInput({ guardianShareBps: 0, nodes: [noVolume(0, cap), noVolume(1, cap * 10n)] });
  const result = scoreEpoch(input);
  const [a, b] = [0, 1].map((i) => result.scores.find((s) => s.nodeKey === nodeKeys[i])!.reward);
  assert.ok(a! - b! <= 1n && b! - a! <= 1n, `${a} vs ${b}`);
  assert.equal(a! + b!, input.epochEmission); // no volume anywhere: the volume pool moves to stake
  const below = scoreEpoch(baseInput({ guardianShareBps: 0, nodes: [noVolume(0, cap / 2n), noVolume(1, cap * 10n)] }));
  const [c, d] = [0, 1].map((i) => below.scores.find((s) => s.nodeKey === nodeKeys[i])!.reward);
  assert.ok(d! > c! * 2n - 2n && d! < c! * 2n + 2n);
});

test('volume credit is capped per sender DID across nodes', () => {
  const input = baseInput({
    parameters: { ...baseInput().parameters, volumeCapPerDid: 100n },
    nodes: [
      node(0, {
        volume: [
          { senderDid: 'did:wash', units: 300n },
          { senderDid: 'did:x', units: 40n },
        ],
      }),
      node(1, { volume: [{ senderDid: 'did:wash', units: 100n }] }),
      node(2, { volume: [{ senderDid: 'did:y', units: 60n }] }),
    ],
  });
  const result = scoreEpoch(input);
  const units = (i: number) => result.scores.find((s) => s.nodeKey === nodeKeys[i])!.verifiedUnits;
  assert.equal(units(0), 75n + 40n); // 300 · 100 / 400
  assert.equal(units(1), 25n);
  assert.equal(units(2), 60n);
  // a node with failed openings does not use up the DID's cap
  const failed = scoreEpoch({
    ...input,
    nodes: [
      node(0, { openingsFailed: true, volume: [{ senderDid: 'did:wash', units: 300n }] }),
      node(1, { volume: [{ senderDid: 'did:wash', units: 100n }] }),
    ],
  });
  assert.equal(failed.scores.find((s) => s.nodeKey === nodeKeys[1])!.verifiedUnits, 100n);
});

test('deterministic: shuffled input gives identical output and roots', () => {
  const input = baseInput({
    nodes: [
      node(0, { openingsFailed: true }),
      node(1, { equivocated: true, slashAmount: 3n }),
      node(2, { watchdogs: [{ watchdog: 'w', successRatio: 0.95, latenciesMs: [5, 1] }] }),
      node(3),
      node(4, { stake: 1n }),
    ],
  });
  const a = scoreEpoch(input);
  const shuffled: ScoringInput = {
    ...input,
    signers: [...input.signers].reverse(),
    guardianSet: [...input.guardianSet].reverse(),
    nodes: [3, 0, 4, 2, 1].map((i) => {
      const n = input.nodes[i]!;
      return {
        ...n,
        nodeKey: `0x${n.nodeKey.slice(2).toUpperCase()}`,
        volume: [...n.volume].reverse(),
        watchdogs: [...n.watchdogs].reverse(),
      };
    }),
  };
  const b = scoreEpoch(shuffled);
  assert.deepEqual(b, a);
  const [ta, tb] = [buildEpochTrees(a), buildEpochTrees(b)];
  assert.equal(tb.rewardRoot, ta.rewardRoot);
  assert.equal(tb.faultRoot, ta.faultRoot);
  assert.equal(tb.scoresHash, ta.scoresHash);
  assert.equal(a.undistributed, 0n);
  assert.equal(epochPaid(a), input.epochEmission);
});

test('bad inputs are rejected naming the field', () => {
  const n = baseInput().nodes;
  assert.throws(() => scoreEpoch(baseInput({ nodes: [n[0]!, { ...n[1]!, stake: -1n }] })), /nodes\[1\]\.stake/);
  const badRatio = { ...n[0]!, watchdogs: [{ watchdog: 'w', successRatio: 1.5, latenciesMs: [] }] };
  assert.throws(() => scoreEpoch(baseInput({ nodes: [badRatio] })), /nodes\[0\]\.watchdogs\[0\]\.successRatio/);
  assert.throws(() => scoreEpoch(baseInput({ signers: [guardians[0]!, addr(999)] })), /signers\[1\]: unknown guardian/);
  assert.throws(
    () => scoreEpoch(baseInput({ signers: [guardians[0]!, guardians[0]!] })),
    /signers\[1\]: guardian .* twice/,
  );
  assert.throws(() => scoreEpoch(baseInput({ nodes: [n[0]!, n[0]!] })), /nodes\[1\]\.nodeKey: duplicate/);
  const upper = { ...n[0]!, nodeKey: `0x${n[0]!.nodeKey.slice(2).toUpperCase()}` as Address };
  assert.throws(
    () => scoreEpoch(baseInput({ nodes: [n[0]!, upper] })),
    /nodes\[1\]\.nodeKey: duplicate/,
    'case-insensitive',
  );
  assert.throws(() => scoreEpoch(baseInput({ epoch: 0 })), /epoch/);
  assert.throws(() => scoreEpoch(baseInput({ epochEmission: -1n })), /epochEmission/);
  assert.throws(
    () => scoreEpoch(baseInput({ nodes: [{ ...n[0]!, operator: '0x1234' as Address }] })),
    /nodes\[0\]\.operator/,
  );
  assert.throws(
    () => scoreEpoch(baseInput({ parameters: { ...baseInput().parameters, aTarget: 0.8 } })),
    /parameters\.aTarget/,
  );
  assert.throws(
    () => scoreEpoch(baseInput({ nodes: [{ ...n[0]!, volume: [n[0]!.volume[0]!, n[0]!.volume[0]!] }] })),
    /volume\[1\]\.senderDid/,
  );
});

test('empty node list: the node share is undistributed, guardians still paid', () => {
  const input = baseInput({ nodes: [] });
  const result = scoreEpoch(input);
  const guardianShare = (input.epochEmission * 500n) / 10_000n;
  assert.equal(result.undistributed, input.epochEmission - guardianShare);
  assert.equal(result.nodeRewardTotal, 0n);
  assert.equal(epochPaid(result), guardianShare);
  assert.equal(result.scores.length, 0);
  const trees = buildEpochTrees(result);
  assert.equal(trees.totalCumulative, 5n * SEND + guardianShare);
  // nothing ever rewarded and nothing eligible: zero roots, nothing paid
  const none = scoreEpoch(baseInput({ nodes: [], signers: [], previousCumulative: new Map() }));
  assert.equal(none.undistributed, none.epochEmission);
  assert.equal(buildEpochTrees(none).rewardRoot, `0x${'0'.repeat(64)}`);
});

test('random epochs: the sum paid always equals the emission exactly', () => {
  let seed = 12345n; // deterministic LCG, so a failure reproduces
  const next = (mod: number) => {
    seed = (seed * 6364136223846793005n + 1442695040888963407n) % (1n << 64n);
    return Number((seed >> 33n) % BigInt(mod));
  };
  for (let round = 0; round < 40; round++) {
    const count = 1 + next(12);
    const nodes = Array.from({ length: count }, (_, i) =>
      node(i % 5, {
        nodeKey: addr(1000 * round + i),
        operator: operators[next(3)],
        stake: BigInt(next(1_000_000)) * 10n ** BigInt(next(19)),
        watchdogs: [0, 1, 2]
          .slice(0, 1 + next(3))
          .map((w) => ({ watchdog: `w${w}`, successRatio: 0.85 + next(1500) / 10_000, latenciesMs: [next(500)] })),
        volume: [{ senderDid: `did:${next(4)}`, units: BigInt(next(5000)) }],
        openingsFailed: next(5) === 0,
      }),
    );
    const input = baseInput({
      epochEmission: BigInt(next(1_000_000_007)) * 10n ** BigInt(next(12)) + BigInt(next(997)),
      guardianShareBps: next(2000),
      signers: guardians.slice(0, 1 + next(7)),
      parameters: { ...baseInput().parameters, stakeSplitBps: next(10_001) },
      nodes,
    });
    const result = scoreEpoch(input);
    assert.equal(epochPaid(result) + result.undistributed, input.epochEmission, `round ${round}`);
    const eligible = result.scores.some(
      (s) => s.score > 0 && (s.verifiedUnits > 0n || nodes.find((n) => n.nodeKey === s.nodeKey)!.stake > 0n),
    );
    if (eligible) assert.equal(result.undistributed, 0n, `round ${round}`);
    assert.equal(
      result.scores.reduce((s, x) => s + x.reward, 0n),
      result.nodeRewardTotal,
    );
  }
});

// ------------------------------------------------------------------------------------- license rewards

/** Folds a proof the way MerkleProof.processProof (and LicenseRewards.claim) does. */
function processProof(leaf: Uint8Array, proof: readonly Hex[]): Hex {
  let node = leaf;
  for (const sibling of proof) node = hashPair(node, hexToBytes(sibling));
  return bytesToHex(node);
}

test('license emission: split pro rata to scheduled challenges, rounded down, the remainder unpaid', () => {
  const input = baseInput({
    licenseEmission: 1_001n,
    // unordered on purpose; weights 4 : 8 : 12
    licenses: [
      { tokenId: 3n, scheduled: 4 },
      { tokenId: 1n, scheduled: 8 },
      { tokenId: 2n, scheduled: 12 },
    ],
  });
  const result = scoreEpoch(input);
  // floor(1001·4/24) = 166, floor(1001·8/24) = 333, floor(1001·12/24) = 500: 999 paid, 2 left in the pool
  assert.deepEqual(result.licenseRewards, [
    { tokenId: 1n, amount: 333n },
    { tokenId: 2n, amount: 500n },
    { tokenId: 3n, amount: 166n },
  ]);
  assert.equal(result.licenseRewardTotal, 999n);
  assert.equal(result.licenseUndistributed, 2n);
  assert.equal(result.licenseEmission, 1_001n);
  assert.deepEqual(result.licenseCumulative, [
    { tokenId: 1n, cumulative: 333n },
    { tokenId: 2n, cumulative: 500n },
    { tokenId: 3n, cumulative: 166n },
  ]);
  // the node and guardian side is untouched: same payments, same totalCumulative
  const without = scoreEpoch(baseInput());
  assert.deepEqual(result.cumulative, without.cumulative);
  assert.equal(result.totalCumulative, without.totalCumulative);
  assert.equal(result.undistributed, 0n);
  assert.equal(epochPaid(result), input.epochEmission);
});

test('license cumulative: previous carried, eligible licenses add their share, others keep theirs, token ids in numeric order', () => {
  const result = scoreEpoch(
    baseInput({
      licenseEmission: 90n * SEND,
      licenses: [
        { tokenId: 10n, scheduled: 4 },
        { tokenId: 9n, scheduled: 8 },
      ],
      previousLicenseCumulative: new Map([
        [10n, 7n * SEND],
        [2n, 50n * SEND], // not eligible this epoch: unchanged
        [100n, 1n], // likewise
      ]),
    }),
  );
  assert.deepEqual(result.licenseRewards, [
    { tokenId: 9n, amount: 60n * SEND },
    { tokenId: 10n, amount: 30n * SEND },
  ]);
  assert.deepEqual(result.licenseCumulative, [
    { tokenId: 2n, cumulative: 50n * SEND },
    { tokenId: 9n, cumulative: 60n * SEND },
    { tokenId: 10n, cumulative: 37n * SEND },
    { tokenId: 100n, cumulative: 1n },
  ]);
  assert.equal(result.licenseUndistributed, 0n);

  // no eligible license (or zero weight, or zero emission): nothing paid, the previous leaves stay
  for (const overrides of [
    { licenses: [] },
    { licenses: [{ tokenId: 4n, scheduled: 0 }] },
    { licenses: [{ tokenId: 4n, scheduled: 4 }], licenseEmission: 0n },
  ] satisfies Partial<ScoringInput>[]) {
    const none = scoreEpoch(
      baseInput({ licenseEmission: 5n * SEND, previousLicenseCumulative: new Map([[2n, 3n]]), ...overrides }),
    );
    assert.deepEqual(none.licenseRewards, []);
    assert.deepEqual(none.licenseCumulative, [{ tokenId: 2n, cumulative: 3n }]);
    assert.equal(none.licenseUndistributed, none.licenseEmission);
  }
});

test('reward tree: account leaves then license leaves, each verifies with its proof; the header counts account leaves only', () => {
  const input = baseInput({
    licenseEmission: 82_191n * SEND + 7n,
    licenses: [
      { tokenId: 1n, scheduled: 12 },
      { tokenId: 5n, scheduled: 4 },
    ],
    previousLicenseCumulative: new Map([[3n, 11n * SEND]]),
  });
  const result = scoreEpoch(input);
  const trees = buildEpochTrees(result);
  const accountsOnly = buildEpochTrees(scoreEpoch(baseInput()));

  // header fields: the settlement's amounts only (EpochSettlement's circuit breaker and escrow check)
  assert.equal(trees.totalCumulative, accountsOnly.totalCumulative);
  assert.equal(
    trees.totalCumulative,
    result.cumulative.reduce((sum, c) => sum + c.cumulative, 0n),
  );
  assert.equal(trees.epochEmission, input.epochEmission);
  // but the root commits to the license leaves too
  assert.notEqual(trees.rewardRoot, accountsOnly.rewardRoot);
  const leaves = [
    ...result.cumulative.map((c) => rewardLeaf(c.account, c.cumulative)),
    ...result.licenseCumulative.map((l) => licenseRewardLeaf(l.tokenId, l.cumulative)),
  ];
  assert.equal(trees.rewardRoot, buildTree(leaves).root);
  assert.equal(trees.rewardRoot, buildRewardTree(result.cumulative, result.licenseCumulative)!.root);
  assert.equal(trees.licenseLeafOffset, result.cumulative.length);
  assert.equal(trees.rewardTree!.leafCount, result.cumulative.length + 3);

  result.cumulative.forEach((c, i) => {
    assert.equal(
      processProof(rewardLeaf(c.account, c.cumulative), trees.rewardTree!.proof(i)),
      trees.rewardRoot,
      `account ${c.account}`,
    );
  });
  result.licenseCumulative.forEach((l, i) => {
    const proof = trees.rewardTree!.proof(trees.licenseLeafOffset + i);
    assert.equal(
      processProof(licenseRewardLeaf(l.tokenId, l.cumulative), proof),
      trees.rewardRoot,
      `license ${l.tokenId}`,
    );
    // the same amount as an account-type leaf, or another amount, does not verify
    assert.notEqual(processProof(licenseRewardLeaf(l.tokenId, l.cumulative + 1n), proof), trees.rewardRoot);
  });

  // only license leaves (no account ever paid): still a tree, the header's totalCumulative is 0
  const licensesOnly = scoreEpoch(
    baseInput({
      nodes: [],
      signers: [],
      previousCumulative: new Map(),
      licenseEmission: 10n,
      licenses: [{ tokenId: 8n, scheduled: 4 }],
    }),
  );
  const t = buildEpochTrees(licensesOnly);
  assert.equal(t.totalCumulative, 0n);
  assert.equal(t.licenseLeafOffset, 0);
  assert.equal(t.rewardRoot, bytesToHex(licenseRewardLeaf(8n, 10n)), 'a one-leaf tree: root = leaf');
});

test('license inputs: shuffled order gives identical output; bad ones are rejected naming the field', () => {
  const licenses = [
    { tokenId: 7n, scheduled: 8 },
    { tokenId: 2n, scheduled: 4 },
    { tokenId: 30n, scheduled: 12 },
  ];
  const prev = new Map([
    [30n, 5n],
    [1n, 9n],
  ]);
  const a = scoreEpoch(baseInput({ licenseEmission: 12_345n, licenses, previousLicenseCumulative: prev }));
  const b = scoreEpoch(
    baseInput({
      licenseEmission: 12_345n,
      licenses: [...licenses].reverse(),
      previousLicenseCumulative: new Map([...prev].reverse()),
    }),
  );
  assert.deepEqual(b, a);
  assert.equal(buildEpochTrees(b).rewardRoot, buildEpochTrees(a).rewardRoot);

  assert.throws(
    () => scoreEpoch(baseInput({ licenses: [licenses[0]!, licenses[0]!] })),
    /invalid scoring input: licenses\[1\]\.tokenId: duplicate license 7/,
  );
  assert.throws(() => scoreEpoch(baseInput({ licenses: [{ tokenId: -1n, scheduled: 4 }] })), /licenses\[0\]\.tokenId/);
  assert.throws(
    () => scoreEpoch(baseInput({ licenses: [{ tokenId: 1n, scheduled: 1.5 }] })),
    /licenses\[0\]\.scheduled/,
  );
  assert.throws(() => scoreEpoch(baseInput({ licenseEmission: 1n << 96n })), /licenseEmission: must fit in uint96/);
  assert.throws(
    () => scoreEpoch(baseInput({ previousLicenseCumulative: new Map([[1n, -1n]]) })),
    /previousLicenseCumulative/,
  );
  const huge = new Map([
    [1n, (1n << 96n) - 1n],
    [2n, 1n],
  ]);
  assert.throws(
    () => scoreEpoch(baseInput({ previousLicenseCumulative: huge })),
    /license cumulative total .* exceeds uint96/,
  );
});
