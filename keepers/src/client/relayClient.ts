/**
 * Reference relay client: one device (an Ed25519 device key registered on a DID) connected to one edge
 * node. It logs in by signing the node's challenge, sends messages as padded, sealed envelopes with a
 * signed sender ticket (docs/keepers.md §2), emits what it receives, acks each delivery with a signed ack,
 * and reconnects (re-sending what the node has not accepted yet) when the connection drops.
 *
 * `registerClientIdentity` puts a new identity on-chain (commit–reveal): `DidRegistry.register(name, secret)` then
 * `addKey(did, deviceKey, Ed25519, metadata)`.
 *
 * The payload sealing in `relay/payload.ts` stands in for end-to-end encryption, which is out of scope.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import {
  bytesToHex,
  stringToHex,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { log as rootLog } from '../infra/log.js';
import type { AddressBook } from '../chain/addressBook.js';
import { KeyType } from '../chain/did.js';
import { registerDidWithKeys } from '../chain/didRegistration.js';
import { ackTicket, generateDeviceKey, signTicket, sizeUnits, type DeviceKey, type Envelope } from '../core/relay.js';
import { nodeFrameSchema, type NodeFrame } from '../core/relayFrames.js';
import { signLogin } from '../core/relayLogin.js';
import { conversationKey, open, PayloadError, seal } from './payload.js';
import { SendnetError } from '../core/errors.js';

export interface ReceivedMessage {
  envelope: Envelope;
  from: Hex;
  fromDid: string;
  /** The opened payload, or null when it does not open under the conversation key (e.g. a challenge). */
  plaintext: Buffer | null;
  receivedAt: number;
}

export interface RelayClientOptions {
  device: DeviceKey;
  did: bigint | string;
  /** Reconnect after an unexpected close (default true), backing off from 100 ms to 5 s. */
  reconnect?: boolean;
  /** Ack deliveries automatically (default true). */
  autoAck?: boolean;
  /** Open received payloads (default true; benchmarks turn it off). */
  openPayloads?: boolean;
  /** Key for a conversation with `peer` (default: the placeholder of relay/payload.ts). */
  conversationKey?: (peer: Hex) => Uint8Array;
  logger?: Logger;
}

export class SendRejectedError extends SendnetError {
  override name = 'SendRejectedError';
  override readonly code = 'send-rejected';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(`node rejected the envelope (${reason}): ${message}`);
  }
}

export class RelayClientError extends SendnetError {
  override name = 'RelayClientError';
  override readonly code = 'relay-client';
}

interface Inflight {
  envelope: Envelope;
  resolve: () => void;
  reject: (error: Error) => void;
  retried: boolean;
}

/**
 * Events: `message` (ReceivedMessage), `acked` ({ ticketHash, paid }), `rejected` (node error frame),
 * `connected` (welcome frame), `disconnected`, `epoch` (number).
 */
export class RelayClient extends EventEmitter {
  readonly key: Hex;
  readonly did: string;
  /** The node's address (from its last challenge; kept while reconnecting) and the epoch it last reported. */
  node?: Address;
  epoch = 0;
  private loggedIn = false;
  private pendingNode?: Address;
  private ws?: WebSocket;
  private url?: string;
  private closing = false;
  private backoffMs = 100;
  private readonly inflight = new Map<Hex, Inflight>();
  private readonly received = new Set<Hex>();
  private readonly log: Logger;
  private connectWaiter?: { resolve: () => void; reject: (error: Error) => void };

  constructor(private readonly options: RelayClientOptions) {
    super();
    this.key = options.device.publicKey;
    this.did = options.did.toString();
    this.log = (options.logger ?? rootLog).child({ service: 'relay-client', key: this.key });
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.loggedIn;
  }

  /** Connects and logs in; resolves once the node welcomed this device. */
  connect(url: string): Promise<void> {
    this.url = url;
    this.closing = false;
    return new Promise<void>((resolve, reject) => {
      this.connectWaiter = { resolve, reject };
      this.open();
    });
  }

