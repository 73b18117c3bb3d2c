/**
 * Guardians on a real anvil with the deployed protocol: staked nodes, DIDs with device keys and WatchDog
 * licenses on-chain, a realistic dataset served over HTTP. A guardian signs the correct header (the
 * signature recovers under `headerDigest`, which equals the contract's), refuses a header with one changed
 * root (409 naming the field), refuses a second, different (itself valid) header for the epoch it signed —
 * also after a restart — and refuses datasets that contradict the chain (422 naming the field). Five
 * guardians' signatures settle the epoch on-chain, and the next epoch checks the previous reward root and
 * the signers paid decoded from that submission.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWalletClient, http, parseEventLogs, recoverAddress, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { GuardianService } from '../src/guardian/guardian.js';
import {
  canonicalJson,
  datasetFromParts,
  datasetHash,
  evaluateEpoch,
  type DatasetParts,
  type EpochDataset,
} from '../src/core/dataset.js';
import { headerDigest, settlementDomain, toCompactSignature, type EpochHeader } from '../src/core/epochHeader.js';
import {
  headerToWire,
  KEEPER_SIGNATURE_HEADER,
  KEEPER_TIMESTAMP_HEADER,
  keeperAuthHash,
  signResponseSchema,
} from '../src/core/guardianApi.js';
import { generateDeviceKey } from '../src/core/relay.js';
import { attestationDigest } from '../src/core/attestation.js';
import {
  nodeStakingDomain,
  signCommitment,
  signedCommitmentToWire,
  type EpochCommitment,
} from '../src/core/commitment.js';
import { deriveEpochFacts } from '../src/chain/epochFacts.js';
import { devAccount } from '../src/devnet/devAccounts.js';
import { epochSettlementAbi } from '../src/generated/contracts.js';
import { DEVNET_CONSENSUS } from '../src/core/consensus.js';
import { buildFixture, type Device, type Fixture } from './helpers/epochFixture.js';
import { openingToWire } from '../src/core/sampling.js';
import { lowerHex } from '../src/core/wire.js';
import {
  currentEpoch,
  epochStartOf,
  guardianKeys,
  mineAt,
  mintLicense,
  registerDevice,
  registerNode,
  startProtocolChain,
  submitEmptyEpochs,
  type ProtocolChain,
} from './helpers/protocolChain.js';

let chain: ProtocolChain;
let server: Server;
let baseUrl: string;
const served = new Map<string, string>();
const dataDirs: string[] = [];
const guardians: GuardianService[] = [];

before(async () => {
  chain = await startProtocolChain();
  server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  for (const g of guardians) await g.stop();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await chain?.stop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** Publishes a dataset; returns its URL and hash. */
function publish(dataset: EpochDataset): { datasetUrl: string; dataHash: Hex } {
  const dataHash = datasetHash(dataset);
  served.set(`/datasets/${dataHash}.json`, canonicalJson(dataset));
  return { datasetUrl: `${baseUrl}/datasets/${dataHash}.json`, dataHash };
}

/**
 * The epochs of the first test lie in the chain's future (blocks mined ahead): the guardians' clock is
 * set past their collection deadlines.
 */
const AHEAD_MS = 30 * 86_400_000;
const aheadNow = () => Date.now() + AHEAD_MS;
const KEEPER = devAccount(2);

function startGuardian(privateKey: Hex, dataDir?: string, nowMs: () => number = aheadNow): GuardianService {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'guardian-'));
  if (!dataDir) dataDirs.push(dir);
  const g = new GuardianService({
    rpcUrl: chain.anvil.rpcUrl,
    privateKey,
    chainId: chain.book.chainId,
    contracts: chain.contracts,
    consensus: DEVNET_CONSENSUS,
    dataDir: dir,
    fromBlock: BigInt(chain.book.startBlock),
    nowMs,
    keepers: [KEEPER.address],
    datasetOrigins: [baseUrl],
  });
  guardians.push(g);
  return g;
}

