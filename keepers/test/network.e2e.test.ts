/**
 * The issue-4 integration tests, on ONE live devnet (keepers/src/devnet/network.ts): anvil with 1 s blocks,
 * a private Redis, the whole deployment, 20 edge nodes (2 droppers, 1 inflater, 1 offline), 6 WatchDogs,
 * 50 clients with traffic, the keeper and the guardians as their own processes — guardians 5 and 6 down for
 * the whole run, so every epoch settles with exactly 5 of 7 signatures. With E = the first network epoch,
 * the run is driven through, in time order:
 *
 * - in the background: the keeper is SIGKILLed at a random moment inside epoch E+1 (override with
 *   KEEPER_KILL_OFFSET=<seconds into the epoch>) and again right after E+1's commit deadline, restarted
 *   each time; Redis is restarted in the middle of epoch E+2;
 * - honest epoch E: its dataset (fetched from the keeper by the on-chain dataHash) evaluated locally gives
 *   the on-chain header and every published reward; claims for honest node operators and a guardian pay
 *   exactly the scoring function's cumulative amounts;
 * - malformed and forged inputs to the keeper's WatchDog endpoints and to an edge node's WebSocket: each
 *   refused with a reason (and logged), the node keeps serving, the epoch still closes;
 * - the keeper kills: exactly one EpochSubmitted per epoch, no dead letters;
 * - the Redis restart: E+2 settles with all 20 nodes scored and every WatchDog message kept;
 * - a third guardian stopped as soon as E+2 has its signatures (around E+3's end: E+3's are asked only
 *   after E+2 is submitted, so all while it is down): E+3 is not submitted 25 s past its end and the
 *   keeper says why (pipeline status, log); once the guardian is back E+3 settles correctly;
 * - every network epoch costs each misbehaving node what the spec says, and no honest node anything (the
 *   inflater's third fraud strike ejects it, after which it is out of the node set).
 *
 * Heavy local work (evaluateEpoch) runs on a worker thread: this process hosts the real-time services.
 *
 * Run: node --import tsx --test --test-concurrency=1 keepers/test/network.e2e.test.ts
 * The run's files stay in the printed data dir when a test fails (or with KEEP_DEVNET_DATA=1).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import WebSocket from 'ws';
import { createTestClient, createWalletClient, http, parseEther, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { Devnet } from '../src/devnet/network.js';
import {
  checkEpoch,
  misbehaviourLedger,
  epochReport,
  renderEpochTable,
  type EpochReport,
  type NodeIdentity,
} from '../src/devnet/report.js';
import { devAccount } from '../src/devnet/devAccounts.js';
import { keccakUtf8 } from '../src/core/canonicalJson.js';
import { firstHeaderDifference } from '../src/core/guardianApi.js';
import { deviceKeyFromSeed, signAck, signTicket, sizeUnits, type DeviceKey, type Envelope } from '../src/core/relay.js';
import { signTranscript, signWatchdogCommit } from '../src/core/watchdogSchedule.js';
import { epochSettlementAbi, nodeStakingAbi, sendTokenAbi } from '../src/generated/contracts.js';
import { ChainReader } from '../src/keeper/chain.js';
import { revertName } from '../src/keeper/handlers/settle.js';
import { signLogin } from '../src/core/relayLogin.js';
import { SecretStore } from '../src/watchdog/secrets.js';
import { failureTracker, sleep, waitFor } from './helpers/waiting.js';
import { evaluateInWorker, type WorkerEvaluation } from './helpers/evaluateInWorker.js';

/** Guardian indices down for the whole run, and the one stopped before E+3 ends. */
const GUARDIANS_DOWN = [5, 6];
const THIRD_GUARDIAN = 4;
/** How long past an epoch's end it must still be unsubmitted while the quorum is missing. */
const HELD_PAST_END_SECONDS = 25;
/** NodeStaking.EjectReason.TooManyStrikes. */
const EJECT_TOO_MANY_STRIKES = 1;
/** Generous bound for one epoch to settle after the condition it waits for. */
const SETTLE_TIMEOUT_MS = 240_000;

let devnet: Devnet;
let dataDir: string;
let chain: ChainReader;
let E = 0;
let identities: NodeIdentity[] = [];
const failures = failureTracker();
/** Edge-node log lines "frame rejected" (the in-process services log through the devnet's logger). */
const frameRejections: string[] = [];
const printed = new Set<number>();
let disruptions: { kills: Promise<KillRecord[]>; redis: Promise<number>; guardian: Promise<GuardianStop> };
/** The epoch during which the malformed frames were sent, and the one whose transcript window was attacked. */
let attackedEpochs: number[] = [];

