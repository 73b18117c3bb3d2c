/**
 * Prometheus metrics of one edge node (`GET /metrics`). Each node has its own registry, so several nodes
 * can run in one process (tests, the devnet) without clobbering each other's counters.
 */
import { Counter, Gauge, Registry } from 'prom-client';

export interface RelayMetrics {
  readonly registry: Registry;
  /** Envelopes accepted from senders (checks passed). */
  relayed: Counter;
  /** Envelopes written to the store (all accepted ones stay there until acked). */
  stored: Counter;
  /** Deliveries pushed to a recipient connection (re-deliveries count again). */
  delivered: Counter;
  /** Valid acks; `paid` = whether the receipt counted for its epoch. */
  acks: Counter<'paid'>;
  /** Rejected frames and requests by reason. */
  rejects: Counter<'reason'>;
  /** Envelopes silently dropped by the `dropRate` misbehaviour switch. */
  dropped: Counter;
  pending: Gauge;
  connections: Gauge;
  commitments: Counter;
}

export function createRelayMetrics(): RelayMetrics {
  const registry = new Registry();
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    relayed: counter('relay_envelopes_relayed_total', 'Envelopes accepted from senders'),
    stored: counter('relay_envelopes_stored_total', 'Envelopes written to the store until acked'),
    delivered: counter('relay_envelopes_delivered_total', 'Envelopes pushed to a recipient connection'),
    acks: counter('relay_acks_total', 'Valid delivery acks (paid = counted in its epoch)', ['paid']),
    rejects: counter('relay_rejects_total', 'Rejected frames and requests', ['reason']),
    dropped: counter('relay_envelopes_dropped_total', 'Envelopes dropped by the dropRate switch'),
    pending: new Gauge({
      name: 'relay_envelopes_pending',
      help: 'Envelopes stored awaiting an ack',
      registers: [registry],
    }),
    connections: new Gauge({ name: 'relay_connections', help: 'Open WebSocket connections', registers: [registry] }),
    commitments: counter('relay_commitments_total', 'Epoch commitments signed'),
  };
}
