/** `sendnet rankings`: node rankings from the subgraph over GraphQL (queries in cli/rankings.ts). */
import { Command } from 'commander';
import { graphqlQuery, DEFAULT_GRAPHQL } from '../graphql.js';
import { parseChoice, parseInteger, parseUrl } from '../inputs.js';
import { Output } from '../output.js';
import {
  LATEST_EPOCH_QUERY,
  MAX_TOP,
  RANK_BY,
  buildRankingsQuery,
  latestEpochSchema,
  needsLatestEpoch,
  nodesResponseSchema,
  renderRankings,
  resultsResponseSchema,
  rowsFromNodes,
  rowsFromResults,
  type RankingRow,
  type RankingsRequest,
} from '../rankings.js';
import type { GlobalOptions } from '../session.js';
import { withExamples } from './common.js';

/** Runs the query (or two: the latest scored epoch first) and returns the normalised rows. */
export async function fetchRankings(
  url: string,
  req: RankingsRequest,
): Promise<{ epoch: number | null; rows: RankingRow[] }> {
  let latest: number | undefined;
  if (needsLatestEpoch(req)) {
    const { epoches } = await graphqlQuery(url, LATEST_EPOCH_QUERY, latestEpochSchema);
    if (epoches.length === 0) return { epoch: null, rows: [] };
    latest = epoches[0]!.number;
  }
  const query = buildRankingsQuery(req, latest);
  const epoch = req.epoch ?? latest ?? null;
  if (query.includes('nodeEpochResults')) {
    const { nodeEpochResults } = await graphqlQuery(url, query, resultsResponseSchema);
    return { epoch, rows: rowsFromResults(nodeEpochResults) };
  }
  const { nodes } = await graphqlQuery(url, query, nodesResponseSchema);
  return { epoch, rows: rowsFromNodes(nodes) };
}

export function rankingsCommand(): Command {
  return withExamples(
    new Command('rankings')
      .description(
        'node rankings from the subgraph: by score (the latest scored epoch, or --epoch), uptime, relay volume or cumulative rewards',
      )
      .option('--top <n>', `how many nodes (1-${MAX_TOP})`, '10')
      .option('--epoch <e>', 'rank by the results of this epoch instead of the latest')
      .option('--by <what>', `order: ${RANK_BY.join(' | ')}`, 'score'),
    [
      'sendnet rankings',
      'sendnet rankings --top 25 --by uptime',
      'sendnet rankings --epoch 12 --by volume',
      'SENDNET_GRAPHQL=https://graph.example/subgraphs/name/sendnet sendnet --json rankings --by rewards',
    ],
  ).action(async (options: { top: string; epoch?: string; by: string }, command: Command) => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    const out = new Output(Boolean(globals.json));
    const url = parseUrl(globals.graphql ?? DEFAULT_GRAPHQL, '--graphql', ['http:', 'https:']);
    const req: RankingsRequest = {
      by: parseChoice(options.by, '--by', RANK_BY),
      top: parseInteger(options.top, '--top', 1, MAX_TOP),
      ...(options.epoch !== undefined ? { epoch: parseInteger(options.epoch, '--epoch', 1, 0xffffffff) } : {}),
    };
    const { epoch, rows } = await fetchRankings(url, req);
    out.result({ by: req.by, epoch, rows }, () => {
      const title =
        req.by === 'score' || req.epoch !== undefined
          ? `Top ${req.top} nodes by ${req.by}${epoch === null ? '' : `, epoch ${epoch}`}`
          : `Top ${req.top} nodes by ${req.by === 'rewards' ? 'cumulative rewards' : `latest ${req.by}`}`;
      return `${title}\n\n${renderRankings(rows)}`;
    });
  });
}
