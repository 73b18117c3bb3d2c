/**
 * The keeper pipeline end to end on a real chain (anvil, 1 s blocks, the devnet deployment), a real Redis
 * (AOF) and seven real guardian services (guardian/guardian.ts, which re-derive everything from the chain
 * and run evaluateEpoch before signing):
 *
 * 1. An in-process Keeper settles epochs on its own: the first epochs have no nodes; in epoch T (the first
 *    to start after the registrations, usually 2) three registered nodes are Active — a real edge node (edge-node/edgeNode.ts) relaying envelopes between two real
 *    clients with on-chain DIDs, whose openings the keeper samples and evaluateEpoch verifies; one that
 *    commits (a real signed Merkle-sum commitment) and then stays silent on openings, so the epoch has a
 *    strike fault that the keeper executes after finality; and an unreachable one. Scores are published,
 *    the dataset is served, every stage completed once, metrics count it.
 * 2. The keeper CLI in a child process is SIGKILLed right after broadcasting epoch 3's submitEpoch, and
 *    right after signing and storing epoch 4's (before sending it); each time a restarted keeper finishes
 *    the epoch and there is exactly one EpochSubmitted per epoch — the stored transaction was found or
 *    re-broadcast, never rebuilt.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseEventLogs,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { pino } from 'pino';
import { freePort, startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../src/devnet/devAccounts.js';
import { forgeScratchDir, repoRoot } from '../src/dev/foundry.js';
import type { AddressBook } from '../src/chain/addressBook.js';
import { DEVNET_CONSENSUS } from '../src/core/consensus.js';
import { canonicalJson, keccakUtf8 } from '../src/core/canonicalJson.js';
import { evaluateEpoch } from '../src/core/dataset.js';
import {
  headerToWire,
  KEEPER_SIGNATURE_HEADER,
  KEEPER_TIMESTAMP_HEADER,
  keeperAuthHash,
} from '../src/core/guardianApi.js';
import {
  nodeStakingDomain,
  signCommitment,
  signNodeKeyConsent,
  signedCommitmentToWire,
} from '../src/core/commitment.js';
import { epochSettlementAbi, nodeStakingAbi, sendTokenAbi } from '../src/generated/contracts.js';
import { ensureRedis, redisConnection, type RedisHandle } from '../src/infra/redis.js';
import { Keeper } from '../src/keeper/keeper.js';
import { STAGES } from '../src/keeper/stages.js';
import { GuardianService } from '../src/guardian/guardian.js';
import { EdgeNode } from '../src/edge-node/edgeNode.js';
import { publishCommitments } from '../src/edge-node/guardianPublisher.js';
import { EpochClock } from '../src/core/epochClock.js';
import { RelayClient, registerClientIdentity } from '../src/client/relayClient.js';
import { commitmentOf, makeDevices, makeReceipts, treeOf } from './helpers/epochFixture.js';

const quiet = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const TIMING = {
  openingsWindowSeconds: 4,
  transcriptGraceSeconds: 1,
  requestTimeoutMs: 1000,
  schedulerIntervalMs: 500,
  commitmentFetches: 2,
};

let anvil: AnvilHandle;
let book: AddressBook;
let bookPath: string;
let client: PublicClient;
let redis: RedisHandle;
let tmp: string;
let guardians: GuardianService[] = [];
let guardianUrls: string[] = [];
let silentNode: Server | undefined;
let silentTimer: NodeJS.Timeout | undefined;
/** The keepers' HTTP ports, known before the guardians start (their only dataset origins). */
let keeperPort: number;
let cliPort: number;
/** A third party's dataset server (an allowed origin only of the framing test's cloned guardian). */
let rogue: Server | undefined;
let rogueUrl: string;
const rogueDatasets = new Map<string, string>();

