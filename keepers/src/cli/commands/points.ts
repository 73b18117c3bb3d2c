/**
 * `sendnet points`: points per epoch and in total (node, operator, license, account) from the subgraph and
 * the keeper's claims documents, and `sendnet points convert`, which converts one leaf of the points
 * snapshot into SEND through PointsConversion (docs/points.md). Query text and tables in cli/points.ts.
 */
import { Command } from 'commander';
import { parseEventLogs, type Address } from 'viem';
import { pointsConversionAbi } from '../../generated/contracts.js';
import { graphqlQuery, DEFAULT_GRAPHQL } from '../graphql.js';
import { InputError, NetworkError, RejectedError } from '../errors.js';
import { parseAddress, parseTokenId, parseUrl } from '../inputs.js';
import { formatSend, formatTime, renderRecord } from '../output.js';
import {
  PROTOCOL_QUERY,
  buildNodePointsQuery,
  claimsEpochs,
  epochPointsFromCumulative,
  epochRootsQuery,
  epochRootsSchema,
  formatPoints,
  nodePointsFrom,
  nodePointsResponseSchema,
  operatorPointsResponseSchema,
  parsePointsRequest,
  protocolSchema,
  renderEpochPoints,
  renderNodePoints,
  renderOperatorPoints,
  requirePointsMode,
  sumByEpoch,
  type PointsOptions,
  type PointsTarget,
} from '../points.js';
import { accountClaim, licenseClaim, loadRewardProofs, proofsSource, type RewardProofs } from '../proofs.js';
import { revertSentence } from '../reverts.js';
import type { GlobalOptions, Session } from '../session.js';
import { sessionFor, txLines, withExamples } from './common.js';

const PROOFS_HELP =
  'the keeper\'s claims documents: a URL or file with "{epoch}" for the epoch number (e.g. http://keeper:8080/epochs/{epoch}/claims)';

/** The cumulative leaf of `target` in `doc`, or null when it has none (nothing earned yet). */
function cumulativeIn(doc: RewardProofs, source: string, target: PointsTarget): bigint | null {
  try {
    if (target.kind === 'license') return licenseClaim(doc, source, target.tokenId).cumulative;
    if (target.kind === 'account') return accountClaim(doc, source, target.account).cumulative;
  } catch (error) {
    if (error instanceof RejectedError && error.code === 'NoRewards') return null;
    throw error;
  }
  throw new RangeError(`no claims leaf for ${target.kind}`);
}

function describeTarget(target: PointsTarget): string {
  switch (target.kind) {
    case 'node':
      return `node ${target.nodeKey}`;
    case 'operator':
      return `the nodes of ${target.operator}`;
    case 'license':
      return `license ${target.tokenId}`;
    case 'account':
      return target.account;
  }
}

