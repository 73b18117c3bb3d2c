/**
 * Validation of everything a user types (zod at the boundary): amounts, addresses, integers, URLs, keys.
 * Each parser returns the typed value or throws an `InputError` whose sentence names the option and the
 * offending value. Pure: no I/O.
 */
import { getAddress, parseUnits, zeroHash, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { hexPattern, hexString } from '../core/wire.js';
import { endpointBoundProblem, metadataBoundProblem } from '../core/chainBounds.js';
import { InputError } from './errors.js';

/** Runs `schema` on `value`; a failure becomes one sentence naming `what`. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new InputError(`${what} ${issue?.message ?? 'is invalid'}, got ${JSON.stringify(value)}.`);
}

const decimalAmount = z
  .string()
  .trim()
  .transform((s) => s.replace(/_/g, ''))
  .pipe(z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal number like 10000 or 12.5'));

export interface AmountOptions {
  /** Token decimals (SEND and ETH: 18). */
  decimals: number;
  /** Unit named in messages: SEND, ETH. */
  symbol: string;
  /** Accept zero (default: no). */
  allowZero?: boolean;
  /** Largest acceptable value in base units (e.g. 2^96-1 for uint96 amounts). */
  max?: bigint;
}

/** A decimal amount in whole tokens ("10000", "0.15", "10_000") → base units. */
export function parseAmount(value: string, what: string, options: AmountOptions): bigint {
  const text = parseWith(decimalAmount, value, what);
  const fraction = text.split('.')[1] ?? '';
  if (fraction.length > options.decimals) {
    throw new InputError(`${what} has more than ${options.decimals} decimals, got "${value}".`);
  }
  const amount = parseUnits(text, options.decimals);
  if (amount === 0n && !options.allowZero)
    throw new InputError(`${what} must be more than 0 ${options.symbol}, got "${value}".`);
  if (options.max !== undefined && amount > options.max) {
    throw new InputError(`${what} is too large, got "${value}" ${options.symbol}.`);
  }
  return amount;
}

export const UINT96_MAX = (1n << 96n) - 1n;

const addressSchema = z
  .string()
  .trim()
  .regex(hexPattern(20), 'must be a 0x-prefixed 20-byte hex address')
  .transform((s) => getAddress(s.toLowerCase()) as Address);

export function parseAddress(value: string, what: string): Address {
  return parseWith(addressSchema, value, what);
}

const hex32Schema = z
  .string()
  .trim()
  .regex(hexPattern(32), 'must be 32 bytes of 0x-prefixed hex (64 hex digits)')
  .transform((s) => s.toLowerCase() as Hex);

export function parseHex32(value: string, what: string): Hex {
  return parseWith(hex32Schema, value, what);
}

/** A non-negative integer (decimal) within [min, max]. */
export function parseInteger(value: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const schema = z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
  return parseWith(schema, value, what);
}

/** A token id (uint256, decimal). */
export function parseTokenId(value: string, what = 'the token id'): bigint {
  const text = parseWith(z.string().trim().regex(/^\d+$/, 'must be a whole number'), value, what);
  const id = BigInt(text);
  if (id >= 1n << 256n) throw new InputError(`${what} is too large, got "${value}".`);
  return id;
}

/** An absolute URL with one of `protocols` (e.g. ['http:', 'https:']). */
export function parseUrl(value: string, what: string, protocols: readonly string[]): string {
  const schema = z
    .string()
    .trim()
    .superRefine((s, ctx) => {
      if (!URL.canParse(s)) ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
      else if (!protocols.includes(new URL(s).protocol)) {
        ctx.addIssue({ code: 'custom', message: `must start with ${protocols.map((p) => `${p}//`).join(' or ')}` });
      }
    });
  return parseWith(schema, value, what);
}

/**
 * A node endpoint as NodeStaking will accept it and keepers, WatchDogs and clients can use it: an absolute
 * ws:// or wss:// URL of 1 to `MAX_ENDPOINT_BYTES` UTF-8 bytes (core/chainBounds.ts), returned as typed
 * (trimmed) — exactly the string that goes on-chain. The length sentence does not echo the value.
 */
export function parseNodeEndpoint(value: string, what: string): string {
  const problem = endpointBoundProblem(value.trim());
  if (problem) throw new InputError(`${what} ${problem}.`);
  return parseUrl(value, what, ['ws:', 'wss:']);
}

/** A node metadata URI of at most `MAX_METADATA_URI_BYTES` UTF-8 bytes (may be empty), as typed. */
export function parseNodeMetadata(value: string, what: string): string {
  const problem = metadataBoundProblem(value);
  if (problem) throw new InputError(`${what} ${problem}.`);
  return value;
}

/** One of `choices`, case-insensitive. */
export function parseChoice<T extends string>(value: string, what: string, choices: readonly T[]): T {
  const lower = value.trim().toLowerCase();
  const found = choices.find((c) => c === lower);
  if (!found) throw new InputError(`${what} must be one of ${choices.join(', ')}, got "${value}".`);
  return found;
}

const privateKeySchema = z
  .string()
  .trim()
  .transform((s) => (s.startsWith('0x') ? s : `0x${s}`))
  .pipe(hexString(32, 'must be a 32-byte hex private key (64 hex digits, 0x optional)'));

/** A secp256k1 private key in hex; the message never echoes the value. */
export function parsePrivateKey(value: string, what: string): Hex {
  const parsed = privateKeySchema.safeParse(value);
  if (!parsed.success)
    throw new InputError(`${what} is not a valid private key: it must be 64 hex digits (0x optional).`);
  const key = parsed.data.toLowerCase() as Hex;
  if (key === zeroHash) throw new InputError(`${what} is not a valid private key: it is zero.`);
  return key;
}
