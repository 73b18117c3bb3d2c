/**
 * The reference edge node and client over real WebSockets on loopback, with an injected epoch clock (no
 * chain) except for the DID registration test, which runs anvil and the real deployment: envelopes
 * relayed and acked, receipts committed and opened (openings verified against the signed commitment),
 * offline delivery across restarts, reconnects, the misbehaviour switches, and every named rejection.
 */
import { openingsDigest } from '../src/core/openingsProof.js';
import { fetchChallengeOpenings } from '../src/infra/challengeOpenings.js';
import { deliveredChallenges } from '../src/core/evaluateWatchdogs.js';
import { toOpening } from '../src/core/evaluateOpenings.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { bytesToHex, createPublicClient, createWalletClient, http, recoverAddress, type Address, type Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { EdgeNode, type EdgeNodeOptions } from '../src/edge-node/edgeNode.js';
import {
  RelayClient,
  SendRejectedError,
  registerClientIdentity,
  type ReceivedMessage,
} from '../src/client/relayClient.js';
import { EpochClock } from '../src/core/epochClock.js';
import { didRegistryKeyDirectory } from '../src/chain/didKeyDirectory.js';
import { parseEdgeNodeArgs } from '../src/edge-node/command.js';
import { UsageError } from '../src/core/errors.js';
import { signLogin } from '../src/core/relayLogin.js';
import { checkEnvelopeFields, leafFromHashes } from '../src/edge-node/fastChecks.js';
import {
  inlineVerifier,
  workerVerifier,
  Ed25519KeyCache,
  type SignatureVerifier,
} from '../src/edge-node/verifyPool.js';
import {
  ackHashBytes,
  ackTicket,
  checkEnvelope,
  generateDeviceKey,
  ticketHashBytes,
  receiptLeafHash,
  signTicket,
  verifyAckSignature,
  verifyTicketSignature,
  type DeviceKey,
  type Envelope,
} from '../src/core/relay.js';
import { verifySumPath } from '../src/core/sumTree.js';
import {
  isEquivocation,
  nodeStakingDomain,
  parseSignedCommitment,
  verifySignedCommitment,
} from '../src/core/commitment.js';
import { openingSchema, sampleTargets, verifyOpening } from '../src/core/sampling.js';
import { startAnvil } from '../src/dev/anvil.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../src/devnet/devAccounts.js';
import { didRegistryAbi } from '../src/generated/contracts.js';

const quiet = pino({ level: 'silent' });
const GENESIS = 1_700_000_000;
const EPOCH_SECONDS = 60;
const GRACE_SECONDS = 10;
const domain = nodeStakingDomain(31337, '0x00000000000000000000000000000000000000aa');

/** Unix ms the injected clocks read; tests move it by hand. */
const time = { ms: (GENESIS + 5) * 1000 };
const clock = new EpochClock(
  { genesisTime: GENESIS, epochDurationSeconds: EPOCH_SECONDS, commitGraceSeconds: GRACE_SECONDS },
  () => time.ms,
);

const dirs: string[] = [];
const nodes: EdgeNode[] = [];
const clients: RelayClient[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'edge-node-test-'));
  dirs.push(dir);
  return dir;
}

async function startNode(options: Partial<EdgeNodeOptions> = {}): Promise<EdgeNode> {
  const node = new EdgeNode({
    nodeKey: generatePrivateKey(),
    dataDir: tempDir(),
    clock,
    domain,
    tickMs: 0,
    logger: quiet,
    ...options,
  });
  await node.start();
  nodes.push(node);
  return node;
}

let nextDid = 1n;
async function connect(
  node: EdgeNode,
  options: { device?: DeviceKey; did?: bigint; reconnect?: boolean } = {},
): Promise<RelayClient> {
  const client = new RelayClient({
    device: options.device ?? generateDeviceKey(),
    did: options.did ?? nextDid++,
    reconnect: options.reconnect ?? false,
    logger: quiet,
  });
  await client.connect(node.url);
  clients.push(client);
  return client;
}

function nextEvent<T>(emitter: RelayClient, event: string, ms = 5000): Promise<T> {
  return once(emitter, event, { signal: AbortSignal.timeout(ms) }).then(([value]) => value as T);
}

