/**
 * `npm run devnet`: the project's main job. One command starts a local chain (anvil) and Redis, deploys
 * and wires every contract, sets up a small live network — 20 edge nodes (two drop messages, one inflates
 * its commitment, one goes offline mid-epoch), 6 WatchDogs, 7 guardians (5-of-7), 50 clients sending
 * traffic — runs the keeper pipeline, and prints a table per settled epoch. Ctrl-C stops everything it
 * started.
 *
 *   npm run devnet                       # runs until Ctrl-C
 *   npm run devnet -- --epochs 3         # exits after 3 network epochs: 0 if every node got what its
 *                                        # behaviour must cost, 1 otherwise
 *   npm run devnet -- --help
 */
import { join, resolve } from 'node:path';
import { createConnection } from 'node:net';
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { pino } from 'pino';
import { repoRoot } from '../dev/foundry.js';
import { log } from '../infra/log.js';
import { DEMO_ACCOUNTS, Devnet } from './network.js';
import { checkEpoch, epochReport, renderEpochTable, type EpochReport } from './report.js';
import type { PopulationPlan } from './population.js';
import { fetchRankings } from '../cli/commands/rankings.js';
import { renderRankings } from '../cli/rankings.js';

const USAGE = `usage: npm run devnet -- [options]
  --epochs N            exit after N network epochs are settled (and their faults executed);
                        exit code 1 if any node did not get what its behaviour must cost
  --port N              anvil port (default 8545)
  --redis-url URL       use this Redis (default: a private redis-server in the data dir)
  --nodes N             edge nodes (default 20)      --clients N     clients (default 50)
  --watchdogs N         WatchDogs (default 6)        --guardians-down I,J   guardian indices not started
  --data-dir DIR        run data (default .devnet; wiped at start)
  --no-graph            do not start graph-node (Postgres + gnd) and the subgraph
  --graph-port N        graph-node GraphQL port (default 8000)
  --help`;

