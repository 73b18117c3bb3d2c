/**
 * The keeper pipeline's stages, in order, and their deterministic job ids (pure).
 *
 * One BullMQ queue per stage. Job id `<stage>.<epoch>`, per-node fan-out jobs `<stage>.<epoch>.<part>`
 * (BullMQ 6 rejects custom job ids containing ':' — it reserves them for repeatable jobs — so the
 * separator is '.'). Adding a job whose id exists is a no-op, so every keeper process may enqueue
 * every stage; each stage's output is stored in Redis before the next stage is enqueued, so a re-run
 * skips to the next stage and a killed keeper resumes where it stopped.
 */
import type { CollectOutput, SeedOutput } from './handlers/collect.js';
import type { OpeningsOutput } from './handlers/openings.js';
import type { PublishOutput, ScoreOutput, TranscriptsOutput } from './handlers/score.js';
import type { ExecuteFaultsOutput, PublishScoresOutput, SubmitOutput } from './handlers/settle.js';
import type { SignaturesOutput } from './handlers/signatures.js';

export const STAGES = [
  'collect-commitments',
  'seed',
  'openings',
  'transcripts',
  'score',
  'publish-dataset',
  'signatures',
  'submit',
  'publish-scores',
  'execute-faults',
] as const;

export type Stage = (typeof STAGES)[number];

/** What each stage stores as its output (JSON with bigints, store.ts), by stage name. */
export interface StageOutputs {
  'collect-commitments': CollectOutput;
  seed: SeedOutput;
  openings: OpeningsOutput;
  transcripts: TranscriptsOutput;
  score: ScoreOutput;
  'publish-dataset': PublishOutput;
  signatures: SignaturesOutput;
  submit: SubmitOutput;
  'publish-scores': PublishScoresOutput;
  'execute-faults': ExecuteFaultsOutput;
}

/** The queue that receives jobs that failed their last attempt. */
export const DEAD_LETTER_QUEUE = 'dead-letter';

export function isStage(name: string): name is Stage {
  return (STAGES as readonly string[]).includes(name);
}

/** The stage after `stage`, or null after the last one. */
export function nextStage(stage: Stage): Stage | null {
  const i = STAGES.indexOf(stage);
  return i + 1 < STAGES.length ? STAGES[i + 1]! : null;
}

const PART = /^[A-Za-z0-9_-]{1,80}$/;

/** `<stage>.<epoch>` or `<stage>.<epoch>.<part>` (part: a node key, a token id, an index). */
export function jobId(stage: Stage, epoch: number, part?: string): string {
  if (!Number.isInteger(epoch) || epoch < 1 || epoch > 0xffffffff)
    throw new RangeError(`bad epoch ${epoch} for job ${stage}`);
  if (part === undefined) return `${stage}.${epoch}`;
  if (!PART.test(part)) throw new RangeError(`bad job id part "${part}" (letters, digits, _ and - only)`);
  return `${stage}.${epoch}.${part}`;
}

/** Inverse of `jobId`; null when `id` is not a pipeline job id. */
export function parseJobId(id: string): { stage: Stage; epoch: number; part?: string } | null {
  const [stage = '', epoch, part, ...rest] = id.split('.');
  if (rest.length > 0 || !isStage(stage) || !/^[1-9][0-9]*$/.test(epoch ?? '')) return null;
  if (part !== undefined && !PART.test(part)) return null;
  return part === undefined ? { stage, epoch: Number(epoch) } : { stage, epoch: Number(epoch), part };
}
