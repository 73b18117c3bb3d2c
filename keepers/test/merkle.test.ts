import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { encodeAbiParameters, keccak256, bytesToHex, getAddress, type Address } from 'viem';
import { buildTree, faultLeaf, rewardLeaf } from '../src/core/merkle.js';

function randomAccount(i: number): Address {
  return getAddress(keccak256(encodeAbiParameters([{ type: 'uint256' }], [BigInt(i)])).slice(0, 42));
}

test('reward trees match @openzeppelin/merkle-tree for every size 1..70', () => {
  for (let n = 1; n <= 70; n++) {
    const values: [Address, bigint][] = [];
    for (let i = 0; i < n; i++) values.push([randomAccount(n * 1000 + i), BigInt(i) * 10n ** 18n + 7n]);
    const reference = StandardMerkleTree.of(values, ['address', 'uint256']);
    const tree = buildTree(values.map(([a, c]) => rewardLeaf(a, c)));
    assert.equal(tree.root, reference.root, `root differs at n=${n}`);
    for (let i = 0; i < n; i++) assert.deepEqual(tree.proof(i), reference.getProof(i), `proof ${i} at n=${n}`);
  }
});

test('fault leaves match the standard leaf encoding', () => {
  const nodeKey = randomAccount(42);
  const values: [number, number, Address, bigint, boolean][] = [
    [7, 0, nodeKey, 1000n, true],
    [7, 1, randomAccount(43), 0n, false],
    [7, 2, randomAccount(44), (1n << 96n) - 1n, true],
  ];
  const reference = StandardMerkleTree.of(values, ['uint32', 'uint32', 'address', 'uint96', 'bool']);
  const tree = buildTree(values.map(([e, i, k, a, s]) => faultLeaf(e, i, k, a, s)));
  assert.equal(tree.root, reference.root);
  assert.equal(bytesToHex(faultLeaf(7, 0, nodeKey, 1000n, true)), reference.leafHash(values[0]));
});

test('bad inputs are rejected with a message naming them', () => {
  assert.throws(() => buildTree([]), /at least one leaf/);
  assert.throws(() => rewardLeaf(randomAccount(1), -1n), /uint256 range/);
  assert.throws(() => faultLeaf(1, 0, randomAccount(1), 1n << 96n, false), /uint96 range/);
  assert.throws(() => faultLeaf(-1, 0, randomAccount(1), 1n, false), /bad epoch/);
  assert.throws(() => faultLeaf(1, 2 ** 32, randomAccount(1), 1n, false), /bad index/);
  const tree = buildTree([rewardLeaf(randomAccount(1), 1n)]);
  assert.throws(() => tree.proof(1), /out of range/);
  assert.deepEqual(tree.proof(0), []);
});
