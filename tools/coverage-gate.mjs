#!/usr/bin/env node
// Coverage gate for contracts/: runs `forge coverage`, sums line and branch coverage of every file under
// contracts/ from the lcov report, and fails below the thresholds (lines >= 95%, branches >= 90%).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const MIN_LINES = Number(process.env.COVERAGE_MIN_LINES ?? 95);
const MIN_BRANCHES = Number(process.env.COVERAGE_MIN_BRANCHES ?? 90);
const report = 'lcov.info';

rmSync(report, { force: true });
const run = spawnSync(
  process.execPath,
  ['tools/forge.mjs', 'coverage', '--report', 'lcov', '--report', 'summary', '--no-match-coverage', '(test|script)/'],
  {
    stdio: 'inherit',
    env: {
      FOUNDRY_PROFILE: 'coverage',
      ...process.env,
      FOUNDRY_OUT: 'out-coverage',
      FOUNDRY_CACHE_PATH: 'cache-coverage',
    },
  },
);
if (run.status !== 0) {
  console.error(`coverage gate: forge coverage failed (exit ${run.status})`);
  process.exit(1);
}

const totals = new Map();
let file = null;
for (const line of readFileSync(report, 'utf8').split('\n')) {
  if (line.startsWith('SF:')) {
    file = line.slice(3);
    totals.set(file, { LF: 0, LH: 0, BRF: 0, BRH: 0 });
  } else if (file && /^(LF|LH|BRF|BRH):/.test(line)) {
    const [key, value] = line.split(':');
    totals.get(file)[key] += Number(value);
  }
}
const sum = { LF: 0, LH: 0, BRF: 0, BRH: 0 };
const rows = [];
for (const [path, t] of totals) {
  if (!path.startsWith('contracts/')) continue;
  for (const key of Object.keys(sum)) sum[key] += t[key];
  rows.push(`  ${path.padEnd(48)} lines ${pct(t.LH, t.LF)}  branches ${pct(t.BRH, t.BRF)}`);
}
function pct(hit, found) {
  return found === 0 ? '  n/a ' : `${((100 * hit) / found).toFixed(1).padStart(5)}%`;
}
if (rows.length === 0) {
  console.error('coverage gate: no contracts/ files in the lcov report');
  process.exit(1);
}
const lines = (100 * sum.LH) / sum.LF;
const branches = sum.BRF === 0 ? 100 : (100 * sum.BRH) / sum.BRF;
console.log(`coverage of contracts/:\n${rows.join('\n')}`);
console.log(
  `  total: lines ${lines.toFixed(2)}% (min ${MIN_LINES}%), branches ${branches.toFixed(2)}% (min ${MIN_BRANCHES}%)`,
);
if (lines < MIN_LINES || branches < MIN_BRANCHES) {
  console.error('coverage gate: FAILED');
  process.exit(1);
}
console.log('coverage gate: passed');