interface GuardianStop {
  at: number;
  /** The held epoch's signatures stage had not run yet when the guardian stopped. */
  heldSignaturesDone: boolean;
}

interface KillRecord {
  what: string;
  at: number;
  /** Pipeline stages of the epochs in flight at the kill: `<epoch>: <stage>=<job state>` of unfinished ones. */
  inFlight: string;
  downSeconds: number;
}

const nowSeconds = () => Date.now() / 1000;
const sleepUntil = (unixSeconds: number) => sleep(Math.max(0, unixSeconds * 1000 - Date.now()));

// ------------------------------------------------------------------------------------------ chain views

async function submittedEvents(epoch?: number) {
  return devnet.client.getContractEvents({
    address: devnet.book.contracts.EpochSettlement,
    abi: epochSettlementAbi,
    eventName: 'EpochSubmitted',
    args: epoch === undefined ? undefined : { epoch },
    fromBlock: BigInt(devnet.book.startBlock),
  });
}

/** The epoch's report once its scores are published and every fault leaf executed; printed once. */
async function settledReport(epoch: number): Promise<EpochReport | undefined> {
  const report = await epochReport(devnet.client, devnet.book, epoch, identities);
  if (!report || report.faultsExecuted < report.faultCount) return undefined;
  if (!printed.has(epoch)) {
    printed.add(epoch);
    console.log(`\n${renderEpochTable(report)}\n`);
  }
  return report;
}

const waitSettled = (epoch: number, timeoutMs = SETTLE_TIMEOUT_MS) =>
  waitFor(`epoch ${epoch} to settle (scores published, faults executed)`, () => settledReport(epoch), timeoutMs, 2000);

// ------------------------------------------------------------------------------------------ keeper API

interface StageStatus {
  job: string;
  done: boolean;
  attemptsMade?: number;
  lastError?: string;
}
interface EpochStatusBody {
  epoch: number;
  stages: Record<string, StageStatus>;
  dataHash: string | null;
  deadLetters: { jobId: string; reason: string }[];
}

/** GET from the keeper; retried while the keeper is down (the test kills and restarts it). */
async function keeperGet(path: string, timeoutMs = 60_000): Promise<Response> {
  return waitFor(
    `the keeper to answer GET ${path}`,
    async () => {
      const response = await fetch(`${devnet.keeper!.url}${path}`, { signal: AbortSignal.timeout(30_000) });
      assert.equal(response.status, 200, `GET ${path}: ${response.status} ${await response.clone().text()}`);
      return response;
    },
    timeoutMs,
    500,
  );
}

async function keeperStatus(epoch: number): Promise<EpochStatusBody> {
  return (await (await keeperGet(`/epochs/${epoch}`)).json()) as EpochStatusBody;
}

const evaluations = new Map<number, { text: string; evaluation: WorkerEvaluation }>();

/** The dataset of a submitted epoch, fetched from the keeper by the on-chain dataHash, and its evaluation. */
async function evaluated(epoch: number) {
  const cached = evaluations.get(epoch);
  if (cached) return cached;
  const submission = await chain.submission(epoch);
  assert.ok(submission, `epoch ${epoch} is not submitted`);
  const dataHash = submission.header.dataHash.toLowerCase();
  const text = await (await keeperGet(`/datasets/${dataHash}`)).text();
  assert.equal(
    keccakUtf8(text),
    dataHash,
    `the dataset the keeper serves for epoch ${epoch} hashes to the on-chain dataHash`,
  );
  // On a worker thread: this process hosts the edge nodes and WatchDogs, whose challenges are real-time.
  const evaluation = await evaluateInWorker(text, dataHash as Hex);
  assert.equal(
    firstHeaderDifference(evaluation.header, submission.header),
    null,
    `epoch ${epoch}: evaluateEpoch gives the on-chain header`,
  );
  const entry = { text, evaluation };
  evaluations.set(epoch, entry);
  return entry;
}

// ------------------------------------------------------------------------------------------ disruptions

async function inFlight(epochs: number[]): Promise<string> {
  const parts: string[] = [];
  for (const epoch of epochs) {
    try {
      const response = await fetch(`${devnet.keeper!.url}/epochs/${epoch}`, { signal: AbortSignal.timeout(5000) });
      const status = (await response.json()) as EpochStatusBody;
      const open = Object.entries(status.stages).filter(([, s]) => !s.done && s.job !== 'unknown');
      parts.push(`${epoch}: ${open.map(([stage, s]) => `${stage}=${s.job}`).join(' ') || 'nothing running'}`);
    } catch (error) {
      parts.push(`${epoch}: status unavailable (${(error as Error).message})`);
    }
  }
  return parts.join('; ');
}

