/**
 * The keeper's fault stage against the real contracts (issue 12 §2 "withdraw after a stall"), on anvil with
 * the devnet deployment and a real Redis. One epoch's fault tree holds three leaves:
 *   0. a node that stays bonded: slashed;
 *   1. a node that unbonded in that epoch and withdrew once the fault window was over: nothing is left to
 *      slash, yet the leaf executes and its strike is recorded (it used to revert `SlashCapReached` forever,
 *      rescheduling the stage every epoch);
 *   2. a node key that was never registered: the leaf can never execute; the keeper retires it (logged once,
 *      with its reason) and the stage completes.
 * Then pruning goes past the epoch (it stops at the first epoch with an unfinished stage).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createWalletClient, http, parseEther, type Abi, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { pino } from 'pino';
import { freePort } from '../src/dev/anvil.js';
import { devPrivateKey } from '../src/devnet/devAccounts.js';
import { epochSettlementAbi, nodeStakingAbi } from '../src/generated/contracts.js';
import { ensureRedis, type RedisHandle } from '../src/infra/redis.js';
import { Keeper } from '../src/keeper/keeper.js';
import { RETIRED_FAULTS_PART, type ExecuteFaultsOutput } from '../src/keeper/handlers/settle.js';
import type { ScoreOutput } from '../src/keeper/handlers/score.js';
import { buildTree, faultLeaf } from '../src/core/merkle.js';
import type { FaultRecord } from '../src/core/scoring.js';
import type { EpochHeader } from '../src/core/epochHeader.js';
import {
  currentEpoch,
  epochStartOf,
  guardianKeys,
  mineAt,
  registerNode,
  startProtocolChain,
  submitEmptyEpochs,
  submitHeader,
  type ProtocolChain,
} from './helpers/protocolChain.js';

const ZERO: Hex = `0x${'0'.repeat(64)}`;
let c: ProtocolChain;
let redis: RedisHandle;
let tmp: string;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'keeper-faults-'));
  c = await startProtocolChain();
  redis = await ensureRedis({ url: `redis://127.0.0.1:${await freePort()}`, dataDir: join(tmp, 'redis') });
});

after(async () => {
  await redis?.stop();
  await c?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

async function head(): Promise<number> {
  return Number((await c.publicClient.getBlock()).timestamp);
}

/** Mines one block at `timestamp`, or at the next second when the head is already there. */
async function mineAtLeast(timestamp: number): Promise<void> {
  await mineAt(c, Math.max(timestamp, (await head()) + 1));
}

interface Call {
  address: Address;
  abi: Abi;
  functionName: string;
  args?: readonly unknown[];
}

async function send(privateKey: Hex, call: Call) {
  const wallet = createWalletClient({
    chain: foundry,
    transport: http(c.anvil.rpcUrl),
    account: privateKeyToAccount(privateKey),
  });
  const hash = await wallet.writeContract(call as Parameters<typeof wallet.writeContract>[0]);
  const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success', `${call.functionName} reverted`);
  return receipt;
}

const node = (key: Address) =>
  c.publicClient.readContract({
    address: c.contracts.staking,
    abi: nodeStakingAbi,
    functionName: 'getNode',
    args: [key],
  });
const pending = (epoch: number, index: number) =>
  c.publicClient.readContract({
    address: c.contracts.settlement,
    abi: epochSettlementAbi,
    functionName: 'faultPending',
    args: [epoch, index],
  });

