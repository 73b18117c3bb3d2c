/**
 * evaluateEpoch at scale: N nodes (stake only: no commitments, so no openings), optionally W WatchDogs with
 * signed transcripts covering every assigned node. Measures parse, the whole evaluation (assignment,
 * transcripts, scoring, trees) and the dataset hash, and writes bench/keepers/evaluateEpoch.json.
 *
 *   tsx bench/keepers/evaluateEpoch.ts [--nodes 1000000] [--watchdogs 0] [--challenges 4]
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bytesToHex, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { assignWatchdogs, assignmentSeed, samplingSeed } from '../../keepers/src/core/sampling.js';
import {
  challengeOffsets,
  signTranscript,
  signWatchdogCommit,
  type TranscriptResult,
} from '../../keepers/src/core/watchdogSchedule.js';
import { datasetFromParts, datasetHash, evaluateEpoch, parseEpochDataset } from '../../keepers/src/core/dataset.js';
import { DEVNET_CONSENSUS } from '../../keepers/src/core/consensus.js';
import { buildEpochTrees, scoreEpoch } from '../../keepers/src/core/scoring.js';
import { repoRoot } from '../../keepers/src/dev/foundry.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100000' },
    watchdogs: { type: 'string', default: '0' },
    challenges: { type: 'string', default: '4' },
    out: { type: 'string', default: join(repoRoot, 'bench', 'keepers', 'evaluateEpoch.json') },
  },
});
const N = Number(values.nodes);
const W = Number(values.watchdogs);
const C = Number(values.challenges);
const rand32 = (): Hex => bytesToHex(randomBytes(32));
const time = async <T>(fn: () => T | Promise<T>): Promise<[T, number]> => {
  const t = performance.now();
  const v = await fn();
  return [v, (performance.now() - t) / 1000];
};

const epoch = 7;
const epochStart = 1_700_000_000;
const epochEnd = epochStart + 86_400;
const assignHash = rand32();
const seedHash = rand32();
const assignSeed = assignmentSeed(epoch, assignHash);
const pool = randomBytes(20 * N);
const nodes = Array.from({ length: N }, (_, i) => {
  const nodeKey = bytesToHex(pool.subarray(20 * i, 20 * i + 20));
  return {
    nodeKey,
    operator: nodeKey,
    stake: ((10_000n + BigInt(i % 5000)) * 10n ** 18n).toString(),
    endpoint: `ws://10.0.${(i >> 8) & 255}.${i & 255}:8080`,
  };
});

const [{ watchdogs, transcripts }, buildWatchdogs] = await time(async () => {
  const list = Array.from({ length: W }, (_, i) => ({
    tokenId: BigInt(i + 1),
    key: generatePrivateKey(),
    secret: rand32(),
  }));
  const commits = await Promise.all(
    list.map(async (w) => {
      const m = await signWatchdogCommit(w.key, w.tokenId, epoch, w.secret);
      return {
        tokenId: w.tokenId,
        operator: privateKeyToAccount(w.key).address,
        owner: privateKeyToAccount(w.key).address,
        commit: m.commit,
        signature: m.signature,
      };
    }),
  );
  const assignment = assignWatchdogs({
    assignSeed,
    nodes: nodes.map((n) => n.nodeKey as Address),
    watchdogs: commits.map((c) => ({
      tokenId: c.tokenId,
      operator: c.operator.toLowerCase() as Address,
      owner: c.owner.toLowerCase() as Address,
    })),
    m: DEVNET_CONSENSUS.m,
    nodeOperators: new Map(nodes.map((n) => [n.nodeKey.toLowerCase(), n.operator.toLowerCase()])),
  });
  const perDog = new Map<bigint, Address[]>();
  for (const [node, ids] of assignment)
    for (const id of ids) (perDog.get(id) ?? perDog.set(id, []).get(id)!).push(node);
  const signed = [];
  for (const w of list) {
    const results: TranscriptResult[] = [];
    for (const node of perDog.get(w.tokenId) ?? []) {
      for (const { i, offset } of challengeOffsets(w.secret, node, C, epochEnd - epochStart, 2)) {
        results.push({ node, i, at: (epochStart + offset) * 1000 + 10, envelopeId: rand32(), ok: true, latencyMs: 40 });
      }
    }
    signed.push(await signTranscript(w.key, { tokenId: w.tokenId.toString(), epoch, secret: w.secret, results }));
  }
  return { watchdogs: commits, transcripts: signed };
});

const guardians = Array.from({ length: 7 }, () => privateKeyToAccount(generatePrivateKey()).address);
const [dataset, build] = await time(() =>
  datasetFromParts({
    chainId: 31337,
    contracts: {
      staking: `0x${'11'.repeat(20)}`,
      settlement: `0x${'22'.repeat(20)}`,
      didRegistry: `0x${'33'.repeat(20)}`,
      license: `0x${'44'.repeat(20)}`,
      licenseRewards: `0x${'55'.repeat(20)}`,
    },
    epoch,
    epochStart,
    epochEnd,
    parameters: {
      ...DEVNET_CONSENSUS,
      challengesPerNode: C,
      equivocationSlash: 10n ** 21n,
      guardianShareBps: 500,
      epochEmission: 273_972n * 10n ** 18n,
      licenseEmission: 82_191n * 10n ** 18n,
    },
    startBlock: { blockNumber: 100, blockHash: rand32() },
    seed: { blockNumber: 200, blockHash: seedHash, value: samplingSeed(epoch, seedHash) },
    assignSeed: { blockNumber: 99, blockHash: assignHash, value: assignSeed },
    nodes,
    keys: [],
    watchdogs,
    commitments: [],
    openings: [],
    transcripts,
    guardianSet: guardians,
    signersPaid: guardians.slice(0, 5),
    previousCumulative: [],
    previousLicenseCumulative: [],
  }),
);
const [dataHash, hash] = await time(() => datasetHash(dataset));
const [, parse] = await time(() => parseEpochDataset(dataset));
const [evaluation, evaluate] = await time(() => evaluateEpoch(dataset, { dataHash }));
if (evaluation.rejected.length > 0)
  throw new Error(`unexpected rejections: ${JSON.stringify(evaluation.rejected.slice(0, 3))}`);
// The scoring part alone (core/scoring.ts on the same input), to see what evaluateEpoch adds to it.
const [scored, score] = await time(() => scoreEpoch(evaluation.scoringInput));
const [, trees] = await time(() => buildEpochTrees(scored));
const result = {
  nodes: N,
  watchdogs: W,
  challengesPerNode: C,
  transcriptResults: transcripts.reduce((a, t) => a + t.transcript.results.length, 0),
  seconds: {
    buildWatchdogFixture: buildWatchdogs,
    datasetFromParts: build,
    datasetHash: hash,
    parse,
    evaluateEpoch: evaluate,
    ofWhichScoreEpoch: score,
    ofWhichBuildEpochTrees: trees,
  },
  loadAverage: (await import('node:os')).loadavg()[0],
  rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  node: process.version,
  at: new Date().toISOString(),
};
console.log(JSON.stringify(result, null, 2));
let previous: unknown[] = [];
try {
  previous = JSON.parse((await import('node:fs')).readFileSync(values.out!, 'utf8')).runs ?? [];
} catch {
  previous = [];
}
const runs = [
  ...previous.filter(
    (r) => (r as { nodes: number; watchdogs: number }).nodes !== N || (r as { watchdogs: number }).watchdogs !== W,
  ),
  result,
];
writeFileSync(
  values.out!,
  `${JSON.stringify({ description: 'evaluateEpoch at scale (bench/keepers/evaluateEpoch.ts)', runs }, null, 2)}\n`,
);
