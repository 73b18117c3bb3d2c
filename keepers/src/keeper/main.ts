/**
 * Entry of a keeper process: runs one keeper (keeper.ts) until SIGINT/SIGTERM, or inspects the
 * dead-letter queue. Exit code 2 for bad usage or configuration, 1 for any other failure.
 *
 *   KEEPER_PRIVATE_KEY=0x… npm run keeper -- --rpc-url http://127.0.0.1:8545 \
 *       --address-book deployments/31337.json --guardian http://127.0.0.1:8601 --guardian … \
 *       [--redis-url redis://127.0.0.1:6379] [--port 8700] [--public-url URL] [--data-dir .keeper] \
 *       [--consensus FILE] [--timing FILE] [--resync-from URL …] [--start-epoch N] [--stages a,b] \
 *       [--no-spawn-redis] [--no-scheduler] [--lock-ms N]
 *   npm run keeper -- dead-letters [--redis-url …]        list dead letters (JSON lines)
 *   npm run keeper -- retry <jobId> [--redis-url …]       retry a dead-lettered job
 */
import { failureExitCode, untilStopSignal } from '../infra/commandLine.js';
import { log } from '../infra/log.js';
import { redisConnection } from '../infra/redis.js';
import { parseKeeperArgs } from './command.js';
import { Keeper } from './keeper.js';
import { PipelineQueues } from './queues.js';

try {
  const invocation = parseKeeperArgs(process.argv.slice(2));
  if (invocation?.command === 'run') {
    const keeper = new Keeper(invocation.options);
    await keeper.start();
    const signal = await untilStopSignal();
    log.info({ signal }, 'stopping keeper');
    await keeper.stop();
  } else if (invocation) {
    const connection = redisConnection(invocation.redisUrl, { maxRetriesPerRequest: 1 });
    const queues = new PipelineQueues({ connection });
    try {
      if (invocation.command === 'dead-letters') {
        for (const letter of await queues.deadLetters()) console.log(JSON.stringify(letter));
      } else {
        await queues.retryDeadLetter(invocation.jobId);
        console.log(`retried ${invocation.jobId}`);
      }
    } finally {
      await queues.close();
      connection.disconnect();
    }
  }
  process.exit(0);
} catch (error) {
  process.exit(failureExitCode('keeper', error, "see 'npm run keeper -- --help'"));
}
