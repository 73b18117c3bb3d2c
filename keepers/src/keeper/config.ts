/**
 * The keeper's configuration: the consensus parameters it writes into every dataset (core/consensus.ts,
 * shared with the guardians, who must hold the same ones) and its own timings (how long it waits for nodes, WatchDogs and guardians). Validated with
 * zod at every entry (CLI flags, JSON files, the Keeper constructor).
 */
import { z } from 'zod';
import { SendnetError } from '../core/errors.js';
import { readJsonFile } from '../infra/configFile.js';
import { describeZodError } from '../core/wire.js';

export class KeeperConfigError extends SendnetError {
  override name = 'KeeperConfigError';
  override readonly code = 'keeper-config';
}

export { DEVNET_CONSENSUS, parseConsensusParameters, type ConsensusParameters } from '../core/consensus.js';

export const keeperTimingSchema = z.strictObject({
  /** After the commit deadline, how long nodes have to answer openings (then: silent). */
  openingsWindowSeconds: z.number().int().min(1).max(86_400).default(10),
  /** After the epoch end, how long WatchDog transcripts are accepted (the transcripts stage waits). */
  transcriptGraceSeconds: z.number().int().min(0).max(86_400).default(10),
  /** Timeout of one HTTP request to a node or guardian. */
  requestTimeoutMs: z.number().int().min(100).max(600_000).default(3_000),
  /** GETs of each node's commitment (an equivocating node may hand out different ones). */
  commitmentFetches: z.number().int().min(1).max(5).default(2),
  /** Epochs the scheduler enqueues beyond the last submitted one. */
  maxEpochsAhead: z.number().int().min(1).max(7).default(4),
  /** How often the scheduler looks for epochs whose commit deadline passed. */
  schedulerIntervalMs: z.number().int().min(50).max(600_000).default(1_000),
  /**
   * Finalized epochs whose jobs and per-node outputs are kept in Redis (older ones are pruned; their stage
   * outputs and datasets stay).
   */
  retainEpochs: z.number().int().min(2).max(100_000).default(16),
  /** Largest dataset a keeper serves or a guardian is asked to fetch. */
  maxDatasetBytes: z
    .number()
    .int()
    .min(1024)
    .default(256 * 1024 * 1024),
});
export type KeeperTiming = z.infer<typeof keeperTimingSchema>;
export type KeeperTimingInput = z.input<typeof keeperTimingSchema>;

function check<T>(schema: z.ZodType<T>, raw: unknown, source: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new KeeperConfigError(`${source}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

export function parseKeeperTiming(raw: unknown, source = 'keeper timing'): KeeperTiming {
  return check(keeperTimingSchema, raw ?? {}, source);
}

/** Reads a JSON file and validates it with `parse`; errors name the file and the field. */
export function loadJsonFile<T>(path: string, parse: (raw: unknown, source: string) => T): T {
  return readJsonFile(path, parse, (message) => new KeeperConfigError(`cannot read ${path}: ${message}`));
}
