/**
 * A minimal YAML writer for the manifest: maps, lists, strings, numbers and booleans (no anchors, no
 * multi-line strings). Strings are always double-quoted with JSON escapes, which YAML accepts.
 */
type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml | undefined };

function scalar(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function emit(value: Yaml, indent: string, lines: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isScalar(item)) {
        lines.push(`${indent}- ${scalar(item)}`);
      } else {
        const nested: string[] = [];
        emit(item, `${indent}  `, nested);
        if (nested.length === 0) {
          lines.push(`${indent}- ${Array.isArray(item) ? '[]' : '{}'}`);
        } else {
          lines.push(`${indent}- ${nested[0]!.slice(indent.length + 2)}`, ...nested.slice(1));
        }
      }
    }
    return;
  }
  if (isScalar(value)) throw new Error('a YAML document must be a map or a list');
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    if (isScalar(item)) lines.push(`${indent}${key}: ${scalar(item)}`);
    else if (Array.isArray(item) && item.length === 0) lines.push(`${indent}${key}: []`);
    else if (!Array.isArray(item) && Object.keys(item).length === 0) lines.push(`${indent}${key}: {}`);
    else {
      lines.push(`${indent}${key}:`);
      emit(item, `${indent}  `, lines);
    }
  }
}

/** Serializes `value` (a map or list) as YAML. */
export function toYaml(value: unknown): string {
  const lines: string[] = [];
  emit(value as Yaml, '', lines);
  return `${lines.join('\n')}\n`;
}
