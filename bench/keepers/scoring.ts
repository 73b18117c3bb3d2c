/**
 * Scoring + trees at scale: the pure consensus-v1 function (`scoreEpoch`) and every tree and header field
 * it determines (`buildEpochTrees`: reward tree, fault tree, scores hash chain) on a synthetic epoch of N
 * nodes. Each size runs in a fresh child process so its peak memory (max RSS) is its own.
 *
 *   tsx bench/keepers/scoring.ts --nodes 100000     # one size, prints JSON
 *   import { benchScoring } from './scoring.js'      # used by bench/keepers.ts
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Address } from 'viem';
import { buildEpochTrees, scoreEpoch, type ScoringInput } from '../../keepers/src/core/scoring.js';

export interface ScoringBenchResult {
  nodes: number;
  /** Synthetic input generation (not part of the target). */
  generateMs: number;
  scoreMs: number;
  treesMs: number;
  totalMs: number;
  peakRssMiB: number;
  rewardLeaves: number;
  faultLeaves: number;
}

/** Deterministic pseudo-random numbers (xorshift32), so every run scores the same epoch. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const hex40 = (prefix: number, i: number): Address =>
  `0x${prefix.toString(16).padStart(8, '0')}${i.toString(16).padStart(32, '0')}` as Address;

/**
 * A synthetic epoch: N nodes owned by N/4 operators, 3 WatchDogs each (~2% of nodes below A_min), 4
 * sender DIDs per node drawn from a pool of N DIDs, 0.5% failed openings, 0.1% equivocations.
 */
export function syntheticEpoch(nodes: number, seed = 1): ScoringInput {
  const random = rng(seed);
  const SEND = 10n ** 18n;
  const input: ScoringInput = {
    epoch: 12,
    epochEmission: 273_972n * SEND,
    guardianShareBps: 500,
    guardianSet: [1, 2, 3, 4, 5, 6, 7].map((g) => hex40(0xaa, g)),
    signers: [1, 2, 3, 4, 5].map((g) => hex40(0xaa, g)),
    parameters: {
      aMin: 0.9,
      aTarget: 0.99,
      gamma: 2,
      stakeCap: 100_000n * SEND,
      volumeCapPerDid: 10_000n,
      equivocationSlash: 1_000n * SEND,
    },
    nodes: [],
    previousCumulative: new Map(),
  };
  const operators = Math.max(1, Math.floor(nodes / 4));
  for (let i = 0; i < nodes; i++) {
    const weak = random() < 0.02;
    input.nodes.push({
      nodeKey: hex40(0xbb, i),
      operator: hex40(0xcc, i % operators),
      stake: (10_000n + BigInt(Math.floor(random() * 200_000))) * SEND,
      watchdogs: [0, 1, 2].map((w) => ({
        watchdog: `wd-${(i * 3 + w) % 1000}`,
        successRatio: weak ? 0.5 + random() * 0.4 : 0.95 + random() * 0.05,
        latenciesMs: [20 + Math.floor(random() * 100), 20 + Math.floor(random() * 100)],
      })),
      volume: [0, 1, 2, 3].map((d) => ({
        senderDid: `did-${(i * 7 + d * 13) % nodes}`,
        units: BigInt(1 + Math.floor(random() * 5_000)),
      })),
      openingsFailed: random() < 0.005,
      equivocated: random() < 0.001,
    });
  }
  for (let o = 0; o < operators; o += 2) input.previousCumulative.set(hex40(0xcc, o), 1_000n * SEND + BigInt(o));
  return input;
}

/** Runs one size in this process (use `benchScoring` for an isolated peak-memory figure). */
export function runScoring(nodes: number): ScoringBenchResult {
  const t0 = performance.now();
  const input = syntheticEpoch(nodes);
  const t1 = performance.now();
  const result = scoreEpoch(input);
  const t2 = performance.now();
  const trees = buildEpochTrees(result);
  const t3 = performance.now();
  return {
    nodes,
    generateMs: Math.round(t1 - t0),
    scoreMs: Math.round(t2 - t1),
    treesMs: Math.round(t3 - t2),
    totalMs: Math.round(t3 - t1),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    rewardLeaves: trees.rewardTree?.leafCount ?? 0,
    faultLeaves: trees.faultCount,
  };
}

/** Runs one size in a fresh child process and returns its figures. */
export function benchScoring(nodes: number): Promise<ScoringBenchResult> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--max-old-space-size=6144', self, '--nodes', String(nodes)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`scoring bench for ${nodes} nodes exited with code ${code}`));
      resolve(JSON.parse(out) as ScoringBenchResult);
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { nodes: { type: 'string', default: '10000' } } });
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1)
    throw new RangeError(`--nodes must be a positive integer, got ${values.nodes}`);
  process.stdout.write(`${JSON.stringify(runScoring(nodes))}\n`);
}