test("execute-faults executes a withdrawn node's fault for its strike, retires a leaf that can never execute, and pruning passes the epoch", {
  timeout: 240_000,
}, async () => {
  const minStake = await c.publicClient.readContract({
    address: c.contracts.staking,
    abi: nodeStakingAbi,
    functionName: 'minStake',
  });
  const bondedOperator = generatePrivateKey();
  const leavingOperator = generatePrivateKey();
  const bonded = await registerNode(c, {
    nodePrivateKey: generatePrivateKey(),
    operatorPrivateKey: bondedOperator,
    stake: minStake * 2n,
    endpoint: 'wss://bonded.example',
  });
  const leaving = await registerNode(c, {
    nodePrivateKey: generatePrivateKey(),
    operatorPrivateKey: leavingOperator,
    stake: minStake,
    endpoint: 'wss://leaving.example',
  });
  const stranger = privateKeyToAccount(generatePrivateKey()).address.toLowerCase() as Address;

  // the leaving node unbonds everything in epoch E, the epoch whose faults name it
  await send(leavingOperator, {
    address: c.contracts.staking,
    abi: nodeStakingAbi,
    functionName: 'requestUnbond',
    args: [leaving, minStake],
  });
  const E = (await node(leaving)).unbondingEpoch;
  assert.ok(E >= 1 && E <= (await currentEpoch(c)));
  await submitEmptyEpochs(c, E - 1, guardianKeys());

  const amount = parseEther('100');
  const faults: FaultRecord[] = [bonded, leaving, stranger].map((nodeKey, index) => ({
    epoch: E,
    index,
    nodeKey,
    amount,
    strike: true,
  }));
  const tree = buildTree(faults.map((f) => faultLeaf(f.epoch, f.index, f.nodeKey, f.amount, f.strike)));
  const header: EpochHeader = {
    epoch: E,
    consensusVersion: 1,
    faultCount: faults.length,
    totalCumulative: 0n,
    epochEmission: 0n,
    rewardRoot: ZERO,
    faultRoot: tree.root,
    scoresHash: ZERO,
    dataHash: ZERO,
    seed: ZERO,
  };
  await mineAtLeast(await epochStartOf(c, E + 1));
  const submitted = await submitHeader(c, header, guardianKeys()); // all seven: no late signatures to ask for

  // a stall longer than the cooldown, then finalization; the node withdraws once the fault window is over
  const released = (await node(leaving)).unbondingReleaseAt;
  await mineAtLeast(Number(released) + 1);
  await send(devPrivateKey(2), {
    address: c.contracts.settlement,
    abi: epochSettlementAbi,
    functionName: 'finalizeEpochs',
  });
  const opensAt = await c.publicClient.readContract({
    address: c.contracts.staking,
    abi: nodeStakingAbi,
    functionName: 'faultWindowEnd',
    args: [leaving],
  });
  assert.ok(opensAt > BigInt(await head()), 'the fault window is open right after the finalization');
  await mineAtLeast(Number(opensAt));
  await send(leavingOperator, {
    address: c.contracts.staking,
    abi: nodeStakingAbi,
    functionName: 'withdraw',
    args: [leaving],
  });
  assert.equal((await node(leaving)).unbonding, 0n);

  // the keeper, with this epoch's score and submit outputs as its own earlier stages left them
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const keeper = new Keeper({
    rpcUrl: c.anvil.rpcUrl,
    addressBook: c.book,
    privateKey: devPrivateKey(2),
    redisUrl: redis.url,
    guardianUrls: [],
    httpPort: 0,
    dataDir: join(tmp, 'keeper'),
    stages: ['execute-faults'],
    scheduler: false,
    timing: { retainEpochs: 2 },
    lockDurationMs: 3000,
    log: pino({ level: 'warn' }, sink),
  });
  await keeper.start();
  try {
    const store = keeper.env.store;
    await store.setStage(E, 'score', { faults, header, scores: [], cumulative: [] } as unknown as ScoreOutput);
    await store.setStage(E, 'submit', {
      txHash: submitted.transactionHash,
      blockNumber: Number(submitted.blockNumber),
      submittedByUs: true,
      headerMatches: true,
    });
    await keeper.queues.add('execute-faults', E);
    await waitFor(
      `execute-faults of epoch ${E}`,
      async () => (await keeper.queues.state('execute-faults', E)) === 'completed',
      60_000,
    ).catch(async (error) => {
      throw new Error(
        `${(error as Error).message} (state ${await keeper.queues.state('execute-faults', E)}; log: ${lines.join('')})`,
      );
    });
    const out = (await store.getStage(E, 'execute-faults')) as ExecuteFaultsOutput;
    assert.deepEqual(out.executedByUs, [0, 1]);
    assert.equal(out.retired?.length, 1);
    assert.equal(out.retired?.[0]?.index, 2);
    assert.equal(out.retired?.[0]?.nodeKey.toLowerCase(), stranger);
    assert.match(out.retired?.[0]?.reason ?? '', /^NodeNotRegistered: /);
    assert.equal(lines.filter((l) => l.includes('fault leaf can never execute')).length, 1);

    // on-chain: the bonded node lost 100 SEND, the withdrawn one nothing but has its strike
    assert.equal(await pending(E, 0), false);
    assert.equal(await pending(E, 1), false);
    assert.equal(await pending(E, 2), true);
    assert.equal((await node(bonded)).stake, minStake * 2n - amount);
    const gone = await node(leaving);
    assert.equal(gone.stake + gone.unbonding, 0n);
    assert.notEqual(gone.recentStrikeEpochs, 0n, 'the strike of the withdrawn node is recorded');
    const slashes = await c.publicClient.getContractEvents({
      address: c.contracts.staking,
      abi: nodeStakingAbi,
      eventName: 'NodeSlashed',
      fromBlock: submitted.blockNumber,
      strict: true,
    });
    assert.deepEqual(
      slashes.map((s) => s.args.nodeKey.toLowerCase()),
      [bonded],
    );

    // pruning is no longer held at E: finalize two more epochs and let the scheduler step prune
    await submitEmptyEpochs(c, E + 2, guardianKeys());
    const entry = await c.publicClient.readContract({
      address: c.contracts.settlement,
      abi: epochSettlementAbi,
      functionName: 'epochEntry',
      args: [E + 2],
    });
    await mineAtLeast(Number(entry.finalizeAt));
    await send(devPrivateKey(2), {
      address: c.contracts.settlement,
      abi: epochSettlementAbi,
      functionName: 'finalizeEpochs',
    });
    await keeper.tick();
    assert.ok((await store.prunedThrough()) >= E, `pruned through ${await store.prunedThrough()}, epoch ${E}`);
    assert.equal(await keeper.queues.state('execute-faults', E), 'unknown', "the epoch's jobs were pruned");
    assert.equal((await store.getParts(E, RETIRED_FAULTS_PART)).size, 0, 'the retired leaves were pruned');
  } finally {
    await keeper.stop();
  }
});
