/**
 * `npm run devnet -- --points --epochs 1` end to end on a small population (anvil, Redis, the keeper and
 * five guardians as processes; 6 nodes: two droppers, the forger, the offline node, the late committer and
 * one honest node; the colluding WatchDogs; the framing racer): the network runs in points mode (the epoch
 * table and the misbehaviour ledger in points), the last points epoch is the run's epoch, and after it the
 * run snapshots, funds the conversion from the treasury and converts an honest node, a guardian and a
 * license. Checked here from the output, independently of the run's own verdict: each received exactly
 * points × 0.25 SEND (the devnet's ratio), a second conversion of each reverts `AlreadyConverted` /
 * `LicenseAlreadyConverted`, and the forger (paid nothing in any epoch) has no points to convert
 * (`InvalidPointsProof`). About 3.5 minutes (202–214 s at load 5–9): the set-up bound of the points
 * deploy (network.ts `setupBoundSeconds`), one epoch and its finalization.
 *
 * Run: node tools/test-keepers.mjs keepers/test/points.e2e.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUnits } from 'viem';
import { freePort } from '../src/dev/anvil.js';
import { repoRoot } from '../src/dev/foundry.js';
import { DEVNET_POINTS_RATIO } from '../src/devnet/network.js';

/** "1,234.5" → wei (the tables round; the conversion lines print exact decimals without separators). */
const wei = (decimal: string) => parseUnits(decimal, 18);

test('`npm run devnet -- --points --epochs 1` runs in points mode and converts a node, a guardian and a license exactly', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'devnet-points-'));
  const port = String(await freePort());
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'keepers/src/devnet/main.ts',
      '--points',
      '--epochs',
      '1',
      '--nodes',
      '6',
      '--clients',
      '12',
      '--watchdogs',
      '3',
      '--guardians-down',
      '5,6',
      '--no-graph',
      '--port',
      port,
      '--data-dir',
      dataDir,
    ],
    { cwd: repoRoot, encoding: 'utf8', timeout: 540_000 },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  try {
    const output = `exit ${run.status} ${run.signal ?? ''} after ${seconds} s\n${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, output);
    console.log(run.stdout);
    const plan = /^points +points mode: .* epochs up to (\d+) are points epochs, .* 1 point = 0\.25 SEND/m.exec(
      run.stdout,
    );
    assert.ok(plan, `the points plan is printed\n${output}`);
    const first = /the network takes part from epoch (\d+)$/m.exec(run.stdout);
    assert.equal(first?.[1], plan[1], 'the run’s one epoch is the last points epoch');
    assert.match(run.stdout, /^rank +node +behaviour +availability +volume +score +reward points +faults$/m);
    assert.doesNotMatch(run.stdout, /reward SEND/, 'no reward is shown in SEND');
    assert.match(run.stdout, /^epoch +node +behaviour +reward points +slashed SEND +strikes +net SEND$/m);
    assert.match(run.stdout, /^\d+ +#2 +inflater +0 +1,000 +1 +−1,000$/m, 'the forger is slashed real SEND');
    assert.match(run.stdout, new RegExp(`^points: points snapshot at epoch ${plan[1]} `, 'm'));

    // every conversion paid exactly points × ratio / 1e18, and a second one is refused
    const converted = [
      ...run.stdout.matchAll(
        /^points: converted (node|guardian|license) (.+?): ([\d.]+) points → ([\d.]+) SEND to (0x[0-9a-fA-F]{40})$/gm,
      ),
    ];
    assert.deepEqual(
      converted.map((m) => m[1]),
      ['node', 'guardian', 'license'],
      `one conversion of each kind\n${output}`,
    );
    for (const [, kind, label, points, send] of converted) {
      assert.ok(wei(points!) > 0n, `${kind} ${label} converted some points`);
      assert.equal(
        wei(send!),
        (wei(points!) * DEVNET_POINTS_RATIO) / 10n ** 18n,
        `${kind} ${label}: SEND = points × 0.25`,
      );
      const once = kind === 'license' ? 'LicenseAlreadyConverted' : 'AlreadyConverted';
      assert.ok(
        run.stdout.includes(`points: a second conversion of ${kind} ${label} reverts ${once}\n`),
        `${kind} ${label} converts once`,
      );
    }
    // the forger earned nothing, so it has nothing to convert, ejected or not
    assert.match(
      run.stdout,
      /^points: inflater #2 0x[0-9a-f]{8} \((Active|Ejected)\) earned no points: nothing to convert \(convertNode reverts InvalidPointsProof\)$/m,
    );
    assert.match(run.stdout, /devnet: points converted at epoch \d+'s snapshot/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
