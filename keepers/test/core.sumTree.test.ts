/**
 * Merkle-sum tree: roots against a naive reference built with an independent packed encoder (ethers) on a
 * fully padded heap, every opening path verifies, the walk by child sums equals a linear prefix scan,
 * each kind of tampering fails with its own reason, and a 1e5-leaf build stays well under a second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { solidityPackedKeccak256 } from 'ethers';
import { encodeAbiParameters, keccak256, type Hex } from 'viem';
import {
  SumTreeError,
  ZERO_HASH,
  buildSumTree,
  depthFor,
  verifySumPath,
  type SumLeaf,
  type SumPathInput,
} from '../src/core/sumTree.js';

const leafHash = (i: number): Hex =>
  keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], ['leaf', BigInt(i)]));
const leavesOf = (n: number, units: (i: number) => bigint = (i) => BigInt((i * 37) % 64) + 1n): SumLeaf[] =>
  Array.from({ length: n }, (_, i) => ({ hash: leafHash(i), units: units(i) }));

/** Naive reference: pad to a power of two, hash level by level with ethers' packed encoder. */
function referenceRoot(leaves: SumLeaf[]): { root: Hex; total: bigint } {
  if (leaves.length === 0) return { root: ZERO_HASH, total: 0n };
  let size = 1;
  while (size < leaves.length) size *= 2;
  let level = [...leaves.map((l) => ({ hash: l.hash as string, sum: l.units }))];
  while (level.length < size) level.push({ hash: ZERO_HASH, sum: 0n });
  while (level.length > 1) {
    const next: { hash: string; sum: bigint }[] = [];
    for (let j = 0; j < level.length; j += 2) {
      const [l, r] = [level[j]!, level[j + 1]!];
      next.push({
        hash: solidityPackedKeccak256(['bytes32', 'uint128', 'bytes32', 'uint128'], [l.hash, l.sum, r.hash, r.sum]),
        sum: l.sum + r.sum,
      });
    }
    level = next;
  }
  return { root: level[0]!.hash as Hex, total: level[0]!.sum };
}

function linearFind(leaves: SumLeaf[], target: bigint): number {
  let prefix = 0n;
  for (let i = 0; i < leaves.length; i++) {
    if (target < prefix + leaves[i]!.units) return i;
    prefix += leaves[i]!.units;
  }
  throw new Error('target beyond total');
}

test('roots equal the naive padded reference for 0, 1, 2, 3, 5, 8 and 1000 leaves', () => {
  for (const n of [0, 1, 2, 3, 5, 8, 1000]) {
    const leaves = leavesOf(n);
    const tree = buildSumTree(leaves);
    const ref = referenceRoot(leaves);
    assert.equal(tree.root, ref.root, `root of ${n} leaves`);
    assert.equal(tree.totalUnits, ref.total, `total of ${n} leaves`);
    assert.equal(tree.leafCount, n);
    assert.equal(tree.depth, depthFor(n));
  }
  const empty = buildSumTree([]);
  assert.equal(empty.root, ZERO_HASH);
  assert.equal(empty.totalUnits, 0n);
  assert.throws(() => empty.openingPath(0), SumTreeError);
  assert.throws(() => empty.findLeafForTarget(0n), SumTreeError);
  // one leaf: the root is the leaf, its path is empty
  const one = buildSumTree(leavesOf(1));
  assert.equal(one.root, leafHash(0));
  assert.deepEqual(one.openingPath(0), []);
});