async function killAndRestartKeeper(what: string): Promise<KillRecord> {
  const current = devnet.clock.currentEpoch();
  const flight = await inFlight([current - 2, current - 1, current].filter((e) => e >= 1));
  const at = nowSeconds();
  await devnet.killKeeper('SIGKILL');
  devnet.startKeeper();
  await devnet.waitForKeeper();
  const record = { what, at, inFlight: flight, downSeconds: nowSeconds() - at };
  console.log(
    `keeper SIGKILLed ${what} (epoch ${current}); in flight: ${flight}; back after ${record.downSeconds.toFixed(1)} s`,
  );
  return record;
}

function startDisruptions() {
  const duration = devnet.book.epochDurationSeconds;
  const kills = (async () => {
    const t1 = devnet.epochTimes(E + 1);
    const offset = process.env.KEEPER_KILL_OFFSET
      ? Number(process.env.KEEPER_KILL_OFFSET)
      : Math.round((1 + Math.random() * (duration - 2)) * 10) / 10;
    await sleepUntil(t1.start + offset);
    const first = await killAndRestartKeeper(`${offset} s into epoch ${E + 1}`);
    await sleepUntil(t1.commitDeadline + 0.5);
    const second = await killAndRestartKeeper(`right after epoch ${E + 1}'s commit deadline`);
    return [first, second];
  })();
  const redis = (async () => {
    await kills;
    const t2 = devnet.epochTimes(E + 2);
    await sleepUntil(t2.start + duration / 2);
    if (nowSeconds() > t2.end - 3)
      throw new Error(
        `the keeper restarts took until ${(nowSeconds() - t2.end).toFixed(1)} s past epoch ${E + 2}'s end: no time left to restart Redis inside it`,
      );
    const at = nowSeconds();
    await devnet.redis.restart();
    console.log(`Redis restarted in epoch ${devnet.clock.currentEpoch()} (down ${(nowSeconds() - at).toFixed(1)} s)`);
    return at;
  })();
  // The third guardian goes down as soon as E+2 has its signatures: E+3's are collected only after E+2 is
  // submitted (its score stage waits for that), so they are all asked while it is down.
  const guardian = (async () => {
    await waitFor(
      `epoch ${E + 2}'s guardian signatures`,
      async () => (await keeperStatus(E + 2)).stages.signatures!.done,
      600_000,
      250,
    );
    const { heldSignaturesDone } = await waitFor(
      `epoch ${E + 3}'s status`,
      async () => ({ heldSignaturesDone: (await keeperStatus(E + 3)).stages.signatures!.done }),
      30_000,
      250,
    );
    await devnet.stopGuardian(THIRD_GUARDIAN);
    const at = nowSeconds();
    const toEnd = devnet.epochTimes(E + 3).end - at;
    console.log(
      `guardian ${THIRD_GUARDIAN} stopped ${Math.abs(toEnd).toFixed(1)} s ${toEnd >= 0 ? 'before' : 'after'} the end of epoch ${E + 3}`,
    );
    return { at, heldSignaturesDone };
  })();
  // Awaited by the tests; never an unhandled rejection meanwhile.
  for (const p of [kills, redis, guardian]) p.catch(() => {});
  return { kills, redis, guardian };
}

// ------------------------------------------------------------------------------------------ set-up

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'network-e2e-'));
  console.log(`devnet data dir: ${dataDir}`);
  const file = createWriteStream(join(dataDir, 'devnet.log'));
  const sink = {
    write(line: string) {
      if (line.includes('"msg":"frame rejected"')) frameRejections.push(line);
      file.write(line);
    },
  };
  const started = Date.now();
  devnet = await Devnet.start({
    dataDir,
    guardiansDown: GUARDIANS_DOWN,
    log: pino({ level: 'info', base: undefined }, sink),
  });
  chain = new ChainReader(devnet.client, devnet.book);
  E = devnet.firstEpoch;
  identities = devnet.population.nodes.map((n) => ({ index: n.index, nodeKey: n.nodeAddress, behaviour: n.behaviour }));
  const startsIn = devnet.epochTimes(E).start - nowSeconds();
  console.log(
    `devnet up in ${((Date.now() - started) / 1000).toFixed(1)} s; first network epoch ${E} starts in ${startsIn.toFixed(1)} s`,
  );
  disruptions = startDisruptions();
});

