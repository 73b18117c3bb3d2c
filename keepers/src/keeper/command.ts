/**
 * Command line of a keeper process (`npm run keeper -- --help`): `run` (the default) turns flags and the
 * environment into the Keeper's options; `dead-letters` and `retry <jobId>` inspect the dead-letter queue.
 * The key comes from KEEPER_PRIVATE_KEY or --private-key-file, never a flag value (it would show in `ps`).
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { Hex } from 'viem';
import { z } from 'zod';
import { loadAddressBook } from '../chain/addressBook.js';
import { UsageError } from '../core/errors.js';
import { hexPattern } from '../core/wire.js';
import { commandLine, integerFlag, parseCommandLine } from '../infra/commandLine.js';
import { loadConsensusParameters } from '../infra/configFile.js';
import { log } from '../infra/log.js';
import { loadJsonFile, parseKeeperTiming } from './config.js';
import type { KeeperOptions } from './keeper.js';
import { isStage, type Stage } from './stages.js';

/** What the command line asks for: run a keeper, list dead letters, or retry one. */
export type KeeperInvocation =
  | { command: 'run'; options: KeeperOptions }
  | { command: 'dead-letters'; redisUrl: string }
  | { command: 'retry'; redisUrl: string; jobId: string };

const privateKey = z.string().trim().regex(hexPattern(32), 'must be 0x followed by 64 hex digits');
const url = z.string().url();

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${what}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

const redisOption = () =>
  new Option(
    '--redis-url <url>',
    'Redis shared by all keeper processes (a local one is started if none answers, unless --no-spawn-redis)',
  ).default('redis://127.0.0.1:6379');
const collect = (value: string, previous: string[]) => [...previous, value];

export function keeperCommand(): { program: Command; chosen: () => KeeperInvocation | undefined } {
  let chosen: KeeperInvocation | undefined;
  // subcommands made with .command() inherit the program's exitOverride and silenced error output
  const program = commandLine(
    'keeper',
    'SendingNetwork keeper: settles each epoch through the BullMQ pipeline (docs/keepers.md §7)',
  );
  program
    .command('run', { isDefault: true })
    .description('run a keeper process until SIGINT/SIGTERM')
    .option('--rpc-url <url>', 'JSON-RPC endpoint (required)')
    .option('--address-book <file>', 'deployment address book (required)')
    .option('--guardian <url>', 'a guardian to collect signatures from (repeatable)', collect, [] as string[])
    .addOption(redisOption())
    .option('--port <n>', 'keeper HTTP port', '8700')
    .option('--host <host>', 'bind address', '127.0.0.1')
    .option('--public-url <url>', 'URL guardians fetch datasets from (default http://host:port)')
    .option('--data-dir <dir>', "datasets and a spawned Redis's files", '.keeper')
    .option('--consensus <file>', 'consensus parameters JSON (default: devnet values)')
    .option('--timing <file>', 'keeper timing JSON (openingsWindowSeconds, transcriptGraceSeconds, …)')
    .option(
      '--resync-from <url>',
      'another keeper to fetch datasets from after a cold start (repeatable)',
      collect,
      [] as string[],
    )
    .option('--start-epoch <n>', 'never schedule epochs below N')
    .option('--stages <a,b>', 'only work these stages (default all)')
    .option('--no-scheduler', 'do not enqueue new epochs (workers only)')
    .option('--no-spawn-redis', 'never start a local Redis')
    .option('--lock-ms <n>', "job lock: how soon a dead process's job is taken over (default 30000)")
    .option('--private-key-file <file>', 'file holding the keeper key (default: env KEEPER_PRIVATE_KEY)')
    .action((o: Record<string, string | string[] | boolean | undefined>) => {
      chosen = { command: 'run', options: runOptions(o) };
    });
  program
    .command('dead-letters')
    .description('list dead letters (JSON lines)')
    .addOption(redisOption())
    .action((o: { redisUrl: string }) => {
      chosen = { command: 'dead-letters', redisUrl: check(url, o.redisUrl, '--redis-url') };
    });
  program
    .command('retry')
    .description('retry a dead-lettered job')
    .argument('<jobId>', 'the job id (see `keeper dead-letters`)')
    .addOption(redisOption())
    .action((jobId: string, o: { redisUrl: string }) => {
      chosen = { command: 'retry', redisUrl: check(url, o.redisUrl, '--redis-url'), jobId };
    });
  return { program, chosen: () => chosen };
}

function runOptions(o: Record<string, string | string[] | boolean | undefined>): KeeperOptions {
  const text = (name: string) => o[name] as string | undefined;
  const list = (name: string) => (o[name] as string[] | undefined) ?? [];
  if (!text('rpcUrl')) throw new UsageError('--rpc-url is required');
  if (!text('addressBook')) throw new UsageError('--address-book is required');
  const guardianUrls = list('guardian').map((g) => check(url, g, '--guardian'));
  if (guardianUrls.length === 0) log.warn('no --guardian given: epochs cannot collect signatures');
  const keyFile = text('privateKeyFile');
  const keyText = keyFile ? readFileSync(keyFile, 'utf8') : process.env.KEEPER_PRIVATE_KEY;
  if (!keyText) throw new UsageError('set KEEPER_PRIVATE_KEY or pass --private-key-file');
  let stages: Stage[] | undefined;
  const stageList = text('stages');
  if (stageList) {
    const names = stageList.split(',').map((s) => s.trim());
    const bad = names.find((s) => !isStage(s));
    if (bad !== undefined) throw new UsageError(`--stages: unknown stage "${bad}"`);
    stages = names as Stage[];
  }
  const publicUrl = text('publicUrl');
  const consensus = text('consensus');
  const timing = text('timing');
  return {
    rpcUrl: check(url, text('rpcUrl'), '--rpc-url'),
    addressBook: loadAddressBook(text('addressBook')!),
    privateKey: check(privateKey, keyText, keyFile ? `--private-key-file ${keyFile}` : 'KEEPER_PRIVATE_KEY') as Hex,
    redisUrl: check(url, text('redisUrl'), '--redis-url'),
    guardianUrls,
    httpPort: integerFlag(text('port'), '--port', 0, 65535)!,
    httpHost: text('host'),
    publicUrl: publicUrl ? check(url, publicUrl, '--public-url') : undefined,
    dataDir: text('dataDir')!,
    consensus: consensus ? loadConsensusParameters(consensus) : undefined,
    timing: timing ? loadJsonFile(timing, parseKeeperTiming) : undefined,
    resyncUrls: list('resyncFrom').map((u) => check(url, u, '--resync-from')),
    startEpoch: integerFlag(text('startEpoch'), '--start-epoch', 1, 0xffffffff),
    stages,
    scheduler: o.scheduler !== false,
    spawnRedis: o.spawnRedis !== false,
    lockDurationMs: integerFlag(text('lockMs'), '--lock-ms', 1000, 3_600_000),
  };
}

/** What argv asks the keeper to do; undefined when the help was printed. */
export function parseKeeperArgs(argv: readonly string[]): KeeperInvocation | undefined {
  const { program, chosen } = keeperCommand();
  if (!parseCommandLine(program, argv)) return undefined;
  return chosen();
}