export function pointsCommand(): Command {
  const points = withExamples(
    new Command('points')
      .description(
        'testnet points (points mode only): per epoch and in total for a node, all nodes of an operator, a WatchDog license or an account (guardian)',
      )
      .option('--node <key>', 'a node key: its points per epoch and in total (from the subgraph)')
      .option('--operator <address>', 'every node of this operator (from the subgraph)')
      .option('--license <id>', "a WatchDog license (from the keeper's claims documents, --proofs)")
      // optional value: `points convert --account` (the signer) shares this option, see convert below
      .option('--account [address]', "an account leaf, e.g. a guardian (from the keeper's claims documents, --proofs)")
      .option('--epochs <n>', 'how many of the latest epochs to list (1-1000)', '10')
      .option('--proofs <source>', `${PROOFS_HELP}; needed for --license and --account`),
    [
      'sendnet points --node 0xNodeKey…',
      'sendnet points --operator 0xOperator… --epochs 30',
      "sendnet points --license 7 --proofs 'http://keeper.example:8080/epochs/{epoch}/claims'",
      'sendnet --json points --node 0xNodeKey…',
      "sendnet points convert --node 0xNodeKey… --proofs 'http://keeper.example:8080/epochs/{epoch}/claims'",
    ],
  ).action(
    async (
      options: Omit<PointsOptions, 'account'> & { proofs?: string; account?: string | boolean },
      command: Command,
    ) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      if (options.account === true)
        throw new InputError('--account needs an address here (sendnet points --account 0x…).');
      const { target, epochs } = parsePointsRequest({ ...options, account: options.account as string | undefined });
      const byClaims = target.kind === 'license' || target.kind === 'account';
      if (byClaims && !options.proofs)
        throw new InputError(
          `--${target.kind} needs --proofs: the keeper's claims documents hold its cumulative points (e.g. --proofs 'http://keeper:8080/epochs/{epoch}/claims').`,
        );
      const url = parseUrl(globals.graphql ?? DEFAULT_GRAPHQL, '--graphql', ['http:', 'https:']);
      const sessionOut = sessionFor(command).out;
      const { protocol } = await graphqlQuery(url, PROTOCOL_QUERY, protocolSchema);
      const { lastFinalizedEpoch } = requirePointsMode(protocol, url);

      if (target.kind === 'node') {
        const { node } = await graphqlQuery(url, buildNodePointsQuery(target, epochs), nodePointsResponseSchema);
        if (!node)
          throw new RejectedError(
            `The subgraph at ${url} knows no node ${target.nodeKey}: it was never registered nor scored.`,
            'UnknownNode',
          );
        const result = nodePointsFrom(node);
        sessionOut.result({ unit: 'points', ...result }, () => renderNodePoints(result));
        return;
      }
      if (target.kind === 'operator') {
        const { nodes } = await graphqlQuery(url, buildNodePointsQuery(target, epochs), operatorPointsResponseSchema);
        const list = nodes.map(nodePointsFrom);
        const total = list.reduce((sum, n) => sum + n.total, 0n);
        const perEpoch = sumByEpoch(list, epochs);
        sessionOut.result({ unit: 'points', operator: target.operator, total, epochs: perEpoch, nodes: list }, () =>
          renderOperatorPoints(target.operator, list, epochs),
        );
        return;
      }
      // license / account: cumulative leaves of the finalized epochs' claims documents
      if (lastFinalizedEpoch === 0)
        throw new RejectedError('No epoch has been finalized yet, so nobody has earned points.', 'NoFinalizedEpoch');
      const cumulatives: { epoch: number; cumulative: bigint | null }[] = [];
      const wanted = claimsEpochs(lastFinalizedEpoch, epochs);
      // each document must be the finalized epoch's tree (the header's reward root), not a keeper's guess
      const { epoches } = await graphqlQuery(url, epochRootsQuery(wanted), epochRootsSchema);
      const roots = new Map(epoches.map((e) => [e.number, e.rewardRoot.toLowerCase()]));
      for (const epoch of wanted) {
        const source = proofsSource(options.proofs!, epoch);
        const doc = await loadRewardProofs(source);
        if (doc.epoch !== epoch)
          throw new NetworkError(
            `The claims document from ${source} is for epoch ${doc.epoch}, not ${epoch}: --proofs must contain "{epoch}".`,
            'WrongClaimsDocument',
          );
        const root = roots.get(epoch);
        if (root === undefined)
          throw new NetworkError(
            `The subgraph at ${url} has no finalized epoch ${epoch} although it reports epoch ${lastFinalizedEpoch} finalized: it may still be indexing, try again.`,
            'SubgraphBehind',
          );
        if (doc.root !== root)
          throw new RejectedError(
            `The claims document from ${source} has root ${doc.root} but finalized epoch ${epoch} has reward root ${root}: it is not that epoch's tree.`,
            'StaleProofs',
          );
        cumulatives.push({ epoch, cumulative: cumulativeIn(doc, source, target) });
      }
      const who = describeTarget(target);
      const { epochs: perEpoch, total } = epochPointsFromCumulative(cumulatives, who);
      const id = target.kind === 'license' ? { tokenId: target.tokenId } : { account: target.account };
      sessionOut.result({ unit: 'points', ...id, lastFinalizedEpoch, total, epochs: perEpoch }, () =>
        [
          renderRecord([
            [target.kind === 'license' ? 'license' : 'account', target.kind === 'license' ? `${target.tokenId}` : who],
            ['total', `${formatPoints(total)} (up to epoch ${lastFinalizedEpoch})`],
          ]),
          '',
          renderEpochPoints(perEpoch),
        ].join('\n'),
      );
    },
  );

  withExamples(
    points
      .command('convert')
      .description(
        "convert a node's, a license's or an account's points into SEND with the proof of the snapshot epoch's claims document (PointsConversion; anyone may send it, the SEND goes to the node's operator, the license's holder or the account)",
      )
      .option('--node <key>', 'convert this node key’s points (paid to its operator)')
      .option('--license <id>', 'convert this WatchDog license’s points (paid to its current holder)')
      .option('--account [address]', 'convert an account leaf, e.g. a guardian’s (default: the signer)')
      .option('--proofs <source>', `${PROOFS_HELP} (required)`),
    [
      "sendnet points convert --node 0xNodeKey… --proofs 'http://keeper.example:8080/epochs/{epoch}/claims'",
      'sendnet points convert --license 7 --proofs ./epoch-42-claims.json',
      "sendnet points convert --account --proofs 'http://keeper.example:8080/epochs/{epoch}/claims'",
    ],
  ).action(async (_options: object, command: Command) => {
    // commander hands options written after "convert" to the parent `points` command when it declares
    // them too (--node, --license, --account, --proofs): read them from both
    const options = command.optsWithGlobals<{
      node?: string;
      license?: string;
      account?: string | boolean;
      proofs?: string;
      operator?: string;
    }>();
    if (options.operator !== undefined)
      throw new InputError('points convert converts one leaf: pass --node KEY for each node of the operator.');
    if (!options.proofs)
      throw new InputError(
        "points convert needs --proofs: the keeper's claims document of the snapshot epoch holds the proof (e.g. --proofs 'http://keeper:8080/epochs/{epoch}/claims').",
      );
    const given = (['node', 'license', 'account'] as const).filter((k) => options[k] !== undefined);
    if (given.length !== 1)
      throw new InputError(
        given.length === 0
          ? 'Say what to convert: pass one of --node KEY, --license ID or --account [ADDRESS].'
          : `Pass only one of --node, --license and --account (got ${given.map((k) => `--${k}`).join(' and ')}).`,
      );
    const nodeKey = options.node !== undefined ? parseAddress(options.node, '--node') : undefined;
    const tokenId = options.license !== undefined ? parseTokenId(options.license, '--license') : undefined;
    const session = sessionFor(command);
    const account =
      typeof options.account === 'string'
        ? parseAddress(options.account, '--account')
        : options.account
          ? (await session.signer()).address
          : undefined;
    await convert(session, { nodeKey, tokenId, account }, options.proofs);
  });

  return points;
}

