/**
 * Entry of a guardian process: `GUARDIAN_PRIVATE_KEY=0x… tsx keepers/src/guardian/main.ts --help`. Serves
 * until SIGINT or SIGTERM. Exit code 2 for bad usage or configuration, 1 for any other failure.
 */
import { failureExitCode, untilStopSignal } from '../infra/commandLine.js';
import { parseGuardianArgs } from './command.js';
import { GuardianService } from './guardian.js';

try {
  const options = parseGuardianArgs(process.argv.slice(2));
  if (options) {
    const guardian = new GuardianService(options);
    await guardian.start();
    await untilStopSignal();
    await guardian.stop();
  }
  process.exit(0);
} catch (error) {
  process.exit(failureExitCode('guardian', error, "see 'tsx keepers/src/guardian/main.ts --help'"));
}
