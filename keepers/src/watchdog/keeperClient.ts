/**
 * The WatchDog's HTTP client for the keeper's three WatchDog endpoints (core/watchdogApi.ts): every answer
 * is parsed with the shared zod schemas, and every failure is a KeeperApiError naming the endpoint, the
 * status and the keeper's message.
 */
import type { z } from 'zod';
import {
  apiErrorSchema,
  epochWatchdogsResponseSchema,
  watchdogAckSchema,
  type EpochWatchdogsResponse,
  type WatchdogAck,
} from '../core/watchdogApi.js';
import type { SignedTranscript, WatchdogCommitMessage } from '../core/watchdogSchedule.js';
import { SendnetError } from '../core/errors.js';

export class KeeperApiError extends SendnetError {
  override name = 'KeeperApiError';
  override readonly code = 'keeper-api';
  constructor(
    readonly endpoint: string,
    readonly status: number,
    message: string,
  ) {
    super(`${endpoint}: ${status ? `HTTP ${status}: ` : ''}${message}`);
  }
}

export class KeeperClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.baseUrl = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const endpoint = `${method} ${path}`;
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new KeeperApiError(endpoint, 0, `keeper unreachable: ${(error as Error).message}`);
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      throw new KeeperApiError(endpoint, response.status, 'answer is not JSON');
    }
    if (!response.ok) {
      const problem = apiErrorSchema.safeParse(json);
      throw new KeeperApiError(
        endpoint,
        response.status,
        problem.success ? `${problem.data.error}: ${problem.data.message}` : JSON.stringify(json),
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new KeeperApiError(endpoint, response.status, `unexpected answer: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  postCommit(message: WatchdogCommitMessage): Promise<WatchdogAck> {
    return this.call('POST', 'watchdog/commit', watchdogAckSchema, message);
  }

  epochWatchdogs(epoch: number): Promise<EpochWatchdogsResponse> {
    return this.call('GET', `epochs/${epoch}/watchdogs`, epochWatchdogsResponseSchema);
  }

  postTranscript(transcript: SignedTranscript): Promise<WatchdogAck> {
    return this.call('POST', 'watchdog/transcript', watchdogAckSchema, transcript);
  }
}