async function conversionAddress(session: Session): Promise<Address> {
  const { book, path } = await session.book();
  if (!book.contracts.PointsConversion)
    throw new RejectedError(
      `This deployment is not in points mode: the address book ${path} names no PointsConversion contract, so there are no points to convert.`,
      'NotPointsMode',
    );
  return session.contract('PointsConversion');
}

async function convert(
  session: Session,
  leaf: { nodeKey?: Address; tokenId?: bigint; account?: Address },
  proofs: string,
): Promise<void> {
  const conversion = await conversionAddress(session);
  const base = { address: conversion, abi: pointsConversionAbi, args: [] } as const;
  const [epoch, root, deadline, now] = await Promise.all([
    session.read({ ...base, functionName: 'snapshotEpoch' }),
    session.read({ ...base, functionName: 'snapshotRoot' }),
    session.read({ ...base, functionName: 'conversionDeadline' }),
    session.now(),
  ]);
  if (BigInt(now) >= deadline)
    throw new RejectedError(revertSentence('ConversionClosed', [deadline]), 'ConversionClosed');
  if (epoch === 0) throw new RejectedError(revertSentence('SnapshotNotTaken', []), 'SnapshotNotTaken');

  const source = proofsSource(proofs, epoch);
  const doc = await loadRewardProofs(source);
  if (doc.root !== root.toLowerCase())
    throw new RejectedError(
      `The claims document from ${source} is for epoch ${doc.epoch} (root ${doc.root}) but the points snapshot is epoch ${epoch} (root ${root}): use the snapshot epoch's document.`,
      'StaleProofs',
    );

  let call: { functionName: 'convertNode' | 'convertAccount' | 'convertLicense'; args: readonly unknown[] };
  let who: string;
  let points: bigint;
  if (leaf.tokenId !== undefined) {
    const entry = licenseClaim(doc, source, leaf.tokenId);
    const done = await session.read({
      address: conversion,
      abi: pointsConversionAbi,
      functionName: 'licenseConverted',
      args: [leaf.tokenId],
    });
    if (done)
      throw new RejectedError(revertSentence('LicenseAlreadyConverted', [leaf.tokenId]), 'LicenseAlreadyConverted');
    call = { functionName: 'convertLicense', args: [leaf.tokenId, entry.cumulative, entry.proof] };
    who = `license ${leaf.tokenId}`;
    points = entry.cumulative;
  } else {
    const address = (leaf.nodeKey ?? leaf.account)!;
    const entry = accountClaim(doc, source, address);
    const done = await session.read({
      address: conversion,
      abi: pointsConversionAbi,
      functionName: 'accountConverted',
      args: [address],
    });
    if (done) throw new RejectedError(revertSentence('AlreadyConverted', [address]), 'AlreadyConverted');
    call = {
      functionName: leaf.nodeKey ? 'convertNode' : 'convertAccount',
      args: [address, entry.cumulative, entry.proof],
    };
    who = leaf.nodeKey ? `node ${address}` : address;
    points = entry.cumulative;
  }
  // the simulation in send() decodes the contract's refusals (NodeEjected, LicenseVoid, InsufficientFunding…)
  const receipt = await session.send({ address: conversion, abi: pointsConversionAbi, ...call });
  const [event] = parseEventLogs({ abi: pointsConversionAbi, logs: receipt.logs, eventName: 'Converted' });
  if (!event) throw new RejectedError(`The ${call.functionName} transaction emitted no Converted event.`, 'Reverted');
  const { amount, recipient } = event.args;
  session.out.result(
    {
      kind: leaf.tokenId !== undefined ? 'License' : leaf.nodeKey ? 'Node' : 'Account',
      ...(leaf.tokenId !== undefined ? { tokenId: leaf.tokenId } : { account: leaf.nodeKey ?? leaf.account }),
      snapshotEpoch: epoch,
      points,
      send: amount,
      recipient,
      transaction: receipt.transactionHash,
      block: receipt.blockNumber,
    },
    () =>
      `Converted ${formatPoints(points)} of ${who} into ${formatSend(amount)}, paid to ${recipient}.\n` +
      renderRecord([
        ['snapshot epoch', String(epoch)],
        ['conversion closes', formatTime(deadline)],
        ...txLines(receipt),
      ]),
  );
}
