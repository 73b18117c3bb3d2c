/**
 * WebSocket frames between a client and an edge node (JSON text frames, at most MAX_FRAME_BYTES):
 *
 *   node → client  { type: 'challenge', nonce, node, epoch }             on connect and on `hello`
 *   client → node  { type: 'hello' }                                      asks for a fresh challenge
 *   client → node  { type: 'login', key, did, sig }                       sig = Ed25519(key, loginHash)
 *   node → client  { type: 'welcome', key, did, node, epoch, pending }   then every stored envelope for key
 *   client → node  { type: 'send', envelope }                             docs/keepers.md §2
 *   node → client  { type: 'accepted', id, epoch }                        envelope stored (and forwarded)
 *   node → client  { type: 'deliver', envelope }                          to each connection of the recipient
 *   client → node  { type: 'ack', ack }                                   docs/keepers.md §2
 *   node → client  { type: 'acked', ticketHash, paid }                    receipt stored (paid: counts in its epoch)
 *   node → client  { type: 'epoch', epoch }                               when the epoch changes
 *   node → client  { type: 'error', reason, message, ref? }               ref = envelope id / ticket hash if known
 *
 * Every client frame is validated with zod; the error `reason` names the check that failed.
 */
import { z } from 'zod';
import { ackSchema, envelopeSchema } from './relay.js';
import { decimalUint256, ed25519Signature, hex32 } from './wire.js';
import { SendnetError } from './errors.js';

/** Largest frame a node answers (a 64 KiB envelope is ~89 KB of JSON). */
export const MAX_FRAME_BYTES = 96 * 1024;

export const loginFrameSchema = z.object({
  type: z.literal('login'),
  key: hex32,
  did: decimalUint256,
  sig: ed25519Signature,
});
export const sendFrameSchema = z.object({ type: z.literal('send'), envelope: envelopeSchema });
export const ackFrameSchema = z.object({ type: z.literal('ack'), ack: ackSchema });
export const helloFrameSchema = z.object({ type: z.literal('hello') });

export const clientFrameSchema = z.discriminatedUnion('type', [
  helloFrameSchema,
  loginFrameSchema,
  sendFrameSchema,
  ackFrameSchema,
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** Node → client frames, validated by the client. */
export const nodeFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('challenge'), nonce: hex32, node: z.string(), epoch: z.number().int().nonnegative() }),
  z.object({
    type: z.literal('welcome'),
    key: hex32,
    did: decimalUint256,
    node: z.string(),
    epoch: z.number().int().nonnegative(),
    pending: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('accepted'), id: hex32, epoch: z.number().int().nonnegative() }),
  z.object({ type: z.literal('deliver'), envelope: envelopeSchema }),
  z.object({ type: z.literal('acked'), ticketHash: hex32, paid: z.boolean() }),
  z.object({ type: z.literal('epoch'), epoch: z.number().int().nonnegative() }),
  z.object({ type: z.literal('error'), reason: z.string(), message: z.string(), ref: z.string().optional() }),
]);
export type NodeFrame = z.infer<typeof nodeFrameSchema>;

/** Reasons a node rejects a frame (also the `reason` label of the rejects metric). */
export const FRAME_REJECTIONS = [
  'frame-too-large',
  'binary-frame',
  'bad-json',
  'invalid-frame',
  'not-logged-in',
  'already-logged-in',
  'bad-login-signature',
  'key-not-registered',
  'sender-not-logged-in-key',
  'ticket-envelope-mismatch',
  'ticket-recipient-mismatch',
  'units-mismatch',
  'wrong-node',
  'wrong-epoch',
  'sender-is-recipient',
  'bad-ticket-signature',
  'replayed-envelope',
  'ack-unknown-ticket',
  'ack-wrong-key',
  'ack-wrong-did',
  'bad-ack-signature',
  'duplicate-ack',
  'node-busy',
] as const;
export type FrameRejection = (typeof FRAME_REJECTIONS)[number];

export class FrameRejected extends SendnetError {
  override name = 'FrameRejected';
  override readonly code = 'frame-rejected';
  constructor(
    readonly reason: FrameRejection,
    message: string,
    readonly ref?: string,
  ) {
    super(message);
  }
}
