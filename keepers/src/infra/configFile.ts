/** Configuration files: JSON read from disk and validated by the caller's parser; errors name the file. */
import { readFileSync } from 'node:fs';
import { ConsensusConfigError, parseConsensusParameters, type ConsensusParameters } from '../core/consensus.js';

/** Reads a JSON file and validates it with `parse` (whose errors name the field); `readError` wraps I/O and syntax errors. */
export function readJsonFile<T>(
  path: string,
  parse: (raw: unknown, source: string) => T,
  readError: (message: string) => Error,
): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw readError((error as Error).message);
  }
  return parse(raw, path);
}

/** Reads a JSON file of consensus parameters; the error names the file and the field. */
export function loadConsensusParameters(path: string): ConsensusParameters {
  return readJsonFile(
    path,
    parseConsensusParameters,
    (message) => new ConsensusConfigError(`cannot read consensus parameters ${path}: ${message}`),
  );
}
