/**
 * Relay receipts (docs/keepers.md §2): envelopes, sender tickets, delivery acks and receipts, their JSON
 * wire schemas, canonical hashes, Ed25519 device-key signatures (node:crypto) and the receipt checks that
 * need no chain. Key registration (a key Active for the DID it names) is checked against a
 * `KeyDirectory` the caller builds from the epoch's dataset snapshot (`checkReceiptKeys`).
 *
 *   ticketHash = keccak256(abi.encode("SN-TICKET-1", bytes32 envelopeId, address node, uint32 epoch,
 *                                     uint32 units, bytes32 recipientKey, bytes32 senderKey, uint256 senderDid))
 *   ackHash    = keccak256(abi.encode("SN-ACK-1", bytes32 ticketHash, bytes32 recipientKey, uint256 recipientDid))
 *   leafHash   = keccak256(abi.encode(bytes32 ticketHash, bytes32 ackHash))      weight = ticket.units
 *
 * Pure: no I/O.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { bytesToHex, hexToBytes, type Address, type Hex } from 'viem';
import { keccak } from './merkle.js';
import { SendnetError } from './errors.js';
import {
  ackSchema,
  describeZodError,
  hex32,
  receiptSchema,
  ticketSchema,
  unsignedAckSchema,
  unsignedTicketSchema,
} from './wire.js';

/** Largest decoded ciphertext of an envelope, bytes. */
export const MAX_CIPHERTEXT_BYTES = 64 * 1024;
/** Bytes per size unit. */
export const UNIT_BYTES = 1024;
/** Largest `units` a ticket can carry (a full 64 KiB envelope). */
export const MAX_TICKET_UNITS = MAX_CIPHERTEXT_BYTES / UNIT_BYTES;

export class RelayFormatError extends SendnetError {
  override name = 'RelayFormatError';
  override readonly code = 'relay-format';
}
export class DeviceKeyMismatchError extends SendnetError {
  override name = 'DeviceKeyMismatchError';
  override readonly code = 'device-key-mismatch';
}

// ------------------------------------------------------------------------------------------- schemas

// The ticket, ack and receipt are described once, in the wire vocabulary.
export { ackSchema, receiptSchema, ticketSchema, unsignedAckSchema, unsignedTicketSchema };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_BASE64_CHARS = 4 * Math.ceil(MAX_CIPHERTEXT_BYTES / 3);

export const envelopeSchema = z.object({
  id: hex32,
  to: hex32,
  ciphertext: z
    .string()
    .max(MAX_BASE64_CHARS, `ciphertext larger than ${MAX_CIPHERTEXT_BYTES} bytes`)
    .regex(BASE64, 'ciphertext is not padded base64')
    .refine(
      (b64) => base64DecodedLength(b64) <= MAX_CIPHERTEXT_BYTES,
      `ciphertext larger than ${MAX_CIPHERTEXT_BYTES} bytes`,
    ),
  ticket: ticketSchema,
});

export type UnsignedTicket = z.infer<typeof unsignedTicketSchema>;
export type Ticket = z.infer<typeof ticketSchema>;
export type UnsignedAck = z.infer<typeof unsignedAckSchema>;
export type Ack = z.infer<typeof ackSchema>;
export type Receipt = z.infer<typeof receiptSchema>;
export type Envelope = z.infer<typeof envelopeSchema>;

