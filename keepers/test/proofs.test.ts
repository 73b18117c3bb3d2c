/**
 * The pure rules that make relay proofs unforgeable (issue 11, findings 1 and 2): a commitment counts only
 * with a quorum of guardian attestations (M − T + 1 distinct members of the guardian set) and within the
 * leaf bound (totalUnits ≤ leafCount × 64); an opening whose sibling sums more than its subtree can hold
 * is fraud; equivocation stays objective without attestations.
 */
import { test } from 'node:test';
import { FAULT_BELOW_MIN_AVAILABILITY } from '../src/core/scoring.js';
import assert from 'node:assert/strict';
import type { Address, Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { attestationQuorum, guardianThreshold, signHashWith, withinLeafBound } from '../src/core/attestation.js';
import { openingsDigest } from '../src/core/openingsProof.js';
import { nodeStakingDomain, signCommitment, signedCommitmentToWire } from '../src/core/commitment.js';
import { datasetFromParts, evaluateEpoch, type EpochEvaluation } from '../src/core/dataset.js';
import { buildSumTree, verifySumPath } from '../src/core/sumTree.js';
import { sampleTargets } from '../src/core/sampling.js';
import { mergeOpenings } from '../src/keeper/handlers/openings.js';
import type { KeeperEnv } from '../src/keeper/handlers/env.js';
import { missingCommitment, observedButNotCounted, uncountedCommitment } from '../src/guardian/ownView.js';
import { attest, buildFixture, commitmentOf, rand32, signOpenings, treeOf } from './helpers/epochFixture.js';

const node = (e: EpochEvaluation, key: string) => e.perNode.find((n) => n.nodeKey === key)!;

test('attestation quorum is M − T + 1 with T = ⌊2M/3⌋ + 1', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 10].map((m) => [guardianThreshold(m), attestationQuorum(m)]),
    [
      [1, 1],
      [2, 1],
      [3, 1],
      [3, 2],
      [4, 2],
      [5, 2],
      [5, 3],
      [7, 4],
    ],
  );
});

test('leaf bound: totalUnits ≤ leafCount × 64', () => {
  assert.equal(withinLeafBound({ totalUnits: 640n, leafCount: 10n }), true);
  assert.equal(withinLeafBound({ totalUnits: 641n, leafCount: 10n }), false);
  assert.equal(withinLeafBound({ totalUnits: 1n, leafCount: 0n }), false);
});

test('a commitment attested by fewer than q guardians does not count: no volume, no strike', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest'], attestors: 2 });
  const e = await evaluateEpoch(f.dataset);
  for (const n of f.nodes) {
    const r = node(e, n.nodeKey);
    assert.equal(r.openings, 'no-commitment');
    assert.equal(r.verifiedUnits, 0n);
    // no fault leaf (no slash, no strike); only the availability flag: without a counted commitment its
    // WatchDogs' results have no receipts to prove them
    assert.equal(r.faults, FAULT_BELOW_MIN_AVAILABILITY);
  }
  assert.equal(e.header.faultCount, 0);
  const reasons = e.rejected.filter((x) => x.kind === 'commitment').map((x) => x.reason);
  assert.equal(reasons.length, 2);
  for (const reason of reasons) assert.match(reason, /attested by 2 guardians, needs 3/);

  const three = await buildFixture({ behaviours: ['honest'], attestors: 3 });
  const e3 = await evaluateEpoch(three.dataset);
  assert.equal(node(e3, three.nodes[0]!.nodeKey).openings, 'ok');
  assert.ok(node(e3, three.nodes[0]!.nodeKey).verifiedUnits > 0n);
});

test('attestations by non-members, forged ones and repeats count nothing', async () => {
  const f = await buildFixture({ behaviours: ['honest'], attestors: 2 });
  const n = f.nodes[0]!;
  const domain = nodeStakingDomain(f.dataset.chainId, f.dataset.contracts.staking as Address);
  const outsiders = await attest(
    [generatePrivateKey(), generatePrivateKey()],
    f.dataset.chainId,
    f.dataset.contracts.settlement as Address,
    domain,
    n.nodeKey,
    n.commitment,
  );
  const members = f.dataset.commitments[0]!.attestations;
  // a member's name on an outsider's signature
  const forged = {
    guardian: f.dataset.guardianSet.find((g) => !members.some((m) => m.guardian === g))!,
    signature: outsiders[0]!.signature,
  };
  const withExtra = datasetFromParts({
    ...f.parts,
    commitments: [{ ...f.dataset.commitments[0]!, attestations: [...members, ...outsiders, forged] }],
  });
  const e = await evaluateEpoch(withExtra);
  assert.equal(node(e, n.nodeKey).openings, 'no-commitment');
  const reasons = e.rejected.map((x) => x.reason).join('\n');
  assert.match(reasons, /is not in the guardian set/);
  assert.match(reasons, /does not recover to it/);
  assert.match(reasons, /attested by 2 guardians, needs 3/);
  // a guardian listed twice counts once
  const twice = datasetFromParts({
    ...f.parts,
    commitments: [{ ...f.dataset.commitments[0]!, attestations: [...members, members[0]!] }],
  });
  assert.equal(node(await evaluateEpoch(twice), n.nodeKey).openings, 'no-commitment');
});

