/**
 * The keeper's HTTP API and its exactly-once transaction sender against a real chain (anvil, the devnet
 * deployment, a WatchDog license bought in the public sale with an operator key set) and a real Redis:
 * - WatchDog commits: accepted before epochStart from the license's operator only, idempotent, a second
 *   different commit refused, late or malformed ones refused with the reason;
 * - the epoch's WatchDog view (`final` once the start block exists), transcripts (window, secret, signer),
 *   datasets served byte for byte, pipeline status and metrics;
 * - TxSender: one transaction per name, "done elsewhere" sends nothing, a simulated revert stores
 *   nothing and names the error, a stored transaction whose nonce another one took is replaced.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeFunctionData,
  http,
  keccak256,
  parseEther,
  parseEventLogs,
  bytesToHex,
  hexToBytes,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { pino } from 'pino';
import { buildTree, hashPair, licenseRewardLeaf, rewardLeaf } from '../src/core/merkle.js';
import { freePort, startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../src/devnet/devAccounts.js';
import { forgeScratchDir } from '../src/dev/foundry.js';
import type { AddressBook } from '../src/chain/addressBook.js';
import { canonicalJson, keccakUtf8 } from '../src/core/canonicalJson.js';
import { signTranscript, signWatchdogCommit } from '../src/core/watchdogSchedule.js';
import {
  epochSettlementAbi,
  sendTokenAbi,
  watchDogLicenseAbi,
  watchDogPresaleAbi,
} from '../src/generated/contracts.js';
import { ensureRedis, redisConnection, type RedisHandle } from '../src/infra/redis.js';
import { TxSender } from '../src/keeper/chainTx.js';
import { revertName } from '../src/keeper/handlers/settle.js';
import { Keeper } from '../src/keeper/keeper.js';
import { DEVNET_CONSENSUS } from '../src/core/consensus.js';
import { IncentiveParameterError } from '../src/core/incentives.js';
import { PipelineStore, type StageFields } from '../src/keeper/store.js';

const quiet = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
let anvil: AnvilHandle;
let book: AddressBook;
let bookPath: string;
let client: PublicClient;
let redis: RedisHandle;
let tmp: string;
let keeper: Keeper;
/** Chain time − wall time, ms: the keeper's clock follows the chain we move. */
let offsetMs = 0;
const operatorKey = generatePrivateKey();
const operator = privateKeyToAccount(operatorKey);
/** Licenses are numbered from 1 (ERC721A start id). */
const TOKEN = 1n;
const TOKEN_ID = TOKEN.toString();

async function chainNow(): Promise<number> {
  return Number((await client.getBlock({ blockTag: 'latest' })).timestamp);
}

/** Mines a block at `t` and aligns the keeper's clock with it. */
async function moveTo(t: number): Promise<void> {
  const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport: http(anvil.rpcUrl) });
  await testClient.setNextBlockTimestamp({ timestamp: BigInt(t) });
  await testClient.mine({ blocks: 1 });
  offsetMs = t * 1000 - Date.now();
}

