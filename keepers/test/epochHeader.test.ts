import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, encodeAbiParameters, keccak256, type Address } from 'viem';
import { encodeScoreChunk, scoresHashChain, SCORES_END, type NodeScore } from '../src/core/epochHeader.js';

const NODE_SCORE_TUPLE = {
  type: 'tuple[]',
  components: [
    { name: 'nodeKey', type: 'address' },
    { name: 'rank', type: 'uint32' },
    { name: 'score', type: 'uint32' },
    { name: 'availability', type: 'uint32' },
    { name: 'latencyP50Ms', type: 'uint32' },
    { name: 'latencyP95Ms', type: 'uint32' },
    { name: 'verifiedUnits', type: 'uint64' },
    { name: 'reward', type: 'uint96' },
    { name: 'faults', type: 'uint8' },
  ],
} as const;

function score(i: number): NodeScore {
  return {
    nodeKey: keccak256(encodeAbiParameters([{ type: 'uint256' }], [BigInt(i)])).slice(0, 42) as Address,
    rank: i + 1,
    score: (i * 7919) % 1_000_001,
    availability: 0xffffffff - i,
    latencyP50Ms: i,
    latencyP95Ms: 3 * i,
    verifiedUnits: (1n << 64n) - 1n - BigInt(i),
    reward: (1n << 96n) - 1n - BigInt(i) * 10n ** 18n,
    faults: i % 256,
  };
}

test('encodeScoreChunk writes exactly abi.encode(NodeScore[]) for 0, 1 and many records', () => {
  for (const n of [0, 1, 2, 37]) {
    const chunk = Array.from({ length: n }, (_, i) => score(i));
    assert.equal(
      bytesToHex(encodeScoreChunk(chunk)),
      encodeAbiParameters([NODE_SCORE_TUPLE], [chunk]),
      `chunk of ${n}`,
    );
  }
});

test('the scores hash chain links chunks to SCORES_END', () => {
  const scores = Array.from({ length: 25 }, (_, i) => score(i));
  const chain = scoresHashChain(scores, 10);
  assert.equal(chain.chunks.length, 3);
  assert.equal(chain.nexts[2], SCORES_END);
  const last = keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'bytes32' }],
      [keccak256(encodeAbiParameters([NODE_SCORE_TUPLE], [chain.chunks[2]!])), SCORES_END],
    ),
  );
  assert.equal(chain.nexts[1], last);
});

test('out-of-range fields are rejected naming the field', () => {
  assert.throws(() => encodeScoreChunk([{ ...score(1), faults: 256 }]), /NodeScore\.faults/);
  assert.throws(() => encodeScoreChunk([{ ...score(1), reward: 1n << 96n }]), /NodeScore\.reward/);
  assert.throws(() => encodeScoreChunk([{ ...score(1), verifiedUnits: -1n }]), /NodeScore\.verifiedUnits/);
  assert.throws(() => encodeScoreChunk([{ ...score(1), rank: 1.5 }]), /NodeScore\.rank/);
  assert.throws(() => encodeScoreChunk([{ ...score(1), nodeKey: '0x12' as Address }]), /nodeKey/);
  assert.throws(
    () => encodeScoreChunk([{ ...score(1), nodeKey: `0x${'zz'.repeat(20)}` as Address }]),
    /nodeKey is not hex/,
  );
  assert.throws(() => scoresHashChain([], 0), /chunk size/);
});
