import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { encodeAbiParameters, keccak256, bytesToHex, getAddress, toBytes, type Address, type Hex } from 'viem';
import { LICENSE_REWARD_TAG, buildTree, faultLeaf, licenseRewardLeaf, rewardLeaf } from '../src/core/merkle.js';

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
  assert.equal(bytesToHex(faultLeaf(7, 0, nodeKey, 1000n, true)), reference.leafHash(values[0]!));
});

test('license reward leaves match the standard leaf encoding of (bytes32 tag, uint256 tokenId, uint256 cumulative)', () => {
  const tag = keccak256(toBytes('SendingNetwork.LicenseReward'));
  assert.equal(bytesToHex(LICENSE_REWARD_TAG), tag);
  const values: [Hex, bigint, bigint][] = [
    [tag, 1n, 100n * 10n ** 18n],
    [tag, 0n, 0n],
    [tag, 2n ** 256n - 1n, 2n ** 256n - 1n],
    [tag, 4242n, 82_191_780_821_917_808_219_178n],
  ];
  const reference = StandardMerkleTree.of(values, ['bytes32', 'uint256', 'uint256']);
  for (const [i, v] of values.entries()) {
    assert.equal(bytesToHex(licenseRewardLeaf(v[1], v[2])), reference.leafHash(v), `leaf ${i}`);
  }
  const tree = buildTree(values.map(([, id, c]) => licenseRewardLeaf(id, c)));
  assert.equal(tree.root, reference.root);
  for (let i = 0; i < values.length; i++) assert.deepEqual(tree.proof(i), reference.getProof(i));
  // known vector, also checked by test/watchdog/LicenseRewards.t.sol (test_licenseRewardLeaf_knownVector)
  assert.equal(
    bytesToHex(licenseRewardLeaf(1n, 100n * 10n ** 18n)),
    '0xa0e4cd9ef6f84a759354443cf90c52448ecdfc6d5d68c43da04f6a75733d5b2e',
  );
});

test('license leaves and account leaves share one tree and never collide', () => {
  const accounts = [randomAccount(1), randomAccount(2)];
  const leaves = [
    rewardLeaf(accounts[0]!, 5n),
    licenseRewardLeaf(BigInt(accounts[0]!), 5n),
    rewardLeaf(accounts[1]!, 7n),
    licenseRewardLeaf(7n, 7n),
  ];
  const hexes = new Set(leaves.map((l) => bytesToHex(l)));
  assert.equal(hexes.size, leaves.length);
  const tree = buildTree(leaves);
  assert.equal(tree.proof(1).length, 2);
});

test('bad inputs are rejected with a message naming them', () => {
  assert.throws(() => buildTree([]), /at least one leaf/);
  assert.throws(() => rewardLeaf(randomAccount(1), -1n), /uint256 range/);
  assert.throws(() => faultLeaf(1, 0, randomAccount(1), 1n << 96n, false), /uint96 range/);
  assert.throws(() => licenseRewardLeaf(-1n, 1n), /uint256 range/);
  assert.throws(() => licenseRewardLeaf(1n, 1n << 256n), /uint256 range/);
  assert.throws(() => faultLeaf(-1, 0, randomAccount(1), 1n, false), /bad epoch/);
  assert.throws(() => faultLeaf(1, 2 ** 32, randomAccount(1), 1n, false), /bad index/);
  const tree = buildTree([rewardLeaf(randomAccount(1), 1n)]);
  assert.throws(() => tree.proof(1), /out of range/);
  assert.deepEqual(tree.proof(0), []);
});
