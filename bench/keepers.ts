/**
 * `npm run bench:keepers`: the keeper-side benchmarks, each compared with an anchor measured in the same
 * run on the same machine. Writes bench/keepers.json and regenerates the README block between the
 * `keepers-bench` markers. A benchmark, not a test: figures depend on the machine and its load (the load
 * average at start and end is recorded with them).
 *
 * - scoring: scoreEpoch + every tree and header field (bench/keepers/scoring.ts) for 10k, 100k and 1M
 *   nodes, each in a fresh process (time, peak RSS). Target for 1M: ≤ 60 s and ≤ 4 GiB.
 * - openings: verifyOpening throughput vs Node's own raw Ed25519 verify rate (bench/keepers/openings.ts).
 *   Target ratio ≥ 0.5.
 * - relay: one edge node's throughput and p50/p99 latency on loopback vs a bare WebSocket forwarder
 *   (bench/keepers/relay.ts). Target throughput ratio ≥ 0.5.
 *
 *   npm run bench:keepers                         # everything (about 5 min)
 *   npm run bench:keepers -- --sizes 10000,100000 # fewer scoring sizes
 *   npm run bench:keepers -- --readme-only        # re-render the README block from bench/keepers.json
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../keepers/src/dev/foundry.js';
import { benchScoring, type ScoringBenchResult } from './keepers/scoring.js';
import { benchOpenings } from './keepers/openings.js';
import { benchRelay } from './keepers/relay.js';
import { KEEPERS_BLOCK, renderKeepersBench, withReadmeBlock, type KeepersBenchReport } from './readme.js';

async function main() {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000,100000,1000000' },
      'readme-only': { type: 'boolean', default: false },
    },
  });
  const readmePath = join(repoRoot, 'README.md');
  const jsonPath = join(repoRoot, 'bench', 'keepers.json');
  if (values['readme-only']) {
    const report = JSON.parse(readFileSync(jsonPath, 'utf8')) as KeepersBenchReport;
    writeFileSync(
      readmePath,
      withReadmeBlock(readFileSync(readmePath, 'utf8'), KEEPERS_BLOCK, renderKeepersBench(report)),
    );
    return;
  }
  const sizes = values.sizes.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`--sizes: "${s}" is not a positive integer`);
    return n;
  });
  const loadAverageAtStart = loadavg()[0]!;
  const scoring: ScoringBenchResult[] = [];
  for (const nodes of sizes) {
    console.error(`scoring ${nodes} nodes…`);
    scoring.push(await benchScoring(nodes));
  }
  console.error('openings…');
  const openings = benchOpenings();
  console.error('relay…');
  const relay = await benchRelay({ rounds: 3 });
  const target = { nodes: 1_000_000, maxMs: 60_000, maxRssMiB: 4096 };
  const big = scoring.find((s) => s.nodes === target.nodes);
  const report: KeepersBenchReport = {
    generatedBy: 'npm run bench:keepers (bench/keepers.ts)',
    generatedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverageAtStart,
      loadAverageAtEnd: loadavg()[0]!,
    },
    scoring: {
      results: scoring,
      target,
      meetsTarget: big ? big.totalMs <= target.maxMs && big.peakRssMiB <= target.maxRssMiB : null,
    },
    openings: { ...openings, meetsTarget: openings.ratio >= openings.target },
    relay: {
      edge: relay.edge,
      bare: relay.bare,
      ratios: relay.ratios,
      options: relay.options,
      target: 0.5,
      meetsTarget: relay.ratios.throughput >= 0.5,
    },
  };
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(
    readmePath,
    withReadmeBlock(readFileSync(readmePath, 'utf8'), KEEPERS_BLOCK, renderKeepersBench(report)),
  );
  console.log(renderKeepersBench(report));
}

main().catch((error) => {
  console.error(`bench:keepers: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
