/**
 * What the CLI prints: aligned key/value blocks and tables for people, one JSON document for scripts
 * (`--json`; bigints as decimal strings). Rendering is pure (strings in, string out); `Output` only writes.
 */
import { formatUnits } from 'viem';

export interface Column {
  header: string;
  /** Right-align (numbers). */
  right?: boolean;
}

/** A plain-text table: a header row, a rule, then the rows, columns padded to their widest cell. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        return c.right ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join(
    '\n',
  );
}

/** Key/value lines with the keys padded to the longest. */
export function renderRecord(entries: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

/** `1234.5 SEND` from base units (trailing zeros trimmed by viem). */
export function formatToken(amount: bigint, decimals: number, symbol: string): string {
  return `${formatUnits(amount, decimals)} ${symbol}`;
}

export const formatSend = (amount: bigint) => formatToken(amount, 18, 'SEND');

/**
 * An 18-decimal amount rounded for people: thousands grouped, one decimal from 1 up (`12,345.6 SEND`),
 * three significant digits below 1 (`0.00421 SEND`), `< 0.000001` below that; exact zero is `0`. Tables
 * use it; `--json` keeps the exact base units.
 */
export function formatTokenRounded(amount: bigint, symbol: string, decimals = 18): string {
  if (amount === 0n) return `0 ${symbol}`;
  const sign = amount < 0n ? '-' : '';
  const abs = amount < 0n ? -amount : amount;
  const unit = 10n ** BigInt(decimals);
  if (abs * 1_000_000n < unit) return `${sign}< 0.000001 ${symbol}`;
  if (abs < unit) {
    const text = Number(formatUnits(abs, decimals)).toLocaleString('en-US', { maximumSignificantDigits: 3 });
    return `${sign}${text} ${symbol}`;
  }
  // tenths, rounded half up in integers (exact for any supply)
  const tenths = (abs * 10n + unit / 2n) / unit;
  const whole = (tenths / 10n).toLocaleString('en-US');
  const tenth = tenths % 10n;
  return `${sign}${whole}${tenth === 0n ? '' : `.${tenth}`} ${symbol}`;
}

export const formatSendRounded = (amount: bigint) => formatTokenRounded(amount, 'SEND');
export const formatEth = (amount: bigint) => formatToken(amount, 18, 'ETH');

/** Parts per million as a percentage with two decimals: 995000 → "99.50%". */
export function formatPpm(ppm: number | null | undefined): string {
  if (ppm === null || ppm === undefined) return '-';
  return `${(ppm / 10_000).toFixed(2)}%`;
}

/** Unix seconds as an ISO-8601 UTC time without milliseconds; 0 → "not scheduled". */
export function formatTime(seconds: number | bigint): string {
  const s = Number(seconds);
  if (s === 0) return 'not scheduled';
  return new Date(s * 1000).toISOString().replace('.000Z', 'Z');
}

/** "in 5 min", "2 h ago": a rough human distance between two unix times. */
export function formatRelative(target: number, now: number): string {
  const delta = target - now;
  const abs = Math.abs(delta);
  const text =
    abs < 120
      ? `${abs} s`
      : abs < 7200
        ? `${Math.round(abs / 60)} min`
        : abs < 172_800
          ? `${Math.round(abs / 3600)} h`
          : `${Math.round(abs / 86_400)} days`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

/** Writes results to stdout in the chosen mode. */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly write: (text: string) => void = (text) => process.stdout.write(`${text}\n`),
  ) {}

  /**
   * One command's result: `data` is the JSON document; `human` the text for people (key/value lines,
   * tables), built lazily so JSON mode does not format anything.
   */
  result(data: unknown, human: () => string): void {
    this.write(this.json ? toJson(data) : human());
  }

  /** A progress note for people (stderr, so stdout stays the result); silent in JSON mode. */
  note(text: string): void {
    if (!this.json) process.stderr.write(`${text}\n`);
  }
}