test('equivocation is objective without any attestation', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'equivocate'], attestors: 0 });
  const e = await evaluateEpoch(f.dataset);
  const r = node(e, f.nodes[1]!.nodeKey);
  assert.equal(r.openings, 'equivocated');
  assert.ok(r.faults > 0);
  assert.equal(e.header.faultCount, 1);
});

test('a commitment beyond the leaf bound (unopenable filler weight) does not count', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest'] });
  const n = f.nodes[1]!;
  // one genuine receipt per leaf plus one filler leaf of 2^40 units: totalUnits > leafCount × 64
  const tree = treeOf(n.receipts, [{ hash: rand32(), units: 1n << 40n }]);
  const commitment = commitmentOf(f.dataset.epoch, tree);
  assert.equal(withinLeafBound(commitment), false);
  const domain = nodeStakingDomain(f.dataset.chainId, f.dataset.contracts.staking as Address);
  const signed = {
    ...signedCommitmentToWire({
      commitment,
      signature: await signCommitment(n.privateKey, domain, commitment),
      nodeKey: n.nodeKey,
    }),
    attestations: await attest(
      f.guardianKeys,
      f.dataset.chainId,
      f.dataset.contracts.settlement as Address,
      domain,
      n.nodeKey,
      commitment,
    ),
  };
  const d = datasetFromParts({
    ...f.parts,
    commitments: [f.dataset.commitments.find((c) => c.nodeKey !== n.nodeKey)!, signed],
    openings: f.parts.openings.filter((o) => o.nodeKey !== n.nodeKey),
  });
  const e = await evaluateEpoch(d);
  const r = node(e, n.nodeKey);
  assert.equal(r.openings, 'no-commitment');
  assert.equal(r.verifiedUnits, 0n);
  assert.match(e.rejected.map((x) => x.reason).join('\n'), /exceeds leafCount \d+ × 64/);
});

test('a sibling summing more than its subtree can hold is fraud', () => {
  const leaves = [
    { hash: rand32() as Hex, units: 3n },
    { hash: rand32() as Hex, units: 1000n }, // filler: no receipt carries more than 64 units
    { hash: rand32() as Hex, units: 5n },
    { hash: rand32() as Hex, units: 7n },
  ];
  const tree = buildSumTree(leaves);
  const input = {
    leafHash: leaves[0]!.hash,
    units: 3n,
    index: 0,
    siblings: tree.openingPath(0),
    root: tree.root,
    totalUnits: tree.totalUnits,
    leafCount: 4,
    target: 1n,
  };
  assert.deepEqual(verifySumPath(input), { ok: true }, 'without the bound the path verifies');
  const verdict = verifySumPath({ ...input, maxLeafUnits: 64n });
  assert.equal(verdict.ok, false);
  assert.equal(verdict.ok === false && verdict.reason, 'sibling-over-capacity');
  // leaf 2's siblings: leaf 3 (7 ≤ 64) and the subtree of leaves 0–1 (1003 > 128)
  const v2 = verifySumPath({
    ...input,
    leafHash: leaves[2]!.hash,
    units: 5n,
    index: 2,
    siblings: tree.openingPath(2),
    target: 1003n,
    maxLeafUnits: 64n,
  });
  assert.equal(v2.ok === false && v2.reason, 'sibling-over-capacity');
  assert.match(v2.ok === false ? v2.detail : '', /sibling 1 sums 1003 > 128/);
});

