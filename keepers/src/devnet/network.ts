/**
 * A whole live network on one machine: anvil (1 s blocks), Redis, every contract deployed and wired, and
 * the reference services on top — edge nodes (some misbehaving), WatchDogs, seven guardians, clients
 * sending traffic, and the keeper as its own process (so it can be killed and restarted like in
 * production). `npm run devnet` drives it; the integration tests use it as a library.
 *
 * Epochs that start before the services are up are empty and settle as such; the first "network epoch"
 * is the first one whose WatchDog commits could be made in time (`firstEpoch`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, http, parseEther, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import type { Logger } from 'pino';
import { freePort, startAnvil, type AnvilHandle } from '../chain/anvil.js';
import { deployProtocol } from '../chain/deploy.js';
import { devPrivateKey } from '../chain/devAccounts.js';
import { repoRoot } from '../chain/foundry.js';
import type { AddressBook } from '../config/addressBook.js';
import { DEVNET_CONSENSUS, type ConsensusParameters } from '../config/consensus.js';
import { nodeStakingDomain } from '../core/commitment.js';
import { ensureRedis, type RedisHandle } from '../infra/redis.js';
import { log as rootLog } from '../log.js';
import { EdgeNode } from '../services/edgeNode.js';
import { GuardianService } from '../services/guardian.js';
import { RelayClient } from '../services/client.js';
import { didRegistryKeyDirectory } from '../services/relay/chainKeys.js';
import { EpochClock } from '../services/relay/epochClock.js';
import { WatchDogService } from '../services/watchdog.js';
import { writeDevnetDeployConfig } from './deployConfig.js';
import { buildPopulation, type Population, type PopulationPlan } from './population.js';
import { allowlistFor, buyLicenses, distributeSend, fundEth, openAllowlist, registerDids, registerNodes } from './setup.js';
import { TrafficGenerator } from './traffic.js';

/** Anvil dev accounts: 0 deploys and owns, 1 is the treasury, 2 the keeper, 3–9 the guardians. */
const KEEPER_ACCOUNT = 2;
const GUARDIAN_ACCOUNTS = [3, 4, 5, 6, 7, 8, 9];

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
  /** Deploy config the run derives its own from (default config/devnet.json). */
  baseConfig?: string;
  consensus?: ConsensusParameters;
  /** Messages per second each client sends (default 0.5). */
  messagesPerSecond?: number;
  log?: Logger;
  /** Where the keeper process's output goes (default: appended to `<dataDir>/keeper.log`). */
  keeperOutput?: 'inherit' | 'file';
}

export interface KeeperProcess {
  child: ChildProcess;
  url: string;
}

export class Devnet {
  readonly guardians: (GuardianService | undefined)[] = [];
  readonly guardianUrls: string[] = [];
  readonly nodes: EdgeNode[] = [];
  readonly watchdogs: WatchDogService[] = [];
  readonly clients: RelayClient[] = [];
  keeper?: KeeperProcess;
  traffic?: TrafficGenerator;
  /** The first epoch the whole network takes part in. */
  firstEpoch = 0;
  private keeperPort = 0;
  private stopping = false;

  private constructor(
    readonly options: DevnetOptions,
    readonly anvil: AnvilHandle,
    readonly redis: RedisHandle,
    readonly book: AddressBook,
    readonly bookPath: string,
    readonly population: Population,
    readonly client: PublicClient,
    readonly log: Logger,
  ) {}

  get rpcUrl(): string {
    return this.anvil.rpcUrl;
  }

  get consensus(): ConsensusParameters {
    return this.options.consensus ?? DEVNET_CONSENSUS;
  }

  get clock(): EpochClock {
    return new EpochClock({
      genesisTime: this.book.genesisTime,
      epochDurationSeconds: this.book.epochDurationSeconds,
      commitGraceSeconds: this.consensus.commitGraceSeconds,
    });
  }

