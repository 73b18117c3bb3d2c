/**
 * A whole live network on one machine: anvil (1 s blocks), Redis, every contract deployed and wired, and
 * the reference services on top — edge nodes (some misbehaving), WatchDogs, seven guardians, clients
 * sending traffic, and the keeper as its own process (so it can be killed and restarted like in
 * production). `npm run devnet` drives it; the integration tests use it as a library.
 *
 * Epochs that start before the services are up are empty and settle as such; the first "network epoch"
 * is the first one whose WatchDog commits could be made in time (`firstEpoch`).
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createPublicClient, http, parseEther, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import type { Logger } from 'pino';
import { freePort, startAnvil, type AnvilHandle } from '../dev/anvil.js';
import { deployProtocol } from './deploy.js';
import { devAccount, devPrivateKey } from './devAccounts.js';
import { forgeScratchDir, repoRoot } from '../dev/foundry.js';
import type { AddressBook } from '../chain/addressBook.js';
import { DEVNET_CONSENSUS, type ConsensusParameters } from '../core/consensus.js';
import { allowlistDocument } from '../cli/allowlist.js';
import { nodeStakingDomain } from '../core/commitment.js';
import { ensureRedis, type RedisHandle } from '../infra/redis.js';
import { startGraphNode, type GraphNodeHandle } from '../infra/graphNode.js';
import { commitDeadline, epochEnd, epochStart, openingsDeadline, transcriptDeadline } from '../core/deadlines.js';
import { parseKeeperTiming } from '../keeper/config.js';
import { log as rootLog } from '../infra/log.js';
import { EdgeNode } from '../edge-node/edgeNode.js';
import { RelayClient } from '../client/relayClient.js';
import { didRegistryKeyDirectory } from '../chain/didKeyDirectory.js';
import { EpochClock } from '../core/epochClock.js';
import { WatchDogService, type WatchDogOptions } from '../watchdog/watchdog.js';
import type { TranscriptResult } from '../core/watchdogSchedule.js';
import { writeDevnetDeployConfig } from './deployConfig.js';
import { isRunning, startService, stopService, waitForHealth, type ServiceProcess } from './processes.js';
import { buildPopulation, type Population, type PopulationPlan, type WatchdogPlan } from './population.js';
import {
  allowlistFor,
  buyLicenses,
  type Allowlist,
  distributeSend,
  fundEth,
  openAllowlist,
  registerDids,
  registerNodes,
} from './setup.js';
import { TrafficGenerator } from './traffic.js';
import { Framer } from './framer.js';

/** Anvil dev accounts: 0 deploys and owns, 1 is the treasury, 2 the keeper, 3–9 the guardians. */
const KEEPER_ACCOUNT = 2;
const GUARDIAN_ACCOUNTS = [3, 4, 5, 6, 7, 8, 9];
/**
 * Anvil dev accounts the devnet funds for people trying the CLI journeys (README): `buyer` is on the
 * published allowlist with `DEMO_ALLOWANCE` licenses, `didOwner` registers DIDs. No devnet service uses them.
 */
export const DEMO_ACCOUNTS = { buyer: 10, didOwner: 11 } as const;
const DEMO_ALLOWANCE = 3n;
/** Seconds the WatchDogs get to commit to the first network epoch before it starts. */
const FIRST_EPOCH_LEAD_SECONDS = 5;
/**
 * Points mode: seconds allowed for starting the services (keeper, guardians, nodes, WatchDogs, clients) after
 * the population is set up; measured 14–27 s on 2 shared cores.
 */
const SERVICES_START_SECONDS = 40;

/**
 * SEND wei per point wei, scaled by 1e18, of the points devnet: 1 point = 0.25 SEND. Not 1, so that a
 * conversion that paid points instead of SEND (or forgot the ratio) shows; below 1, like a testnet reward
 * should be, and the treasury's reward allocations (430M + 120M SEND) cover it many times.
 */
export const DEVNET_POINTS_RATIO = 250_000_000_000_000_000n;
/**
 * The conversion closes an hour after the last points epoch ends: the run converts within a minute of it,
 * and someone trying `sendnet points` by hand on a devnet left running has the rest of the hour; after it
 * `sweep()` returns what is left to the treasury.
 */
