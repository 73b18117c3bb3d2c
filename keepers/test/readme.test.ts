import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../src/chain/foundry.js';

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
    assert.ok(readme.includes(`| ${figure} |`), `README lacks ${name} = ${figure} from bench/gas.json (rerun npm run bench:gas and update)`);
    if (result.target !== null) {
      assert.equal(result.meetsTarget, result.gas <= result.target, `${name}: meetsTarget is inconsistent`);
      assert.ok(result.gas <= result.target, `${name}: ${result.gas} is above its target ${result.target}`);
    }
  }
});