async function post(path: string, body: unknown) {
  const res = await fetch(`${keeper.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'keeper-http-'));
  anvil = await startAnvil();
  bookPath = join(forgeScratchDir('book'), 'addresses.json');
  ({ book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0), addressBookPath: bookPath }));
  client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) }) as PublicClient;
  // the public sale opens 600 s after deployment: buy a license and give it an operator key
  await moveTo((await chainNow()) + 601);
  const buyer = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account: devAccount(5) });
  const buy = await buyer.writeContract({
    address: book.contracts.WatchDogPresale,
    abi: watchDogPresaleAbi,
    functionName: 'buyPublic',
    args: [1n, parseEther('1')],
    value: parseEther('1'),
  });
  const bought = await client.waitForTransactionReceipt({ hash: buy });
  assert.equal(bought.status, 'success');
  const minted = parseEventLogs({ abi: watchDogLicenseAbi, logs: bought.logs });
  const firstId = minted
    .map((l) =>
      l.eventName === 'Transfer'
        ? l.args.tokenId
        : l.eventName === 'ConsecutiveTransfer'
          ? l.args.fromTokenId
          : undefined,
    )
    .find((x) => x !== undefined);
  assert.equal(firstId, TOKEN, `the first license sold is token ${TOKEN} (got ${firstId})`);
  const set = await buyer.writeContract({
    address: book.contracts.WatchDogLicense,
    abi: watchDogLicenseAbi,
    functionName: 'setOperator',
    args: [TOKEN, operator.address],
  });
  assert.equal((await client.waitForTransactionReceipt({ hash: set })).status, 'success');
  offsetMs = (await chainNow()) * 1000 - Date.now();

  redis = await ensureRedis({ url: `redis://127.0.0.1:${await freePort()}`, dataDir: join(tmp, 'redis') });
  keeper = new Keeper({
    rpcUrl: anvil.rpcUrl,
    addressBook: book,
    privateKey: devPrivateKey(2),
    redisUrl: redis.url,
    guardianUrls: [],
    httpPort: 0,
    dataDir: join(tmp, 'keeper'),
    stages: [],
    scheduler: false,
    timing: { transcriptGraceSeconds: 5 },
    nowMs: () => Date.now() + offsetMs,
    log: quiet,
  });
  await keeper.start();
});

after(async () => {
  await keeper?.stop();
  await redis?.stop();
  await anvil?.stop();
  rmSync(tmp, { recursive: true, force: true });
  if (bookPath) rmSync(bookPath, { force: true });
});

