/**
 * Seeds, sample targets and WatchDog assignment against an independent encoder (ethers); the empirical
 * sampling distribution is proportional to units; fake weight is caught; openings of real receipts
 * verify end to end through the JSON wire form, and each kind of fraud is named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbiCoder, keccak256 as ethersKeccak } from 'ethers';
import { encodeAbiParameters, keccak256, type Address, type Hex } from 'viem';
import {
  assignWatchdogs,
  assignmentSeed,
  openingSchema,
  openingToWire,
  sampleLeafIndices,
  sampleTargets,
  samplingSeed,
  verifyOpening,
  type WatchdogCandidate,
} from '../src/core/sampling.js';
import { buildSumTree } from '../src/core/sumTree.js';
import {
  ackTicket,
  ed25519Sign,
  generateDeviceKey,
  receiptLeafHash,
  signTicket,
  ticketHash,
  type Receipt,
} from '../src/core/relay.js';
import type { EpochCommitment } from '../src/core/commitment.js';

const abi = AbiCoder.defaultAbiCoder();
const h = (label: string, i: number): Hex =>
  keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], [label, BigInt(i)]));
const addr = (i: number): Address => h('addr', i).slice(0, 42) as Address;
const NODE: Address = '0x00000000000000000000000000000000000000aa';
const BLOCK: Hex = h('block', 1);

test('seeds and targets equal an independent abi.encode (ethers)', () => {
  assert.equal(samplingSeed(7, BLOCK), ethersKeccak(abi.encode(['uint32', 'bytes32'], [7, BLOCK])));
  assert.equal(
    assignmentSeed(7, BLOCK),
    ethersKeccak(abi.encode(['string', 'uint32', 'bytes32'], ['SN-ASSIGN-1', 7, BLOCK])),
  );
  assert.notEqual(samplingSeed(7, BLOCK), samplingSeed(8, BLOCK));
  const seed = samplingSeed(7, BLOCK);
  const total = 123_456_789n;
  const targets = sampleTargets(seed, NODE, total, 5);
  assert.equal(targets.length, 5);
  targets.forEach((r, i) =>
    assert.equal(r, BigInt(ethersKeccak(abi.encode(['bytes32', 'address', 'uint32'], [seed, NODE, i]))) % total),
  );
  assert.deepEqual(sampleTargets(seed, NODE, 0n, 32), [], 'a node with no units is not sampled');
  assert.deepEqual(
    sampleTargets(seed, NODE, total),
    sampleTargets(seed, NODE.toUpperCase().replace('0X', '0x') as Address, total),
  );
  assert.equal(sampleTargets(seed, NODE, total).length, 32, 'k defaults to 32');
  assert.throws(() => samplingSeed(-1, BLOCK), /epoch must be a uint32/);
  assert.throws(() => samplingSeed(1, '0x12'), /blockHash must be 32 bytes/);
});

test('samples are proportional to units; zero-unit leaves are never picked', () => {
  const weights = [100n, 0n, 50n, 0n, 200n, 150n, 0n, 300n, 100n, 100n, 0n];
  const tree = buildSumTree(weights.map((units, i) => ({ hash: h('leaf', i), units })));
  assert.equal(tree.totalUnits, 1000n);
  const draws = 10_000;
  const counts = new Array(weights.length).fill(0);
  for (const s of sampleLeafIndices(tree, samplingSeed(1, BLOCK), NODE, draws)) counts[s.index]++;
  weights.forEach((w, i) => {
    const expected = Number(w) / 1000;
    const observed = counts[i] / draws;
    if (w === 0n) assert.equal(counts[i], 0, `zero-weight leaf ${i} picked`);
    else assert.ok(Math.abs(observed - expected) < 0.015, `leaf ${i}: observed ${observed}, expected ${expected}`);
  });
  assert.ok(Math.abs(counts[0] / draws - 0.1) < 0.015, 'the 10% leaf gets ~10% of the draws');
});

test('a tree with 10% fake weight gets at least one fake sample in k=32 for ≥ 90% of 200 seeds', () => {
  // 1000 leaves of 1..64 units; every 10th leaf is fake, scaled so fakes hold 10% of the weight
  const leaves = Array.from({ length: 1000 }, (_, i) => ({
    hash: h('leaf', i),
    units: BigInt(1 + ((i * 7919) % 64)),
    fake: i % 10 === 3,
  }));
  const realUnits = leaves.filter((l) => !l.fake).reduce((a, l) => a + l.units, 0n);
  const fakeCount = leaves.filter((l) => l.fake).length;
  for (const l of leaves) if (l.fake) l.units = realUnits / 9n / BigInt(fakeCount);
  const tree = buildSumTree(leaves);
  const fakeShare = Number(leaves.filter((l) => l.fake).reduce((a, l) => a + l.units, 0n)) / Number(tree.totalUnits);
  assert.ok(Math.abs(fakeShare - 0.1) < 0.005, `fake share ${fakeShare}`);
  let caught = 0;
  for (let s = 0; s < 200; s++) {
    const samples = sampleLeafIndices(tree, samplingSeed(s + 1, h('block', s)), NODE, 32);
    if (samples.some((x) => leaves[x.index]!.fake)) caught++;
  }
  console.log(
    `# fake weight 10%, k=32: caught in ${caught}/200 seeds (expected ~${(200 * (1 - 0.9 ** 32)).toFixed(0)})`,
  );
  assert.ok(caught >= 180, `caught only ${caught}/200`);
});

function referenceAssignment(
  seed: Hex,
  node: Address,
  watchdogs: WatchdogCandidate[],
  m: number,
  nodeOperator?: Address,
): bigint[] {
  const ranked = watchdogs
    .map((w) => ({
      w,
      key: BigInt(ethersKeccak(abi.encode(['bytes32', 'address', 'uint256'], [seed, node, w.tokenId]))),
    }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  const picked: bigint[] = [];
  const ops = new Set<string>();
  const owners = new Set<string>();
  for (const { w } of ranked) {
    if (picked.length === m) break;
    const op = w.operator.toLowerCase();
    const owner = w.owner.toLowerCase();
    if (ops.has(op) || owners.has(owner)) continue;
    if (nodeOperator && (owner === nodeOperator.toLowerCase() || op === nodeOperator.toLowerCase())) continue;
    ops.add(op);
    owners.add(owner);
    picked.push(w.tokenId);
  }
  return picked;
}

test('WatchDog assignment: seeded order, first m with distinct operators and owners, independent of input order', () => {
  const seed = assignmentSeed(3, BLOCK);
  const nodes = [5, 1, 4, 2, 3].map(addr);
  // 12 licenses over 4 operators (operator j runs tokens ≡ j mod 4), each license its own holder
  const watchdogs: WatchdogCandidate[] = Array.from({ length: 12 }, (_, t) => ({
    tokenId: BigInt(t + 1),
    operator: addr(100 + (t % 4)),
    owner: addr(200 + t),
  }));
  const assignment = assignWatchdogs({ assignSeed: seed, nodes, watchdogs, m: 3 });
  const sortedNodes = nodes.map((n) => n.toLowerCase()).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  assert.deepEqual([...assignment.keys()], sortedNodes);
  const operatorOf = new Map(watchdogs.map((w) => [w.tokenId, w.operator]));
  for (const [node, picked] of assignment) {
    assert.equal(picked.length, 3);
    assert.equal(new Set(picked.map((t) => operatorOf.get(t))).size, 3, 'operators pairwise different');
    assert.deepEqual(picked, referenceAssignment(seed, node, watchdogs, 3));
  }
  const shuffled = assignWatchdogs({
    assignSeed: seed,
    nodes: [...nodes].reverse(),
    watchdogs: [...watchdogs].reverse(),
    m: 3,
  });
  assert.deepEqual([...shuffled.entries()], [...assignment.entries()]);
  // only two operators: two WatchDogs per node
  const two = watchdogs.filter((w) => w.operator === addr(100) || w.operator === addr(101));
  for (const picked of assignWatchdogs({ assignSeed: seed, nodes, watchdogs: two, m: 3 }).values())
    assert.equal(picked.length, 2);
  // default m = 5 (four operators: four each), no WatchDogs = empty lists, another seed = another assignment
  for (const picked of assignWatchdogs({ assignSeed: seed, nodes, watchdogs }).values()) assert.equal(picked.length, 4);
  assert.ok([...assignWatchdogs({ assignSeed: seed, nodes, watchdogs: [] }).values()].every((p) => p.length === 0));
  assert.notDeepEqual(assignWatchdogs({ assignSeed: assignmentSeed(4, BLOCK), nodes, watchdogs, m: 3 }), assignment);
  assert.throws(
    () => assignWatchdogs({ assignSeed: seed, nodes, watchdogs: [...watchdogs, watchdogs[0]!] }),
    /tokenId 1 listed twice/,
  );
});

test('WatchDog assignment is by owner: one holder judges a node at most once, never its own node', () => {
  const seed = assignmentSeed(7, BLOCK);
  const nodes = Array.from({ length: 40 }, (_, i) => addr(i + 1));
  const nodeOperators = new Map(nodes.map((n, i) => [n.toLowerCase(), addr(500 + (i % 4)).toLowerCase()]));
  // 8 independent holders, and holder 300 with 4 licenses run by 4 different operator keys (a colluding set);
  // holder 501 also operates nodes 2, 6, 10, … and holds license 20
  const watchdogs: WatchdogCandidate[] = [
    ...Array.from({ length: 8 }, (_, t) => ({ tokenId: BigInt(t + 1), operator: addr(100 + t), owner: addr(200 + t) })),
    ...Array.from({ length: 4 }, (_, t) => ({ tokenId: BigInt(t + 10), operator: addr(150 + t), owner: addr(300) })),
    { tokenId: 20n, operator: addr(160), owner: addr(501) },
  ];
  const ownerOf = new Map(watchdogs.map((w) => [w.tokenId, w.owner]));
  const assignment = assignWatchdogs({ assignSeed: seed, nodes, watchdogs, m: 5, nodeOperators });
  let colluderPicks = 0;
  for (const [node, picked] of assignment) {
    assert.equal(picked.length, 5);
    const owners = picked.map((t) => ownerOf.get(t));
    assert.equal(new Set(owners).size, 5, `node ${node}: owners pairwise different`);
    assert.ok(!owners.includes(nodeOperators.get(node) as Address), `node ${node} judged by its own operator`);
    colluderPicks += owners.filter((o) => o === addr(300)).length;
    assert.deepEqual(picked, referenceAssignment(seed, node, watchdogs, 5, nodeOperators.get(node) as Address));
  }
  assert.ok(colluderPicks > 0 && colluderPicks <= nodes.length, 'the holder of four licenses judges a node once');
  // a license whose operator key is the node's operator is skipped as well
  const own = new Map(nodes.map((n) => [n.toLowerCase(), addr(100).toLowerCase()]));
  for (const picked of assignWatchdogs({ assignSeed: seed, nodes, watchdogs, m: 5, nodeOperators: own }).values())
    assert.ok(!picked.includes(1n));
});

// ------------------------------------------------------------------------------------------- openings

const users = Array.from({ length: 4 }, (_, i) => ({ key: generateDeviceKey(), did: String(1000 + i) }));

function receipt(n: number, node: Address = NODE, epoch = 7): Receipt {
  const from = users[n % 4]!;
  const to = users[(n + 1) % 4]!;
  const ticket = signTicket(
    {
      envelopeId: h('env', n),
      node,
      epoch,
      units: 1 + (n % 64),
      recipientKey: to.key.publicKey,
      senderKey: from.key.publicKey,
      senderDid: from.did,
    },
    from.key,
  );
  return { ticket, ack: ackTicket(ticket, to.did, to.key) };
}

function nodeTree(receipts: Receipt[], epoch = 7) {
  const sorted = [...receipts].sort((a, b) => (BigInt(ticketHash(a.ticket)) < BigInt(ticketHash(b.ticket)) ? -1 : 1));
  const tree = buildSumTree(sorted.map((r) => ({ hash: receiptLeafHash(r), units: BigInt(r.ticket.units) })));
  const commitment: EpochCommitment = {
    epoch,
    root: tree.root,
    totalUnits: tree.totalUnits,
    leafCount: BigInt(tree.leafCount),
  };
  return { sorted, tree, commitment };
}

test('openings of real receipts verify through the JSON wire form', () => {
  const { sorted, tree, commitment } = nodeTree(Array.from({ length: 40 }, (_, n) => receipt(n)));
  const seed = samplingSeed(7, BLOCK);
  const samples = sampleLeafIndices(tree, seed, NODE);
  assert.equal(samples.length, 32);
  for (const s of samples) {
    const wire = JSON.parse(JSON.stringify(openingToWire(tree, s.index, sorted[s.index]!)));
    const opening = openingSchema.parse(wire);
    const result = verifyOpening(opening, { node: NODE, commitment, target: s.target });
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.senderDid, sorted[s.index]!.ticket.senderDid);
    assert.equal(result.units, sorted[s.index]!.ticket.units);
  }
  assert.throws(() =>
    openingSchema.parse({ ...openingToWire(tree, 0, sorted[0]!), siblings: [{ hash: h('x', 0), sum: 5 }] }),
  );
});

test('fraudulent openings are rejected with the reason', () => {
  const honest = Array.from({ length: 12 }, (_, n) => receipt(n));
  const check = (receipts: Receipt[], opts: { epoch?: number; pick?: (sorted: Receipt[]) => number } = {}) => {
    const { sorted, tree, commitment } = nodeTree(receipts, opts.epoch);
    const index = opts.pick ? opts.pick(sorted) : tree.findLeafForTarget(0n);
    let prefix = 0n;
    for (let j = 0; j < index; j++) prefix += BigInt(sorted[j]!.ticket.units);
    const opening = openingSchema.parse(JSON.parse(JSON.stringify(openingToWire(tree, index, sorted[index]!))));
    return { opening, commitment, target: prefix, sorted, tree };
  };
  const reason = (c: ReturnType<typeof check>, node: Address = NODE) => {
    const result = verifyOpening(c.opening, { node, commitment: c.commitment, target: c.target });
    return result.ok ? 'ok' : result.reason;
  };
  const base = check(honest);
  assert.equal(reason(base), 'ok');
  assert.equal(reason(base, addr(9)), 'wrong-node');
  // receipts of another epoch committed for epoch 8
  assert.equal(reason(check(honest, { epoch: 8 })), 'wrong-epoch');
  // a receipt naming another node inside the tree
  const foreign = receipt(99, addr(9));
  assert.equal(reason(check([...honest, foreign], { pick: (s) => s.indexOf(foreign) }), NODE), 'wrong-node');
  // a forged ticket (bad signature) inside the tree
  const forged = receipt(50);
  forged.ticket = { ...forged.ticket, sig: ed25519Sign(new Uint8Array([1]), users[50 % 4]!.key) };
  assert.equal(reason(check([...honest, forged], { pick: (s) => s.indexOf(forged) })), 'bad-ticket-signature');
  // opening another receipt than the committed one, or with inflated units
  assert.equal(
    reason({ ...base, opening: { ...base.opening, ticket: receipt(77).ticket, ack: receipt(77).ack } }),
    'root-mismatch',
  );
  assert.equal(
    reason({
      ...base,
      opening: { ...base.opening, ticket: { ...base.opening.ticket, units: base.opening.ticket.units + 1 } },
    }),
    'root-mismatch',
  );
  // a valid path for another leaf than the one the target falls in
  assert.equal(reason({ ...base, target: base.target + BigInt(base.opening.ticket.units) }), 'target-not-in-leaf');
  assert.equal(
    reason({ ...base, opening: { ...base.opening, siblings: base.opening.siblings.slice(1) } }),
    'depth-mismatch',
  );
});