class UsageError extends Error {}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function intOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${value}"`);
  return n;
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        epochs: { type: 'string' },
        port: { type: 'string', default: '8545' },
        'redis-url': { type: 'string' },
        nodes: { type: 'string' },
        clients: { type: 'string' },
        watchdogs: { type: 'string' },
        'guardians-down': { type: 'string' },
        'data-dir': { type: 'string', default: '.devnet' },
        'no-graph': { type: 'boolean', default: false },
        'graph-port': { type: 'string', default: '8000' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const population: Partial<PopulationPlan> = {};
  const nodes = intOption(values.nodes, 'nodes', 4, 200);
  if (nodes !== undefined) population.nodes = nodes;
  const clients = intOption(values.clients, 'clients', 2, 2000);
  if (clients !== undefined) population.clients = clients;
  const watchdogs = intOption(values.watchdogs, 'watchdogs', 3, 50);
  if (watchdogs !== undefined) population.watchdogs = watchdogs;
  const guardiansDown = (values['guardians-down'] ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map((s) => intOption(s, 'guardians-down', 0, 6)!);
  return {
    help: values.help,
    epochs: intOption(values.epochs, 'epochs', 1, 1000),
    port: intOption(values.port, 'port', 1, 65535)!,
    redisUrl: values['redis-url'],
    dataDir: resolve(repoRoot, values['data-dir']),
    population,
    guardiansDown,
    graph: !values['no-graph'],
    graphPort: intOption(values['graph-port'], 'graph-port', 1, 65535)!,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The subgraph's ranking for `epoch` (top 5 by score), once graph-node has indexed its scores. */
async function printLiveRanking(graphqlUrl: string, epoch: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const { rows } = await fetchRankings(graphqlUrl, { by: 'score', top: 5, epoch });
      if (rows.length > 0) {
        console.log(`live ranking from the subgraph (${graphqlUrl}), epoch ${epoch}, top ${rows.length}:\n${renderRankings(rows)}`);
        return;
      }
    } catch (error) {
      if (Date.now() > deadline) return void console.log(`(subgraph ranking unavailable: ${(error as Error).message})`);
    }
    if (Date.now() > deadline) return void console.log(`(subgraph has not indexed epoch ${epoch}'s scores yet)`);
    await sleep(500);
  }
}

async function main() {
  const opts = options();
  if (opts.help) return console.log(USAGE);
  if (await portAnswers(opts.port)) throw new UsageError(`port ${opts.port} is already in use (another devnet or anvil?): stop it or pass --port`);
  if (opts.graph && (await portAnswers(opts.graphPort))) {
    throw new UsageError(`port ${opts.graphPort} is already in use (another graph-node?): stop it, pass --graph-port or --no-graph`);
  }

  console.log('devnet: starting anvil and Redis, deploying, setting up nodes, WatchDogs, guardians and clients…');
  mkdirSync(opts.dataDir, { recursive: true });
  const logFile = join(opts.dataDir, 'devnet.log');
  const serviceLog = pino({ level: process.env.LOG_LEVEL ?? 'info', base: undefined }, pino.destination({ dest: logFile, sync: false }));
  console.log(`devnet: service logs go to ${logFile} (keeper: ${join(opts.dataDir, 'keeper.log')})`);
  const devnet = await Devnet.start({
    log: serviceLog,
    port: opts.port,
    redisUrl: opts.redisUrl,
    dataDir: opts.dataDir,
    population: opts.population,
    guardiansDown: opts.guardiansDown,
    graph: opts.graph,
    graphPort: opts.graphPort,
    // the chain id of anvil's default chain: where `sendnet` and the subgraph manifest look for the book
    addressBookPath: join(repoRoot, 'deployments', '31337.json'),
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('devnet: stopping every process it started…');
    await devnet.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(130));
  process.once('SIGTERM', () => void stop(143));

  const { book } = devnet;
  console.log(`chain      ${devnet.rpcUrl} (chain id ${book.chainId})`);
  console.log(`addresses  ${devnet.bookPath}`);
  console.log(`allowlist  ${devnet.allowlistPath}  (presale allowlist phase open: the WatchDog owners and demo buyer dev account ${DEMO_ACCOUNTS.buyer})`);
  console.log(`keeper     ${devnet.keeper!.url}  (metrics: ${devnet.keeper!.url}/metrics)`);
  console.log(`guardians  ${devnet.guardianUrls.join(' ')}`);
  console.log(`redis      ${devnet.redis.url}`);
  if (devnet.graph) console.log(`graphql    ${devnet.graph.graphqlUrl}  (npx sendnet rankings --graphql ${devnet.graph.graphqlUrl})`);
  console.log(`nodes      ${devnet.population.nodes.map((n) => `#${n.index}${n.behaviour === 'honest' ? '' : `(${n.behaviour})`}`).join(' ')}`);
  console.log(`epochs     ${book.epochDurationSeconds} s each; the network takes part from epoch ${devnet.firstEpoch}`);

  const identities = devnet.population.nodes.map((n) => ({ index: n.index, nodeKey: n.nodeAddress, behaviour: n.behaviour }));
  const last = opts.epochs === undefined ? Infinity : devnet.firstEpoch + opts.epochs - 1;
  const printed = new Set<number>();
  const problems: string[] = [];
  let epoch = devnet.firstEpoch;
  const reports = new Map<number, EpochReport>();
  // A generous bound for --epochs: set-up is done; each epoch then takes its duration plus the pipeline.
  const deadline = opts.epochs === undefined ? Infinity : Date.now() + (opts.epochs + 4) * book.epochDurationSeconds * 1000 + 180_000;
  for (;;) {
    if (stopping) return;
    if (Date.now() > deadline) {
      problems.push(`epochs ${devnet.firstEpoch}..${last} did not all settle in time (last settled: ${epoch - 1})`);
      break;
    }
    try {
      const report = await epochReport(devnet.client, book, epoch, identities);
      if (report) {
        reports.set(epoch, report);
        // Printed once settled: scores published and every fault leaf executed (the table shows the slashes).
        if (report.faultsExecuted >= report.faultCount) {
          if (!printed.has(epoch)) {
            console.log('\n' + renderEpochTable(report));
            printed.add(epoch);
            if (devnet.graph) await printLiveRanking(devnet.graph.graphqlUrl, epoch);
          }
          problems.push(...checkEpoch(report, true));
          if (epoch >= last) break;
          epoch++;
          continue;
        }
      }
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'devnet: reading the chain failed; retrying');
    }
    await sleep(1000);
  }
  if (problems.length > 0) {
    console.error(`\ndevnet: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    await stop(1);
  }
  console.log(`\ndevnet: epochs ${devnet.firstEpoch}..${last} settled; every misbehaving node was caught and no honest node was penalised`);
  await stop(0);
}

main().catch((error) => {
  console.error(error instanceof UsageError ? `devnet: ${error.message}\n${USAGE}` : `devnet: ${(error as Error).stack ?? error}`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