function parseOrThrow<T>(schema: z.ZodType<T>, what: string, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RelayFormatError(`malformed ${what}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

export const parseTicket = (value: unknown): Ticket => parseOrThrow(ticketSchema, 'ticket', value);
export const parseAck = (value: unknown): Ack => parseOrThrow(ackSchema, 'ack', value);
export const parseReceipt = (value: unknown): Receipt => parseOrThrow(receiptSchema, 'receipt', value);
export const parseEnvelope = (value: unknown): Envelope => parseOrThrow(envelopeSchema, 'envelope', value);

// ------------------------------------------------------------------------------------------- hashes

/** Decoded length of a padded base64 string (no decoding). */
export function base64DecodedLength(b64: string): number {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return (b64.length / 4) * 3 - padding;
}

/** Size units of a ciphertext: max(1, ceil(bytes / 1024)). */
export function sizeUnits(ciphertextBytes: number): number {
  if (!Number.isInteger(ciphertextBytes) || ciphertextBytes < 0) {
    throw new RangeError(`ciphertext size must be a non-negative integer, got ${ciphertextBytes}`);
  }
  return Math.max(1, Math.ceil(ciphertextBytes / UNIT_BYTES));
}

/*
 * The hash preimages are `abi.encode(string tag, …static fields)`, written straight into a buffer: the
 * tag is a constant, so its offset word and padded tail are too. Same bytes as viem's
 * `encodeAbiParameters` (tested against ethers), about 30x cheaper — the keeper and every guardian hash
 * every opened receipt several times.
 */
function abiTagTail(tag: string): Buffer {
  const bytes = Buffer.from(tag, 'utf8');
  const tail = Buffer.alloc(32 + Math.ceil(bytes.length / 32) * 32);
  tail.writeUInt32BE(bytes.length, 28);
  bytes.copy(tail, 32);
  return tail;
}
const TICKET_TAIL = abiTagTail('SN-TICKET-1');
const ACK_TAIL = abiTagTail('SN-ACK-1');
const TICKET_HEAD_WORDS = 8;
const ACK_HEAD_WORDS = 4;
const UINT256_LIMIT = 1n << 256n;

function putHex(buffer: Buffer, offset: number, hex: string, bytes: number, what: string): void {
  // Buffer.write stops at the first non-hex character, so a full write means valid hex of that length.
  if (hex.length !== 2 + 2 * bytes || buffer.write(hex.slice(2), offset + 32 - bytes, bytes, 'hex') !== bytes) {
    throw new RelayFormatError(`${what}: not ${bytes} bytes of hex: ${hex}`);
  }
}

function putUint(buffer: Buffer, offset: number, value: bigint | number, what: string): void {
  const v = BigInt(value);
  if (v < 0n || v >= UINT256_LIMIT) throw new RelayFormatError(`${what}: out of uint256 range: ${value}`);
  buffer.write(v.toString(16).padStart(64, '0'), offset, 32, 'hex');
}

/** keccak256 of the ticket's abi-encoded fields (its `sig` is ignored). */
export function ticketHashBytes(t: UnsignedTicket): Uint8Array {
  const buffer = Buffer.alloc(TICKET_HEAD_WORDS * 32 + TICKET_TAIL.length);
  buffer.writeUInt32BE(TICKET_HEAD_WORDS * 32, 28);
  putHex(buffer, 32, t.envelopeId, 32, 'ticket.envelopeId');
  putHex(buffer, 64, t.node, 20, 'ticket.node');
  putUint(buffer, 96, t.epoch, 'ticket.epoch');
  putUint(buffer, 128, t.units, 'ticket.units');
  putHex(buffer, 160, t.recipientKey, 32, 'ticket.recipientKey');
  putHex(buffer, 192, t.senderKey, 32, 'ticket.senderKey');
  putUint(buffer, 224, BigInt(t.senderDid), 'ticket.senderDid');
  TICKET_TAIL.copy(buffer, TICKET_HEAD_WORDS * 32);
  return keccak(buffer);
}

export function ticketHash(t: UnsignedTicket): Hex {
  return bytesToHex(ticketHashBytes(t));
}

/** keccak256 of the ack's abi-encoded fields (its `sig` is ignored). */
export function ackHashBytes(a: UnsignedAck): Uint8Array {
  const buffer = Buffer.alloc(ACK_HEAD_WORDS * 32 + ACK_TAIL.length);
  buffer.writeUInt32BE(ACK_HEAD_WORDS * 32, 28);
  putHex(buffer, 32, a.ticketHash, 32, 'ack.ticketHash');
  putHex(buffer, 64, a.recipientKey, 32, 'ack.recipientKey');
  putUint(buffer, 96, BigInt(a.recipientDid), 'ack.recipientDid');
  ACK_TAIL.copy(buffer, ACK_HEAD_WORDS * 32);
  return keccak(buffer);
}

export function ackHash(a: UnsignedAck): Hex {
  return bytesToHex(ackHashBytes(a));
}

/** Leaf of the Merkle-sum tree: keccak256(abi.encode(bytes32 ticketHash, bytes32 ackHash)). */
export function receiptLeafHash(r: { ticket: UnsignedTicket; ack: UnsignedAck }): Hex {
  return receiptLeafFromHashes(ticketHashBytes(r.ticket), ackHashBytes(r.ack));
}

/** `receiptLeafHash` from the ticket and ack hashes (for callers that need the hashes anyway). */
export function receiptLeafFromHashes(ticketHash: Uint8Array, ackHash: Uint8Array): Hex {
  const buffer = new Uint8Array(64);
  buffer.set(ticketHash, 0);
  buffer.set(ackHash, 32);
  return bytesToHex(keccak(buffer));
}

// ------------------------------------------------------------------------------------------- Ed25519

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A client device key. `seed` is the 32-byte Ed25519 private seed, `publicKey` the raw 32-byte key. */
export interface DeviceKey {
  publicKey: Hex;
  privateKey: KeyObject;
  seed: Hex;
}

/** What can sign as a device: the key pair, a private KeyObject, or the 32-byte seed as hex. */
export type DeviceSigningKey = DeviceKey | KeyObject | Hex;

export function generateDeviceKey(): DeviceKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return deviceKeyFromPrivateKey(privateKey);
}

export function deviceKeyFromSeed(seed: Hex): DeviceKey {
  const bytes = hexToBytes(seed);
  if (bytes.length !== 32) throw new RangeError(`an Ed25519 seed is 32 bytes, got ${bytes.length}`);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, bytes]),
    format: 'der',
    type: 'pkcs8',
  });
  return deviceKeyFromPrivateKey(privateKey);
}

function deviceKeyFromPrivateKey(privateKey: KeyObject): DeviceKey {
  if (privateKey.asymmetricKeyType !== 'ed25519' || privateKey.type !== 'private') {
    throw new DeviceKeyMismatchError(
      `expected an Ed25519 private key, got ${privateKey.asymmetricKeyType} ${privateKey.type}`,
    );
  }
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return {
    publicKey: bytesToHex(spki.subarray(spki.length - 32)),
    privateKey,
    seed: bytesToHex(pkcs8.subarray(pkcs8.length - 32)),
  };
}

function toDeviceKey(key: DeviceSigningKey): DeviceKey {
  if (typeof key === 'string') return deviceKeyFromSeed(key);
  if ('seed' in key && 'publicKey' in key) return key as DeviceKey;
  return deviceKeyFromPrivateKey(key as KeyObject);
}

/** node:crypto public key object for a raw 32-byte Ed25519 key (wrapped as SPKI DER). */
export function ed25519PublicKey(raw: Hex | Uint8Array): KeyObject {
  const bytes = typeof raw === 'string' ? hexToBytes(raw) : raw;
  if (bytes.length !== 32) throw new RangeError(`an Ed25519 public key is 32 bytes, got ${bytes.length}`);
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, bytes]), format: 'der', type: 'spki' });
}

/** Ed25519 signature (64 bytes, hex) over `message` with a device key. */
export function ed25519Sign(message: Uint8Array, key: DeviceSigningKey): Hex {
  return bytesToHex(sign(null, message, toDeviceKey(key).privateKey));
}

/**
 * Parsed public keys by hex: building a KeyObject (DER wrap + parse) costs about as much as a verify, and
 * the same device keys sign again and again. Bounded: cleared when full.
 */
const publicKeyCache = new Map<string, KeyObject>();
const PUBLIC_KEY_CACHE_LIMIT = 100_000;

function cachedPublicKey(publicKey: Hex): KeyObject {
  const id = publicKey.toLowerCase();
  let key = publicKeyCache.get(id);
  if (!key) {
    key = ed25519PublicKey(publicKey);
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_LIMIT) publicKeyCache.clear();
    publicKeyCache.set(id, key);
  }
  return key;
}

/** True when `signature` is a valid Ed25519 signature of `message` by the raw `publicKey`; never throws. */
export function ed25519Verify(publicKey: Hex, message: Uint8Array, signature: Hex): boolean {
  try {
    const sig = Buffer.from(signature.slice(2), 'hex');
    if (sig.length !== 64 || signature.length !== 130) return false;
    return verify(null, message, cachedPublicKey(publicKey), sig);
  } catch {
    return false;
  }
}

/** Signs a ticket with the sender's device key; throws if the key is not `senderKey`. */
export function signTicket(fields: UnsignedTicket, key: DeviceSigningKey): Ticket {
  const t = parseOrThrow(unsignedTicketSchema, 'ticket', fields);
  const device = toDeviceKey(key);
  if (device.publicKey !== t.senderKey) {
    throw new DeviceKeyMismatchError(`signing key ${device.publicKey} is not the ticket's senderKey ${t.senderKey}`);
  }
  return { ...t, sig: ed25519Sign(ticketHashBytes(t), device) };
}