test('WatchDog commits, the epoch view and transcripts follow the epoch clock and the license operator', async () => {
  const clock = await keeper.env.chain.clock();
  const current = await keeper.env.chain.currentEpoch();
  const epoch = current + 2;
  const start = clock.genesisTime + (epoch - 1) * clock.epochDuration;
  const end = start + clock.epochDuration;
  const secret = keccak256('0x01');

  // commits
  const commit = await signWatchdogCommit(operatorKey, TOKEN, epoch, secret);
  assert.deepEqual(await post('/watchdog/commit', commit), { status: 200, body: { accepted: true } });
  assert.deepEqual(
    await post('/watchdog/commit', commit),
    { status: 200, body: { accepted: true } },
    'the same commit again is fine',
  );
  const other = await signWatchdogCommit(operatorKey, TOKEN, epoch, keccak256('0x02'));
  assert.equal((await post('/watchdog/commit', other)).body.error, 'conflict');
  const stranger = await signWatchdogCommit(generatePrivateKey(), TOKEN, epoch, secret);
  const refused = await post('/watchdog/commit', stranger);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error, 'not-operator');
  assert.equal(
    (await post('/watchdog/commit', await signWatchdogCommit(operatorKey, 999n, epoch, secret))).body.error,
    'unknown-license',
  );
  assert.equal(
    (await post('/watchdog/commit', await signWatchdogCommit(operatorKey, TOKEN, current, secret))).body.error,
    'too-late',
  );
  const malformed = await post('/watchdog/commit', { ...commit, commit: '0x1234' });
  assert.equal(malformed.status, 400);
  assert.match(String(malformed.body.message), /commit/);

  // the view before the epoch: not final, the commit listed with the operator
  let view = (await (await fetch(`${keeper.httpUrl}/epochs/${epoch}/watchdogs`)).json()) as Record<string, unknown>;
  assert.equal(view.final, false);
  assert.equal(view.nodes, null);
  assert.deepEqual(view.watchdogs, [
    { tokenId: TOKEN_ID, operator: operator.address.toLowerCase(), commit: commit.commit, signature: commit.signature },
  ]);

  // transcripts are refused before the epoch ends
  const transcript = await signTranscript(operatorKey, { tokenId: TOKEN_ID, epoch, secret, results: [] });
  await moveTo(start);
  view = (await (await fetch(`${keeper.httpUrl}/epochs/${epoch}/watchdogs`)).json()) as Record<string, unknown>;
  assert.equal(view.final, true);
  assert.deepEqual(view.nodes, []);
  assert.ok(view.assignSeed);
  assert.equal((await post('/watchdog/commit', commit)).body.error, 'too-late');
  assert.equal((await post('/watchdog/transcript', transcript)).body.error, 'too-early');

  // still too early at the epoch's end: a transcript reveals the challenge envelope ids, so it is taken only
  // from the commit deadline on
  await moveTo(end);
  const early = await post('/watchdog/transcript', transcript);
  assert.equal(early.body.error, 'too-early');
  assert.match(String(early.body.message), /commit deadline/);
  await moveTo(end + keeper.env.consensus.commitGraceSeconds);
  const wrongSecret = await signTranscript(operatorKey, {
    tokenId: TOKEN_ID,
    epoch,
    secret: keccak256('0x03'),
    results: [],
  });
  assert.equal((await post('/watchdog/transcript', wrongSecret)).body.error, 'secret-mismatch');
  const wrongSigner = await signTranscript(generatePrivateKey(), { tokenId: TOKEN_ID, epoch, secret, results: [] });
  assert.equal((await post('/watchdog/transcript', wrongSigner)).body.error, 'bad-signature');
  assert.deepEqual(await post('/watchdog/transcript', transcript), { status: 200, body: { accepted: true } });
  assert.deepEqual((await keeper.env.store.getWatchdog(epoch, 'transcripts')).get(TOKEN_ID), transcript);
  // past the grace, transcripts stay open until the pipeline's transcripts stage fixes the epoch's data
  // (a keeper that was down must not shut out WatchDogs that could not reach it)
  await moveTo(end + keeper.env.consensus.commitGraceSeconds + 6);
  assert.deepEqual(await post('/watchdog/transcript', transcript), { status: 200, body: { accepted: true } });
  await keeper.env.store.setStage(epoch, 'transcripts', { watchdogs: [], transcripts: [] });
  assert.equal((await post('/watchdog/transcript', transcript)).body.error, 'too-late');

  // rejections are counted
  const metrics = await (await fetch(`${keeper.httpUrl}/metrics`)).text();
  assert.match(metrics, /keeper_http_rejected_total\{code="too-late"\} 3/);
  assert.match(metrics, /keeper_queue_jobs\{queue="submit",state="waiting"\} 0/);
});

test('datasets are served byte for byte; unknown ones and unknown routes are 404; epoch status lists the stages', async () => {
  const json = canonicalJson({ b: [1, 2], a: 'x' });
  const hash = keccakUtf8(json);
  assert.equal((await fetch(`${keeper.httpUrl}/datasets/${hash}`)).status, 404);
  await keeper.env.store.putDataset(hash, json);
  const res = await fetch(`${keeper.httpUrl}/datasets/${hash}`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), json);
  assert.equal((await fetch(`${keeper.httpUrl}/nope`)).status, 404);
  const status = (await (await fetch(`${keeper.httpUrl}/epochs/7`)).json()) as {
    stages: Record<string, unknown>;
    deadLetters: unknown[];
  };
  assert.deepEqual(status.stages.submit, { job: 'unknown', done: false });
  assert.deepEqual(status.deadLetters, []);
});

