/**
 * The keeper's BullMQ queues: one per stage (stages.ts) plus `dead-letter`.
 *
 * - Job ids are deterministic (`<stage>.<epoch>[.<part>]`): adding a job whose id exists is a no-op, so any
 *   keeper process may enqueue any stage any number of times and it runs once.
 * - Every job has `attempts` with exponential backoff (per-stage policy below). A job that fails its last
 *   attempt (or throws `UnrecoverableError`) is copied to `dead-letter` with the reason, under the same
 *   job id, and stays failed in its own queue until an operator retries it (`retryDeadLetter`).
 * - Completed and failed jobs are kept (they are what makes a re-add a no-op) until the keeper prunes
 *   epochs that are final and older than `retainEpochs` (`pruneEpoch`).
 */
import { Queue, type Job, type JobsOptions, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { log as rootLog } from '../infra/log.js';
import { DEAD_LETTER_QUEUE, STAGES, jobId, type Stage } from './stages.js';

export interface RetryPolicy {
  attempts: number;
  /** First backoff delay; doubled at each further attempt. */
  backoffMs: number;
}

/**
 * Default retry policy per stage. Per-part jobs (fan-out) use `part`; they record "no answer" after
 * their last attempt instead of failing, so the stage always goes on.
 */
export const DEFAULT_RETRIES: Record<Stage, RetryPolicy> & { part: RetryPolicy } = {
  'collect-commitments': { attempts: 5, backoffMs: 1000 },
  seed: { attempts: 5, backoffMs: 1000 },
  openings: { attempts: 5, backoffMs: 1000 },
  transcripts: { attempts: 5, backoffMs: 1000 },
  score: { attempts: 3, backoffMs: 2000 },
  'publish-dataset': { attempts: 5, backoffMs: 1000 },
  signatures: { attempts: 8, backoffMs: 2000 },
  submit: { attempts: 8, backoffMs: 2000 },
  'publish-scores': { attempts: 8, backoffMs: 2000 },
  'execute-faults': { attempts: 8, backoffMs: 2000 },
  part: { attempts: 4, backoffMs: 500 },
};

export type RetryOverrides = Partial<Record<Stage | 'part', Partial<RetryPolicy>>>;

/** Data of every pipeline job (job data is JSON: no bigints). */
export interface PipelineJobData {
  epoch: number;
  /** Set on per-part (fan-out) jobs. */
  part?: string;
  /** Stage-private data of a per-part job (e.g. the node's endpoint and sample indices). */
  input?: unknown;
  /** Set by the runner once a parent job has added its per-part jobs. */
  fannedOut?: boolean;
}

/** What `dead-letter` holds per failed job. */
export interface DeadLetter {
  queue: string;
  jobId: string;
  epoch: number;
  part?: string;
  reason: string;
  attemptsMade: number;
  failedAt: string;
  data: unknown;
}

export interface PipelineQueuesOptions {
  /** Shared ioredis client (`maxRetriesPerRequest: null`, see infra/redis.ts). */
  connection: Redis;
  /** BullMQ key prefix (default `sn-bull`). */
  bullPrefix?: string;
  retries?: RetryOverrides;
  log?: Logger;
}

export class PipelineQueues {
  readonly queues: Record<Stage, Queue<PipelineJobData>>;
  readonly deadLetter: Queue<DeadLetter>;
  readonly bullPrefix: string;
  private readonly retries: Record<Stage | 'part', RetryPolicy>;

  constructor(readonly options: PipelineQueuesOptions) {
    this.bullPrefix = options.bullPrefix ?? 'sn-bull';
    this.retries = { ...DEFAULT_RETRIES };
    for (const [name, policy] of Object.entries(options.retries ?? {})) {
      const key = name as Stage | 'part';
      this.retries[key] = { ...this.retries[key], ...policy };
    }
    const base = { connection: options.connection, prefix: this.bullPrefix };
    this.queues = Object.fromEntries(STAGES.map((s) => [s, new Queue<PipelineJobData>(s, base)])) as Record<
      Stage,
      Queue<PipelineJobData>
    >;
    this.deadLetter = new Queue<DeadLetter>(DEAD_LETTER_QUEUE, base);
    // Connection errors (e.g. while Redis restarts) are retried by ioredis; without a listener BullMQ
    // prints each one to the console.
    for (const queue of [...Object.values(this.queues), this.deadLetter]) {
      queue.on('error', (error) =>
        (options.log ?? rootLog).debug({ queue: queue.name, err: error.message }, 'queue connection error'),
      );
    }
  }

  retryPolicy(stage: Stage, part: boolean): RetryPolicy {
    return part ? this.retries.part : this.retries[stage];
  }

  jobOptions(stage: Stage, part: boolean): JobsOptions {
    const policy = this.retryPolicy(stage, part);
    return {
      attempts: policy.attempts,
      backoff: { type: 'exponential', delay: policy.backoffMs },
      removeOnComplete: false,
      removeOnFail: false,
    };
  }

  /** Enqueues `<stage>.<epoch>` (a no-op if that job exists in any state). */
  async add(stage: Stage, epoch: number, options: { delayMs?: number } = {}): Promise<Job<PipelineJobData>> {
    const id = jobId(stage, epoch);
    return this.queues[stage].add(
      stage,
      { epoch },
      { ...this.jobOptions(stage, false), jobId: id, delay: options.delayMs },
    );
  }

  /** Enqueues per-part jobs `<stage>.<epoch>.<part>` as children of `parent`. */
  async addParts(stage: Stage, epoch: number, parts: { part: string; input?: unknown }[], parent: Job): Promise<void> {
    if (!parent.id) throw new Error('parent job has no id');
    const queue = this.queues[stage];
    await queue.addBulk(
      parts.map(({ part, input }) => ({
        name: `${stage}-part`,
        data: { epoch, part, input },
        opts: {
          ...this.jobOptions(stage, true),
          jobId: jobId(stage, epoch, part),
          parent: { id: parent.id!, queue: parent.queueQualifiedName },
          ignoreDependencyOnFailure: true,
        },
      })),
    );
  }

  /** Copies a failed job to `dead-letter` (same id; a second copy is a no-op). */
  async sendToDeadLetter(job: Job<PipelineJobData>, reason: string, attemptsMade = job.attemptsMade): Promise<void> {
    if (!job.id) return;
    const letter: DeadLetter = {
      queue: job.queueName,
      jobId: job.id,
      epoch: job.data.epoch,
      ...(job.data.part === undefined ? {} : { part: job.data.part }),
      reason,
      attemptsMade,
      failedAt: new Date().toISOString(),
      data: job.data,
    };
    await this.deadLetter.add(job.queueName, letter, { jobId: job.id, removeOnComplete: false, removeOnFail: false });
  }

  /** Dead letters, optionally of one epoch. */
  async deadLetters(epoch?: number): Promise<DeadLetter[]> {
    const jobs = await this.deadLetter.getJobs(['waiting', 'delayed', 'prioritized'], 0, -1);
    return jobs
      .filter((j): j is Job<DeadLetter> => !!j && (epoch === undefined || j.data.epoch === epoch))
      .map((j) => j.data);
  }

  /** Retries a dead-lettered job in its own queue (after the cause is fixed) and drops the letter. */
  async retryDeadLetter(id: string): Promise<void> {
    const letter = await this.deadLetter.getJob(id);
    if (!letter) throw new Error(`no dead letter ${id}`);
    const queue = this.queues[letter.data.queue as Stage];
    if (!queue) throw new Error(`dead letter ${id} names unknown queue ${letter.data.queue}`);
    const job = await queue.getJob(id);
    if (!job) throw new Error(`job ${id} is gone from queue ${letter.data.queue}`);
    if ((await job.getState()) === 'failed') await job.retry('failed');
    await letter.remove();
  }

  /** State of `<stage>.<epoch>[.<part>]`: waiting, active, delayed, completed, failed, waiting-children, unknown. */
  async state(stage: Stage, epoch: number, part?: string): Promise<string> {
    return this.queues[stage].getJobState(jobId(stage, epoch, part));
  }

  /**
   * State of `<stage>.<epoch>` with, while it is not completed, the attempts used and the last failure's
   * reason (a job waiting in backoff says why here, e.g. a missing guardian quorum).
   */
  async status(stage: Stage, epoch: number): Promise<{ state: string; attemptsMade?: number; lastError?: string }> {
    const job = await this.queues[stage].getJob(jobId(stage, epoch));
    if (!job) return { state: 'unknown' };
    const state = await job.getState();
    if (state === 'completed' || !job.failedReason) return { state };
    return { state, attemptsMade: job.attemptsMade, lastError: job.failedReason };
  }

  /** Job counts per queue and state (for /metrics). */
  async counts(): Promise<Record<string, Record<string, number>>> {
    const types: JobType[] = ['waiting', 'active', 'delayed', 'completed', 'failed', 'waiting-children', 'prioritized'];
    const out: Record<string, Record<string, number>> = {};
    for (const queue of [...Object.values(this.queues), this.deadLetter]) {
      out[queue.name] = (await queue.getJobCounts(...types)) as Record<string, number>;
    }
    return out;
  }

  /**
   * Removes every job of `epoch` (stage jobs with their per-part children) from every stage queue.
   * Only for epochs that are settled: afterwards re-adding a stage job would run it again.
   */
  async pruneEpoch(epoch: number): Promise<number> {
    let removed = 0;
    for (const stage of STAGES) {
      const job = await this.queues[stage].getJob(jobId(stage, epoch));
      if (!job) continue;
      await job.remove({ removeChildren: true });
      removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    await Promise.all([...Object.values(this.queues), this.deadLetter].map((q) => q.close()));
  }
}
