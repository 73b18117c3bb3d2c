/**
 * `sendnet points` (docs/cli.md, "Points"; docs/points.md): what a node, an operator's nodes, a WatchDog
 * license or an account earned in points mode, per epoch and in total. Pure: the option rules, the
 * GraphQL text and response schemas, per-epoch license/account points from cumulative claims leaves,
 * and the tables.
 *
 *   --node KEY        node(id) { cumulativeRewards results(last N epochs) { epochNumber reward } }
 *   --operator ADDR   nodes(where: {operator}) { … the same per node }
 *   --license ID      the keeper's claims documents of the last N+1 finalized epochs: the license's
 *   --account ADDR    cumulative leaf in each; an epoch's points are the difference of consecutive ones
 *
 * Node points come from the subgraph (NodeScorePublished.reward is in points in points mode); license and
 * account points from the claims documents, because the chain shows those only cumulatively when claimed.
 */
import { getAddress, type Address } from 'viem';
import { z } from 'zod';
import { InputError, RejectedError } from './errors.js';
import { parseAddress, parseInteger, parseTokenId } from './inputs.js';
import { formatTokenRounded, renderRecord, renderTable } from './output.js';

export const POINTS_SYMBOL = 'points';
export const DEFAULT_POINTS_EPOCHS = 10;
/** graph-node's page limit bounds the epochs of one node and the nodes of one operator. */
export const MAX_POINTS_EPOCHS = 1000;

export type PointsTarget =
  | { kind: 'node'; nodeKey: Address }
  | { kind: 'operator'; operator: Address }
  | { kind: 'license'; tokenId: bigint }
  | { kind: 'account'; account: Address };

export interface PointsOptions {
  node?: string;
  operator?: string;
  license?: string;
  account?: string;
  epochs?: string;
}

/** Exactly one of --node, --operator, --license, --account; --epochs 1..1000. */
export function parsePointsRequest(options: PointsOptions): { target: PointsTarget; epochs: number } {
  const given = (['node', 'operator', 'license', 'account'] as const).filter((k) => options[k] !== undefined);
  if (given.length !== 1) {
    throw new InputError(
      given.length === 0
        ? 'Say whose points to show: pass one of --node KEY, --operator ADDRESS, --license ID or --account ADDRESS.'
        : `Pass only one of --node, --operator, --license and --account (got ${given.map((k) => `--${k}`).join(' and ')}).`,
    );
  }
  const epochs =
    options.epochs === undefined
      ? DEFAULT_POINTS_EPOCHS
      : parseInteger(options.epochs, '--epochs', 1, MAX_POINTS_EPOCHS);
  const kind = given[0]!;
  const target: PointsTarget =
    kind === 'node'
      ? { kind, nodeKey: parseAddress(options.node!, '--node') }
      : kind === 'operator'
        ? { kind, operator: parseAddress(options.operator!, '--operator') }
        : kind === 'license'
          ? { kind, tokenId: parseTokenId(options.license!, '--license') }
          : { kind, account: parseAddress(options.account!, '--account') };
  return { target, epochs };
}

// ------------------------------------------------------------------ subgraph

export const PROTOCOL_QUERY = '{ protocol(id: "protocol") { pointsMode rewardUnit lastFinalizedEpoch } }';
export const protocolSchema = z.object({
  protocol: z
    .object({ pointsMode: z.boolean(), rewardUnit: z.string(), lastFinalizedEpoch: z.number().int() })
    .nullable(),
});

const NODE_POINTS_FIELDS = (epochs: number) =>
  `id operator status cumulativeRewards results(first: ${epochs}, orderBy: epochNumber, orderDirection: desc) { epochNumber reward } pointsConversions { points amount recipient }`;

