/**
 * Waiting helpers of the live-network tests (network.e2e, devnet.journeys.e2e): poll a probe until it
 * yields, and remember whether any test failed (so a run's files are kept for inspection).
 */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` every `intervalMs` until it returns something other than undefined/false; a probe that
 * throws is retried. Times out naming `what` and the last error.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  intervalMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

/** Wraps test bodies so that `failures.any` turns true when one of them throws. */
export function failureTracker() {
  const failures = {
    any: false,
    step(fn: () => Promise<void>): () => Promise<void> {
      return async () => {
        try {
          await fn();
        } catch (error) {
          failures.any = true;
          throw error;
        }
      };
    },
  };
  return failures;
}
