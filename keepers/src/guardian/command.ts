import { loadAddressBook } from '../chain/addressBook.js';
import { DEVNET_CONSENSUS } from '../core/consensus.js';
import { loadConsensusParameters } from '../infra/configFile.js';
import { commandLine, integerFlag, keyFromEnvironment, parseCommandLine } from '../infra/commandLine.js';
import type { GuardianOptions } from './guardian.js';

export function guardianCommand() {
  return commandLine('guardian', 'SendingNetwork guardian: recomputes epochs and signs their headers')
    .requiredOption('--rpc-url <url>', 'JSON-RPC endpoint')
    .requiredOption('--address-book <file>', 'deployment address book (deployments/*.json)')
    .requiredOption('--data-dir <dir>', 'directory for the signed-epochs record')
    .option('--port <n>', 'HTTP port', '7300')
    .option('--host <host>', 'HTTP host', '127.0.0.1')
    .option('--consensus <file>', 'consensus parameters JSON (default: devnet parameters)')
    .option('--max-dataset-mb <n>', 'largest dataset accepted, MiB', '512');
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
  }>();
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
  };
}