test('reward proofs of a scored epoch are served and verify against its reward root; unscored or tampered epochs are refused', async () => {
  assert.equal((await fetch(`${keeper.httpUrl}/epochs/9/claims`)).status, 404, 'not scored yet');
  const accounts = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()].map(
    (k) => privateKeyToAccount(k).address.toLowerCase() as Address,
  );
  const cumulative = accounts.map((account, i) => ({ account, cumulative: BigInt(i + 1) * 10n ** 18n }));
  const licenseCumulative = [2n, 7n].map((tokenId) => ({ tokenId, cumulative: tokenId * 10n ** 17n }));
  // the reward tree: account leaves, then license leaves (core/scoring.ts)
  const tree = buildTree([
    ...cumulative.map((c) => rewardLeaf(c.account, c.cumulative)),
    ...licenseCumulative.map((l) => licenseRewardLeaf(l.tokenId, l.cumulative)),
  ]);
  // score outputs reduced to what the claims need (and shaped as older keepers stored them), written untyped
  const outputs = new PipelineStore<StageFields>(keeper.env.store.redis, keeper.env.store.prefix);
  await outputs.setStage(9, 'score', { header: { rewardRoot: tree.root }, cumulative, licenseCumulative });
  const res = await fetch(`${keeper.httpUrl}/epochs/9/claims`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as {
    epoch: number;
    root: Hex;
    claims: Record<string, { cumulative: string; proof: Hex[] }>;
    licenses: Record<string, { cumulative: string; proof: Hex[] }>;
  };
  assert.equal(doc.epoch, 9);
  assert.equal(doc.root, tree.root);
  const fold = (leaf: Uint8Array, proof: Hex[]) => {
    let node = leaf;
    for (const sibling of proof) node = hashPair(node, hexToBytes(sibling));
    return bytesToHex(node);
  };
  for (const c of cumulative) {
    const claim = doc.claims[c.account]!;
    assert.equal(claim.cumulative, c.cumulative.toString());
    assert.equal(
      fold(rewardLeaf(c.account, BigInt(claim.cumulative)), claim.proof),
      tree.root,
      `proof of ${c.account}`,
    );
  }
  assert.deepEqual(Object.keys(doc.licenses).sort(), ['2', '7']);
  for (const l of licenseCumulative) {
    const claim = doc.licenses[l.tokenId.toString()]!;
    assert.equal(claim.cumulative, l.cumulative.toString());
    assert.equal(
      fold(licenseRewardLeaf(l.tokenId, BigInt(claim.cumulative)), claim.proof),
      tree.root,
      `proof of license ${l.tokenId}`,
    );
  }
  // an output stored before license leaves existed (no license list) is served with none
  const accountsOnly = buildTree(cumulative.map((c) => rewardLeaf(c.account, c.cumulative)));
  await outputs.setStage(11, 'score', { header: { rewardRoot: accountsOnly.root }, cumulative });
  const old = (await (await fetch(`${keeper.httpUrl}/epochs/11/claims`)).json()) as {
    licenses: Record<string, unknown>;
  };
  assert.deepEqual(old.licenses, {});
  // a stored list that does not hash to the header's root is never served (a missing license list included)
  await outputs.setStage(12, 'score', { header: { rewardRoot: tree.root }, cumulative });
  assert.equal((await fetch(`${keeper.httpUrl}/epochs/12/claims`)).status, 500);
  await outputs.setStage(10, 'score', {
    header: { rewardRoot: tree.root },
    cumulative: cumulative.slice(1),
    licenseCumulative,
  });
  const bad = await fetch(`${keeper.httpUrl}/epochs/10/claims`);
  assert.equal(bad.status, 500);
  assert.equal(((await bad.json()) as { error: string }).error, 'root-mismatch');
});