export const DEVNET_CONVERSION_DEADLINE_OFFSET_SECONDS = 3600;

/** What the points deploy is given: the last points epoch (from the set-up bound) and the ratio. */
export interface PointsPlan {
  /** Network epochs that are points epochs. */
  epochs: number;
  lastPointsEpoch: number;
  ratio: bigint;
  conversionDeadlineOffsetSeconds: number;
  /** The set-up bound the plan assumed (seconds from the deploy to every service running). */
  setupSeconds: number;
  /** Unix seconds of epoch 1's start, written into the deploy config (so the epoch numbers are known). */
  genesisTime: number;
}

/**
 * A bound on the set-up (seconds from the deploy to every service running), scaled with what it registers.
 * Measured on 2 shared cores: 20 nodes, 8 WatchDog licenses and 50 clients took 86 s at load 3–4; 6 nodes,
 * 5 licenses and 12 clients took 110 s at load 7 (the deploy itself is most of a small run). The bound is
 * 238 s and 126 s for those: a quicker set-up only makes the run wait for its first network epoch.
 */
export function setupBoundSeconds(population: { nodes: number; watchdogs: number; clients: number }): number {
  return 60 + 4 * population.nodes + 6 * population.watchdogs + population.clients;
}

/**
 * The points plan of a run deployed at `nowSeconds`: genesis then, and the last points epoch such that,
 * if the set-up takes at most `setupSeconds`, the first network epoch (the one after the epoch in progress
 * `FIRST_EPOCH_LEAD_SECONDS` after the set-up) and the `epochs − 1` after it are points epochs. Pure.
 */
export function pointsPlan(
  nowSeconds: number,
  epochDurationSeconds: number,
  options: { epochs: number; ratio?: bigint; setupSeconds: number },
): PointsPlan {
  const genesisTime = Math.floor(nowSeconds);
  const ready = genesisTime + options.setupSeconds + FIRST_EPOCH_LEAD_SECONDS;
  const firstEpoch = Math.floor((ready - genesisTime) / epochDurationSeconds) + 2;
  return {
    epochs: options.epochs,
    lastPointsEpoch: firstEpoch + options.epochs - 1,
    ratio: options.ratio ?? DEVNET_POINTS_RATIO,
    conversionDeadlineOffsetSeconds: DEVNET_CONVERSION_DEADLINE_OFFSET_SECONDS,
    setupSeconds: options.setupSeconds,
    genesisTime,
  };
}

export interface DevnetOptions {
  /** anvil port (0: a free one). */
  port?: number;
  /** A Redis to use; default: a private redis-server on a free port in the data dir. */
  redisUrl?: string;
  /** Everything the run writes (its subfolders are wiped at start). */
  dataDir: string;
  population?: Partial<PopulationPlan>;
  /** Guardian indices (0–6) not to start. */
  guardiansDown?: readonly number[];
  /**
   * Where the deploy script writes the address book; removed by `stop()`. Default
   * `deployments/local-<anvil port>.json`; `npm run devnet` uses `deployments/31337.json`, where `sendnet`
   * and `npm run subgraph:manifest` look by default.
   */
  addressBookPath?: string;
  /** Deploy config the run derives its own from (default config/devnet.json). */
  baseConfig?: string;
  /** Messages per second each client sends (default 0.5). */
  messagesPerSecond?: number;
  log?: Logger;
  /**
   * Also run graph-node (`gnd dev` on a private Postgres cluster, infra/graphNode.ts) indexing the
   * subgraph; its GraphQL URL is `devnet.graph.graphqlUrl`. Default false (the CLI turns it on).
   */
  graph?: boolean;
  /** GraphQL port of graph-node (default 8000). */
  graphPort?: number;
  /**
   * Points mode (docs/points.md): the settlement and license rewards pay testnet points, and
   * `PointsConversion` converts them into SEND. `epochs` network epochs are points epochs: the deploy
   * (which happens before the first network epoch is known) sets `lastPointsEpoch` from a bound on the
   * set-up time (`pointsPlan`); when the set-up finished earlier the services start later
   * (`waitForPointsWindow`) and the network's first epoch is `lastPointsEpoch − epochs + 1`.
   */
  points?: { epochs: number; ratio?: bigint; setupSeconds?: number };
  /** Where the keeper's and guardians' output goes (default: `<dataDir>/keeper.log`, `guardian-<i>.log`). */
  serviceOutput?: 'inherit' | 'files';
}

