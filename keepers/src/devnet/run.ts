/**
 * `npm run devnet`: the project's main job. One command starts a local chain (anvil) and Redis, deploys
 * and wires every contract, sets up a small live network — 20 edge nodes (two drop messages, one inflates
 * its commitment, one goes offline when the network's first epoch starts, one commits only after the seed),
 * a third party racing the guardians with framing datasets, 6 WatchDogs and two colluding licenses of one
 * holder, 7 guardians (5-of-7), 50 clients sending traffic — runs the keeper pipeline, and prints a table
 * per settled epoch. Ctrl-C stops everything it started.
 *
 *   npm run devnet                       # runs until Ctrl-C
 *   npm run devnet -- --epochs 3         # exits after 3 network epochs: 0 if every node got what its
 *                                        # behaviour must cost, 1 otherwise
 *   npm run devnet -- --help
 *
 * The entry is main.ts; the flags are in command.ts.
 */
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { mkdirSync } from 'node:fs';
import { pino } from 'pino';
import { formatUnits } from 'viem';
import { repoRoot } from '../dev/foundry.js';
import { UsageError } from '../core/errors.js';
import { log } from '../infra/log.js';
import type { DevnetCommandOptions } from './command.js';
import { DEMO_ACCOUNTS, Devnet } from './network.js';
import {
  checkEpoch,
  epochReport,
  misbehaviourLedger,
  renderEpochTable,
  renderMisbehaviourTable,
  type EpochReport,
  type MisbehaviourEntry,
  type RewardUnit,
} from './report.js';
import { runPointsConversion } from './pointsConversion.js';
import { devAccount } from './devAccounts.js';
import { checkCollusionInWorker } from './collusionCheck.js';
import { epochSettlementAbi } from '../generated/contracts.js';
import { framingProblems } from './framer.js';
import { fetchRankings } from '../cli/commands/rankings.js';
import { renderRankings } from '../cli/rankings.js';

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The subgraph's ranking for `epoch` (top 5 by score), once graph-node has indexed its scores. */
async function printLiveRanking(graphqlUrl: string, epoch: number, unit: RewardUnit): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const { rows } = await fetchRankings(graphqlUrl, { by: 'score', top: 5, epoch });
      if (rows.length > 0) {
        console.log(
          `live ranking from the subgraph (${graphqlUrl}), epoch ${epoch}, top ${rows.length}${unit === 'points' ? ' (rewards in points, stake in SEND)' : ''}:\n${renderRankings(rows, unit === 'points' ? 'points' : 'SEND')}`,
        );
        return;
      }
    } catch (error) {
      if (Date.now() > deadline) return void console.log(`(subgraph ranking unavailable: ${(error as Error).message})`);
    }
    if (Date.now() > deadline) return void console.log(`(subgraph has not indexed epoch ${epoch}'s scores yet)`);
    await sleep(500);
  }
}

/** Points epochs of `npm run devnet -- --points` without `--epochs` (then it converts and runs on). */
const POINTS_EPOCHS_UNTIL_STOPPED = 5;

/**
 * Runs the devnet until `waitForStop` resolves (Ctrl-C) or, with `--epochs`, until those epochs are
 * settled; returns the process's exit code. Stops every process it started before returning.
 */
