/**
 * The devnet's per-epoch expectations (keepers/src/devnet/report.ts `checkEpoch`): what each behaviour of
 * the devnet's own population must cost, and nothing expected of a node someone else registered; points
 * mode's units and the points plan (network.ts `pointsPlan`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from 'viem';
import {
  FAULT_BELOW_MIN_AVAILABILITY,
  FAULT_EQUIVOCATION,
  FAULT_OPENINGS_FAILED,
  FAULT_SLASHED,
} from '../src/core/scoring.js';
import {
  checkCollusion,
  checkEpoch,
  misbehaviourLedger,
  renderEpochTable,
  renderMisbehaviourTable,
  type EpochReport,
  type NodeRow,
} from '../src/devnet/report.js';
import { generatePrivateKey } from 'viem/accounts';
import { evaluateEpoch } from '../src/core/dataset.js';
import { buildFixture } from './helpers/epochFixture.js';
import { DEVNET_POINTS_RATIO, pointsPlan, setupBoundSeconds } from '../src/devnet/network.js';

const key = (i: number) => `0x${i.toString(16).padStart(40, '0')}` as Address;
const row = (
  index: number,
  behaviour: NodeRow['behaviour'],
  reward: bigint,
  faults = 0,
  executed: NodeRow['executed'] = [],
): NodeRow => ({
  index,
  nodeKey: key(index + 100),
  behaviour,
  rank: index + 2,
  score: reward > 0n ? 1_000_000 : 0,
  availability: reward > 0n ? 1_000_000 : 250_000,
  verifiedUnits: behaviour === 'inflater' ? 0n : 10n,
  reward,
  faults,
  executed,
});

const caught = (rows: NodeRow[]): EpochReport => ({ epoch: 7, rows, faultCount: 1, faultsExecuted: 1 });

test('checkEpoch: each behaviour costs what the spec says; a node outside the population is shown but not judged', () => {
  const good = caught([
    row(0, 'honest', 10n),
    row(1, 'dropper', 0n, FAULT_BELOW_MIN_AVAILABILITY),
    row(2, 'inflater', 0n, FAULT_OPENINGS_FAILED | FAULT_SLASHED, [{ requested: 1n, slashed: 1n, strike: true }]),
    row(3, 'offline', 0n, FAULT_BELOW_MIN_AVAILABILITY),
    // joined with `sendnet node register` while the devnet ran, down for its first epoch
    row(-1, 'external', 0n, FAULT_BELOW_MIN_AVAILABILITY),
  ]);
  assert.deepEqual(checkEpoch(good, true), []);
  assert.match(
    renderEpochTable(good),
    /^\d+ +- 0x00000000 +external /m,
    'an external node is listed without a population index',
  );

  const bad = caught([
    row(0, 'honest', 0n, FAULT_BELOW_MIN_AVAILABILITY),
    row(1, 'dropper', 3n),
    row(2, 'inflater', 5n, 0),
    row(3, 'offline', 4n),
  ]);
  assert.deepEqual(checkEpoch(bad, true), [
    'epoch 7 node #0 (honest) earned nothing',
    'epoch 7 node #0 (honest) was penalised: below-min-availability',
    'epoch 7 node #1 (dropper) was paid 3 wei although it drops messages',
    'epoch 7 node #1 (dropper) was not caught below the availability floor',
    'epoch 7 node #2 (inflater) was paid 5 wei although it was caught forging openings',
    'epoch 7 node #2 (inflater) was not flagged for fraud (no faults)',
    'epoch 7 node #2 (inflater): its fraud fault was not executed with a slash and a strike',
    'epoch 7 node #3 (offline) was paid 4 wei although it went offline',
    'epoch 7 node #3 (offline) has no fault flags',
    'epoch 7 node #1 (dropper) netted +0.000000000000000003 SEND: reward 0.000000000000000003, slashed 0',
    'epoch 7 node #2 (inflater) netted +0.000000000000000005 SEND: reward 0.000000000000000005, slashed 0',
    'epoch 7 node #3 (offline) netted +0.000000000000000004 SEND: reward 0.000000000000000004, slashed 0',
  ]);
});

test('misbehaviour ledger: reward and slash side by side; a misbehaving node netting above zero fails the verdict', () => {
  const SEND = 10n ** 18n;
  const slashed = [{ requested: 1_000n * SEND, slashed: 1_000n * SEND, strike: true }];
  // before issue 12 §1: the forger was caught, slashed 1,000 and still paid 7,751 for the epoch
  const paidForger = caught([
    row(0, 'honest', 17_000n * SEND),
    row(2, 'inflater', 7_751n * SEND, FAULT_OPENINGS_FAILED | FAULT_SLASHED, slashed),
  ]);
  assert.deepEqual(misbehaviourLedger(paidForger), [
    {
      epoch: 7,
      index: 2,
      behaviour: 'inflater',
      reward: 7_751n * SEND,
      slashed: 1_000n * SEND,
      strikes: 1,
      net: 6_751n * SEND,
    },
  ]);
  assert.ok(
    checkEpoch(paidForger, true).includes('epoch 7 node #2 (inflater) netted +6751 SEND: reward 7751, slashed 1000'),
  );
  const now = caught([
    row(0, 'honest', 17_000n * SEND),
    row(2, 'inflater', 0n, FAULT_OPENINGS_FAILED | FAULT_SLASHED, slashed),
  ]);
  assert.deepEqual(checkEpoch(now, true), []);
  const table = renderMisbehaviourTable(misbehaviourLedger(now));
  assert.match(table, /^epoch +node +behaviour +reward SEND +slashed SEND +strikes +net SEND$/m);
  assert.match(table, /^7 +#2 +inflater +0 +1,000 +1 +−1,000$/m);
  // the equivocator: void commitments, no reward, equivocationSlash executed with a strike
  const equivocator = (reward: bigint, faults: number, executed: NodeRow['executed']) =>
    caught([row(0, 'honest', 17_000n * SEND), row(4, 'equivocator', reward, faults, executed)]);
  assert.deepEqual(checkEpoch(equivocator(0n, FAULT_EQUIVOCATION | FAULT_SLASHED, slashed), true), []);
  assert.deepEqual(checkEpoch(equivocator(3n, 0, []), true), [
    'epoch 7 node #4 (equivocator) was paid 3 wei although it signed two commitments',
    'epoch 7 node #4 (equivocator) was not flagged for equivocation (no faults)',
    'epoch 7 node #4 (equivocator): its equivocation fault was not executed with a slash and a strike',
    'epoch 7 node #4 (equivocator) netted +0.000000000000000003 SEND: reward 0.000000000000000003, slashed 0',
  ]);
  // a dropper paid anything is caught by the generic rule too, even if its own rule were missing
  const dropperPaid = caught([row(1, 'dropper', 2n * SEND, FAULT_BELOW_MIN_AVAILABILITY)]);
  assert.ok(checkEpoch(dropperPaid, true).some((p) => p.includes('netted +2 SEND')));
});

test('checkCollusion: two lying licenses of one holder gain nothing; a planted failure of each rule is named', async () => {
  const holder = '0x00000000000000000000000000000000000000c0' as const;
  const f = await buildFixture({
    behaviours: ['honest', 'honest', 'honest', 'honest'],
    watchdogList: [0, 1, 2, 3, 4, 5, 6].map((t) => ({
      tokenId: BigInt(t),
      privateKey: generatePrivateKey(),
      ...(t >= 5 ? { owner: holder } : {}),
    })),
    // licenses 5 and 6 (one holder) report every node down
    challengeOk: (_n, tokenId) => tokenId < 5n,
  });
  const e = await evaluateEpoch(f.dataset);
  // the victim: a node one of them judges (each node gets 5 of the 6 holders)
  const victim = e.perNode.find((n) => n.assignedWatchdogs.some((id) => id === '5' || id === '6'))!.nodeKey;
  const collusion = { licenses: [5n, 6n], victim, offline: new Set<string>() };
  const honest = checkCollusion(9, e, collusion);
  assert.deepEqual(honest.problems, []);
  assert.ok(honest.lies >= 1);

  // the outlier verdict missing: named
  const unflagged = { ...e, rejected: e.rejected.filter((r) => !/outlier/.test(r.reason)) };
  assert.match(
    checkCollusion(9, unflagged, collusion).problems.join('\n'),
    /lied about .* and was neither an outlier nor contradicted by the evidence/,
  );
  // The same lie about challenges the nodes did deliver: contradicted by their receipts, the licenses forfeit.
  const delivered = await buildFixture({
    behaviours: ['honest', 'honest', 'honest', 'honest'],
    watchdogList: f.watchdogs.map((w) => ({ tokenId: w.tokenId, privateKey: w.privateKey, owner: w.owner })),
    challengeOk: (_n, tokenId) => tokenId < 5n,
    delivered: () => true,
  });
  const contradicted = await evaluateEpoch(delivered.dataset);
  const target = contradicted.perNode.find((n) => n.assignedWatchdogs.some((id) => id === '5' || id === '6'))!.nodeKey;
  const verdict = checkCollusion(9, contradicted, { licenses: [5n, 6n], victim: target, offline: new Set<string>() });
  assert.deepEqual(verdict.problems, []);
  assert.ok(contradicted.rejected.some((r) => /^contradicted:/.test(r.reason)));
  for (const id of [5n, 6n])
    assert.equal(contradicted.result.licenseRewards.find((x) => x.tokenId === id)?.amount ?? 0n, 0n);
  // both licenses of the holder on one node: named
  const doubled = {
    ...e,
    perNode: e.perNode.map((n) =>
      n.nodeKey === victim ? { ...n, assignedWatchdogs: [...new Set([...n.assignedWatchdogs, '5', '6'])] } : n,
    ),
  };
  assert.match(checkCollusion(9, doubled, collusion).problems.join('\n'), /judged by 2 colluding licenses/);
  // a colluder paid above the best honest rate: named (one that was assigned somewhere: the holder's other
  // license may have judged every node it got)
  const active = ['5', '6'].find((id) => e.perNode.some((n) => n.watchdogRatios.some((r) => r.tokenId === id)))!;
  const overpaid = {
    ...e,
    result: {
      ...e.result,
      licenseRewards: [
        ...e.result.licenseRewards.filter((r) => r.tokenId !== BigInt(active)),
        { tokenId: BigInt(active), amount: 10n ** 30n },
      ],
    },
  };
  assert.match(
    checkCollusion(9, overpaid, collusion).problems.join('\n'),
    new RegExp(`colluding license ${active} earned .* more than any honest`),
  );
  // credited for more challenges than it scheduled on nodes it did not lie about: named
  const overweighted = {
    ...e,
    scoringInput: {
      ...e.scoringInput,
      licenses: [
        ...(e.scoringInput.licenses ?? []).filter((l) => l.tokenId !== BigInt(active)),
        { tokenId: BigInt(active), scheduled: 1_000_000 },
      ],
    },
  };
  assert.match(
    checkCollusion(9, overweighted, collusion).problems.join('\n'),
    new RegExp(`colluding license ${active} was credited 1000000 challenges, more than the \\d+ it scheduled`),
  );
});

test('points mode: tables show rewards in points, the ledger nets points at the conversion ratio', () => {
  const WEI = 10n ** 18n;
  const quarter = WEI / 4n; // 1 point = 0.25 SEND
  const slashed = [{ requested: 1_000n * WEI, slashed: 1_000n * WEI, strike: true }];
  const report = caught([
    row(0, 'honest', 17_000n * WEI),
    row(2, 'inflater', 3_000n * WEI, FAULT_OPENINGS_FAILED | FAULT_SLASHED, slashed),
  ]);
  assert.match(
    renderEpochTable(report, 'points'),
    /^rank +node +behaviour +availability +volume +score +reward points +faults$/m,
  );
  assert.match(renderEpochTable(report), /reward SEND/, 'SEND by default');
  // 3,000 points are worth 750 SEND: net −250 SEND, not +2,000
  const [entry] = misbehaviourLedger(report, quarter);
  assert.equal(entry!.net, -250n * WEI);
  assert.equal(misbehaviourLedger(report)[0]!.net, 2_000n * WEI);
  const table = renderMisbehaviourTable([entry!], 'points');
  assert.match(table, /^epoch +node +behaviour +reward points +slashed SEND +strikes +net SEND$/m);
  assert.match(table, /^7 +#2 +inflater +3,000 +1,000 +1 +−250$/m);
  // a paid forger fails the verdict in points mode too, its points counted in SEND
  const rich = caught([row(2, 'inflater', 8_000n * WEI, FAULT_OPENINGS_FAILED | FAULT_SLASHED, slashed)]);
  assert.ok(
    checkEpoch(rich, true, quarter).includes(
      'epoch 7 node #2 (inflater) netted +1000 SEND: reward 8000 points, slashed 1000',
    ),
  );
});

test('points plan: the last points epoch is the N-th epoch after a set-up within the bound', () => {
  // genesis now; set-up bound 126 s + 5 s lead → the epoch in progress is 7 (120..140 s), the first network epoch 8
  const plan = pointsPlan(1_000_000.7, 20, { epochs: 1, setupSeconds: 126 });
  assert.equal(plan.genesisTime, 1_000_000);
  assert.equal(plan.lastPointsEpoch, 8);
  assert.equal(plan.ratio, DEVNET_POINTS_RATIO);
  assert.equal(pointsPlan(1_000_000, 20, { epochs: 3, setupSeconds: 126, ratio: 7n }).lastPointsEpoch, 10);
  // set-up + lead ending at 140 s is in epoch 8 (140..160 s): the first network epoch is 9; a second less, 8
  assert.equal(pointsPlan(0, 20, { epochs: 1, setupSeconds: 135 }).lastPointsEpoch, 9);
  assert.equal(pointsPlan(0, 20, { epochs: 1, setupSeconds: 134 }).lastPointsEpoch, 8);
  assert.equal(setupBoundSeconds({ nodes: 6, watchdogs: 5, clients: 12 }), 126);
  assert.equal(setupBoundSeconds({ nodes: 20, watchdogs: 8, clients: 50 }), 238);
});