/** POST /sign as the configured keeper (or as `as`, or unsigned with `as: null`). */
async function post(
  url: string,
  body: unknown,
  as: { signMessage: typeof KEEPER.signMessage } | null = KEEPER,
  nowMs = aheadNow,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (as) {
    const timestamp = Math.floor(nowMs() / 1000);
    headers[KEEPER_TIMESTAMP_HEADER] = String(timestamp);
    headers[KEEPER_SIGNATURE_HEADER] = await as.signMessage({
      message: { raw: keeperAuthHash(timestamp, new TextEncoder().encode(text)) },
    });
  }
  const response = await fetch(`${url}/sign`, { method: 'POST', headers, body: text });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const signRequest = (dataset: EpochDataset, header: EpochHeader) => ({
  epoch: dataset.epoch,
  ...publish(dataset),
  header: headerToWire(header),
});

test('guardians recompute the epoch, sign only the right header, once per epoch, and settle it on-chain', async () => {
  const c = chain;
  const grace = DEVNET_CONSENSUS.commitGraceSeconds;

  // On-chain identities: devices (DIDs + Ed25519 keys), staked nodes, licensed WatchDogs.
  const devices: Device[] = [];
  for (const name of ['alice', 'bob', 'carol', 'dave']) {
    const key = generateDeviceKey();
    devices.push({ key, did: await registerDevice(c, generatePrivateKey(), name, key) });
  }
  const nodes = [0, 1, 2].map((i) => ({
    privateKey: generatePrivateKey(),
    operatorPrivateKey: generatePrivateKey(),
    stake: (20_000n + BigInt(i) * 1_000n) * 10n ** 18n,
    endpoint: `ws://127.0.0.1:${9100 + i}`,
  }));
  for (const n of nodes)
    await registerNode(c, {
      nodePrivateKey: n.privateKey,
      operatorPrivateKey: n.operatorPrivateKey,
      stake: n.stake,
      endpoint: n.endpoint,
    });
  const watchdogList: { tokenId: bigint; privateKey: Hex; owner: Address }[] = [];
  for (let i = 0; i < 4; i++) {
    const operatorKey = generatePrivateKey();
    const ownerKey = generatePrivateKey();
    watchdogList.push({
      tokenId: await mintLicense(c, ownerKey, privateKeyToAccount(operatorKey).address),
      privateKey: operatorKey,
      owner: privateKeyToAccount(ownerKey).address,
    });
  }

  // Epoch E: the first one starting after the setup. Earlier epochs are settled empty by guardians 5..9.
  const E = (await currentEpoch(c)) + 1;
  const start = await epochStartOf(c, E);
  await mineAt(c, start);
  const earlierSigners = guardianKeys().slice(2, 7);
  await submitEmptyEpochs(c, E - 1, earlierSigners);
  await mineAt(c, start + c.book.epochDurationSeconds + grace);

  const facts = await deriveEpochFacts(c.publicClient, c.contracts, E, {
    ...DEVNET_CONSENSUS,
    fromBlock: BigInt(c.book.startBlock),
  });
  const nodeKeys = nodes.map((n) => privateKeyToAccount(n.privateKey).address.toLowerCase()).sort();
  assert.deepEqual(
    facts.nodes.map((n) => n.nodeKey),
    nodeKeys,
    'the Active node set at the start block',
  );
  const startBlock = await c.publicClient.getBlock({ blockNumber: BigInt(facts.startBlock.blockNumber) });
  assert.equal(Number(startBlock.timestamp), start, 'the start block is the first at or after epochStart');
  const expectedSignersPaid =
    E === 1 ? [] : earlierSigners.map((k) => privateKeyToAccount(k).address.toLowerCase()).sort();
  assert.deepEqual(facts.signersPaid, expectedSignersPaid, 'signers decoded from the previous submitEpoch');

  const build = (
    epoch: number,
    f: typeof facts,
    behaviours: Fixture['nodes'][number]['behaviour'][],
    overrides: Partial<DatasetParts> = {},
  ) =>
    buildFixture({
      epoch,
      chainId: c.book.chainId,
      contracts: c.contracts,
      epochStart: f.epochStart,
      epochDuration: f.epochEnd - f.epochStart,
      behaviours,
      nodes: f.nodes.map((fn) => {
        const n = nodes.find((x) => privateKeyToAccount(x.privateKey).address.toLowerCase() === fn.nodeKey)!;
        return {
          privateKey: n.privateKey,
          operator: fn.operator as Address,
          stake: BigInt(fn.stake),
          endpoint: fn.endpoint,
        };
      }),
      deviceList: devices,
      watchdogList,
      blocks: { start: f.startBlock, seed: f.seed, assign: f.assignSeed },
      guardianKeys: guardianKeys(),
      overrides: {
        guardianSet: f.guardianSet,
        signersPaid: f.signersPaid,
        previousCumulative: [],
        previousLicenseCumulative: [],
        ...overrides,
      },
    });
  const fixture = await build(E, facts, ['honest', 'inflated', 'honest']);
  const dataset = fixture.dataset;
  const ours = await evaluateEpoch(dataset);
  assert.equal(ours.header.faultCount, 1, 'the inflating node is caught');
  assert.ok(ours.header.totalCumulative > 0n);
  const domain = settlementDomain(c.book.chainId, c.contracts.settlement);

  const g0 = startGuardian(guardianKeys()[0]!);
  const url0 = await g0.start();
  assert.equal(((await (await fetch(`${url0}/health`)).json()) as { ok: boolean }).ok, true);

  // An oversized request is answered with 413 and a reason, not a connection reset.
  const oversized = await post(url0, { pad: 'x'.repeat(1024 * 1024) });
  assert.equal(oversized.status, 413);
  assert.equal(oversized.body.error, 'body-too-large');
  assert.match(String(oversized.body.message), /exceeds the 65536-byte limit/);

  // Callers are authenticated: unsigned, signed by a stranger, or stale requests get 401, nothing evaluated.
  const unsigned = await post(url0, signRequest(dataset, ours.header), null);
  assert.equal(unsigned.status, 401);
  assert.match(String(unsigned.body.message), /missing x-sendnet-timestamp/);
  const stranger = await post(url0, signRequest(dataset, ours.header), privateKeyToAccount(generatePrivateKey()));
  assert.equal(stranger.status, 401);
  assert.match(String(stranger.body.message), /is not a configured keeper/);
  const stale = await post(url0, signRequest(dataset, ours.header), KEEPER, () => aheadNow() - 120_000);
  assert.equal(stale.status, 401);
  assert.match(String(stale.body.message), /not within 60 s/);
  // Datasets only from the configured origin; never before the epoch's collection deadlines.
  const elsewhere = await g0.sign({
    ...signRequest(dataset, ours.header),
    datasetUrl: `http://127.0.0.1:1/datasets/${datasetHash(dataset)}.json`,
  });
  assert.equal(elsewhere.status, 403);
  assert.equal(elsewhere.body.error, 'origin-not-allowed');
  const tricky = await g0.sign({
    ...signRequest(dataset, ours.header),
    datasetUrl: `${baseUrl}@127.0.0.1:1/datasets/x.json`,
  });
  assert.equal(tricky.status, 403);
  const early = startGuardian(guardianKeys()[6]!, undefined, () => (start + 1) * 1000);
  const tooEarly = await early.sign(signRequest(dataset, ours.header));
  assert.equal(tooEarly.status, 425);
  assert.equal(tooEarly.body.error, 'too-early');

  // A keeper dropping a node's challenge receipts (its availability taken away, a lying WatchDog hidden): the
  // guardian asks the node itself for the unproven ones (here a stand-in serving the node's real receipts at
  // its registered endpoint) and refuses with 409, naming the node.
  const victim = fixture.nodes.find((n) => n.endpoint === 'ws://127.0.0.1:9100')!;
  const stripped = datasetFromParts({
    ...fixture.parts,
    challengeOpenings: dataset.challengeOpenings.filter((x) => x.nodeKey !== victim.nodeKey),
  });
  const strippedHeader = (await evaluateEpoch(stripped)).header;
  const asked: string[][] = [];
  const standIn = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const ids = new Set<string>(
      (JSON.parse(Buffer.concat(chunks).toString()) as { envelopeIds: string[] }).envelopeIds,
    );
    asked.push([...ids]);
    const openings = victim.receipts.flatMap((r, index) =>
      ids.has(r.ticket.envelopeId) ? [lowerHex(openingToWire(victim.tree, index, r))] : [],
    );
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ openings }));
  });
  await new Promise<void>((resolve) => standIn.listen(9100, '127.0.0.1', resolve));
  try {
    const hidden = await post(url0, signRequest(stripped, strippedHeader));
    assert.equal(hidden.status, 409, JSON.stringify(hidden.body));
    assert.equal(hidden.body.error, 'challenge-receipts-omitted');
    assert.match(String(hidden.body.message), new RegExp(`node ${victim.nodeKey} opened its receipt`));
    assert.deepEqual(
      asked[0]?.sort(),
      dataset.challengeOpenings
        .find((x) => x.nodeKey === victim.nodeKey)!
        .openings.map((o) => o.ticket.envelopeId)
        .sort(),
      'it asked for exactly the receipts the dataset lacks',
    );
  } finally {
    standIn.closeAllConnections();
    await new Promise<void>((resolve) => standIn.close(() => resolve()));
  }

  // One changed root: 409 naming the field, nothing signed.
  const wrong = await post(url0, signRequest(dataset, { ...ours.header, rewardRoot: `0x${'ab'.repeat(32)}` }));
  assert.equal(wrong.status, 409);
  assert.deepEqual(wrong.body, {
    error: 'header-mismatch',
    field: 'rewardRoot',
    ours: ours.header.rewardRoot,
    theirs: `0x${'ab'.repeat(32)}`,
  });

  // The right header: signed; the signature recovers to the guardian under headerDigest (= the contract's).
  const good = await post(url0, signRequest(dataset, ours.header));
  assert.equal(good.status, 200, JSON.stringify(good.body));
  const signed = signResponseSchema.parse(good.body);
  const digest = headerDigest(domain, ours.header);
  assert.equal(signed.digest, digest);
  assert.equal(
    await c.publicClient.readContract({
      address: c.contracts.settlement,
      abi: epochSettlementAbi,
      functionName: 'headerDigest',
      args: [ours.header],
    }),
    digest,
  );
  assert.equal((await recoverAddress({ hash: digest, signature: signed.signature as Hex })).toLowerCase(), g0.address);

  // Another valid header for the same epoch (the keeper left one transcript out): refused by g0, which
  // signed epoch E already, but signed by a guardian that has not.
  const dataset2 = datasetFromParts({ ...fixture.parts, transcripts: fixture.parts.transcripts.slice(1) });
  const ours2 = await evaluateEpoch(dataset2);
  assert.notEqual(ours2.header.dataHash, ours.header.dataHash);
  const second = await post(url0, signRequest(dataset2, ours2.header));
  assert.equal(second.status, 409);
  assert.equal(second.body.error, 'already-signed');
  const g5 = startGuardian(guardianKeys()[5]!);
  assert.equal((await g5.sign(signRequest(dataset2, ours2.header))).status, 200, 'the second header is itself valid');

  const metrics = await (await fetch(`${url0}/metrics`)).text();
  assert.match(metrics, /guardian_sign_requests_total\{result="header-mismatch"\} 1/);
  assert.match(metrics, /guardian_sign_requests_total\{result="unauthenticated"\} 3/);
  assert.match(metrics, /guardian_sign_requests_total\{result="signed"\} 1/);
  assert.match(metrics, /guardian_last_signed_epoch \d+/);

  // After a restart the record holds: still refused; the first header gets the same signature again.
  await g0.stop();
  const g0again = startGuardian(guardianKeys()[0]!, g0.dataDir);
  assert.equal((await g0again.sign(signRequest(dataset2, ours2.header))).body.error, 'already-signed');
  const repeat = await g0again.sign(signRequest(dataset, ours.header));
  assert.equal(repeat.status, 200);
  assert.equal(repeat.body.signature, signed.signature);

  // Datasets that contradict the chain or their hash: 422 naming the problem.
  const g1 = startGuardian(guardianKeys()[1]!);
  const lyingStake = datasetFromParts({
    ...fixture.parts,
    nodes: fixture.parts.nodes.map((n, i) => (i === 0 ? { ...n, stake: 1n } : n)),
  });
  const lie = await g1.sign(signRequest(lyingStake, (await evaluateEpoch(lyingStake)).header));
  assert.equal(lie.status, 422);
  assert.equal(lie.body.error, 'chain-mismatch');
  assert.match(String(lie.body.field), /^nodes \(0x/);
  const lyingSeed = { ...dataset, seed: { ...facts.seed, blockNumber: facts.seed.blockNumber - 1 } };
  const seedLie = await g1.sign(signRequest(lyingSeed, ours.header));
  assert.equal(seedLie.body.field, 'seed');
  const badHash = await g1.sign({ ...signRequest(dataset, ours.header), dataHash: ours2.header.dataHash });
  assert.equal(badHash.status, 422);
  assert.equal(badHash.body.error, 'hash-mismatch');

  // Five guardians sign; the signatures settle epoch E on-chain.
  const signers = [g0again, g1, ...[2, 3, 4].map((i) => startGuardian(guardianKeys()[i]!))];
  const responses = await Promise.all(signers.map((g) => g.sign(signRequest(dataset, ours.header))));
  responses.forEach((r) => assert.equal(r.status, 200, JSON.stringify(r.body)));
  const members = [...facts.guardianSet];
  let bitmap = 0n;
  const bySigner = new Map(responses.map((r) => [String(r.body.guardian), r.body.signature as Hex]));
  const signatures: { r: Hex; vs: Hex }[] = [];
  members.forEach((m, i) => {
    const sig = bySigner.get(m);
    if (!sig) return;
    bitmap |= 1n << BigInt(i);
    signatures.push(toCompactSignature(sig));
  });
  const keeper = createWalletClient({ chain: foundry, transport: http(c.anvil.rpcUrl), account: devAccount(2) });
  const hash = await keeper.writeContract({
    address: c.contracts.settlement,
    abi: epochSettlementAbi,
    functionName: 'submitEpoch',
    args: [ours.header, members as Address[], bitmap, signatures],
  });
  const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success');
  const [submitted] = parseEventLogs({ abi: epochSettlementAbi, logs: receipt.logs, eventName: 'EpochSubmitted' });
  assert.equal(submitted!.args.header.rewardRoot, ours.header.rewardRoot);

  // Epoch E+1: the previous cumulative list must match E's reward root; signers paid = E's signers.
  const startNext = start + c.book.epochDurationSeconds;
  await mineAt(c, startNext + c.book.epochDurationSeconds + grace);
  const factsNext = await deriveEpochFacts(c.publicClient, c.contracts, E + 1, {
    ...DEVNET_CONSENSUS,
    fromBlock: BigInt(c.book.startBlock),
  });
  assert.deepEqual(factsNext.signersPaid, signers.map((g) => g.address).sort());
  assert.equal(factsNext.previousRewardRoot, ours.header.rewardRoot);
  const previousCumulative = ours.result.cumulative.map((x) => ({ account: x.account, cumulative: x.cumulative }));
  // the license leaves of E's tree are part of its root too
  const previousLicenseCumulative = ours.result.licenseCumulative;
  assert.ok(previousLicenseCumulative.length > 0, 'the WatchDogs of epoch E earned license rewards');
  const next = await build(E + 1, factsNext, ['honest', 'silent', 'no-commit'], {
    previousCumulative,
    previousLicenseCumulative,
  });
  const oursNext = await evaluateEpoch(next.dataset);
  assert.ok(oursNext.header.totalCumulative > ours.header.totalCumulative);
  assert.equal((await g1.sign(signRequest(next.dataset, oursNext.header))).status, 200);
  const wrongPrevious = datasetFromParts({
    ...next.parts,
    previousCumulative: previousCumulative.map((x, i) => (i === 0 ? { ...x, cumulative: x.cumulative + 1n } : x)),
  });
  const refused = await g5.sign(signRequest(wrongPrevious, (await evaluateEpoch(wrongPrevious)).header));
  assert.equal(refused.status, 422);
  assert.equal(refused.body.field, 'previousCumulative');
});

