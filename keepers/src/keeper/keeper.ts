/**
 * The keeper: one process of the epoch pipeline. `new Keeper(options).start()` connects to (or starts)
 * Redis, opens the stage queues, runs a BullMQ worker for each stage it handles, serves the keeper HTTP
 * API and runs the scheduler; `stop()` undoes all of it (and stops a Redis it spawned).
 *
 * Scheduler: every `schedulerIntervalMs`, for each epoch whose commit deadline has passed, from
 * `max(lastSubmitted + 1, startEpoch)` up to `lastSubmitted + maxEpochsAhead`, it adds
 * `collect-commitments.<e>` — a no-op when the job exists (an epoch voided on-chain after this pipeline
 * submitted it is first reset from `score` on: handlers/settle.ts `resetVoidedEpoch`), so every keeper process on every machine may
 * run the scheduler; the stages chain themselves from there. Several processes against one Redis share
 * the work through BullMQ (each job runs on one worker at a time, a dead worker's job is taken over when
 * its lock expires); see docs/keepers.md §7.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createPublicClient, defineChain, http, type Chain, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { AddressBook } from '../chain/addressBook.js';
import { ensureRedis, redisConnection, type RedisHandle } from '../infra/redis.js';
import { log as rootLog } from '../infra/log.js';
import { ChainReader } from './chain.js';
import { TxSender } from './chainTx.js';
import { lastEpochDue } from '../core/deadlines.js';
import {
  DEVNET_CONSENSUS,
  parseConsensusParameters,
  parseKeeperTiming,
  type ConsensusParameters,
  type KeeperTimingInput,
} from './config.js';
import { collectCommitmentsStage, seedStage } from './handlers/collect.js';
import { deadlinesOf, nowSeconds, type KeeperEnv } from './handlers/env.js';
import { openingsStage } from './handlers/openings.js';
import { publishDatasetStage, scoreStage, transcriptsStage } from './handlers/score.js';
import {
  executeFaultsStage,
  publishScoresStage,
  RETIRED_FAULTS_PART,
  resetVoidedEpoch,
  submitStage,
} from './handlers/settle.js';
import { signaturesStage } from './handlers/signatures.js';
import { startKeeperHttp, type KeeperHttpServer } from './keeperHttp.js';
import { KeeperMetrics } from './metrics.js';
import { PipelineQueues, type RetryOverrides } from './queues.js';
import { PipelineRunner, type StageHandlers } from './runner.js';
import { STAGES, type Stage } from './stages.js';
import { PipelineStore } from './store.js';
import { SendnetError } from '../core/errors.js';
import { assertIncentiveParameters } from '../core/incentives.js';
import { readIncentiveParameters } from '../chain/epochFacts.js';

export interface KeeperOptions {
  rpcUrl: string;
  addressBook: AddressBook;
  /** The keeper's transaction key (pays gas; needs no other role). */
  privateKey: Hex;
  /** `redis://host:port`; a loopback URL with nothing listening gets a spawned redis-server (`spawnRedis`). */
  redisUrl: string;
  guardianUrls: string[];
  /** HTTP port of the keeper API (0: a free one). */
  httpPort: number;
  httpHost?: string;
  /** Base URL guardians use to fetch datasets (default: the local HTTP URL). */
  publicUrl?: string;
  /** Datasets (`datasets/`) and a spawned Redis's AOF (`redis/`) live here. */
  dataDir: string;
  consensus?: ConsensusParameters;
  timing?: KeeperTimingInput;
  /** Other keepers to fetch datasets from after a cold start. */
  resyncUrls?: string[];
  /** Never schedule epochs below this one. */
  startEpoch?: number;
  /** Stages this process works on (default all): split roles across machines if wanted. */
  stages?: readonly Stage[];
  /** Run the scheduler (default true). */
  scheduler?: boolean;
  /** Start a local redis-server if none answers (default true). */
  spawnRedis?: boolean;
  /** Redis key prefixes (default `sn` / `sn-bull`): keepers of one deployment must share them. */
  redisPrefix?: string;
  bullPrefix?: string;
  retries?: RetryOverrides;
  /** BullMQ lock of an active job: how soon another process takes over a dead one's job (default 30 s). */
  lockDurationMs?: number;
  /** Wall clock (ms); tests may shift it. */
  nowMs?: () => number;
  log?: Logger;
}

