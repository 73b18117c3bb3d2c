/**
 * Envelopes an edge node holds until their recipient acks them, indexed by recipient key (to deliver
 * on login) and by ticket hash (to match acks), plus the envelope ids already seen per ticket epoch
 * (replay protection). Memory mirrors the store; `load` rebuilds it after a restart. An id is persisted
 * as seen by its pending envelope, then by its receipt (relay/ledger.ts), and by an explicit `s!` marker
 * only when neither exists (dropped envelopes, acks that earn no receipt).
 */
import type { Hex } from 'viem';
import { z } from 'zod';
import { envelopeSchema, type Envelope } from '../core/relay.js';
import { bytes32Wire } from '../core/wire.js';
import { storeKeys, epochOfKey, type RelayStore, type StoreOp } from './store.js';

export interface PendingEnvelope {
  envelope: Envelope;
  ticketHash: Hex;
  /** The `deliver` frame, serialised once. */
  frame: string;
}

const storedPendingSchema = z.object({ envelope: envelopeSchema, ticketHash: bytes32Wire });

type Op = StoreOp;

export class Mailbox {
  private readonly byRecipient = new Map<Hex, Map<Hex, PendingEnvelope>>();
  private readonly byTicket = new Map<Hex, PendingEnvelope>();
  /** envelope id → ticket epoch */
  private readonly seen = new Map<Hex, number>();

  async load(store: RelayStore, seenFromEpoch: number): Promise<void> {
    for (const [, value] of await store.scan('p!')) {
      const parsed = storedPendingSchema.parse(JSON.parse(value));
      this.index({
        envelope: parsed.envelope,
        ticketHash: parsed.ticketHash as Hex,
        frame: deliverFrame(parsed.envelope),
      });
      this.seen.set(parsed.envelope.id, parsed.envelope.ticket.epoch);
    }
    for (const key of await store.scanKeys('s!')) {
      const epoch = epochOfKey(key);
      if (epoch >= seenFromEpoch) this.seen.set(key.slice(13) as Hex, epoch);
    }
  }

  get size(): number {
    return this.byTicket.size;
  }

  isSeen(id: Hex): boolean {
    return this.seen.has(id);
  }

  /** Marks the id seen (in memory; `seenMarker` persists it when nothing else will). */
  markSeen(id: Hex, epoch: number): void {
    this.seen.set(id, epoch);
  }

  /** The store op that persists `id` as seen on its own. */
  seenMarker(id: Hex, epoch: number): Op {
    return { type: 'put', key: storeKeys.seen(epoch, id), value: '' };
  }

  /** Holds an envelope until acked; returns the store ops (serialised only if still pending at flush). */
  hold(pending: PendingEnvelope): Op[] {
    this.index(pending);
    const { envelope, ticketHash } = pending;
    return [
      {
        type: 'put',
        key: storeKeys.pending(envelope.to, envelope.id),
        value: () => JSON.stringify({ envelope, ticketHash }),
      },
    ];
  }

  private index(pending: PendingEnvelope): void {
    let inbox = this.byRecipient.get(pending.envelope.to);
    if (!inbox) {
      inbox = new Map();
      this.byRecipient.set(pending.envelope.to, inbox);
    }
    inbox.set(pending.ticketHash, pending);
    this.byTicket.set(pending.ticketHash, pending);
  }

  byTicketHash(th: Hex): PendingEnvelope | undefined {
    return this.byTicket.get(th);
  }

  /** Everything held for `recipientKey`, oldest first. */
  inbox(recipientKey: Hex): PendingEnvelope[] {
    return [...(this.byRecipient.get(recipientKey)?.values() ?? [])];
  }

  /** Removes an acked envelope; returns the store ops. */
  release(pending: PendingEnvelope): Op[] {
    const { envelope, ticketHash } = pending;
    this.byTicket.delete(ticketHash);
    const inbox = this.byRecipient.get(envelope.to);
    inbox?.delete(ticketHash);
    if (inbox?.size === 0) this.byRecipient.delete(envelope.to);
    return [{ type: 'del', key: storeKeys.pending(envelope.to, envelope.id) }];
  }

  /** Forgets seen ids of epochs below `epoch` (their tickets are rejected by the epoch check anyway). */
  forgetSeenBefore(epoch: number): void {
    for (const [id, e] of this.seen) if (e < epoch) this.seen.delete(id);
  }
}

export function deliverFrame(envelope: Envelope): string {
  return JSON.stringify({ type: 'deliver', envelope });
}
