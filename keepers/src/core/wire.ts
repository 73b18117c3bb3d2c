/**
 * Zod primitives of the JSON wire formats (docs/keepers.md §1): lowercase `0x` hex, addresses, decimal
 * strings for uint256 values (DIDs, token ids, unit sums), and small fixed-width integers as JSON numbers.
 * Inputs in any hex case are accepted and normalised to lowercase, so a parsed document is canonical.
 * Pure: no I/O.
 */
import { z } from 'zod';
import type { Address, Hex } from 'viem';

const UINT256_LIMIT = 1n << 256n;

/** 32 bytes, `0x` + 64 hex digits, normalised to lowercase. */
export const hex32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'not 32 bytes of 0x-prefixed hex')
  .transform((value) => value.toLowerCase() as Hex);

/** A 20-byte address, normalised to lowercase (not checksummed: that costs a keccak per address). */
export const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'not a 20-byte 0x-prefixed hex address')
  .transform((value) => value.toLowerCase() as Address);

/** A 65-byte secp256k1 signature (r ‖ s ‖ v), lowercase hex. */
export const secpSignature = z
  .string()
  .regex(/^0x[0-9a-fA-F]{130}$/, 'not a 65-byte 0x-prefixed hex signature')
  .transform((value) => value.toLowerCase() as Hex);

/** A 64-byte Ed25519 signature, lowercase hex. */
export const ed25519Signature = z
  .string()
  .regex(/^0x[0-9a-fA-F]{128}$/, 'not a 64-byte 0x-prefixed hex Ed25519 signature')
  .transform((value) => value.toLowerCase() as Hex);

const CANONICAL_DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

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
    .regex(/^(0|[1-9][0-9]{0,77})$/, 'not a canonical decimal integer')
    .transform((value) => BigInt(value))
    .refine((value) => value < limit, `does not fit in uint${bits}`);
}

/** A JSON number that is an integer in [0, 2^32). */
export const uint32 = z.number().int().min(0).max(0xffffffff);

export function isHex32(value: string): value is Hex {
  return /^0x[0-9a-fA-F]{64}$/.test(value);
}

/** Throws a RangeError naming `what` unless `value` is a uint32. */
export function assertUint32(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} must be a uint32, got ${value}`);
  }
}

/** First zod issue as `path: message`, for error messages that name the field. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}