/** The next `error` frame the node sends the client. */
const nextRejection = (client: RelayClient) =>
  nextEvent<{ reason: string; message: string; ref?: string }>(client, 'rejected');

async function getJson(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as any };
}

const postJson = (url: string, body: unknown) =>
  getJson(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Moves the clock to `epoch`'s commit time and lets the node commit it. */
async function commitEpoch(node: EdgeNode, epoch: number) {
  time.ms = node.commitTime(epoch);
  await node.tick();
  const { status, body } = await getJson(`${node.httpUrl}/epochs/${epoch}/commitment`);
  assert.equal(status, 200, JSON.stringify(body));
  return parseSignedCommitment(body);
}

/** Sends `message` from a to b and waits until b has it and the node confirmed b's ack. */
async function exchange(a: RelayClient, b: RelayClient, message: string | Uint8Array) {
  const received = nextEvent<ReceivedMessage>(b, 'message');
  const acked = nextEvent<{ ticketHash: Hex; paid: boolean }>(b, 'acked');
  const envelope = await a.send(b.key, message);
  return { envelope, message: await received, acked: await acked };
}

after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  for (const n of nodes) await n.stop().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('two clients exchange envelopes; tickets and acks verify and receipts are recorded', async () => {
  time.ms = (GENESIS + 5) * 1000;
  const node = await startNode();
  const alice = await connect(node);
  const bob = await connect(node);
  assert.equal(alice.node, node.address);
  assert.equal(alice.epoch, 1);

  const first = await exchange(alice, bob, 'hello bob');
  assert.equal(first.message.plaintext?.toString(), 'hello bob');
  assert.equal(first.message.from, alice.key);
  assert.equal(first.message.fromDid, alice.did);
  assert.ok(verifyTicketSignature(first.message.envelope.ticket));
  assert.equal(first.message.envelope.ticket.node, node.address);
  assert.equal(first.message.envelope.ticket.units, 1);
  assert.equal(first.acked.paid, true);

  const big = randomBytes(5000);
  const second = await exchange(bob, alice, big);
  assert.deepEqual(second.message.plaintext, big);
  assert.equal(second.envelope.ticket.units, 5, '5000 bytes pad and seal into 5 KiB');

  const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text();
  assert.match(metrics, /relay_envelopes_relayed_total 2/);
  assert.match(metrics, /relay_acks_total\{paid="true"\} 2/);
  const health = await getJson(`${node.httpUrl}/health`);
  assert.deepEqual(
    { ...health.body, connections: undefined },
    { ok: true, node: node.address, epoch: 1, pending: 0, connections: undefined },
  );

  const signed = await commitEpoch(node, 1);
  assert.equal(signed.commitment.totalUnits, 6n);
  assert.equal(signed.commitment.leafCount, 2n);
  assert.equal(signed.nodeKey, node.address);
  assert.ok(await verifySignedCommitment(domain, signed));
});

test('an offline recipient gets its envelope after the node restarts, and only once', async () => {
  time.ms = (GENESIS + 5) * 1000;
  const dataDir = tempDir();
  const nodeKey = generatePrivateKey();
  const bobDevice = generateDeviceKey();
  const bobDid = nextDid++;
  const first = await startNode({ dataDir, nodeKey });
  const aliceDevice = generateDeviceKey();
  const aliceDid = nextDid++;
  const alice = await connect(first, { device: aliceDevice, did: aliceDid });
  const envelope = await alice.send(bobDevice.publicKey, 'while you were away');
  const health = await getJson(`${first.httpUrl}/health`);
  assert.equal(health.body.pending, 1);
  await alice.close();
  await first.stop();

  const second = await startNode({ dataDir, nodeKey });
  const bob = new RelayClient({ device: bobDevice, did: bobDid, reconnect: false, logger: quiet });
  clients.push(bob);
  const received = nextEvent<ReceivedMessage>(bob, 'message');
  const acked = nextEvent<{ paid: boolean }>(bob, 'acked');
  await bob.connect(second.url);
  const message = await received;
  assert.equal(message.envelope.id, envelope.id);
  assert.equal(message.plaintext?.toString(), 'while you were away');
  assert.equal((await acked).paid, true);
  assert.equal((await getJson(`${second.httpUrl}/health`)).body.pending, 0);
  await bob.close();
  await second.stop();

  // acked envelopes are gone from the store; the receipt survived for the commitment
  const third = await startNode({ dataDir, nodeKey });
  const again = new RelayClient({ device: bobDevice, did: bobDid, reconnect: false, logger: quiet });
  clients.push(again);
  const welcome = nextEvent<{ pending: number }>(again, 'connected');
  await again.connect(third.url);
  assert.equal((await welcome).pending, 0);
  // the envelope id stays taken across restarts (its receipt remembers it)
  const aliceAgain = await connect(third, { device: aliceDevice, did: aliceDid });
  await assert.rejects(
    aliceAgain.sendEnvelope(envelope),
    (error: unknown) => error instanceof SendRejectedError && error.reason === 'replayed-envelope',
  );
  const signed = await commitEpoch(third, 1);
  assert.equal(signed.commitment.leafCount, 1n);
});

test('a client reconnects after the node restarts and re-sends what was not accepted', async () => {
  time.ms = (GENESIS + 5) * 1000;
  const dataDir = tempDir();
  const nodeKey = generatePrivateKey();
  const first = await startNode({ dataDir, nodeKey });
  const port = first.port;
  const alice = await connect(first, { reconnect: true });
  const bob = await connect(first, { reconnect: true });
  const down = nextEvent(alice, 'disconnected');
  await first.stop();
  await down;
  const sent = alice.send(bob.key, 'after the restart'); // queued while disconnected
  const received = nextEvent<ReceivedMessage>(bob, 'message', 10_000);
  await startNode({ dataDir, nodeKey, port });
  await sent;
  assert.equal((await received).plaintext?.toString(), 'after the restart');
});

test('openings of sampled leaves verify against the signed commitment', async () => {
  time.ms = (GENESIS + 5) * 1000;
  const node = await startNode();
  const [alice, bob, carol] = [await connect(node), await connect(node), await connect(node)];
  const sizes = [10, 1500, 3000, 7000, 200, 64_000];
  let expectedUnits = 0n;
  const envelopeIds: Hex[] = [];
  for (const [i, size] of sizes.entries()) {
    const [from, to] = [
      [alice, bob],
      [bob, carol],
      [carol, alice],
    ][i % 3]!;
    const { envelope } = await exchange(from!, to!, randomBytes(size));
    expectedUnits += BigInt(envelope.ticket.units);
    envelopeIds.push(envelope.id as Hex);
  }
  assert.equal(
    (await getJson(`${node.httpUrl}/epochs/1/commitment`)).status,
    404,
    'no commitment before the epoch is over',
  );

  const signed = await commitEpoch(node, 1);
  const { commitment } = signed;
  assert.ok(await verifySignedCommitment(domain, signed));
  assert.equal(commitment.totalUnits, expectedUnits);
  assert.equal(commitment.leafCount, BigInt(sizes.length));

  // the keeper's view: k targets from a seed, opened by target
  const seed = `0x${randomBytes(32).toString('hex')}` as Hex;
  const targets = sampleTargets(seed, node.address, commitment.totalUnits, 32);
  const answer = await postJson(`${node.httpUrl}/epochs/1/openings`, { targets: targets.map(String) });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.openings.length, 32);
  // the answer is signed by the node key over (epoch, root, targets, openings) (core/openingsProof.ts)
  const answerDigest = openingsDigest(domain, 1, commitment.root, targets, answer.body.openings);
  assert.equal(
    (await recoverAddress({ hash: answerDigest, signature: answer.body.signature })).toLowerCase(),
    node.address,
  );
  const otherTargets = openingsDigest(domain, 1, commitment.root, targets.slice(1), answer.body.openings);
  assert.notEqual(
    (await recoverAddress({ hash: otherTargets, signature: answer.body.signature })).toLowerCase(),
    node.address,
  );
  for (const [i, raw] of answer.body.openings.entries()) {
    const opening = openingSchema.parse(raw);
    const path = verifySumPath({
      leafHash: receiptLeafHash(opening),
      units: BigInt(opening.ticket.units),
      index: opening.index,
      siblings: opening.siblings,
      root: commitment.root,
      totalUnits: commitment.totalUnits,
      leafCount: commitment.leafCount,
      target: targets[i],
    });
    assert.deepEqual(path, { ok: true });
    assert.equal(verifyOpening(opening, { node: node.address, commitment, target: targets[i]! }).ok, true);
    assert.ok(verifyAckSignature(opening.ack));
  }

  // by index: every leaf, sorted by ticket hash
  const all = await postJson(`${node.httpUrl}/epochs/1/openings`, { indices: sizes.map((_, i) => i) });
  assert.equal(all.status, 200);
  const hashes = all.body.openings.map((o: any) => o.ack.ticketHash as string);
  assert.deepEqual(hashes, [...hashes].sort());
  for (const raw of all.body.openings) {
    const opening = openingSchema.parse(raw);
    const path = verifySumPath({
      leafHash: receiptLeafHash(opening),
      units: BigInt(opening.ticket.units),
      index: opening.index,
      siblings: opening.siblings,
      root: commitment.root,
      totalUnits: commitment.totalUnits,
      leafCount: commitment.leafCount,
    });
    assert.deepEqual(path, { ok: true });
  }

  // by envelope id (WatchDog challenge evidence): the receipts the tree holds, unknown ids left out; each
  // proves itself against the commitment (no target)
  const unknown = `0x${'ab'.repeat(32)}` as Hex;
  const byId = await fetchChallengeOpenings(node.url, 1, [envelopeIds[4]!, unknown, envelopeIds[1]!], 2000);
  assert.deepEqual(
    byId.map((o) => o.ticket.envelopeId),
    [envelopeIds[4]!, envelopeIds[1]!].sort(),
  );
  for (const o of byId)
    assert.equal(verifyOpening(toOpening(o), { node: node.address, commitment, target: undefined }).ok, true);
  const proven = deliveredChallenges(
    { epoch: 1, challengeOpenings: [{ nodeKey: node.address, openings: byId }] },
    new Map([[node.address, commitment]]),
    [],
  );
  assert.equal(proven.get(node.address)?.size, 2);
  const notHex = await postJson(`${node.httpUrl}/epochs/1/openings`, { envelopeIds: ['0x12'] });
  assert.equal(notHex.status, 400);
  assert.match(notHex.body.error, /envelope id/);
  assert.deepEqual((await postJson(`${node.httpUrl}/epochs/1/openings`, { envelopeIds: [unknown] })).body, {
    openings: [],
  });

  // bad requests are named, the node keeps serving
  const tooMany = await postJson(`${node.httpUrl}/epochs/1/openings`, {
    indices: Array.from({ length: 1025 }, () => 0),
  });
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.body.reason, 'bad-request');
  assert.equal(
    (await postJson(`${node.httpUrl}/epochs/1/openings`, { indices: [sizes.length] })).body.reason,
    'index-out-of-range',
  );
  assert.equal((await postJson(`${node.httpUrl}/epochs/2/openings`, { indices: [0] })).status, 404);
  const garbage = await getJson(`${node.httpUrl}/epochs/1/openings`, { method: 'POST', body: '{nope' });
  assert.equal(garbage.body.reason, 'bad-json');
  const oversized = await getJson(`${node.httpUrl}/epochs/1/openings`, {
    method: 'POST',
    body: JSON.stringify({ indices: [0], pad: 'x'.repeat(1024 * 1024) }),
  });
  assert.equal(oversized.status, 413, 'an oversized body is answered (not a connection reset)');
  assert.equal(oversized.body.reason, 'body-too-large');

  // an epoch with no traffic commits the empty tree
  const empty = await commitEpoch(node, 2);
  assert.equal(empty.commitment.totalUnits, 0n);
  assert.equal(empty.commitment.leafCount, 0n);
  assert.equal(empty.commitment.root, `0x${'0'.repeat(64)}`);

  // a restarted node still opens what it committed; a pruned epoch answers 410
  time.ms = (clock.epochStart(3) + 1) * 1000;
  await node.stop();
  const restarted = new EdgeNode({ ...(node as any).options, logger: quiet });
  await restarted.start();
  nodes.push(restarted);
  const reopened = await postJson(`${restarted.httpUrl}/epochs/1/openings`, { indices: [0, 1] });
  assert.deepEqual(reopened.body.openings, all.body.openings.slice(0, 2));
  assert.deepEqual((await getJson(`${restarted.httpUrl}/epochs/1/commitment`)).body.commitment.root, commitment.root);
  time.ms = (clock.epochStart(20) + 1) * 1000;
  await restarted.tick();
  assert.equal((await getJson(`${restarted.httpUrl}/epochs/1/commitment`)).status, 410);
});

