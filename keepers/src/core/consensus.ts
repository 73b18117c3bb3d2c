/**
 * Off-chain consensus parameters: the dataset `parameters` that are not read from the chain (the chain
 * decides `equivocationSlash`, `guardianShareBps`, `epochEmission` and `licenseEmission`). The keeper writes them into every
 * dataset; each guardian refuses a dataset whose parameters differ from its own copy. Loaded from JSON
 * (amounts as decimal strings) with zod; `DEVNET_CONSENSUS` matches docs/protocol.md §7.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { datasetParametersWire, formatIssuePath, type DatasetParameters } from './datasetSchema.js';

export const consensusParametersSchema = datasetParametersWire.omit({
  equivocationSlash: true,
  guardianShareBps: true,
  epochEmission: true,
  licenseEmission: true,
});
export type ConsensusParameters = z.infer<typeof consensusParametersSchema>;
/** The dataset parameters the chain decides. */
export type ChainParameters = Pick<DatasetParameters, 'equivocationSlash' | 'guardianShareBps' | 'epochEmission' | 'licenseEmission'>;

export const DEVNET_CONSENSUS: ConsensusParameters = {
  k: 32,
  m: 3,
  challengesPerNode: 4,
  challengeTimeoutMs: 2_000,
  commitGraceSeconds: 5,
  assignmentLeadSeconds: 10,
  fraudSlash: '1000000000000000000000',
  aMin: 0.9,
  aTarget: 0.99,
  gamma: 2,
  stakeCap: '1000000000000000000000000',
  volumeCapPerDid: '10000',
  stakeSplitBps: 5_000,
};

export class ConsensusConfigError extends Error {
  override name = 'ConsensusConfigError';
}

export function parseConsensusParameters(raw: unknown, source = 'consensus parameters'): ConsensusParameters {
  const parsed = consensusParametersSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConsensusConfigError(`${source}: ${formatIssuePath(issue.path)}: ${issue.message}`);
  }
  return parsed.data;
}

/** Reads a JSON file of consensus parameters; the error names the file and the field. */
export function loadConsensusParameters(path: string): ConsensusParameters {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConsensusConfigError(`cannot read consensus parameters ${path}: ${(error as Error).message}`);
  }
  return parseConsensusParameters(raw, path);
}
