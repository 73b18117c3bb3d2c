/**
 * The keeper's WatchDog endpoints against resource abuse (issue 11, finding 6), on a real chain (anvil, the
 * devnet deployment, three staked nodes, two licenses with their own operators) and a real Redis:
 * - a commit for an epoch beyond the commit window (current + COMMIT_EPOCHS_AHEAD) is refused as
 *   `too-far-ahead`; the next epochs are accepted;
 * - a transcript larger than its license's schedule needs (assigned nodes × challenges × bytes per result +
 *   overhead) is refused as `too-large` with the sizes; one naming a node not assigned to the license is
 *   refused as `unassigned-node`, one missing results as `missing-result`; the exact schedule is accepted;
 * - the commits and transcripts received for an epoch are pruned once it is older than the retained epochs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestClient, http, keccak256, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { pino } from 'pino';
import { freePort } from '../src/dev/anvil.js';
import { DEVNET_CONSENSUS } from '../src/core/consensus.js';
import {
  COMMIT_EPOCHS_AHEAD,
  MAX_TRANSCRIPT_RESULT_BYTES,
  maxTranscriptBytes,
} from '../src/core/watchdogAcceptance.js';
import { validWatchdogCommits, watchdogAssignment } from '../src/core/evaluateWatchdogs.js';
import {
  challengeEnvelopeId,
  challengeOffsets,
  signTranscript,
  signWatchdogCommit,
  type SignedTranscript,
  type TranscriptResult,
} from '../src/core/watchdogSchedule.js';
import type { EpochWatchdogsResponse } from '../src/core/watchdogApi.js';
import { ensureRedis, type RedisHandle } from '../src/infra/redis.js';
import { Keeper } from '../src/keeper/keeper.js';
import { mintLicense, registerNode, startProtocolChain, type ProtocolChain } from './helpers/protocolChain.js';

const quiet = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const CONSENSUS = { ...DEVNET_CONSENSUS, m: 1 };
let chain: ProtocolChain;
let redis: RedisHandle;
let keeper: Keeper;
let tmp: string;
/** Chain time − wall time, ms: the keeper's clock follows the chain we move. */
let offsetMs = 0;
const operatorKeys = [generatePrivateKey(), generatePrivateKey()];
const licenses: bigint[] = [];
const nodes: Address[] = [];

async function chainNow(): Promise<number> {
  return Number((await chain.publicClient.getBlock({ blockTag: 'latest' })).timestamp);
}

async function moveTo(t: number): Promise<void> {
  const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport: http(chain.anvil.rpcUrl) });
  await testClient.setNextBlockTimestamp({ timestamp: BigInt(t) });
  await testClient.mine({ blocks: 1 });
  offsetMs = t * 1000 - Date.now();
}

async function post(path: string, body: unknown) {
  const res = await fetch(`${keeper.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string; accepted?: boolean } };
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'keeper-wd-limits-'));
  chain = await startProtocolChain();
  for (const i of [1, 2, 3]) {
    nodes.push(
      await registerNode(chain, {
        nodePrivateKey: generatePrivateKey(),
        operatorPrivateKey: generatePrivateKey(),
        stake: 10n ** 22n,
        endpoint: `ws://127.0.0.1:${9300 + i}`,
      }),
    );
  }
  for (const key of operatorKeys)
    licenses.push(await mintLicense(chain, generatePrivateKey(), privateKeyToAccount(key).address));
  offsetMs = (await chainNow()) * 1000 - Date.now();
  redis = await ensureRedis({ url: `redis://127.0.0.1:${await freePort()}`, dataDir: join(tmp, 'redis') });
  keeper = new Keeper({
    rpcUrl: chain.anvil.rpcUrl,
    addressBook: chain.book,
    privateKey: `0x${'22'.repeat(32)}` as Hex,
    redisUrl: redis.url,
    guardianUrls: [],
    httpPort: 0,
    dataDir: join(tmp, 'keeper'),
    stages: [],
    scheduler: false,
    consensus: CONSENSUS,
    timing: { transcriptGraceSeconds: 5, retainEpochs: 16 },
    nowMs: () => Date.now() + offsetMs,
    log: quiet,
  });
  await keeper.start();
});

