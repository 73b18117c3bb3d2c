/**
 * WatchDog challenges through an edge node (docs/keepers.md §4): the WatchDog's challenge identities log
 * in to the node as ordinary clients (the reference relay client, client/relayClient.ts); a challenge is an
 * envelope of 1–4 KiB of random bytes from one identity to another, and succeeds when the recipient got it
 * within the timeout (latency = receive time − send time). The envelope id is the one the WatchDog's secret
 * fixes for the challenge (core/watchdogSchedule.ts `challengeEnvelopeId`), random-looking to the node. The
 * recipient acks a challenge that arrives within the timeout like any delivery (so it looks like ordinary
 * traffic, and the node's committed receipt is the evidence of the delivery) and never one that arrives late:
 * an ack exists exactly when the result is "ok". Connections are opened ahead of the first challenge
 * (`warmUp`, once the assignment is known) or on first use, and re-opened after a failure.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Address, Hex } from 'viem';
import type { Logger } from 'pino';
import { RelayClient, type ReceivedMessage } from '../client/relayClient.js';
import type { DeviceKey } from '../core/relay.js';

export interface ChallengeIdentity {
  device: DeviceKey;
  did: bigint | string;
}

export interface ChallengeOutcome {
  /** Send time, unix ms. */
  at: number;
  envelopeId: Hex;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });

/** The identities' connections to one node; dropped (and re-opened on next use) when any of them closes. */
class NodeChannel {
  private current?: { clients?: RelayClient[]; ready: Promise<RelayClient[]> };

  constructor(
    private readonly endpoint: string,
    private readonly identities: readonly ChallengeIdentity[],
    private readonly connectTimeoutMs: number,
    private readonly logger?: Logger,
  ) {}

  connect(): Promise<RelayClient[]> {
    if (this.current) return this.current.ready;
    const clients = this.identities.map(
      (id) =>
        new RelayClient({
          device: id.device,
          did: id.did,
          reconnect: false,
          openPayloads: false,
          autoAck: false,
          logger: this.logger,
        }),
    );
    const entry: { clients?: RelayClient[]; ready: Promise<RelayClient[]> } = {
      ready: withTimeout(
        Promise.all(clients.map((c) => c.connect(this.endpoint))),
        this.connectTimeoutMs,
        `login to ${this.endpoint}`,
      ).then(
        () => {
          entry.clients = clients;
          for (const c of clients) c.once('disconnected', () => this.drop(entry));
          return clients;
        },
        async (error) => {
          this.drop(entry);
          await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
          throw error;
        },
      ),
    };
    this.current = entry;
    return entry.ready;
  }

  private drop(entry: { clients?: RelayClient[] }): void {
    if (this.current === entry) this.current = undefined;
    for (const c of entry.clients ?? []) void c.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const entry = this.current;
    this.current = undefined;
    if (!entry) return;
    const clients = await entry.ready.catch(() => [] as RelayClient[]);
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  }
}

/**
 * How long logging the identities in to a node may take. A login is not part of a challenge (docs/keepers.md
 * §4: success is the envelope arriving within the challenge timeout): the node checks the keys against the
 * chain, which can be slow, and the connections are kept for the following challenges.
 */
export const LOGIN_TIMEOUT_MS = 10_000;

export class Challenger {
  private readonly channels = new Map<Address, NodeChannel>();

  /** @param now the clock results are stamped with (unix ms; the WatchDog's epoch clock). */
  constructor(
    private readonly identities: readonly ChallengeIdentity[],
    public timeoutMs: number,
    private readonly logger?: Logger,
    private readonly now: () => number = Date.now,
  ) {
    if (identities.length < 2) throw new RangeError('a WatchDog needs at least two challenge identities');
  }

  private channel(node: Address, endpoint: string): NodeChannel {
    let channel = this.channels.get(node);
    if (!channel) {
      channel = new NodeChannel(endpoint, this.identities, Math.max(this.timeoutMs, LOGIN_TIMEOUT_MS), this.logger);
      this.channels.set(node, channel);
    }
    return channel;
  }

  /** Logs the identities in to `node` ahead of its first challenge (failures are retried by the challenge). */
  warmUp(node: Address, endpoint: string): void {
    this.channel(node, endpoint)
      .connect()
      .catch(() => undefined);
  }

  /**
   * Challenge number `i` of `node` in `epoch`, as envelope `envelopeId`: identity i → identity i+1 (mod the
   * number of identities).
   */
  async challenge(
    node: Address,
    endpoint: string,
    i: number,
    epoch: number,
    envelopeId: Hex,
    /** Never send at or after this time (unix ms, the epoch's end): a late send is reported failed unsent. */
    sendBeforeMs = Number.POSITIVE_INFINITY,
  ): Promise<ChallengeOutcome> {
    const started = this.now();
    let clients: RelayClient[];
    try {
      clients = await this.channel(node, endpoint).connect();
    } catch (error) {
      return {
        at: started,
        envelopeId,
        ok: false,
        latencyMs: 0,
        error: (error as Error).message,
      };
    }
    if (this.now() >= sendBeforeMs)
      return { at: started, envelopeId, ok: false, latencyMs: 0, error: 'not sent: the epoch ended during the login' };
    const sender = clients[i % clients.length]!;
    const recipient = clients[(i + 1) % clients.length]!;
    const envelope = sender.envelopeFor(recipient.key, randomBytes(randomInt(1024, 4097)), { epoch, id: envelopeId });
    let onMessage: ((m: ReceivedMessage) => void) | undefined;
    let at = 0;
    const arrived = new Promise<number>((resolve) => {
      onMessage = (m) => {
        if (m.envelope.id !== envelope.id) return;
        const now = this.now();
        // acked only in time: the node's receipt then proves exactly the "ok" results
        if (now - at <= this.timeoutMs) recipient.ack(m.envelope);
        resolve(now);
      };
      recipient.on('message', onMessage);
    });
    at = this.now();
    try {
      sender.sendEnvelope(envelope).catch(() => undefined); // a refused send simply never arrives
      const latencyMs = Math.max(0, (await withTimeout(arrived, this.timeoutMs, 'challenge')) - at);
      if (latencyMs > this.timeoutMs)
        return { at, envelopeId: envelope.id, ok: false, latencyMs: 0, error: `arrived after ${latencyMs} ms` };
      return { at, envelopeId: envelope.id, ok: true, latencyMs };
    } catch (error) {
      return { at, envelopeId: envelope.id, ok: false, latencyMs: 0, error: (error as Error).message };
    } finally {
      recipient.off('message', onMessage!);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.channels.values()].map((c) => c.close()));
    this.channels.clear();
  }
}
