/** Placeholder until the error base class lands (issue 10): bad command-line usage (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}