  /** Starts chain, Redis, deployment, population set-up and every service. */
  static async start(options: DevnetOptions): Promise<Devnet> {
    const log = options.log ?? rootLog.child({ service: 'devnet' });
    // A fresh chain: state of an earlier run (node stores, guardian records, Redis) must not leak in.
    for (const dir of ['nodes', 'guardians', 'watchdogs', 'keeper', 'redis', 'keeper.log']) {
      rmSync(join(options.dataDir, dir), { recursive: true, force: true });
    }
    mkdirSync(options.dataDir, { recursive: true });
    const anvil = await startAnvil({ port: options.port || undefined, blockTime: 1 });
    let redis: RedisHandle | undefined;
    try {
      redis = await ensureRedis({ url: options.redisUrl ?? `redis://127.0.0.1:${await freePort()}`, dataDir: join(options.dataDir, 'redis') });
      const runLabel = `${anvil.port}-${Date.now()}`;
      const population = buildPopulation(runLabel, options.population);
      log.info({ rpcUrl: anvil.rpcUrl, redis: redis.url }, 'chain and Redis up; deploying');
      const configPath = writeDevnetDeployConfig({ tag: String(anvil.port), baseConfig: options.baseConfig, genesisTime: 0 });
      const bookPath = join(repoRoot, 'deployments', `local-${anvil.port}.json`);
      const { book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0), configPath, addressBookPath: bookPath });
      const client = createPublicClient({ chain: { ...foundry, id: book.chainId }, transport: http(anvil.rpcUrl) }) as PublicClient;
      const devnet = new Devnet(options, anvil, redis, book, bookPath, population, client, log);
      await devnet.setUpPopulation();
      await devnet.startServices();
      return devnet;
    } catch (error) {
      await redis?.stop();
      await anvil.stop();
      throw error;
    }
  }

  /** Funds, registers and stakes nodes, buys WatchDog licenses, registers DIDs (docs/keepers.md §1). */
  private async setUpPopulation(): Promise<void> {
    const ctx = { rpcUrl: this.rpcUrl, book: this.book };
    const { nodes, watchdogs, clients } = this.population;
    const address = (key: Hex) => privateKeyToAccount(key).address;
    const wallets = [...nodes.map((n) => n.operatorKey), ...watchdogs.map((w) => w.ownerKey), ...clients.map((c) => c.walletKey)];
    await fundEth(ctx, wallets.map(address), parseEther('1000'));
    const stake = parseEther('20000');
    await distributeSend(ctx, devPrivateKey(1), nodes.map((n) => n.operator), stake);
    this.nodePorts = await Promise.all(nodes.map(() => freePort()));
    await openAllowlist(ctx, devPrivateKey(0), allowlistFor(watchdogs.map((w) => address(w.ownerKey))).tree.root, watchdogs.length);
    const [tokenIds] = await Promise.all([
      buyLicenses(ctx, watchdogs.map((w) => ({ ownerKey: w.ownerKey, operator: w.operator }))),
      registerNodes(
        ctx,
        nodes.map((n, i) => ({ operatorKey: n.operatorKey, nodeKey: n.nodeKey, stake, endpoint: `ws://127.0.0.1:${this.nodePorts[i]}`, metadataURI: `devnet:node-${i}` })),
      ),
    ]);
    this.licenseIds = tokenIds;
    // A wallet's registrations must not race their nonces: the k-th identity of each wallet goes in round k.
    const rounds: { walletKey: Hex; name: string; device: { publicKey: Hex } }[][] = [];
    const perWallet = new Map<Hex, number>();
    for (const identity of [...clients, ...watchdogs.flatMap((w) => w.identities)]) {
      const k = perWallet.get(identity.walletKey) ?? 0;
      perWallet.set(identity.walletKey, k + 1);
      (rounds[k] ??= []).push(identity);
    }
    for (const batch of rounds) {
      const ids = await registerDids(ctx, batch.map((d) => ({ walletKey: d.walletKey, name: d.name, deviceKeys: [d.device.publicKey] })));
      batch.forEach((d, i) => this.didOf.set(d.name, ids[i]));
    }
    this.log.info({ nodes: nodes.length, watchdogs: watchdogs.length, clients: clients.length, dids: this.didOf.size }, 'population set up on-chain');
  }

  private nodePorts: number[] = [];
  private licenseIds: bigint[] = [];
  private readonly didOf = new Map<string, bigint>();

  private async startServices(): Promise<void> {
    const { dataDir } = this.options;
    const clock = this.clock;
    const contracts = {
      staking: this.book.contracts.NodeStaking,
      settlement: this.book.contracts.EpochSettlement,
      didRegistry: this.book.contracts.DidRegistry,
      license: this.book.contracts.WatchDogLicense,
    };
    const quiet = this.log;

    const down = new Set(this.options.guardiansDown ?? []);
    for (const [i, account] of GUARDIAN_ACCOUNTS.entries()) {
      if (down.has(i)) {
        this.guardians.push(undefined);
        this.guardianUrls.push(`http://127.0.0.1:${await freePort()}`);
        continue;
      }
      const guardian = this.newGuardian(i, account, contracts, quiet);
      this.guardians.push(guardian);
      this.guardianUrls.push(await guardian.start());
    }

    this.keeperPort = await freePort();
    this.startKeeper();
    await this.waitForKeeper();

    // The first epoch whose WatchDog commits can still be made before it starts.
    const nowSeconds = Date.now() / 1000;
    this.firstEpoch = clock.epochAt((nowSeconds + 4) * 1000) + 1;
    const firstStart = clock.epochStart(this.firstEpoch);

    const keys = didRegistryKeyDirectory(this.client, this.book.contracts.DidRegistry);
    const domain = nodeStakingDomain(this.book.chainId, this.book.contracts.NodeStaking);
    for (const plan of this.population.nodes) {
      const offlineAt = (firstStart + this.book.epochDurationSeconds / 2) * 1000;
      const node = new EdgeNode({
        nodeKey: plan.nodeKey,
        dataDir: join(dataDir, 'nodes', String(plan.index)),
        clock,
        domain,
        port: this.nodePorts[plan.index],
        keys,
        dropRate: plan.behaviour === 'dropper' ? this.population.plan.dropRate : undefined,
        inflateUnits: plan.behaviour === 'inflater' ? this.population.plan.inflateUnits : undefined,
        offlineAfterMs: plan.behaviour === 'offline' ? Math.max(0, offlineAt - Date.now()) : undefined,
        logger: quiet.child({ node: plan.index, behaviour: plan.behaviour }),
      });
      await node.start();
      this.nodes.push(node);
    }

    for (const [i, plan] of this.population.watchdogs.entries()) {
      const watchdog = new WatchDogService({
        operatorKey: plan.operatorKey,
        tokenId: this.licenseIds[i],
        identities: plan.identities.map((id) => ({ device: id.device, did: this.didOf.get(id.name)! })),
        keeperUrl: this.keeper!.url,
        clock,
        dataDir: join(dataDir, 'watchdogs', String(i)),
        logger: quiet.child({ watchdog: i }),
      });
      watchdog.start();
      this.watchdogs.push(watchdog);
    }

    for (const plan of this.population.clients) {
      const client = new RelayClient({ device: plan.device, did: this.didOf.get(plan.name)!, logger: quiet.child({ client: plan.index }) });
      await client.connect(this.nodes[plan.home].url);
      this.clients.push(client);
    }
    this.traffic = new TrafficGenerator(this.clients, this.population.clients.map((c) => c.home), this.options.messagesPerSecond ?? 0.5, quiet);
    this.traffic.start();
    this.log.info({ firstEpoch: this.firstEpoch, keeper: this.keeper!.url, nodes: this.nodes.length }, 'network running');
  }

  private newGuardian(index: number, account: number, contracts: ConstructorParameters<typeof GuardianService>[0]['contracts'], logger: Logger) {
    return new GuardianService({
      rpcUrl: this.rpcUrl,
      privateKey: devPrivateKey(account),
      chainId: this.book.chainId,
      contracts,
      consensus: this.consensus,
      dataDir: join(this.options.dataDir, 'guardians', String(index)),
      port: Number(new URL(this.guardianUrls[index] ?? 'http://127.0.0.1:0').port) || 0,
      fromBlock: BigInt(this.book.startBlock),
      logger: logger.child({ guardian: index }),
    });
  }

  /** Starts (or restarts) the keeper process on its fixed port, against the same Redis and data dir. */
  startKeeper(): KeeperProcess {
    const url = `http://127.0.0.1:${this.keeperPort}`;
    const args = [
      '--import',
      'tsx',
      join(repoRoot, 'keepers/src/keeper.ts'),
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
    ];
    const output = this.options.keeperOutput === 'inherit' ? 'inherit' : openSync(join(this.options.dataDir, 'keeper.log'), 'a');
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, KEEPER_PRIVATE_KEY: devPrivateKey(KEEPER_ACCOUNT), LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
      stdio: ['ignore', output, output],
    });
    if (typeof output === 'number') closeSync(output);
    child.on('exit', (code, signal) => {
      if (!this.stopping && this.keeper?.child === child) this.log.warn({ code, signal }, 'keeper process exited');
    });
    this.keeper = { child, url };
    return this.keeper;
  }

  /** Waits until the keeper process answers `/health` (it compiles its TypeScript first). */
  async waitForKeeper(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const child = this.keeper?.child;
      if (!child || child.exitCode !== null) throw new Error(`the keeper process exited (code ${child?.exitCode}) before answering; see its log`);
      try {
        if ((await fetch(`${this.keeper!.url}/health`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the keeper did not answer ${this.keeper!.url}/health within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Kills the keeper process (SIGKILL by default: no chance to clean up) and waits for it to exit. */
  async killKeeper(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.keeper?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async stopGuardian(index: number): Promise<void> {
    await this.guardians[index]?.stop();
    this.guardians[index] = undefined;
  }

  async startGuardian(index: number): Promise<void> {
    if (this.guardians[index]) return;
    const contracts = {
      staking: this.book.contracts.NodeStaking,
      settlement: this.book.contracts.EpochSettlement,
      didRegistry: this.book.contracts.DidRegistry,
      license: this.book.contracts.WatchDogLicense,
    };
    const guardian = this.newGuardian(index, GUARDIAN_ACCOUNTS[index], contracts, this.log);
    this.guardians[index] = guardian;
    await guardian.start();
  }

  /** Stops every service and process this devnet started, in reverse order. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.traffic?.stop();
    await Promise.allSettled(this.clients.map((c) => c.close()));
    await Promise.allSettled(this.watchdogs.map((w) => w.stop()));
    await Promise.allSettled(this.nodes.map((n) => n.stop()));
    await this.killKeeper('SIGTERM');
    await Promise.allSettled(this.guardians.map((g) => g?.stop()));
    await this.redis.stop();
    await this.anvil.stop();
    rmSync(this.bookPath, { force: true });
  }
}
