/**
 * Keeper pipeline machinery benchmark (no chain): a real Redis spawned by ensureRedis (AOF on), the
 * BullMQ stage queues and the runner, with trivial stage handlers, so the figures are the overhead the
 * pipeline adds per job — not the cost of chain reads, HTTP calls or evaluateEpoch.
 *
 * - chain: `--epochs` epochs through three chained stages (seed → openings → transcripts; each job stores
 *   its output and enqueues the next): end-to-end jobs per second.
 * - fan-out: one epoch's openings stage with `--parts` per-node child jobs: time until the parent resumed.
 * - Redis restart: time from `restart()` (SIGTERM, AOF reload) until a job added after it completes.
 *
 *   tsx bench/keepers/pipeline.ts [--epochs 300] [--parts 1000] [--concurrency 8]   → bench/keepers/pipeline.json
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { freePort } from '../../keepers/src/dev/anvil.js';
import { repoRoot } from '../../keepers/src/dev/foundry.js';
import { ensureRedis, redisConnection } from '../../keepers/src/infra/redis.js';
import { PipelineQueues } from '../../keepers/src/keeper/queues.js';
import { PipelineRunner, type StageEvent } from '../../keepers/src/keeper/runner.js';
import { PipelineStore, type StageFields } from '../../keepers/src/keeper/store.js';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '300' },
    parts: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
  },
});
const EPOCHS = Number(values.epochs);
const PARTS = Number(values.parts);
const CONCURRENCY = Number(values.concurrency);
const quiet = pino({ level: 'warn' });

const dir = mkdtempSync(join(tmpdir(), 'bench-keeper-'));
const redis = await ensureRedis({ url: `redis://127.0.0.1:${await freePort()}`, dataDir: dir });
const connection = redisConnection(redis.url);

function until<F extends StageFields>(runner: PipelineRunner<F>, predicate: (e: StageEvent) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const listener = (e: StageEvent) => {
      if (!predicate(e)) return;
      runner.off('completed', listener);
      resolve();
    };
    runner.on('completed', listener);
  });
}

try {
  // 1. three chained stages
  const queues = new PipelineQueues({ connection, bullPrefix: 'bench-chain' });
  const store = new PipelineStore<StageFields>(connection, 'bench-chain');
  const trivial = { run: async () => ({ ok: true }) };
  const runner = new PipelineRunner({
    connection,
    queues,
    store,
    handlers: { seed: trivial, openings: trivial, transcripts: trivial },
    concurrency: { seed: CONCURRENCY, openings: CONCURRENCY, transcripts: CONCURRENCY },
    log: quiet,
  });
  let done = 0;
  const allDone = until(runner, (e) => e.stage === 'transcripts' && ++done === EPOCHS);
  runner.start();
  const t0 = performance.now();
  for (let e = 1; e <= EPOCHS; e++) await queues.add('seed', e);
  await allDone;
  const chainSeconds = (performance.now() - t0) / 1000;
  await runner.stop();
  await queues.close();

  // 2. fan-out
  const fq = new PipelineQueues({ connection, bullPrefix: 'bench-fan' });
  const fs = new PipelineStore<Omit<StageFields, 'openings'> & { openings: { parts: number } }>(
    connection,
    'bench-fan',
  );
  const fr = new PipelineRunner({
    connection,
    queues: fq,
    store: fs,
    handlers: {
      openings: {
        run: async (ctx) => ({
          parts: (await ctx.fanOut(Array.from({ length: PARTS }, (_, i) => ({ part: `n${i}` })))).size,
        }),
        part: async () => ({ ok: true }),
      },
    },
    fanOutConcurrency: CONCURRENCY,
    log: quiet,
  });
  const fanDone = until(fr, (e) => e.stage === 'openings');
  fr.start();
  const t1 = performance.now();
  await fq.add('openings', 1);
  await fanDone;
  const fanSeconds = (performance.now() - t1) / 1000;
  const fanParts = ((await fs.getStage(1, 'openings')) ?? { parts: 0 }).parts;
  await fr.stop();
  await fq.close();

  // 3. Redis restart
  const rq = new PipelineQueues({ connection, bullPrefix: 'bench-restart' });
  const rs = new PipelineStore<StageFields>(connection, 'bench-restart');
  const rr = new PipelineRunner({ connection, queues: rq, store: rs, handlers: { seed: trivial }, log: quiet });
  rr.start();
  const warm = until(rr, (e) => e.epoch === 1);
  await rq.add('seed', 1);
  await warm;
  const t2 = performance.now();
  await redis.restart();
  const after = until(rr, (e) => e.epoch === 2);
  await rq.add('seed', 2);
  await after;
  const restartSeconds = (performance.now() - t2) / 1000;
  await rr.stop();
  await rq.close();

  const report = {
    generatedAt: new Date().toISOString(),
    machine: 'shared 2-core VM (other workloads running); Redis 7.0.15 with appendonly yes, appendfsync everysec',
    chain: {
      epochs: EPOCHS,
      stages: 3,
      jobs: EPOCHS * 3,
      concurrency: CONCURRENCY,
      seconds: +chainSeconds.toFixed(2),
      jobsPerSecond: Math.round((EPOCHS * 3) / chainSeconds),
    },
    fanOut: {
      parts: fanParts,
      concurrency: CONCURRENCY,
      seconds: +fanSeconds.toFixed(2),
      partsPerSecond: Math.round(fanParts / fanSeconds),
    },
    redisRestart: { secondsUntilNextJobCompleted: +restartSeconds.toFixed(2) },
  };
  const out = join(repoRoot, 'bench', 'keepers', 'pipeline.json');
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
} finally {
  connection.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
