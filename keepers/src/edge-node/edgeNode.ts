/**
 * Reference edge node: relays envelopes between logged-in client devices over WebSocket, holds envelopes
 * for offline recipients (LevelDB in its data dir, delivered on their next login, also after a restart),
 * turns acked deliveries into receipts, commits each epoch's Merkle-sum tree with its node key and answers
 * openings over HTTP (docs/keepers.md §2–3). One port serves both (routes in `http.ts`, frames in
 * `core/relayFrames.ts`).
 *
 * Misbehaviour switches (devnet and tests only): `dropRate` silently drops that fraction of envelopes,
 * `inflateUnits` pads the committed tree with forged receipts, `offlineAfterMs` goes dark after that long,
 * `equivocate` signs two different commitments per epoch. The node cannot tell WatchDog challenges from
 * traffic and does not try to.
 *
 *   npm run edge-node -- --help      (the entry is main.ts; flags in command.ts)
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { bytesToHex, hexToBytes, type Address, type Hex, type TypedDataDomain } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { log as rootLog } from '../infra/log.js';
import { ackHashBytes, ticketHashBytes, type Ack, type Envelope } from '../core/relay.js';
import type { SecpSigner } from '../core/commitment.js';
import type { EpochClock } from '../core/epochClock.js';
import { checkEnvelopeFields, leafFromHashes } from './fastChecks.js';
import { inlineVerifier, workerVerifier, type SignatureVerifier } from './verifyPool.js';
import { clientFrameSchema, FrameRejected, MAX_FRAME_BYTES, type FrameRejection } from '../core/relayFrames.js';
import { describeZodError } from '../core/wire.js';
import { httpError, relayHttpHandler, type HttpAnswer, type OpeningsRequest } from './http.js';
import { EpochLedger, OpeningIndexError } from './ledger.js';
import { Mailbox, deliverFrame, type PendingEnvelope } from './mailbox.js';
import { createRelayMetrics, type RelayMetrics } from './metrics.js';
import { verifyLogin, type LoginKeyDirectory } from '../core/relayLogin.js';
import { RelayStore } from './store.js';
import { publishCommitments } from './guardianPublisher.js';
import { openingsDigest } from '../core/openingsProof.js';
import { signHashWith } from '../core/attestation.js';
import { lowerHex } from '../core/wire.js';
import { SendnetError } from '../core/errors.js';

export interface EdgeNodeOptions {
  /** The node key (secp256k1 private key): its address is `ticket.node` and it signs commitments. */
  nodeKey: Hex;
  dataDir: string;
  clock: EpochClock;
  /** EIP-712 domain commitments are signed under (`nodeStakingDomain(chainId, NodeStaking)`). */
  domain: TypedDataDomain;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Without it any key may log in for any DID: fine for chain-free tests, not for a real node. */
  keys?: LoginKeyDirectory;
  /** Committed epochs kept for openings (older ones answer 410). Default 8. */
  retainEpochs?: number;
  /** Commit this long before the commit deadline. Default grace − min(grace / 2, 1.5 s). */
  commitMarginMs?: number;
  /** How often the epoch clock is checked (commits, epoch broadcasts). Default 250 ms; 0 = only `tick()`. */
  tickMs?: number;
  /** Worker threads verifying Ed25519 signatures (default 0: on the main thread). */
  verifyThreads?: number;
  /** Store writes are batched over this interval (default 5 ms; 0 = every event-loop turn). */
  flushIntervalMs?: number;
  dropRate?: number;
  inflateUnits?: number;
  offlineAfterMs?: number;
  equivocate?: boolean;
  /** Guardians the node sends its signed commitments to (a commitment counts only with their attestations). */
  guardianUrls?: string[];
  /**
   * Misbehave: commit this many seconds after the commit deadline (once the seed is known), and still
   * send the commitment to the guardians (who refuse it: issue 11 finding 2).
   */
  commitLateSeconds?: number;
  random?: () => number;
  logger?: Logger;
}

interface Session {
  ws: WebSocket;
  nonce: Hex;
  key?: Hex;
  did?: string;
  /** Frames of this connection being processed (bounded: a flood is answered `node-busy`). */
  busy: number;
}

/** Frames one connection may have in processing at once. */
const MAX_FRAMES_IN_FLIGHT = 512;

