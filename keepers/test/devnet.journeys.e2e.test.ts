/**
 * Issue 5 on the live devnet (keepers/src/devnet/network.ts with graph-node): the real services relay,
 * challenge, score and settle epochs while graph-node (`gnd dev` on its own Postgres) indexes the chain.
 *
 * - rankings: for two network epochs, `sendnet rankings --epoch E` (GraphQL) equals the scores the
 *   keepers computed (evaluateEpoch of the dataset the keeper published, by the on-chain dataHash) and
 *   the chain's NodeScorePublished events; the uptime, volume and rewards orders; the epoch entity holds
 *   the signed header; a `block: {number}` query returns the state after the first epoch, and `_meta`
 *   reports the indexed block;
 * - node journey: an operator registers and stakes a new node with `sendnet node register`, runs the
 *   reference edge node on the endpoint it registered (`npm run edge-node`), sees it in `sendnet rankings`
 *   after an epoch (its node entity as of that epoch is the chain's), and claims its reward with the
 *   keeper's published proofs (indexed as the operator's claim);
 * - presale journey: the demo buyer buys in the allowlist phase with the allowlist file the devnet
 *   published, then in the public phase, and names its WatchDog operator; a WatchDog's license reward is
 *   claimed with the keeper's proofs and pays its holder what the scoring function computed; the subgraph
 *   has the purchases and the claim;
 * - DID journey: register a DID, add a device key, resolve it through the ENS resolver; the subgraph has it.
 *
 * A small population (6 nodes including the four misbehaving ones, 3 WatchDogs, 12 clients) keeps it quick.
 * Run: node --import tsx --test keepers/test/devnet.journeys.e2e.test.ts
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createWalletClient, http, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { freePort } from '../src/dev/anvil.js';
import { devAccount, devPrivateKey } from '../src/devnet/devAccounts.js';
import { keccakUtf8 } from '../src/core/canonicalJson.js';
import { firstHeaderDifference, headerToWire } from '../src/core/guardianApi.js';
import { DEMO_ACCOUNTS, Devnet } from '../src/devnet/network.js';
import { startService, stopService, waitForHealth, type ServiceProcess } from '../src/devnet/processes.js';
import { epochReport, type EpochReport } from '../src/devnet/report.js';
import { epochSettlementAbi, sendTokenAbi, watchDogPresaleAbi } from '../src/generated/contracts.js';
import { graphql } from '../src/infra/graphNode.js';
import { ChainReader } from '../src/keeper/chain.js';
import type { RankingRow } from '../src/cli/rankings.js';
import { isOneSentence, runSendnet, type CliRun } from './cliHarness.js';
import { failureTracker, waitFor as waitForTimeout } from './helpers/waiting.js';
import { evaluateInWorker, type WorkerEvaluation } from './helpers/evaluateInWorker.js';

// No colluding licenses: the presale checks below count one license per WatchDog holder.
const POPULATION = { nodes: 6, clients: 12, watchdogs: 3, colludingWatchdogs: 0 };
const SETTLE_TIMEOUT_MS = 240_000;

const waitFor = <T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = SETTLE_TIMEOUT_MS,
  intervalMs = 1000,
) => waitForTimeout(what, probe, timeoutMs, intervalMs);

let devnet: Devnet;
let dataDir: string;
let chain: ChainReader;
let graphqlUrl: string;
const failures = failureTracker();
let edgeNode: ServiceProcess | undefined;

/** `sendnet` against the devnet, exactly as a user runs it (a child process), signing with `key`. */
function sendnet(args: readonly string[], key?: Hex, extraEnv: Record<string, string> = {}): Promise<CliRun> {
  return runSendnet(args, {
    SENDNET_RPC: devnet.rpcUrl,
    SENDNET_DEPLOYMENTS: devnet.bookPath,
    SENDNET_GRAPHQL: graphqlUrl,
    SENDNET_PRIVATE_KEY: key,
    ...extraEnv,
  });
}