test('a guardian attests commitments only inside the commit window, signed, within the leaf bound, two per node, durably', async () => {
  const c = chain;
  const grace = DEVNET_CONSENSUS.commitGraceSeconds;
  const nodeKeyPrivate = generatePrivateKey();
  const nodeKey = await registerNode(c, {
    nodePrivateKey: nodeKeyPrivate,
    operatorPrivateKey: generatePrivateKey(),
    stake: 20_000n * 10n ** 18n,
    endpoint: 'ws://127.0.0.1:9199',
  });
  const E = (await currentEpoch(c)) + 50; // any epoch: the guardian's clock is set by hand
  const start = await epochStartOf(c, E);
  const deadline = start + c.book.epochDurationSeconds + grace;
  let now = (start - 1) * 1000;
  const g = startGuardian(guardianKeys()[6]!, undefined, () => now);
  const url = await g.start();
  const staking = nodeStakingDomain(c.book.chainId, c.contracts.staking);
  const signed = async (key: Hex, commitment: EpochCommitment, as: Address = nodeKey) =>
    signedCommitmentToWire({ commitment, signature: await signCommitment(key, staking, commitment), nodeKey: as });
  const commitment = (root: Hex, totalUnits = 100n, leafCount = 10n): EpochCommitment => ({
    epoch: E,
    root,
    totalUnits,
    leafCount,
  });
  const postCommitment = async (body: unknown) => {
    const r = await fetch(`${url}/commitments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const first = await signed(nodeKeyPrivate, commitment(`0x${'01'.repeat(32)}`));

  const early = await postCommitment(first);
  assert.equal(early.status, 425, JSON.stringify(early.body));
  assert.equal(early.body.error, 'commit-window-not-open');

  now = (deadline - 1) * 1000;
  const ok = await postCommitment(first);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.guardian, g.address);
  const digest = attestationDigest(
    settlementDomain(c.book.chainId, c.contracts.settlement),
    staking,
    nodeKey,
    commitment(`0x${'01'.repeat(32)}`),
  );
  assert.equal((await recoverAddress({ hash: digest, signature: ok.body.signature as Hex })).toLowerCase(), g.address);
  assert.deepEqual((await postCommitment(first)).body, ok.body, 'a repeat gets the same attestation');

  const garbage = await postCommitment({ ...first, signature: '0x1234' });
  assert.equal(garbage.status, 400);
  assert.match(String(garbage.body.message), /signature/);
  const forged = await postCommitment(await signed(generatePrivateKey(), commitment(`0x${'02'.repeat(32)}`)));
  assert.equal(forged.status, 422);
  assert.equal(forged.body.error, 'bad-signature');
  const filler = await postCommitment(await signed(nodeKeyPrivate, commitment(`0x${'03'.repeat(32)}`, 641n, 10n)));
  assert.equal(filler.status, 422);
  assert.equal(filler.body.error, 'leaf-bound');
  const strangerKey = generatePrivateKey();
  const stranger = await postCommitment(
    await signed(
      strangerKey,
      commitment(`0x${'04'.repeat(32)}`),
      privateKeyToAccount(strangerKey).address.toLowerCase() as Address,
    ),
  );
  assert.equal(stranger.status, 422);
  assert.equal(stranger.body.error, 'not-registered');

  // a second, different commitment is kept (equivocation evidence); a third is refused
  assert.equal((await postCommitment(await signed(nodeKeyPrivate, commitment(`0x${'05'.repeat(32)}`)))).status, 200);
  const third = await postCommitment(await signed(nodeKeyPrivate, commitment(`0x${'06'.repeat(32)}`)));
  assert.equal(third.status, 409);
  assert.equal(third.body.error, 'too-many-commitments');

  now = deadline * 1000;
  const late = await postCommitment(await signed(nodeKeyPrivate, commitment(`0x${'07'.repeat(32)}`)));
  assert.equal(late.status, 409);
  assert.equal(late.body.error, 'commit-window-closed');

  const listed = (await (await fetch(`${url}/epochs/${E}/commitments`)).json()) as {
    commitments: { nodeKey: string; commitment: { root: string }; attestation: { guardian: string } }[];
  };
  assert.deepEqual(
    listed.commitments.map((x) => x.commitment.root),
    [`0x${'01'.repeat(32)}`, `0x${'05'.repeat(32)}`],
  );
  // durable: a restarted guardian serves the same list and keeps the bound
  await g.stop();
  now = (deadline - 1) * 1000;
  const again = startGuardian(guardianKeys()[6]!, g.dataDir, () => now);
  const url2 = await again.start();
  const listed2 = await (await fetch(`${url2}/epochs/${E}/commitments`)).json();
  assert.deepEqual(listed2, listed);
  const r = await fetch(`${url2}/commitments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(await signed(nodeKeyPrivate, commitment(`0x${'08'.repeat(32)}`))),
  });
  assert.equal(r.status, 409);
});
