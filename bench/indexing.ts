/**
 * `npm run bench:indexing`: the subgraph on graph-node (gnd dev) indexing a fresh anvil devnet. Writes
 * bench/indexing.json with
 *  - indexing lag: from an epoch's last publishScores transaction (its scores complete on-chain) to its
 *    ranking being queryable over GraphQL, for devnet-sized epochs and for one 10,000-node epoch;
 *  - throughput: NodeRegistered events indexed per second for a burst of 10,000 registrations mined in a
 *    few large blocks;
 *  - ranking-query latency p50/p99 with 10,000 scored nodes indexed (the CLI's ranking queries; each
 *    sample's text is unique, so graph-node's result cache never answers and every query reaches Postgres).
 *
 *   npm run bench:indexing [-- --nodes 10000 --queries 200]
 */
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { INDEXING_BLOCK, renderIndexingBench, withReadmeBlock } from './readme.js';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseEther,
  type Address,
  type PublicClient,
} from 'viem';
import { foundry } from 'viem/chains';
import { freePort, startAnvil } from '../keepers/src/dev/anvil.js';
import { deployProtocol } from '../keepers/src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../keepers/src/devnet/devAccounts.js';
import { settleDevEpoch } from '../keepers/src/devnet/devEpoch.js';
import { repoRoot } from '../keepers/src/dev/foundry.js';
import type { NodeScore } from '../keepers/src/core/epochHeader.js';
import { nodeStakingAbi } from '../keepers/src/generated/contracts.js';
import { graphql, startGraphNode, type GraphNodeHandle } from '../keepers/src/infra/graphNode.js';
import { benchNodeKey, deployRegistrar, registrationBurst } from './indexing/burst.js';