/** Signs an ack with the recipient's device key; throws if the key is not `recipientKey`. */
export function signAck(fields: UnsignedAck, key: DeviceSigningKey): Ack {
  const a = parseOrThrow(unsignedAckSchema, 'ack', fields);
  const device = toDeviceKey(key);
  if (device.publicKey !== a.recipientKey) {
    throw new DeviceKeyMismatchError(`signing key ${device.publicKey} is not the ack's recipientKey ${a.recipientKey}`);
  }
  return { ...a, sig: ed25519Sign(ackHashBytes(a), device) };
}

/** The recipient's ack of `ticket`. */
export function ackTicket(ticket: UnsignedTicket, recipientDid: string, key: DeviceSigningKey): Ack {
  return signAck({ ticketHash: ticketHash(ticket), recipientKey: ticket.recipientKey, recipientDid }, key);
}

export function verifyTicketSignature(t: Ticket): boolean {
  return ed25519Verify(t.senderKey, ticketHashBytes(t), t.sig);
}

export function verifyAckSignature(a: Ack): boolean {
  return ed25519Verify(a.recipientKey, ackHashBytes(a), a.sig);
}

// ------------------------------------------------------------------------------------------- checks

export type CheckResult<R extends string> = { ok: true } | { ok: false; reason: R; detail: string };

