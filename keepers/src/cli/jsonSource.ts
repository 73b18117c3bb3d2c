/**
 * Reads a JSON document from a file path or an http(s) URL and validates it with a zod schema; every
 * failure (missing file, unreachable URL, HTTP error, bad JSON, wrong shape) is one sentence naming the
 * source and, for shape errors, the offending field.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { describeZodError } from '../core/wire.js';
import { InputError, NetworkError } from './errors.js';

export const isUrl = (source: string) => /^https?:\/\//i.test(source);

async function fetchText(url: string, what: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : 'connection failed';
    throw new NetworkError(`Cannot fetch the ${what} from ${url}: ${reason}.`, 'FetchFailed');
  }
  if (!response.ok)
    throw new NetworkError(`Cannot fetch the ${what} from ${url}: HTTP ${response.status}.`, 'FetchFailed');
  return response.text();
}

/** The document at `source` (file or URL), parsed and validated against `schema`. */
export async function readJsonSource<T>(
  source: string,
  what: string,
  schema: z.ZodType<T>,
  timeoutMs = 15_000,
): Promise<T> {
  let text: string;
  if (isUrl(source)) {
    text = await fetchText(source, what, timeoutMs);
  } else {
    try {
      text = readFileSync(source, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(
        `Cannot read the ${what} file ${source}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}.`,
      );
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InputError(`The ${what} at ${source} is not valid JSON.`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new InputError(
      `The ${what} at ${source} is malformed: ${describeZodError(parsed.error, { separator: ' ' })}.`,
    );
  return parsed.data;
}