  private open(): void {
    if (!this.url) return;
    const ws = new WebSocket(this.url, { perMessageDeflate: false });
    this.ws = ws;
    this.loggedIn = false;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.onFrame(data.toString());
    });
    ws.on('error', (error) => this.log.debug({ err: error }, 'connection error'));
    ws.on('close', () => {
      if (ws !== this.ws) return;
      const wasWelcomed = this.loggedIn;
      this.loggedIn = false;
      this.emit('disconnected');
      if (this.closing) return;
      if (this.options.reconnect === false) {
        this.connectWaiter?.reject(new RelayClientError(`connection to ${this.url} closed`));
        this.connectWaiter = undefined;
        for (const [, f] of this.inflight)
          f.reject(new RelayClientError('connection closed before the node accepted the envelope'));
        this.inflight.clear();
        return;
      }
      if (wasWelcomed) this.backoffMs = 100;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, 5000);
      setTimeout(() => {
        if (!this.closing) this.open();
      }, delay).unref();
    });
  }

  private onFrame(text: string): void {
    let frame: NodeFrame;
    try {
      const parsed = nodeFrameSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(parsed.error.issues[0]?.message);
      frame = parsed.data;
    } catch (error) {
      this.log.warn({ err: error }, 'malformed frame from node');
      return;
    }
    switch (frame.type) {
      case 'challenge': {
        this.loggedIn = false;
        const node = frame.node.toLowerCase() as Address;
        const sig = signLogin({ nonce: frame.nonce, node, did: this.did, key: this.key }, this.options.device);
        this.pendingNode = node;
        this.epoch = frame.epoch;
        this.ws?.send(JSON.stringify({ type: 'login', key: this.key, did: this.did, sig }));
        return;
      }
      case 'welcome':
        this.node = this.pendingNode;
        this.loggedIn = true;
        this.epoch = frame.epoch;
        this.emit('connected', frame);
        this.connectWaiter?.resolve();
        this.connectWaiter = undefined;
        for (const [, f] of this.inflight) {
          f.retried = true;
          this.ws?.send(JSON.stringify({ type: 'send', envelope: f.envelope }));
        }
        return;
      case 'epoch':
        this.epoch = frame.epoch;
        this.emit('epoch', frame.epoch);
        return;
      case 'accepted': {
        this.epoch = frame.epoch;
        const f = this.inflight.get(frame.id);
        if (f) {
          this.inflight.delete(frame.id);
          f.resolve();
        }
        return;
      }
      case 'deliver':
        this.onDeliver(frame.envelope);
        return;
      case 'acked':
        this.emit('acked', frame);
        return;
      case 'error':
        this.onError(frame);
        return;
    }
  }

  private onError(frame: Extract<NodeFrame, { type: 'error' }>): void {
    this.emit('rejected', frame);
    if (!this.loggedIn && (frame.reason === 'bad-login-signature' || frame.reason === 'key-not-registered')) {
      this.closing = true;
      this.connectWaiter?.reject(new RelayClientError(`login refused (${frame.reason}): ${frame.message}`));
      this.connectWaiter = undefined;
      this.ws?.close();
      return;
    }
    const f = frame.ref ? this.inflight.get(frame.ref as Hex) : undefined;
    if (!f) return;
    // a re-send after reconnecting that the node had already taken
    if (frame.reason === 'replayed-envelope' && f.retried) {
      this.inflight.delete(frame.ref as Hex);
      f.resolve();
      return;
    }
    this.inflight.delete(frame.ref as Hex);
    f.reject(new SendRejectedError(frame.reason, frame.message));
  }

  private onDeliver(envelope: Envelope): void {
    const { ticket } = envelope;
    if (ticket.recipientKey !== this.key) return;
    if (this.options.autoAck !== false) this.ack(envelope);
    if (this.received.has(envelope.id)) return; // re-delivery after a lost ack
    this.received.add(envelope.id);
    if (this.received.size > 100_000) this.received.delete(this.received.values().next().value as Hex);
    let plaintext: Buffer | null = null;
    if (this.options.openPayloads !== false) {
      try {
        plaintext = open(this.keyFor(ticket.senderKey), Buffer.from(envelope.ciphertext, 'base64'));
      } catch (error) {
        if (!(error instanceof PayloadError)) throw error;
      }
    }
    const message: ReceivedMessage = {
      envelope,
      from: ticket.senderKey,
      fromDid: ticket.senderDid,
      plaintext,
      receivedAt: Date.now(),
    };
    this.emit('message', message);
  }

  /** Signs and sends the ack of a delivered envelope. */
  ack(envelope: Envelope): void {
    const ack = ackTicket(envelope.ticket, this.did, this.options.device);
    this.ws?.send(JSON.stringify({ type: 'ack', ack }));
  }

  private keyFor(peer: Hex): Uint8Array {
    return this.options.conversationKey?.(peer) ?? conversationKey(this.key, peer);
  }

  /** An envelope to `toKey` carrying `ciphertext` as is, with a ticket for the connected node. */
  envelopeFor(toKey: Hex, ciphertext: Uint8Array, options: { epoch?: number; id?: Hex } = {}): Envelope {
    if (!this.node) throw new RelayClientError('never logged in to a node: connect first');
    const id = options.id ?? bytesToHex(randomBytes(32));
    const ticket = signTicket(
      {
        envelopeId: id,
        node: this.node,
        epoch: options.epoch ?? this.epoch,
        units: sizeUnits(ciphertext.length),
        recipientKey: toKey.toLowerCase() as Hex,
        senderKey: this.key,
        senderDid: this.did,
      },
      this.options.device,
    );
    return { id, to: ticket.recipientKey, ciphertext: Buffer.from(ciphertext).toString('base64'), ticket };
  }

  /** Seals `message` for `toKey` and sends it; resolves with the envelope once the node accepted it. */
  async send(toKey: Hex, message: string | Uint8Array, options: { epoch?: number } = {}): Promise<Envelope> {
    const bytes = typeof message === 'string' ? new TextEncoder().encode(message) : message;
    const envelope = this.envelopeFor(toKey, seal(this.keyFor(toKey.toLowerCase() as Hex), bytes), options);
    await this.sendEnvelope(envelope);
    return envelope;
  }

  /** Sends a ready envelope; resolves when the node accepted it, rejects with SendRejectedError. */
  sendEnvelope(envelope: Envelope): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.inflight.set(envelope.id, { envelope, resolve, reject, retried: false });
      if (this.connected) this.ws?.send(JSON.stringify({ type: 'send', envelope }));
    });
  }

  /** Sends any text on the connection (tests of the node's input checks). */
  sendRaw(text: string | Buffer): void {
    if (!this.ws) throw new RelayClientError('not connected');
    this.ws.send(text);
  }

  /** Closes for good (no reconnect); envelopes not yet accepted are rejected. */
  async close(): Promise<void> {
    this.closing = true;
    for (const [, f] of this.inflight)
      f.reject(new RelayClientError('client closed before the node accepted the envelope'));
    this.inflight.clear();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close();
    });
  }
}

/** Hex of a UTF-8 metadata string for `addKey` (the device's label). */
const keyMetadata = (label: string): Hex => stringToHex(label);

/**
 * Registers the DID `name` for the wallet and adds `device`'s key to it as an Ed25519 device key; waits for
 * both transactions. Returns the DID (token id) and the device (a fresh one unless given).
 */
export async function registerClientIdentity(
  walletClient: WalletClient<Transport, Chain, Account>,
  publicClient: PublicClient,
  book: AddressBook,
  name: string,
  device: DeviceKey = generateDeviceKey(),
  label = 'relay-client',
): Promise<{ did: bigint; name: string; device: DeviceKey }> {
  try {
    const { did } = await registerDidWithKeys(walletClient, publicClient, book.contracts.DidRegistry, name, [
      { key: device.publicKey, keyType: KeyType.Ed25519, metadata: keyMetadata(label) },
    ]);
    return { did, name, device };
  } catch (error) {
    throw new RelayClientError(`registering the DID ${name}: ${(error as Error).message}`, { cause: error });
  }
}