export const RECEIPT_REJECTIONS = [
  'wrong-node',
  'wrong-epoch',
  'bad-units',
  'ack-ticket-mismatch',
  'recipient-key-mismatch',
  'sender-is-recipient',
  'bad-ticket-signature',
  'bad-ack-signature',
] as const;
export type ReceiptRejection = (typeof RECEIPT_REJECTIONS)[number];

const fail = <R extends string>(reason: R, detail: string): CheckResult<R> => ({ ok: false, reason, detail });

/**
 * Everything in docs/keepers.md §3 about a receipt that needs no chain: the ticket names `node` and
 * `epoch`, 1 ≤ units ≤ 64, the ack binds this ticket and its recipient key, sender ≠ recipient (neither
 * the same key nor the same DID), and both Ed25519 signatures. Key registration: `checkReceiptKeys`.
 */
export function checkReceipt(
  receipt: Receipt,
  expected: { node: Address; epoch: number },
  /** `ticketHashBytes(receipt.ticket)` and `ackHashBytes(receipt.ack)` when the caller has them already. */
  hashes?: { ticketHash: Uint8Array; ackHash: Uint8Array },
): CheckResult<ReceiptRejection> {
  const { ticket, ack } = receipt;
  if (ticket.node.toLowerCase() !== expected.node.toLowerCase()) {
    return fail('wrong-node', `ticket names node ${ticket.node}, expected ${expected.node}`);
  }
  if (ticket.epoch !== expected.epoch)
    return fail('wrong-epoch', `ticket names epoch ${ticket.epoch}, expected ${expected.epoch}`);
  if (!Number.isInteger(ticket.units) || ticket.units < 1 || ticket.units > MAX_TICKET_UNITS) {
    return fail('bad-units', `ticket units ${ticket.units} outside 1..${MAX_TICKET_UNITS}`);
  }
  const th = hashes?.ticketHash ?? ticketHashBytes(ticket);
  if (ack.ticketHash.toLowerCase() !== bytesToHex(th)) {
    return fail('ack-ticket-mismatch', `ack is for ticket ${ack.ticketHash}, not ${bytesToHex(th)}`);
  }
  if (ack.recipientKey.toLowerCase() !== ticket.recipientKey.toLowerCase()) {
    return fail(
      'recipient-key-mismatch',
      `ack signed by ${ack.recipientKey}, ticket addressed to ${ticket.recipientKey}`,
    );
  }
  if (ticket.senderKey.toLowerCase() === ticket.recipientKey.toLowerCase() || ticket.senderDid === ack.recipientDid) {
    return fail('sender-is-recipient', `sender ${ticket.senderKey} (DID ${ticket.senderDid}) is the recipient`);
  }
  if (!ed25519Verify(ticket.senderKey, th, ticket.sig))
    return fail('bad-ticket-signature', 'ticket signature does not verify');
  if (!ed25519Verify(ack.recipientKey, hashes?.ackHash ?? ackHashBytes(ack), ack.sig))
    return fail('bad-ack-signature', 'ack signature does not verify');
  return { ok: true };
}

