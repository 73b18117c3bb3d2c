/**
 * Client traffic for the devnet: each client sends, on average, `rate` messages per second to a random
 * other client on the same edge node (the reference node relays between its own connections). Failures
 * (a node that is down, a send the node rejects) are counted and logged, never thrown.
 */
import type { Logger } from 'pino';
import type { RelayClient } from '../client/relayClient.js';

export class TrafficGenerator {
  sent = 0;
  failed = 0;
  private timer?: NodeJS.Timeout;
  private readonly peers: number[][];

  constructor(
    private readonly clients: readonly RelayClient[],
    homes: readonly number[],
    private readonly rate: number,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
    private readonly tickMs = 250,
  ) {
    this.peers = homes.map((home, i) => homes.flatMap((h, j) => (h === home && j !== i ? [j] : [])));
  }

  start(): void {
    if (this.timer) return;
    const p = (this.rate * this.tickMs) / 1000;
    this.timer = setInterval(() => {
      this.clients.forEach((client, i) => {
        const peers = this.peers[i]!;
        if (peers.length === 0 || this.random() >= p) return;
        const to = this.clients[peers[Math.floor(this.random() * peers.length)]!]!;
        const size = 200 + Math.floor(this.random() * 3000);
        client.send(to.key, new Uint8Array(size)).then(
          () => this.sent++,
          (error: Error) => {
            this.failed++;
            this.log.debug({ client: i, err: error.message }, 'send failed');
          },
        );
      });
    }, this.tickMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