/** `settlement.epochDurationSeconds` of the base deploy config (default config/devnet.json). */
function baseEpochDuration(baseConfig: string | undefined): number {
  const config = JSON.parse(readFileSync(join(repoRoot, baseConfig ?? 'config/devnet.json'), 'utf8'));
  return Number(config.settlement.epochDurationSeconds);
}

export class Devnet {
  readonly guardians: (ServiceProcess | undefined)[] = [];
  readonly guardianUrls: string[] = [];
  readonly nodes: EdgeNode[] = [];
  readonly watchdogs: WatchDogService[] = [];
  readonly clients: RelayClient[] = [];
  keeper?: ServiceProcess;
  graph?: GraphNodeHandle;
  private graphStarting?: Promise<GraphNodeHandle>;
  traffic?: TrafficGenerator;
  /** The third party racing the guardians with framing datasets (issue 11 finding 1). */
  framer?: Framer;
  /** The first epoch the whole network takes part in. */
  firstEpoch = 0;
  /** Points mode: what the deploy was given (undefined in a token deployment). */
  points?: PointsPlan;
  /** Anvil dev accounts of the seven guardians (their reward leaves are these accounts'). */
  readonly guardianAccounts: readonly number[] = GUARDIAN_ACCOUNTS;
  /** Token ids of the WatchDog licenses, in plan order. */
  get licenses(): readonly bigint[] {
    return this.licenseIds;
  }
  private keeperPort = 0;
  private stopping = false;

  private constructor(
    readonly options: DevnetOptions,
    readonly anvil: AnvilHandle,
    readonly redis: RedisHandle,
    readonly book: AddressBook,
    readonly bookPath: string,
    /** The run's derived deploy config (relative to the repo root); removed by `stop()`. */
    readonly configPath: string,
    readonly population: Population,
    readonly client: PublicClient,
    readonly log: Logger,
  ) {}

  /** The presale allowlist the devnet scheduled, in the `sendnet presale buy --allowlist` file format. */
  get allowlistPath(): string {
    return join(this.options.dataDir, 'allowlist.json');
  }

  get rpcUrl(): string {
    return this.anvil.rpcUrl;
  }

  get consensus(): ConsensusParameters {
    // the keeper, guardian and WatchDog processes all run with the devnet parameters
    return DEVNET_CONSENSUS;
  }

  get clock(): EpochClock {
    return new EpochClock({
      genesisTime: this.book.genesisTime,
      epochDurationSeconds: this.book.epochDurationSeconds,
      commitGraceSeconds: this.consensus.commitGraceSeconds,
    });
  }

  /**
   * When the pipeline of `epoch` can act (Unix seconds; the keeper runs with its default timing): the
   * epoch's start and end, the nodes' commit deadline (collection starts), the openings deadline (scoring
   * starts after it), and the transcript deadline. A healthy epoch is submitted a few seconds after
   * `openingsDeadline` and finalizes `disputeWindowSeconds` later.
   */
  epochTimes(epoch: number): {
    start: number;
    end: number;
    commitDeadline: number;
    openingsDeadline: number;
    transcriptDeadline: number;
  } {
    const clock = { genesisTime: this.book.genesisTime, epochDuration: this.book.epochDurationSeconds };
    const timing = parseKeeperTiming({});
    const deadlines = {
      commitGraceSeconds: this.consensus.commitGraceSeconds,
      assignmentLeadSeconds: this.consensus.assignmentLeadSeconds,
      openingsWindowSeconds: timing.openingsWindowSeconds,
      transcriptGraceSeconds: timing.transcriptGraceSeconds,
    };
    return {
      start: epochStart(clock, epoch),
      end: epochEnd(clock, epoch),
      commitDeadline: commitDeadline(clock, deadlines, epoch),
      openingsDeadline: openingsDeadline(clock, deadlines, epoch),
      transcriptDeadline: transcriptDeadline(clock, deadlines, epoch),
    };
  }