/** The query of a node's (or an operator's nodes') points; addresses lowercase, as the subgraph stores ids. */
export function buildNodePointsQuery(target: PointsTarget, epochs: number): string {
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > MAX_POINTS_EPOCHS)
    throw new RangeError(`bad epochs ${epochs}`);
  if (target.kind === 'node')
    return `{ node(id: "${target.nodeKey.toLowerCase()}") { ${NODE_POINTS_FIELDS(epochs)} } }`;
  if (target.kind === 'operator')
    return `{ nodes(first: ${MAX_POINTS_EPOCHS}, orderBy: id, where: {operator: "${target.operator.toLowerCase()}"}) { ${NODE_POINTS_FIELDS(epochs)} } }`;
  throw new RangeError(`no subgraph query for ${target.kind}`);
}

const bigintString = z
  .string()
  .regex(/^\d+$/)
  .transform((s) => BigInt(s));
const nodePointsSchema = z.object({
  id: z.string(),
  operator: z.string(),
  status: z.string(),
  cumulativeRewards: bigintString,
  results: z.array(z.object({ epochNumber: z.number().int(), reward: bigintString })),
  pointsConversions: z.array(z.object({ points: bigintString, amount: bigintString, recipient: z.string() })),
});
export const nodePointsResponseSchema = z.object({ node: nodePointsSchema.nullable() });
export const operatorPointsResponseSchema = z.object({ nodes: z.array(nodePointsSchema) });
export type NodePointsRecord = z.infer<typeof nodePointsSchema>;

/** The refusal for a subgraph that does not index a points deployment. */
export function requirePointsMode(protocol: z.infer<typeof protocolSchema>['protocol'], url: string) {
  if (!protocol)
    throw new RejectedError(
      `The subgraph at ${url} has indexed no protocol activity yet, so it cannot tell whether this is a points deployment.`,
      'NotPointsMode',
    );
  if (!protocol.pointsMode)
    throw new RejectedError(
      `This deployment is not in points mode: the subgraph at ${url} reports rewards in ${protocol.rewardUnit}, not points (sendnet rankings --by rewards shows them).`,
      'NotPointsMode',
    );
  return protocol;
}

export interface EpochPoints {
  epoch: number;
  points: bigint;
}

/** One node's points: per epoch (newest first) and in total; its conversion if it converted. */
export interface NodePoints {
  nodeKey: Address;
  operator: Address;
  status: string;
  total: bigint;
  epochs: EpochPoints[];
  converted: { points: bigint; send: bigint; recipient: Address } | null;
}

export function nodePointsFrom(record: NodePointsRecord): NodePoints {
  const conversion = record.pointsConversions[0];
  return {
    nodeKey: getAddress(record.id),
    operator: getAddress(record.operator),
    status: record.status,
    total: record.cumulativeRewards,
    epochs: record.results.map((r) => ({ epoch: r.epochNumber, points: r.reward })),
    converted: conversion
      ? { points: conversion.points, send: conversion.amount, recipient: getAddress(conversion.recipient) }
      : null,
  };
}

// ------------------------------------------------------------------ claims documents

/** The finalized reward roots of `epochs`, to check the keeper's claims documents against the chain. */
export function epochRootsQuery(epochs: readonly number[]): string {
  return `{ epoches(first: ${epochs.length}, where: {number_in: [${epochs.join(', ')}], status: "Finalized"}) { number rewardRoot } }`;
}
export const epochRootsSchema = z.object({
  epoches: z.array(z.object({ number: z.number().int(), rewardRoot: z.string() })),
});

/**
 * The finalized epochs whose claims documents give the last `epochs` epochs' points: one more than asked
 * (the cumulative before the first shown epoch), never before epoch 1.
 */
export function claimsEpochs(lastFinalized: number, epochs: number): number[] {
  const first = Math.max(1, lastFinalized - epochs);
  const list: number[] = [];
  for (let e = first; e <= lastFinalized; e++) list.push(e);
  return list;
}

