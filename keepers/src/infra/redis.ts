/**
 * Redis for the keeper: use the one that answers at `url`, or start a local `redis-server` with an
 * append-only file so queued jobs survive a restart of Redis itself.
 *
 * `ensureRedis({ url, dataDir })`:
 * - a Redis answers PING at `url` → use it (`spawned: false`; `stop()`/`restart()` leave it alone);
 * - nothing answers and `url` names a loopback host → spawn `redis-server` on that port with
 *   `--dir dataDir --appendonly yes --appendfsync everysec --save ''`, wait until it answers PING;
 * - otherwise a clear error (a remote Redis is never started from here).
 *
 * `redisConnection(url)` makes the ioredis client BullMQ needs (`maxRetriesPerRequest: null`, so commands
 * wait through a Redis restart instead of failing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { log } from './log.js';
import { SendnetError } from '../core/errors.js';

export const REDIS_SERVER_PATH = '/usr/bin/redis-server';

export class RedisUnavailableError extends SendnetError {
  override name = 'RedisUnavailableError';
  override readonly code = 'redis-unavailable';
}

export interface RedisHandle {
  /** The URL clients connect to. */
  readonly url: string;
  /** True when this process started the server (only then do stop/restart act). */
  readonly spawned: boolean;
  /** Stops the server this process spawned (SIGTERM: Redis flushes its AOF first); no-op otherwise. */
  stop(): Promise<void>;
  /** Stops and starts the spawned server again on the same port and data directory (AOF reloaded). */
  restart(): Promise<void>;
}

export interface EnsureRedisOptions {
  /** `redis://host:port[/db]`. */
  url: string;
  /** Directory for the AOF of a spawned server (created if missing). */
  dataDir: string;
  /** Path of redis-server (default /usr/bin/redis-server, else `redis-server` on PATH is not searched). */
  serverPath?: string;
  /** How long to wait for a spawned server to answer (default 15 s). */
  startTimeoutMs?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function parseRedisUrl(url: string): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUnavailableError(`invalid Redis URL "${url}" (expected redis://host:port)`);
  }
  if (parsed.protocol !== 'redis:') throw new RedisUnavailableError(`Redis URL must start with redis://, got "${url}"`);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new RedisUnavailableError(`bad port in Redis URL "${url}"`);
  return { host: parsed.hostname, port };
}

/** True when a Redis answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** An ioredis client configured for BullMQ (blocking commands, waits through reconnects). */
export function redisConnection(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    ...options,
  });
  // Without a listener ioredis prints every reconnect error; BullMQ reports what matters.
  client.on('error', (error) => log.debug({ err: error.message, url }, 'redis connection error'));
  return client;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startServer(serverPath: string, port: number, dataDir: string): ChildProcess {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dataDir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
  ];
  return spawn(serverPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function waitUntilAnswers(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new RedisUnavailableError(
        `redis-server exited (${child.exitCode ?? child.signalCode}) before answering at ${url}: ${output().slice(-2000)}`,
      );
    }
    if (await redisAnswers(url, 300)) return;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new RedisUnavailableError(
        `redis-server did not answer at ${url} within ${timeoutMs} ms: ${output().slice(-2000)}`,
      );
    }
    await sleep(50);
  }
}

/** Uses the Redis at `url`, or starts one (see the module comment). */
export async function ensureRedis(options: EnsureRedisOptions): Promise<RedisHandle> {
  const { url } = options;
  const { host, port } = parseRedisUrl(url);
  if (await redisAnswers(url)) {
    log.info({ url }, 'using the running Redis');
    return {
      url,
      spawned: false,
      stop: async () => {},
      restart: async () => {
        throw new RedisUnavailableError(`Redis at ${url} was not started by this process; restart it yourself`);
      },
    };
  }
  if (!LOOPBACK.has(host)) {
    throw new RedisUnavailableError(
      `no Redis answers at ${url}, and ${host} is not a local address, so none is started`,
    );
  }
  const serverPath = options.serverPath ?? REDIS_SERVER_PATH;
  if (!existsSync(serverPath)) {
    throw new RedisUnavailableError(`redis-server not found: apt-get install redis-server (looked for ${serverPath})`);
  }
  const dataDir = resolvePath(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const timeoutMs = options.startTimeoutMs ?? 15_000;

  let child: ChildProcess | null = null;
  let output = '';
  const launch = async () => {
    output = '';
    const c = startServer(serverPath, port, dataDir);
    c.stdout?.on('data', (d) => (output = (output + d).slice(-8000)));
    c.stderr?.on('data', (d) => (output = (output + d).slice(-8000)));
    c.on('error', (error) => (output += `\nspawn error: ${error.message}`));
    child = c;
    // If this process dies first, SIGTERM still lets Redis flush its AOF and exit.
    const onExit = () => c.kill('SIGTERM');
    process.once('exit', onExit);
    c.once('exit', () => process.off('exit', onExit));
    await waitUntilAnswers(url, c, () => output, timeoutMs);
    log.info({ url, dataDir, pid: c.pid }, 'redis-server started');
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      c.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      c.kill('SIGTERM');
    });
    log.info({ url }, 'redis-server stopped');
  };
  await launch();
  return {
    url,
    spawned: true,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