  /** Starts chain, Redis, deployment, population set-up and every service. */
  static async start(options: DevnetOptions): Promise<Devnet> {
    const log = options.log ?? rootLog.child({ service: 'devnet' });
    // A fresh chain: state of an earlier run (node stores, guardian records, Redis) must not leak in.
    mkdirSync(options.dataDir, { recursive: true });
    for (const entry of readdirSync(options.dataDir, { withFileTypes: true })) {
      if (
        ['nodes', 'guardians', 'watchdogs', 'keeper', 'redis', 'allowlist.json'].includes(entry.name) ||
        /^(keeper|guardian-\d+)\.log$/.test(entry.name)
      ) {
        rmSync(join(options.dataDir, entry.name), { recursive: true, force: true });
      }
    }
    const anvil = await startAnvil({ port: options.port || undefined, blockTime: 1 });
    let redis: RedisHandle | undefined;
    let configPath: string | undefined;
    try {
      redis = await ensureRedis({
        url: options.redisUrl ?? `redis://127.0.0.1:${await freePort()}`,
        dataDir: join(options.dataDir, 'redis'),
      });
      const runLabel = `${anvil.port}-${Date.now()}`;
      const population = buildPopulation(runLabel, options.population);
      log.info({ rpcUrl: anvil.rpcUrl, redis: redis.url }, 'chain and Redis up; deploying');
      const points = options.points
        ? pointsPlan(Date.now() / 1000, baseEpochDuration(options.baseConfig), {
            epochs: options.points.epochs,
            ratio: options.points.ratio,
            setupSeconds:
              options.points.setupSeconds ??
              setupBoundSeconds({
                nodes: population.nodes.length,
                watchdogs: population.watchdogs.length,
                clients: population.clients.length,
              }),
          })
        : undefined;
      configPath = writeDevnetDeployConfig({
        tag: String(anvil.port),
        baseConfig: options.baseConfig,
        genesisTime: points?.genesisTime ?? 0,
        points,
      });
      const bookPath = options.addressBookPath ?? join(forgeScratchDir('devnet-book'), 'addresses.json');
      const { book } = await deployProtocol({
        rpcUrl: anvil.rpcUrl,
        privateKey: devPrivateKey(0),
        configPath,
        addressBookPath: bookPath,
      });
      const client = createPublicClient({
        chain: { ...foundry, id: book.chainId },
        transport: http(anvil.rpcUrl),
      }) as PublicClient;
      const devnet = new Devnet(options, anvil, redis, book, bookPath, configPath, population, client, log);
      devnet.points = points;
      try {
        // graph-node indexes from the deployment block, so it can start while the population is set up.
        const graph = options.graph
          ? startGraphNode({
              rpcUrl: anvil.rpcUrl,
              addressBookPath: bookPath,
              dataDir: join(options.dataDir, 'graph'),
              httpPort: options.graphPort,
            })
          : undefined;
        devnet.graphStarting = graph;
        graph?.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
        await devnet.setUpPopulation();
        await devnet.waitForPointsWindow();
        await devnet.startServices();
        devnet.graph = await graph;
      } catch (error) {
        await devnet.stop();
        throw error;
      }
      return devnet;
    } catch (error) {
      await redis?.stop();
      await anvil.stop();
      if (configPath) rmSync(dirname(configPath), { recursive: true, force: true });
      throw error;
    }
  }

