/**
 * The reference client's stand-in for end-to-end encryption (out of scope here): a message is framed as
 * `uint32 length ‖ plaintext ‖ random padding` up to a whole number of KiB, then sealed with AES-256-GCM
 * (`iv ‖ tag ‖ ciphertext`) under a per-conversation key. Padding hides the exact length from the relay,
 * and the node only ever sees opaque, random-looking bytes. The default conversation key is derived from
 * the two public device keys, so it hides nothing from someone who knows them: it is a placeholder for a
 * real key agreement, not confidentiality.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SendnetError } from '../core/errors.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const LENGTH_BYTES = 4;
/** Sealing overhead: iv, tag and the length prefix. */
export const SEAL_OVERHEAD = IV_BYTES + TAG_BYTES + LENGTH_BYTES;
/** Largest ciphertext an envelope may carry (docs/keepers.md §2). */
export const MAX_CIPHERTEXT_BYTES = 64 * 1024;
export const MAX_PLAINTEXT_BYTES = MAX_CIPHERTEXT_BYTES - SEAL_OVERHEAD;
const BUCKET = 1024;

export class PayloadError extends SendnetError {
  override name = 'PayloadError';
  override readonly code = 'payload';
}

/** A placeholder conversation key: sha256 over the two device keys in ascending order. */
export function conversationKey(keyA: string, keyB: string): Buffer {
  const [first, second] = [keyA.toLowerCase(), keyB.toLowerCase()].sort();
  return createHash('sha256').update(`SN-DEV-CONVERSATION-1|${first}|${second}`).digest();
}

/** Pads and seals `plaintext`; the result's length is a multiple of 1 KiB (at least 1 KiB). */
export function seal(key: Uint8Array, plaintext: Uint8Array): Buffer {
  if (plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw new PayloadError(`message of ${plaintext.length} bytes exceeds the ${MAX_PLAINTEXT_BYTES}-byte limit`);
  }
  const total = Math.max(BUCKET, Math.ceil((plaintext.length + SEAL_OVERHEAD) / BUCKET) * BUCKET);
  const framed = Buffer.alloc(total - IV_BYTES - TAG_BYTES);
  framed.writeUInt32BE(plaintext.length, 0);
  framed.set(plaintext, LENGTH_BYTES);
  randomBytes(framed.length - LENGTH_BYTES - plaintext.length).copy(framed, LENGTH_BYTES + plaintext.length);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(framed), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** Opens what `seal` made; throws PayloadError if the bytes were not sealed under `key`. */
export function open(key: Uint8Array, sealed: Uint8Array): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new PayloadError(`sealed payload of ${sealed.length} bytes is too short`);
  const buffer = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const decipher = createDecipheriv('aes-256-gcm', key, buffer.subarray(0, IV_BYTES));
  decipher.setAuthTag(buffer.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  let framed: Buffer;
  try {
    framed = Buffer.concat([decipher.update(buffer.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PayloadError('payload does not authenticate under the conversation key');
  }
  const length = framed.readUInt32BE(0);
  if (length > framed.length - LENGTH_BYTES)
    throw new PayloadError(`payload length prefix ${length} exceeds the payload`);
  return framed.subarray(LENGTH_BYTES, LENGTH_BYTES + length);
}
