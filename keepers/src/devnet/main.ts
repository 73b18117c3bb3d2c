/**
 * Entry of `npm run devnet` (run.ts): the whole network live on one machine until Ctrl-C, or `--epochs N`
 * epochs. Exit code 0 when every node got what its behaviour must cost, 1 otherwise or on a failure, 2 for
 * bad usage; 130/143 when stopped by SIGINT/SIGTERM. Redis and PostgreSQL (unless `--redis-url` and
 * `--no-graph` make them unneeded) are installed first when missing and this user may (dev/services.ts);
 * otherwise it exits 1 after one line naming the command to run.
 */
import { ensureServices } from '../dev/services.js';
import { failureExitCode, untilStopSignal } from '../infra/commandLine.js';
import { devnetCommand, parseDevnetArgs } from './command.js';
import { runDevnet } from './run.js';

try {
  const options = parseDevnetArgs(process.argv.slice(2));
  if (options && !ensureServices({ redis: options.redisUrl === undefined, postgres: options.graph }, 'npm run devnet'))
    process.exit(1);
  process.exit(options ? await runDevnet(options, untilStopSignal) : 0);
} catch (error) {
  process.exit(failureExitCode('devnet', error, devnetCommand().helpInformation()));
}