/** Device-key registrations as of the epoch's dataset snapshot (built by the caller from DidRegistry). */
export interface KeyDirectory {
  /** `undefined` when the key was never registered. */
  statusOf(key: Hex): { active: boolean; did: bigint } | undefined;
}

export type KeyRejection =
  | 'sender-key-not-active'
  | 'recipient-key-not-active'
  | 'sender-did-mismatch'
  | 'recipient-did-mismatch';

/** Both keys Active for the DIDs the ticket and ack name. */
export function checkReceiptKeys(receipt: Receipt, keys: KeyDirectory): CheckResult<KeyRejection> {
  const sides = [
    { key: receipt.ticket.senderKey, did: receipt.ticket.senderDid, side: 'sender' },
    { key: receipt.ack.recipientKey, did: receipt.ack.recipientDid, side: 'recipient' },
  ] as const;
  for (const { key, did, side } of sides) {
    const status = keys.statusOf(key.toLowerCase() as Hex);
    if (!status?.active) return fail(`${side}-key-not-active`, `${side} key ${key} is not Active`);
    if (status.did !== BigInt(did))
      return fail(`${side}-did-mismatch`, `${side} key ${key} belongs to DID ${status.did}, not ${did}`);
  }
  return { ok: true };
}

export type EnvelopeRejection =
  | 'ticket-envelope-mismatch'
  | 'ticket-recipient-mismatch'
  | 'units-mismatch'
  | 'wrong-node'
  | 'wrong-epoch'
  | 'sender-is-recipient'
  | 'bad-ticket-signature';

/**
 * What a relay node checks before accepting an envelope: the ticket is for this envelope and recipient,
 * its units match the ciphertext size, it names this node (and `epoch` if given), and the sender signed it.
 */
export function checkEnvelope(
  envelope: Envelope,
  expected: { node: Address; epoch?: number },
): CheckResult<EnvelopeRejection> {
  const { ticket } = envelope;
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (!same(ticket.envelopeId, envelope.id))
    return fail('ticket-envelope-mismatch', `ticket is for envelope ${ticket.envelopeId}, not ${envelope.id}`);
  if (!same(ticket.recipientKey, envelope.to))
    return fail('ticket-recipient-mismatch', `ticket is for ${ticket.recipientKey}, envelope to ${envelope.to}`);
  const units = sizeUnits(base64DecodedLength(envelope.ciphertext));
  if (ticket.units !== units)
    return fail('units-mismatch', `ticket claims ${ticket.units} units, ciphertext is ${units}`);
  if (!same(ticket.node, expected.node))
    return fail('wrong-node', `ticket names node ${ticket.node}, this is ${expected.node}`);
  if (expected.epoch !== undefined && ticket.epoch !== expected.epoch) {
    return fail('wrong-epoch', `ticket names epoch ${ticket.epoch}, current is ${expected.epoch}`);
  }
  if (same(ticket.senderKey, ticket.recipientKey))
    return fail('sender-is-recipient', 'sender key is the recipient key');
  if (!verifyTicketSignature(ticket)) return fail('bad-ticket-signature', 'ticket signature does not verify');
  return { ok: true };
}