test('a node with dropRate 1 accepts envelopes but never delivers them', async () => {
  time.ms = (GENESIS + 5) * 1000;
  const node = await startNode({ dropRate: 1 });
  const alice = await connect(node);
  const bob = await connect(node);
  let delivered = 0;
  bob.on('message', () => delivered++);
  for (let i = 0; i < 5; i++) await alice.send(bob.key, `message ${i}`);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(delivered, 0);
  const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text();
  assert.match(metrics, /relay_envelopes_dropped_total 5/);
  assert.equal((await commitEpoch(node, 1)).commitment.totalUnits, 0n);
});

test("an inflating node's forged leaves fail verification; its real leaves pass", async () => {
  time.ms = (GENESIS + 5) * 1000;
  const node = await startNode({ inflateUnits: 0.5 });
  const alice = await connect(node);
  const bob = await connect(node);
  for (let i = 0; i < 4; i++) await exchange(alice, bob, randomBytes(1500)); // 2 units each
  const { commitment } = await commitEpoch(node, 1);
  assert.equal(commitment.totalUnits, 12n, '8 real units + 50%');
  const leafCount = Number(commitment.leafCount);
  const { body } = await postJson(`${node.httpUrl}/epochs/1/openings`, {
    indices: Array.from({ length: leafCount }, (_, i) => i),
  });
  let forgedUnits = 0;
  let realUnits = 0;
  for (const raw of body.openings) {
    const opening = openingSchema.parse(raw);
    let prefix = 0n;
    for (let level = 0; level < opening.siblings.length; level++) {
      if ((opening.index >> level) & 1) prefix += opening.siblings[level]!.sum;
    }
    const result = verifyOpening(opening, { node: node.address, commitment, target: prefix });
    if (result.ok) realUnits += opening.ticket.units;
    else {
      assert.equal(result.reason, 'bad-ticket-signature');
      forgedUnits += opening.ticket.units;
    }
  }
  assert.equal(realUnits, 8);
  assert.equal(forgedUnits, 4);
});

