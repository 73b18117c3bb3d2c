/**
 * WatchDogs against real edge nodes over real WebSockets, in real time (12-second epochs): four WatchDog
 * services commit before the epoch, compute their assignments from what the keeper publishes, challenge
 * their nodes on schedule through the nodes' endpoints, and post signed transcripts after the epoch. The
 * transcripts then go into an epoch dataset, and `evaluateEpoch` accepts every one: the healthy nodes get
 * full availability, the node that drops every envelope and the node that is down get none.
 *
 * The keeper's three WatchDog endpoints are a small stand-in here (the keeper pipeline is built on another
 * branch); it validates every body with the shared schemas of core/watchdogApi.ts, as the keeper must.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { bytesToHex, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { pino } from 'pino';
import { EdgeNode } from '../src/edge-node/edgeNode.js';
import { EpochClock } from '../src/core/epochClock.js';
import { WatchDogService } from '../src/watchdog/watchdog.js';
import { SecretStore } from '../src/watchdog/secrets.js';
import { generateDeviceKey } from '../src/core/relay.js';
import { nodeStakingDomain } from '../src/core/commitment.js';
import { assignmentSeed, samplingSeed } from '../src/core/sampling.js';
import { recoverWatchdogCommitSigner, type SignedTranscript } from '../src/core/watchdogSchedule.js';
import {
  transcriptRequestSchema,
  watchdogCommitRequestSchema,
  type EpochWatchdogsResponse,
} from '../src/core/watchdogApi.js';
import { datasetFromParts, evaluateEpoch } from '../src/core/dataset.js';
import { DEVNET_CONSENSUS } from '../src/core/consensus.js';
import { challengeEnvelopesByNode } from '../src/core/evaluateWatchdogs.js';
import type { OpeningWire } from '../src/core/datasetSchema.js';
import { fetchChallengeOpenings } from '../src/infra/challengeOpenings.js';
import { attest } from './helpers/epochFixture.js';

/** A node's signed commitment of epoch 1, waiting for the node to make it after the commit deadline. */
async function getCommitment(httpUrl: string): Promise<{ body: any }> {
  for (let tries = 0; tries < 100; tries++) {
    const response = await fetch(`${httpUrl}/epochs/1/commitment`);
    if (response.status === 200) return { body: await response.json() };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no commitment from ${httpUrl}`);
}

const quiet = pino({ level: 'silent' });
const EPOCH_SECONDS = 12;
const PARAMS = { ...DEVNET_CONSENSUS, m: 3, challengesPerNode: 3, challengeTimeoutMs: 2_000, commitGraceSeconds: 2 };
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'watchdog-test-'));
  dirs.push(dir);
  return dir;
};

/** The keeper's WatchDog endpoints, validating with the shared schemas. */
class KeeperStandIn {
  readonly commits = new Map<
    number,
    Map<string, { tokenId: string; operator: string; owner: string; commit: string; signature: string }>
  >();
  readonly transcripts: SignedTranscript[] = [];
  readonly assignBlockHash = new Map<number, Hex>();
  server?: Server;
  url = '';

  constructor(
    private readonly clock: EpochClock,
    private readonly licenses: Map<string, Address>,
    private readonly nodes: () => { nodeKey: string; operator: string; stake: string; endpoint: string }[],
  ) {}

  async start() {
    this.server = createServer(async (req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
      const epochMatch = /^\/epochs\/(\d+)\/watchdogs$/.exec(req.url ?? '');
      if (req.method === 'POST' && req.url === '/watchdog/commit') {
        const parsed = watchdogCommitRequestSchema.safeParse(body);
        if (!parsed.success) return reply(400, { error: 'bad-request', message: parsed.error.message });
        const m = parsed.data;
        if (this.clock.now() >= this.clock.epochStart(m.epoch) * 1000)
          return reply(409, { error: 'late', message: 'epoch started' });
        const operator = this.licenses.get(m.tokenId);
        if (!operator || (await recoverWatchdogCommitSigner(m)) !== operator)
          return reply(409, { error: 'bad-signature', message: 'not the operator' });
        const forEpoch = this.commits.get(m.epoch) ?? new Map();
        const prior = forEpoch.get(m.tokenId);
        if (prior && prior.commit !== m.commit) return reply(409, { error: 'conflict', message: 'another commit' });
        // the stand-in's licenses are held by their operators
        forEpoch.set(m.tokenId, {
          tokenId: m.tokenId,
          operator,
          owner: operator,
          commit: m.commit,
          signature: m.signature,
        });
        this.commits.set(m.epoch, forEpoch);
        return reply(200, { accepted: true });
      }
      if (req.method === 'GET' && epochMatch) {
        const epoch = Number(epochMatch[1]);
        if (!this.assignBlockHash.has(epoch)) this.assignBlockHash.set(epoch, bytesToHex(randomBytes(32)));
        const blockHash = this.assignBlockHash.get(epoch)!;
        const final = this.clock.now() >= this.clock.epochStart(epoch) * 1000;
        const answer: EpochWatchdogsResponse = {
          epoch,
          epochStart: this.clock.epochStart(epoch),
          epochEnd: this.clock.epochEnd(epoch),
          final,
          parameters: {
            m: PARAMS.m,
            challengesPerNode: PARAMS.challengesPerNode,
            challengeTimeoutMs: PARAMS.challengeTimeoutMs,
          },
          assignSeed: { blockNumber: 7, blockHash, value: assignmentSeed(epoch, blockHash) },
          nodes: final ? this.nodes() : null,
          watchdogs: [...(this.commits.get(epoch)?.values() ?? [])].sort((a, b) =>
            Number(BigInt(a.tokenId) - BigInt(b.tokenId)),
          ),
        };
        return reply(200, answer);
      }
      if (req.method === 'POST' && req.url === '/watchdog/transcript') {
        const parsed = transcriptRequestSchema.safeParse(body);
        if (!parsed.success) return reply(400, { error: 'bad-request', message: parsed.error.message });
        this.transcripts.push(parsed.data);
        return reply(200, { accepted: true });
      }
      reply(404, { error: 'not-found', message: req.url ?? '' });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const edgeNodes: EdgeNode[] = [];
const watchdogs: WatchDogService[] = [];
let keeper: KeeperStandIn;

after(async () => {
  for (const w of watchdogs) await w.stop();
  for (const n of edgeNodes) await n.stop();
  await keeper?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('the secret store keeps one secret per epoch across restarts', () => {
  const dir = tempDir();
  const a = new SecretStore(dir, 5n);
  const s1 = a.secretFor(1);
  assert.equal(a.secretFor(1), s1);
  const b = new SecretStore(dir, 5n);
  assert.equal(b.get(1), s1, 'reloaded from disk');
  assert.notEqual(b.secretFor(2), s1);
  assert.equal(new SecretStore(dir, 6n).get(1), undefined, 'per license');
});

test('WatchDogs challenge their assigned nodes on schedule and their transcripts are accepted by evaluateEpoch', {
  timeout: 90_000,
}, async () => {
  const genesis = Math.floor(Date.now() / 1000) + 4;
  const clock = new EpochClock({
    genesisTime: genesis,
    epochDurationSeconds: EPOCH_SECONDS,
    commitGraceSeconds: PARAMS.commitGraceSeconds,
  });
  const domain = nodeStakingDomain(31337, '0x00000000000000000000000000000000000000aa');
  const start = async (options: { dropRate?: number } = {}) => {
    const node = new EdgeNode({
      nodeKey: generatePrivateKey(),
      dataDir: tempDir(),
      clock,
      domain,
      logger: quiet,
      ...options,
    });
    await node.start();
    edgeNodes.push(node);
    return node;
  };
  const healthyA = await start();
  const healthyB = await start();
  const dropping = await start({ dropRate: 1 });
  const downKey = privateKeyToAccount(generatePrivateKey()).address.toLowerCase();
  const nodeList = [
    ...[healthyA, healthyB, dropping].map((n) => ({
      nodeKey: n.address,
      operator: n.address,
      stake: '10000000000000000000000',
      endpoint: n.url,
    })),
    { nodeKey: downKey, operator: downKey, stake: '10000000000000000000000', endpoint: 'ws://127.0.0.1:9' },
  ].sort((a, b) => (a.nodeKey < b.nodeKey ? -1 : 1));

  const operators = [1, 2, 3, 4].map(() => generatePrivateKey());
  const licenses = new Map(
    operators.map((k, i) => [String(i + 1), privateKeyToAccount(k).address.toLowerCase() as Address]),
  );
  keeper = new KeeperStandIn(clock, licenses, () => nodeList);
  await keeper.start();

  const transcriptsSeen: Promise<{ epoch: number; accepted: boolean }>[] = [];
  operators.forEach((operatorKey, i) => {
    const w = new WatchDogService({
      operatorKey,
      tokenId: BigInt(i + 1),
      identities: [0, 1].map((j) => ({ device: generateDeviceKey(), did: BigInt(100 * (i + 1) + j) })),
      keeperUrl: keeper.url,
      clock,
      dataDir: tempDir(),
      tickMs: 100,
      logger: quiet,
    });
    transcriptsSeen.push(new Promise((resolve) => w.once('transcript', resolve)));
    watchdogs.push(w);
    w.start();
  });
  const posted = await Promise.all(transcriptsSeen);
  for (const p of posted) {
    assert.equal(p.epoch, 1);
    assert.equal(p.accepted, true);
  }
  assert.equal(keeper.commits.get(1)?.size, 4, 'every WatchDog committed before the epoch');
  assert.equal(keeper.transcripts.length, 4);
  for (const t of keeper.transcripts) {
    for (const r of t.transcript.results) {
      assert.ok(r.at >= clock.epochStart(1) * 1000 && r.at < clock.epochEnd(1) * 1000, 'sent within the epoch');
      const healthy = r.node === healthyA.address || r.node === healthyB.address;
      assert.equal(r.ok, healthy, `challenge ${r.node}#${r.i}`);
      if (healthy) assert.ok(r.latencyMs <= PARAMS.challengeTimeoutMs);
    }
  }

  // The nodes' commitments (attested by the one guardian) and — as the keeper's transcripts stage does — their
  // receipts of the challenge envelopes, asked by envelope id: the evidence that makes an "ok" count.
  const guardianKey = generatePrivateKey();
  const settlement = `0x${'5e'.repeat(20)}` as Address;
  const live = [healthyA, healthyB, dropping];
  const commitments = [];
  for (const node of live) {
    const { body } = await getCommitment(node.httpUrl);
    const c = {
      epoch: body.commitment.epoch,
      root: body.commitment.root,
      totalUnits: BigInt(body.commitment.totalUnits),
      leafCount: BigInt(body.commitment.leafCount),
    };
    commitments.push({
      ...body,
      attestations: await attest([guardianKey], 31337, settlement, domain, node.address, c),
    });
  }
  const asks = challengeEnvelopesByNode(keeper.transcripts);
  const challengeOpenings: { nodeKey: Address; openings: OpeningWire[] }[] = [];
  for (const node of live) {
    const ids = asks.get(node.address) ?? [];
    if (ids.length === 0) continue;
    const openings = await fetchChallengeOpenings(node.url, 1, ids, 2000);
    if (openings.length > 0) challengeOpenings.push({ nodeKey: node.address, openings });
  }
  assert.equal(
    challengeOpenings.length,
    2,
    'the two healthy nodes hold receipts of their challenges; the dropper none',
  );
  // A result on a healthy node is "ok" exactly when its receipt is there (the WatchDog acks only in time).
  for (const t of keeper.transcripts)
    for (const r of t.transcript.results) {
      const held: boolean | undefined = challengeOpenings
        .find((c) => c.nodeKey === r.node)
        ?.openings.some((o) => o.ticket.envelopeId === r.envelopeId);
      assert.equal(Boolean(held), r.ok, `receipt of challenge ${r.node}#${r.i}`);
    }

  // The transcripts as the keeper would put them into the dataset: all accepted.
  const seedHash = bytesToHex(randomBytes(32)) as Hex;
  const assignHash = keeper.assignBlockHash.get(1)!;
  const dataset = datasetFromParts({
    chainId: 31337,
    contracts: {
      staking: `0x${'aa'.padStart(40, '0')}`,
      settlement,
      didRegistry: `0x${'d1'.repeat(20)}`,
      license: `0x${'1c'.repeat(20)}`,
      licenseRewards: `0x${'1e'.repeat(20)}`,
    },
    epoch: 1,
    epochStart: clock.epochStart(1),
    epochEnd: clock.epochEnd(1),
    parameters: {
      ...PARAMS,
      equivocationSlash: 10n ** 21n,
      guardianShareBps: 500,
      epochEmission: 10n ** 23n,
      licenseEmission: 10n ** 22n,
    },
    startBlock: { blockNumber: 8, blockHash: bytesToHex(randomBytes(32)) },
    seed: { blockNumber: 9, blockHash: seedHash, value: samplingSeed(1, seedHash) },
    assignSeed: { blockNumber: 7, blockHash: assignHash, value: assignmentSeed(1, assignHash) },
    nodes: nodeList,
    keys: [],
    watchdogs: [...keeper.commits.get(1)!.values()],
    commitments,
    openings: [],
    transcripts: keeper.transcripts,
    challengeOpenings,
    guardianSet: [privateKeyToAccount(guardianKey).address.toLowerCase()],
    signersPaid: [],
    previousCumulative: [],
    previousLicenseCumulative: [],
  });
  const e = await evaluateEpoch(dataset);
  // (no relay openings in this dataset: the committed nodes' sampled openings are simply unobserved)
  const problems = e.rejected.filter((r) => !(r.kind === 'openings' && /^unobserved/.test(r.reason)));
  assert.deepEqual(problems, [], JSON.stringify(problems));
  const byKey = new Map(e.perNode.map((n) => [n.nodeKey, n]));
  for (const healthy of [healthyA, healthyB]) {
    const n = byKey.get(healthy.address)!;
    assert.equal(n.watchdogRatios.length, 3, 'three WatchDogs reported');
    assert.equal(n.availability, 1_000_000);
    assert.ok(n.reward > 0n);
  }
  for (const bad of [dropping.address, downKey]) {
    assert.equal(byKey.get(bad as Address)!.availability, 0);
    assert.equal(byKey.get(bad as Address)!.reward, 0n);
  }
  assert.equal(e.eligibleLicenses.length, 4);
});