test('silence strikes only when q guardians signed it; fewer: no volume, no strike', async () => {
  const few = await buildFixture({ behaviours: ['honest', 'silent'], silenceAttestors: 2 });
  const e = await evaluateEpoch(few.dataset);
  const r = node(e, few.nodes[1]!.nodeKey);
  assert.equal(r.openings, 'unobserved');
  assert.equal(r.verifiedUnits, 0n);
  assert.equal(r.faults, 0);
  assert.equal(e.header.faultCount, 0);
  assert.match(e.rejected.find((x) => x.id === few.nodes[1]!.nodeKey)!.reason, /silence seen by 2 verifiers, needs 3/);
  const enough = await buildFixture({ behaviours: ['honest', 'silent'], silenceAttestors: 3 });
  const e3 = await evaluateEpoch(enough.dataset);
  assert.equal(node(e3, enough.nodes[1]!.nodeKey).openings, 'silent');
  assert.equal(e3.header.faultCount, 1, 'a strike');
  // the keeper's word alone (no silence signatures, or no entry at all) strikes nobody
  const bare = datasetFromParts({
    ...enough.parts,
    openings: enough.parts.openings.map((o) =>
      o.status === 'silent' ? { nodeKey: o.nodeKey, status: 'silent' as const } : o,
    ),
  });
  assert.equal(node(await evaluateEpoch(bare), enough.nodes[1]!.nodeKey).openings, 'unobserved');
  const none = datasetFromParts({
    ...enough.parts,
    openings: enough.parts.openings.filter((o) => o.status !== 'silent'),
  });
  assert.equal((await evaluateEpoch(none)).header.faultCount, 0);
});

test('openings count against a node only when it signed them: a one-field change is unattributable, not fraud', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest'] });
  const victim = f.nodes[1]!;
  const framed = structuredClone(f.dataset);
  const entry = framed.openings.find((o) => o.nodeKey === victim.nodeKey)!;
  const first = entry.openings![0]!;
  first.siblings[0] = { ...first.siblings[0]!, sum: (BigInt(first.siblings[0]!.sum) + 1n).toString() };
  const e = await evaluateEpoch(framed);
  const r = node(e, victim.nodeKey);
  assert.equal(r.openings, 'unattributed');
  assert.equal(r.faults, 0, 'no slash, no strike');
  assert.equal(e.header.faultCount, 0);
  assert.match(e.rejected.find((x) => x.id === victim.nodeKey)!.reason, /openings not signed by the node/);
  // the node's own signature over a bad opening is fraud
  const domain = nodeStakingDomain(f.dataset.chainId, f.dataset.contracts.staking as Address);
  entry.signature = await signOpenings(
    victim.privateKey,
    domain,
    framed.epoch,
    victim.commitment,
    framed.seed.value as Hex,
    victim.nodeKey,
    framed.parameters.k,
    entry.openings!,
  );
  const signedBad = await evaluateEpoch(framed);
  assert.equal(node(signedBad, victim.nodeKey).openings, 'fraud');
  // a signature over other targets than the seeded ones is not the node's answer to the samples
  const honest = f.dataset.openings.find((o) => o.nodeKey === victim.nodeKey)!;
  const otherTargets = structuredClone(f.dataset);
  otherTargets.openings.find((o) => o.nodeKey === victim.nodeKey)!.signature = await signHashWith(
    victim.privateKey,
    openingsDigest(domain, f.dataset.epoch, victim.commitment.root, [0n], honest.openings!),
  );
  assert.equal(node(await evaluateEpoch(otherTargets), victim.nodeKey).openings, 'unattributed');
});

test('a node the keeper cannot reach but the guardians can is ok, not silent (keeper merge of guardian observations)', async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest'] });
  const d = f.dataset;
  const n = f.nodes[1]!;
  const env = {
    book: {
      chainId: d.chainId,
      contracts: { NodeStaking: d.contracts.staking, EpochSettlement: d.contracts.settlement },
    },
    consensus: { k: d.parameters.k },
  } as unknown as KeeperEnv;
  const entry = d.openings.find((o) => o.nodeKey === n.nodeKey)!;
  const targets = sampleTargets(d.seed.value as Hex, n.nodeKey, n.commitment.totalUnits, d.parameters.k).map(String);
  const keeperSawNothing = new Map([
    [n.nodeKey, { nodeKey: n.nodeKey, status: 'silent' as const, reason: 'ECONNREFUSED' }],
  ]);
  const guardianSawAnswer = [
    {
      status: 'signed' as const,
      nodeKey: n.nodeKey,
      root: n.commitment.root,
      openings: entry.openings!,
      signature: entry.signature!,
    },
  ];
  const [merged] = await mergeOpenings(
    env,
    d.epoch,
    [{ nodeKey: n.nodeKey, root: n.commitment.root, targets }],
    keeperSawNothing,
    [[], guardianSawAnswer],
    d.guardianSet,
  );
  assert.equal(merged!.status, 'ok');
  const e = await evaluateEpoch(
    datasetFromParts({ ...f.parts, openings: [...f.parts.openings.filter((o) => o.nodeKey !== n.nodeKey), merged!] }),
  );
  assert.equal(node(e, n.nodeKey).openings, 'ok');
  assert.equal(node(e, n.nodeKey).faults, 0);
  // a forged "signed" observation (not the node's signature) is not taken; with no silence signatures the
  // keeper's silence alone strikes nobody
  const forged = [{ ...guardianSawAnswer[0]!, signature: `0x${'11'.repeat(65)}` }];
  const [silent] = await mergeOpenings(
    env,
    d.epoch,
    [{ nodeKey: n.nodeKey, root: n.commitment.root, targets }],
    keeperSawNothing,
    [forged],
    d.guardianSet,
  );
  assert.equal(silent!.status, 'silent');
  assert.deepEqual(silent!.silenceAttestations, []);
  const e2 = await evaluateEpoch(
    datasetFromParts({ ...f.parts, openings: [...f.parts.openings.filter((o) => o.nodeKey !== n.nodeKey), silent!] }),
  );
  assert.equal(node(e2, n.nodeKey).openings, 'unobserved');
  assert.equal(node(e2, n.nodeKey).faults, 0);
});