export async function runDevnet(
  opts: DevnetCommandOptions,
  waitForStop: () => Promise<NodeJS.Signals>,
): Promise<number> {
  if (await portAnswers(opts.port))
    throw new UsageError(`port ${opts.port} is already in use (another devnet or anvil?): stop it or pass --port`);
  if (opts.graph && (await portAnswers(opts.graphPort))) {
    throw new UsageError(
      `port ${opts.graphPort} is already in use (another graph-node?): stop it, pass --graph-port or --no-graph`,
    );
  }

  console.log('devnet: starting anvil and Redis, deploying, setting up nodes, WatchDogs, guardians and clients…');
  mkdirSync(opts.dataDir, { recursive: true });
  const logFile = join(opts.dataDir, 'devnet.log');
  const serviceLog = pino(
    { level: process.env.LOG_LEVEL ?? 'info', base: undefined },
    pino.destination({ dest: logFile, sync: false }),
  );
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
    // points mode: the run's epochs (or POINTS_EPOCHS_UNTIL_STOPPED while running until Ctrl-C) are the points epochs
    points: opts.points ? { epochs: opts.epochs ?? POINTS_EPOCHS_UNTIL_STOPPED } : undefined,
    // the chain id of anvil's default chain: where `sendnet` and the subgraph manifest look for the book
    addressBookPath: join(repoRoot, 'deployments', '31337.json'),
  });
  let stopSignal: NodeJS.Signals | undefined;
  void waitForStop().then((signal) => (stopSignal = signal));
  const stop = async (code: number) => {
    console.log('devnet: stopping every process it started…');
    await devnet.stop();
    return code;
  };

  const { book } = devnet;
  console.log(`chain      ${devnet.rpcUrl} (chain id ${book.chainId})`);
  console.log(`addresses  ${devnet.bookPath}`);
  console.log(
    `allowlist  ${devnet.allowlistPath}  (presale allowlist phase open: the WatchDog owners and demo buyer dev account ${DEMO_ACCOUNTS.buyer})`,
  );
  console.log(`keeper     ${devnet.keeper!.url}  (metrics: ${devnet.keeper!.url}/metrics)`);
  console.log(`guardians  ${devnet.guardianUrls.join(' ')}`);
  console.log(`redis      ${devnet.redis.url}`);
  if (devnet.graph)
    console.log(`graphql    ${devnet.graph.graphqlUrl}  (npx sendnet rankings --graphql ${devnet.graph.graphqlUrl})`);
  console.log(
    `nodes      ${devnet.population.nodes.map((n) => `#${n.index}${n.behaviour === 'honest' ? '' : `(${n.behaviour})`}`).join(' ')}`,
  );
  console.log(`epochs     ${book.epochDurationSeconds} s each; the network takes part from epoch ${devnet.firstEpoch}`);
  const points = devnet.points;
  const unit: RewardUnit = points ? 'points' : 'SEND';
  if (points) {
    console.log(
      `points     points mode: rewards are testnet points; epochs up to ${points.lastPointsEpoch} are points epochs, then the snapshot; 1 point = ${formatUnits(points.ratio, 18)} SEND (PointsConversion ${book.contracts.PointsConversion})`,
    );
    if (opts.epochs === undefined && points.lastPointsEpoch < devnet.firstEpoch)
      console.log(
        `points     the set-up took longer than the ${points.setupSeconds} s the points deploy allowed: no network epoch is a points epoch, nothing will be converted`,
      );
  }

  const identities = devnet.population.nodes.map((n) => ({
    index: n.index,
    nodeKey: n.nodeAddress,
    behaviour: n.behaviour,
  }));
  const last = opts.epochs === undefined ? Infinity : devnet.firstEpoch + opts.epochs - 1;
  const printed = new Set<number>();
  const problems: string[] = [];
  let epoch = devnet.firstEpoch;
  const reports = new Map<number, EpochReport>();
  const ledger: MisbehaviourEntry[] = [];
  // A generous bound for --epochs: set-up is done; each epoch then takes its duration plus the pipeline.
  // In points mode the first network epoch may be a few epochs away (network.ts): counted from its start.
  const from = points ? Math.max(Date.now(), devnet.clock.epochStart(devnet.firstEpoch) * 1000) : Date.now();
  const deadline =
    opts.epochs === undefined ? Infinity : from + (opts.epochs + 4) * book.epochDurationSeconds * 1000 + 180_000;
  for (;;) {
    if (stopSignal) return stop(stopSignal === 'SIGINT' ? 130 : 143);
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
            console.log(`\n${renderEpochTable(report, unit)}`);
            printed.add(epoch);
            if (devnet.graph) await printLiveRanking(devnet.graph.graphqlUrl, epoch, unit);
          }
          problems.push(...checkEpoch(report, true, points?.ratio));
          ledger.push(...misbehaviourLedger(report, points?.ratio));
          if (devnet.colludingLicenses.length > 0) {
            const collusion = await checkCollusionInWorker(epoch, await publishedDataset(devnet, epoch), {
              licenses: devnet.colludingLicenses,
              ...devnet.collusionTargets(),
            });
            console.log(
              `colluding WatchDogs: ${collusion.lies} lie(s) about the victim and the offline node this epoch, ${collusion.problems.length === 0 ? 'every one an unpaid outlier' : 'NOT all caught'}`,
            );
            problems.push(...collusion.problems);
          }
          // Running until Ctrl-C in points mode: convert once the last points epoch is settled, then go on.
          if (points && opts.epochs === undefined && epoch === points.lastPointsEpoch)
            problems.push(...(await convertPoints(devnet)));
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
  if (ledger.length > 0)
    console.log(
      `\nmisbehaving nodes, reward against slash per epoch (net ≤ 0 required${points ? '; points count at the conversion ratio' : ''}):\n${renderMisbehaviourTable(ledger, unit)}`,
    );
  if (points && opts.epochs !== undefined) {
    if (points.lastPointsEpoch < devnet.firstEpoch + opts.epochs - 1)
      console.log(
        `devnet: the set-up took longer than the ${points.setupSeconds} s the points deploy allowed: only epochs up to ${points.lastPointsEpoch} are points epochs`,
      );
    if (points.lastPointsEpoch < devnet.firstEpoch)
      problems.push(
        `no network epoch is a points epoch: the last points epoch ${points.lastPointsEpoch} precedes the first network epoch ${devnet.firstEpoch} (set-up over ${points.setupSeconds} s)`,
      );
    else problems.push(...(await convertPoints(devnet)));
  }
  problems.push(...framingProblems(devnet.framer?.attempts ?? []));
  const refused = (devnet.framer?.attempts ?? []).filter((x) => x.status !== 200).length;
  if (refused > 0) console.log(`devnet: the framing racer's ${refused} /sign requests were all refused`);
  if (problems.length > 0) {
    console.error(`\ndevnet: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    return stop(1);
  }
  console.log(
    `\ndevnet: epochs ${devnet.firstEpoch}..${last} settled; every misbehaving node was caught and netted no SEND (the slashed ones less than nothing), the late committer got no volume credit, no guardian signed the framer's header, the colluding WatchDogs gained nothing and no honest node was penalised`,
  );
  if (points && opts.epochs !== undefined)
    console.log(
      `devnet: points converted at epoch ${points.lastPointsEpoch}'s snapshot: each conversion paid points × ratio in SEND, none converted twice, and no ejected node converted`,
    );
  return stop(0);
}