after(async () => {
  await devnet?.stop();
  if (failures.any || process.env.KEEP_DEVNET_DATA) console.log(`devnet files kept in ${dataDir}`);
  else if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------------ 1. honest epoch

test(
  'honest epoch: rewards claimed on-chain equal the scoring function of the published dataset exactly',
  { timeout: 400_000 },
  failures.step(async () => {
    await waitFor(
      `epoch ${E} to finalize`,
      async () => (await chain.epochStatus(E)) === 'Finalized',
      SETTLE_TIMEOUT_MS,
    );

    // Every reward published on-chain is the scoring function's output for the published dataset.
    const report = await waitSettled(E);
    const { evaluation } = await evaluated(E);
    assert.equal(report.rows.length, devnet.population.nodes.length, 'every node is scored');
    for (const row of report.rows) {
      const mine = evaluation.perNode.find((n) => n.nodeKey.toLowerCase() === row.nodeKey);
      assert.ok(mine, `node ${row.nodeKey} is in the dataset`);
      assert.equal(row.reward, mine.reward, `epoch ${E} node #${row.index}: published reward = evaluateEpoch's`);
      assert.equal(row.faults, mine.faults, `epoch ${E} node #${row.index}: published fault flags = evaluateEpoch's`);
    }

    // Claims: honest node operators and a guardian that is up; the claimer is a fresh account (anyone may claim).
    const claimerKey = generatePrivateKey();
    const claimer = privateKeyToAccount(claimerKey);
    const chainDef = { ...foundry, id: devnet.book.chainId };
    await createTestClient({ chain: chainDef, transport: http(devnet.rpcUrl), mode: 'anvil' }).setBalance({
      address: claimer.address,
      value: parseEther('10'),
    });
    const wallet = createWalletClient({ chain: chainDef, transport: http(devnet.rpcUrl), account: claimer });
    const settlement = devnet.book.contracts.EpochSettlement;
    const honest = devnet.population.nodes.filter((n) => n.behaviour === 'honest');
    const paidOperators = honest
      .filter(
        (n) =>
          (evaluation.perNode.find((p) => p.nodeKey.toLowerCase() === n.nodeAddress.toLowerCase())?.reward ?? 0n) > 0n,
      )
      .slice(0, 3)
      .map((n) => n.operator);
    assert.equal(paidOperators.length, 3, 'three honest nodes were paid in the first network epoch');
    const guardian = devAccount(3).address;
    const accounts: Address[] = [...paidOperators, guardian];

    for (const account of accounts) {
      for (let attempt = 1; ; attempt++) {
        // Claims check against the latest finalized root: normally E's; a later one if it finalized meanwhile.
        const [claimableEpoch] = await devnet.client.readContract({
          address: settlement,
          abi: epochSettlementAbi,
          functionName: 'claimableRewardRoot',
        });
        assert.ok(claimableEpoch >= E, `claimable epoch ${claimableEpoch} is at least ${E}`);
        const { evaluation: ev } = await evaluated(claimableEpoch);
        const i = ev.cumulative.findIndex((c) => c.account.toLowerCase() === account.toLowerCase());
        assert.ok(i >= 0, `${account} has a reward leaf in epoch ${claimableEpoch}`);
        const { cumulative } = ev.cumulative[i]!;
        const proof = ev.proofs[i]!;
        const already = await devnet.client.readContract({
          address: settlement,
          abi: epochSettlementAbi,
          functionName: 'claimed',
          args: [account],
        });
        const balance = () =>
          devnet.client.readContract({
            address: devnet.book.contracts.SendToken,
            abi: sendTokenAbi,
            functionName: 'balanceOf',
            args: [account],
          });
        const before = await balance();
        try {
          const hash = await wallet.writeContract({
            address: settlement,
            abi: epochSettlementAbi,
            functionName: 'claim',
            args: [account, cumulative, proof],
          });
          const receipt = await devnet.client.waitForTransactionReceipt({ hash, pollingInterval: 250 });
          assert.equal(receipt.status, 'success', `claim of ${account}`);
        } catch (error) {
          if (revertName(error) === 'InvalidRewardProof' && attempt < 3) continue; // the root moved on meanwhile
          throw error;
        }
        const paid = (await balance()) - before;
        assert.equal(already, 0n, `${account} had not claimed before`);
        assert.equal(
          paid,
          cumulative - already,
          `${account}: SEND received = cumulative ${cumulative} of epoch ${claimableEpoch}'s scoring`,
        );
        assert.ok(paid > 0n, `${account} was paid`);
        console.log(
          `claimed ${account} (${account === guardian ? 'guardian 0' : 'honest node operator'}): ${paid} wei = scoring cumulative of epoch ${claimableEpoch}`,
        );
        break;
      }
    }

    assert.deepEqual(checkEpoch(report, true), [], `epoch ${E} costs each behaviour what the spec says`);
  }),
);

// ------------------------------------------------------------------------------------------ 6. bad inputs

interface Frame {
  type: string;
  [key: string]: unknown;
}

/** A raw WebSocket to an edge node that keeps every frame it receives. */
class RawConnection {
  private readonly frames: Frame[] = [];
  private waiter?: () => void;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.waiter?.();
    });
  }

  static async open(url: string): Promise<RawConnection> {
    const ws = new WebSocket(url);
    const connection = new RawConnection(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return connection;
  }

  send(data: string | Buffer | object): void {
    this.ws.send(typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data));
  }

  /** The next received frame matching `match` (deliveries to the logged-in key are skipped). */
  async next(match: (f: Frame) => boolean, what: string, timeoutMs = 15_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(match);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      if (Date.now() > deadline)
        throw new Error(`no ${what} frame within ${timeoutMs} ms; got: ${this.frames.map((f) => f.type).join(', ')}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  /** Sends `data` and expects an error frame with `reason`. */
  async rejects(data: string | Buffer | object, reason: string): Promise<Frame> {
    this.send(data);
    const frame = await this.next((f) => f.type === 'error', `error (${reason})`);
    assert.equal(frame.reason, reason, `error frame ${JSON.stringify(frame)}`);
    assert.ok(typeof frame.message === 'string' && frame.message.length > 0, 'the error frame says why');
    return frame;
  }

  close(): void {
    this.ws.close();
  }
}

/** An envelope from `from` to `toKey` through `node`; with `forger`, its ticket carries the forger's signature. */
function envelope(
  from: { device: DeviceKey; did: string },
  toKey: Hex,
  node: Address,
  epoch: number,
  forger?: DeviceKey,
): Envelope {
  const id = `0x${randomBytes(32).toString('hex')}` as Hex;
  const ciphertext = randomBytes(600);
  const fields = {
    envelopeId: id,
    node,
    epoch,
    units: sizeUnits(ciphertext.length),
    recipientKey: toKey,
    senderKey: from.device.publicKey,
    senderDid: from.did,
  };
  const ticket = signTicket(fields, from.device);
  if (forger) ticket.sig = signTicket({ ...fields, senderKey: forger.publicKey }, forger).sig;
  return { id, to: toKey, ciphertext: ciphertext.toString('base64'), ticket };
}

async function postKeeper(
  path: string,
  body: string | object,
): Promise<{ status: number; body: { error?: string; message?: string } }> {
  const response = await fetch(`${devnet.keeper!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as { error?: string; message?: string } };
}

test(
  'malformed and forged inputs are refused with a reason, logged, and the network keeps serving',
  { timeout: 300_000 },
  failures.step(async () => {
    // Not while Redis restarts (its answer would be 500, not a refusal).
    await disruptions.redis;

    // --- the edge node's WebSocket: an honest node, logged in as one of its real clients
    const clientIndex = devnet.population.clients.findIndex(
      (c) =>
        devnet.population.nodes[c.home]!.behaviour === 'honest' &&
        devnet.population.clients.some((p) => p.home === c.home && p.index !== c.index),
    );
    const plan = devnet.population.clients[clientIndex]!;
    const peer = devnet.population.clients.find((p) => p.home === plan.home && p.index !== plan.index)!;
    const me = { device: plan.device, did: devnet.clients[clientIndex]!.did };
    const node = devnet.nodes[plan.home]!;
    const attacked = devnet.clock.currentEpoch();
    const ws = await RawConnection.open(node.url);
    try {
      const challenge = await ws.next((f) => f.type === 'challenge', 'challenge');
      const nodeAddress = challenge.node as Address;
      const stranger = deviceKeyFromSeed(`0x${randomBytes(32).toString('hex')}` as Hex);

      await ws.rejects('{"type": "login", this is not JSON', 'bad-json');
      await ws.rejects(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 'binary-frame');
      await ws.rejects(`"${'x'.repeat(100 * 1024)}"`, 'frame-too-large');
      await ws.rejects({ type: 'send', envelope: { id: 'nope' } }, 'invalid-frame');
      await ws.rejects(
        { type: 'send', envelope: envelope(me, peer.device.publicKey, nodeAddress, attacked) },
        'not-logged-in',
      );
      const forgedLogin = signLogin(
        { nonce: challenge.nonce as Hex, node: nodeAddress, did: me.did, key: me.device.publicKey },
        stranger,
      );
      await ws.rejects(
        { type: 'login', key: me.device.publicKey, did: me.did, sig: forgedLogin },
        'bad-login-signature',
      );

      // still serving: a fresh challenge, then a real login
      ws.send({ type: 'hello' });
      const fresh = await ws.next((f) => f.type === 'challenge', 'challenge after hello');
      ws.send({
        type: 'login',
        key: me.device.publicKey,
        did: me.did,
        sig: signLogin(
          { nonce: fresh.nonce as Hex, node: nodeAddress, did: me.did, key: me.device.publicKey },
          me.device,
        ),
      });
      await ws.next((f) => f.type === 'welcome', 'welcome');
      await ws.rejects({ type: 'hello' }, 'already-logged-in');

      const epoch = devnet.clock.currentEpoch();
      await ws.rejects(
        { type: 'send', envelope: envelope(me, peer.device.publicKey, nodeAddress, epoch, stranger) },
        'bad-ticket-signature',
      );
      await ws.rejects(
        { type: 'send', envelope: envelope(me, peer.device.publicKey, nodeAddress, epoch + 3) },
        'wrong-epoch',
      );
      await ws.rejects(
        { type: 'send', envelope: envelope(me, me.device.publicKey, nodeAddress, epoch) },
        'sender-is-recipient',
      );
      const wrongNode = envelope(me, peer.device.publicKey, devAccount(0).address.toLowerCase() as Address, epoch);
      await ws.rejects({ type: 'send', envelope: wrongNode }, 'wrong-node');
      const good = envelope(me, peer.device.publicKey, nodeAddress, devnet.clock.currentEpoch());
      ws.send({ type: 'send', envelope: good });
      await ws.next((f) => f.type === 'accepted' && f.id === good.id, 'accepted');
      await ws.rejects({ type: 'send', envelope: good }, 'replayed-envelope');
      const forgedAck = signAck(
        {
          ticketHash: `0x${randomBytes(32).toString('hex')}` as Hex,
          recipientKey: me.device.publicKey,
          recipientDid: me.did,
        },
        me.device,
      );
      await ws.rejects({ type: 'ack', ack: forgedAck }, 'ack-unknown-ticket');
      // ... and the connection still relays
      const after = envelope(me, peer.device.publicKey, nodeAddress, devnet.clock.currentEpoch());
      ws.send({ type: 'send', envelope: after });
      await ws.next((f) => f.type === 'accepted' && f.id === after.id, 'accepted after the bad frames');
    } finally {
      ws.close();
    }
    for (const reason of [
      'bad-json',
      'binary-frame',
      'frame-too-large',
      'invalid-frame',
      'not-logged-in',
      'bad-login-signature',
      'bad-ticket-signature',
      'wrong-epoch',
      'replayed-envelope',
      'ack-unknown-ticket',
    ]) {
      assert.ok(
        frameRejections.some((line) => line.includes(`"reason":"${reason}"`)),
        `the edge node logged the ${reason} rejection`,
      );
    }

    // --- the keeper's WatchDog endpoints
    const license = devnet.watchdogs[0]!.tokenId;
    const impostor = generatePrivateKey();
    const next = devnet.clock.currentEpoch() + 1;
    const refusals: { what: string; status: number; code: string }[] = [];
    const expectRefusal = async (what: string, path: string, body: string | object, status: number, code: string) => {
      const answer = await postKeeper(path, body);
      assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, code, `${what}: ${JSON.stringify(answer.body)}`);
      assert.ok((answer.body.message ?? '').length > 0, `${what}: the answer says why`);
      refusals.push({ what, status, code });
    };
    await expectRefusal('garbage JSON', '/watchdog/commit', '{"tokenId": 1, "epoch":', 400, 'bad-json');
    await expectRefusal(
      'a commit missing its fields',
      '/watchdog/commit',
      { tokenId: 'one', epoch: next },
      400,
      'bad-request',
    );
    await expectRefusal(
      'an oversized commit',
      '/watchdog/commit',
      { pad: 'x'.repeat(100 * 1024) },
      413,
      'body-too-large',
    );
    await expectRefusal(
      'an oversized transcript',
      '/watchdog/transcript',
      { pad: 'x'.repeat(5 * 1024 * 1024) },
      413,
      'body-too-large',
    );
    const forgedCommit = await signWatchdogCommit(
      impostor,
      license,
      next,
      `0x${randomBytes(32).toString('hex')}` as Hex,
    );
    await expectRefusal(
      "a commit signed by a key that is not the license's operator",
      '/watchdog/commit',
      forgedCommit,
      409,
      'not-operator',
    );

    // Transcripts are taken only in the window after an epoch's commit deadline (they reveal the challenge
    // envelope ids): attack the window of the current epoch.
    const target = devnet.clock.currentEpoch();
    await sleepUntil(devnet.epochTimes(target).commitDeadline + 0.3);
    const secret = new SecretStore(join(dataDir, 'watchdogs', '0'), license).get(target);
    assert.ok(secret, `WatchDog 0 has a secret for epoch ${target}`);
    const wrongSecret = await signTranscript(impostor, {
      tokenId: license.toString(),
      epoch: target,
      secret: `0x${randomBytes(32).toString('hex')}` as Hex,
      results: [],
    });
    await expectRefusal(
      'a transcript whose secret does not open the commit',
      '/watchdog/transcript',
      wrongSecret,
      409,
      'secret-mismatch',
    );
    const forgedTranscript = await signTranscript(impostor, {
      tokenId: license.toString(),
      epoch: target,
      secret,
      results: [],
    });
    await expectRefusal(
      'a transcript with the real secret signed by another key',
      '/watchdog/transcript',
      forgedTranscript,
      409,
      'bad-signature',
    );
    attackedEpochs = [attacked, target];

    // the keeper process writes its log asynchronously: the last lines may land a moment after the answers
    for (const { what, code } of refusals) {
      await waitFor(
        `the keeper to log the refusal of ${what}`,
        async () =>
          readFileSync(join(dataDir, 'keeper.log'), 'utf8')
            .split('\n')
            .some((l) => l.includes('"msg":"keeper HTTP request refused"') && l.includes(`"code":"${code}"`)),
        10_000,
        200,
      );
    }
    console.log(`refused: ${refusals.map((r) => `${r.what} (${r.status} ${r.code})`).join('; ')}`);
  }),
);