  /** Funds, registers and stakes nodes, buys WatchDog licenses, registers DIDs (docs/keepers.md §1). */
  private async setUpPopulation(): Promise<void> {
    const ctx = { rpcUrl: this.rpcUrl, book: this.book };
    const { nodes, watchdogs, clients } = this.population;
    const address = (key: Hex) => privateKeyToAccount(key).address;
    const wallets = [
      ...nodes.map((n) => n.operatorKey),
      ...watchdogs.map((w) => w.ownerKey),
      ...clients.map((c) => c.walletKey),
    ];
    const demo = [devPrivateKey(DEMO_ACCOUNTS.buyer), devPrivateKey(DEMO_ACCOUNTS.didOwner)];
    await fundEth(ctx, [...wallets, ...demo].map(address), parseEther('1000'));
    const stake = parseEther('20000');
    await distributeSend(
      ctx,
      devPrivateKey(1),
      nodes.map((n) => n.operator),
      stake,
    );
    this.nodePorts = await Promise.all(nodes.map(() => freePort()));
    // The WatchDog owners (one license each; the colluding holder as many as it runs) and the demo buyer;
    // published as a file for `sendnet presale buy --allowlist`.
    const perOwner = new Map<Hex, bigint>();
    for (const w of watchdogs) perOwner.set(w.ownerKey, (perOwner.get(w.ownerKey) ?? 0n) + 1n);
    const allowlist = allowlistFor([
      ...[...perOwner].map(([ownerKey, maxQuantity]) => ({ account: address(ownerKey), maxQuantity })),
      { account: address(demo[0]!), maxQuantity: DEMO_ALLOWANCE },
    ]);
    writeFileSync(
      this.allowlistPath,
      `${JSON.stringify(
        allowlistDocument(allowlist.entries.map((e) => ({ account: e.account, max: e.maxQuantity }))),
        null,
        2,
      )}\n`,
    );
    await openAllowlist(ctx, devPrivateKey(0), allowlist.tree.root, watchdogs.length + Number(DEMO_ALLOWANCE));
    const [tokenIds] = await Promise.all([
      this.buyWatchdogLicenses(allowlist),
      registerNodes(
        ctx,
        nodes.map((n, i) => ({
          operatorKey: n.operatorKey,
          nodeKey: n.nodeKey,
          stake,
          endpoint: `ws://127.0.0.1:${this.nodePorts[i]}`,
          metadataURI: `devnet:node-${i}`,
        })),
      ),
    ]);
    this.licenseIds = tokenIds;
    // A wallet's registrations must not race their nonces: the k-th identity of each wallet goes in round k.
    const rounds: { walletKey: Hex; name: string; device: { publicKey: Hex } }[][] = [];
    const perWallet = new Map<Hex, number>();
    for (const identity of [...clients, ...watchdogs.flatMap((w) => w.identities)]) {
      const k = perWallet.get(identity.walletKey) ?? 0;
      perWallet.set(identity.walletKey, k + 1);
      rounds[k] ??= [];
      rounds[k].push(identity);
    }
    for (const batch of rounds) {
      const ids = await registerDids(
        ctx,
        batch.map((d) => ({ walletKey: d.walletKey, name: d.name, deviceKeys: [d.device.publicKey] })),
      );
      batch.forEach((d, i) => this.didOf.set(d.name, ids[i]!));
    }
    this.log.info(
      { nodes: nodes.length, watchdogs: watchdogs.length, clients: clients.length, dids: this.didOf.size },
      'population set up on-chain',
    );
  }

  /**
   * Points mode: when the set-up was quicker than the plan's bound, wait before starting the services so
   * that the network starts `SERVICES_START_SECONDS` before its first epoch — the first points epoch of
   * the run — instead of running for the epochs in between, where the forger and the equivocator would
   * collect the three strikes that eject them before the run's first epoch.
   */
  private async waitForPointsWindow(): Promise<void> {
    if (!this.points) return;
    const target = this.points.lastPointsEpoch - this.points.epochs + 1;
    const startAt = (this.clock.epochStart(target) - FIRST_EPOCH_LEAD_SECONDS - SERVICES_START_SECONDS) * 1000;
    const wait = startAt - Date.now();
    if (wait <= 0) return;
    this.log.info({ firstEpoch: target, waitMs: Math.round(wait) }, 'points mode: waiting to start the services');
    await new Promise((resolve) => setTimeout(resolve, wait));
  }

