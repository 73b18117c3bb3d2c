/**
 * The keeper pipeline's queue machinery on a real Redis (spawned by ensureRedis on a free port, with an
 * append-only file): deterministic job ids make re-adds no-ops, failures retry with backoff and then land
 * in the dead-letter queue with their reason, fan-out jobs join, and stopping and restarting Redis in the
 * middle of a run loses no job.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { freePort } from '../src/dev/anvil.js';
import { ensureRedis, redisAnswers, redisConnection, type RedisHandle } from '../src/infra/redis.js';
import { PipelineQueues } from '../src/keeper/queues.js';
import { PipelineRunner, type StageEvent, type StageHandlers } from '../src/keeper/runner.js';
import { jobId, parseJobId } from '../src/keeper/stages.js';
import { PipelineStore, decodeJson, encodeJson, type StageFields } from '../src/keeper/store.js';

let redis: RedisHandle;
let dataDir: string;
let connection: Redis;
let namespace = 0;
const quiet = pino({ level: process.env.LOG_LEVEL ?? 'warn' });

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'keeper-redis-'));
  redis = await ensureRedis({ url: `redis://127.0.0.1:${await freePort()}`, dataDir });
  connection = redisConnection(redis.url);
});

after(async () => {
  connection?.disconnect();
  await redis?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh queue namespace per test, so tests do not see each other's jobs. */
/** The runner alone, with outputs of any shape. */
function setup(
  handlers: StageHandlers<StageFields>,
  retries: ConstructorParameters<typeof PipelineQueues>[0]['retries'] = {},
) {
  namespace++;
  const queues = new PipelineQueues({ connection, bullPrefix: `t${namespace}-bull`, retries });
  const store = new PipelineStore<StageFields>(connection, `t${namespace}`);
  const runner = new PipelineRunner({ connection, queues, store, handlers, lockDurationMs: 5000, log: quiet });
  return {
    queues,
    store,
    runner,
    async close() {
      await runner.stop();
      await queues.close();
    },
  };
}

function waitFor<T>(
  emitter: PipelineRunner<StageFields>,
  event: string,
  predicate: (e: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event within ${timeoutMs} ms`)), timeoutMs);
    const listener = (e: T) => {
      if (!predicate(e)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(e);
    };
    emitter.on(event, listener);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('job ids are deterministic and parse back', () => {
  assert.equal(jobId('collect-commitments', 7), 'collect-commitments.7');
  assert.equal(jobId('openings', 7, '0xAbC'), 'openings.7.0xAbC');
  assert.deepEqual(parseJobId('openings.7.0xAbC'), { stage: 'openings', epoch: 7, part: '0xAbC' });
  assert.equal(parseJobId('nope.7'), null);
  assert.throws(() => jobId('seed', 0), /bad epoch/);
  assert.throws(() => jobId('seed', 1, 'a:b'), /bad job id part/);
  const value = { a: 1n << 100n, b: ['x', { c: -5n }], d: { $n: 'not a number' } };
  assert.deepEqual(decodeJson(encodeJson(value)), value);
});

test('ensureRedis reuses a Redis that already answers and never stops it', async () => {
  const again = await ensureRedis({ url: redis.url, dataDir });
  assert.equal(again.spawned, false);
  await again.stop();
  assert.equal(await redisAnswers(redis.url), true);
  await assert.rejects(again.restart(), /not started by this process/);
  await assert.rejects(ensureRedis({ url: 'redis://10.255.255.1:6390', dataDir }), /not a local address/);
  await assert.rejects(
    ensureRedis({ url: `redis://127.0.0.1:${await freePort()}`, dataDir, serverPath: '/nonexistent/redis-server' }),
    /redis-server not found: apt-get install redis-server/,
  );
});

