/**
 * The points devnet's conversion (docs/points.md §5–§6): once the last points epoch is finalized, take the
 * snapshot, fund the conversion from the treasury (`requiredFunding()`), convert an honest node, a guardian
 * and a WatchDog license, and check what the chain did — each received exactly points × ratio / 1e18 SEND,
 * no leaf converts twice, and the nodes the protocol can eject (the forger and the equivocator, after
 * `maxStrikes` strikes) convert only if they were not ejected. Returns printable lines and the problems
 * (one sentence each; empty = as specified).
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  createWalletClient,
  formatUnits,
  http,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { SendnetError } from '../core/errors.js';
import {
  epochSettlementAbi,
  nodeStakingAbi,
  pointsConversionAbi,
  sendTokenAbi,
  watchDogLicenseAbi,
} from '../generated/contracts.js';
import type { AddressBook } from '../chain/addressBook.js';
import { devPrivateKey } from './devAccounts.js';
import type { NodePlan } from './population.js';

/** The conversion could not be carried out (not a failed check: those are returned as problems). */
export class PointsConversionError extends SendnetError {
  override name = 'PointsConversionError';
  override readonly code = 'points-conversion';
}

/** Anvil dev account 1: the treasury, which received the SEND reward allocations in points mode. */
const TREASURY_ACCOUNT = 1;
/** NodeStaking.NodeStatus */
const NODE_STATUS = ['None', 'Active', 'Exiting', 'Ejected'] as const;
const ONE = 10n ** 18n;

export interface PointsConversionInput {
  client: PublicClient;
  rpcUrl: string;
  book: AddressBook;
  keeperUrl: string;
  lastPointsEpoch: number;
  ratio: bigint;
  nodes: readonly Pick<NodePlan, 'index' | 'behaviour' | 'nodeAddress'>[];
  /** Guardian addresses (account leaves). */
  guardians: readonly Address[];
  /** WatchDog licenses the run bought, honest ones first preferred. */
  licenses: readonly { tokenId: bigint; colluding: boolean }[];
  /** How long to wait for the last points epoch to finalize (ms). */
  timeoutMs?: number;
}

/** One conversion the run made. */
export interface Conversion {
  kind: 'node' | 'guardian' | 'license';
  /** Who: `#3 0x12345678` (node index and key prefix) / the guardian's address / the license's token id. */
  label: string;
  recipient: Address;
  points: bigint;
  /** points × ratio / 1e18 */
  expected: bigint;
  /** The recipient's SEND balance change. */
  received: bigint;
}

export interface PointsConversionReport {
  snapshotEpoch: number;
  funded: bigint;
  conversions: Conversion[];
  lines: string[];
  problems: string[];
}

interface ClaimsDocument {
  root: Hex;
  claims: Record<string, { cumulative: string; proof: Hex[] }>;
  licenses: Record<string, { cumulative: string; proof: Hex[] }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const amount = (wei: bigint) => formatUnits(wei, 18);

/** The custom error a reverted call names, or undefined when it did not revert with one. */
export function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
}