  private nodePorts: number[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private licenseIds: bigint[] = [];

  /**
   * One license per WatchDog plan, in plan order. A holder's purchases must not race their nonces: its k-th
   * license is bought in round k (only the colluding holder has more than one).
   */
  private async buyWatchdogLicenses(allowlist: Allowlist): Promise<bigint[]> {
    const ctx = { rpcUrl: this.rpcUrl, book: this.book };
    const rounds: WatchdogPlan[][] = [];
    const bought = new Map<Hex, number>();
    for (const w of this.population.watchdogs) {
      const k = bought.get(w.ownerKey) ?? 0;
      bought.set(w.ownerKey, k + 1);
      rounds[k] ??= [];
      rounds[k].push(w);
    }
    const tokenIds: bigint[] = new Array(this.population.watchdogs.length);
    for (const round of rounds) {
      const ids = await buyLicenses(
        ctx,
        round.map((w) => ({ ownerKey: w.ownerKey, operator: w.operator })),
        allowlist,
      );
      round.forEach((w, i) => {
        tokenIds[w.index] = ids[i]!;
      });
    }
    return tokenIds;
  }
  private readonly didOf = new Map<string, bigint>();

  private async startServices(): Promise<void> {
    const { dataDir } = this.options;
    const clock = this.clock;
    const quiet = this.log;

    const down = new Set(this.options.guardiansDown ?? []);
    for (let i = 0; i < GUARDIAN_ACCOUNTS.length; i++) this.guardianUrls.push(`http://127.0.0.1:${await freePort()}`);
    this.keeperPort = await freePort();
    this.startKeeper();
    for (let i = 0; i < GUARDIAN_ACCOUNTS.length; i++)
      this.guardians.push(down.has(i) ? undefined : this.spawnGuardian(i));
    await Promise.all([this.keeper!, ...this.guardians.filter((g) => g !== undefined)].map((p) => waitForHealth(p)));

    const keys = didRegistryKeyDirectory(this.client, this.book.contracts.DidRegistry);
    const domain = nodeStakingDomain(this.book.chainId, this.book.contracts.NodeStaking);
    for (const plan of this.population.nodes) {
      const node = new EdgeNode({
        nodeKey: plan.nodeKey,
        dataDir: join(dataDir, 'nodes', String(plan.index)),
        clock,
        domain,
        port: this.nodePorts[plan.index],
        keys,
        guardianUrls: this.guardianUrls,
        dropRate: plan.behaviour === 'dropper' ? this.population.plan.dropRate : undefined,
        inflateUnits:
          plan.behaviour === 'inflater'
            ? this.population.plan.inflateUnits
            : plan.behaviour === 'late-committer'
              ? 3 // a tailored commitment: forged filler receipts worth 3x its real volume
              : undefined,
        commitLateSeconds: plan.behaviour === 'late-committer' ? 3 : undefined,
        equivocate: plan.behaviour === 'equivocator',
        logger: quiet.child({ node: plan.index, behaviour: plan.behaviour }),
      });
      await node.start();
      this.nodes.push(node);
    }

    for (const [i, plan] of this.population.watchdogs.entries()) {
      const watchdog = new WatchDogService({
        operatorKey: plan.operatorKey,
        tokenId: this.licenseIds[i]!,
        identities: plan.identities.map((id) => ({ device: id.device, did: this.didOf.get(id.name)! })),
        keeperUrl: this.keeper!.url,
        clock,
        dataDir: join(dataDir, 'watchdogs', String(i)),
        logger: quiet.child({ watchdog: i, behaviour: plan.behaviour }),
        ...(plan.behaviour === 'colluder' ? this.colluderOptions(plan.index) : {}),
      });
      watchdog.start();
      this.watchdogs.push(watchdog);
    }

    for (const plan of this.population.clients) {
      const client = new RelayClient({
        device: plan.device,
        did: this.didOf.get(plan.name)!,
        logger: quiet.child({ client: plan.index }),
      });
      await client.connect(this.nodes[plan.home]!.url);
      this.clients.push(client);
    }
    this.traffic = new TrafficGenerator(
      this.clients,
      this.population.clients.map((c) => c.home),
      this.options.messagesPerSecond ?? 0.5,
      quiet,
    );
    this.traffic.start();

    // The first epoch the whole network takes part in: every service is up now, and the WatchDogs (which
    // commit to the next epoch on their first tick) still have FIRST_EPOCH_LEAD_SECONDS to do so before it
    // starts. Computed only now: on a busy machine starting the services takes several seconds.
    const ready = clock.epochAt(Date.now() + FIRST_EPOCH_LEAD_SECONDS * 1000) + 1;
    // Points mode: the deploy fixed the last points epoch from a set-up bound; the services were started
    // for it (waitForPointsWindow), and should they have been quicker still, the network's first epoch is
    // moved so that the run's epochs end at the last points epoch.
    this.firstEpoch = this.points ? Math.max(ready, this.points.lastPointsEpoch - this.points.epochs + 1) : ready;
    // The offline node goes dark as the first network epoch starts: dark for half an epoch, it could still pass
    // every challenge its WatchDogs happened to schedule before the outage (about 2% of runs), and the report
    // checks that it earns nothing in every network epoch.
    const offlineAtMs = clock.epochStart(this.firstEpoch) * 1000;
    for (const plan of this.population.nodes.filter((n) => n.behaviour === 'offline')) {
      const node = this.nodes[plan.index]!;
      const timer = setTimeout(() => void node.goOffline(), Math.max(0, offlineAtMs - Date.now()));
      timer.unref();
      this.timers.push(timer);
    }
    // The framing racer: right after each seed block (the commit deadline, plus a block), POST a framing
    // dataset to every guardian as a third party.
    this.framer = new Framer({
      client: this.client,
      settlement: this.book.contracts.EpochSettlement,
      keeperUrl: this.keeper!.url,
      guardianUrls: this.guardianUrls,
      honestNodes: new Set(
        this.population.nodes.filter((n) => n.behaviour === 'honest').map((n) => n.nodeAddress.toLowerCase()),
      ),
    });
    await this.framer.start();
    const framerTimer = setInterval(() => {
      const now = Date.now() / 1000;
      const e = clock.epochAt(Date.now()) - 1;
      if (e >= this.firstEpoch && now >= clock.commitDeadline(e) + 1.5 && now < clock.commitDeadline(e) + 10)
        void this.framer?.race(e).catch((error) => this.log.warn({ err: (error as Error).message }, 'framer failed'));
    }, 500);
    framerTimer.unref();
    this.timers.push(framerTimer);
    this.log.info(
      { firstEpoch: this.firstEpoch, keeper: this.keeper!.url, nodes: this.nodes.length },
      'network running',
    );
  }

  /**
   * The colluding WatchDogs' lie: the victim (the first honest node) down, the offline node up, every other
   * result as measured.
   */
  /**
   * The colluding licenses: the first is lazy (sends no challenge at all and reports every one "ok" except
   * the victim's, which it reports failed); the others send every challenge and lie in the transcript
   * (`colludingReport`). Neither is paid for a lie: unsent "ok"s have no receipt, and a failure reported for a
   * delivered challenge is contradicted by the node's receipt.
   */
  private colluderOptions(index: number): Pick<WatchDogOptions, 'falsify' | 'sendChallenges'> {
    const first = this.population.watchdogs.find((w) => w.behaviour === 'colluder')!.index;
    if (index !== first) return { falsify: this.colludingReport() };
    const { victim } = this.collusionTargets();
    return {
      sendChallenges: () => false,
      falsify: (r) =>
        r.node.toLowerCase() === victim ? { ...r, ok: false, latencyMs: 0 } : { ...r, ok: true, latencyMs: 35 },
    };
  }

  private colludingReport(): (result: TranscriptResult) => TranscriptResult {
    const { victim, offline } = this.collusionTargets();
    return (r) => {
      const node = r.node.toLowerCase();
      if (node === victim) return { ...r, ok: false, latencyMs: 0 };
      if (offline.has(node)) return { ...r, ok: true, latencyMs: 40 };
      return r;
    };
  }

  /** Whom the colluding WatchDogs lie about: node keys, lowercase. */
  collusionTargets(): { victim: string | undefined; offline: Set<string> } {
    const nodes = this.population.nodes;
    return {
      victim: nodes.find((n) => n.behaviour === 'honest')?.nodeAddress.toLowerCase(),
      offline: new Set(nodes.filter((n) => n.behaviour === 'offline').map((n) => n.nodeAddress.toLowerCase())),
    };
  }

  /** Token ids of the colluding licenses. */
  get colludingLicenses(): bigint[] {
    return this.population.watchdogs.filter((w) => w.behaviour === 'colluder').map((w) => this.licenseIds[w.index]!);
  }

  /** Guardian `index` as its own process (guardian/main.ts) on its fixed port. */
  private spawnGuardian(index: number): ServiceProcess {
    const url = this.guardianUrls[index];
    if (url === undefined) throw new RangeError(`no guardian ${index}: the devnet has ${this.guardianUrls.length}`);
    return startService({
      name: `guardian ${index}`,
      entry: 'keepers/src/guardian/main.ts',
      args: [
        '--rpc-url',
        this.rpcUrl,
        '--address-book',
        this.bookPath,
        '--data-dir',
        join(this.options.dataDir, 'guardians', String(index)),
        '--port',
        new URL(url).port,
        '--keeper',
        devAccount(KEEPER_ACCOUNT).address,
        '--dataset-origin',
        `http://127.0.0.1:${this.keeperPort}`,
      ],
      env: { GUARDIAN_PRIVATE_KEY: devPrivateKey(GUARDIAN_ACCOUNTS[index]!) },
      url,
      output:
        this.options.serviceOutput === 'inherit' ? 'inherit' : join(this.options.dataDir, `guardian-${index}.log`),
    });
  }

  /** Starts (or restarts) the keeper process on its fixed port, against the same Redis and data dir. */
  startKeeper(): ServiceProcess {
    const url = `http://127.0.0.1:${this.keeperPort}`;
    this.keeper = startService({
      name: 'keeper',
      entry: 'keepers/src/keeper/main.ts',
      args: [
        '--rpc-url',
        this.rpcUrl,
        '--address-book',
        this.bookPath,
        '--redis-url',
        this.redis.url,
        '--no-spawn-redis',
        '--port',
        String(this.keeperPort),
        '--data-dir',
        join(this.options.dataDir, 'keeper'),
        '--lock-ms',
        '5000',
        ...this.guardianUrls.flatMap((g) => ['--guardian', g]),
      ],
      env: { KEEPER_PRIVATE_KEY: devPrivateKey(KEEPER_ACCOUNT) },
      url,
      output: this.options.serviceOutput === 'inherit' ? 'inherit' : join(this.options.dataDir, 'keeper.log'),
    });
    return this.keeper;
  }

  /** Waits until the keeper process answers `/health`. */
  waitForKeeper(timeoutMs = 120_000): Promise<void> {
    return waitForHealth(this.keeper!, timeoutMs);
  }

  /** Kills the keeper process (SIGKILL by default) and waits for it to exit. */
  killKeeper(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return stopService(this.keeper, signal);
  }

  /** Stops guardian `index` (SIGKILL by default), as if its machine went down. */
  async stopGuardian(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await stopService(this.guardians[index], signal);
    this.guardians[index] = undefined;
  }

  /** Starts guardian `index` again on its URL (its signed-epochs record is kept). */
  async startGuardian(index: number): Promise<void> {
    if (isRunning(this.guardians[index])) return;
    this.guardians[index] = this.spawnGuardian(index);
    await waitForHealth(this.guardians[index]!);
  }

  /** Stops every service and process this devnet started, in reverse order. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    await this.framer?.stop();
    this.traffic?.stop();
    await Promise.allSettled(this.clients.map((c) => c.close()));
    await Promise.allSettled(this.watchdogs.map((w) => w.stop()));
    await Promise.allSettled(this.nodes.map((n) => n.stop()));
    await Promise.allSettled([this.keeper, ...this.guardians].map((p) => stopService(p, 'SIGTERM')));
    const graph = this.graph ?? (await this.graphStarting?.catch(() => undefined));
    await graph?.stop();
    await this.redis.stop();
    await this.anvil.stop();
    rmSync(this.bookPath, { force: true });
    rmSync(dirname(this.configPath), { recursive: true, force: true });
  }
}
