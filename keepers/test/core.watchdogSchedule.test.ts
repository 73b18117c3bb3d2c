/**
 * WatchDog commits, schedules and transcripts: hashes against an independent encoder (ethers), EIP-191
 * signatures recovered by ethers, and every acceptance rule of `checkTranscript`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbiCoder, getBytes, keccak256 as ethersKeccak, verifyMessage } from 'ethers';
import { encodeAbiParameters, keccak256, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  WatchdogFormatError,
  challengeEnvelopeId,
  challengeOffsets,
  checkTranscript,
  parseSignedTranscript,
  parseWatchdogCommitMessage,
  recoverTranscriptSigner,
  recoverWatchdogCommitSigner,
  signTranscript,
  signWatchdogCommit,
  transcriptHash,
  watchdogCommit,
  watchdogSchedule,
  type Transcript,
  type TranscriptExpectation,
  type TranscriptResult,
} from '../src/core/watchdogSchedule.js';

const abi = AbiCoder.defaultAbiCoder();
const h = (label: string, i: number): Hex =>
  keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], [label, BigInt(i)]));
const addr = (i: number): Address => h('addr', i).slice(0, 42) as Address;
const SECRET = h('secret', 1);
const EPOCH_START = 1_700_000_000;
const DURATION = 20;
const TIMEOUT = 5;

test('commit and challenge offsets equal an independent abi.encode (ethers)', () => {
  assert.equal(
    watchdogCommit(17n, 3, SECRET),
    ethersKeccak(abi.encode(['string', 'uint256', 'uint32', 'bytes32'], ['SN-WD-1', 17n, 3, SECRET])),
  );
  const node = addr(1);
  const offsets = challengeOffsets(SECRET, node, 16, DURATION, TIMEOUT);
  assert.equal(offsets.length, 16);
  assert.deepEqual(
    offsets.map((o) => o.i).sort((a, b) => a - b),
    [...Array(16).keys()],
  );
  for (const { i, offset } of offsets) {
    assert.equal(
      offset,
      Number(
        BigInt(ethersKeccak(abi.encode(['bytes32', 'address', 'uint32'], [SECRET, node, i]))) %
          BigInt(DURATION - TIMEOUT),
      ),
    );
    assert.ok(offset >= 0 && offset < DURATION - TIMEOUT);
  }
  for (let k = 1; k < offsets.length; k++) {
    const [a, b] = [offsets[k - 1]!, offsets[k]!];
    assert.ok(a.offset < b.offset || (a.offset === b.offset && a.i < b.i), 'sorted by offset, ties by i');
  }
  assert.throws(() => challengeOffsets(SECRET, node, 4, 5, 5), /epochDuration > challenge timeout/);
  const schedule = watchdogSchedule(SECRET, [addr(2), addr(1), addr(2)], 4, DURATION, TIMEOUT);
  assert.equal(schedule.length, 8, 'duplicate nodes are scheduled once');
  for (let k = 1; k < schedule.length; k++) assert.ok(schedule[k - 1]!.offset <= schedule[k]!.offset);
});

test('commit messages and transcripts are personal_sign-ed and recover to the operator', async () => {
  const key = generatePrivateKey();
  const operator = privateKeyToAccount(key).address;
  const message = await signWatchdogCommit(key, 17n, 3, SECRET);
  const parsed = parseWatchdogCommitMessage(JSON.parse(JSON.stringify(message)));
  assert.equal(await recoverWatchdogCommitSigner(parsed), operator.toLowerCase());
  assert.equal(verifyMessage(getBytes(message.commit), message.signature), operator, 'ethers recovers the same signer');
  assert.throws(() => parseWatchdogCommitMessage({ ...message, tokenId: 17 }), /tokenId/);

  const transcript: Transcript = {
    tokenId: '17',
    epoch: 3,
    secret: SECRET,
    results: [
      { node: addr(2), i: 0, at: 1, envelopeId: h('env', 0), ok: true, latencyMs: 12 },
      { node: addr(1), i: 0, at: 2, envelopeId: h('env', 1), ok: false, latencyMs: 0 },
    ],
  };
  const signed = await signTranscript(privateKeyToAccount(key), transcript);
  assert.equal(
    signed.transcript.results[0]!.node,
    [addr(1), addr(2)].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0],
    'canonical order',
  );
  const roundTrip = parseSignedTranscript(JSON.parse(JSON.stringify(signed)));
  assert.equal(await recoverTranscriptSigner(roundTrip.transcript, roundTrip.signature), operator.toLowerCase());
  const expectedHash = ethersKeccak(
    abi.encode(
      ['string', 'uint256', 'uint32', 'bytes32', 'tuple(address,uint32,uint64,bytes32,bool,uint32)[]'],
      [
        'SN-WD-TRANSCRIPT-1',
        17n,
        3,
        SECRET,
        signed.transcript.results.map((r) => [r.node, r.i, r.at, r.envelopeId, r.ok, r.latencyMs]),
      ],
    ),
  );
  assert.equal(transcriptHash(signed.transcript), expectedHash);
  assert.equal(verifyMessage(getBytes(expectedHash), signed.signature), operator);
  // any change to the transcript changes the recovered signer
  const tampered = { ...signed.transcript, results: signed.transcript.results.map((r) => ({ ...r, ok: true })) };
  assert.notEqual(await recoverTranscriptSigner(tampered, signed.signature), operator.toLowerCase());
  assert.throws(
    () => parseSignedTranscript({ ...signed, transcript: { ...signed.transcript, epoch: '3' } }),
    WatchdogFormatError,
  );
});

test('challengeEnvelopeId: keccak256(abi.encode("SN-WD-ENVELOPE-1", secret, node, i)), per node and index', () => {
  const abi = AbiCoder.defaultAbiCoder();
  const node = addr(5);
  assert.equal(
    challengeEnvelopeId(SECRET, node, 2),
    ethersKeccak(abi.encode(['string', 'bytes32', 'address', 'uint32'], ['SN-WD-ENVELOPE-1', SECRET, node, 2])),
  );
  assert.notEqual(challengeEnvelopeId(SECRET, node, 2), challengeEnvelopeId(SECRET, node, 3));
  assert.notEqual(challengeEnvelopeId(SECRET, node, 2), challengeEnvelopeId(SECRET, addr(6), 2));
  assert.notEqual(challengeEnvelopeId(SECRET, node, 2), challengeEnvelopeId(h('secret', 9), node, 2));
  assert.throws(() => challengeEnvelopeId(SECRET, node, -1), RangeError);
  assert.throws(() => challengeEnvelopeId('0x12', node, 0), RangeError);
});

/** An honest transcript of `nodes` × `count` challenges, sent on schedule; `fails(node, i)` marks misses. */
function honestTranscript(
  nodes: Address[],
  count: number,
  fails: (node: Address, i: number) => boolean = () => false,
): Transcript {
  const results: TranscriptResult[] = [];
  for (const node of nodes) {
    for (const { i, offset } of challengeOffsets(SECRET, node, count, DURATION, TIMEOUT)) {
      const ok = !fails(node, i);
      results.push({
        node,
        i,
        at: (EPOCH_START + offset) * 1000 + 250,
        envelopeId: challengeEnvelopeId(SECRET, node, i),
        ok,
        latencyMs: ok ? 10 + i : 0,
      });
    }
  }
  return {
    tokenId: '17',
    epoch: 3,
    secret: SECRET,
    results: results.sort((a, b) =>
      BigInt(a.node) < BigInt(b.node) ? -1 : BigInt(a.node) > BigInt(b.node) ? 1 : a.i - b.i,
    ),
  };
}