export async function runPointsConversion(input: PointsConversionInput): Promise<PointsConversionReport> {
  const { client, book, ratio } = input;
  const conversion = book.contracts.PointsConversion;
  if (!conversion)
    throw new PointsConversionError(
      `the address book has no PointsConversion: chain ${book.chainId} was not deployed in points mode`,
    );
  const settlement = book.contracts.EpochSettlement;
  const send = book.contracts.SendToken;
  const L = input.lastPointsEpoch;
  const problems: string[] = [];
  const lines: string[] = [];
  const treasury = createWalletClient({
    chain: { ...foundry, id: book.chainId },
    transport: http(input.rpcUrl),
    account: privateKeyToAccount(devPrivateKey(TREASURY_ACCOUNT)),
  });
  const write = async (what: string, request: Parameters<typeof treasury.writeContract>[0]) => {
    const hash = await treasury.writeContract(request);
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 250 });
    if (receipt.status !== 'success') throw new PointsConversionError(`${what}: transaction ${hash} reverted`);
  };
  const read = client.readContract.bind(client) as PublicClient['readContract'];
  const balanceOf = (account: Address) =>
    read({ address: send, abi: sendTokenAbi, functionName: 'balanceOf', args: [account] }) as Promise<bigint>;

  // 1. the snapshot needs the last points epoch finalized
  const deadline = Date.now() + (input.timeoutMs ?? 120_000);
  for (;;) {
    const finalized = await read({ address: settlement, abi: epochSettlementAbi, functionName: 'lastFinalizedEpoch' });
    if (Number(finalized) >= L) break;
    if (Date.now() > deadline)
      throw new PointsConversionError(
        `the last points epoch ${L} was not finalized in time (last finalized: ${finalized}): no snapshot`,
      );
    await sleep(1000);
  }
  await write('snapshot()', { address: conversion, abi: pointsConversionAbi, functionName: 'snapshot' } as never);
  const snapshotEpoch = Number(
    await read({ address: conversion, abi: pointsConversionAbi, functionName: 'snapshotEpoch' }),
  );
  const snapshotRoot = (await read({
    address: conversion,
    abi: pointsConversionAbi,
    functionName: 'snapshotRoot',
  })) as Hex;
  if (snapshotEpoch !== L)
    problems.push(`the snapshot was taken at epoch ${snapshotEpoch}, not at the last points epoch ${L}`);

  // 2. funding from the treasury: exactly what converting every point can take
  const funded = (await read({
    address: conversion,
    abi: pointsConversionAbi,
    functionName: 'requiredFunding',
  })) as bigint;
  const treasuryAddress = treasury.account.address;
  const treasuryBalance = await balanceOf(treasuryAddress);
  if (treasuryBalance < funded)
    throw new PointsConversionError(
      `the treasury ${treasuryAddress} holds ${amount(treasuryBalance)} SEND, less than the ${amount(funded)} SEND the conversion requires`,
    );
  await write('SEND approve', {
    address: send,
    abi: sendTokenAbi,
    functionName: 'approve',
    args: [conversion, funded],
  } as never);
  await write('fund()', {
    address: conversion,
    abi: pointsConversionAbi,
    functionName: 'fund',
    args: [funded],
  } as never);
  lines.push(
    `points snapshot at epoch ${snapshotEpoch} (root ${snapshotRoot.slice(0, 10)}…); the treasury funded ${amount(funded)} SEND (requiredFunding at ${amount(ratio)} SEND per point)`,
  );

  // 3. the leaves and proofs of the snapshot epoch, from the keeper
  const url = `${input.keeperUrl}/epochs/${snapshotEpoch}/claims`;
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new PointsConversionError(`GET ${url} answered ${response.status}`);
  const claims = (await response.json()) as ClaimsDocument;
  if (claims.root.toLowerCase() !== snapshotRoot.toLowerCase())
    throw new PointsConversionError(
      `the keeper's claims of epoch ${snapshotEpoch} have root ${claims.root}, the snapshot ${snapshotRoot}`,
    );
  const leafOf = (account: Address) => claims.claims[account.toLowerCase()];
  const expectedFor = (points: bigint) => (points * ratio) / ONE;

  const conversions: Conversion[] = [];
  type Call = { functionName: 'convertNode' | 'convertAccount' | 'convertLicense'; args: readonly unknown[] };
  const convert = async (
    kind: Conversion['kind'],
    label: string,
    recipient: Address,
    points: bigint,
    call: Call,
  ): Promise<void> => {
    const before = await balanceOf(recipient);
    await write(`${call.functionName}(${label})`, { address: conversion, abi: pointsConversionAbi, ...call } as never);
    const received = (await balanceOf(recipient)) - before;
    const expected = expectedFor(points);
    conversions.push({ kind, label, recipient, points, expected, received });
    lines.push(
      `converted ${kind} ${label}: ${amount(points)} points → ${amount(received)} SEND to ${recipient}${received === expected ? '' : ` (expected ${amount(expected)})`}`,
    );
    if (received !== expected)
      problems.push(
        `${kind} ${label} received ${received} SEND wei for ${points} points, not points × ratio = ${expected}`,
      );
    // a leaf converts once
    const again = await refusal(call);
    const once = call.functionName === 'convertLicense' ? 'LicenseAlreadyConverted' : 'AlreadyConverted';
    lines.push(`a second conversion of ${kind} ${label} reverts ${again ?? 'nothing: it would convert again'}`);
    if (again !== once)
      problems.push(
        `converting ${kind} ${label} a second time ${again ? `reverted ${again}` : 'did not revert'}, not ${once}`,
      );
  };
  /** The error a conversion call reverts with now (simulated), or undefined when it would succeed. */
  const refusal = async (call: Call): Promise<string | undefined> => {
    try {
      await client.simulateContract({
        address: conversion,
        abi: pointsConversionAbi,
        account: treasuryAddress,
        ...call,
      } as never);
      return undefined;
    } catch (error) {
      const name = revertName(error);
      if (name === undefined) throw error;
      return name;
    }
  };
  const operatorOf = async (nodeKey: Address) =>
    (await read({
      address: book.contracts.NodeStaking,
      abi: nodeStakingAbi,
      functionName: 'getNode',
      args: [nodeKey],
    })) as {
      operator: Address;
      status: number;
    };

  // 4. an honest node (paid to its operator)
  const honest = input.nodes.find((n) => n.behaviour === 'honest' && leafOf(n.nodeAddress));
  if (!honest) problems.push(`no honest node has a points leaf in epoch ${snapshotEpoch}'s reward tree`);
  else {
    const leaf = leafOf(honest.nodeAddress)!;
    const node = await operatorOf(honest.nodeAddress);
    await convert(
      'node',
      `#${honest.index} ${honest.nodeAddress.slice(0, 10).toLowerCase()}`,
      node.operator,
      BigInt(leaf.cumulative),
      {
        functionName: 'convertNode',
        args: [honest.nodeAddress, BigInt(leaf.cumulative), leaf.proof],
      },
    );
  }

  // 5. a guardian (paid to itself)
  const guardian = input.guardians.find((g) => leafOf(g));
  if (!guardian) problems.push(`no guardian has a points leaf in epoch ${snapshotEpoch}'s reward tree`);
  else {
    const leaf = leafOf(guardian)!;
    await convert('guardian', guardian.toLowerCase(), guardian, BigInt(leaf.cumulative), {
      functionName: 'convertAccount',
      args: [guardian, BigInt(leaf.cumulative), leaf.proof],
    });
  }

  // 6. a WatchDog license (paid to its holder), an honest one when one earned
  const license = [...input.licenses]
    .sort((a, b) => Number(a.colluding) - Number(b.colluding))
    .find((l) => claims.licenses[l.tokenId.toString()]);
  if (!license) problems.push(`no WatchDog license has a points leaf in epoch ${snapshotEpoch}'s reward tree`);
  else {
    const leaf = claims.licenses[license.tokenId.toString()]!;
    const holder = (await read({
      address: book.contracts.WatchDogLicense,
      abi: watchDogLicenseAbi,
      functionName: 'ownerOf',
      args: [license.tokenId],
    })) as Address;
    await convert('license', license.tokenId.toString(), holder, BigInt(leaf.cumulative), {
      functionName: 'convertLicense',
      args: [license.tokenId, BigInt(leaf.cumulative), leaf.proof],
    });
  }

  // 7. the nodes the protocol ejects after maxStrikes strikes: refused when ejected, converted otherwise
  for (const n of input.nodes.filter((x) => x.behaviour === 'inflater' || x.behaviour === 'equivocator')) {
    const node = await operatorOf(n.nodeAddress);
    const status = NODE_STATUS[node.status] ?? `status ${node.status}`;
    const label = `#${n.index} ${n.nodeAddress.slice(0, 10).toLowerCase()}`;
    const leaf = leafOf(n.nodeAddress);
    if (!leaf) {
      // Nothing in the tree: it earned no point (it misbehaved in every epoch), so there is nothing to convert.
      const attempt = await refusal({ functionName: 'convertNode', args: [n.nodeAddress, 1n, []] });
      lines.push(
        `${n.behaviour} ${label} (${status}) earned no points: nothing to convert (convertNode reverts ${attempt ?? 'nothing'})`,
      );
      if (attempt !== 'InvalidPointsProof')
        problems.push(`${n.behaviour} ${label} has no points leaf, yet convertNode did not revert InvalidPointsProof`);
      continue;
    }
    const call: Call = { functionName: 'convertNode', args: [n.nodeAddress, BigInt(leaf.cumulative), leaf.proof] };
    if (status === 'Ejected') {
      const refused = await refusal(call);
      lines.push(
        `${n.behaviour} ${label} is ejected: its ${amount(BigInt(leaf.cumulative))} points refused (${refused ?? 'not refused'})`,
      );
      if (refused !== 'NodeEjected')
        problems.push(
          `the ejected ${n.behaviour} ${label}'s conversion ${refused ? `reverted ${refused}` : 'was accepted'}, not NodeEjected`,
        );
    } else {
      await convert(
        'node',
        `${label} (${n.behaviour}, ${status}, not ejected)`,
        node.operator,
        BigInt(leaf.cumulative),
        call,
      );
    }
  }

  // 8. accounting: what left the contract is what the recipients received
  const [totalConverted, balance] = await Promise.all([
    read({ address: conversion, abi: pointsConversionAbi, functionName: 'totalConverted' }) as Promise<bigint>,
    balanceOf(conversion),
  ]);
  const received = conversions.reduce((sum, c) => sum + c.received, 0n);
  if (totalConverted !== received)
    problems.push(`PointsConversion.totalConverted is ${totalConverted}, the recipients received ${received}`);
  if (balance !== funded - received)
    problems.push(`PointsConversion holds ${balance} SEND wei, not funded − converted = ${funded - received}`);
  return { snapshotEpoch, funded, conversions, lines, problems };
}