async function sendnetJson<T = Record<string, unknown>>(
  args: readonly string[],
  key?: Hex,
  extraEnv?: Record<string, string>,
): Promise<T> {
  const run = await sendnet(['--json', ...args], key, extraEnv);
  assert.equal(run.code, 0, `sendnet ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** The epoch's report from chain events once its scores are fully published. */
const settled = (epoch: number): Promise<EpochReport> =>
  waitFor(
    `epoch ${epoch}'s scores to be published`,
    () => epochReport(devnet.client, devnet.book, epoch, []),
    SETTLE_TIMEOUT_MS,
    2000,
  );

/** Waits until graph-node has indexed `block` (and reports no indexing error). */
async function indexed(block: bigint): Promise<number> {
  return waitFor(
    `the subgraph to index block ${block}`,
    async () => {
      const { _meta } = await graphql<{ _meta: { block: { number: number }; hasIndexingErrors: boolean } }>(
        graphqlUrl,
        '{ _meta { block { number } hasIndexingErrors } }',
      );
      assert.equal(_meta.hasIndexingErrors, false, `indexing errors; see ${devnet.graph!.logPath}`);
      return BigInt(_meta.block.number) >= block ? _meta.block.number : undefined;
    },
    120_000,
    250,
  );
}

/** The block of the event that completed `epoch`'s score publication. */
async function scoresPublishedBlock(epoch: number): Promise<bigint> {
  const [event] = await devnet.client.getContractEvents({
    address: devnet.book.contracts.EpochSettlement,
    abi: epochSettlementAbi,
    eventName: 'ScoresFullyPublished',
    args: { epoch },
    fromBlock: BigInt(devnet.book.startBlock),
  });
  assert.ok(event, `epoch ${epoch}'s scores are published`);
  return event.blockNumber;
}

const evaluations = new Map<number, WorkerEvaluation>();

/** The keepers' computation of `epoch`: evaluateEpoch of the dataset the keeper serves for the on-chain dataHash. */
async function keeperScores(epoch: number): Promise<WorkerEvaluation> {
  const cached = evaluations.get(epoch);
  if (cached) return cached;
  const submission = await chain.submission(epoch);
  assert.ok(submission, `epoch ${epoch} is submitted`);
  const dataHash = submission.header.dataHash.toLowerCase() as Hex;
  const response = await fetch(`${devnet.keeper!.url}/datasets/${dataHash}`);
  assert.equal(response.status, 200, `the keeper serves epoch ${epoch}'s dataset`);
  const text = await response.text();
  assert.equal(keccakUtf8(text), dataHash);
  // on a worker: this process hosts the edge nodes and WatchDogs, whose challenges are real-time
  const evaluation = await evaluateInWorker(text, dataHash);
  assert.equal(
    firstHeaderDifference(evaluation.header, submission.header),
    null,
    `epoch ${epoch}: evaluateEpoch gives the on-chain header`,
  );
  evaluations.set(epoch, evaluation);
  return evaluation;
}

/** `sendnet --json rankings` output: the CLI's rows with bigints as decimal strings. */
type JsonOf<T> = { [K in keyof T]: T[K] extends bigint ? string : T[K] extends bigint | null ? string | null : T[K] };
interface RankingJson {
  by: string;
  epoch: number | null;
  rows: JsonOf<RankingRow>[];
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'devnet-journeys-'));
  console.log(`devnet data dir: ${dataDir}`);
  const started = Date.now();
  devnet = await Devnet.start({
    dataDir,
    population: POPULATION,
    graph: true,
    graphPort: await freePort(),
    log: pino({ level: 'info', base: undefined }, createWriteStream(join(dataDir, 'devnet.log'))),
  });
  graphqlUrl = devnet.graph!.graphqlUrl;
  chain = new ChainReader(devnet.client, devnet.book);
  console.log(
    `devnet with graph-node up in ${((Date.now() - started) / 1000).toFixed(1)} s; first network epoch ${devnet.firstEpoch}; GraphQL ${graphqlUrl}`,
  );
});