function publishCommitmentsQuietly(node: EdgeNode, epoch: number, wire: readonly unknown[]): Promise<unknown> {
  return node.publishTo(epoch, wire).catch(() => null);
}

export class EdgeNodeError extends SendnetError {
  override name = 'EdgeNodeError';
  override readonly code = 'edge-node';
}

export class EdgeNode {
  readonly address: Address;
  readonly metrics: RelayMetrics;
  private readonly signer: SecpSigner;
  private readonly store: RelayStore;
  private readonly mailbox = new Mailbox();
  private readonly ledger: EpochLedger;
  private readonly sessions = new Map<Hex, Set<Session>>();
  private readonly log: Logger;
  private readonly retainEpochs: number;
  private readonly commitMarginMs: number;
  private readonly random: () => number;
  private readonly verifier: SignatureVerifier;
  /** Envelope ids whose ticket signature is being verified (a concurrent duplicate is a replay). */
  private readonly verifying = new Set<Hex>();
  private http?: Server;
  private wss?: WebSocketServer;
  private timers: NodeJS.Timeout[] = [];
  private ticking?: Promise<void>;
  private nextToCommit = 1;
  private lastEpoch = -1;
  private started = false;
  private offline = false;
  private boundPort = 0;

  constructor(private readonly options: EdgeNodeOptions) {
    const account = privateKeyToAccount(options.nodeKey);
    this.address = account.address.toLowerCase() as Address;
    this.signer = options.nodeKey;
    const dropRate = options.dropRate ?? 0;
    if (!(dropRate >= 0 && dropRate <= 1)) throw new EdgeNodeError(`dropRate must be in [0, 1], got ${dropRate}`);
    if (!((options.inflateUnits ?? 0) >= 0))
      throw new EdgeNodeError(`inflateUnits must be ≥ 0, got ${options.inflateUnits}`);
    this.retainEpochs = options.retainEpochs ?? 8;
    // Commit min(grace/2, 1.5 s) after the epoch end: late acks still count, and the guardians (which attest
    // only before the deadline, and may be busy signing the previous epoch) have the rest of the grace.
    const graceMs = options.clock.commitGraceSeconds * 1000;
    this.commitMarginMs = options.commitMarginMs ?? graceMs - Math.min(graceMs / 2, 1500);
    this.random = options.random ?? Math.random;
    this.verifier = options.verifyThreads ? workerVerifier(options.verifyThreads) : inlineVerifier();
    this.metrics = createRelayMetrics();
    this.log = (options.logger ?? rootLog).child({ service: 'edge-node', node: this.address });
    this.store = new RelayStore(join(options.dataDir, 'relay.db'), options.flushIntervalMs ?? 5);
    this.ledger = new EpochLedger({
      store: this.store,
      nodeKey: this.address,
      signer: this.signer,
      domain: options.domain,
      inflateUnits: options.inflateUnits,
      equivocate: options.equivocate,
    });
  }

