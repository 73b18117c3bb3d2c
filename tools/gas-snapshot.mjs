#!/usr/bin/env node
// Forge gas snapshot of the contracts' deterministic tests, checked in as .gas-snapshot.
//   node tools/gas-snapshot.mjs          (npm run gas:snapshot) runs them and rewrites .gas-snapshot
//   node tools/gas-snapshot.mjs --check  (in npm run test:contracts) runs them and fails unless the result is
//                                        byte-identical to .gas-snapshot (changed, new and removed tests)
// Deterministic = every test but the fuzz (testFuzz*) and invariant (invariant*) tests, whose gas depends on
// random inputs; `npm run test:contracts` runs those with `forge test --match-test '^(testFuzz|invariant)'`,
// so each test runs once. A fuzz test not named testFuzz* would make the snapshot random: it is refused.
// bench/gas.json (npm run bench:gas) measures whole transactions on anvil; this file is forge's per-test gas.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SNAPSHOT = '.gas-snapshot';
const RANDOMIZED = '^(testFuzz|invariant)';
const check = process.argv.includes('--check');

// forge writes the fresh snapshot outside the work tree
const dir = mkdtempSync(join(tmpdir(), 'gas-snapshot-'));
const fresh = join(dir, SNAPSHOT);
const run = spawnSync(
  process.execPath,
  ['tools/forge.mjs', 'snapshot', '--snap', fresh, '--no-match-test', RANDOMIZED],
  { stdio: 'inherit' },
);
const text = run.status === 0 ? readFileSync(fresh, 'utf8') : null;
rmSync(dir, { recursive: true, force: true });
if (text === null) fail(`forge snapshot failed (exit ${run.status})`);

const entries = parse(text);
const randomized = [...entries].filter(([, gas]) => !/^\(gas: \d+\)$/.test(gas));
if (randomized.length > 0) {
  fail(
    `tests with random inputs in the snapshot (name fuzz tests testFuzz*, invariants invariant*):\n` +
      randomized.map(([name]) => `  ${name}`).join('\n'),
  );
}

if (!check) {
  writeFileSync(SNAPSHOT, text);
  console.log(`gas snapshot: wrote ${SNAPSHOT} (${entries.size} tests)`);
  process.exit(0);
}

let committed = '';
try {
  committed = readFileSync(SNAPSHOT, 'utf8');
} catch {
  fail(`${SNAPSHOT} is missing: run \`npm run gas:snapshot\` and commit it`);
}
if (committed === text) {
  console.log(`gas snapshot: ${entries.size} tests match ${SNAPSHOT}`);
  process.exit(0);
}
const old = parse(committed);
const lines = [];
for (const [name, gas] of entries) {
  if (!old.has(name)) lines.push(`  new      ${name} ${gas}`);
  else if (old.get(name) !== gas)
    lines.push(`  changed  ${name} ${old.get(name)} -> ${gas}${delta(old.get(name), gas)}`);
}
for (const name of old.keys()) if (!entries.has(name)) lines.push(`  removed  ${name}`);
if (lines.length === 0) lines.push('  (same entries, different bytes: regenerate it)');
fail(`${SNAPSHOT} is out of date:\n${lines.join('\n')}\nrun \`npm run gas:snapshot\` and commit ${SNAPSHOT}`);

/** `Contract:test() (gas: n)` lines -> Map(`Contract:test()` -> `(gas: n)`). */
function parse(snapshot) {
  const map = new Map();
  for (const line of snapshot.split('\n')) {
    const at = line.lastIndexOf(' (');
    if (at > 0) map.set(line.slice(0, at), line.slice(at + 1));
  }
  return map;
}

function delta(before, after) {
  const [a, b] = [before, after].map((s) => Number(/\d+/.exec(s)?.[0]));
  return Number.isFinite(a) && Number.isFinite(b) ? ` (${b - a >= 0 ? '+' : ''}${b - a})` : '';
}

function fail(message) {
  console.error(`gas snapshot: ${message}`);
  process.exit(1);
}