/**
 * Per-epoch points from cumulative leaves (`null` = no leaf in that epoch's document: nothing earned yet).
 * `cumulatives` is oldest first and starts one epoch before the first shown, except from epoch 1 (whose
 * points are its whole cumulative). Newest first, like the node tables. A cumulative that decreases means
 * the documents are inconsistent: refused rather than shown as negative points.
 */
export function epochPointsFromCumulative(
  cumulatives: readonly { epoch: number; cumulative: bigint | null }[],
  who: string,
): { epochs: EpochPoints[]; total: bigint } {
  const epochs: EpochPoints[] = [];
  for (let i = 0; i < cumulatives.length; i++) {
    const current = cumulatives[i]!;
    const now = current.cumulative ?? 0n;
    if (i === 0 && current.epoch !== 1) continue; // the baseline only
    const before = i === 0 ? 0n : (cumulatives[i - 1]!.cumulative ?? 0n);
    if (now < before)
      throw new RejectedError(
        `The claims documents disagree: the cumulative points of ${who} fall from ${before} in epoch ${cumulatives[i - 1]!.epoch} to ${now} in epoch ${current.epoch}.`,
        'InconsistentClaims',
      );
    epochs.push({ epoch: current.epoch, points: now - before });
  }
  const last = cumulatives.at(-1);
  return { epochs: epochs.reverse(), total: last?.cumulative ?? 0n };
}

// ------------------------------------------------------------------ rendering

export const formatPoints = (amount: bigint) => formatTokenRounded(amount, POINTS_SYMBOL);

/** Per-epoch table: epoch and points (newest first). */
export function renderEpochPoints(epochs: readonly EpochPoints[]): string {
  if (epochs.length === 0) return 'No points in the epochs shown.';
  return renderTable(
    [
      { header: 'epoch', right: true },
      { header: 'points', right: true },
    ],
    epochs.map((e) => [String(e.epoch), formatPoints(e.points)]),
  );
}

export function renderNodePoints(node: NodePoints): string {
  return [
    renderRecord([
      ['node key', node.nodeKey],
      ['operator', node.operator],
      ['status', node.status],
      ['total', formatPoints(node.total)],
      [
        'converted',
        node.converted
          ? `${formatPoints(node.converted.points)} into ${formatTokenRounded(node.converted.send, 'SEND')} (paid to ${node.converted.recipient})`
          : 'no',
      ],
    ]),
    '',
    renderEpochPoints(node.epochs),
  ].join('\n');
}

/** An operator's nodes: one row per node with its total, then the per-epoch sum over its nodes. */
export function renderOperatorPoints(operator: Address, nodes: readonly NodePoints[], epochs: number): string {
  if (nodes.length === 0) return `${operator} operates no node the subgraph knows.`;
  const total = nodes.reduce((sum, n) => sum + n.total, 0n);
  const perEpoch = sumByEpoch(nodes, epochs);
  return [
    renderRecord([
      ['operator', operator],
      ['nodes', String(nodes.length)],
      ['total', formatPoints(total)],
    ]),
    '',
    renderTable(
      [{ header: 'node key' }, { header: 'status' }, { header: 'total', right: true }],
      nodes.map((n) => [n.nodeKey, n.status, formatPoints(n.total)]),
    ),
    '',
    renderEpochPoints(perEpoch),
  ].join('\n');
}

/**
 * Points per epoch summed over nodes, the newest `epochs` epochs, newest first. Each node lists its newest
 * `epochs` results, so every result of an epoch among the newest `epochs` of the union is present (a node
 * missing from one has `epochs` newer results, which would push that epoch out).
 */
export function sumByEpoch(nodes: readonly NodePoints[], epochs: number): EpochPoints[] {
  const sums = new Map<number, bigint>();
  for (const node of nodes) for (const e of node.epochs) sums.set(e.epoch, (sums.get(e.epoch) ?? 0n) + e.points);
  return [...sums]
    .map(([epoch, points]) => ({ epoch, points }))
    .sort((a, b) => b.epoch - a.epoch)
    .slice(0, epochs);
}