const STAKE = parseEther('10000');
const LAG_TARGET_MS = 5_000;
const P99_TARGET_MS = 100;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function waitFor<T>(
  what: string,
  poll: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await poll();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** ms until epoch `epoch` is fully published and `count` results are queryable. */
async function scoresQueryable(gn: GraphNodeHandle, epoch: number, count: number, timeoutMs: number): Promise<void> {
  await waitFor(
    `epoch ${epoch} ranking`,
    async () => {
      const data = await graphql<{ epoch: { scoresPublished: boolean; publishedCount: number } | null }>(
        gn.graphqlUrl,
        `{ epoch(id: "${epoch}") { scoresPublished publishedCount } }`,
      );
      return data.epoch?.scoresPublished && data.epoch.publishedCount === count ? true : undefined;
    },
    timeoutMs,
  );
}

async function indexedBlock(gn: GraphNodeHandle): Promise<bigint> {
  const data = await graphql<{ _meta: { block: { number: number }; hasIndexingErrors: boolean } }>(
    gn.graphqlUrl,
    '{ _meta { block { number } hasIndexingErrors } }',
  );
  if (data._meta.hasIndexingErrors) throw new Error(`the subgraph has indexing errors; see ${gn.logPath}`);
  return BigInt(data._meta.block.number);
}

function scoresFor(keys: Address[], epoch: number): NodeScore[] {
  // a deterministic, epoch-dependent order so rankings change between epochs
  return keys
    .map((nodeKey, i) => ({ nodeKey, v: (i * 7919 + epoch * 104729) % 1_000_003 }))
    .sort((a, b) => b.v - a.v)
    .map(({ nodeKey, v }, r) => ({
      nodeKey,
      rank: r + 1,
      score: 1_000_000 - r,
      availability: 900_000 + (v % 100_000),
      latencyP50Ms: 20 + (v % 50),
      latencyP95Ms: 80 + (v % 200),
      verifiedUnits: BigInt(v % 50_000),
      reward: BigInt(1_000_000 + (v % 1_000_000)) * 10n ** 9n,
      faults: 0,
    }));
}

async function main() {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '10000' },
      queries: { type: 'string', default: '200' },
      'small-epochs': { type: 'string', default: '5' },
      'small-nodes': { type: 'string', default: '50' },
    },
  });
  const burstCount = Number(values.nodes);
  const querySamples = Number(values.queries);
  const smallEpochs = Number(values['small-epochs']);
  const smallNodes = Number(values['small-nodes']);
  for (const [name, v] of Object.entries({ burstCount, querySamples, smallEpochs, smallNodes })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  }

  const anvil = await startAnvil({ extraArgs: ['--gas-limit', '1000000000'] });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-indexing-'));
  let gn: GraphNodeHandle | undefined;
  let failed = false;
  try {
    const { book, path } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) });
    gn = await startGraphNode({ rpcUrl: anvil.rpcUrl, addressBookPath: path, dataDir, httpPort: await freePort() });
    const transport = http(anvil.rpcUrl);
    const publicClient = createPublicClient({ chain: foundry, transport }) as PublicClient;
    const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport });
    const operator = createWalletClient({ chain: foundry, transport, account: devAccount(1) }); // treasury: holds SEND
    const keeper = createWalletClient({ chain: foundry, transport, account: devAccount(2) });
    const operatorAddress = operator.account.address;
    const totalNodes = smallNodes + burstCount;
    const registrar = await deployRegistrar(operator, publicClient, {
      staking: book.contracts.NodeStaking,
      token: book.contracts.SendToken,
      fund: STAKE * BigInt(totalNodes),
    });
    const burstParams = {
      registrar,
      chainId: book.chainId,
      staking: book.contracts.NodeStaking,
      sender: operatorAddress,
      stake: STAKE,
      perTransaction: 80,
      gasPerTransaction: 16_000_000n,
    };

    // 1. devnet-sized epochs: lag from the last publishScores receipt to the ranking being queryable
    console.log(`bench:indexing: registering ${smallNodes} nodes, settling ${smallEpochs} epochs`);
    await registrationBurst(anvil.rpcUrl, publicClient, { ...burstParams, from: 0, count: smallNodes });
    const smallKeys = Array.from({ length: smallNodes }, (_, i) => benchNodeKey(i).address);
    let cumulative = 0n;
    const lagSamples: { epoch: number; fromLastPublishMs: number; fromSubmitMs: number }[] = [];
    for (let epoch = 1; epoch <= smallEpochs; epoch++) {
      const scores = scoresFor(smallKeys, epoch);
      cumulative += scores.reduce((a, s) => a + s.reward, 0n);
      let submittedAt = 0;
      await settleDevEpoch(keeper, publicClient, testClient, {
        book,
        epoch,
        scores,
        cumulative: new Map([[operatorAddress, cumulative]]),
        onSubmit: () => (submittedAt = Date.now()),
      });
      const published = Date.now();
      await scoresQueryable(gn, epoch, scores.length, 60_000);
      const done = Date.now();
      lagSamples.push({ epoch, fromLastPublishMs: done - published, fromSubmitMs: done - submittedAt });
    }
    const lags = lagSamples.map((s) => s.fromLastPublishMs).sort((a, b) => a - b);

    // 2. a burst of registrations
    console.log(`bench:indexing: burst of ${burstCount} registrations`);
    const headBefore = await indexedBlock(gn);
    const burst = await registrationBurst(anvil.rpcUrl, publicClient, {
      ...burstParams,
      from: smallNodes,
      count: burstCount,
    });
    await waitFor(
      'the burst to be indexed',
      async () => ((await indexedBlock(gn!)) >= burst.lastBlock ? true : undefined),
      1_800_000,
      50,
    );
    const burstIndexedAt = Date.now();
    const staked = await publicClient.readContract({
      address: book.contracts.NodeStaking,
      abi: nodeStakingAbi,
      functionName: 'totalStaked',
    });
    const protocol = await graphql<{ protocol: { nodeCount: number; totalStaked: string } }>(
      gn.graphqlUrl,
      '{ protocol(id: "protocol") { nodeCount totalStaked } }',
    );
    if (
      protocol.protocol.nodeCount !== totalNodes ||
      BigInt(protocol.protocol.totalStaked) !== staked ||
      staked !== STAKE * BigInt(totalNodes)
    ) {
      throw new Error(
        `after the burst the subgraph has ${protocol.protocol.nodeCount} nodes / ${protocol.protocol.totalStaked} staked; chain ${staked}, expected ${totalNodes} nodes`,
      );
    }
    const indexSeconds = (burstIndexedAt - burst.firstMinedAt) / 1000;

    // 3. one epoch scoring every node (10,000+ NodeScorePublished events)
    console.log(`bench:indexing: epoch with ${totalNodes} scores`);
    const allKeys = Array.from({ length: totalNodes }, (_, i) => benchNodeKey(i).address);
    const bigEpoch = smallEpochs + 1;
    const bigScores = scoresFor(allKeys, bigEpoch);
    cumulative += bigScores.reduce((a, s) => a + s.reward, 0n);
    let bigSubmittedAt = 0;
    const chunkSize = 500;
    await settleDevEpoch(keeper, publicClient, testClient, {
      book,
      epoch: bigEpoch,
      scores: bigScores,
      cumulative: new Map([[operatorAddress, cumulative]]),
      chunkSize,
      onSubmit: () => (bigSubmittedAt = Date.now()),
    });
    const bigPublished = Date.now();
    await scoresQueryable(gn, bigEpoch, bigScores.length, 1_800_000);
    const bigDone = Date.now();

    // 4. ranking queries with every node scored: the CLI's queries (sendnet rankings), its field lists,
    //    at its default --top 10 and at --top 100
    console.log(`bench:indexing: ${querySamples} samples of each ranking query`);
    const NODE_FIELDS =
      'id operator stake status endpoint latestEpoch latestRank latestScore latestAvailability latestVerifiedUnits latestReward cumulativeRewards';
    const RESULT_FIELDS = `epochNumber rank score availability latencyP50Ms latencyP95Ms verifiedUnits reward faults node { ${NODE_FIELDS} }`;
    // `a` is a per-sample alias: every query text is new, so graph-node's result cache never answers
    const rankingQueries = (top: number): Record<string, (a: string) => string> => ({
      latestEpoch: (a) =>
        `{ ${a}: epoches(first: 1, orderBy: number, orderDirection: desc, where: {scoresPublished: true}) { number } }`,
      byScore: (a) =>
        `{ ${a}: nodeEpochResults(first: ${top}, where: {epochNumber: ${bigEpoch}}, orderBy: rank, orderDirection: asc) { ${RESULT_FIELDS} } }`,
      byUptime: (a) =>
        `{ ${a}: nodes(first: ${top}, orderBy: latestAvailability, orderDirection: desc, where: {latestEpoch_not: null}) { ${NODE_FIELDS} } }`,
      byVolume: (a) =>
        `{ ${a}: nodes(first: ${top}, orderBy: latestVerifiedUnits, orderDirection: desc, where: {latestEpoch_not: null}) { ${NODE_FIELDS} } }`,
      byRewards: (a) =>
        `{ ${a}: nodes(first: ${top}, orderBy: cumulativeRewards, orderDirection: desc) { ${NODE_FIELDS} } }`,
      epochByUptime: (a) =>
        `{ ${a}: nodeEpochResults(first: ${top}, where: {epochNumber: ${bigEpoch}}, orderBy: availability, orderDirection: desc) { ${RESULT_FIELDS} } }`,
      epochByVolume: (a) =>
        `{ ${a}: nodeEpochResults(first: ${top}, where: {epochNumber: ${bigEpoch}}, orderBy: verifiedUnits, orderDirection: desc) { ${RESULT_FIELDS} } }`,
      epochByRewards: (a) =>
        `{ ${a}: nodeEpochResults(first: ${top}, where: {epochNumber: ${bigEpoch}}, orderBy: reward, orderDirection: desc) { ${RESULT_FIELDS} } }`,
    });
    const latency: Record<string, Record<string, { p50Ms: number; p99Ms: number; maxMs: number }>> = {};
    const TOPS = [10, 100];
    for (const top of TOPS) {
      const perQuery: Record<string, { p50Ms: number; p99Ms: number; maxMs: number }> = {};
      for (const [name, query] of Object.entries(rankingQueries(top))) {
        for (let i = 0; i < 10; i++) await graphql(gn.graphqlUrl, query(`warm${i}`));
        const samples: number[] = [];
        for (let i = 0; i < querySamples; i++) {
          const text = query(`q${i}`);
          const t = performance.now();
          await graphql(gn.graphqlUrl, text);
          samples.push(performance.now() - t);
        }
        samples.sort((a, b) => a - b);
        perQuery[name] = {
          p50Ms: round(percentile(samples, 50)),
          p99Ms: round(percentile(samples, 99)),
          maxMs: round(samples[samples.length - 1]!),
        };
      }
      latency[`top${top}`] = perQuery;
    }
    const worstP99 = (top: number) => Math.max(...Object.values(latency[`top${top}`]!).map((l) => l.p99Ms));

    const report = {
      generatedBy: 'npm run bench:indexing (bench/indexing.ts)',
      generatedAt: new Date().toISOString(),
      setup: {
        graphNode:
          'gnd dev 0.45.0 (@graphprotocol/gnd-linux-x64), Postgres 15, ETHEREUM_POLLING_INTERVAL=200 ms; every query text unique (no result-cache hits)',
        chain:
          'anvil 1.7.1, automine; the burst: script/dev/BulkNodeRegistrar.sol, 80 registrations per transaction, automine off, 1e9 block gas limit',
        machine: { cpus: cpus().length, loadAverage1m: round(loadavg()[0]!) },
      },
      indexingLag: {
        definition:
          "from the receipt of an epoch's last publishScores transaction to GraphQL returning the epoch with scoresPublished and every result",
        devnetEpochs: {
          nodesPerEpoch: smallNodes,
          samples: lagSamples,
          p50Ms: percentile(lags, 50),
          maxMs: lags[lags.length - 1]!,
          targetMs: LAG_TARGET_MS,
          meetsTarget: lags[lags.length - 1]! <= LAG_TARGET_MS,
        },
        largeEpoch: {
          nodes: bigScores.length,
          publishTransactions: Math.ceil(bigScores.length / chunkSize),
          fromLastPublishMs: bigDone - bigPublished,
          fromSubmitMs: bigDone - bigSubmittedAt,
          eventsPerSecondWhilePublishing: round(bigScores.length / ((bigDone - bigSubmittedAt) / 1000)),
        },
      },
      registrationBurst: {
        registrations: burst.registrations,
        transactions: burst.transactions,
        blocks: burst.blocks,
        indexedFromBlock: Number(headBefore),
        lastBlock: Number(burst.lastBlock),
        signMs: burst.signMs,
        sendMs: burst.sendMs,
        mineMs: burst.mineMs,
        indexMs: burstIndexedAt - burst.firstMinedAt,
        afterLastBlockMinedMs: burstIndexedAt - burst.lastMinedAt,
        nodeRegisteredEventsPerSecond: round(burst.registrations / indexSeconds),
        definition:
          'NodeRegistered events / (time the subgraph reached the last burst block − time the first burst block was mined)',
      },
      rankingQueries: {
        definition:
          "the CLI's ranking queries (sendnet rankings: same filters, orders and field lists), sequential, over HTTP from Node",
        nodesIndexed: totalNodes,
        scoredInEpoch: bigScores.length,
        samplesPerQuery: querySamples,
        latency,
        worstP99Ms: Object.fromEntries(TOPS.map((t) => [`top${t}`, worstP99(t)])),
        targetP99Ms: P99_TARGET_MS,
        meetsTargetAtCliDefaultTop10: worstP99(10) <= P99_TARGET_MS,
        meetsTargetAtTop100: worstP99(100) <= P99_TARGET_MS,
      },
    };
    writeFileSync(join(repoRoot, 'bench', 'indexing.json'), `${JSON.stringify(report, null, 2)}\n`);
    const readmePath = join(repoRoot, 'README.md');
    writeFileSync(
      readmePath,
      withReadmeBlock(readFileSync(readmePath, 'utf8'), INDEXING_BLOCK, renderIndexingBench(report)),
    );
    console.log(JSON.stringify(report, null, 2));
  } catch (error) {
    failed = true;
    console.error(`bench:indexing: failed; graph-node's data and log are kept in ${dataDir}`);
    throw error;
  } finally {
    await gn?.stop();
    await anvil.stop();
    if (!failed) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench:indexing: ${(error as Error).message}`);
  process.exit(1);
});
