/**
 * Entry of `npm run devnet` (run.ts): the whole network live on one machine until Ctrl-C, or `--epochs N`
 * epochs. Exit code 0 when every node got what its behaviour must cost, 1 otherwise or on a failure, 2 for
 * bad usage; 130/143 when stopped by SIGINT/SIGTERM.
 */
import { failureExitCode, untilStopSignal } from '../infra/commandLine.js';
import { devnetCommand, parseDevnetArgs } from './command.js';
import { runDevnet } from './run.js';

try {
  const options = parseDevnetArgs(process.argv.slice(2));
  process.exit(options ? await runDevnet(options, untilStopSignal) : 0);
} catch (error) {
  process.exit(failureExitCode('devnet', error, devnetCommand().helpInformation()));
}