test('adding the same stage job twice runs it once, stores its output and enqueues the next stage once', async () => {
  let runs = 0;
  const t = setup({
    seed: {
      async run(ctx) {
        runs++;
        await sleep(100);
        return { epoch: ctx.epoch, value: 42n };
      },
    },
  });
  try {
    t.runner.start();
    const done = waitFor<StageEvent>(t.runner, 'completed', (e) => e.stage === 'seed' && e.epoch === 3);
    const [a, b] = await Promise.all([t.queues.add('seed', 3), t.queues.add('seed', 3)]);
    assert.equal(a.id, 'seed.3');
    assert.equal(b.id, 'seed.3');
    await done;
    await t.queues.add('seed', 3); // after completion: still a no-op
    await sleep(300);
    assert.equal(runs, 1);
    assert.deepEqual(await t.store.getStage(3, 'seed'), { epoch: 3, value: 42n });
    assert.equal(await t.queues.state('openings', 3), 'waiting'); // next stage enqueued, no worker for it here
    assert.equal(await t.queues.queues.openings.count(), 1);

    // A job re-run after its output was stored (e.g. the keeper died before completing it) skips the work.
    await t.queues.queues.seed.add('seed', { epoch: 3 }, { jobId: 'seed-rerun' });
    await sleep(300);
    assert.equal(runs, 1);
  } finally {
    await t.close();
  }
});

test('a failing job retries with backoff, then goes to dead-letter with its reason', async () => {
  const attemptsSeen: number[] = [];
  let flakyRuns = 0;
  const t = setup(
    {
      score: {
        async run(ctx) {
          if (ctx.epoch === 5) {
            attemptsSeen.push(ctx.attempt);
            throw new Error('guardian 0xabc answered 500');
          }
          flakyRuns++;
          if (flakyRuns < 3) throw new Error(`transient ${flakyRuns}`);
          return { ok: true };
        },
      },
    },
    { score: { attempts: 3, backoffMs: 50 } },
  );
  try {
    t.runner.start();
    const dead = waitFor<{ stage: string; epoch: number; reason: string }>(
      t.runner,
      'dead-letter',
      (e) => e.epoch === 5,
    );
    const flakyDone = waitFor<StageEvent>(t.runner, 'completed', (e) => e.epoch === 6);
    const started = Date.now();
    await t.queues.add('score', 5);
    await t.queues.add('score', 6);
    const letter = await dead;
    assert.equal(letter.stage, 'score');
    assert.match(letter.reason, /guardian 0xabc answered 500/);
    assert.deepEqual(attemptsSeen, [1, 2, 3]);
    assert.ok(Date.now() - started >= 50 + 100, 'exponential backoff waited between attempts');
    const letters = await t.queues.deadLetters(5);
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.jobId, 'score.5');
    assert.equal(letters[0]!.queue, 'score');
    assert.equal(letters[0]!.attemptsMade, 3);
    assert.equal(await t.queues.state('score', 5), 'failed');
    assert.equal(await t.queues.state('publish-dataset', 5), 'unknown'); // the pipeline stopped there

    // the flaky one succeeded on its third attempt and never reached the dead letter
    await flakyDone;
    assert.equal(flakyRuns, 3);
    assert.equal((await t.queues.deadLetters(6)).length, 0);

    // an operator fixes the cause and retries the dead letter
    const fixed = waitFor<StageEvent>(t.runner, 'completed', (e) => e.epoch === 5);
    t.runner.removeAllListeners('dead-letter');
    const handlers = (t.runner as unknown as { options: { handlers: StageHandlers<StageFields> } }).options.handlers;
    handlers.score!.run = async () => ({ fixed: true });
    await t.queues.retryDeadLetter('score.5');
    await fixed;
    assert.deepEqual(await t.store.getStage(5, 'score'), { fixed: true });
    assert.equal((await t.queues.deadLetters(5)).length, 0);
  } finally {
    await t.close();
  }
});

