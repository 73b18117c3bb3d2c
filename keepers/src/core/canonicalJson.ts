/**
 * Canonical JSON: object keys sorted (UTF-16 code unit order, as `Array.prototype.sort`), no whitespace,
 * keys whose value is `undefined` omitted, arrays kept in order. Only JSON values are accepted: strings,
 * finite numbers, booleans, null, arrays and plain objects. Bigints are not JSON; the wire formats carry
 * them as decimal strings. Pure.
 */
import { bytesToHex, type Hex } from 'viem';
import { keccak } from './merkle.js';

export class CanonicalJsonError extends TypeError {
  override name = 'CanonicalJsonError';
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

/** The canonical JSON text of `value`. Throws CanonicalJsonError naming the path of a non-JSON value. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, '$', out);
  return out.join('');
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