export class KeeperStateError extends SendnetError {
  override name = 'KeeperStateError';
  override readonly code = 'keeper-state';
}

export class Keeper {
  readonly log: Logger;
  readonly metrics: KeeperMetrics;
  private redis?: RedisHandle;
  private connection?: Redis;
  private queuesRef?: PipelineQueues;
  private runnerRef?: PipelineRunner;
  private http?: KeeperHttpServer;
  private envRef?: KeeperEnv;
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private started = false;

  constructor(readonly options: KeeperOptions) {
    this.log = (options.log ?? rootLog).child({ component: 'keeper' });
    this.metrics = new KeeperMetrics(null);
  }

  get queues(): PipelineQueues {
    if (!this.queuesRef) throw new KeeperStateError('keeper is not started');
    return this.queuesRef;
  }

  get runner(): PipelineRunner {
    if (!this.runnerRef) throw new KeeperStateError('keeper is not started');
    return this.runnerRef;
  }

  get env(): KeeperEnv {
    if (!this.envRef) throw new KeeperStateError('keeper is not started');
    return this.envRef;
  }

  get httpUrl(): string {
    if (!this.http) throw new KeeperStateError('keeper is not started');
    return this.http.url;
  }

  async start(): Promise<void> {
    if (this.started) throw new KeeperStateError('keeper already started');
    this.started = true;
    const o = this.options;
    const consensus = parseConsensusParameters(o.consensus ?? DEVNET_CONSENSUS);
    const timing = parseKeeperTiming(o.timing ?? {});
    mkdirSync(o.dataDir, { recursive: true });
    const chain: Chain = defineChain({
      id: o.addressBook.chainId,
      name: `chain-${o.addressBook.chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [o.rpcUrl] } },
    });
    const client = createPublicClient({ chain, transport: http(o.rpcUrl, { retryCount: 3 }) }) as PublicClient;
    // Refuse a deployment whose parameters let misbehaviour pay (docs/protocol.md §7.1), before spawning anything.
    assertIncentiveParameters(
      await readIncentiveParameters(
        client,
        { settlement: o.addressBook.contracts.EpochSettlement, staking: o.addressBook.contracts.NodeStaking },
        consensus,
      ),
      `the deployment at ${o.addressBook.contracts.EpochSettlement} with these consensus parameters`,
    );

    if (o.spawnRedis === false)
      this.redis = { url: o.redisUrl, spawned: false, stop: async () => {}, restart: async () => {} };
    else this.redis = await ensureRedis({ url: o.redisUrl, dataDir: join(o.dataDir, 'redis') });
    this.connection = redisConnection(o.redisUrl);
    const queues = new PipelineQueues({
      connection: this.connection,
      bullPrefix: o.bullPrefix,
      retries: o.retries,
      log: this.log,
    });
    this.queuesRef = queues;
    this.metrics.attachQueues(queues);
    const store = new PipelineStore(this.connection, o.redisPrefix ?? 'sn');

    const account = privateKeyToAccount(o.privateKey);
    const log = this.log.child({ keeper: account.address });
    const sender = new TxSender({ client, account, chain, redis: this.connection, prefix: store.prefix, log });
    const env: KeeperEnv = {
      book: o.addressBook,
      client,
      chain: new ChainReader(client, o.addressBook),
      sender,
      signer: account,
      store,
      consensus,
      timing,
      guardianUrls: o.guardianUrls,
      publicUrl: o.publicUrl ?? '',
      datasetsDir: join(o.dataDir, 'datasets'),
      resyncUrls: o.resyncUrls ?? [],
      nowMs: o.nowMs ?? Date.now,
      startedAtMs: (o.nowMs ?? Date.now)(),
      log,
      metrics: this.metrics,
    };
    this.envRef = env;

    this.http = await startKeeperHttp({ env, queues, metrics: this.metrics, host: o.httpHost, port: o.httpPort, log });
    if (!o.publicUrl) env.publicUrl = this.http.url;

    const all: StageHandlers = {
      'collect-commitments': collectCommitmentsStage(env),
      seed: seedStage(env),
      openings: openingsStage(env),
      transcripts: transcriptsStage(env),
      score: scoreStage(env),
      'publish-dataset': publishDatasetStage(env),
      signatures: signaturesStage(env),
      submit: submitStage(env),
      'publish-scores': publishScoresStage(env),
      'execute-faults': executeFaultsStage(env),
    };
    const wanted = new Set(o.stages ?? STAGES);
    const handlers: StageHandlers = Object.fromEntries(Object.entries(all).filter(([s]) => wanted.has(s as Stage)));
    this.runnerRef = new PipelineRunner({
      connection: this.connection,
      queues,
      store,
      handlers,
      metrics: this.metrics,
      log,
      lockDurationMs: o.lockDurationMs,
    });
    this.runnerRef.start();

    if (o.scheduler !== false) {
      const tick = () => {
        this.tick().catch((error) => log.warn({ err: (error as Error).message }, 'scheduler tick failed'));
      };
      this.timer = setInterval(tick, timing.schedulerIntervalMs);
      tick();
    }
    log.info(
      { http: this.http.url, redis: o.redisUrl, stages: [...wanted], guardians: o.guardianUrls.length },
      'keeper started',
    );
  }

  /**
   * One scheduler step: enqueues `collect-commitments` for every epoch that is due and not yet
   * submitted (bounded by maxEpochsAhead). Returns the epochs it (re-)added.
   */
  async tick(): Promise<number[]> {
    if (this.ticking) return [];
    this.ticking = true;
    try {
      const env = this.env;
      const clock = await env.chain.clock();
      const due = lastEpochDue(clock, deadlinesOf(env), nowSeconds(env));
      const { lastSubmitted, lastFinalized } = await env.chain.progress();
      this.metrics.lastSubmittedEpoch.set(lastSubmitted);
      await this.prune(lastFinalized - env.timing.retainEpochs);
      const from = Math.max(lastSubmitted + 1, this.options.startEpoch ?? 1);
      const to = Math.min(due, lastSubmitted + env.timing.maxEpochsAhead);
      const added: number[] = [];
      for (let e = from; e <= to; e++) {
        await resetVoidedEpoch(env, this.queues, e); // voided on-chain: score → signatures → submit again
        await this.queues.add('collect-commitments', e);
        added.push(e);
      }
      if (to >= from) this.metrics.lastScheduledEpoch.set(to);
      return added;
    } finally {
      this.ticking = false;
    }
  }

  /**
   * Removes the jobs, per-node outputs and received WatchDog commits and transcripts of final epochs up to
   * `upTo`, oldest first, stopping at the first epoch with a stage job that is not completed (e.g. a fault
   * waiting for the slash cap). One process at a time (Redis lock); the cursor is shared.
   */
  private async prune(upTo: number): Promise<void> {
    if (upTo < 1) return;
    const { store } = this.env;
    if (!(await store.tryLock('prune', 60_000))) return;
    for (let epoch = (await store.prunedThrough()) + 1; epoch <= upTo; epoch++) {
      const states = await Promise.all(STAGES.map((stage) => this.queues.state(stage, epoch)));
      if (states.some((state) => state !== 'completed' && state !== 'unknown')) break;
      await this.queues.pruneEpoch(epoch);
      await store.prunePartsOf(epoch, [...STAGES, 'signatures', RETIRED_FAULTS_PART]);
      await store.pruneWatchdogs(epoch);
      await store.setPrunedThrough(epoch);
      this.log.debug({ epoch }, 'pruned the jobs of a final epoch');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.runnerRef?.stop();
    await this.http?.close();
    await this.queuesRef?.close();
    this.connection?.disconnect();
    await this.redis?.stop();
    this.log.info('keeper stopped');
  }
}