/** POST /sign, authenticated as `as` (a keeper account) or not at all. */
async function postSign(
  url: string,
  body: unknown,
  as: { signMessage: ReturnType<typeof devAccount>['signMessage'] } | null,
) {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (as) {
    const timestamp = Math.floor(Date.now() / 1000);
    headers[KEEPER_TIMESTAMP_HEADER] = String(timestamp);
    headers[KEEPER_SIGNATURE_HEADER] = await as.signMessage({
      message: { raw: keeperAuthHash(timestamp, new TextEncoder().encode(text)) },
    });
  }
  const response = await fetch(`${url}/sign`, { method: 'POST', headers, body: text });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
let silentNodeKey: Address;
let unreachableNodeKey: Address;
let edgeNode: EdgeNode | undefined;
const relayClients: RelayClient[] = [];
/** The first epoch whose start block follows every registration of `before`. */
let targetEpoch: number;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function submittedEvents(epoch: number) {
  const logs = await client.getContractEvents({
    address: book.contracts.EpochSettlement,
    abi: epochSettlementAbi,
    eventName: 'EpochSubmitted',
    args: { epoch },
    fromBlock: 0n,
  });
  return logs;
}

async function epochStatus(epoch: number): Promise<number> {
  return client.readContract({
    address: book.contracts.EpochSettlement,
    abi: epochSettlementAbi,
    functionName: 'epochStatus',
    args: [epoch],
  });
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * A node that commits for real (signed Merkle-sum root over real receipts), sends its commitment to the
 * guardians inside each commit window like the reference node, and never answers openings.
 */
async function startSilentNode(nodePrivateKey: Hex): Promise<string> {
  const nodeKey = privateKeyToAccount(nodePrivateKey).address;
  const domain = nodeStakingDomain(book.chainId, book.contracts.NodeStaking);
  const devices = makeDevices(4);
  const byEpoch = new Map<number, unknown>();
  const commitmentOfEpoch = async (epoch: number) => {
    if (!byEpoch.has(epoch)) {
      const commitment = commitmentOf(epoch, treeOf(makeReceipts(nodeKey, epoch, devices, 12)));
      const signature = await signCommitment(nodePrivateKey, domain, commitment);
      byEpoch.set(epoch, signedCommitmentToWire({ commitment, signature, nodeKey: nodeKey.toLowerCase() as Address }));
    }
    return byEpoch.get(epoch);
  };
  const clock = new EpochClock({
    genesisTime: book.genesisTime,
    epochDurationSeconds: book.epochDurationSeconds,
    commitGraceSeconds: DEVNET_CONSENSUS.commitGraceSeconds,
  });
  const published = new Set<number>();
  silentTimer = setInterval(() => {
    const epoch = clock.currentEpoch() - 1;
    if (epoch < 1 || published.has(epoch) || Date.now() >= clock.commitDeadline(epoch) * 1000) return;
    published.add(epoch);
    void commitmentOfEpoch(epoch).then((c) =>
      publishCommitments({ guardianUrls, commitments: [c], deadlineMs: clock.commitDeadline(epoch) * 1000 }),
    );
  }, 500);
  const server = createServer((req, res) => {
    void (async () => {
      const m = /^\/epochs\/(\d+)\/(commitment|openings)$/.exec(req.url ?? '');
      if (!m) return res.writeHead(404).end();
      if (m[2] === 'openings')
        return res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(await commitmentOfEpoch(Number(m[1]))));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  silentNode = server;
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function registerNode(nodePrivateKey: Hex, endpoint: string): Promise<Address> {
  const operator = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account: devAccount(1) });
  const staking = book.contracts.NodeStaking;
  const nodeKey = privateKeyToAccount(nodePrivateKey).address;
  const minStake = await client.readContract({ address: staking, abi: nodeStakingAbi, functionName: 'minStake' });
  const approve = await operator.writeContract({
    address: book.contracts.SendToken,
    abi: sendTokenAbi,
    functionName: 'approve',
    args: [staking, minStake],
  });
  await client.waitForTransactionReceipt({ hash: approve });
  const consent = await signNodeKeyConsent(
    nodePrivateKey,
    nodeStakingDomain(book.chainId, staking),
    devAccount(1).address,
  );
  const hash = await operator.writeContract({
    address: staking,
    abi: nodeStakingAbi,
    functionName: 'register',
    args: [nodeKey, minStake, consent, endpoint, ''],
  });
  assert.equal((await client.waitForTransactionReceipt({ hash })).status, 'success');
  return nodeKey.toLowerCase() as Address;
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'keeper-e2e-'));
  anvil = await startAnvil({ blockTime: 1 });
  bookPath = join(forgeScratchDir('book'), 'addresses.json');
  ({ book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0), addressBookPath: bookPath }));
  client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) }) as PublicClient;
  redis = await ensureRedis({ url: `redis://127.0.0.1:${await freePort()}`, dataDir: join(tmp, 'redis') });
  const contracts = {
    staking: book.contracts.NodeStaking,
    settlement: book.contracts.EpochSettlement,
    didRegistry: book.contracts.DidRegistry,
    license: book.contracts.WatchDogLicense,
    licenseRewards: book.contracts.LicenseRewards,
  };
  rogue = createServer((req, res) => {
    const body = rogueDatasets.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(body ?? '{}');
  });
  await new Promise<void>((resolve) => rogue!.listen(0, '127.0.0.1', () => resolve()));
  rogueUrl = `http://127.0.0.1:${(rogue.address() as { port: number }).port}`;
  keeperPort = await freePort();
  cliPort = await freePort();
  guardians = [3, 4, 5, 6, 7, 8, 9].map(
    (i) =>
      new GuardianService({
        rpcUrl: anvil.rpcUrl,
        privateKey: devPrivateKey(i),
        chainId: book.chainId,
        contracts,
        consensus: DEVNET_CONSENSUS,
        dataDir: join(tmp, `guardian-${i}`),
        fromBlock: BigInt(book.startBlock),
        openingsWindowSeconds: TIMING.openingsWindowSeconds,
        transcriptGraceSeconds: TIMING.transcriptGraceSeconds,
        keepers: [devAccount(2).address],
        datasetOrigins: [`http://127.0.0.1:${keeperPort}`, `http://127.0.0.1:${cliPort}`],
        logger: quiet,
      }),
  );
  guardianUrls = await Promise.all(guardians.map((g) => g.start()));
  // Registered now: Active from the next epoch's start block on (epoch 1 started at deployment).
  silentNodeKey = await registerNode(`0x${'a1'.repeat(32)}`, await startSilentNode(`0x${'a1'.repeat(32)}`));
  unreachableNodeKey = await registerNode(generatePrivateKey(), 'ws://127.0.0.1:1');
  const edgeKey = generatePrivateKey();
  edgeNode = new EdgeNode({
    nodeKey: edgeKey,
    dataDir: join(tmp, 'edge-node'),
    clock: new EpochClock({
      genesisTime: book.genesisTime,
      epochDurationSeconds: book.epochDurationSeconds,
      commitGraceSeconds: DEVNET_CONSENSUS.commitGraceSeconds,
    }),
    domain: nodeStakingDomain(book.chainId, book.contracts.NodeStaking),
    guardianUrls,
    logger: quiet,
  });
  await edgeNode.start();
  await registerNode(edgeKey, edgeNode.url);
  // two clients with DIDs and device keys on-chain, connected to the edge node
  const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport: http(anvil.rpcUrl) });
  for (const name of ['alice-e2e', 'bob-e2e']) {
    const key = generatePrivateKey();
    await testClient.setBalance({ address: privateKeyToAccount(key).address, value: 10n ** 20n });
    const wallet = createWalletClient({
      chain: foundry,
      transport: http(anvil.rpcUrl),
      account: privateKeyToAccount(key),
    });
    const { did, device } = await registerClientIdentity(wallet, client, book, name);
    const relay = new RelayClient({ device, did, reconnect: false, logger: quiet });
    await relay.connect(edgeNode.url);
    relayClients.push(relay);
  }
  const now = Number((await client.getBlock({ blockTag: 'latest' })).timestamp);
  targetEpoch = Math.floor((now - book.genesisTime) / book.epochDurationSeconds) + 2;
});

