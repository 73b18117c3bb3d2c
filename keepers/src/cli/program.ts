/**
 * The `sendnet` command tree (commander 14): global options (RPC, address book, GraphQL endpoint, signer,
 * --json), the command groups, and `runCli`, which parses argv, runs the command and turns any failure
 * into one sentence on stderr (and a JSON error on stdout with --json) plus a non-zero exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { describeError } from './describeError.js';
import { ExitCode } from './errors.js';
import { DEFAULT_GRAPHQL } from './graphql.js';
import { toJson } from './output.js';
import { DEFAULT_RPC } from './session.js';
import { DEFAULT_PRIVATE_KEY_ENV } from './signer.js';
import { didCommand } from './commands/did.js';
import { keystoreCommand } from './commands/keystore.js';
import { nodeCommand } from './commands/node.js';
import { pointsCommand } from './commands/points.js';
import { licenseCommand, presaleCommand } from './commands/presale.js';
import { rankingsCommand } from './commands/rankings.js';
import { withExamples } from './commands/common.js';

export function buildProgram(): Command {
  const program = new Command('sendnet')
    .description(
      'SendingNetwork from the command line: run edge nodes, buy WatchDog licenses, own a DID, and read node rankings.\n' +
        'Works against any RPC and address book; signs with a key from an environment variable or an encrypted keystore.',
    )
    .addOption(new Option('--rpc <url>', 'JSON-RPC endpoint of the chain').env('SENDNET_RPC').default(DEFAULT_RPC))
    .addOption(
      new Option(
        '--deployments <file>',
        'address book written by the deploy script (default: deployments/<chainId>.json)',
      ).env('SENDNET_DEPLOYMENTS'),
    )
    .addOption(
      new Option('--graphql <url>', `subgraph GraphQL endpoint for rankings (default: ${DEFAULT_GRAPHQL})`).env(
        'SENDNET_GRAPHQL',
      ),
    )
    .addOption(
      new Option('--private-key-env <name>', 'environment variable holding the signer’s hex private key').default(
        DEFAULT_PRIVATE_KEY_ENV,
      ),
    )
    .addOption(
      new Option(
        '--keystore <file>',
        'sign with this encrypted keystore instead (password: SENDNET_KEYSTORE_PASSWORD or a prompt)',
      ).env('SENDNET_KEYSTORE'),
    )
    .option('--json', 'print machine-readable JSON instead of tables')
    .showSuggestionAfterError()
    .exitOverride()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true });

  for (const command of [
    nodeCommand(),
    presaleCommand(),
    licenseCommand(),
    didCommand(),
    rankingsCommand(),
    pointsCommand(),
    keystoreCommand(),
  ]) {
    program.addCommand(command);
  }
  withExamples(program, [
    'sendnet node register --stake 10000 --endpoint ws://node1.example:7000',
    'sendnet presale buy --quantity 2 --max-total-cost 0.25',
    'sendnet did register alice && sendnet did resolve alice',
    'sendnet rankings --top 20 --by uptime',
    'sendnet points --node 0xNodeKey…',
    'sendnet <command> --help',
  ]);
  // every command and group exits through runCli instead of process.exit
  const applyToAll = (command: Command) => {
    command.exitOverride().configureHelp({ showGlobalOptions: true });
    command.commands.forEach(applyToAll);
  };
  applyToAll(program);
  return program;
}

/** Parses `argv` (user arguments only, without node and the script) and runs the command. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the help or its one-line usage error
      return error.exitCode === 0 ? 0 : ExitCode.Usage;
    }
    const described = describeError(error);
    if (json) process.stdout.write(`${toJson({ error: { code: described.code, message: described.message } })}\n`);
    process.stderr.write(`error: ${described.message}\n`);
    if (process.env.SENDNET_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    return described.exitCode;
  }
}