// ------------------------------------------------------------------------------------------ 3. keeper killed

test(
  'keeper SIGKILLed inside an epoch and after a commit deadline: every epoch submitted exactly once, no dead letters',
  { timeout: 400_000 },
  failures.step(async () => {
    const kills = await disruptions.kills;
    assert.equal(kills.length, 2);
    await waitSettled(E + 1);
    for (let epoch = 1; epoch <= E + 1; epoch++) {
      assert.equal((await submittedEvents(epoch)).length, 1, `epoch ${epoch} has exactly one EpochSubmitted`);
      assert.deepEqual((await keeperStatus(epoch)).deadLetters, [], `epoch ${epoch} has no dead letters`);
    }
    assert.deepEqual(
      checkEpoch((await settledReport(E + 1))!, true),
      [],
      `epoch ${E + 1} settled as specified across the kills`,
    );
  }),
);

// ------------------------------------------------------------------------------------------ 4. Redis restart

test(
  'Redis restarted mid-epoch: nothing lost, the epoch settles with every node scored',
  { timeout: 400_000 },
  failures.step(async () => {
    const restartedAt = await disruptions.redis;
    const t2 = devnet.epochTimes(E + 2);
    assert.ok(restartedAt >= t2.start && restartedAt < t2.end, `Redis was restarted inside epoch ${E + 2}`);
    const report = await waitSettled(E + 2);
    assert.equal(
      report.rows.length,
      devnet.population.nodes.length,
      `all ${devnet.population.nodes.length} nodes are scored in epoch ${E + 2}`,
    );
    assert.deepEqual(checkEpoch(report, true), []);
    // The WatchDog commits (stored before the restart) and transcripts (after it) of the epoch all made it.
    const dataset = JSON.parse((await evaluated(E + 2)).text) as {
      watchdogs: unknown[];
      transcripts: unknown[];
      commitments: unknown[];
    };
    assert.equal(dataset.watchdogs.length, devnet.watchdogs.length, 'every WatchDog commit is in the dataset');
    assert.equal(dataset.transcripts.length, devnet.watchdogs.length, 'every WatchDog transcript is in the dataset');
    assert.deepEqual((await keeperStatus(E + 2)).deadLetters, []);
  }),
);

