/**
 * The wire vocabulary (docs/keepers.md §1): the zod schemas every JSON wire format, stored file and input
 * of the suite derives from — `0x` hex, addresses, 32-byte values, signatures, private keys, decimal
 * strings for uint256 values (DIDs, token ids, unit sums), small integers and Unix times as JSON numbers —
 * the relay ticket, ack and receipt (§2), and `describeZodError`, the one formatter of a validation error.
 * Pure: no I/O.
 *
 * Hex comes in two dialects, and each schema keeps the one its format needs:
 * - normalising (`hex32`, `address`, `secpSignature`, `ed25519Signature`, `privateKey`): any hex case is
 *   accepted and lowercased, so a parsed message is canonical; errors read "not …";
 * - canonical (`bytes32Wire`, `addressWire`, `ecdsaSignatureWire`, `ed25519SignatureWire`, `uintString`):
 *   lowercase is required and nothing is transformed, so a parsed document is byte-for-byte the one that
 *   was hashed (the epoch dataset, core/datasetSchema.ts); errors read "must be …".
 */
import { z } from 'zod';
import type { Address, Hex } from 'viem';

const UINT256_LIMIT = 1n << 256n;

// ---------------------------------------------------------------------------------------------- hex

/** Regular-expression source (no anchors) of `0x` + `bytes` bytes of hex (any length when omitted). */
export function hexSource(bytes?: number, options: { lowercase?: boolean } = {}): string {
  const digit = options.lowercase ? '[0-9a-f]' : '[0-9a-fA-F]';
  return `0x${digit}${bytes === undefined ? '*' : `{${2 * bytes}}`}`;
}

/** Anchored pattern: the whole string is `0x` + `bytes` bytes of hex (any length when omitted). */
export function hexPattern(bytes?: number, options: { lowercase?: boolean } = {}): RegExp {
  return new RegExp(`^${hexSource(bytes, options)}$`);
}

/** A `0x` hex string of `bytes` bytes (any length when undefined), kept as given; `message` on mismatch. */
export function hexString(bytes: number | undefined, message: string, options: { lowercase?: boolean } = {}) {
  return z.string().regex(hexPattern(bytes, options), message);
}

const HEX = hexPattern();
const HEX32 = hexPattern(32);
const LOWER_HEX32 = hexPattern(32, { lowercase: true });
const toLower = <T extends string>(value: string) => value.toLowerCase() as T;

/** `0x` hex of any length (any case). */
export const isHex = (value: string): value is Hex => HEX.test(value);
/** 32 bytes of `0x` hex, any case. */
export const isHex32 = (value: string): value is Hex => HEX32.test(value);
/** 32 bytes of lowercase `0x` hex (a canonical hash). */
export const isLowerHex32 = (value: string): value is Hex => LOWER_HEX32.test(value);

