import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../src/dev/foundry.js';
import {
  renderIndexingBench,
  renderKeepersBench,
  type IndexingBenchReport,
  type KeepersBenchReport,
} from '../../bench/readme.js';

/** Figures in the README must be the ones the benchmark wrote, not typed by hand. */
test('every gas figure in bench/gas.json appears in the README and meets its target', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const report = JSON.parse(readFileSync(join(repoRoot, 'bench', 'gas.json'), 'utf8')) as {
    results: Record<string, { gas: number; target: number | null; meetsTarget: boolean | null }>;
  };
  const entries = Object.entries(report.results);
  assert.ok(entries.length >= 5, 'bench/gas.json has too few results');
  for (const [name, result] of entries) {
    const figure = result.gas.toLocaleString('en-US');
    assert.ok(
      readme.includes(`| ${figure} |`),
      `README lacks ${name} = ${figure} from bench/gas.json (rerun npm run bench:gas and update)`,
    );
    if (result.target !== null) {
      assert.equal(result.meetsTarget, result.gas <= result.target, `${name}: meetsTarget is inconsistent`);
      assert.ok(result.gas <= result.target, `${name}: ${result.gas} is above its target ${result.target}`);
    }
  }
});

test("the README's keeper and indexing benchmark blocks are what bench/keepers.json and bench/indexing.json render to", () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const read = (name: string) => JSON.parse(readFileSync(join(repoRoot, 'bench', name), 'utf8'));
  const keepers = renderKeepersBench(read('keepers.json') as KeepersBenchReport);
  const indexing = renderIndexingBench(read('indexing.json') as IndexingBenchReport);
  assert.ok(
    readme.includes(keepers),
    `README lacks the keepers block of bench/keepers.json (run npm run bench:readme):\n${keepers}`,
  );
  assert.ok(
    readme.includes(indexing),
    `README lacks the indexing block of bench/indexing.json (run npm run bench:readme):\n${indexing}`,
  );
  assert.match(
    indexing,
    /\| lag from an epoch's last `publishScores` receipt .* \| p50 \d+\.\d s, max \d+\.\d s \| ≤ 5 s \| (yes|\*\*no\*\*) \|/,
  );
});
