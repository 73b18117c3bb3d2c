/**
 * The project's error base class and the errors every layer shares. Each project error extends
 * `SendnetError` (directly or through a family class such as the CLI's `CliError`) and carries:
 * - `name`: its class name (set per class, so it survives bundling and shows in logs and stacks);
 * - `code`: a stable machine-readable code (kebab-case, e.g. 'address-book'; the CLI's errors carry the
 *   codes docs/cli.md documents), for logs, metrics and programs, where `instanceof` cannot reach;
 * - `cause`: the ES2022 cause, when the error wraps another (`walk` follows the chain, as viem's).
 * Messages are the sentences callers show; a subclass never rewrites them. Pure.
 */

export interface SendnetErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
}

export abstract class SendnetError extends Error {
  override name = 'SendnetError';
  /** Stable machine-readable code: a string literal per class. */
  abstract readonly code: string;

  constructor(message: string, options?: SendnetErrorOptions) {
    super(message, options);
  }

  /**
   * This error, then its `cause`, then that one's cause…: the first `match` accepts, or null. Without
   * `match`: the innermost cause.
   */
  walk(match?: (error: unknown) => boolean): unknown {
    let error: unknown = this;
    for (let depth = 0; depth < 64; depth++) {
      if (match?.(error)) return error;
      const cause = error !== null && typeof error === 'object' && 'cause' in error ? error.cause : undefined;
      if (cause === undefined) break;
      error = cause;
    }
    return match ? null : error;
  }
}

/** Bad command-line usage: a missing or malformed flag or argument. Program entries exit with code 2. */
export class UsageError extends SendnetError {
  override name = 'UsageError';
  override readonly code = 'usage';
}

/**
 * An HTTP request refused: the handler throws it, the server answers `status` with `body` (by default
 * `{ error: wireCode, message }`). `wireCode` is the stable code clients see in the answer's `error` field.
 */
export class HttpError extends SendnetError {
  override name = 'HttpError';
  override readonly code = 'http';
  /** The JSON body to answer. */
  readonly body: Record<string, unknown>;

  constructor(
    readonly status: number,
    readonly wireCode: string,
    message: string,
    /** The whole body, when it is not `{ error: wireCode, message }` (more fields, or no message). */
    body?: Record<string, unknown>,
  ) {
    super(message);
    this.body = body ?? { error: wireCode, message };
  }
}