test('TxSender sends each named transaction once and survives a stolen nonce', async (t) => {
  const account = privateKeyToAccount(devPrivateKey(6));
  const connection = redisConnection(redis.url);
  t.after(() => connection.disconnect());
  const sender = new TxSender({ client, account, chain: foundry, redis: connection, prefix: 'txtest', log: quiet });
  const token = book.contracts.SendToken;
  const spender = privateKeyToAccount(generatePrivateKey()).address;
  const allowance = () =>
    client.readContract({
      address: token,
      abi: sendTokenAbi,
      functionName: 'allowance',
      args: [account.address, spender],
    });
  const approve = (amount: bigint) =>
    ({ address: token, abi: sendTokenAbi, functionName: 'approve', args: [spender, amount] }) as const;

  const nonce0 = await client.getTransactionCount({ address: account.address });
  const first = await sender.sendOnce('approve.1', approve(5n), async () => (await allowance()) === 5n);
  assert.equal(first.status, 'mined');
  const again = await sender.sendOnce('approve.1', approve(5n), async () => (await allowance()) === 5n);
  assert.deepEqual(again.status === 'mined' && again.hash, first.status === 'mined' && first.hash);
  assert.equal(await client.getTransactionCount({ address: account.address }), nonce0 + 1);

  // already done elsewhere: nothing is sent
  assert.deepEqual(await sender.sendOnce('approve.2', approve(5n), async () => true), { status: 'done-elsewhere' });
  assert.equal(await client.getTransactionCount({ address: account.address }), nonce0 + 1);

  // a revert in simulation names the contract error and stores nothing
  const settlementCall = {
    address: book.contracts.EpochSettlement,
    abi: epochSettlementAbi,
    functionName: 'executeFault',
    args: [1, 0, spender, 0n, false, []],
  } as const;
  const error = await sender.sendOnce('fault.x', settlementCall, async () => false).catch((e: unknown) => e);
  assert.equal(revertName(error), 'EpochNotFinalized');
  assert.equal(await sender.record('fault.x'), null);

  // a signed-and-stored transaction whose nonce another transaction took is replaced by a new one
  const nonce = await client.getTransactionCount({ address: account.address });
  const data = encodeFunctionData({ abi: sendTokenAbi, functionName: 'approve', args: [spender, 7n] });
  const request = await client.prepareTransactionRequest({ account, chain: foundry, to: token, data, nonce });
  const raw = await account.signTransaction(request as Parameters<typeof account.signTransaction>[0]);
  await connection.set(
    'txtest:tx:approve.3',
    JSON.stringify({ hash: keccak256(raw), raw, nonce, to: token, functionName: 'approve', createdAt: '' }),
  );
  const wallet = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account });
  const thief = await wallet.sendTransaction({ to: spender, value: 1n, nonce });
  await client.waitForTransactionReceipt({ hash: thief });
  const replaced = await sender.sendOnce('approve.3', approve(9n), async () => (await allowance()) === 9n);
  assert.equal(replaced.status, 'mined');
  assert.notEqual(replaced.status === 'mined' && replaced.hash, keccak256(raw));
  assert.equal(await allowance(), 9n);
  assert.equal((await sender.record('approve.3'))?.hash, replaced.status === 'mined' ? replaced.hash : null);
});

test('a keeper refuses to start on parameters that let misbehaviour pay, naming the parameter and the bound', async () => {
  for (const [consensus, parameter] of [
    [{ ...DEVNET_CONSENSUS, fraudSlash: '1000000000000000000001' }, 'consensus.fraudSlash'], // above 10% of the 10,000 SEND minimum stake
    [{ ...DEVNET_CONSENSUS, fraudSlash: '0' }, 'consensus.fraudSlash'],
    [{ ...DEVNET_CONSENSUS, k: 1 }, 'consensus.k'],
  ] as const) {
    const refused = new Keeper({
      rpcUrl: anvil.rpcUrl,
      addressBook: book,
      privateKey: devPrivateKey(2),
      redisUrl: 'redis://127.0.0.1:1', // never reached: the check comes first
      spawnRedis: false,
      guardianUrls: [],
      httpPort: 0,
      dataDir: join(tmp, 'refused'),
      stages: [],
      scheduler: false,
      consensus,
      log: quiet,
    });
    await assert.rejects(
      refused.start(),
      (e: unknown) =>
        e instanceof IncentiveParameterError &&
        e.violations.some((v) => v.parameter === parameter) &&
        e.message.includes('docs/protocol.md §7.1'),
      parameter,
    );
  }
});