test('an equivocating node serves two different signed commitments', async () => {
  time.ms = (GENESIS + 5) * 1000;
  const node = await startNode({ equivocate: true });
  const [alice, bob] = [await connect(node), await connect(node)];
  await exchange(alice, bob, 'x');
  const a = await commitEpoch(node, 1);
  const b = parseSignedCommitment((await getJson(`${node.httpUrl}/epochs/1/commitment`)).body);
  assert.ok(await verifySignedCommitment(domain, a));
  assert.ok(await verifySignedCommitment(domain, b));
  assert.ok(isEquivocation(a, b));
});

test('a node with offlineAfterMs stops answering', async () => {
  time.ms = (GENESIS + 5) * 1000;
  const node = await startNode({ offlineAfterMs: 200 });
  const alice = await connect(node);
  const gone = nextEvent(alice, 'disconnected');
  await gone;
  await assert.rejects(fetch(`${node.httpUrl}/health`));
});

test('malformed and dishonest frames are rejected with a named reason; the node keeps serving', async () => {
  time.ms = (GENESIS + 5) * 1000;
  const node = await startNode({ verifyThreads: 1 });
  const alice = await connect(node);
  const bob = await connect(node);
  const mallory = await connect(node);

  const expectRejection = async (client: RelayClient, frame: string | Buffer, reason: string) => {
    const rejection = nextRejection(client);
    client.sendRaw(frame);
    assert.equal((await rejection).reason, reason, `expected ${reason}`);
  };
  await expectRejection(mallory, '{"type": "send", garbage', 'bad-json');
  await expectRejection(mallory, 'x'.repeat(100 * 1024), 'frame-too-large');
  await expectRejection(mallory, Buffer.from([1, 2, 3]), 'binary-frame');
  await expectRejection(mallory, JSON.stringify({ type: 'send', envelope: { id: '0x12' } }), 'invalid-frame');
  await expectRejection(mallory, JSON.stringify({ type: 'teleport' }), 'invalid-frame');
  await expectRejection(mallory, JSON.stringify({ type: 'hello' }), 'already-logged-in');

  const sendRejected = async (client: RelayClient, envelope: Envelope, reason: string) => {
    await assert.rejects(client.sendEnvelope(envelope), (error: unknown) => {
      assert.ok(error instanceof SendRejectedError, String(error));
      assert.equal(error.reason, reason);
      return true;
    });
  };
  const cipher = randomBytes(1024);
  // a valid envelope of alice's, sent on mallory's connection
  await sendRejected(mallory, alice.envelopeFor(bob.key, cipher), 'sender-not-logged-in-key');
  // a bad ticket signature
  const forged = alice.envelopeFor(bob.key, cipher);
  forged.ticket.sig = `0x${'11'.repeat(64)}` as Hex;
  await sendRejected(alice, forged, 'bad-ticket-signature');
  // the epoch is not open
  await sendRejected(alice, alice.envelopeFor(bob.key, cipher, { epoch: 5 }), 'wrong-epoch');
  // a ticket for another node
  const elsewhere = (() => {
    const id = `0x${randomBytes(32).toString('hex')}` as Hex;
    const ticket = signTicket(
      {
        envelopeId: id,
        node: '0x00000000000000000000000000000000000000bb' as Address,
        epoch: 1,
        units: 1,
        recipientKey: bob.key,
        senderKey: alice.key,
        senderDid: alice.did,
      },
      (alice as any).options.device,
    );
    return { id, to: bob.key, ciphertext: cipher.toString('base64'), ticket };
  })();
  await sendRejected(alice, elsewhere, 'wrong-node');
  // units that do not match the ciphertext
  const wrongUnits = alice.envelopeFor(bob.key, cipher);
  wrongUnits.ciphertext = randomBytes(3000).toString('base64');
  await sendRejected(alice, wrongUnits, 'units-mismatch');
  // a replayed envelope id
  const received = nextEvent<ReceivedMessage>(bob, 'message');
  const original = alice.envelopeFor(bob.key, cipher);
  await alice.sendEnvelope(original);
  await received;
  await sendRejected(alice, original, 'replayed-envelope');

  // acks: from the wrong key, with a bad signature, unknown, and twice
  const pendingForBob = await (async () => {
    const bobQuiet = new RelayClient({
      device: generateDeviceKey(),
      did: nextDid++,
      autoAck: false,
      reconnect: false,
      logger: quiet,
    });
    clients.push(bobQuiet);
    await bobQuiet.connect(node.url);
    const got = nextEvent<ReceivedMessage>(bobQuiet, 'message');
    await alice.send(bobQuiet.key, 'ack me');
    return { recipient: bobQuiet, envelope: (await got).envelope };
  })();
  const { recipient, envelope } = pendingForBob;
  const malloryAck = ackTicket(
    { ...envelope.ticket, recipientKey: mallory.key },
    mallory.did,
    (mallory as any).options.device,
  );
  await expectRejection(
    mallory,
    JSON.stringify({
      type: 'ack',
      ack: {
        ...malloryAck,
        ticketHash: ackTicket(envelope.ticket, recipient.did, (recipient as any).options.device).ticketHash,
      },
    }),
    'ack-wrong-key',
  );
  const goodAck = ackTicket(envelope.ticket, recipient.did, (recipient as any).options.device);
  await expectRejection(
    recipient,
    JSON.stringify({ type: 'ack', ack: { ...goodAck, sig: `0x${'22'.repeat(64)}` } }),
    'bad-ack-signature',
  );
  await expectRejection(
    recipient,
    JSON.stringify({ type: 'ack', ack: { ...goodAck, recipientDid: '999999' } }),
    'ack-wrong-did',
  );
  await expectRejection(
    recipient,
    JSON.stringify({ type: 'ack', ack: { ...goodAck, ticketHash: `0x${'33'.repeat(32)}` } }),
    'ack-unknown-ticket',
  );
  const acked = nextEvent<{ paid: boolean }>(recipient, 'acked');
  recipient.sendRaw(JSON.stringify({ type: 'ack', ack: goodAck }));
  assert.equal((await acked).paid, true);
  await expectRejection(recipient, JSON.stringify({ type: 'ack', ack: goodAck }), 'duplicate-ack');

  // before login: sends are refused; a bad login signature is refused
  const raw = new WebSocket(node.url);
  const frames: any[] = [];
  raw.on('message', (data) => frames.push(JSON.parse(data.toString())));
  await once(raw, 'open');
  const nextFrame = async () => {
    for (let i = 0; i < 100 && frames.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    return frames.shift();
  };
  const challenge = await nextFrame();
  assert.equal(challenge.type, 'challenge');
  raw.send(JSON.stringify({ type: 'send', envelope: alice.envelopeFor(bob.key, cipher) }));
  assert.equal((await nextFrame()).reason, 'not-logged-in');
  const device = generateDeviceKey();
  const wrongNonce = signLogin(
    { nonce: `0x${'44'.repeat(32)}`, node: node.address, did: '77', key: device.publicKey },
    device,
  );
  raw.send(JSON.stringify({ type: 'login', key: device.publicKey, did: '77', sig: wrongNonce }));
  assert.equal((await nextFrame()).reason, 'bad-login-signature');
  const right = signLogin({ nonce: challenge.nonce, node: node.address, did: '77', key: device.publicKey }, device);
  raw.send(JSON.stringify({ type: 'login', key: device.publicKey, did: '77', sig: right }));
  assert.equal((await nextFrame()).type, 'welcome');
  raw.close();

  // a frame beyond the WebSocket limit closes that connection only
  const huge = new WebSocket(node.url);
  await once(huge, 'open');
  const closed = once(huge, 'close');
  huge.send('y'.repeat(1024 * 1024));
  const [code] = await closed;
  assert.equal(code, 1009);

  // still serving
  const after = await exchange(alice, bob, 'still here');
  assert.equal(after.message.plaintext?.toString(), 'still here');
  const metrics = await (await fetch(`${node.httpUrl}/metrics`)).text();
  for (const reason of [
    'bad-json',
    'frame-too-large',
    'bad-ticket-signature',
    'replayed-envelope',
    'wrong-epoch',
    'wrong-node',
    'ack-wrong-key',
  ]) {
    assert.match(metrics, new RegExp(`relay_rejects_total\\{reason="${reason}"\\} [1-9]`), reason);
  }
});

test("the node's hot-path checks (inline and on worker threads) agree with core checkEnvelope, verifyAckSignature and receiptLeafHash", async () => {
  const [a, b] = [generateDeviceKey(), generateDeviceKey()];
  const node = '0x00000000000000000000000000000000000000cc' as Address;
  const make = (
    over: { units?: number; node?: Address; to?: Hex; recipientKey?: Hex; envelopeId?: Hex; bytes?: number } = {},
  ): Envelope => {
    const id = `0x${randomBytes(32).toString('hex')}` as Hex;
    const bytes = over.bytes ?? 2000;
    const ticket = signTicket(
      {
        envelopeId: over.envelopeId ?? id,
        node: over.node ?? node,
        epoch: 3,
        units: over.units ?? Math.ceil(bytes / 1024),
        recipientKey: over.recipientKey ?? b.publicKey,
        senderKey: a.publicKey,
        senderDid: '1',
      },
      a,
    );
    return { id, to: over.to ?? b.publicKey, ciphertext: randomBytes(bytes).toString('base64'), ticket };
  };
  const badSig = make();
  badSig.ticket = { ...badSig.ticket, sig: `0x${'55'.repeat(64)}` as Hex };
  const cases: Envelope[] = [
    make(),
    make({ bytes: 0, units: 1 }),
    make({ units: 7 }),
    make({ node: '0x00000000000000000000000000000000000000dd' }),
    make({ to: a.publicKey }),
    make({ recipientKey: a.publicKey, to: a.publicKey }),
    make({ envelopeId: `0x${'66'.repeat(32)}` }),
    badSig,
  ];
  const verifiers: SignatureVerifier[] = [inlineVerifier(new Ed25519KeyCache(2)), workerVerifier(2)];
  try {
    for (const verifier of verifiers) {
      const results = await Promise.all(
        cases.map(async (envelope) => {
          const fields = checkEnvelopeFields(envelope, node);
          if (!fields.ok) return fields.reason;
          const t = envelope.ticket;
          return (await verifier.verify(t.senderKey, ticketHashBytes(t), t.sig)) ? 'ok' : 'bad-ticket-signature';
        }),
      );
      assert.deepEqual(
        results,
        cases.map((envelope) => {
          const core = checkEnvelope(envelope, { node });
          return core.ok ? 'ok' : core.reason;
        }),
      );
      const envelope = cases[0]!;
      const ack = ackTicket(envelope.ticket, '2', b);
      assert.equal(await verifier.verify(ack.recipientKey, ackHashBytes(ack), ack.sig), verifyAckSignature(ack));
      assert.equal(await verifier.verify(ack.recipientKey, ackHashBytes(ack), `0x${'77'.repeat(64)}` as Hex), false);
      assert.equal(await verifier.verify(a.publicKey, ackHashBytes(ack), ack.sig), false);
      assert.equal(await verifier.verify(`0x${'00'.repeat(32)}` as Hex, ackHashBytes(ack), ack.sig), false);
      assert.equal(
        bytesToHex(leafFromHashes(ticketHashBytes(envelope.ticket), ackHashBytes(ack))),
        receiptLeafHash({ ticket: envelope.ticket, ack }),
      );
    }
  } finally {
    for (const verifier of verifiers) await verifier.close();
  }
});

test('the command line validates its flags', () => {
  assert.equal(parseEdgeNodeArgs(['--help']), null);
  const key = generatePrivateKey();
  const options = parseEdgeNodeArgs(
    [
      '--node-key',
      key,
      '--data-dir',
      '/tmp/x',
      '--genesis-time',
      '100',
      '--epoch-duration',
      '20',
      '--chain-id',
      '31337',
      '--node-staking',
      domain.verifyingContract as string,
      '--drop-rate',
      '0.25',
    ],
    {},
  );
  assert.equal(options?.dropRate, 0.25);
  assert.equal(options?.clock.epochDurationSeconds, 20);
  assert.throws(
    () => parseEdgeNodeArgs(['--node-key', key, '--data-dir', '/tmp/x', '--drop-rate', '2', '--address-book', 'x'], {}),
    /--drop-rate: --drop-rate must be in \[0, 1\]/,
  );
  assert.throws(() => parseEdgeNodeArgs(['--node-key', 'nope', '--data-dir', '/tmp/x'], {}), /--node-key/);
  assert.throws(() => parseEdgeNodeArgs(['--node-key', key, '--data-dir', '/tmp/x'], {}), UsageError);
  assert.throws(() => parseEdgeNodeArgs(['--bogus'], {}), UsageError);
});

test('registered DIDs: registerClientIdentity puts keys on-chain and the node admits only Active keys', async () => {
  const anvil = await startAnvil();
  try {
    const { book, path } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) });
    rmSync(path, { force: true });
    const transport = http(anvil.rpcUrl);
    const publicClient = createPublicClient({ chain: foundry, transport });
    const wallet = (i: number) => createWalletClient({ chain: foundry, transport, account: devAccount(i) });
    const alice = await registerClientIdentity(wallet(0), publicClient, book, 'alice');
    const bob = await registerClientIdentity(wallet(1), publicClient, book, 'bob');
    const [status, did, keyType] = await publicClient.readContract({
      address: book.contracts.DidRegistry,
      abi: didRegistryAbi,
      functionName: 'keyState',
      args: [alice.device.publicKey],
    });
    assert.deepEqual([status, did, keyType], [1, alice.did, 0]);

    time.ms = (GENESIS + 5) * 1000;
    const node = await startNode({ keys: didRegistryKeyDirectory(publicClient, book.contracts.DidRegistry) });
    const a = await connect(node, { device: alice.device, did: alice.did });
    const b = await connect(node, { device: bob.device, did: bob.did });
    const { message } = await exchange(a, b, 'on-chain identities');
    assert.equal(message.fromDid, alice.did.toString());
    // an unregistered key, and a registered key claiming another DID, are refused
    await assert.rejects(connect(node), /login refused \(key-not-registered\)/);
    await assert.rejects(connect(node, { device: alice.device, did: bob.did }), /key-not-registered/);
  } finally {
    await anvil.stop();
  }
});