after(async () => {
  await Promise.all(relayClients.map((c) => c.close()));
  await edgeNode?.stop();
  await Promise.all(guardians.map((g) => g.stop()));
  clearInterval(silentTimer);
  rogue?.close();
  silentNode?.close();
  await redis?.stop();
  await anvil?.stop();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(bookPath ?? join(tmp, 'none'), { force: true });
});

test('a keeper settles epochs end to end: datasets, guardian quorum, submit, scores, fault execution', {
  timeout: 240_000,
}, async () => {
  const keeper = new Keeper({
    rpcUrl: anvil.rpcUrl,
    addressBook: book,
    privateKey: devPrivateKey(2),
    redisUrl: redis.url,
    guardianUrls,
    httpPort: keeperPort,
    dataDir: join(tmp, 'keeper-a'),
    timing: TIMING,
    lockDurationMs: 3000,
    log: quiet,
  });
  await keeper.start();
  try {
    // T = the first epoch that starts after every registration: its nodes are the three registered ones
    // (earlier epochs have none or some of them). Traffic through the real edge node happens during T.
    const T = targetEpoch;
    const tStart = book.genesisTime + (T - 1) * book.epochDurationSeconds;
    while (Date.now() / 1000 < tStart + 1) await sleep(200);
    const [alice, bob] = relayClients;
    for (let i = 0; i < 6; i++) {
      await alice!.send(bob!.key, `hello ${i}`);
      await bob!.send(alice!.key, `hi ${i}`);
    }
    // epoch T is submitted, then finalized and its fault executed
    await waitFor(`epoch ${T} submitted`, async () => (await epochStatus(T)) !== 0, 150_000 + T * 20_000);
    await waitFor(
      `execute-faults of epoch ${T}`,
      async () => (await keeper.queues.state('execute-faults', T)) === 'completed',
      60_000,
    );

    for (let epoch = 1; epoch <= T; epoch++) {
      const events = await submittedEvents(epoch);
      assert.equal(events.length, 1, `exactly one EpochSubmitted for epoch ${epoch}`);
      const header = events[0]!.args.header!;
      // the dataset behind the header is served by the keeper and hashes to dataHash
      const res = await fetch(`${keeper.httpUrl}/datasets/${header.dataHash}`);
      assert.equal(res.status, 200);
      const dataset = await res.json();
      assert.equal(keccakUtf8(canonicalJson(dataset)), header.dataHash);
      assert.equal(dataset.epoch, epoch);
      // pipeline status: every stage completed
      const status = await (await fetch(`${keeper.httpUrl}/epochs/${epoch}`)).json();
      for (const stage of STAGES)
        assert.deepEqual(status.stages[stage], { job: 'completed', done: true }, `epoch ${epoch} stage ${stage}`);
      assert.deepEqual(status.deadLetters, []);
    }

    const headerT = (await submittedEvents(T))[0]!.args.header!;
    const dataT = await (await fetch(`${keeper.httpUrl}/datasets/${headerT.dataHash}`)).json();
    const edgeKey = edgeNode!.address;
    assert.deepEqual(
      dataT.nodes.map((n: { nodeKey: string }) => n.nodeKey).sort(),
      [silentNodeKey, unreachableNodeKey, edgeKey].sort(),
    );
    assert.equal(
      dataT.commitments.length,
      2,
      'the edge node and the silent node committed; the unreachable one did not',
    );
    assert.deepEqual(
      dataT.openings.map((o: { nodeKey: string; status: string }) => [o.nodeKey, o.status]).sort(),
      [
        [edgeKey, 'ok'],
        [silentNodeKey, 'silent'],
      ].sort(),
    );
    const edgeOpenings = dataT.openings.find((o: { nodeKey: string }) => o.nodeKey === edgeKey);
    assert.equal(edgeOpenings.openings.length, DEVNET_CONSENSUS.k);
    // the keys the receipts name are listed Active (registered DIDs)
    assert.ok(dataT.keys.length >= 2 && dataT.keys.every((k: { active: boolean }) => k.active));
    // the guardians paid in T are those whose signatures settled T − 1 (the keeper submitted it)
    const previous = await client.getTransaction({ hash: (await submittedEvents(T - 1))[0]!.transactionHash });
    assert.equal(previous.from.toLowerCase(), devAccount(2).address.toLowerCase());
    assert.ok(dataT.signersPaid.length >= 5);

    const submitT = await keeper.env.store.getStage(T, 'submit');
    assert.equal(submitT?.headerMatches, true);
    assert.equal(submitT?.submittedByUs, true);
    const scoreT = await keeper.env.store.getStage(T, 'score');
    const explain = JSON.stringify(
      { faults: scoreT?.faults, rejected: scoreT?.rejected, scores: scoreT?.scores },
      (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
    );
    assert.deepEqual(
      scoreT?.rejected.filter((r) => r.kind === 'openings'),
      [],
      explain,
    );
    assert.ok(
      scoreT!.scores.find((x) => x.nodeKey === edgeKey)!.verifiedUnits > 0n,
      `the edge node earned volume credit: ${explain}`,
    );
    // one fault leaf (strike for the silent node), executed on-chain after finality
    assert.equal(headerT.faultCount, 1, explain);
    const faults = await client.getContractEvents({
      address: book.contracts.EpochSettlement,
      abi: epochSettlementAbi,
      eventName: 'FaultExecuted',
      args: { epoch: T },
      fromBlock: 0n,
    });
    assert.equal(faults.length, 1);
    assert.equal(faults[0]!.args.nodeKey!.toLowerCase(), silentNodeKey);
    assert.equal(faults[0]!.args.strike, true);

    // Framing race (issue 11, finding 1): a third party posts T's dataset with the honest edge node's
    // openings changed in one field (or marked silent) to a guardian that has not signed T yet (guardian 3
    // with its own view of T, i.e. its data directory, but no signed-epochs record).
    const cloneDir = join(tmp, 'guardian-3-clone');
    cpSync(join(tmp, 'guardian-3'), cloneDir, { recursive: true });
    rmSync(join(cloneDir, 'signed-epochs.json'), { force: true });
    const clone = new GuardianService({
      rpcUrl: anvil.rpcUrl,
      privateKey: devPrivateKey(3),
      chainId: book.chainId,
      contracts: {
        staking: book.contracts.NodeStaking,
        settlement: book.contracts.EpochSettlement,
        didRegistry: book.contracts.DidRegistry,
        license: book.contracts.WatchDogLicense,
        licenseRewards: book.contracts.LicenseRewards,
      },
      consensus: DEVNET_CONSENSUS,
      dataDir: cloneDir,
      fromBlock: BigInt(book.startBlock),
      openingsWindowSeconds: TIMING.openingsWindowSeconds,
      transcriptGraceSeconds: TIMING.transcriptGraceSeconds,
      keepers: [devAccount(2).address],
      datasetOrigins: [rogueUrl],
      observeIntervalMs: 0,
      logger: quiet,
    });
    const cloneUrl = await clone.start();
    try {
      const oneField = structuredClone(dataT);
      const victim = oneField.openings.find((o: { nodeKey: string }) => o.nodeKey === edgeKey);
      victim.openings[0].siblings[0].sum = (BigInt(victim.openings[0].siblings[0].sum) + 1n).toString();
      const markedSilent = structuredClone(dataT);
      markedSilent.openings = markedSilent.openings.map((o: { nodeKey: string }) =>
        o.nodeKey === edgeKey ? { nodeKey: edgeKey, status: 'silent' } : o,
      );
      for (const [what, framed] of [
        ['one field changed', oneField],
        ['marked silent', markedSilent],
      ] as const) {
        const json = canonicalJson(framed);
        const dataHash = keccakUtf8(json);
        rogueDatasets.set(`/datasets/${dataHash}`, json);
        const evaluation = await evaluateEpoch(framed);
        const request = {
          epoch: T,
          datasetUrl: `${rogueUrl}/datasets/${dataHash}`,
          dataHash,
          header: headerToWire(evaluation.header),
        };
        const anonymous = await postSign(cloneUrl, request, null);
        assert.equal(anonymous.status, 401, `${what}: an unauthenticated caller is refused`);
        const withKey = await postSign(cloneUrl, request, devAccount(2));
        assert.equal(withKey.status, 409, `${what}: ${JSON.stringify(withKey.body)}`);
        assert.equal(withKey.body.error, 'openings-omitted', JSON.stringify(withKey.body));
        assert.equal(withKey.body.node, edgeKey);
      }
      // the honest header is what the guardian's own view gives: it signs it
      const honestJson = canonicalJson(dataT);
      rogueDatasets.set(`/datasets/${headerT.dataHash}`, honestJson);
      const honest = await postSign(
        cloneUrl,
        {
          epoch: T,
          datasetUrl: `${rogueUrl}/datasets/${headerT.dataHash}`,
          dataHash: headerT.dataHash,
          header: headerToWire({ ...headerT, faultCount: Number(headerT.faultCount) } as never),
        },
        devAccount(2),
      );
      assert.equal(honest.status, 200, JSON.stringify(honest.body));
    } finally {
      await clone.stop();
    }

    // scores of the three nodes published
    await waitFor(
      `scores of epoch ${T}`,
      async () => (await keeper.queues.state('publish-scores', T)) === 'completed',
      30_000,
    );
    const scoreLogs = await client.getContractEvents({
      address: book.contracts.EpochSettlement,
      abi: epochSettlementAbi,
      eventName: 'NodeScorePublished',
      args: { epoch: T },
      fromBlock: 0n,
    });
    assert.equal(scoreLogs.length, 3);

    const metrics = await (await fetch(`${keeper.httpUrl}/metrics`)).text();
    assert.match(metrics, /keeper_epochs_submitted_total \d+/);
    assert.ok(Number(/keeper_epochs_submitted_total (\d+)/.exec(metrics)![1]) >= 2);
    assert.ok(Number(/keeper_queue_jobs\{queue="submit",state="completed"\} (\d+)/.exec(metrics)![1]) >= T);
    assert.match(metrics, /keeper_stage_duration_seconds_count\{stage="score"\} \d+/);
  } finally {
    await keeper.stop();
  }
});

function runKeeperCli(
  port: number,
  failpoints: string,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'keepers/src/keeper/main.ts'),
      '--rpc-url',
      anvil.rpcUrl,
      '--address-book',
      bookPath,
      ...guardianUrls.flatMap((g) => ['--guardian', g]),
      '--redis-url',
      redis.url,
      '--no-spawn-redis',
      '--port',
      String(port),
      '--data-dir',
      join(tmp, 'keeper-cli'),
      '--lock-ms',
      '2000',
      '--timing',
      join(tmp, 'timing.json'),
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, KEEPER_PRIVATE_KEY: devPrivateKey(2), KEEPER_FAILPOINTS: failpoints, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d) => (output = (output + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

test('a keeper killed after sending (and after signing) submitEpoch submits each epoch exactly once after restart', {
  timeout: 300_000,
}, async () => {
  writeFileSync(join(tmp, 'timing.json'), JSON.stringify(TIMING));
  const port = cliPort;
  const connection = redisConnection(redis.url);
  // the first epochs the previous keeper did not submit
  const progress = await client.readContract({
    address: book.contracts.EpochSettlement,
    abi: epochSettlementAbi,
    functionName: 'settlementProgress',
  });
  const e1 = progress.lastSubmitted + 1;
  const e2 = e1 + 1;
  try {
    // 1st run: dies right after broadcasting epoch e1's submitEpoch
    const first = runKeeperCli(port, `tx-sent:submit.${e1}`);
    const code1 = await Promise.race([first.exited, sleep(150_000).then(() => 'timeout')]);
    assert.notEqual(code1, 'timeout', `keeper never reached the failpoint:\n${first.output()}`);
    assert.equal(first.child.signalCode, 'SIGKILL', first.output());
    assert.ok(first.output().includes(`tx-sent:submit.${e1}`), first.output());
    const record1 = JSON.parse((await connection.get(`sn:tx:submit.${e1}`))!);

    // 2nd run: finishes epoch e1 from the stored record, then dies after signing+storing e2's, before sending
    const second = runKeeperCli(port, `tx-stored:submit.${e2}`);
    const code2 = await Promise.race([second.exited, sleep(150_000).then(() => 'timeout')]);
    assert.notEqual(code2, 'timeout', `second keeper never reached the failpoint:\n${second.output()}`);
    assert.equal(second.child.signalCode, 'SIGKILL', second.output());
    const record2 = JSON.parse((await connection.get(`sn:tx:submit.${e2}`))!);
    assert.equal(await epochStatus(e2), 0, `epoch ${e2} was not sent before the kill`);

    // 3rd run: re-broadcasts the stored epoch-e2 transaction
    const third = runKeeperCli(port, '');
    try {
      await waitFor(`epoch ${e2} submitted`, async () => (await epochStatus(e2)) !== 0, 90_000);
      await waitFor(
        `submit stage of epoch ${e2} completed`,
        async () => (await connection.hget(`sn:epoch:${e2}`, 'submit')) !== null,
        30_000,
      );
    } finally {
      third.child.kill('SIGTERM');
      await third.exited;
    }
    for (const [epoch, record] of [
      [e1, record1],
      [e2, record2],
    ] as const) {
      const events = await submittedEvents(epoch);
      assert.equal(events.length, 1, `exactly one EpochSubmitted for epoch ${epoch}`);
      assert.equal(
        events[0]!.transactionHash,
        record.hash,
        `epoch ${epoch} was settled by the transaction stored before the kill`,
      );
    }
    const submitted2 = JSON.parse((await connection.hget(`sn:epoch:${e2}`, 'submit'))!);
    assert.equal(submitted2.submittedByUs, true);
    assert.equal(submitted2.headerMatches, true);
    const receipts = await Promise.all(
      [record1.hash, record2.hash].map((hash: Hex) => client.getTransactionReceipt({ hash })),
    );
    assert.ok(receipts.every((r) => r.status === 'success'));
    const submitted = parseEventLogs({
      abi: epochSettlementAbi,
      logs: receipts.flatMap((r) => r.logs),
      eventName: 'EpochSubmitted',
    });
    assert.deepEqual(
      submitted.map((l) => l.args.epoch),
      [e1, e2],
    );
  } finally {
    connection.disconnect();
  }
});
