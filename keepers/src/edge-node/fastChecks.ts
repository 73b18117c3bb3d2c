/**
 * The edge node's hot path over `core/relay.ts`. `checkEnvelope` hashes the ticket and verifies its
 * signature inline; the node instead hashes each ticket and ack once (the ticket hash is reused for the
 * ack index and the receipt leaf, the ack hash for the leaf) and verifies through a `SignatureVerifier`
 * (inline or a worker pool, relay/verifyPool.ts). These are the remaining checks of `checkEnvelope`, in
 * its order; equivalence with the core functions is tested in keepers/test/edgeNode.test.ts.
 */
import type { Address } from 'viem';
import { keccak } from '../core/merkle.js';
import {
  base64DecodedLength,
  sizeUnits,
  type CheckResult,
  type Envelope,
  type EnvelopeRejection,
} from '../core/relay.js';

const fail = (reason: EnvelopeRejection, detail: string) => ({ ok: false as const, reason, detail });

/**
 * `checkEnvelope(envelope, { node })` minus the signature: envelope id and recipient match the ticket,
 * units match the ciphertext, the ticket names `node`, sender ≠ recipient. Envelopes parsed by the core
 * schemas have lowercase hex, so plain comparisons suffice.
 */
export function checkEnvelopeFields(envelope: Envelope, node: Address): CheckResult<EnvelopeRejection> {
  const { ticket } = envelope;
  if (ticket.envelopeId !== envelope.id)
    return fail('ticket-envelope-mismatch', `ticket is for envelope ${ticket.envelopeId}, not ${envelope.id}`);
  if (ticket.recipientKey !== envelope.to)
    return fail('ticket-recipient-mismatch', `ticket is for ${ticket.recipientKey}, envelope to ${envelope.to}`);
  const units = sizeUnits(base64DecodedLength(envelope.ciphertext));
  if (ticket.units !== units)
    return fail('units-mismatch', `ticket claims ${ticket.units} units, ciphertext is ${units}`);
  if (ticket.node !== node) return fail('wrong-node', `ticket names node ${ticket.node}, this is ${node}`);
  if (ticket.senderKey === ticket.recipientKey) return fail('sender-is-recipient', 'sender key is the recipient key');
  return { ok: true };
}

const leafBuffer = new Uint8Array(64);

/** `receiptLeafHash` from the two hashes: keccak256(abi.encode(bytes32 ticketHash, bytes32 ackHash)). */
export function leafFromHashes(ticketHash: Uint8Array, ackHash: Uint8Array): Uint8Array {
  leafBuffer.set(ticketHash, 0);
  leafBuffer.set(ackHash, 32);
  return keccak(leafBuffer);
}
