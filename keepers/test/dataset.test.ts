/**
 * evaluateEpoch on realistic datasets (real Ed25519 receipts, sum trees, EIP-712 commitments, WatchDog
 * commits and signed transcripts): honest nodes earn volume and availability; an inflated node, an
 * equivocating node and a silent node get the fault leaves the rules give; bad WatchDog items are rejected
 * with a reason; structural garbage throws a RangeError naming the field; the result does not depend on
 * the order of the dataset's lists; the dataset hash is canonical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import {
  canonicalJson,
  datasetFromParts,
  datasetHash,
  evaluateEpoch,
  parseEpochDataset,
  type EpochDataset,
  type EpochEvaluation,
} from '../src/core/dataset.js';
import { FAULT_EQUIVOCATION, FAULT_OPENINGS_FAILED, FAULT_SLASHED } from '../src/core/scoring.js';
import { hashPair, licenseRewardLeaf, rewardLeaf } from '../src/core/merkle.js';
import { signTranscript } from '../src/core/watchdogSchedule.js';
import { buildFixture, clone, rand32, signOpenings, type Fixture } from './helpers/epochFixture.js';
import { nodeStakingDomain } from '../src/core/commitment.js';

const node = (e: EpochEvaluation, key: string) => e.perNode.find((n) => n.nodeKey === key)!;
const faultOf = (e: EpochEvaluation, key: string) => e.result.faults.find((f) => f.nodeKey === key);

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out.length > 1 && out.every((x, i) => x === items[i]) ? [...out.slice(1), out[0]!] : out;
}

let honest: Fixture;

test('honest nodes: all openings verify, volume estimated from samples, availability from WatchDogs', async () => {
  honest = await buildFixture({ behaviours: ['honest', 'honest', 'honest', 'honest'] });
  const e = await evaluateEpoch(honest.dataset);
  assert.deepEqual(e.rejected, []);
  assert.equal(e.header.faultCount, 0);
  assert.equal(e.header.faultRoot, `0x${'0'.repeat(64)}`);
  assert.equal(e.header.dataHash, datasetHash(honest.dataset));
  assert.equal(e.header.seed, honest.dataset.seed.value);
  assert.equal(e.header.epoch, honest.dataset.epoch);
  for (const n of honest.nodes) {
    const r = node(e, n.nodeKey);
    assert.equal(r.openings, 'ok', `${n.nodeKey}: ${r.reason}`);
    assert.equal(r.committed, true);
    const estimated = r.estimatedVolume.reduce((a, v) => a + v.units, 0n);
    assert.ok(
      estimated > 0n && estimated <= n.commitment.totalUnits,
      `estimate ${estimated} of ${n.commitment.totalUnits}`,
    );
    assert.ok(r.verifiedUnits > 0n, 'verified units credited');
    assert.equal(r.assignedWatchdogs.length, 4, 'm = 5, but the fixture has only 4 operators (and holders)');
    assert.equal(r.watchdogRatios.length, 4);
    assert.equal(r.availability, 1_000_000);
    assert.equal(r.score, 1_000_000);
    assert.ok(r.reward > 0n);
    assert.equal(r.faults, 0);
  }
  // Everything is paid: node share + guardian share = emission.
  assert.equal(e.result.undistributed, 0n);
  assert.equal(e.header.totalCumulative, e.result.totalCumulative);
  assert.equal(e.header.totalCumulative, 5n * 10n ** 18n + BigInt(honest.dataset.parameters.epochEmission));
  assert.deepEqual(
    e.eligibleLicenses,
    ['0', '1', '2', '3', '4'].filter((id) => e.perNode.some((n) => n.assignedWatchdogs.includes(id))),
  );
  // The scoring input is what scoring.ts got: one entry per node with its samples.
  assert.equal(e.scoringInput.nodes.length, 4);
});

test('a node with fake leaves is caught: fraud fault leaf with fraudSlash and a strike, zero volume', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'inflated', 'honest'] });
  const e = await evaluateEpoch(f.dataset);
  const bad = f.nodes[1]!.nodeKey;
  const r = node(e, bad);
  assert.equal(r.openings, 'fraud');
  assert.match(r.reason!, /root-mismatch|target-not-in-leaf|ack-ticket-mismatch/);
  assert.equal(r.verifiedUnits, 0n);
  assert.equal(r.reward, 0n, 'caught forging: no stake share either (docs/protocol.md §7.1)');
  assert.equal(r.score, 0);
  assert.ok(r.faults & FAULT_OPENINGS_FAILED && r.faults & FAULT_SLASHED);
  const fault = faultOf(e, bad)!;
  assert.equal(fault.amount, BigInt(f.dataset.parameters.fraudSlash));
  assert.equal(fault.strike, true);
  assert.equal(e.header.faultCount, 1);
  assert.deepEqual(
    e.rejected.map((x) => [x.kind, x.id]),
    [['openings', bad]],
  );
  for (const i of [0, 2]) assert.ok(node(e, f.nodes[i]!.nodeKey).verifiedUnits > 0n, 'honest nodes keep their volume');
});

test('a silent node earns nothing and gets a strike without a slash; a malformed answer likewise; no commitment: no fault, no reward', async () => {
  const f = await buildFixture({ behaviours: ['silent', 'honest', 'malformed', 'no-commit'] });
  const e = await evaluateEpoch(f.dataset);
  for (const i of [0, 2]) {
    const key = f.nodes[i]!.nodeKey;
    assert.equal(node(e, key).openings, i === 0 ? 'silent' : 'malformed');
    assert.equal(node(e, key).verifiedUnits, 0n);
    assert.equal(node(e, key).reward, 0n, 'a commitment it does not open earns nothing (docs/protocol.md §7.1)');
    assert.deepEqual(faultOf(e, key), {
      epoch: f.dataset.epoch,
      index: faultOf(e, key)!.index,
      nodeKey: key,
      amount: 0n,
      strike: true,
    });
  }
  const absent = node(e, f.nodes[3]!.nodeKey);
  assert.equal(absent.openings, 'no-commitment');
  assert.equal(absent.verifiedUnits, 0n);
  assert.equal(faultOf(e, f.nodes[3]!.nodeKey), undefined, 'not committing is no fault');
  // Its WatchDogs' "ok" results have no receipt to prove them (no commitment to open): no availability.
  assert.equal(absent.reward, 0n, 'without a commitment nothing proves its availability');
  assert.equal(e.header.faultCount, 2);
});

test('two different signed commitments: equivocation fault, no reward', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'equivocate'] });
  const e = await evaluateEpoch(f.dataset);
  const key = f.nodes[1]!.nodeKey;
  const r = node(e, key);
  assert.equal(r.equivocated, true);
  assert.equal(r.openings, 'equivocated');
  assert.equal(r.reward, 0n);
  assert.ok(r.faults & FAULT_EQUIVOCATION);
  assert.deepEqual(faultOf(e, key), {
    epoch: f.dataset.epoch,
    index: 0,
    nodeKey: key,
    amount: BigInt(f.dataset.parameters.equivocationSlash),
    strike: true,
  });
});

test('one ticket at two leaves is fraud', async () => {
  const f = await buildFixture({ behaviours: ['duplicate-leaf'] });
  const e = await evaluateEpoch(f.dataset);
  assert.equal(node(e, f.nodes[0]!.nodeKey).openings, 'fraud');
  assert.match(node(e, f.nodes[0]!.nodeKey).reason!, /also opened at leaf/);
});

test('commitments that do not verify are rejected with a reason and never count', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest'] });
  const d = clone(f.dataset);
  const a = f.nodes[0]!,
    b = f.nodes[1]!;
  const byA = d.commitments.find((c) => c.nodeKey === a.nodeKey)!;
  // b's commitment claimed by a different key; a commitment of an unknown node; a wrong-epoch one.
  const forged = { ...clone(d.commitments.find((c) => c.nodeKey === b.nodeKey)!), nodeKey: a.nodeKey };
  const stranger = { ...clone(byA), nodeKey: `0x${'77'.repeat(20)}` };
  const otherEpoch = { ...clone(byA), commitment: { ...byA.commitment, epoch: d.epoch + 1 } };
  d.commitments.push(forged, stranger, otherEpoch);
  const e = await evaluateEpoch(d);
  const reasons = e.rejected.filter((x) => x.kind === 'commitment').map((x) => x.reason);
  assert.equal(reasons.length, 3);
  assert.ok(reasons.some((r) => /recovers to/.test(r)));
  assert.ok(reasons.some((r) => /not an Active node/.test(r)));
  assert.ok(reasons.some((r) => /for epoch/.test(r)));
  assert.equal(node(e, a.nodeKey).equivocated, false, 'a forged second commitment is not equivocation evidence');
  assert.equal(node(e, a.nodeKey).openings, 'ok');
});

test('a receipt whose key is no longer active credits nothing but is not fraud', async () => {
  const f = await buildFixture({ behaviours: ['honest'], devices: 3 });
  const d = clone(f.dataset);
  const revoked = f.devices[0]!;
  d.keys = d.keys.map((k) => (k.key === revoked.key.publicKey ? { ...k, active: false } : k));
  const before = await evaluateEpoch(f.dataset);
  const after = await evaluateEpoch(d);
  const r = node(after, f.nodes[0]!.nodeKey);
  assert.equal(r.openings, 'ok');
  assert.equal(after.header.faultCount, 0);
  assert.ok(!r.estimatedVolume.some((v) => v.senderDid === revoked.did.toString()), 'no credit to the revoked sender');
  assert.ok(r.verifiedUnits < node(before, f.nodes[0]!.nodeKey).verifiedUnits);
});

test('bad WatchDog items are rejected with a reason and their samples are not used', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest', 'honest'], watchdogs: 6, watchdogOperators: 6 });
  const base = await evaluateEpoch(f.dataset);
  const used = [...new Set(base.perNode.flatMap((n) => n.assignedWatchdogs))];
  assert.ok(used.length >= 4, 'at least four WatchDogs assigned');
  const [wrongSecret, extra, missing, badSig] = used.map((id) => f.watchdogs.find((w) => w.tokenId.toString() === id)!);
  const d = clone(f.dataset);
  const at = (w: typeof wrongSecret) => d.transcripts.findIndex((t) => t.transcript.tokenId === w!.tokenId.toString());
  const resign = async (
    w: typeof wrongSecret,
    change: (t: EpochDataset['transcripts'][number]['transcript']) => void,
  ) => {
    const t = clone(d.transcripts[at(w)]!.transcript);
    change(t);
    d.transcripts[at(w)] = await signTranscript(w!.privateKey, {
      ...t,
      results: t.results.map((r) => ({ ...r, node: r.node as Address, envelopeId: r.envelopeId as Hex })),
    } as never);
  };
  await resign(wrongSecret, (t) => (t.secret = rand32()));
  await resign(extra, (t) => t.results.push({ ...t.results[0]!, node: `0x${'ff'.repeat(20)}` }));
  await resign(missing, (t) => t.results.pop());
  d.transcripts[at(badSig)] = {
    ...d.transcripts[at(badSig)]!,
    signature: (await signTranscript(generatePrivateKey(), d.transcripts[at(badSig)]!.transcript as never)).signature,
  };
  const e = await evaluateEpoch(datasetFromParts({ ...f.parts, transcripts: d.transcripts }));
  const reasonOf = (w: typeof wrongSecret) =>
    e.rejected.find((x) => x.kind === 'transcript' && x.id.startsWith(`${w!.tokenId}#`))?.reason ?? '';
  assert.match(reasonOf(wrongSecret), /secret-does-not-open-commit/);
  assert.match(reasonOf(extra), /unassigned-node/);
  assert.match(reasonOf(missing), /missing-result/);
  assert.match(reasonOf(badSig), /signature recovers to/);
  for (const n of e.perNode) {
    for (const w of [wrongSecret, extra, missing, badSig]) {
      assert.ok(
        !n.watchdogRatios.some((x) => x.tokenId === w!.tokenId.toString()),
        `${w!.tokenId} sample used for ${n.nodeKey}`,
      );
    }
  }
  for (const w of [wrongSecret, extra, missing, badSig]) assert.ok(!e.eligibleLicenses.includes(w!.tokenId.toString()));
});

test('a WatchDog commit with a wrong signature drops the license from the assignment', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest'], watchdogs: 4, watchdogOperators: 4 });
  const d = clone(f.dataset);
  d.watchdogs[0] = { ...d.watchdogs[0]!, commit: rand32() };
  const e = await evaluateEpoch(d);
  assert.ok(
    e.rejected.some(
      (x) => x.kind === 'watchdog-commit' && x.id === `${d.watchdogs[0]!.tokenId}#0` && /recovers to/.test(x.reason),
    ),
  );
  assert.ok(e.rejected.some((x) => x.kind === 'transcript' && /no valid commit/.test(x.reason)));
  for (const n of e.perNode) assert.ok(!n.assignedWatchdogs.includes(d.watchdogs[0]!.tokenId));
});

test('partial availability: the median of the WatchDogs’ success ratios', async () => {
  // Node 0: every WatchDog sees 3 of 4 challenges succeed → A = 0.75 < aMin → score 0.
  const f = await buildFixture({ behaviours: ['honest', 'honest'], challengeOk: (n, _t, i) => !(n === 0 && i === 0) });
  const e = await evaluateEpoch(f.dataset);
  assert.equal(node(e, f.nodes[0]!.nodeKey).availability, 750_000);
  assert.equal(node(e, f.nodes[0]!.nodeKey).score, 0);
  assert.equal(node(e, f.nodes[0]!.nodeKey).reward, 0n);
  assert.equal(node(e, f.nodes[1]!.nodeKey).availability, 1_000_000);
});

test('structural garbage throws a RangeError naming the field', async () => {
  const d = (honest ?? (await buildFixture({ behaviours: ['honest'] }))).dataset;
  const cases: [unknown, RegExp][] = [
    [{ ...d, nodes: [{ ...d.nodes[0], stake: 'lots' }] }, /nodes\[0\]\.stake/],
    [
      { ...d, nodes: [{ ...d.nodes[0], nodeKey: d.nodes[0]!.nodeKey.toUpperCase().replace('0X', '0x') }] },
      /nodes\[0\]\.nodeKey/,
    ],
    [{ ...d, nodes: [d.nodes[0], d.nodes[0]] }, /nodes\[1\]: duplicate node/],
    [{ ...d, commitDeadline: d.commitDeadline + 1 }, /commitDeadline/],
    [{ ...d, seed: { ...d.seed, value: rand32() } }, /seed\.value/],
    [{ ...d, assignSeed: { ...d.assignSeed, value: rand32() } }, /assignSeed\.value/],
    [{ ...d, parameters: { ...d.parameters, k: 0 } }, /parameters\.k/],
    [{ ...d, version: 1 }, /version/],
    [{ ...d, extra: 1 }, /\(root\)|extra/],
    [{ ...d, signersPaid: [`0x${'12'.repeat(20)}`] }, /signersPaid\[0\]/],
    [{ ...d, openings: [{ nodeKey: d.nodes[0]!.nodeKey, status: 'ok' }] }, /openings\[0\]\.openings/],
    [
      {
        ...d,
        transcripts: [
          { transcript: { ...d.transcripts[0]!.transcript, secret: 'x' }, signature: d.transcripts[0]!.signature },
        ],
      },
      /transcripts\[0\]\.transcript\.secret/,
    ],
    [null, /\(root\)/],
  ];
  for (const [raw, field] of cases) {
    await assert.rejects(evaluateEpoch(raw), (error: unknown) => {
      assert.ok(error instanceof RangeError, `not a RangeError: ${error}`);
      assert.match(error.message, field);
      return true;
    });
  }
});

test('the evaluation does not depend on list order; the canonical dataset hash does not either', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'inflated', 'silent', 'equivocate', 'honest'] });
  const d = f.dataset;
  const reordered: EpochDataset = {
    ...clone(d),
    nodes: shuffled(d.nodes),
    keys: shuffled(d.keys),
    watchdogs: shuffled(d.watchdogs),
    commitments: shuffled(d.commitments),
    openings: shuffled(d.openings),
    transcripts: shuffled(d.transcripts),
    guardianSet: shuffled(d.guardianSet),
    signersPaid: shuffled(d.signersPaid),
  };
  assert.notEqual(canonicalJson(reordered), canonicalJson(d));
  const dataHash = datasetHash(d);
  const a = await evaluateEpoch(d, { dataHash });
  const b = await evaluateEpoch(reordered, { dataHash });
  assert.deepEqual(b.header, a.header);
  assert.deepEqual(b.perNode, a.perNode);
  assert.deepEqual(b.result, a.result);
  assert.deepEqual(b.rejected.map((x) => x.reason).sort(), a.rejected.map((x) => x.reason).sort());
  // datasetFromParts puts any order back into the canonical one.
  assert.equal(
    datasetHash(
      datasetFromParts({ ...f.parts, nodes: shuffled(f.parts.nodes), transcripts: shuffled(f.parts.transcripts) }),
    ),
    dataHash,
  );
  assert.equal(datasetHash(parseEpochDataset(JSON.parse(canonicalJson(d)))), dataHash, 'round trip through JSON');
});

test('canonical JSON: the fast path equals the reference; non-JSON values are refused naming the path', async () => {
  const { canonicalJsonReference, CanonicalJsonError } = await import('../src/core/canonicalJson.js');
  const docs: unknown[] = [
    { b: 1, a: [{ d: 'x', c: null }, 2.5, -0, 'null'], e: { g: true, f: false, h: undefined } },
    { '10': 1, '9': 2, a: 3 },
    [],
    'text "quoted" \u2028',
    (await buildFixture({ behaviours: ['honest', 'silent'] })).dataset,
  ];
  for (const d of docs) assert.equal(canonicalJson(d), canonicalJsonReference(d));
  assert.equal(canonicalJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
  assert.equal(canonicalJson({ '10': 1, '9': 2 }), '{"10":1,"9":2}', 'keys in code-unit order, integer-like or not');
  for (const [bad, path] of [
    [{ a: [1, undefined] }, /\$\.a\[1\]/],
    [{ a: 1n }, /\$\.a/],
    [{ a: NaN }, /\$\.a/],
    [{ a: new Date(0) }, /\$\.a: Date/],
    [undefined, /\$/],
  ] as const) {
    assert.throws(
      () => canonicalJson(bad),
      (e: unknown) => e instanceof CanonicalJsonError && path.test(e.message),
    );
  }
});

test('tampered items never make evaluateEpoch throw: every flipped hex digit in a signed item is caught', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest', 'equivocate'], watchdogs: 4 });
  const base = await evaluateEpoch(f.dataset);
  // Every hex string inside the signed items, by path.
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (typeof v === 'string' && /^0x[0-9a-f]+$/.test(v) && v.length > 2) paths.push(path);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) if (k !== 'owner') walk(x, [...path, k]); // owner: a chain fact
  };
  for (const field of ['commitments', 'openings', 'watchdogs', 'transcripts'] as const) walk(f.dataset[field], [field]);
  assert.ok(paths.length > 500);
  let changed = 0;
  for (let n = 0; n < 40; n++) {
    const path = paths[Math.floor(Math.random() * paths.length)]!;
    const d = clone(f.dataset) as unknown as Record<string | number, any>;
    let holder = d;
    for (const p of path.slice(0, -1)) holder = holder[p];
    const last = path.at(-1)!;
    const s = holder[last] as string;
    const at = 2 + Math.floor(Math.random() * (s.length - 2));
    holder[last] = s.slice(0, at) + ((parseInt(s[at]!, 16) + 1) % 16).toString(16) + s.slice(at + 1);
    const e = await evaluateEpoch(d, { dataHash: base.header.dataHash }); // must not throw
    if (e.header.rewardRoot !== base.header.rewardRoot || e.rejected.length > base.rejected.length) changed++;
  }
  assert.equal(changed, 40, `only ${changed} of 40 tampered datasets changed the outcome`);
});

test('a wrong number of openings is malformed (strike, no slash); openings from a node that did not commit are ignored', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'no-commit'] });
  const d = clone(f.dataset);
  const a = f.nodes[0]!,
    b = f.nodes[1]!;
  const entry = d.openings.find((o) => o.nodeKey === a.nodeKey)!;
  entry.openings = entry.openings!.slice(1);
  // cut by someone else, the answer is no longer the node's
  assert.equal(node(await evaluateEpoch(d), a.nodeKey).openings, 'unattributed');
  // signed so by the node itself, it is the node's malformed answer
  const domain = nodeStakingDomain(d.chainId, d.contracts.staking as Address);
  entry.signature = await signOpenings(
    a.privateKey,
    domain,
    d.epoch,
    a.commitment,
    d.seed.value as Hex,
    a.nodeKey,
    d.parameters.k,
    entry.openings,
  );
  d.openings.push({ nodeKey: b.nodeKey, status: 'silent' });
  const e = await evaluateEpoch(d);
  assert.equal(node(e, a.nodeKey).openings, 'malformed');
  assert.match(node(e, a.nodeKey).reason!, /31 openings for 32 samples/);
  assert.deepEqual(faultOf(e, a.nodeKey), { epoch: d.epoch, index: 0, nodeKey: a.nodeKey, amount: 0n, strike: true });
  assert.equal(node(e, b.nodeKey).openings, 'no-commitment');
  assert.equal(faultOf(e, b.nodeKey), undefined);
  assert.ok(
    e.rejected.some((x) => x.kind === 'openings' && x.id === b.nodeKey && /no openings expected/.test(x.reason)),
  );
});

// ------------------------------------------------------------------------------------- license rewards

const SEND = 10n ** 18n;

function verifies(leaf: Uint8Array, proof: readonly Hex[], root: Hex): boolean {
  let node = leaf;
  for (const sibling of proof) node = hashPair(node, hexToBytes(sibling));
  return bytesToHex(node) === root;
}

test('license rewards: eligible licenses share the license emission by scheduled challenges; their leaves verify under the reward root', async () => {
  const f = await buildFixture({
    behaviours: ['honest', 'honest', 'honest', 'honest'],
    watchdogs: 6,
    watchdogOperators: 6,
  });
  const e = await evaluateEpoch(f.dataset);
  assert.deepEqual(e.rejected, []);
  const L = BigInt(f.dataset.parameters.licenseEmission);
  const perNode = f.dataset.parameters.challengesPerNode;

  // weights: challengesPerNode for every node a license was assigned (its accepted transcript covers them all)
  const assignedCount = (id: string) => e.perNode.filter((n) => n.assignedWatchdogs.includes(id)).length;
  const expected = e.eligibleLicenses.map((id) => ({ tokenId: BigInt(id), scheduled: perNode * assignedCount(id) }));
  assert.ok(expected.length >= 2 && expected.every((x) => x.scheduled > 0));
  assert.deepEqual(
    [...(e.scoringInput.licenses ?? [])].sort((a, b) => (a.tokenId < b.tokenId ? -1 : 1)),
    expected,
  );
  const weight = expected.reduce((sum, x) => sum + BigInt(x.scheduled), 0n);
  assert.deepEqual(
    e.result.licenseRewards,
    expected.map((x) => ({ tokenId: x.tokenId, amount: (L * BigInt(x.scheduled)) / weight })),
  );
  const paid = e.result.licenseRewards.reduce((sum, x) => sum + x.amount, 0n);
  assert.equal(e.result.licenseRewardTotal, paid);
  assert.equal(e.result.licenseUndistributed, L - paid);
  assert.ok(L - paid < BigInt(expected.length), 'the remainder is less than one wei per license');

  // the fixture's previous license leaf (token 0, 2 SEND) is carried, plus its share when it earned one
  const share = (id: bigint) => e.result.licenseRewards.find((x) => x.tokenId === id)?.amount ?? 0n;
  const cumulativeOf = (id: bigint) => e.result.licenseCumulative.find((x) => x.tokenId === id)?.cumulative;
  assert.equal(cumulativeOf(0n), 2n * SEND + share(0n));
  for (const x of expected) if (x.tokenId !== 0n) assert.equal(cumulativeOf(x.tokenId), share(x.tokenId));

  // the header: totalCumulative is the account leaves only (previous 5 SEND + this epoch's emission)
  assert.equal(
    e.header.totalCumulative,
    e.result.cumulative.reduce((sum, c) => sum + c.cumulative, 0n),
  );
  assert.equal(e.header.totalCumulative, 5n * SEND + BigInt(f.dataset.parameters.epochEmission));
  assert.equal(e.header.epochEmission, BigInt(f.dataset.parameters.epochEmission));

  // every leaf of both types verifies under the header's reward root
  const tree = e.trees.rewardTree!;
  assert.equal(tree.leafCount, e.result.cumulative.length + e.result.licenseCumulative.length);
  e.result.cumulative.forEach((c, i) =>
    assert.ok(verifies(rewardLeaf(c.account, c.cumulative), tree.proof(i), e.header.rewardRoot)),
  );
  e.result.licenseCumulative.forEach((l, i) => {
    const proof = tree.proof(e.trees.licenseLeafOffset + i);
    assert.ok(verifies(licenseRewardLeaf(l.tokenId, l.cumulative), proof, e.header.rewardRoot), `license ${l.tokenId}`);
  });
});

test('colluding WatchDogs: one holder judges a node once, lies do not move the median and are not paid', async () => {
  const behaviours: 'honest'[] = ['honest', 'honest', 'honest', 'honest'];
  // License 0 reports every node it judges down (zeroing honest nodes).
  const lying = await buildFixture({
    behaviours,
    watchdogs: 6,
    watchdogOperators: 6,
    challengeOk: (_n, tokenId) => tokenId !== 0n,
  });
  const e = await evaluateEpoch(lying.dataset);
  const judged = e.perNode.filter((n) => n.assignedWatchdogs.includes('0'));
  assert.ok(judged.length >= 2, 'license 0 judges most nodes (5 of 6 licenses per node)');
  for (const n of judged) {
    assert.equal(n.availability, 1_000_000, 'one liar among five cannot move the median');
    assert.ok(n.reward > 0n);
    assert.ok(e.rejected.some((r) => r.kind === 'transcript' && r.id === `0@${n.nodeKey}` && /outlier/.test(r.reason)));
  }
  const weight = (id: bigint) => e.scoringInput.licenses?.find((l) => l.tokenId === id)?.scheduled ?? 0;
  const assigned = (id: string) => e.perNode.filter((n) => n.assignedWatchdogs.includes(id)).length;
  const perNode = lying.dataset.parameters.challengesPerNode;
  assert.equal(weight(0n), 0, 'license 0 is paid for none of the nodes it lied about');
  for (const t of [1n, 2n, 3n, 4n, 5n]) assert.equal(weight(t), perNode * assigned(t.toString()), `license ${t}`);
  const reward = (id: bigint) => e.result.licenseRewards.find((x) => x.tokenId === id)?.amount ?? 0n;
  assert.equal(reward(0n), 0n, 'lying earns less than reporting the truth');
  for (const t of [1n, 2n, 3n, 4n, 5n]) assert.ok(reward(t) > 0n);

  // Two licenses of one holder are never both assigned to a node.
  const pair = await buildFixture({
    behaviours,
    watchdogList: [0, 1, 2, 3, 4, 5, 6].map((t) => ({
      tokenId: BigInt(t),
      privateKey: generatePrivateKey(),
      ...(t >= 5 ? { owner: '0x00000000000000000000000000000000000000c0' as const } : {}),
    })),
  });
  const paired = await evaluateEpoch(pair.dataset);
  for (const n of paired.perNode) {
    assert.equal(n.assignedWatchdogs.length, 5);
    assert.ok(
      !(n.assignedWatchdogs.includes('5') && n.assignedWatchdogs.includes('6')),
      `${n.nodeKey}: both of one holder`,
    );
  }
});

test('a license whose transcript is rejected earns nothing this epoch and keeps its previous cumulative', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest', 'honest'], watchdogs: 5, watchdogOperators: 5 });
  const base = await evaluateEpoch(f.dataset);
  const loser = base.eligibleLicenses[0]!;
  const previousLicenseCumulative = [
    { tokenId: BigInt(loser), cumulative: 40n * SEND },
    { tokenId: 99n, cumulative: 1n }, // a license that did not take part at all
  ];
  const d = datasetFromParts({
    ...f.parts,
    transcripts: f.dataset.transcripts.filter((t) => t.transcript.tokenId !== loser),
    previousLicenseCumulative,
  });
  const e = await evaluateEpoch(d);
  assert.ok(!e.eligibleLicenses.includes(loser));
  assert.ok(!e.result.licenseRewards.some((x) => x.tokenId === BigInt(loser)));
  assert.ok(e.result.licenseRewards.length > 0, 'the other licenses are paid');
  const cumulativeOf = (id: bigint) => e.result.licenseCumulative.find((x) => x.tokenId === id)?.cumulative;
  assert.equal(cumulativeOf(BigInt(loser)), 40n * SEND);
  assert.equal(cumulativeOf(99n), 1n);
  // ascending by token id, numerically
  const ids = e.result.licenseCumulative.map((x) => x.tokenId);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => (a < b ? -1 : 1)),
  );
});

test('license dataset fields: canonical order, chain-decided emission, structural errors name the field', async () => {
  const f = honest ?? (await buildFixture({ behaviours: ['honest'] }));
  // datasetFromParts sorts the previous license leaves numerically and accepts a map
  const fromList = datasetFromParts({
    ...f.parts,
    previousLicenseCumulative: [
      { tokenId: 10n, cumulative: 1n },
      { tokenId: 9n, cumulative: 2n },
    ],
  });
  assert.deepEqual(fromList.previousLicenseCumulative, [
    { tokenId: '9', cumulative: '2' },
    { tokenId: '10', cumulative: '1' },
  ]);
  const fromMap = datasetFromParts({
    ...f.parts,
    previousLicenseCumulative: new Map([
      [10n, 1n],
      [9n, 2n],
    ]),
  });
  assert.equal(datasetHash(fromMap), datasetHash(fromList));
  assert.equal(fromList.parameters.licenseEmission, '82191780821917808219178');

  const d = f.dataset;
  const cases: [unknown, RegExp][] = [
    [
      {
        ...d,
        previousLicenseCumulative: [
          { tokenId: '1', cumulative: '1' },
          { tokenId: '1', cumulative: '2' },
        ],
      },
      /previousLicenseCumulative\[1\]: duplicate license 1/,
    ],
    [
      { ...d, previousLicenseCumulative: [{ tokenId: '01', cumulative: '1' }] },
      /previousLicenseCumulative\[0\]\.tokenId/,
    ],
    [
      { ...d, previousLicenseCumulative: [{ tokenId: '1', cumulative: (1n << 96n).toString() }] },
      /previousLicenseCumulative\[0\]\.cumulative: must fit in uint96/,
    ],
    [
      { ...d, previousLicenseCumulative: [{ tokenId: '1', cumulative: ((1n << 96n) - 1n).toString() }] },
      /previousLicenseCumulative: sum plus licenseEmission exceeds uint96/,
    ],
    [{ ...d, previousLicenseCumulative: undefined }, /previousLicenseCumulative/],
    [{ ...d, parameters: { ...d.parameters, licenseEmission: 'lots' } }, /parameters\.licenseEmission/],
    [{ ...d, parameters: { ...d.parameters, licenseEmission: undefined } }, /parameters\.licenseEmission/],
    [{ ...d, contracts: { ...d.contracts, licenseRewards: undefined } }, /contracts\.licenseRewards/],
  ];
  for (const [raw, field] of cases) {
    await assert.rejects(evaluateEpoch(raw), (error: unknown) => {
      assert.ok(error instanceof RangeError, `not a RangeError: ${error}`);
      assert.match(error.message, field);
      return true;
    });
  }
});

test('WatchDog "ok" is evidence: without the node\'s receipt it proves nothing, vouches for nobody and is not paid', async () => {
  const behaviours: 'honest'[] = ['honest', 'honest', 'honest', 'honest'];
  // License 0 never sends a challenge and reports every one "ok"; node 3 is offline (delivers nothing) and
  // its honest WatchDogs report that.
  const f = await buildFixture({
    behaviours,
    watchdogs: 6,
    watchdogOperators: 6,
    challengeOk: (n, tokenId) => n !== 3 || tokenId === 0n,
    delivered: (n, tokenId) => n !== 3 && tokenId !== 0n,
  });
  const e = await evaluateEpoch(f.dataset);
  const offline = e.perNode.find((n) => n.nodeKey === f.nodes[3]!.nodeKey)!;
  assert.equal(offline.availability, 0, 'a claimed "ok" without a receipt does not make an offline node available');
  for (const n of e.perNode.filter((x) => x.nodeKey !== offline.nodeKey))
    assert.equal(n.availability, 1_000_000, "the honest WatchDogs' receipts prove the others up");
  const weight = (id: bigint) => e.scoringInput.licenses?.find((l) => l.tokenId === id)?.scheduled ?? 0;
  assert.equal(weight(0n), 0, 'the lazy license is paid for nothing');
  assert.ok(
    e.rejected.some((r) => r.kind === 'transcript' && r.id.startsWith('0@') && /outlier|unproven/.test(r.reason)),
  );
  const perNode = f.dataset.parameters.challengesPerNode;
  const assigned = (id: string) => e.perNode.filter((n) => n.assignedWatchdogs.includes(id)).length;
  for (const t of [1n, 2n, 3n, 4n, 5n])
    assert.equal(weight(t), perNode * assigned(t.toString()), `license ${t} is paid for every result it proved`);
  const reward = (id: bigint) => e.result.licenseRewards.find((x) => x.tokenId === id)?.amount ?? 0n;
  assert.equal(reward(0n), 0n);
});

test('a WatchDog that reports a delivered challenge failed is contradicted by the receipt and forfeits the epoch', async () => {
  const f = await buildFixture({
    behaviours: ['honest', 'honest', 'honest'],
    watchdogs: 6,
    watchdogOperators: 6,
    challengeOk: (_n, tokenId, i) => !(tokenId === 1n && i === 0),
    delivered: () => true,
  });
  const e = await evaluateEpoch(f.dataset);
  // 5 of the 6 licenses judge each node: license 1 judges at least two of the three.
  const judged = e.perNode.filter((n) => n.assignedWatchdogs.includes('1'));
  assert.ok(judged.length >= 2);
  const node0 = judged[0]!;
  for (const n of judged) assert.equal(n.availability, 1_000_000, 'the node proved every delivery');
  const weight = (id: bigint) => e.scoringInput.licenses?.find((l) => l.tokenId === id)?.scheduled ?? 0;
  assert.equal(weight(1n), 0, "one contradicted result forfeits the license's whole epoch");
  assert.ok(
    e.rejected.some((r) => r.kind === 'transcript' && r.id === `1@${node0.nodeKey}` && /contradicted/.test(r.reason)),
  );
  assert.equal(e.result.licenseRewards.find((x) => x.tokenId === 1n)?.amount ?? 0n, 0n);
  for (const t of [0n, 2n, 3n, 4n, 5n]) if (weight(t) === 0) assert.ok(!e.eligibleLicenses.includes(t.toString()));
});

test("challenge receipts count only when they verify against the node's counted commitment", async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest', 'honest'], watchdogs: 5, watchdogOperators: 5 });
  const target = f.nodes[0]!.nodeKey;
  const entry = f.dataset.challengeOpenings.find((c) => c.nodeKey === target)!;
  assert.ok(entry.openings.length > 0, 'the fixture node opened its challenge receipts');
  // A keeper dropping them takes the node's availability away (the guardians' own view refuses that).
  const dropped = await evaluateEpoch(
    datasetFromParts({
      ...f.parts,
      challengeOpenings: f.dataset.challengeOpenings.filter((c) => c.nodeKey !== target),
    }),
  );
  assert.equal(dropped.perNode.find((n) => n.nodeKey === target)!.availability, 0);
  const { unprovenChallenges } = await import('../src/guardian/ownView.js');
  const unproven = unprovenChallenges(
    datasetFromParts({
      ...f.parts,
      challengeOpenings: f.dataset.challengeOpenings.filter((c) => c.nodeKey !== target),
    }),
    dropped,
  );
  assert.deepEqual(
    unproven.get(target)?.envelopeIds,
    entry.openings.map((o) => o.ticket.envelopeId).sort(),
    'the guardian asks the node for exactly the dropped receipts',
  );
  // A forged receipt (another ack signature) or a path to another root proves nothing and is named.
  const forged = clone(f.parts.challengeOpenings!) as {
    nodeKey: string;
    openings: { ack: { sig: string }; siblings: { sum: string }[] }[];
  }[];
  const mine = forged.find((c) => c.nodeKey === target)!;
  mine.openings[0]!.ack.sig = `0x${'11'.repeat(64)}`;
  if (mine.openings[1]) mine.openings[1].siblings[0]!.sum = '999';
  const e = await evaluateEpoch(datasetFromParts({ ...f.parts, challengeOpenings: forged }));
  const problems = e.rejected.filter((r) => r.kind === 'challenge-opening' && r.id.startsWith(`${target}@`));
  assert.equal(problems.length, mine.openings[1] ? 2 : 1);
  // A node without a counted commitment: its receipts prove nothing.
  const noCommit = await evaluateEpoch(
    datasetFromParts({ ...f.parts, commitments: f.dataset.commitments.filter((c) => c.nodeKey !== target) }),
  );
  assert.ok(noCommit.rejected.some((r) => r.kind === 'challenge-opening' && r.id === target));
  assert.equal(noCommit.perNode.find((n) => n.nodeKey === target)!.availability, 0);
});