  /** ws://host:port once started. */
  get url(): string {
    return `ws://${this.options.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  get httpUrl(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  get port(): number {
    return this.boundPort;
  }

  /** Opens the store, reloads state, listens, and starts the epoch timer. */
  async start(): Promise<void> {
    if (this.started) throw new EdgeNodeError('edge node already started');
    this.started = true;
    await this.store.open();
    const current = this.options.clock.currentEpoch();
    const keepFrom = Math.max(1, current - this.retainEpochs);
    await this.ledger.load(keepFrom);
    await this.mailbox.load(this.store, Math.max(1, current - 1));
    for (const [id, epoch] of this.ledger.envelopeIds(Math.max(1, current - 1))) this.mailbox.markSeen(id, epoch);
    this.metrics.pending.set(this.mailbox.size);
    this.nextToCommit = Math.max(1, current - 1);
    this.lastEpoch = current;

    const http = createServer(relayHttpHandler(this.httpApi()));
    const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * MAX_FRAME_BYTES });
    http.on('upgrade', (request, socket, head) => {
      if (this.offline) return socket.destroy();
      wss.handleUpgrade(request, socket, head, (ws) => this.onConnection(ws));
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.http = http;
    this.wss = wss;
    this.boundPort = (http.address() as AddressInfo).port;
    const tickMs = this.options.tickMs ?? 250;
    if (tickMs > 0) {
      const timer = setInterval(
        () => void this.tick().catch((error) => this.log.error({ err: error }, 'epoch tick failed')),
        tickMs,
      );
      timer.unref();
      this.timers.push(timer);
    }
    if (this.options.offlineAfterMs !== undefined) {
      const timer = setTimeout(() => void this.goOffline(), this.options.offlineAfterMs);
      timer.unref();
      this.timers.push(timer);
    }
    this.log.info({ url: this.url, epoch: current, pending: this.mailbox.size }, 'edge node listening');
  }

  /** Stops answering: closes every connection and the listener (the `offlineAfterMs` switch). */
  async goOffline(): Promise<void> {
    if (this.offline) return;
    this.offline = true;
    this.log.warn('edge node going offline');
    for (const client of this.wss?.clients ?? []) client.terminate();
    this.wss?.close();
    await new Promise<void>((resolve) => {
      if (!this.http?.listening) return resolve();
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  /** Stops everything and closes the store (pending writes are flushed first). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.goOffline();
    await this.ticking;
    await this.verifier.close();
    await this.store.close();
  }

  // ------------------------------------------------------------------------------------------ epochs

  /** Unix ms at which `epoch` is committed. */
  commitTime(epoch: number): number {
    if (this.options.commitLateSeconds !== undefined)
      return (this.options.clock.commitDeadline(epoch) + this.options.commitLateSeconds) * 1000;
    return this.options.clock.commitDeadline(epoch) * 1000 - this.commitMarginMs;
  }

  /**
   * Checks the clock: broadcasts a new epoch, commits every finished epoch whose commit time has come
   * (skipping ones whose deadline passed while the node was down) and prunes old epochs.
   */
  tick(): Promise<void> {
    if (!this.ticking) {
      this.ticking = this.runTick().finally(() => (this.ticking = undefined));
    }
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    const { clock } = this.options;
    const now = clock.now();
    const current = clock.epochAt(now);
    if (current !== this.lastEpoch) {
      this.lastEpoch = current;
      const frame = JSON.stringify({ type: 'epoch', epoch: current });
      for (const set of this.sessions.values()) for (const s of set) s.ws.send(frame);
      const oldest = current - this.retainEpochs;
      if (oldest > 1) {
        await this.store.pruneBefore(oldest, ['r', 'c']);
        this.ledger.forgetBefore(oldest);
      }
      if (current > 2) {
        await this.store.pruneBefore(current - 1, ['s']);
        this.mailbox.forgetSeenBefore(current - 1);
      }
    }
    for (let epoch = this.nextToCommit; epoch < current; epoch++) {
      if (now < this.commitTime(epoch)) break;
      if (!this.ledger.isCommitted(epoch)) {
        if (now >= clock.commitDeadline(epoch) * 1000 && this.options.commitLateSeconds === undefined) {
          this.log.warn({ epoch }, 'commit deadline passed while the node was down: epoch not committed');
        } else {
          const done = await this.ledger.commit(epoch);
          this.metrics.commitments.inc();
          this.publish(epoch, done.wire);
          const c = done.commitments[0]!.commitment;
          this.log.info(
            { epoch, root: c.root, totalUnits: c.totalUnits.toString(), leafCount: c.leafCount.toString() },
            'epoch committed',
          );
        }
      }
      this.nextToCommit = epoch + 1;
    }
  }

  /** Commits `epoch` now, whatever the clock says (tests, tooling), and sends it to the guardians. */
  async commitNow(epoch: number) {
    const done = await this.ledger.commit(epoch);
    this.metrics.commitments.inc();
    this.publishing = publishCommitmentsQuietly(this, epoch, done.wire);
    return done;
  }

  /** The last background send of commitments to the guardians (tests await it). */
  publishing: Promise<unknown> = Promise.resolve();

  /** Sends `epoch`'s signed commitments to every guardian in the background (not when offline). */
  private publish(epoch: number, wire: readonly unknown[]): void {
    this.publishing = publishCommitmentsQuietly(this, epoch, wire);
  }

  /** @internal */
  publishTo(epoch: number, wire: readonly unknown[]) {
    const urls = this.options.guardianUrls ?? [];
    if (urls.length === 0 || this.offline) return Promise.resolve(null);
    return publishCommitments({
      guardianUrls: urls,
      commitments: wire,
      // a late committer tries anyway, for a few seconds
      deadlineMs:
        this.options.commitLateSeconds === undefined
          ? this.options.clock.commitDeadline(epoch) * 1000
          : this.options.clock.now() + 5000,
      nowMs: this.options.clock.now,
      log: this.log,
    });
  }

  // ------------------------------------------------------------------------------------------ WebSocket

  private onConnection(ws: WebSocket): void {
    const session: Session = { ws, nonce: bytesToHex(randomBytes(32)), busy: 0 };
    this.metrics.connections.inc();
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(session, data, isBinary));
    ws.on('error', (error) => this.log.debug({ err: error }, 'connection error'));
    ws.on('close', () => {
      this.metrics.connections.dec();
      if (session.key) {
        const set = this.sessions.get(session.key);
        set?.delete(session);
        if (set?.size === 0) this.sessions.delete(session.key);
      }
    });
    this.sendChallenge(session);
  }

  private sendChallenge(session: Session): void {
    session.ws.send(
      JSON.stringify({
        type: 'challenge',
        nonce: session.nonce,
        node: this.address,
        epoch: this.options.clock.currentEpoch(),
      }),
    );
  }

  private onMessage(session: Session, data: RawData, isBinary: boolean): void {
    if (session.busy >= MAX_FRAMES_IN_FLIGHT) {
      this.reject(session, 'node-busy', `more than ${MAX_FRAMES_IN_FLIGHT} frames in processing on this connection`);
      return;
    }
    session.busy++;
    this.handle(session, data, isBinary)
      .catch((error: unknown) => {
        if (error instanceof FrameRejected) return this.reject(session, error.reason, error.message, error.ref);
        this.log.error({ err: error }, 'frame handling failed');
        this.reject(session, 'node-busy', `node failed to process the frame: ${(error as Error).message}`);
      })
      .finally(() => session.busy--);
  }

  private reject(session: Session, reason: FrameRejection, message: string, ref?: string): void {
    this.metrics.rejects.inc({ reason });
    this.log.info({ reason, detail: message.slice(0, 200), ref, key: session.key }, 'frame rejected');
    if (session.ws.readyState === session.ws.OPEN)
      session.ws.send(JSON.stringify({ type: 'error', reason, message, ...(ref ? { ref } : {}) }));
  }

  private async handle(session: Session, data: RawData, isBinary: boolean): Promise<void> {
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > MAX_FRAME_BYTES)
      throw new FrameRejected('frame-too-large', `frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`);
    if (isBinary) throw new FrameRejected('binary-frame', 'frames are JSON text');
    let json: unknown;
    try {
      json = JSON.parse(data.toString());
    } catch {
      throw new FrameRejected('bad-json', 'frame is not JSON');
    }
    const parsed = clientFrameSchema.safeParse(json);
    if (!parsed.success) {
      const ref = (json as { envelope?: { id?: unknown } } | null)?.envelope?.id;
      throw new FrameRejected(
        'invalid-frame',
        describeZodError(parsed.error, { root: '(frame)' }),
        typeof ref === 'string' ? ref : undefined,
      );
    }
    const frame = parsed.data;
    switch (frame.type) {
      case 'hello':
        if (session.key) throw new FrameRejected('already-logged-in', 'this connection is logged in');
        session.nonce = bytesToHex(randomBytes(32));
        return this.sendChallenge(session);
      case 'login':
        return this.login(session, frame.key, frame.did, frame.sig);
      case 'send':
        return this.accept(session, frame.envelope);
      case 'ack':
        return this.acknowledge(session, frame.ack);
    }
  }

  private async login(session: Session, key: Hex, did: string, sig: Hex): Promise<void> {
    if (session.key) throw new FrameRejected('already-logged-in', 'this connection is logged in');
    if (!verifyLogin({ nonce: session.nonce, node: this.address, did, key }, sig)) {
      throw new FrameRejected('bad-login-signature', 'login signature does not verify for this key and challenge');
    }
    session.nonce = bytesToHex(randomBytes(32)); // one use
    if (this.options.keys) {
      const status = await this.options.keys.lookup(key);
      if (!status?.active || status.did !== BigInt(did)) {
        throw new FrameRejected('key-not-registered', `key ${key} is not an Active device key of DID ${did}`);
      }
    }
    session.key = key;
    session.did = did;
    let set = this.sessions.get(key);
    if (!set) {
      set = new Set();
      this.sessions.set(key, set);
    }
    set.add(session);
    const inbox = this.mailbox.inbox(key);
    session.ws.send(
      JSON.stringify({
        type: 'welcome',
        key,
        did,
        node: this.address,
        epoch: this.options.clock.currentEpoch(),
        pending: inbox.length,
      }),
    );
    for (const pending of inbox) {
      session.ws.send(pending.frame);
      this.metrics.delivered.inc();
    }
  }

  private async accept(session: Session, envelope: Envelope): Promise<void> {
    const ref = envelope.id;
    if (!session.key) throw new FrameRejected('not-logged-in', 'log in before sending', ref);
    const { ticket } = envelope;
    if (ticket.senderKey !== session.key || ticket.senderDid !== session.did) {
      throw new FrameRejected(
        'sender-not-logged-in-key',
        `ticket sender ${ticket.senderKey} (DID ${ticket.senderDid}) is not this connection's key`,
        ref,
      );
    }
    const current = this.options.clock.currentEpoch();
    if (
      ticket.epoch < Math.max(1, current - 1) ||
      ticket.epoch > current + 1 ||
      this.ledger.isCommitted(ticket.epoch)
    ) {
      throw new FrameRejected(
        'wrong-epoch',
        `ticket epoch ${ticket.epoch} is not open (current epoch ${current})`,
        ref,
      );
    }
    if (this.mailbox.isSeen(envelope.id) || this.verifying.has(envelope.id)) {
      throw new FrameRejected('replayed-envelope', `envelope ${envelope.id} was seen before`, ref);
    }
    const check = checkEnvelopeFields(envelope, this.address);
    if (!check.ok) throw new FrameRejected(check.reason, check.detail, ref);
    const th = ticketHashBytes(ticket);
    this.verifying.add(envelope.id);
    let valid: boolean;
    try {
      valid = await this.verifier.verify(ticket.senderKey, th, ticket.sig);
    } finally {
      this.verifying.delete(envelope.id);
    }
    if (!valid) throw new FrameRejected('bad-ticket-signature', 'ticket signature does not verify', ref);
    if (this.ledger.isCommitted(ticket.epoch)) {
      throw new FrameRejected('wrong-epoch', `ticket epoch ${ticket.epoch} was committed meanwhile`, ref);
    }
    // the id is taken from here on, even if the envelope is dropped (its pending entry, then its receipt,
    // persist that; a dropped one gets an explicit marker)
    this.mailbox.markSeen(envelope.id, ticket.epoch);
    this.metrics.relayed.inc();
    const accepted = JSON.stringify({ type: 'accepted', id: envelope.id, epoch: current });
    if (this.options.dropRate && this.random() < this.options.dropRate) {
      this.metrics.dropped.inc();
      await this.store.write([this.mailbox.seenMarker(envelope.id, ticket.epoch)]);
      session.ws.send(accepted);
      return;
    }
    const pending: PendingEnvelope = { envelope, ticketHash: bytesToHex(th), frame: deliverFrame(envelope) };
    const written = this.store.write(this.mailbox.hold(pending));
    this.metrics.stored.inc();
    this.metrics.pending.set(this.mailbox.size);
    for (const recipient of this.sessions.get(envelope.to) ?? []) {
      recipient.ws.send(pending.frame);
      this.metrics.delivered.inc();
    }
    await written;
    session.ws.send(accepted);
  }

  private async acknowledge(session: Session, ack: Ack): Promise<void> {
    const ref = ack.ticketHash;
    if (!session.key) throw new FrameRejected('not-logged-in', 'log in before acking', ref);
    const pending = this.mailbox.byTicketHash(ack.ticketHash);
    if (!pending) {
      const epochs = [this.lastEpoch - 1, this.lastEpoch, this.lastEpoch + 1];
      if (epochs.some((e) => this.ledger.hasReceipt(e, ack.ticketHash))) {
        throw new FrameRejected('duplicate-ack', `ticket ${ack.ticketHash} is acked already`, ref);
      }
      throw new FrameRejected(
        'ack-unknown-ticket',
        `no envelope with ticket ${ack.ticketHash} awaits an ack here`,
        ref,
      );
    }
    const { ticket } = pending.envelope;
    if (ack.recipientKey !== ticket.recipientKey || session.key !== ticket.recipientKey) {
      throw new FrameRejected(
        'ack-wrong-key',
        `ack must be signed by the recipient ${ticket.recipientKey} on its own connection`,
        ref,
      );
    }
    if (ack.recipientDid !== session.did)
      throw new FrameRejected(
        'ack-wrong-did',
        `ack names DID ${ack.recipientDid}, connection is DID ${session.did}`,
        ref,
      );
    const ah = ackHashBytes(ack);
    if (!(await this.verifier.verify(ack.recipientKey, ah, ack.sig))) {
      throw new FrameRejected('bad-ack-signature', 'ack signature does not verify', ref);
    }
    if (this.mailbox.byTicketHash(ack.ticketHash) !== pending) return; // acked meanwhile by another connection
    const ops = this.mailbox.release(pending);
    const receipt = { ticket, ack };
    // a receipt whose sender and recipient share a DID would fail every opening: deliver it, never commit it
    const countable = ticket.senderDid !== ack.recipientDid;
    const leaf = countable ? bytesToHex(leafFromHashes(hexToBytes(pending.ticketHash), ah)) : undefined;
    const recorded = leaf ? this.ledger.record(ack.ticketHash, receipt, leaf) : { paid: false, ops: [] };
    const { paid } = recorded;
    // no receipt stored: keep the id marked as seen on its own
    const receiptOps = paid ? recorded.ops : [this.mailbox.seenMarker(ticket.envelopeId, ticket.epoch)];
    this.metrics.acks.inc({ paid: String(paid) });
    this.metrics.pending.set(this.mailbox.size);
    await this.store.write([...ops, ...receiptOps]);
    session.ws.send(JSON.stringify({ type: 'acked', ticketHash: ack.ticketHash, paid }));
  }

  // ------------------------------------------------------------------------------------------ HTTP

  private httpApi() {
    return {
      health: (): HttpAnswer => ({
        status: 200,
        body: {
          ok: !this.offline,
          node: this.address,
          epoch: this.options.clock.currentEpoch(),
          connections: this.wss?.clients.size ?? 0,
          pending: this.mailbox.size,
        },
      }),
      commitment: async (epoch: number, _request: IncomingMessage): Promise<HttpAnswer> => {
        const wire = this.ledger.commitmentFor(epoch);
        if (wire) return { status: 200, body: wire };
        if (this.isPruned(epoch))
          return httpError(410, 'epoch-gone', `epoch ${epoch} is older than the ${this.retainEpochs} epochs kept`);
        return httpError(404, 'not-committed', `epoch ${epoch} is not committed (yet)`);
      },
      openings: async (epoch: number, request: OpeningsRequest): Promise<HttpAnswer> => {
        if (!this.ledger.isCommitted(epoch)) {
          if (this.isPruned(epoch))
            return httpError(410, 'epoch-gone', `epoch ${epoch} is older than the ${this.retainEpochs} epochs kept`);
          return httpError(404, 'not-committed', `epoch ${epoch} is not committed (yet)`);
        }
        try {
          const openings = lowerHex(this.ledger.openings(epoch, request)) as unknown[];
          if (!('targets' in request)) return { status: 200, body: { openings } };
          // An answer to targets is signed (core/openingsProof.ts): only then can it count for or against us.
          const root = this.ledger.committedEpoch(epoch)!.commitments[0]!.commitment.root;
          const digest = openingsDigest(this.options.domain, epoch, root, request.targets, openings);
          return { status: 200, body: { openings, signature: await signHashWith(this.signer, digest) } };
        } catch (error) {
          if (error instanceof OpeningIndexError) return httpError(400, 'index-out-of-range', error.message);
          throw error;
        }
      },
      metrics: async (): Promise<HttpAnswer> => ({
        status: 200,
        body: await this.metrics.registry.metrics(),
        contentType: this.metrics.registry.contentType,
      }),
      rejected: (reason: string) => this.metrics.rejects.inc({ reason }),
    };
  }

  private isPruned(epoch: number): boolean {
    return epoch < this.options.clock.currentEpoch() - this.retainEpochs;
  }
}
