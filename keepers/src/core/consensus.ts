/**
 * Off-chain consensus parameters: the dataset `parameters` that are not read from the chain (the chain
 * decides `equivocationSlash`, `guardianShareBps`, `epochEmission`, `licenseEmission` and, in points mode,
 * `rewardsTo`). The keeper writes them into every
 * dataset; each guardian refuses a dataset whose parameters differ from its own copy. Loaded from JSON
 * (amounts as decimal strings) with zod; `DEVNET_CONSENSUS` matches docs/protocol.md §7.
 */
import type { z } from 'zod';
import { SendnetError } from './errors.js';
import { datasetParametersWire, type DatasetParameters } from './datasetSchema.js';
import { describeZodError } from './wire.js';

export const consensusParametersSchema = datasetParametersWire.omit({
  equivocationSlash: true,
  guardianShareBps: true,
  epochEmission: true,
  licenseEmission: true,
  rewardsTo: true,
});
export type ConsensusParameters = z.infer<typeof consensusParametersSchema>;
/** The dataset parameters the chain decides. */
export type ChainParameters = Pick<
  DatasetParameters,
  'equivocationSlash' | 'guardianShareBps' | 'epochEmission' | 'licenseEmission' | 'rewardsTo'
>;

export const DEVNET_CONSENSUS: ConsensusParameters = {
  k: 32,
  m: 5,
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

export class ConsensusConfigError extends SendnetError {
  override name = 'ConsensusConfigError';
  override readonly code = 'consensus-config';
}

export function parseConsensusParameters(raw: unknown, source = 'consensus parameters'): ConsensusParameters {
  const parsed = consensusParametersSchema.safeParse(raw);
  if (!parsed.success) throw new ConsensusConfigError(`${source}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
