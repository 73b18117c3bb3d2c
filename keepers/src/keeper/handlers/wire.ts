/**
 * Normalising what untrusted peers send before it is checked against the dataset's wire schemas (which
 * require lowercase hex and transform nothing).
 */

/** Lowercases every `0x…` hex string in a JSON value, recursively (other values unchanged). */
export function lowerHex(value: unknown, depth = 0): unknown {
  if (depth > 32) return value;
  if (typeof value === 'string') return /^0x[0-9a-fA-F]*$/.test(value) ? value.toLowerCase() : value;
  if (Array.isArray(value)) return value.map((v) => lowerHex(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = lowerHex(v, depth + 1);
    return out;
  }
  return value;
}

/** `path: message` of the first zod issue. */
export function firstIssue(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0]!;
  return `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
}
