/**
 * Command line of the devnet (`npm run devnet -- --help`): the population, ports and data directory.
 */
import { resolve } from 'node:path';
import { repoRoot } from '../dev/foundry.js';
import { commandLine, integerFlag, parseCommandLine } from '../infra/commandLine.js';
import type { PopulationPlan } from './population.js';

export function devnetCommand() {
  return commandLine(
    'npm run devnet --',
    'The whole network live on one machine: anvil, Redis, contracts, edge nodes, WatchDogs, guardians, clients, the keeper and graph-node',
  )
    .option(
      '--epochs <n>',
      'exit after N network epochs are settled (and their faults executed); exit code 1 if any node did not get what its behaviour must cost',
    )
    .option('--port <n>', 'anvil port', '8545')
    .option('--redis-url <url>', 'use this Redis (default: a private redis-server in the data dir)')
    .option('--nodes <n>', 'edge nodes (default 20)')
    .option('--clients <n>', 'clients (default 50)')
    .option('--watchdogs <n>', 'WatchDogs (default 6)')
    .option('--guardians-down <i,j>', 'guardian indices not started')
    .option('--data-dir <dir>', 'run data (wiped at start)', '.devnet')
    .option('--no-graph', 'do not start graph-node (Postgres + gnd) and the subgraph')
    .option('--graph-port <n>', 'graph-node GraphQL port', '8000')
    .option(
      '--points',
      'points mode (docs/points.md): nodes, guardians and licenses earn testnet points; with --epochs N the N epochs are the points epochs, then the run snapshots, funds the conversion from the treasury and converts a node, a guardian and a license into SEND',
    );
}

export interface DevnetCommandOptions {
  epochs: number | undefined;
  port: number;
  redisUrl: string | undefined;
  dataDir: string;
  population: Partial<PopulationPlan>;
  guardiansDown: number[];
  graph: boolean;
  graphPort: number;
  /** `--points`: deploy and run in points mode. */
  points: boolean;
}

/** The devnet's options from argv; null when the help was printed. Throws UsageError naming a bad flag. */
export function parseDevnetArgs(argv: readonly string[]): DevnetCommandOptions | null {
  const command = devnetCommand();
  if (!parseCommandLine(command, argv)) return null;
  const values = command.opts<{
    epochs?: string;
    port: string;
    redisUrl?: string;
    nodes?: string;
    clients?: string;
    watchdogs?: string;
    guardiansDown?: string;
    dataDir: string;
    graph: boolean;
    graphPort: string;
    points?: boolean;
  }>();
  const population: Partial<PopulationPlan> = {};
  const nodes = integerFlag(values.nodes, '--nodes', 4, 200);
  if (nodes !== undefined) population.nodes = nodes;
  const clients = integerFlag(values.clients, '--clients', 2, 2000);
  if (clients !== undefined) population.clients = clients;
  const watchdogs = integerFlag(values.watchdogs, '--watchdogs', 3, 50);
  if (watchdogs !== undefined) population.watchdogs = watchdogs;
  const guardiansDown = (values.guardiansDown ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map((s) => integerFlag(s, '--guardians-down', 0, 6)!);
  return {
    epochs: integerFlag(values.epochs, '--epochs', 1, 1000),
    port: integerFlag(values.port, '--port', 1, 65535)!,
    redisUrl: values.redisUrl,
    dataDir: resolve(repoRoot, values.dataDir),
    population,
    guardiansDown,
    graph: values.graph,
    graphPort: integerFlag(values.graphPort, '--graph-port', 1, 65535)!,
    points: values.points === true,
  };
}