after(async () => {
  await keeper?.stop();
  await redis?.stop();
  await chain?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('commits only for the next epochs, transcripts only as large as and exactly their schedule, old ones pruned', async () => {
  const clock = await keeper.env.chain.clock();
  const current = await keeper.env.chain.currentEpoch();
  const epoch = current + COMMIT_EPOCHS_AHEAD; // the furthest epoch still open: the nodes are Active at its start
  const start = clock.genesisTime + (epoch - 1) * clock.epochDuration;
  const end = start + clock.epochDuration;
  const secrets = [keccak256('0x0a'), keccak256('0x0b')];

  // far-future commits are refused with the window; the window's epochs are accepted
  const far = await signWatchdogCommit(operatorKeys[0]!, licenses[0]!, epoch + 1, secrets[0]!);
  const refusedFar = await post('/watchdog/commit', far);
  assert.equal(refusedFar.status, 409);
  assert.equal(refusedFar.body.error, 'too-far-ahead');
  assert.match(
    refusedFar.body.message!,
    new RegExp(`commits are taken for epochs ${current + 1} to ${current + COMMIT_EPOCHS_AHEAD} only`),
  );
  const veryFar = await signWatchdogCommit(operatorKeys[0]!, licenses[0]!, 0xffffffff, secrets[0]!);
  assert.equal((await post('/watchdog/commit', veryFar)).body.error, 'too-far-ahead');
  assert.equal((await keeper.env.store.getWatchdog(epoch + 1, 'commits')).size, 0, 'nothing stored');
  for (const [k, key] of operatorKeys.entries()) {
    const commit = await signWatchdogCommit(key, licenses[k]!, epoch, secrets[k]!);
    assert.deepEqual(await post('/watchdog/commit', commit), { status: 200, body: { accepted: true } });
  }
  const next = await signWatchdogCommit(operatorKeys[0]!, licenses[0]!, current + 1, secrets[0]!);
  assert.deepEqual(await post('/watchdog/commit', next), { status: 200, body: { accepted: true } });

  // the epoch starts: the assignment is fixed (m = 1: each node gets one of the two licenses)
  await moveTo(start);
  const view = (await (await fetch(`${keeper.httpUrl}/epochs/${epoch}/watchdogs`)).json()) as EpochWatchdogsResponse;
  assert.equal(view.final, true);
  assert.deepEqual(view.nodes?.map((n) => n.nodeKey).sort(), [...nodes].sort());
  assert.ok(
    view.watchdogs.every((w) => w.owner !== undefined),
    'a final view names the license owners',
  );
  const valid = await validWatchdogCommits(
    epoch,
    view.watchdogs.map((w) => ({ ...w, owner: w.owner! })),
  );
  const { nodesOf } = watchdogAssignment(view.assignSeed!.value as Hex, view.nodes!, valid, CONSENSUS.m);
  // the license with the fewest nodes, so that some registered node is not assigned to it
  const k =
    (nodesOf.get(licenses[0]!.toString())?.length ?? 0) <= (nodesOf.get(licenses[1]!.toString())?.length ?? 0) ? 0 : 1;
  const tokenId = licenses[k]!.toString();
  const assigned = nodesOf.get(tokenId) ?? [];
  const unassigned = nodes.find((n) => !assigned.includes(n))!;
  assert.ok(unassigned, 'a registered node is assigned to the other license');
  const count = CONSENSUS.challengesPerNode;
  const timeoutSeconds = Math.ceil(CONSENSUS.challengeTimeoutMs / 1000);
  const resultsFor = (ns: readonly Address[]): TranscriptResult[] =>
    ns.flatMap((node) =>
      challengeOffsets(secrets[k]!, node, count, clock.epochDuration, timeoutSeconds).map(({ i, offset }) => ({
        node,
        i,
        at: (start + offset) * 1000,
        envelopeId: challengeEnvelopeId(secrets[k]!, node, i),
        ok: false,
        latencyMs: 0,
      })),
    );
  const sign = (results: TranscriptResult[]): Promise<SignedTranscript> =>
    signTranscript(operatorKeys[k]!, { tokenId, epoch, secret: secrets[k]!, results });
  // transcripts open at the commit deadline (they reveal the challenge envelope ids)
  await moveTo(end);
  assert.equal((await post('/watchdog/transcript', await sign(resultsFor(assigned)))).body.error, 'too-early');
  await moveTo(end + CONSENSUS.commitGraceSeconds);

  // larger than the schedule allows: padding, or results beyond the schedule (the 4 MiB transcripts of the report)
  const honest = await sign(resultsFor(assigned));
  const limit = maxTranscriptBytes(assigned.length, count);
  const padded = JSON.stringify(honest) + ' '.repeat(limit);
  const tooLarge = await post('/watchdog/transcript', padded);
  assert.equal(tooLarge.status, 409);
  assert.equal(tooLarge.body.error, 'too-large');
  assert.equal(
    tooLarge.body.message,
    `transcript of license ${tokenId} is ${Buffer.byteLength(padded)} bytes; its schedule (${assigned.length} assigned nodes × ${count} challenges) allows at most ${limit}`,
  );
  const extra = resultsFor([
    unassigned,
    ...Array.from({ length: 40 }, () => privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Address),
  ]);
  const stuffed = await sign([...resultsFor(assigned), ...extra]);
  assert.ok(JSON.stringify(stuffed).length > limit, 'more results than the schedule has');
  assert.equal((await post('/watchdog/transcript', stuffed)).body.error, 'too-large');
  assert.ok(limit < 64 * MAX_TRANSCRIPT_RESULT_BYTES * count, 'the limit follows the schedule, not a fixed 4 MiB');

  // naming a node not assigned to this license (same size as the schedule): refused with the node
  const swapped = await sign(resultsFor(assigned.length > 0 ? [...assigned.slice(1), unassigned] : [unassigned]));
  const notAssigned = await post('/watchdog/transcript', swapped);
  assert.equal(notAssigned.status, 409);
  assert.equal(notAssigned.body.error, 'unassigned-node');
  assert.match(notAssigned.body.message!, new RegExp(`node ${unassigned}, which is not assigned to this WatchDog`));
  if (assigned.length > 0) {
    const missing = await post('/watchdog/transcript', await sign(resultsFor(assigned).slice(1)));
    assert.equal(missing.body.error, 'missing-result');
  }
  assert.equal((await keeper.env.store.getWatchdog(epoch, 'transcripts')).size, 0, 'nothing refused was stored');

  // the exact schedule is accepted
  assert.deepEqual(await post('/watchdog/transcript', honest), { status: 200, body: { accepted: true } });
  assert.equal((await keeper.env.store.getWatchdog(epoch, 'transcripts')).size, 1);

  // commits of a later epoch (in the window from now on: epoch + 1 has started) are kept when `epoch` is pruned
  const later = epoch + 2;
  assert.deepEqual(
    await post('/watchdog/commit', await signWatchdogCommit(operatorKeys[1]!, licenses[1]!, later, secrets[1]!)),
    { status: 200, body: { accepted: true } },
  );
  // once `epoch` is older than the retained epochs (16 behind the last finalized), its WatchDog data goes
  const progress = { lastSubmitted: epoch + 16, lastFinalized: epoch + 16, totalFunded: 0n, finalizedCumulative: 0n };
  keeper.env.chain.progress = async () => progress; // a chain read stubbed: settlement 16 epochs further
  await keeper.tick();
  for (const e of [current + 1, epoch]) {
    assert.equal((await keeper.env.store.getWatchdog(e, 'commits')).size, 0, `commits of epoch ${e} pruned`);
    assert.equal((await keeper.env.store.getWatchdog(e, 'transcripts')).size, 0, `transcripts of epoch ${e} pruned`);
  }
  assert.equal((await keeper.env.store.getWatchdog(later, 'commits')).size, 1, 'a later epoch keeps its commits');
  // a transcript for the pruned epoch is refused, not stored again
  assert.equal((await post('/watchdog/transcript', honest)).body.error, 'no-commit');
});
