/**
 * Command lines of the programs (keeper, edge node, guardian, WatchDog, devnet; the `sendnet` CLI builds its
 * own command tree on the same library): one parser, commander, and one way to report a failure. Each
 * program's `main.ts` is the only place that reads `process.argv` and ends the process; it parses with
 * `parseCommandLine`, runs, waits for `untilStopSignal`, and exits with `failureExitCode` on an error.
 */
import { Command, CommanderError } from 'commander';
import type { Hex } from 'viem';
import { SendnetError, UsageError } from '../core/errors.js';
import { isHex32 } from '../core/wire.js';

/** A commander program that throws instead of exiting and prints only help: errors are the entry's to report. */
export function commandLine(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ writeErr: () => {} });
}

/**
 * Parses `argv` (user arguments, without node and the script). Returns false when commander printed the
 * help (the entry exits 0); throws a UsageError naming the problem for unknown options, missing values
 * and missing required options.
 */
export function parseCommandLine(command: Command, argv: readonly string[]): boolean {
  try {
    command.parse([...argv], { from: 'user' });
    return true;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return false;
      throw new UsageError(error.message.replace(/^error: /, ''));
    }
    throw error;
  }
}

/** An integer flag in [min, max], or undefined when absent; the UsageError names the flag and the value. */
export function integerFlag(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer in ${min}..${max}, got "${value}"`);
  }
  return n;
}

/**
 * A private key from the environment variable `variable` (keys never come from flags: they would show in
 * `ps`); the UsageError names the variable and the expected form.
 */
export function keyFromEnvironment(env: NodeJS.ProcessEnv, variable: string, what: string): Hex {
  const key = env[variable];
  if (!key || !isHex32(key)) throw new UsageError(`set ${variable} to the ${what} (0x + 64 hex)`);
  return key;
}

/** Resolves with the first SIGINT or SIGTERM the process receives. */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** Codes of the errors that mean "fix the command line or its configuration files" (exit code 2). */
const CONFIGURATION_ERROR_CODES: ReadonlySet<string> = new Set([
  'usage',
  'address-book',
  'consensus-config',
  'keeper-config',
]);

/**
 * Prints a program's failure to stderr and returns its exit code: 2 for a usage or configuration error
 * (the `usage` hint follows a usage error), 1 for anything else (with its stack).
 */
export function failureExitCode(program: string, error: unknown, usage?: string): number {
  if (error instanceof SendnetError && CONFIGURATION_ERROR_CODES.has(error.code)) {
    console.error(`${program}: ${error.message}${error instanceof UsageError && usage ? `\n${usage}` : ''}`);
    return 2;
  }
  console.error(`${program}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return 1;
}
