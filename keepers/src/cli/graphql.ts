/**
 * A minimal GraphQL-over-HTTP client for the subgraph: POST `{query}`, validate `data` with zod, and turn
 * every failure (unreachable, HTTP error, GraphQL `errors`, unexpected shape) into one sentence.
 */
import type { z } from 'zod';
import { describeZodError } from '../core/wire.js';
import { NetworkError } from './errors.js';

export const DEFAULT_GRAPHQL = 'http://127.0.0.1:8000/subgraphs/name/subgraph-0';

export async function graphqlQuery<T>(
  url: string,
  query: string,
  schema: z.ZodType<T>,
  timeoutMs = 15_000,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : 'connection failed';
    throw new NetworkError(
      `Cannot reach the GraphQL endpoint at ${url} (${reason}): check that the subgraph is running and --graphql (or SENDNET_GRAPHQL) is right.`,
      'GraphqlUnreachable',
    );
  }
  const text = await response.text();
  let body: { data?: unknown; errors?: { message?: string }[] };
  try {
    body = JSON.parse(text);
  } catch {
    throw new NetworkError(
      `The GraphQL endpoint at ${url} answered HTTP ${response.status} with something that is not JSON.`,
      'GraphqlError',
    );
  }
  if (body.errors?.length) {
    const message = String(body.errors[0]?.message ?? 'unknown error')
      .split('\n')[0]!
      .replace(/\.$/, '');
    throw new NetworkError(`The GraphQL endpoint at ${url} refused the query: ${message}.`, 'GraphqlError');
  }
  if (!response.ok)
    throw new NetworkError(`The GraphQL endpoint at ${url} answered HTTP ${response.status}.`, 'GraphqlError');
  const parsed = schema.safeParse(body.data);
  if (!parsed.success) {
    throw new NetworkError(
      `The GraphQL endpoint at ${url} answered in an unexpected shape (${describeZodError(parsed.error, { root: 'data', separator: ' ' })}): is it the SendingNetwork subgraph?`,
      'GraphqlError',
    );
  }
  return parsed.data;
}
