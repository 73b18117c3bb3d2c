/**
 * Entry of a WatchDog process: `WATCHDOG_OPERATOR_KEY=0x… tsx keepers/src/watchdog/main.ts --help`. Runs
 * until SIGINT or SIGTERM. Exit code 2 for bad usage or configuration, 1 for any other failure.
 */
import { failureExitCode, untilStopSignal } from '../infra/commandLine.js';
import { parseWatchdogArgs } from './command.js';
import { WatchDogService } from './watchdog.js';

try {
  const options = await parseWatchdogArgs(process.argv.slice(2));
  if (options) {
    const watchdog = new WatchDogService(options);
    watchdog.start();
    await untilStopSignal();
    await watchdog.stop();
  }
  process.exit(0);
} catch (error) {
  process.exit(failureExitCode('watchdog', error, "see 'tsx keepers/src/watchdog/main.ts --help'"));
}
