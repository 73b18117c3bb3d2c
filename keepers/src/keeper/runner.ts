/**
 * Runs the pipeline's stage handlers as BullMQ workers (one worker per stage this process handles).
 *
 * For a stage job `<stage>.<epoch>` the runner:
 *   1. returns at once if the stage's output is already stored (a re-run, or a restart after the store);
 *   2. otherwise calls the handler, stores its output once (`PipelineStore.setStage`);
 *   3. enqueues `<next stage>.<epoch>` (deterministic id: a no-op if it exists).
 * A crash anywhere in between is repaired by the retry: 1 skips what was done, 3 is idempotent.
 *
 * Per-part jobs `<stage>.<epoch>.<part>` (fan-out, e.g. one per node) run the handler's `part` function
 * and store its output under the part; the parent job parks in `waiting-children` until they finish
 * (`ctx.fanOut`). Handlers wait for time to pass with `ctx.waitUntil` (the job is delayed, no attempt
 * is used). A job that fails its last attempt goes to `dead-letter` with the reason.
 */
import { EventEmitter } from 'node:events';
import { DelayedError, UnrecoverableError, WaitingChildrenError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { failpoint } from '../infra/failpoints.js';
import { log as rootLog } from '../infra/log.js';
import type { KeeperMetrics } from './metrics.js';
import type { PipelineJobData, PipelineQueues } from './queues.js';
import { STAGES, nextStage, type Stage } from './stages.js';
import type { EpochFields, PipelineStore, StageFields } from './store.js';

/** `F` (here and below): the stored fields' value types, `EpochFields` in the keeper. */
export interface StageContext<F extends StageFields = EpochFields> {
  stage: Stage;
  epoch: number;
  /** Set for per-part jobs. */
  part?: string;
  /** The per-part job's input (what the parent passed to `fanOut`). */
  input?: unknown;
  job: Job<PipelineJobData>;
  store: PipelineStore<F>;
  queues: PipelineQueues;
  log: Logger;
  /** 1-based attempt number of this run. */
  attempt: number;
  /** True when a failure now sends the job to `dead-letter` (per-part jobs: record "no answer" instead). */
  isLastAttempt: boolean;
  /** Re-runs this job at `atMs` (epoch ms) without using an attempt. Never returns. */
  waitUntil(atMs: number, why: string): Promise<never>;
  /**
   * Adds per-part jobs (once) and parks this job until all have finished; then returns the stored
   * per-part outputs. Parts whose job failed for good are missing from the map.
   */
  fanOut<T = unknown>(parts: { part: string; input?: unknown }[]): Promise<Map<string, T>>;
}

/** The handler of stage `S`. */
export interface StageHandler<S extends Stage, F extends StageFields = EpochFields> {
  /** The stage's work for one epoch; returns its output (JSON with bigints), stored before the next stage. */
  run(ctx: StageContext<F>): Promise<F[S]>;
  /** Work of one per-part job (only for stages that fan out). */
  part?(ctx: StageContext<F>): Promise<unknown>;
}

export type StageHandlers<F extends StageFields = EpochFields> = { [S in Stage]?: StageHandler<S, F> };

export interface RunnerOptions<F extends StageFields = EpochFields> {
  /** ioredis client for the workers (duplicated by BullMQ for its blocking connection). */
  connection: Redis;
  queues: PipelineQueues;
  store: PipelineStore<F>;
  handlers: StageHandlers<F>;
  metrics?: KeeperMetrics;
  log?: Logger;
  /** Jobs processed in parallel per stage (default 1; stages that fan out: `fanOutConcurrency`). */
  concurrency?: Partial<Record<Stage, number>>;
  fanOutConcurrency?: number;
  /** Lock of an active job; a killed keeper's jobs are taken over this long after it died (default 30 s). */
  lockDurationMs?: number;
  /** How often workers look for stalled jobs (default = lockDurationMs). */
  stalledIntervalMs?: number;
}

export interface StageEvent {
  stage: Stage;
  epoch: number;
  part?: string;
  output?: unknown;
}

const jobData = z.object({
  epoch: z.number().int().min(1).max(0xffffffff),
  part: z.string().min(1).optional(),
  input: z.unknown().optional(),
  fannedOut: z.boolean().optional(),
});

/** Errors that park a job instead of failing it. */
function isControlFlow(error: unknown): boolean {
  return error instanceof DelayedError || error instanceof WaitingChildrenError;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Events: `completed` (StageEvent) after a stage job stored its output and enqueued the next stage,
 * `part` after a per-part job stored its output, `dead-letter` ({ stage, epoch, part, reason }).
 */
export class PipelineRunner<F extends StageFields = EpochFields> extends EventEmitter {
  private readonly workers: Worker<PipelineJobData>[] = [];
  private readonly log: Logger;

  constructor(private readonly options: RunnerOptions<F>) {
    super();
    this.log = options.log ?? rootLog;
  }

  /** Starts one worker per stage that has a handler. */
  start(): void {
    const { options } = this;
    const lockDuration = options.lockDurationMs ?? 30_000;
    for (const stage of STAGES) {
      const handler = options.handlers[stage];
      if (!handler) continue;
      const concurrency = options.concurrency?.[stage] ?? (handler.part ? (options.fanOutConcurrency ?? 8) : 1);
      const worker = new Worker<PipelineJobData>(stage, (job, token) => this.process(stage, handler, job, token), {
        connection: options.connection,
        prefix: options.queues.bullPrefix,
        concurrency,
        lockDuration,
        stalledInterval: options.stalledIntervalMs ?? lockDuration,
        // A keeper killed mid-job is normal operation, not a poison job.
        maxStalledCount: 10,
        autorun: true,
      });
      worker.on('error', (error) => this.log.debug({ stage, err: error.message }, 'worker connection error'));
      worker.on('failed', (job, error) => {
        if (!job) return;
        options.metrics?.jobsFailed.inc({ stage });
        const attempts = job.opts.attempts ?? 1;
        this.log.warn(
          { stage, jobId: job.id, attempt: job.attemptsMade, attempts, err: error.message },
          'job attempt failed',
        );
        // Jobs failed without running the processor (e.g. stalled too often) reach the dead letter here.
        if (job.attemptsMade >= attempts || error instanceof UnrecoverableError) {
          void this.deadLetter(stage, job, reasonOf(error)).catch((e) =>
            this.log.error({ err: (e as Error).message }, 'dead-letter failed'),
          );
        }
      });
      this.workers.push(worker);
    }
  }

  /** Stops the workers (waits for active jobs to reach a safe point). */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    this.workers.length = 0;
  }

  private async deadLetter(
    stage: Stage,
    job: Job<PipelineJobData>,
    reason: string,
    attemptsMade = job.attemptsMade,
  ): Promise<void> {
    const existed = await this.options.queues.deadLetter.getJob(job.id!);
    await this.options.queues.sendToDeadLetter(job, reason, attemptsMade);
    if (!existed) {
      this.options.metrics?.jobsDeadLettered.inc({ stage });
      this.log.error({ stage, jobId: job.id, reason }, 'job moved to dead-letter');
      this.emit('dead-letter', { stage, epoch: job.data.epoch, part: job.data.part, reason });
    }
  }

  private async process<S extends Stage>(
    stage: S,
    handler: StageHandler<S, F>,
    job: Job<PipelineJobData>,
    token: string | undefined,
  ): Promise<unknown> {
    const { options } = this;
    const started = performance.now();
    const parsed = jobData.safeParse(job.data);
    try {
      if (!parsed.success)
        throw new UnrecoverableError(`job ${job.id} has malformed data: ${parsed.error.issues[0]!.message}`);
      if (!token) throw new Error(`job ${job.id} has no lock token`);
      const { epoch, part, input } = parsed.data;
      const attempts = job.opts.attempts ?? 1;
      const ctx: StageContext<F> = {
        stage,
        epoch,
        part,
        input,
        job,
        store: options.store,
        queues: options.queues,
        log: this.log.child({ stage, epoch, ...(part === undefined ? {} : { part }) }),
        attempt: job.attemptsMade + 1,
        isLastAttempt: job.attemptsMade + 1 >= attempts,
        waitUntil: async (atMs, why) => {
          ctx.log.debug({ until: new Date(atMs).toISOString(), why }, 'waiting');
          await job.moveToDelayed(Math.max(atMs, Date.now() + 1), token);
          throw new DelayedError(why);
        },
        fanOut: async <T>(parts: { part: string; input?: unknown }[]) => {
          if (!job.data.fannedOut) {
            if (parts.length > 0) await options.queues.addParts(stage, epoch, parts, job);
            await job.updateData({ ...job.data, fannedOut: true });
          }
          if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
          return options.store.getParts<T>(epoch, stage);
        },
      };

      if (part !== undefined) {
        if (!handler.part) throw new UnrecoverableError(`stage ${stage} has no per-part handler (job ${job.id})`);
        let output = await options.store.getPart(epoch, stage, part);
        if (output === undefined) output = await options.store.setPart(epoch, stage, part, await handler.part(ctx));
        options.metrics?.jobsCompleted.inc({ stage });
        this.emit('part', { stage, epoch, part, output } satisfies StageEvent);
        return null;
      }

      let output = await options.store.getStage(epoch, stage);
      if (output === undefined) {
        const produced = await handler.run(ctx);
        if (produced === undefined) throw new Error(`stage ${stage} produced no output for epoch ${epoch}`);
        output = await options.store.setStage(epoch, stage, produced);
        failpoint(`stage-stored:${stage}.${epoch}`);
      } else {
        ctx.log.info('output already stored; going on to the next stage');
      }
      const next = nextStage(stage);
      if (next) await options.queues.add(next, epoch);
      options.metrics?.jobsCompleted.inc({ stage });
      ctx.log.info({ next }, 'stage done');
      this.emit('completed', { stage, epoch, output } satisfies StageEvent);
      return null;
    } catch (error) {
      if (isControlFlow(error)) throw error;
      const attempts = job.opts.attempts ?? 1;
      if (error instanceof UnrecoverableError || job.attemptsMade + 1 >= attempts) {
        await this.deadLetter(stage, job, reasonOf(error), job.attemptsMade + 1).catch((e) =>
          this.log.error({ err: (e as Error).message }, 'dead-letter failed'),
        );
      }
      throw error;
    } finally {
      options.metrics?.stageDuration.observe({ stage }, (performance.now() - started) / 1000);
    }
  }
}