// ------------------------------------------------------------------------------------------ 5. guardians

test(
  '2 of 7 guardians down: every epoch settles with 5; a third one down: the epoch waits, then settles',
  { timeout: 400_000 },
  failures.step(async () => {
    const guardianAddresses = [3, 4, 5, 6, 7, 8, 9].map((i) => devAccount(i).address.toLowerCase());
    for (let epoch = 1; epoch <= E + 2; epoch++) {
      const submission = await chain.submission(epoch);
      assert.ok(submission, `epoch ${epoch} is submitted`);
      assert.equal(submission.signers.length, 5, `epoch ${epoch} settled with 5 of 7 signatures`);
      for (const down of GUARDIANS_DOWN)
        assert.ok(
          !submission.signers.map((s) => s.toLowerCase()).includes(guardianAddresses[down]!),
          `guardian ${down} is down`,
        );
    }

    const held = E + 3;
    const t3 = devnet.epochTimes(held);
    const stop = await disruptions.guardian;
    assert.ok(!stop.heldSignaturesDone, `epoch ${held}'s signatures were still ahead when the third guardian stopped`);

    // Past when it would have settled, it is still not submitted, and the keeper says why.
    const status = await waitFor(
      `the keeper to report why epoch ${held} waits`,
      async () => {
        const s = await keeperStatus(held);
        return s.stages.signatures!.lastError && nowSeconds() >= t3.end + HELD_PAST_END_SECONDS ? s : undefined;
      },
      SETTLE_TIMEOUT_MS,
    );
    assert.equal(await chain.epochStatus(held), 'None', `epoch ${held} is not submitted`);
    assert.equal((await submittedEvents(held)).length, 0, `no EpochSubmitted for epoch ${held}`);
    assert.equal(status.stages.submit!.done, false);
    assert.match(
      status.stages.signatures!.lastError!,
      /4 of the 5 guardian signatures needed/,
      'the pipeline status names the missing quorum',
    );
    await waitFor(
      'the keeper log to name each guardian that did not sign',
      async () =>
        readFileSync(join(dataDir, 'keeper.log'), 'utf8')
          .split('\n')
          .some((l) => l.includes('"msg":"guardian did not sign"') && l.includes(`"epoch":${held}`)),
      10_000,
      200,
    );
    console.log(
      `epoch ${held} held ${(nowSeconds() - t3.end).toFixed(1)} s past its end: ${status.stages.signatures!.lastError!.slice(0, 160)}…`,
    );

    await devnet.startGuardian(THIRD_GUARDIAN);
    const report = await waitSettled(held);
    const submitted = await submittedEvents(held);
    assert.equal(submitted.length, 1, `epoch ${held} submitted exactly once`);
    const submission = await chain.submission(held);
    assert.equal(submission!.signers.length, 5);
    assert.ok(
      submission!.signers.map((s) => s.toLowerCase()).includes(guardianAddresses[THIRD_GUARDIAN]!),
      'the restarted guardian signed it',
    );
    await evaluated(held); // the header on-chain is what the published dataset gives
    assert.deepEqual(checkEpoch(report, true), [], `epoch ${held} settled correctly`);
  }),
);

