/**
 * Cooperative yielding for long pure computations (evaluateEpoch): lets the event loop run pending I/O
 * (e.g. a guardian's commitment requests near a deadline) between chunks of CPU work. No I/O of its own.
 */

/** Resolves on the next turn of the event loop (after pending I/O callbacks). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `fn` over `items` in chunks of `size`, yielding to the event loop between chunks; results in order. */
export async function mapChunked<T, R>(items: readonly T[], size: number, fn: (item: T, index: number) => Promise<R>) {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    if (i > 0) await yieldToEventLoop();
    out.push(...(await Promise.all(items.slice(i, i + size).map((item, j) => fn(item, i + j)))));
  }
  return out;
}