test('every opening path of small trees verifies; the walk equals a linear prefix scan', () => {
  for (const n of [1, 2, 3, 5, 7, 33]) {
    const leaves = leavesOf(n, (i) => BigInt(i % 3)); // includes zero-unit leaves
    const tree = buildSumTree(leaves);
    let prefix = 0n;
    for (let i = 0; i < n; i++) {
      const siblings = tree.openingPath(i);
      assert.equal(siblings.length, tree.depth);
      const base = {
        leafHash: leaves[i]!.hash,
        units: leaves[i]!.units,
        index: i,
        siblings,
        root: tree.root,
        totalUnits: tree.totalUnits,
        leafCount: n,
      };
      assert.deepEqual(verifySumPath(base), { ok: true }, `leaf ${i} of ${n}`);
      if (leaves[i]!.units > 0n) {
        assert.deepEqual(verifySumPath({ ...base, target: prefix }), { ok: true });
        assert.deepEqual(verifySumPath({ ...base, target: prefix + leaves[i]!.units - 1n }), { ok: true });
      }
      prefix += leaves[i]!.units;
    }
    for (let r = 0n; r < tree.totalUnits; r++)
      assert.equal(tree.findLeafForTarget(r), linearFind(leaves, r), `target ${r} of ${n}`);
  }
  const big = leavesOf(1000);
  const tree = buildSumTree(big);
  for (let r = 0n; r < tree.totalUnits; r += 97n) assert.equal(tree.findLeafForTarget(r), linearFind(big, r));
  for (const i of [0, 1, 511, 512, 998, 999]) {
    const v = verifySumPath({
      leafHash: big[i]!.hash,
      units: big[i]!.units,
      index: i,
      siblings: tree.openingPath(i),
      root: tree.root,
      totalUnits: tree.totalUnits,
      leafCount: 1000,
    });
    assert.deepEqual(v, { ok: true });
  }
  assert.throws(() => tree.findLeafForTarget(tree.totalUnits), /outside \[0, totalUnits/);
  assert.throws(() => tree.findLeafForTarget(-1n), SumTreeError);
  assert.throws(() => tree.openingPath(1000), /leaf index 1000 out of range 0..999/);
});

test('tampering with any part of an opening fails with a specific reason', () => {
  const leaves = leavesOf(13);
  const tree = buildSumTree(leaves);
  const i = 6;
  let prefix = 0n;
  for (let j = 0; j < i; j++) prefix += leaves[j]!.units;
  const good: SumPathInput = {
    leafHash: leaves[i]!.hash,
    units: leaves[i]!.units,
    index: i,
    siblings: tree.openingPath(i),
    root: tree.root,
    totalUnits: tree.totalUnits,
    leafCount: 13,
    target: prefix,
  };
  assert.deepEqual(verifySumPath(good), { ok: true });
  const reason = (change: Partial<SumPathInput>) => {
    const result = verifySumPath({ ...good, ...change });
    return result.ok ? 'ok' : result.reason;
  };
  const flip = (h: Hex): Hex => `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}` as Hex;
  for (let level = 0; level < good.siblings.length; level++) {
    const hashTampered = good.siblings.map((s, l) => (l === level ? { ...s, hash: flip(s.hash) } : s));
    assert.equal(reason({ siblings: hashTampered }), 'root-mismatch', `sibling hash at level ${level}`);
    const sumTampered = good.siblings.map((s, l) => (l === level ? { ...s, sum: s.sum + 1n } : s));
    assert.equal(reason({ siblings: sumTampered }), 'root-mismatch', `sibling sum at level ${level}`);
  }
  assert.equal(reason({ leafHash: flip(good.leafHash) }), 'root-mismatch');
  assert.equal(reason({ units: good.units + 1n }), 'root-mismatch');
  assert.equal(reason({ index: 7 }), 'root-mismatch');
  assert.equal(reason({ index: 13 }), 'index-out-of-range');
  assert.equal(reason({ index: -1 }), 'index-out-of-range');
  assert.equal(reason({ siblings: good.siblings.slice(1) }), 'depth-mismatch');
  assert.equal(reason({ siblings: [...good.siblings, { hash: ZERO_HASH, sum: 0n }] }), 'depth-mismatch');
  assert.equal(reason({ leafCount: 17 }), 'depth-mismatch');
  assert.equal(reason({ root: flip(good.root) }), 'root-mismatch');
  assert.equal(reason({ totalUnits: good.totalUnits + 1n }), 'total-mismatch');
  assert.equal(reason({ target: prefix - 1n }), 'target-not-in-leaf');
  assert.equal(reason({ target: prefix + good.units }), 'target-not-in-leaf');
  assert.equal(reason({ target: good.totalUnits }), 'target-out-of-range');
  assert.equal(
    reason({ siblings: good.siblings.map((s, l) => (l === 0 ? { ...s, sum: 1n << 128n } : s)) }),
    'sum-overflow',
  );
  assert.equal(reason({ leafHash: '0x1234' }), 'bad-input');
  // without leafCount the index must still fit the path
  assert.equal(reason({ leafCount: undefined, index: 16 }), 'index-out-of-range');
  assert.equal(reason({ leafCount: undefined }), 'ok');
  // a padding leaf (beyond leafCount) cannot be opened even with a correct path
  assert.equal(reason({ leafHash: ZERO_HASH, units: 0n, index: 15, target: undefined }), 'index-out-of-range');
});

test('bad leaves are refused with a SumTreeError that names the leaf', () => {
  assert.throws(() => buildSumTree([{ hash: '0x12', units: 1n }]), /leaf 0: hash is not 32 bytes/);
  assert.throws(
    () => buildSumTree([...leavesOf(2), { hash: `0x${'zz'.repeat(32)}` as Hex, units: 1n }]),
    /leaf 2: hash/,
  );
  assert.throws(() => buildSumTree([{ hash: leafHash(0), units: -1n }]), /leaf 0: units must be a uint128/);
  assert.throws(() => buildSumTree([{ hash: leafHash(0), units: 1 as unknown as bigint }]), SumTreeError);
  const huge = (1n << 127n) + 1n;
  assert.throws(
    () =>
      buildSumTree([
        { hash: leafHash(0), units: huge },
        { hash: leafHash(1), units: huge },
      ]),
    /overflow uint128/,
  );
});

test('1e5 leaves build well under a second', () => {
  const leaves = leavesOf(100_000);
  const times: number[] = [];
  let root: Hex = ZERO_HASH;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    root = buildSumTree(leaves).root;
    times.push(performance.now() - t0);
  }
  const best = Math.min(...times);
  console.log(`# 1e5-leaf sum tree build: best ${best.toFixed(0)} ms of ${times.map((t) => t.toFixed(0)).join(', ')}`);
  assert.ok(best < 1000, `build took ${best.toFixed(0)} ms`);
  assert.match(root, /^0x[0-9a-f]{64}$/);
});