// ------------------------------------------------------------------------------------------ 2. misbehaviour

test(
  'every network epoch: droppers and the offline node earn nothing, the inflater is paid nothing and slashed with a strike (net < 0), honest nodes are never penalised',
  { timeout: 300_000 },
  failures.step(async () => {
    const last = E + 3;
    const inflaterKey = devnet.population.nodes.find((n) => n.behaviour === 'inflater')!.nodeAddress;
    for (const epoch of attackedEpochs)
      assert.ok(epoch >= E && epoch <= last, `the attacked epoch ${epoch} is one of the checked ones`);
    const behaviours = new Set<string>();
    for (let epoch = E; epoch <= last; epoch++) {
      const report = await waitSettled(epoch);
      assert.deepEqual(checkEpoch(report, true), [], `epoch ${epoch}`);
      for (const row of report.rows) behaviours.add(row.behaviour);
      const inflater = report.rows.find((r) => r.behaviour === 'inflater');
      if (inflater) {
        assert.ok(
          inflater.executed.some((e) => e.slashed > 0n && e.strike),
          `epoch ${epoch}: the inflater's fraud fault was executed`,
        );
        const [net] = misbehaviourLedger(report).filter((x) => x.behaviour === 'inflater');
        assert.ok(net && net.reward === 0n && net.net < 0n, `epoch ${epoch}: the inflater nets ${net?.net} wei`);
      } else {
        // maxStrikes (3) fraud strikes within the window eject a node: it is no longer in the epoch's node set.
        const [ejected] = await devnet.client.getContractEvents({
          address: devnet.book.contracts.NodeStaking,
          abi: nodeStakingAbi,
          eventName: 'NodeEjected',
          args: { nodeKey: inflaterKey },
          fromBlock: BigInt(devnet.book.startBlock),
        });
        assert.ok(
          ejected && ejected.args.reason === EJECT_TOO_MANY_STRIKES && ejected.args.epoch! < epoch,
          `epoch ${epoch}: the inflater is absent because its strikes ejected it`,
        );
        console.log(
          `epoch ${epoch}: the inflater is out, ejected for too many strikes at its epoch-${ejected.args.epoch} fault`,
        );
      }
    }
    assert.deepEqual([...behaviours].sort(), [
      'dropper',
      'equivocator',
      'honest',
      'inflater',
      'late-committer',
      'offline',
    ]);
    for (let epoch = 1; epoch <= last; epoch++) {
      assert.equal((await submittedEvents(epoch)).length, 1, `epoch ${epoch} has exactly one EpochSubmitted`);
      assert.deepEqual((await keeperStatus(epoch)).deadLetters, [], `epoch ${epoch} has no dead letters`);
    }
    // The epoch whose transcript window was attacked still has every WatchDog's real transcript.
    const target = attackedEpochs[1]!;
    const dataset = JSON.parse((await evaluated(target)).text) as { transcripts: unknown[] };
    assert.equal(
      dataset.transcripts.length,
      devnet.watchdogs.length,
      `epoch ${target}: the forged transcripts displaced no real one`,
    );
  }),
);