after(async () => {
  await stopService(edgeNode, 'SIGTERM');
  await devnet?.stop();
  if (failures.any || process.env.KEEP_DEVNET_DATA) console.log(`devnet files kept in ${dataDir}`);
  else if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// The journeys run while the network settles epochs: the node is registered first so that it is scored
// by the time the rankings are checked; the tests that wait for epochs come last.

/** The node the operator registers with sendnet (set by the first test, checked by the last). */
let cliNode:
  | { nodeKey: Hex; address: Address; operatorKey: Hex; operator: Address; port: number; registeredIn: number }
  | undefined;

test(
  'node journey, part 1: register and stake a node with sendnet, run the edge node on its endpoint',
  { timeout: 120_000 },
  failures.step(async () => {
    const operatorKey = devPrivateKey(1); // the devnet treasury holds SEND; it operates no other devnet node
    const operator = devAccount(1).address;
    const nodeKey = generatePrivateKey();
    const nodeAddress = privateKeyToAccount(nodeKey).address;
    const port = await freePort();

    const registered = await sendnetJson<{ nodeKey: string; operator: string }>(
      ['node', 'register', '--stake', '10000', '--endpoint', `ws://127.0.0.1:${port}`, '--metadata', 'devnet:cli-node'],
      operatorKey,
      { SENDNET_NODE_KEY: nodeKey },
    );
    assert.equal(registered.nodeKey, nodeAddress);
    const registeredIn = devnet.clock.currentEpoch();
    const status = await sendnetJson<{ status: string; operator: string }>(['node', 'status', nodeAddress]);
    assert.equal(status.status, 'Active');
    assert.equal(status.operator, operator);

    // the operator runs the reference edge node on the endpoint it registered
    edgeNode = startService({
      name: 'edge node (registered with sendnet)',
      entry: 'keepers/src/edge-node/main.ts',
      args: [
        '--data-dir',
        join(dataDir, 'cli-node'),
        '--port',
        String(port),
        '--address-book',
        devnet.bookPath,
        '--rpc-url',
        devnet.rpcUrl,
        // its commitments count only with the guardians' attestations
        ...devnet.guardianUrls.flatMap((g) => ['--guardian', g]),
      ],
      env: { EDGE_NODE_KEY: nodeKey },
      url: `http://127.0.0.1:${port}`,
      output: join(dataDir, 'cli-node.log'),
    });
    await waitForHealth(edgeNode);
    console.log(
      `node ${nodeAddress} registered with sendnet in epoch ${registeredIn}; its edge node is up on port ${port}`,
    );
    cliNode = { nodeKey, address: nodeAddress, operatorKey, operator, port, registeredIn };
  }),
);

test(
  "presale journey: allowlist purchase with the devnet's published allowlist file, a public purchase, license activation, a WatchDog license's reward claim; indexed",
  { timeout: 300_000 },
  failures.step(async () => {
    const buyerKey = devPrivateKey(DEMO_ACCOUNTS.buyer);
    const buyer = devAccount(DEMO_ACCOUNTS.buyer).address;
    const allowlist = JSON.parse(readFileSync(devnet.allowlistPath, 'utf8')) as {
      entries: { account: string; max: number }[];
    };
    assert.equal(allowlist.entries.length, POPULATION.watchdogs + 1, 'the WatchDog owners and the demo buyer');

    const status = await sendnetJson<{ allowlist: { open: boolean }; sold: number }>(['presale', 'status']);
    assert.equal(status.allowlist.open, true, 'the devnet opened the allowlist phase');
    assert.equal(status.sold, POPULATION.watchdogs, 'the WatchDogs bought one license each');

    const bought = await sendnetJson<{ phase: string; tokenIds: string[] }>(
      ['presale', 'buy', '--allowlist', devnet.allowlistPath, '--quantity', '2', '--max-total-cost', '0.25'],
      buyerKey,
    );
    assert.equal(bought.phase, 'allowlist');
    assert.equal(bought.tokenIds.length, 2);
    const over = await sendnet(['presale', 'buy', '--allowlist', devnet.allowlistPath, '--quantity', '2'], buyerKey);
    assert.equal(over.code, 4, over.stderr);
    assert.ok(isOneSentence(over.stderr), over.stderr);
    assert.match(over.stderr, /Cap reached: only 1 license is left for this phase, asked for 2\./);

    // the sale owner opens the public phase now (the devnet config opens it 600 s after deployment)
    const presale = devnet.book.contracts.WatchDogPresale;
    const owner = createWalletClient({
      chain: { ...foundry, id: devnet.book.chainId },
      transport: http(devnet.rpcUrl),
      account: devAccount(0),
    });
    const now = Number((await devnet.client.getBlock()).timestamp);
    const { publicStart } = await devnet.client.readContract({
      address: presale,
      abi: watchDogPresaleAbi,
      functionName: 'schedule',
    });
    if (Number(publicStart) > now + 2) {
      const hash = await owner.writeContract({
        address: presale,
        abi: watchDogPresaleAbi,
        functionName: 'setPublicPhase',
        args: [{ start: now + 2, end: now + 86_400, walletCap: 5, txCap: 3 }],
      });
      assert.equal((await devnet.client.waitForTransactionReceipt({ hash })).status, 'success');
    }
    const publicBuy = await waitFor(
      'the public phase to open for sendnet',
      async () => {
        const run = await sendnet(['--json', 'presale', 'buy', '--quantity', '1', '--max-total-cost', '0.2'], buyerKey);
        if (run.code === 4 && /not open yet/.test(run.stderr)) return undefined;
        assert.equal(run.code, 0, run.stderr);
        return JSON.parse(run.stdout) as { phase: string; tokenIds: string[] };
      },
      30_000,
    );
    assert.equal(publicBuy.phase, 'public');

    const watchdogOperator = privateKeyToAccount(generatePrivateKey()).address;
    const tokenId = bought.tokenIds[0]!;
    const activated = await sendnetJson<{ operator: string }>(
      ['license', 'activate', tokenId, '--operator', watchdogOperator],
      buyerKey,
    );
    assert.equal(activated.operator, watchdogOperator);

    await indexed(await devnet.client.getBlockNumber());
    const data = await waitFor(
      'the subgraph to index the purchases',
      async () => {
        const d = await graphql<{
          purchases: { phase: string; quantity: number; firstTokenId: string }[];
          license: { owner: { id: string }; operator: string | null } | null;
        }>(
          graphqlUrl,
          `{ purchases(where: {buyer: "${buyer.toLowerCase()}"}, orderBy: blockNumber) { phase quantity firstTokenId } license(id: "${tokenId}") { owner { id } operator } }`,
        );
        return d.purchases.length === 2 && d.license?.operator ? d : undefined;
      },
      60_000,
    );
    assert.deepEqual(data.purchases, [
      { phase: 'Allowlist', quantity: 2, firstTokenId: bought.tokenIds[0] },
      { phase: 'Public', quantity: 1, firstTokenId: publicBuy.tokenIds[0] },
    ]);
    assert.deepEqual(data.license, { owner: { id: buyer.toLowerCase() }, operator: watchdogOperator.toLowerCase() });

    // License rewards: a WatchDog's license earned its share of the license emission for its challenges; anyone
    // may send the claim (here the buyer), LicenseRewards pays the license's holder what the keepers computed
    const watchdogLicense = devnet.watchdogs[0]!.tokenId;
    const holder = privateKeyToAccount(devnet.population.watchdogs[0]!.ownerKey).address;
    const settlement = devnet.book.contracts.EpochSettlement;
    await waitFor(
      `epoch ${devnet.firstEpoch} to be final`,
      async () =>
        (
          await devnet.client.readContract({
            address: settlement,
            abi: epochSettlementAbi,
            functionName: 'claimableRewardRoot',
          })
        )[0] >= devnet.firstEpoch,
    );
    const balance = () =>
      devnet.client.readContract({
        address: devnet.book.contracts.SendToken,
        abi: sendTokenAbi,
        functionName: 'balanceOf',
        args: [holder],
      });
    const before = await balance();
    let claim: CliRun;
    for (let attempt = 1; ; attempt++) {
      claim = await sendnet(
        [
          '--json',
          'license',
          'claim',
          String(watchdogLicense),
          '--proofs',
          `${devnet.keeper!.url}/epochs/{epoch}/claims`,
        ],
        buyerKey,
      );
      if (claim.code === 0 || attempt === 3) break;
      console.log(`license claim attempt ${attempt}: ${claim.stderr.trim()}`); // the finalized epoch moved on meanwhile
    }
    assert.equal(claim.code, 0, claim.stderr);
    const claimed = JSON.parse(claim.stdout) as { holder: string; paid: string; epoch: number };
    assert.equal(claimed.holder, holder);
    const paid = (await balance()) - before;
    assert.ok(paid > 0n, 'the license holder was paid');
    assert.equal(paid.toString(), claimed.paid);
    const leaf = (await keeperScores(claimed.epoch)).licenses.find((l) => l.tokenId === watchdogLicense);
    assert.equal(
      leaf?.cumulative,
      paid,
      `the license claim paid the scoring function's cumulative amount of epoch ${claimed.epoch}`,
    );
    console.log(
      `license ${watchdogLicense} (WatchDog 0) claimed ${paid} wei for its holder = scoring cumulative of epoch ${claimed.epoch}`,
    );
    const indexedClaim = await waitFor(
      'the subgraph to index the license reward claim',
      async () => {
        const d = await graphql<{ license: { rewardsClaimed: string } | null }>(
          graphqlUrl,
          `{ license(id: "${watchdogLicense}") { rewardsClaimed } }`,
        );
        return d.license && d.license.rewardsClaimed !== '0' ? d.license : undefined;
      },
      60_000,
      500,
    );
    assert.equal(indexedClaim.rewardsClaimed, paid.toString());
  }),
);

test(
  'DID journey: register a DID, add a device key, resolve it; indexed',
  { timeout: 300_000 },
  failures.step(async () => {
    const ownerKey = devPrivateKey(DEMO_ACCOUNTS.didOwner);
    const owner = devAccount(DEMO_ACCOUNTS.didOwner).address;
    const name = `carol-${Date.now().toString(36)}`;
    const deviceKey = generatePrivateKey(); // 32 random bytes, as an Ed25519 public key
    const registered = await sendnetJson<{ ensName: string; id: string }>(['did', 'register', name], ownerKey);
    assert.equal(registered.ensName, `${name}.send`);
    await sendnetJson(['did', 'keys', 'add', name, deviceKey, '--type', 'ed25519', '--metadata', 'laptop'], ownerKey);
    const resolved = await sendnetJson<{ address: Address; keys: { key: string; type: string; metadata: string }[] }>([
      'did',
      'resolve',
      name,
    ]);
    assert.equal(resolved.address, owner);
    assert.deepEqual(
      resolved.keys.map((k) => [k.key, k.type, k.metadata]),
      [[deviceKey, 'ed25519', 'laptop']],
    );

    const did = await waitFor(
      'the subgraph to index the DID and its key',
      async () => {
        const d = await graphql<{
          did: { name: string; owner: { id: string }; keys: { id: string; keyType: string; status: string }[] } | null;
        }>(graphqlUrl, `{ did(id: "${registered.id}") { name owner { id } keys { id keyType status } } }`);
        return d.did && d.did.keys.length === 1 ? d.did : undefined;
      },
      60_000,
    );
    assert.deepEqual(did, {
      name,
      owner: { id: owner.toLowerCase() },
      keys: [{ id: deviceKey, keyType: 'Ed25519', status: 'Active' }],
    });
  }),
);

test(
  "GraphQL rankings of two network epochs equal the keepers' scores and the chain; time travel and _meta",
  { timeout: 600_000 },
  failures.step(async () => {
    const E = devnet.firstEpoch;
    const blocks: bigint[] = [];
    for (const epoch of [E, E + 1]) {
      const report = await settled(epoch);
      const block = await scoresPublishedBlock(epoch);
      blocks.push(block);
      await indexed(block);
      const evaluation = await keeperScores(epoch);
      const ranking = await sendnetJson<RankingJson>(['rankings', '--epoch', String(epoch), '--top', '1000']);
      assert.equal(ranking.epoch, epoch);
      assert.equal(ranking.rows.length, evaluation.scores.length, `epoch ${epoch}: every scored node is ranked`);
      assert.ok(
        ranking.rows.length >= POPULATION.nodes,
        `epoch ${epoch}: at least the ${POPULATION.nodes} devnet nodes`,
      );
      ranking.rows.forEach((row, i) => {
        const mine = evaluation.scores[i]!; // evaluateEpoch lists scores in rank order
        const onChain = report.rows[i]!;
        const expected = {
          nodeKey: mine.nodeKey.toLowerCase(),
          rank: mine.rank,
          score: mine.score,
          availability: mine.availability,
          latencyP50Ms: mine.latencyP50Ms,
          latencyP95Ms: mine.latencyP95Ms,
          verifiedUnits: mine.verifiedUnits.toString(),
          reward: mine.reward.toString(),
        };
        const got = {
          nodeKey: row.nodeKey,
          rank: row.rank,
          score: row.score,
          availability: row.availability,
          latencyP50Ms: row.latencyP50Ms,
          latencyP95Ms: row.latencyP95Ms,
          verifiedUnits: row.verifiedUnits,
          reward: row.reward,
        };
        assert.deepEqual(got, expected, `epoch ${epoch}, position ${i + 1}: GraphQL = the keepers' scores`);
        assert.deepEqual(
          [onChain.nodeKey, onChain.rank, onChain.score, onChain.reward],
          [expected.nodeKey, expected.rank, expected.score, mine.reward],
          `epoch ${epoch}, position ${i + 1}: the chain holds the same`,
        );
      });
      assert.ok(
        ranking.rows.some((r) => (r.score ?? 0) > 0),
        `epoch ${epoch}: some node scored`,
      );

      // the other orders of the same epoch
      for (const [by, key] of [
        ['uptime', 'availability'],
        ['volume', 'verifiedUnits'],
        ['rewards', 'reward'],
      ] as const) {
        const ordered = await sendnetJson<RankingJson>([
          'rankings',
          '--epoch',
          String(epoch),
          '--by',
          by,
          '--top',
          '1000',
        ]);
        const values = ordered.rows.map((r) => BigInt(r[key] ?? 0));
        assert.deepEqual(
          values,
          [...values].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)),
          `epoch ${epoch} --by ${by} is in descending ${key}`,
        );
        assert.deepEqual(
          new Set(ordered.rows.map((r) => r.nodeKey)),
          new Set(ranking.rows.map((r) => r.nodeKey)),
          `epoch ${epoch} --by ${by} ranks the same nodes`,
        );
      }
    }

    // the epoch entity carries the header the guardians signed
    const submission = await chain.submission(E);
    const h = submission!.header;
    const { epoch: entity } = await graphql<{ epoch: Record<string, unknown> & { status: string } }>(
      graphqlUrl,
      `{ epoch(id: "${E}") { number consensusVersion faultCount totalCumulative epochEmission rewardRoot faultRoot scoresHash dataHash seed submitter submissions scoresPublished publishedCount status } }`,
    );
    const { status: epochStatus, ...fields } = entity;
    const { epoch: number, ...signed } = headerToWire(h); // decimal amounts, lowercase hex: the subgraph's form
    assert.deepEqual(fields, {
      number,
      ...signed,
      submitter: devAccount(2).address.toLowerCase(), // the devnet keeper
      submissions: 1,
      scoresPublished: true,
      publishedCount: (await keeperScores(E)).scores.length,
    });
    assert.ok(['Pending', 'Finalized'].includes(epochStatus), `epoch ${E} is ${epochStatus}`);

    // by cumulative rewards over all epochs (no --epoch): descending
    const byRewards = await sendnetJson<RankingJson>(['rankings', '--by', 'rewards', '--top', '1000']);
    const cumulative = byRewards.rows.map((r) => BigInt(r.cumulativeRewards));
    assert.deepEqual(
      cumulative,
      [...cumulative].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)),
      '--by rewards is in descending cumulative rewards',
    );
    assert.ok(cumulative[0]! > 0n);

    // time travel: at the block that completed epoch E's scores, E is the latest scored epoch and each node's
    // cumulative rewards are the sum of what the chain published up to that block
    const [blockE] = blocks;
    const then = await graphql<{
      epoches: { number: number }[];
      nodes: { id: string; latestEpoch: number | null; cumulativeRewards: string }[];
    }>(
      graphqlUrl,
      `{ epoches(block: {number: ${blockE}}, first: 1, orderBy: number, orderDirection: desc, where: {scoresPublished: true}) { number }
       nodes(block: {number: ${blockE}}, first: 1000) { id latestEpoch cumulativeRewards } }`,
    );
    assert.deepEqual(then.epoches, [{ number: E }], `at block ${blockE} the latest scored epoch is ${E}`);
    const published = await devnet.client.getContractEvents({
      address: devnet.book.contracts.EpochSettlement,
      abi: epochSettlementAbi,
      eventName: 'NodeScorePublished',
      fromBlock: BigInt(devnet.book.startBlock),
      toBlock: blockE,
    });
    const sums = new Map<string, bigint>();
    for (const log of published)
      sums.set(log.args.nodeKey!.toLowerCase(), (sums.get(log.args.nodeKey!.toLowerCase()) ?? 0n) + log.args.reward!);
    for (const node of then.nodes) {
      assert.equal(
        node.cumulativeRewards,
        (sums.get(node.id) ?? 0n).toString(),
        `node ${node.id}: cumulative rewards at block ${blockE}`,
      );
      if (sums.has(node.id)) assert.equal(node.latestEpoch, E, `node ${node.id}: latest epoch at block ${blockE}`);
    }
    const now = await sendnetJson<RankingJson>(['rankings', '--top', '1']);
    assert.ok(now.epoch! > E, 'the latest ranking has moved on since');

    // _meta: the indexed block is real and not ahead of the chain
    const { _meta } = await graphql<{ _meta: { block: { number: number; hash: string } } }>(
      graphqlUrl,
      '{ _meta { block { number hash } } }',
    );
    const head = await devnet.client.getBlockNumber({ cacheTime: 0 }); // read after: the chain only grows
    assert.ok(
      BigInt(_meta.block.number) >= blocks[1]! && BigInt(_meta.block.number) <= head,
      `_meta block ${_meta.block.number} is between ${blocks[1]} and the head ${head}`,
    );
    const block = await devnet.client.getBlock({ blockNumber: BigInt(_meta.block.number) });
    assert.equal(_meta.block.hash, block.hash, "_meta names the chain's block");
  }),
);

