/**
 * Canonical JSON: object keys sorted (UTF-16 code unit order, as `Array.prototype.sort`), no whitespace,
 * keys whose value is `undefined` omitted, arrays kept in order. Only JSON values are accepted: strings,
 * finite numbers, booleans, null, arrays and plain objects. Bigints are not JSON; the wire formats carry
 * them as decimal strings. Pure.
 */
import { bytesToHex, type Hex } from 'viem';
import { keccak } from './merkle.js';
import { SendnetError } from './errors.js';

export class CanonicalJsonError extends SendnetError {
  override name = 'CanonicalJsonError';
  override readonly code = 'canonical-json';
}

function write(value: unknown, path: string, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path}: ${value} is not a finite number`);
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object': {
      if (value === null) {
        out.push('null');
        return;
      }
      if (Array.isArray(value)) {
        out.push('[');
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(',');
          write(value[i], `${path}[${i}]`, out);
        }
        out.push(']');
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError(`${path}: ${proto?.constructor?.name ?? 'object'} is not a plain JSON object`);
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      out.push('{');
      keys.forEach((k, i) => {
        if (i > 0) out.push(',');
        out.push(JSON.stringify(k), ':');
        write(record[k], `${path}.${k}`, out);
      });
      out.push('}');
      return;
    }
    default:
      throw new CanonicalJsonError(`${path}: a ${typeof value} is not a JSON value`);
  }
}

/** Reference implementation (slow, path-naming errors): the canonical JSON text of `value`. */
export function canonicalJsonReference(value: unknown): string {
  const out: string[] = [];
  write(value, '$', out);
  return out.join('');
}

const INDEX_KEY = /^(0|[1-9][0-9]*)$/;
class NeedsReference extends Error {}

/** JSON.stringify replacer: sorted keys; anything that is not a JSON value is refused. */
function canonicalReplacer(this: unknown, key: string, value: unknown): unknown {
  // A value JSON.stringify already replaced by its toJSON() (a Date…) is not a JSON value.
  if ((this as Record<string, unknown>)[key] !== value) throw new NeedsReference();
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new NeedsReference();
      return value;
    case 'object': {
      if (value === null || Array.isArray(value)) return value;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw new NeedsReference();
      const keys = Object.keys(value);
      let ordered = true;
      for (let i = 0; i < keys.length; i++) {
        // Integer-like keys iterate first in JS objects whatever the insertion order.
        const c = keys[i]!.charCodeAt(0);
        if (c >= 48 && c <= 57 && INDEX_KEY.test(keys[i]!)) throw new NeedsReference();
        if (i > 0 && keys[i - 1]! > keys[i]!) ordered = false;
      }
      if (ordered) return value;
      const record = value as Record<string, unknown>;
      const sorted: Record<string, unknown> = {};
      for (const k of keys.sort()) sorted[k] = record[k];
      return sorted;
    }
    case 'undefined':
      return value; // dropped from objects, as in the reference; refused at the top and in arrays below
    default:
      throw new NeedsReference();
  }
}

/**
 * The canonical JSON text of `value` (native JSON.stringify with a key-sorting replacer, ~10x faster than
 * the reference). Anything the fast path cannot vouch for (non-JSON values, integer-like keys, undefined in
 * arrays) goes to the reference, which either produces the same text or throws CanonicalJsonError naming
 * the path.
 */
export function canonicalJson(value: unknown): string {
  try {
    const text = JSON.stringify(value, canonicalReplacer);
    if (text === undefined || (text.includes('null') && containsUndefinedInArray(value)))
      return canonicalJsonReference(value);
    return text;
  } catch (error) {
    if (error instanceof NeedsReference || error instanceof TypeError) return canonicalJsonReference(value);
    throw error;
  }
}

/** JSON.stringify writes `undefined` array items as null; the reference refuses them. */
function containsUndefinedInArray(value: unknown): boolean {
  if (Array.isArray(value)) return value.some((v) => v === undefined || containsUndefinedInArray(v));
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsUndefinedInArray);
  return false;
}

const encoder = new TextEncoder();

/** keccak256 of the UTF-8 bytes of a string. */
export function keccakUtf8(text: string): Hex {
  return bytesToHex(keccak(encoder.encode(text)));
}

/** keccak256(utf8(canonicalJson(value))). */
export function canonicalHash(value: unknown): Hex {
  return keccakUtf8(canonicalJson(value));
}
