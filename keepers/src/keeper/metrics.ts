/**
 * Prometheus metrics of one keeper process (its own prom-client registry, so several keepers can live in
 * one process, as in the tests). Queue counts are read from Redis at scrape time, so every process
 * reports the whole pipeline's queues; the counters are this process's own.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PipelineQueues } from './queues.js';

export class KeeperMetrics {
  readonly registry = new Registry();
  readonly jobsCompleted: Counter<'stage'>;
  readonly jobsFailed: Counter<'stage'>;
  readonly jobsDeadLettered: Counter<'stage'>;
  readonly epochsSubmitted: Counter;
  readonly lastSubmittedEpoch: Gauge;
  readonly lastScheduledEpoch: Gauge;
  readonly stageDuration: Histogram<'stage'>;
  readonly queueJobs: Gauge<'queue' | 'state'>;
  readonly httpRejected: Counter<'code'>;

  private queues: PipelineQueues | null;

  constructor(queues: PipelineQueues | null = null, options: { defaultMetrics?: boolean } = {}) {
    this.queues = queues;
    const registers = [this.registry];
    const self = () => this;
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'keeper_' });
    this.jobsCompleted = new Counter({
      name: 'keeper_jobs_completed_total',
      help: 'Jobs completed, per stage',
      labelNames: ['stage'],
      registers,
    });
    this.jobsFailed = new Counter({
      name: 'keeper_jobs_failed_total',
      help: 'Job attempts that failed, per stage',
      labelNames: ['stage'],
      registers,
    });
    this.jobsDeadLettered = new Counter({
      name: 'keeper_jobs_dead_lettered_total',
      help: 'Jobs moved to the dead-letter queue, per stage',
      labelNames: ['stage'],
      registers,
    });
    this.epochsSubmitted = new Counter({
      name: 'keeper_epochs_submitted_total',
      help: 'submitEpoch transactions this process mined',
      registers,
    });
    this.lastSubmittedEpoch = new Gauge({
      name: 'keeper_last_submitted_epoch',
      help: 'Last epoch submitted on-chain (by anyone)',
      registers,
    });
    this.lastScheduledEpoch = new Gauge({
      name: 'keeper_last_scheduled_epoch',
      help: 'Last epoch whose pipeline was enqueued',
      registers,
    });
    this.stageDuration = new Histogram({
      name: 'keeper_stage_duration_seconds',
      help: 'Time a stage job spent processing (one attempt)',
      labelNames: ['stage'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    });
    this.httpRejected = new Counter({
      name: 'keeper_http_rejected_total',
      help: 'Requests the keeper HTTP API refused, per error code',
      labelNames: ['code'],
      registers,
    });
    this.queueJobs = new Gauge({
      name: 'keeper_queue_jobs',
      help: 'BullMQ jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        const source = self().queues;
        if (!source) return;
        const counts = await source.counts();
        for (const [queue, states] of Object.entries(counts)) {
          for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
        }
      },
    });
  }

  /** The queues whose job counts `/metrics` reports. */
  attachQueues(queues: PipelineQueues): void {
    this.queues = queues;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