test("a guardian's own view: attested commitments must be present and count, signed openings must not be hidden", async () => {
  const f = await buildFixture({ behaviours: ['honest', 'honest'] });
  const d = f.dataset;
  const me = d.commitments[0]!.attestations[0]!;
  const attested = d.commitments.map((c) => ({
    commitment: c.commitment,
    signature: c.signature,
    nodeKey: c.nodeKey,
    attestation: c.attestations.find((a) => a.guardian === me.guardian)!,
    receivedAtMs: 0,
  }));
  const e = await evaluateEpoch(d);
  assert.equal(missingCommitment(attested, d), null);
  assert.equal(uncountedCommitment(attested, e, d, me.guardian), null);
  // the keeper drops one commitment: refused, naming the node
  const dropped = datasetFromParts({ ...f.parts, commitments: d.commitments.slice(1) });
  assert.equal(missingCommitment(attested, dropped)?.nodeKey, d.commitments[0]!.nodeKey);
  // the keeper keeps it but strips the attestations below the quorum, this guardian's among them: refused
  const others = (c: (typeof d.commitments)[number]) => c.attestations.filter((a) => a.guardian !== me.guardian);
  const stripped = datasetFromParts({
    ...f.parts,
    commitments: d.commitments.map((c, i) => (i === 0 ? { ...c, attestations: others(c).slice(0, 2) } : c)),
  });
  assert.equal(missingCommitment(attested, stripped), null);
  assert.equal(
    uncountedCommitment(attested, await evaluateEpoch(stripped), stripped, me.guardian),
    d.commitments[0]!.nodeKey,
  );
  // below the quorum with this guardian's attestation included (the others saw it late or were down): no
  // keeper could change that, so the guardian signs
  const short = datasetFromParts({
    ...f.parts,
    commitments: d.commitments.map((c, i) => (i === 0 ? { ...c, attestations: [me, ...others(c).slice(0, 1)] } : c)),
  });
  const shortEvaluation = await evaluateEpoch(short);
  assert.equal(shortEvaluation.perNode.find((n) => n.nodeKey === d.commitments[0]!.nodeKey)!.committed, false);
  assert.equal(uncountedCommitment(attested, shortEvaluation, short, me.guardian), null);
  // openings this guardian got signed: not silent, not missing, not tampered
  const victim = f.nodes[1]!.nodeKey;
  const entry = d.openings.find((o) => o.nodeKey === victim)!;
  const observed = [
    {
      status: 'signed' as const,
      nodeKey: victim,
      root: f.nodes[1]!.commitment.root,
      openings: entry.openings!,
      signature: entry.signature!,
    },
  ];
  assert.equal(observedButNotCounted(observed, e), null);
  const silenced = datasetFromParts({
    ...f.parts,
    openings: f.parts.openings.map((o) => (o.nodeKey === victim ? { nodeKey: victim, status: 'silent' as const } : o)),
  });
  assert.deepEqual(observedButNotCounted(observed, await evaluateEpoch(silenced)), {
    nodeKey: victim,
    outcome: 'unobserved',
  });
  const missing = datasetFromParts({ ...f.parts, openings: f.parts.openings.filter((o) => o.nodeKey !== victim) });
  assert.notEqual(observedButNotCounted(observed, await evaluateEpoch(missing)), null, 'no entry at all: refused too');
  const tampered = structuredClone(d);
  const t = tampered.openings.find((o) => o.nodeKey === victim)!.openings![0]!;
  t.index += 1;
  assert.deepEqual(observedButNotCounted(observed, await evaluateEpoch(tampered)), {
    nodeKey: victim,
    outcome: 'unattributed',
  });
});
