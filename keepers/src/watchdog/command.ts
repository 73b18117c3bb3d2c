/**
 * Command line of a WatchDog (`tsx keepers/src/watchdog/main.ts --help`): the flags and the environment
 * turned into the service's options, registering fresh challenge identities first when asked. The operator
 * key comes from WATCHDOG_OPERATOR_KEY, never a flag (it would show in `ps`).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadAddressBook } from '../chain/addressBook.js';
import { DEVNET_CONSENSUS } from '../core/consensus.js';
import { EpochClock } from '../core/epochClock.js';
import { UsageError } from '../core/errors.js';
import { commandLine, integerFlag, keyFromEnvironment, parseCommandLine } from '../infra/commandLine.js';
import { loadIdentities, registerIdentities, type WatchDogOptions } from './watchdog.js';

export function watchdogCommand() {
  return commandLine(
    'watchdog',
    'SendingNetwork WatchDog: commits, challenges its assigned edge nodes, posts transcripts',
  )
    .requiredOption('--keeper-url <url>', "the keeper's HTTP base URL")
    .requiredOption('--token-id <id>', 'the license token id')
    .requiredOption('--address-book <file>', 'deployment address book (epoch clock)')
    .requiredOption('--data-dir <dir>', 'directory for epoch secrets')
    .option('--identities <file>', 'challenge identities JSON [{ seed, did }] (default <data-dir>/identities.json)')
    .option('--register-identities <n>', 'register n fresh identities on-chain first (needs --rpc-url)')
    .option('--rpc-url <url>', 'JSON-RPC endpoint (for --register-identities)')
    .option('--commit-grace <s>', 'commit grace seconds', String(DEVNET_CONSENSUS.commitGraceSeconds));
}

/**
 * The WatchDog's options from argv and the environment (registering identities on-chain first with
 * --register-identities); null when the help was printed.
 */
export async function parseWatchdogArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<WatchDogOptions | null> {
  const command = watchdogCommand();
  if (!parseCommandLine(command, argv)) return null;
  const o = command.opts<{
    keeperUrl: string;
    tokenId: string;
    addressBook: string;
    dataDir: string;
    identities?: string;
    registerIdentities?: string;
    rpcUrl?: string;
    commitGrace: string;
  }>();
  const operatorKey = keyFromEnvironment(env, 'WATCHDOG_OPERATOR_KEY', 'operator key');
  if (!/^[0-9]+$/.test(o.tokenId)) throw new UsageError(`--token-id must be a decimal integer, got ${o.tokenId}`);
  const book = loadAddressBook(o.addressBook);
  mkdirSync(o.dataDir, { recursive: true });
  const identitiesPath = o.identities ?? join(o.dataDir, 'identities.json');
  if (o.registerIdentities) {
    if (!o.rpcUrl) throw new UsageError('--register-identities needs --rpc-url');
    if (existsSync(identitiesPath))
      throw new UsageError(`${identitiesPath} exists: not overwriting registered identities`);
    const count = integerFlag(o.registerIdentities, '--register-identities', 2, 1000)!;
    await registerIdentities(o.rpcUrl, book, operatorKey, count, identitiesPath, BigInt(o.tokenId));
  }
  return {
    operatorKey: operatorKey,
    tokenId: BigInt(o.tokenId),
    identities: loadIdentities(identitiesPath),
    keeperUrl: o.keeperUrl,
    clock: new EpochClock({
      genesisTime: book.genesisTime,
      epochDurationSeconds: book.epochDurationSeconds,
      commitGraceSeconds: integerFlag(o.commitGrace, '--commit-grace', 0, 3600)!,
    }),
    dataDir: o.dataDir,
  };
}