test(
  'node journey, part 2: the node is challenged, scored and ranked after an epoch; its operator claims the reward',
  { timeout: 600_000 },
  failures.step(async () => {
    assert.ok(cliNode, 'part 1 registered the node');
    const { address: nodeAddress, operatorKey, operator, port, registeredIn } = cliNode;
    // It joins the node set from the next epoch on; the WatchDogs challenge it like any other node.
    let scoredIn = 0;
    let row: RankingJson['rows'][number] | undefined;
    for (let epoch = registeredIn + 1; epoch <= registeredIn + 3 && !scoredIn; epoch++) {
      const report = await settled(epoch);
      await indexed(await scoresPublishedBlock(epoch));
      const ranking = await sendnetJson<RankingJson>(['rankings', '--epoch', String(epoch), '--top', '100']);
      row = ranking.rows.find((r) => r.nodeKey === nodeAddress.toLowerCase());
      const onChain = report.rows.find((r) => r.nodeKey === nodeAddress.toLowerCase());
      assert.equal(
        Boolean(row),
        Boolean(onChain),
        `epoch ${epoch}: the subgraph ranks the node iff the chain scored it`,
      );
      if (row && onChain) {
        assert.deepEqual(
          [row.rank, row.score, row.reward],
          [onChain.rank, onChain.score, onChain.reward.toString()],
          `epoch ${epoch}: the node's ranking row is the chain's`,
        );
        if (onChain.score > 0 && onChain.reward > 0n) scoredIn = epoch;
      }
    }
    assert.ok(
      scoredIn,
      `the node was scored and paid within 3 epochs of registering (last row: ${JSON.stringify(row)})`,
    );
    console.log(
      `epoch ${scoredIn}: the sendnet-registered node ranks ${row!.rank} with score ${row!.score} ppm, reward ${row!.reward} wei`,
    );

    // the node's entity as of the block that completed that epoch's scores
    const scoredBlock = await scoresPublishedBlock(scoredIn);
    const ownScores = await devnet.client.getContractEvents({
      address: devnet.book.contracts.EpochSettlement,
      abi: epochSettlementAbi,
      eventName: 'NodeScorePublished',
      args: { nodeKey: nodeAddress },
      fromBlock: BigInt(devnet.book.startBlock),
      toBlock: scoredBlock,
    });
    const { node } = await graphql<{ node: Record<string, unknown> }>(
      graphqlUrl,
      `{ node(id: "${nodeAddress.toLowerCase()}", block: {number: ${scoredBlock}}) { operator stake status strikes endpoint metadataURI latestEpoch latestRank latestScore latestAvailability latestVerifiedUnits latestReward totalVerifiedUnits cumulativeRewards } }`,
    );
    assert.deepEqual(node, {
      operator: operator.toLowerCase(),
      stake: (10_000n * 10n ** 18n).toString(),
      status: 'Active',
      strikes: 0,
      endpoint: `ws://127.0.0.1:${port}`,
      metadataURI: 'devnet:cli-node',
      latestEpoch: scoredIn,
      latestRank: row!.rank,
      latestScore: row!.score,
      latestAvailability: row!.availability,
      latestVerifiedUnits: row!.verifiedUnits,
      latestReward: row!.reward,
      totalVerifiedUnits: ownScores.reduce((sum, l) => sum + l.args.verifiedUnits!, 0n).toString(),
      cumulativeRewards: ownScores.reduce((sum, l) => sum + l.args.reward!, 0n).toString(),
    });

    // the latest ranking, as a person reads it
    const table = await sendnet(['rankings', '--top', '100']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Top 100 nodes by score, epoch \d+/);
    assert.ok(
      table.stdout.toLowerCase().includes(nodeAddress.toLowerCase()),
      `the node is in the table:\n${table.stdout}`,
    );

    // rewards: once an epoch that paid it is final, claim with the proofs the keeper publishes
    const settlement = devnet.book.contracts.EpochSettlement;
    await waitFor(
      `epoch ${scoredIn} to be final`,
      async () =>
        (
          await devnet.client.readContract({
            address: settlement,
            abi: epochSettlementAbi,
            functionName: 'claimableRewardRoot',
          })
        )[0] >= scoredIn,
    );
    const balance = () =>
      devnet.client.readContract({
        address: devnet.book.contracts.SendToken,
        abi: sendTokenAbi,
        functionName: 'balanceOf',
        args: [operator],
      });
    const before = await balance();
    let claim: CliRun;
    // the finalized epoch may move on between the CLI's lookup and its transaction: it then says so; try again
    for (let attempt = 1; ; attempt++) {
      claim = await sendnet(
        ['--json', 'node', 'claim', '--proofs', `${devnet.keeper!.url}/epochs/{epoch}/claims`],
        operatorKey,
      );
      if (claim.code === 0 || attempt === 3) break;
      console.log(`claim attempt ${attempt}: ${claim.stderr.trim()}`);
    }
    assert.equal(claim.code, 0, claim.stderr);
    const claimed = JSON.parse(claim.stdout) as { paid: string; epoch: number };
    const paid = (await balance()) - before;
    assert.ok(paid > 0n, 'the operator was paid');
    assert.equal(paid.toString(), claimed.paid);
    const evaluation = await keeperScores(claimed.epoch);
    const leaf = evaluation.cumulative.find((c) => c.account.toLowerCase() === operator.toLowerCase());
    assert.equal(
      leaf?.cumulative,
      paid,
      `the claim paid the scoring function's cumulative amount of epoch ${claimed.epoch}`,
    );
    const account = await waitFor(
      'the subgraph to index the claim',
      async () => {
        const { account: a } = await graphql<{
          account: { claimedRewards: string; claims: { amount: string }[] } | null;
        }>(graphqlUrl, `{ account(id: "${operator.toLowerCase()}") { claimedRewards claims { amount } } }`);
        return a && a.claims.length > 0 ? a : undefined;
      },
      60_000,
      500,
    );
    assert.deepEqual(account, { claimedRewards: paid.toString(), claims: [{ amount: paid.toString() }] });
  }),
);
