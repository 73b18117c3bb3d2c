/**
 * Errors the CLI reports to people: each carries ONE sentence naming the problem and what to do, and the
 * exit code class it ends with. Anything else that escapes a command is turned into such a sentence by
 * `describeError` (cli/describeError.ts); no stack trace reaches the user unless SENDNET_DEBUG=1.
 */
import { SendnetError } from '../core/errors.js';

/** Exit codes: documented in docs/cli.md. */
export const ExitCode = {
  /** Something unexpected (a bug or an unrecognised failure). */
  Unexpected: 1,
  /** Bad usage or bad input: an option, an amount, a key, a file. */
  Usage: 2,
  /** Cannot reach or trust a service: RPC or GraphQL down, wrong network, missing address book. */
  Network: 3,
  /** The contract refuses the action (decoded revert, or the same check done before sending). */
  Rejected: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A failure with a sentence fit for the user. `code` is a stable machine name (the revert's error name, or
 * a CLI code as docs/cli.md describes: `BadInput`, `WrongNetwork`…). PascalCase, unlike other codes: user-facing.
 */
export class CliError extends SendnetError {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.Usage,
    override readonly code: string = 'Usage',
  ) {
    super(message);
  }
}

/** Bad option, argument, file or key. */
export class InputError extends CliError {
  override name = 'InputError';
  constructor(message: string, code = 'BadInput') {
    super(message, ExitCode.Usage, code);
  }
}

/** RPC or GraphQL unreachable, wrong network, no address book. */
export class NetworkError extends CliError {
  override name = 'NetworkError';
  constructor(message: string, code = 'Network') {
    super(message, ExitCode.Network, code);
  }
}

/** The contract would (or did) refuse: `code` is the custom error's name. */
export class RejectedError extends CliError {
  override name = 'RejectedError';
  constructor(message: string, code: string) {
    super(message, ExitCode.Rejected, code);
  }
}

/** Ends a sentence with a full stop if it has no final punctuation. */
export function sentence(text: string): string {
  const raw = text.trim();
  const trimmed = raw.charAt(0).toUpperCase() + raw.slice(1);
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