test('checkTranscript: ratios and latencies per node for an exact schedule', () => {
  const nodes = [addr(1), addr(2), addr(3)];
  const failing = addr(2);
  const t = honestTranscript(nodes, 4, (node, i) => node === failing && i % 2 === 1);
  const expected: TranscriptExpectation = {
    commit: watchdogCommit(17n, 3, SECRET),
    nodes,
    count: 4,
    epochDurationSeconds: DURATION,
    timeoutSeconds: TIMEOUT,
    tokenId: 17n,
    epoch: 3,
    epochStartSeconds: EPOCH_START,
  };
  const result = checkTranscript(t, expected);
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.nodes.get(addr(1)), { scheduled: 4, ok: 4, successRatio: 1, latenciesMs: [10, 11, 12, 13] });
  assert.deepEqual(result.nodes.get(failing), { scheduled: 4, ok: 2, successRatio: 0.5, latenciesMs: [10, 12] });
  assert.equal(result.nodes.size, 3);
  // no assignment, no results: accepted, empty
  const none = checkTranscript({ ...t, results: [] }, { ...expected, nodes: [] });
  assert.ok(none.ok && none.nodes.size === 0);
});

test('checkTranscript names each reason to refuse a transcript', () => {
  const nodes = [addr(1), addr(2)];
  const t = honestTranscript(nodes, 3);
  const expected: TranscriptExpectation = {
    commit: watchdogCommit(17n, 3, SECRET),
    nodes,
    count: 3,
    epochDurationSeconds: DURATION,
    timeoutSeconds: TIMEOUT,
    tokenId: 17n,
    epoch: 3,
    epochStartSeconds: EPOCH_START,
  };
  const reason = (tr: Transcript, change: Partial<TranscriptExpectation> = {}) => {
    const result = checkTranscript(tr, { ...expected, ...change });
    return result.ok ? 'ok' : result.reason;
  };
  const withResults = (f: (r: TranscriptResult[]) => TranscriptResult[]) => ({
    ...t,
    results: f(t.results.map((r) => ({ ...r }))),
  });
  assert.equal(reason(t), 'ok');
  assert.equal(reason(t, { tokenId: 18n }), 'wrong-token');
  assert.equal(reason(t, { epoch: 4 }), 'wrong-epoch');
  assert.equal(reason({ ...t, secret: h('secret', 2) }), 'secret-does-not-open-commit');
  assert.equal(reason(t, { commit: watchdogCommit(17n, 4, SECRET) }), 'secret-does-not-open-commit');
  assert.equal(reason(withResults((r) => [...r].reverse())), 'results-out-of-order');
  assert.equal(
    reason(withResults((r) => [...r, { ...r[r.length - 1]!, node: '0xffffffffffffffffffffffffffffffffffffffff' }])),
    'unassigned-node',
  );
  assert.equal(reason(t, { nodes: [nodes[0]!] }), 'unassigned-node');
  assert.equal(
    reason(withResults((r) => [...r.slice(0, 2), { ...r[2]!, i: 3 }, ...r.slice(3)])),
    'bad-challenge-index',
  );
  assert.equal(reason(withResults((r) => [r[0]!, r[0]!, ...r.slice(1)])), 'duplicate-result');
  assert.equal(reason(withResults((r) => r.slice(1))), 'missing-result');
  assert.equal(reason(t, { nodes: [...nodes, addr(9)] }), 'missing-result');
  assert.equal(
    reason(withResults((r) => r.map((x, k) => (k === 1 ? { ...x, latencyMs: TIMEOUT * 1000 + 1 } : x)))),
    'latency-exceeds-timeout',
  );
  assert.equal(reason(withResults((r) => r.map((x, k) => (k === 0 ? { ...x, at: x.at - 1000 } : x)))), 'off-schedule');
  // a result about another envelope than the one its secret fixes (e.g. some ordinary message's)
  assert.equal(
    reason(withResults((r) => r.map((x, k) => (k === 1 ? { ...x, envelopeId: h('other', 1) } : x)))),
    'wrong-envelope-id',
  );
  assert.equal(
    reason(withResults((r) => r.map((x, k) => (k === 1 ? { ...x, envelopeId: r[0]!.envelopeId } : x)))),
    'wrong-envelope-id',
  );
  assert.equal(
    reason(withResults((r) => r.map((x, k) => (k === 0 ? { ...x, at: x.at + TIMEOUT * 1000 } : x)))),
    'off-schedule',
  );
  // without an epoch start the send times are not checked
  assert.equal(
    reason(
      withResults((r) => r.map((x) => ({ ...x, at: 0 }))),
      { epochStartSeconds: undefined },
    ),
    'ok',
  );
  const result = checkTranscript({ ...t, secret: h('secret', 2) }, expected);
  assert.ok(!result.ok && /does not open commit/.test(result.detail));
});
