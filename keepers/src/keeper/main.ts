/**
 * Keeper CLI: runs one keeper process (keeper/keeper.ts) until SIGINT/SIGTERM, or inspects the
 * dead-letter queue.
 *
 *   KEEPER_PRIVATE_KEY=0x… tsx keepers/src/keeper/main.ts --rpc-url http://127.0.0.1:8545 \
 *       --address-book deployments/31337.json --guardian http://127.0.0.1:8601 --guardian … \
 *       [--redis-url redis://127.0.0.1:6379] [--port 8700] [--public-url URL] [--data-dir .keeper] \
 *       [--consensus FILE] [--timing FILE] [--resync-from URL …] [--start-epoch N] [--stages a,b] \
 *       [--no-spawn-redis] [--no-scheduler] [--lock-ms N]
 *   tsx keepers/src/keeper/main.ts dead-letters [--redis-url …]        list dead letters (JSON lines)
 *   tsx keepers/src/keeper/main.ts retry <jobId> [--redis-url …]       retry a dead-lettered job
 *
 * The key comes from KEEPER_PRIVATE_KEY or --private-key-file (never a flag value: it would show in ps).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Hex } from 'viem';
import { AddressBookError, loadAddressBook } from '../chain/addressBook.js';
import { redisConnection } from '../infra/redis.js';
import { log } from '../infra/log.js';
import { ConsensusConfigError, loadConsensusParameters } from '../core/consensus.js';
import { loadJsonFile, parseKeeperTiming, KeeperConfigError } from './config.js';
import { Keeper } from './keeper.js';
import { PipelineQueues } from './queues.js';
import { isStage, type Stage } from './stages.js';

const USAGE = `usage: keeper [run] --rpc-url URL --address-book FILE --guardian URL [--guardian URL …] [options]
       keeper dead-letters [--redis-url URL]
       keeper retry <jobId> [--redis-url URL]
options:
  --redis-url URL          Redis shared by all keeper processes (default redis://127.0.0.1:6379;
                           a local one is started if none answers, unless --no-spawn-redis)
  --port N                 keeper HTTP port (default 8700)      --host H   bind address (default 127.0.0.1)
  --public-url URL         URL guardians fetch datasets from (default http://host:port)
  --data-dir DIR           datasets and a spawned Redis's files (default .keeper)
  --consensus FILE         consensus parameters JSON (default: devnet values)
  --timing FILE            keeper timing JSON (openingsWindowSeconds, transcriptGraceSeconds, …)
  --resync-from URL        another keeper to fetch datasets from after a cold start (repeatable)
  --start-epoch N          never schedule epochs below N
  --stages a,b,…           only work these stages (default all)
  --no-scheduler           do not enqueue new epochs (workers only)
  --lock-ms N              job lock: how soon a dead process's job is taken over (default 30000)
  --private-key-file FILE  file holding the keeper key (default: env KEEPER_PRIVATE_KEY)`;

class UsageError extends Error {}

const privateKey = z.string().trim().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x followed by 64 hex digits');
const url = z.string().url();

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        'rpc-url': { type: 'string' },
        'address-book': { type: 'string' },
        guardian: { type: 'string', multiple: true, default: [] },
        'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
        port: { type: 'string', default: '8700' },
        host: { type: 'string', default: '127.0.0.1' },
        'public-url': { type: 'string' },
        'data-dir': { type: 'string', default: '.keeper' },
        consensus: { type: 'string' },
        timing: { type: 'string' },
        'resync-from': { type: 'string', multiple: true, default: [] },
        'start-epoch': { type: 'string' },
        stages: { type: 'string' },
        'no-scheduler': { type: 'boolean', default: false },
        'no-spawn-redis': { type: 'boolean', default: false },
        'lock-ms': { type: 'string' },
        'private-key-file': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${what}: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

function intFlag(value: string | undefined, what: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${what} must be an integer in ${min}..${max}, got "${value}"`);
  return n;
}

async function main() {
  const { values, positionals } = parse();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const command = positionals[0] ?? 'run';
  const redisUrl = check(url, values['redis-url'], '--redis-url');

  if (command === 'dead-letters' || command === 'retry') {
    const connection = redisConnection(redisUrl, { maxRetriesPerRequest: 1 });
    const queues = new PipelineQueues({ connection });
    try {
      if (command === 'dead-letters') {
        for (const letter of await queues.deadLetters()) console.log(JSON.stringify(letter));
      } else {
        const id = positionals[1];
        if (!id) throw new UsageError('retry needs a job id (see `keeper dead-letters`)');
        await queues.retryDeadLetter(id);
        console.log(`retried ${id}`);
      }
    } finally {
      await queues.close();
      connection.disconnect();
    }
    return;
  }
  if (command !== 'run') throw new UsageError(`unknown command "${command}"`);

  if (!values['rpc-url']) throw new UsageError('--rpc-url is required');
  if (!values['address-book']) throw new UsageError('--address-book is required');
  const rpcUrl = check(url, values['rpc-url'], '--rpc-url');
  const guardianUrls = values.guardian.map((g) => check(url, g, '--guardian'));
  if (guardianUrls.length === 0) log.warn('no --guardian given: epochs cannot collect signatures');
  const keyText = values['private-key-file'] ? readFileSync(values['private-key-file'], 'utf8') : process.env.KEEPER_PRIVATE_KEY;
  if (!keyText) throw new UsageError('set KEEPER_PRIVATE_KEY or pass --private-key-file');
  const key = check(privateKey, keyText, values['private-key-file'] ? `--private-key-file ${values['private-key-file']}` : 'KEEPER_PRIVATE_KEY') as Hex;
  let stages: Stage[] | undefined;
  if (values.stages) {
    const names = values.stages.split(',').map((s) => s.trim());
    const bad = names.find((s) => !isStage(s));
    if (bad !== undefined) throw new UsageError(`--stages: unknown stage "${bad}"`);
    stages = names as Stage[];
  }

  const keeper = new Keeper({
    rpcUrl,
    addressBook: loadAddressBook(values['address-book']),
    privateKey: key,
    redisUrl,
    guardianUrls,
    httpPort: intFlag(values.port, '--port', 0, 65535)!,
    httpHost: values.host,
    publicUrl: values['public-url'] ? check(url, values['public-url'], '--public-url') : undefined,
    dataDir: values['data-dir'],
    consensus: values.consensus ? loadConsensusParameters(values.consensus) : undefined,
    timing: values.timing ? loadJsonFile(values.timing, parseKeeperTiming) : undefined,
    resyncUrls: values['resync-from'].map((u) => check(url, u, '--resync-from')),
    startEpoch: intFlag(values['start-epoch'], '--start-epoch', 1, 0xffffffff),
    stages,
    scheduler: !values['no-scheduler'],
    spawnRedis: !values['no-spawn-redis'],
    lockDurationMs: intFlag(values['lock-ms'], '--lock-ms', 1000, 3_600_000),
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping keeper');
    keeper
      .stop()
      .then(() => process.exit(0))
      .catch((error) => {
        log.error({ err: (error as Error).message }, 'keeper stop failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  await keeper.start();
}

main().catch((error) => {
  if (error instanceof UsageError || error instanceof KeeperConfigError || error instanceof ConsensusConfigError || error instanceof AddressBookError) {
    console.error(`keeper: ${error.message}\n${error instanceof UsageError ? USAGE : ''}`);
    process.exit(2);
  }
  console.error(`keeper: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