/**
 * Points mode: snapshot, funding and conversions (pointsConversion.ts); prints what each received and
 * returns the problems. A conversion that cannot be carried out at all is one problem naming why.
 */
async function convertPoints(devnet: Devnet): Promise<string[]> {
  const points = devnet.points!;
  console.log(`\npoints: converting at the last points epoch ${points.lastPointsEpoch}…`);
  try {
    const report = await runPointsConversion({
      client: devnet.client,
      rpcUrl: devnet.rpcUrl,
      book: devnet.book,
      keeperUrl: devnet.keeper!.url,
      lastPointsEpoch: points.lastPointsEpoch,
      ratio: points.ratio,
      nodes: devnet.population.nodes,
      guardians: devnet.guardianAccounts.map((i) => devAccount(i).address),
      licenses: devnet.population.watchdogs.map((w, i) => ({
        tokenId: devnet.licenses[i]!,
        colluding: w.behaviour === 'colluder',
      })),
    });
    for (const line of report.lines) console.log(`points: ${line}`);
    return report.problems;
  } catch (error) {
    return [`points conversion failed: ${(error as Error).message}`];
  }
}

/** The dataset the keeper published for the epoch's settled header (by its `dataHash`), as text. */
async function publishedDataset(devnet: Devnet, epoch: number): Promise<string> {
  const submitted = await devnet.client.getContractEvents({
    address: devnet.book.contracts.EpochSettlement,
    abi: epochSettlementAbi,
    eventName: 'EpochSubmitted',
    args: { epoch },
    fromBlock: BigInt(devnet.book.startBlock),
  });
  const header = submitted.at(-1)?.args.header;
  if (!header) throw new Error(`epoch ${epoch} has no EpochSubmitted event`);
  const url = `${devnet.keeper!.url}/datasets/${header.dataHash}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.text();
}