/** Lowercases every `0x…` hex string in a JSON value, recursively (other values unchanged): what an untrusted peer sent, made ready for the canonical schemas. */
export function lowerHex(value: unknown, depth = 0): unknown {
  if (depth > 32) return value;
  if (typeof value === 'string') return isHex(value) ? value.toLowerCase() : value;
  if (Array.isArray(value)) return value.map((v) => lowerHex(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = lowerHex(v, depth + 1);
    return out;
  }
  return value;
}

// ----------------------------------------------------------------------------- normalising dialect

/** A 20-byte address in any case, kept as given (for hot paths that lowercase later). */
export const hexAddress = hexString(20, 'not a 20-byte 0x-prefixed hex address') as unknown as z.ZodType<
  Address,
  string
>;

/** 32 bytes, `0x` + 64 hex digits, normalised to lowercase. */
export const hex32 = hexString(32, 'not 32 bytes of 0x-prefixed hex').transform(toLower<Hex>);

/** A 20-byte address, normalised to lowercase (not checksummed: that costs a keccak per address). */
export const address = hexString(20, 'not a 20-byte 0x-prefixed hex address').transform(toLower<Address>);

/** A 65-byte secp256k1 signature (r ‖ s ‖ v), lowercase hex. */
export const secpSignature = hexString(65, 'not a 65-byte 0x-prefixed hex signature').transform(toLower<Hex>);

/** A 64-byte Ed25519 signature, lowercase hex. */
export const ed25519Signature = hexString(64, 'not a 64-byte 0x-prefixed hex Ed25519 signature').transform(
  toLower<Hex>,
);

/** A 32-byte private key (secp256k1 key or Ed25519 seed), `0x` + 64 hex digits, normalised to lowercase. */
export const privateKey = hexString(32, 'not a 32-byte 0x-prefixed hex private key').transform(toLower<Hex>);

const CANONICAL_DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/** A decimal integer without sign or leading zeros, at most 78 digits (the regex of the decimal schemas). */
export const isCanonicalDecimal = (value: string): boolean => CANONICAL_DECIMAL.test(value);

/** A uint256 as a canonical decimal string (no sign, no leading zeros); stays a string. */
export const decimalUint256 = z
  .string()
  .regex(CANONICAL_DECIMAL, 'not a canonical decimal integer')
  // zod runs refinements after a failed regex too: never hand BigInt a non-decimal string (it throws).
  .refine((value) => !CANONICAL_DECIMAL.test(value) || BigInt(value) < UINT256_LIMIT, 'does not fit in uint256');

/** A decimal string parsed into a bigint below 2^bits. */
export function decimalBigint(bits: number) {
  const limit = 1n << BigInt(bits);
  return z
    .string()
    .regex(CANONICAL_DECIMAL, 'not a canonical decimal integer')
    .transform((value) => BigInt(value))
    .refine((value) => value < limit, `does not fit in uint${bits}`);
}

// ------------------------------------------------------------------------------- canonical dialect

/** Decimal string of an unsigned integer below 2^bits (no sign, no leading zeros); stays a string. */
export const uintString = (bits: number) =>
  z
    .string()
    .regex(CANONICAL_DECIMAL, 'must be a decimal string without leading zeros')
    .refine((s) => !CANONICAL_DECIMAL.test(s) || BigInt(s) < 1n << BigInt(bits), `must fit in uint${bits}`);

export const addressWire = hexString(20, 'must be a lowercase 0x-prefixed 20-byte hex address', { lowercase: true });
export const bytes32Wire = hexString(32, 'must be a lowercase 0x-prefixed 32-byte hex value', { lowercase: true });
/** secp256k1 signature, 65 bytes r‖s‖v. */
export const ecdsaSignatureWire = hexString(65, 'must be a lowercase 65-byte hex signature', { lowercase: true });
/** Ed25519 signature, 64 bytes. */
export const ed25519SignatureWire = hexString(64, 'must be a lowercase 64-byte hex signature', { lowercase: true });

// ------------------------------------------------------------------------------------------ numbers

/** A JSON number that is an integer in [0, 2^32). */
export const uint32 = z.number().int().min(0).max(0xffffffff);
/** A block number. */
export const blockNumber = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A Unix time in seconds. */
export const unixSeconds = z
  .number()
  .int()
  .min(0)
  .max(2 ** 40);
/** A Unix time in milliseconds. */
export const unixMillis = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Throws a RangeError naming `what` unless `value` is a uint32. */
export function assertUint32(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} must be a uint32, got ${value}`);
  }
}

// --------------------------------------------------------------------------- ticket, ack, receipt (§2)

/** A sender ticket's fields in a dialect (its `sig` signs their hash, core/relay.ts). */
const ticketFields = <B extends z.ZodType, A extends z.ZodType, U extends z.ZodType>(
  bytes32: B,
  address: A,
  uint256: U,
) => ({
  envelopeId: bytes32,
  node: address,
  epoch: uint32,
  units: uint32,
  recipientKey: bytes32,
  senderKey: bytes32,
  senderDid: uint256,
});
/** A delivery ack's fields in a dialect (its `sig` signs their hash, core/relay.ts). */
const ackFields = <B extends z.ZodType, U extends z.ZodType>(bytes32: B, uint256: U) => ({
  ticketHash: bytes32,
  recipientKey: bytes32,
  recipientDid: uint256,
});

/** Relay messages (normalising: any hex case in, lowercase out; unknown keys dropped). */
export const unsignedTicketSchema = z.object(ticketFields(hex32, address, decimalUint256));
export const ticketSchema = unsignedTicketSchema.extend({ sig: ed25519Signature });
export const unsignedAckSchema = z.object(ackFields(hex32, decimalUint256));
export const ackSchema = unsignedAckSchema.extend({ sig: ed25519Signature });
export const receiptSchema = z.object({ ticket: ticketSchema, ack: ackSchema });

/** The same in canonical form (lowercase required, nothing transformed, no unknown keys): the epoch dataset's. */
export const ticketWire = z.strictObject({
  ...ticketFields(bytes32Wire, addressWire, uintString(256)),
  sig: ed25519SignatureWire,
});
export const ackWire = z.strictObject({ ...ackFields(bytes32Wire, uintString(256)), sig: ed25519SignatureWire });
export const receiptWire = z.strictObject({ ticket: ticketWire, ack: ackWire });

// ------------------------------------------------------------------------------------------- errors

/** How `describeZodError` words an error. */
export interface ZodErrorFormat {
  /** Names the value itself when the issue has no path (default `(root)`). */
  root?: string;
  /** Between the path and the message (default `: `). */
  separator?: string;
  /** Append ` (+N more)` when there are further issues. */
  countMore?: boolean;
}

/**
 * The first issue of a validation error as `path: message`, the path written `nodes[1].stake` (array
 * indices in brackets), so the message names the offending field.
 */
export function describeZodError(
  error: { readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[] },
  format: ZodErrorFormat = {},
): string {
  const issue = error.issues[0]!;
  if (!issue) return `${format.root ?? '(root)'}${format.separator ?? ': '}is invalid`;
  let path = '';
  for (const p of issue.path) path += typeof p === 'number' ? `[${p}]` : path === '' ? String(p) : `.${String(p)}`;
  const more = format.countMore && error.issues.length > 1 ? ` (+${error.issues.length - 1} more)` : '';
  return `${path || (format.root ?? '(root)')}${format.separator ?? ': '}${issue.message}${more}`;
}
