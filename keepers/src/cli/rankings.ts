/**
 * Node rankings from the subgraph (schema contract in docs/cli.md, "Rankings"): the GraphQL text for each
 * `--by` / `--epoch` combination, the response schemas, one normalised row type, and the table. Pure.
 *
 *   score, latest epoch   nodeEpochResults(where: {epochNumber: <latest with scoresPublished>}, orderBy: rank asc)
 *   score, --epoch E      nodeEpochResults(where: {epochNumber: E}, orderBy: rank asc)
 *   uptime | volume       nodes(orderBy: latestAvailability | latestVerifiedUnits desc, where: {latestEpoch_not: null})
 *   rewards               nodes(orderBy: cumulativeRewards desc)
 *   uptime | volume | rewards with --epoch E   nodeEpochResults(where: {epochNumber: E}, orderBy: availability | verifiedUnits | reward desc)
 */
import { z } from 'zod';
import { formatPpm, formatSendRounded, formatTokenRounded, renderTable, type Column } from './output.js';

export const RANK_BY = ['score', 'uptime', 'volume', 'rewards'] as const;
export type RankBy = (typeof RANK_BY)[number];

export interface RankingsRequest {
  by: RankBy;
  /** 1..1000 (graph-node's page limit). */
  top: number;
  epoch?: number;
}

export const MAX_TOP = 1000;

export const LATEST_EPOCH_QUERY =
  '{ epoches(first: 1, orderBy: number, orderDirection: desc, where: {scoresPublished: true}) { number } }';

const NODE_FIELDS =
  'id operator stake status endpoint latestEpoch latestRank latestScore latestAvailability latestVerifiedUnits latestReward cumulativeRewards';
const RESULT_FIELDS = `epochNumber rank score availability latencyP50Ms latencyP95Ms verifiedUnits reward faults node { ${NODE_FIELDS} }`;
const EPOCH_ORDER: Record<RankBy, { field: string; direction: 'asc' | 'desc' }> = {
  score: { field: 'rank', direction: 'asc' },
  uptime: { field: 'availability', direction: 'desc' },
  volume: { field: 'verifiedUnits', direction: 'desc' },
  rewards: { field: 'reward', direction: 'desc' },
};

/** True when the query needs the latest scored epoch first (`LATEST_EPOCH_QUERY`). */
export const needsLatestEpoch = (req: RankingsRequest) => req.by === 'score' && req.epoch === undefined;

function checkRequest(req: RankingsRequest): void {
  if (!Number.isInteger(req.top) || req.top < 1 || req.top > MAX_TOP)
    throw new RangeError(`top must be 1..${MAX_TOP}, got ${req.top}`);
  if (req.epoch !== undefined && (!Number.isInteger(req.epoch) || req.epoch < 0))
    throw new RangeError(`bad epoch ${req.epoch}`);
}

/** The GraphQL query text of `req`; for `by: score` without an epoch pass the latest scored epoch. */
export function buildRankingsQuery(req: RankingsRequest, latestEpoch?: number): string {
  checkRequest(req);
  const epoch = req.epoch ?? (req.by === 'score' ? latestEpoch : undefined);
  if (epoch !== undefined) {
    const order = EPOCH_ORDER[req.by];
    return `{ nodeEpochResults(first: ${req.top}, where: {epochNumber: ${epoch}}, orderBy: ${order.field}, orderDirection: ${order.direction}) { ${RESULT_FIELDS} } }`;
  }
  if (req.by === 'score') throw new RangeError('ranking by score needs an epoch');
  if (req.by === 'rewards')
    return `{ nodes(first: ${req.top}, orderBy: cumulativeRewards, orderDirection: desc) { ${NODE_FIELDS} } }`;
  const field = req.by === 'uptime' ? 'latestAvailability' : 'latestVerifiedUnits';
  return `{ nodes(first: ${req.top}, orderBy: ${field}, orderDirection: desc, where: {latestEpoch_not: null}) { ${NODE_FIELDS} } }`;
}

const bigintString = z
  .string()
  .regex(/^-?\d+$/, 'must be a decimal BigInt')
  .transform(BigInt);
const optionalBigint = bigintString.nullable().optional();
const optionalInt = z.number().int().nullable().optional();

