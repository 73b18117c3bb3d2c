import { loadAddressBook } from '../chain/addressBook.js';
import { DEVNET_CONSENSUS } from '../core/consensus.js';
import { loadConsensusParameters } from '../infra/configFile.js';
import { commandLine, integerFlag, keyFromEnvironment, parseCommandLine } from '../infra/commandLine.js';
import type { GuardianOptions } from './guardian.js';
import { z } from 'zod';
import { address } from '../core/wire.js';
import { UsageError } from '../core/errors.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function guardianCommand() {
  return commandLine('guardian', 'SendingNetwork guardian: recomputes epochs and signs their headers')
    .requiredOption('--rpc-url <url>', 'JSON-RPC endpoint')
    .requiredOption('--address-book <file>', 'deployment address book (deployments/*.json)')
    .requiredOption('--data-dir <dir>', 'directory for the signed-epochs record')
    .option('--port <n>', 'HTTP port', '7300')
    .option('--host <host>', 'HTTP host', '127.0.0.1')
    .option('--consensus <file>', 'consensus parameters JSON (default: devnet parameters)')
    .option('--max-dataset-mb <n>', 'largest dataset accepted, MiB', '512')
    .option(
      '--keeper <address>',
      'a keeper address allowed to request signatures (repeatable; requests are signed by its key)',
      collect,
      [] as string[],
    )
    .option(
      '--dataset-origin <url>',
      'datasets are fetched only under this URL (repeatable; e.g. the keeper public URL)',
      collect,
      [] as string[],
    )
    .option(
      '--transcript-grace-seconds <n>',
      "seconds after an epoch's end WatchDog transcripts are accepted (the keepers' transcriptGraceSeconds)",
      '10',
    )
    .option(
      '--openings-window-seconds <n>',
      "seconds after the commit deadline nodes answer openings (the keepers' openingsWindowSeconds)",
      '10',
    );
}

/** The guardian's options from argv and the environment; null when the help was printed. */
export function parseGuardianArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): GuardianOptions | null {
  const command = guardianCommand();
  if (!parseCommandLine(command, argv)) return null;
  const o = command.opts<{
    rpcUrl: string;
    addressBook: string;
    dataDir: string;
    port: string;
    host: string;
    consensus?: string;
    maxDatasetMb: string;
    openingsWindowSeconds: string;
    transcriptGraceSeconds: string;
    keeper: string[];
    datasetOrigin: string[];
  }>();
  const keepers = o.keeper.map((k) => {
    const parsed = address.safeParse(k);
    if (!parsed.success) throw new UsageError(`--keeper: "${k}" is not a 20-byte 0x-prefixed hex address`);
    return parsed.data;
  });
  for (const origin of o.datasetOrigin) {
    const parsed = z.url({ protocol: /^https?$/ }).safeParse(origin);
    if (!parsed.success) throw new UsageError(`--dataset-origin: "${origin}" is not an http(s) URL`);
  }
  const privateKey = keyFromEnvironment(env, 'GUARDIAN_PRIVATE_KEY', 'guardian key');
  const book = loadAddressBook(o.addressBook);
  return {
    rpcUrl: o.rpcUrl,
    privateKey,
    chainId: book.chainId,
    contracts: {
      staking: book.contracts.NodeStaking,
      settlement: book.contracts.EpochSettlement,
      didRegistry: book.contracts.DidRegistry,
      license: book.contracts.WatchDogLicense,
      licenseRewards: book.contracts.LicenseRewards,
    },
    consensus: o.consensus ? loadConsensusParameters(o.consensus) : DEVNET_CONSENSUS,
    dataDir: o.dataDir,
    port: integerFlag(o.port, '--port', 0, 65535)!,
    host: o.host,
    maxDatasetBytes: integerFlag(o.maxDatasetMb, '--max-dataset-mb', 1, 1 << 20)! * 1024 * 1024,
    fromBlock: BigInt(book.startBlock),
    openingsWindowSeconds: integerFlag(o.openingsWindowSeconds, '--openings-window-seconds', 1, 86_400)!,
    transcriptGraceSeconds: integerFlag(o.transcriptGraceSeconds, '--transcript-grace-seconds', 0, 86_400)!,
    keepers,
    datasetOrigins: o.datasetOrigin,
  };
}