test('fan-out: per-part jobs run (with retries) and the parent resumes with every part output', async () => {
  const partRuns = new Map<string, number>();
  let parentRuns = 0;
  const t = setup(
    {
      openings: {
        async run(ctx) {
          parentRuns++;
          const parts = await ctx.fanOut<{ node: string; n: number }>(
            ['a', 'b', 'c', 'd', 'e'].map((part, i) => ({ part, input: { n: i } })),
          );
          return { nodes: [...parts.values()].sort((x, y) => x.node.localeCompare(y.node)) };
        },
        async part(ctx) {
          const runs = (partRuns.get(ctx.part!) ?? 0) + 1;
          partRuns.set(ctx.part!, runs);
          if (ctx.part === 'c' && runs === 1) throw new Error('node c: connection refused');
          if (ctx.part === 'e') {
            if (!ctx.isLastAttempt) throw new Error('node e: timeout');
            return { node: 'e', n: -1 }; // the handler records "no answer" on the last attempt
          }
          return { node: ctx.part!, n: (ctx.input as { n: number }).n };
        },
      },
    },
    { part: { attempts: 3, backoffMs: 20 } },
  );
  try {
    t.runner.start();
    const done = waitFor<StageEvent>(t.runner, 'completed', (e) => e.stage === 'openings' && e.epoch === 9);
    await t.queues.add('openings', 9);
    const event = await done;
    assert.deepEqual(event.output, {
      nodes: [
        { node: 'a', n: 0 },
        { node: 'b', n: 1 },
        { node: 'c', n: 2 },
        { node: 'd', n: 3 },
        { node: 'e', n: -1 },
      ],
    });
    assert.equal(partRuns.get('c'), 2);
    assert.equal(partRuns.get('e'), 3);
    assert.equal(parentRuns, 2); // once to fan out, once after the parts finished
    assert.equal(await t.queues.state('openings', 9, 'a'), 'completed');

    // pruning a settled epoch removes its jobs (children included) and per-part outputs, not the stage output
    assert.equal(await t.queues.pruneEpoch(9), 2); // openings.9 and the transcripts.9 it enqueued
    await t.store.prunePartsOf(9, ['openings']);
    assert.equal(await t.queues.state('openings', 9), 'unknown');
    assert.equal(await t.queues.state('openings', 9, 'a'), 'unknown');
    assert.equal(await t.queues.state('transcripts', 9), 'unknown');
    assert.equal((await t.store.getParts(9, 'openings')).size, 0);
    assert.ok(await t.store.getStage(9, 'openings'));
  } finally {
    await t.close();
  }
});

test('waitUntil delays a job without using an attempt', async () => {
  let runs = 0;
  const t = setup(
    {
      transcripts: {
        async run(ctx) {
          runs++;
          const at = (ctx.job.timestamp ?? Date.now()) + 400;
          if (Date.now() < at) return ctx.waitUntil(at, 'transcript deadline');
          return { runs };
        },
      },
    },
    { transcripts: { attempts: 1 } },
  );
  try {
    t.runner.start();
    const done = waitFor<StageEvent>(t.runner, 'completed', (e) => e.epoch === 2);
    const started = Date.now();
    await t.queues.add('transcripts', 2);
    const event = await done;
    assert.ok(Date.now() - started >= 400);
    assert.deepEqual(event.output, { runs: 2 });
  } finally {
    await t.close();
  }
});

test('stopping and restarting Redis (AOF) in the middle of a run loses no job', async () => {
  const EPOCHS = 40;
  const ran = new Map<number, number>();
  const t = setup({
    'publish-dataset': {
      async run(ctx) {
        ran.set(ctx.epoch, (ran.get(ctx.epoch) ?? 0) + 1);
        await sleep(40);
        return { epoch: ctx.epoch };
      },
    },
  });
  try {
    for (let e = 1; e <= EPOCHS; e++) await t.queues.add('publish-dataset', e);
    const completed = new Set<number>();
    t.runner.on('completed', (e: StageEvent) => completed.add(e.epoch));
    t.runner.start();
    while (completed.size < 5) await sleep(20);
    const before = completed.size;
    await redis.restart(); // SIGTERM: Redis writes its AOF, then a new server loads it
    assert.ok(before < EPOCHS, 'restart happened mid-run');
    const deadline = Date.now() + 60_000;
    while (completed.size < EPOCHS && Date.now() < deadline) await sleep(50);
    assert.equal(completed.size, EPOCHS, `completed ${completed.size} of ${EPOCHS} after the Redis restart`);
    for (let e = 1; e <= EPOCHS; e++) {
      assert.deepEqual(await t.store.getStage(e, 'publish-dataset'), { epoch: e });
      assert.equal(await t.queues.state('signatures', e), 'waiting', `next stage of epoch ${e} enqueued`);
    }
    // an interrupted job may have run twice, but its output was stored once
    assert.ok([...ran.values()].every((n) => n <= 2));

    // jobs waiting while Redis restarts with no worker at all are still there afterwards
    await t.runner.stop();
    for (let e = 100; e < 110; e++) await t.queues.add('publish-dataset', e);
    await sleep(1100); // appendfsync everysec
    await redis.restart();
    assert.equal(await t.queues.queues['publish-dataset'].count(), 10);
  } finally {
    await t.close();
  }
});