const nodeSchema = z.object({
  id: z.string(),
  operator: z.string(),
  stake: bigintString,
  status: z.string(),
  endpoint: z.string().optional(),
  latestEpoch: optionalInt,
  latestRank: optionalInt,
  latestScore: optionalInt,
  latestAvailability: optionalInt,
  latestVerifiedUnits: optionalBigint,
  latestReward: optionalBigint,
  cumulativeRewards: bigintString,
});
const resultSchema = z.object({
  epochNumber: z.number().int(),
  rank: z.number().int(),
  score: z.number().int(),
  availability: z.number().int(),
  latencyP50Ms: z.number().int(),
  latencyP95Ms: z.number().int(),
  verifiedUnits: bigintString,
  reward: bigintString,
  faults: z.number().int(),
  node: nodeSchema,
});

export const latestEpochSchema = z.object({ epoches: z.array(z.object({ number: z.number().int() })) });
export const nodesResponseSchema = z.object({ nodes: z.array(nodeSchema) });
export const resultsResponseSchema = z.object({ nodeEpochResults: z.array(resultSchema) });

/** One ranked node, whatever query produced it. */
export interface RankingRow {
  position: number;
  nodeKey: string;
  operator: string;
  status: string;
  stake: bigint;
  epoch: number | null;
  rank: number | null;
  score: number | null;
  availability: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  verifiedUnits: bigint | null;
  reward: bigint | null;
  cumulativeRewards: bigint;
}

export function rowsFromNodes(nodes: z.infer<typeof nodesResponseSchema>['nodes']): RankingRow[] {
  return nodes.map((n, i) => ({
    position: i + 1,
    nodeKey: n.id,
    operator: n.operator,
    status: n.status,
    stake: n.stake,
    epoch: n.latestEpoch ?? null,
    rank: n.latestRank ?? null,
    score: n.latestScore ?? null,
    availability: n.latestAvailability ?? null,
    latencyP50Ms: null,
    latencyP95Ms: null,
    verifiedUnits: n.latestVerifiedUnits ?? null,
    reward: n.latestReward ?? null,
    cumulativeRewards: n.cumulativeRewards,
  }));
}

export function rowsFromResults(results: z.infer<typeof resultsResponseSchema>['nodeEpochResults']): RankingRow[] {
  return results.map((r, i) => ({
    position: i + 1,
    nodeKey: r.node.id,
    operator: r.node.operator,
    status: r.node.status,
    stake: r.node.stake,
    epoch: r.epochNumber,
    rank: r.rank,
    score: r.score,
    availability: r.availability,
    latencyP50Ms: r.latencyP50Ms,
    latencyP95Ms: r.latencyP95Ms,
    verifiedUnits: r.verifiedUnits,
    reward: r.reward,
    cumulativeRewards: r.node.cumulativeRewards,
  }));
}

const COLUMNS: Column[] = [
  { header: '#', right: true },
  { header: 'node' },
  { header: 'epoch', right: true },
  { header: 'rank', right: true },
  { header: 'score', right: true },
  { header: 'uptime', right: true },
  { header: 'p50/p95 ms', right: true },
  { header: 'volume (units)', right: true },
  { header: 'reward', right: true },
  { header: 'total rewards', right: true },
  { header: 'stake', right: true },
  { header: 'status' },
];

const dash = <T>(v: T | null | undefined, f: (x: T) => string = String) => (v === null || v === undefined ? '-' : f(v));

/**
 * The rankings table for people: SEND amounts rounded (`formatSendRounded`); `--json` has them exact. On a
 * points deployment (`rewardUnit` 'points') rewards are labelled points; stake is SEND either way.
 */
export function renderRankings(rows: readonly RankingRow[], rewardUnit: 'SEND' | 'points' = 'SEND'): string {
  if (rows.length === 0) return 'No ranked nodes yet.';
  const reward = (wei: bigint) => formatTokenRounded(wei, rewardUnit);
  return renderTable(
    COLUMNS,
    rows.map((r) => [
      String(r.position),
      r.nodeKey,
      dash(r.epoch),
      dash(r.rank),
      formatPpm(r.score),
      formatPpm(r.availability),
      r.latencyP50Ms === null ? '-' : `${r.latencyP50Ms}/${r.latencyP95Ms}`,
      dash(r.verifiedUnits),
      dash(r.reward, reward),
      reward(r.cumulativeRewards),
      formatSendRounded(r.stake),
      r.status,
    ]),
  );
}
