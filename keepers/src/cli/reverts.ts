/**
 * Contract custom errors → one human sentence each. `allErrorsAbi` holds every error of every protocol
 * contract (and the OpenZeppelin / ERC721A errors they inherit), so a revert from any contract in a call
 * chain decodes; `revertSentence` looks the error name up in a small table and falls back to
 * "… reverted with Name(args)" for anything not in it. Pure: no I/O.
 */
import { formatUnits, hexToString, toHex, type Abi } from 'viem';

type AbiError = Extract<Abi[number], { type: 'error' }>;
import {
  didRegistryAbi,
  didUniversalResolverAbi,
  epochSettlementAbi,
  licenseRewardsAbi,
  nodeStakingAbi,
  pointsConversionAbi,
  sendTokenAbi,
  testnetPointsAbi,
  watchDogLicenseAbi,
  watchDogPresaleAbi,
} from '../generated/contracts.js';
import { formatRelative, formatTime } from './output.js';

/** Every custom error of the protocol's contracts, deduplicated by signature. */
export const allErrorsAbi: readonly AbiError[] = (() => {
  const seen = new Set<string>();
  const errors: AbiError[] = [];
  for (const abi of [
    nodeStakingAbi,
    epochSettlementAbi,
    sendTokenAbi,
    watchDogPresaleAbi,
    watchDogLicenseAbi,
    licenseRewardsAbi,
    didRegistryAbi,
    didUniversalResolverAbi,
    pointsConversionAbi,
    testnetPointsAbi,
  ] as readonly Abi[]) {
    for (const item of abi) {
      if (item.type !== 'error') continue;
      const signature = `${item.name}(${item.inputs.map((i) => i.type).join(',')})`;
      if (seen.has(signature)) continue;
      seen.add(signature);
      errors.push(item);
    }
  }
  return errors;
})();

/** `abi` plus every protocol error, so nested reverts decode too. */
export function withAllErrors(abi: Abi): Abi {
  return [...abi, ...allErrorsAbi];
}

/** What a message may need beyond the error's own arguments. */
export interface RevertContext {
  /** Chain time (unix seconds) when the error was seen, for "opens in 5 min". */
  now?: number;
  /** Unit of presale costs in this call (ETH or the stablecoin). */
  currency?: { symbol: string; decimals: number };
}

type Args = readonly unknown[];
const big = (v: unknown) => BigInt(v as bigint | number);
const send = (v: unknown) => `${formatUnits(big(v), 18)} SEND`;
const points = (v: unknown) => `${formatUnits(big(v), 18)} points`;
const cost = (v: unknown, ctx: RevertContext) =>
  `${formatUnits(big(v), ctx.currency?.decimals ?? 18)} ${ctx.currency?.symbol ?? 'ETH'}`;
/** A DID token id back to its name (the id is the name's bytes); falls back to the number. */
function didName(id: unknown): string {
  try {
    const name = hexToString(toHex(big(id)));
    return /^[a-z0-9-]+$/.test(name) ? `"${name}"` : `id ${id}`;
  } catch {
    return `id ${id}`;
  }
}
const NODE_STATUS = ['not registered', 'Active', 'Exiting', 'Ejected'];
const SALE_STATUS = ['active', 'cancelled', 'finalized', 'expired'];
const PHASE = ['no', 'allowlist', 'public'];

function phaseNotOpen([phase, start, end]: Args, ctx: RevertContext): string {
  const name = PHASE[Number(phase)] ?? `phase ${phase}`;
  const s = Number(start);
  const e = Number(end);
  if (s === 0) return `The ${name} sale is not open: that phase is not scheduled.`;
  const now = ctx.now;
  if (now !== undefined && now < s)
    return `The ${name} sale is not open yet: it opens at ${formatTime(s)} (${formatRelative(s, now)}).`;
  if (now !== undefined && now >= e) return `The ${name} sale is not open: it ended at ${formatTime(e)}.`;
  return `The ${name} sale is not open: it runs from ${formatTime(s)} to ${formatTime(e)}.`;
}

/** Error name → sentence. Arguments are in ABI order, as viem decodes them. */
const SENTENCES: Record<string, (args: Args, ctx: RevertContext) => string> = {
  // NodeStaking
  NodeKeyAlreadyRegistered: ([key]) =>
    `Node ${key} is already registered: a node key can be registered only once, so use a new node key.`,
  NodeNotRegistered: ([key]) => `Node ${key} is not registered.`,
  NotNodeOperator: ([key, caller]) => `${caller} is not the operator of node ${key}: sign with the operator's key.`,
  NodeNotActive: ([key, status]) =>
    `Node ${key} is ${NODE_STATUS[Number(status)] ?? `in status ${status}`}, not Active.`,
  StakeBelowMinimum: ([stake, min]) => `The stake of ${send(stake)} is below the minimum stake of ${send(min)}.`,
  UnbondExceedsStake: ([amount, stake]) =>
    `Cannot unbond ${send(amount)}: the node's active stake is only ${send(stake)}.`,
  NothingToWithdraw: ([key]) =>
    key === undefined
      ? 'There is nothing to withdraw.'
      : `Node ${key} has no unbonded stake to withdraw: request an unbond first.`,
  UnbondingNotReleased: ([key, at], ctx) =>
    `The unbonded stake of node ${key} is still cooling down until ${formatTime(big(at))}${ctx.now !== undefined ? ` (${formatRelative(Number(at), ctx.now)})` : ''}.`,
  UnbondingEpochNotFinalized: ([key, epoch, last]) =>
    `Node ${key} cannot withdraw until epoch ${epoch} is finalized (the last finalized epoch is ${last}).`,
  FaultWindowOpen: ([key, at], ctx) =>
    `Faults of the epochs node ${key} was bonded in can still be executed: it can withdraw from ${formatTime(big(at))}${ctx.now !== undefined ? ` (${formatRelative(Number(at), ctx.now)})` : ''}.`,
  InvalidNodeKeySignature: ([key]) =>
    `The node key consent does not recover to ${key}: the node key and the signature do not match.`,
  EmptyEndpoint: () => 'The node endpoint is empty: give the ws:// or wss:// URL the node is reached at.',
  EndpointTooLong: ([length, max]) => `The node endpoint is ${length} bytes long; NodeStaking accepts at most ${max}.`,
  MetadataURITooLong: ([length, max]) =>
    `The metadata URI is ${length} bytes long; NodeStaking accepts at most ${max}.`,
  ZeroAmount: () => 'The amount must be more than zero.',
  // SEND and other ERC-20s
  ERC20InsufficientBalance: ([who, balance, needed]) =>
    `${who} holds ${formatUnits(big(balance), 18)} tokens but ${formatUnits(big(needed), 18)} are needed.`,
  ERC20InsufficientAllowance: ([spender, allowance, needed]) =>
    `The token allowance for ${spender} is ${formatUnits(big(allowance), 18)} but ${formatUnits(big(needed), 18)} is needed.`,
  // EpochSettlement and LicenseRewards
  NoFinalizedEpoch: () => 'No epoch has been finalized yet, so there are no rewards to claim.',
  InvalidRewardProof: ([account, cumulative]) =>
    `The reward proof for ${account} (cumulative ${send(cumulative)}) does not match the latest finalized reward root: fetch the proofs of the latest finalized epoch.`,
  InvalidLicenseRewardProof: ([tokenId, cumulative]) =>
    `The reward proof for license ${tokenId} (cumulative ${send(cumulative)}) does not match the latest finalized reward root: fetch the proofs of the latest finalized epoch.`,
  NothingToClaim: ([who, cumulative, already]) =>
    `${typeof who === 'bigint' ? `License ${who}` : String(who)} has nothing to claim: ${send(already)} of its ${send(cumulative)} were already paid.`,
  PayoutExceedsFinalizedTotal: () =>
    'The settlement refuses to pay more than the finalized total: report this to the protocol operators.',
  PayoutExceedsEmitted: ([amount, available]) =>
    `The license pool may pay out only ${send(available)} so far but this claim needs ${send(amount)}: try again after later epochs are finalized.`,
  LicenseNotFound: ([tokenId]) => `License ${tokenId} does not exist.`,
  // PointsConversion and TestnetPoints (points mode, docs/points.md)
  SnapshotNotTaken: () =>
    'No points snapshot has been taken yet: conversion opens once the last points epoch is finalized and someone calls PointsConversion.snapshot().',
  SnapshotEpochNotFinalized: ([last, finalized]) =>
    `The last points epoch ${last} is not finalized yet (the last finalized epoch is ${finalized}): the snapshot can be taken after that.`,
  SnapshotAlreadyTaken: ([epoch]) => `The points snapshot was already taken (epoch ${epoch}).`,
  EpochEntryUnreadable: ([epoch]) =>
    `The settlement's entry of epoch ${epoch} cannot be read, so the snapshot cannot be taken: report this to the protocol operators.`,
  EmptyPointsRoot: ([epoch]) => `Nobody earned points up to epoch ${epoch}: there is nothing to snapshot.`,
  ConversionClosed: ([deadline]) =>
    `The points conversion closed at ${formatTime(big(deadline))}: points can no longer be converted (the unconverted SEND returns to the treasury).`,
  ConversionOpen: ([deadline], ctx) =>
    `The points conversion is open until ${formatTime(big(deadline))}${ctx.now !== undefined ? ` (${formatRelative(Number(deadline), ctx.now)})` : ''}: nothing can be swept before that.`,
  InvalidPointsProof: ([account, p]) =>
    `The points proof for ${account} (${points(p)}) does not match the snapshot root: use the claims document of the snapshot epoch.`,
  InvalidLicensePointsProof: ([tokenId, p]) =>
    `The points proof for license ${tokenId} (${points(p)}) does not match the snapshot root: use the claims document of the snapshot epoch.`,
  AlreadyConverted: ([account]) => `The points of ${account} were already converted (each leaf converts once).`,
  LicenseAlreadyConverted: ([tokenId]) =>
    `The points of license ${tokenId} were already converted (each license converts once).`,
  NodeEjected: ([key]) =>
    `Node ${key} was ejected by the protocol, so its points do not convert (only staked, never-ejected nodes convert).`,
  AccountIsNodeKey: ([account]) =>
    `${account} is a registered node key: convert its points as a node (sendnet points convert --node ${account}).`,
  NothingToConvert: ([p]) =>
    `${points(p)} are worth less than 1 wei of SEND at the conversion ratio: nothing to convert.`,
  PointsExceedSnapshot: ([p, available]) =>
    `The conversion refuses ${points(p)}: only ${points(available)} of the snapshot are left to convert. Report this to the protocol operators.`,
  InsufficientFunding: ([amount, balance]) =>
    `The conversion holds only ${send(balance)} but this conversion pays ${send(amount)}: it is not funded yet, try again after the treasury funds it.`,
  PointsNotTransferable: ([from, to]) =>
    `Testnet points cannot be transferred (from ${from} to ${to}): they only convert into SEND.`,
  // WatchDogPresale
  SaleNotActive: ([status]) =>
    Number(status) === 3
      ? 'The sale expired: it was neither finalized nor cancelled by its self-refund time, so nothing can be bought, finalized or cancelled any more; holders refund themselves (sendnet presale refund).'
      : `The sale is ${SALE_STATUS[Number(status)] ?? `in status ${status}`}: no more licenses can be bought.`,
  SaleNotFinalized: ([status]) =>
    `The sale is ${SALE_STATUS[Number(status)] ?? `in status ${status}`}, not finalized: there are no proceeds to withdraw.`,
  RefundsNotOpen: ([status, selfRefundTime], ctx) =>
    Number(status) === 2
      ? 'The sale was finalized: its licenses stand and are not refundable.'
      : `Refunds are not open: the sale is ${SALE_STATUS[Number(status)] ?? `in status ${status}`}. They open when the owner cancels, or on their own at ${formatTime(big(selfRefundTime))}${ctx.now !== undefined ? ` (${formatRelative(Number(selfRefundTime), ctx.now)})` : ''} if the sale is neither finalized nor cancelled by then.`,
  RefundPeriodOver: ([deadline]) =>
    `Refunds ended at ${formatTime(big(deadline))}: the money of licenses not refunded by then goes to the treasury.`,
  RefundPeriodNotOver: ([deadline], ctx) =>
    `Refunds are open until ${formatTime(big(deadline))}${ctx.now !== undefined ? ` (${formatRelative(Number(deadline), ctx.now)})` : ''}: the unrefunded money can be swept to the treasury only after that.`,
  NotRefundable: ([status]) =>
    `The sale is ${SALE_STATUS[Number(status)] ?? `in status ${status}`}: it owes no refunds, so there is nothing to sweep.`,
  NothingToSweep: () => 'Every license was refunded or the money was already swept: nothing is left to sweep.',
  NoTokenIds: () => 'Name at least one license token id.',
  NotTokenHolder: ([tokenId, holder, caller]) =>
    `License ${tokenId} is held by ${holder}, not by ${caller}: only its holder can refund it.`,
  LicenseBurned: ([tokenId]) => `License ${tokenId} was already refunded (burned).`,
  LicenseVoid: ([tokenId]) =>
    `License ${tokenId} is void: its sale was cancelled or expired unfinalized, so it runs no WatchDog and earns no rewards (refund it with sendnet presale refund).`,
  PhaseNotOpen: phaseNotOpen,
  ZeroQuantity: () => 'The quantity must be at least 1.',
  InvalidAllowlistProof: ([account, max]) =>
    `The allowlist proof for ${account} (max ${max}) does not match the sale's allowlist root: check that the allowlist file is the published one.`,
  AllowlistQuantityExceeded: ([account, bought, quantity, max]) =>
    `Cap reached: ${account} may buy ${max} licenses in the allowlist phase, has bought ${bought}, and asked for ${quantity} more.`,
  TransactionCapExceeded: ([quantity, cap]) =>
    `Cap reached: at most ${cap} licenses per purchase in the public phase, asked for ${quantity}.`,
  WalletCapExceeded: ([account, bought, quantity, cap]) =>
    `Cap reached: ${account} may buy ${cap} licenses in the public phase, has bought ${bought}, and asked for ${quantity} more.`,
  ExceedsAvailableSupply: ([quantity, available]) =>
    `Cap reached: only ${available} ${available === 1n ? 'license is' : 'licenses are'} left for this phase, asked for ${quantity}.`,
  CostAboveMax: ([c, max], ctx) =>
    `The price is above your maximum: ${cost(c, ctx)} is needed but --max-total-cost is ${cost(max, ctx)}.`,
  InsufficientPayment: ([c, paid], ctx) =>
    `The payment of ${cost(paid, ctx)} does not cover the cost of ${cost(c, ctx)}.`,
  TokenPaymentShortfall: ([c, received]) =>
    `The payment token delivered ${received} units instead of ${c}: it cannot be used for this sale.`,
  // WatchDogLicense (ERC721A)
  NotHolderNorApproved: ([tokenId, caller]) => `${caller} neither holds license ${tokenId} nor is approved for it.`,
  OwnerQueryForNonexistentToken: () => 'That license does not exist.',
  TransfersLocked: ([tokenId, unlock]) => `License ${tokenId} cannot be transferred before ${formatTime(big(unlock))}.`,
  // DidRegistry
  NameTooShort: ([length, min]) => `The name is too short: ${length} characters, DID names need at least ${min}.`,
  NameTooLong: ([length, max]) => `The name is too long: ${length} characters, DID names have at most ${max}.`,
  NameInvalidCharacter: ([position, character]) =>
    `The name has an invalid character ${JSON.stringify(String.fromCharCode(Number(big(character))))} at position ${position}: use only a-z, 0-9 and "-".`,
  NameHyphenAtEdge: () => 'The name may not start or end with a hyphen.',
  NameDoubleHyphen: ([position]) => `The name may not contain two hyphens in a row (at position ${position}).`,
  NameTaken: ([name]) => `The name "${name}" is already registered.`,
  NotDidOwner: ([did, caller]) => `${caller} does not own the DID ${didName(did)}: sign with the DID owner's key.`,
  NotNodeOwner: ([, caller]) => `${caller} does not own that DID: sign with the DID owner's key.`,
  UnknownNode: () => 'That DID is not registered.',
  ERC721NonexistentToken: ([id]) => `The DID ${didName(id)} does not exist.`,
  ConsentExpired: ([deadline]) => `The consent signature expired at ${formatTime(big(deadline))}: sign a new one.`,
  InvalidConsentSignature: ([signer]) => `The consent signature was not made by ${signer}.`,
  WalletIsOwner: ([did, wallet]) => `${wallet} owns the DID ${didName(did)}: an owner cannot also be linked to it.`,
  AlreadyLinked: ([did, wallet]) => `${wallet} is already linked to the DID ${didName(did)}.`,
  NotLinked: ([did, wallet]) => `${wallet} is not linked to the DID ${didName(did)}.`,
  TooManyWallets: ([did]) => `The DID ${didName(did)} already links the maximum of 32 wallets.`,
  TooManyDids: ([wallet]) => `${wallet} is already linked to the maximum of 16 DIDs.`,
  NotOwnerOrWallet: ([did, caller]) =>
    `${caller} is neither the owner of the DID ${didName(did)} nor the linked wallet.`,
  NotLinkedOrOwned: ([did, account]) => `${account} neither owns nor is linked to the DID ${didName(did)}.`,
  ZeroKey: () => 'The key must not be zero.',
  KeyAlreadyUsed: ([key]) => `The key ${key} was already added once (keys can never be re-added): generate a new key.`,
  KeyNotActive: ([did, key]) => `The key ${key} is not an active key of the DID ${didName(did)}.`,
  UnknownCommitment: ([commitment]) =>
    `No commitment ${commitment} matches this registration from this account (never committed, another account's, another secret, or already used): \`sendnet did register\` and \`did keys add\` commit first.`,
  CommitmentTooNew: ([, usableAt]) =>
    `The commitment is too new: it can be used from ${formatTime(big(usableAt))} (the registry's minimum commitment age).`,
  CommitmentTooOld: ([, expiredAt]) =>
    `The commitment expired at ${formatTime(big(expiredAt))}: run the command again to commit anew.`,
  CommitmentPending: ([commitment, expiresAt]) =>
    `The commitment ${commitment} already exists and is pending until ${formatTime(big(expiresAt))}.`,
};

/** The sentence for custom error `errorName(args)`. */
export function revertSentence(errorName: string, args: Args, ctx: RevertContext = {}): string {
  const format = SENTENCES[errorName];
  if (format) return format(args, ctx);
  const shown = args.map((a) =>
    typeof a === 'string'
      ? a
      : typeof a === 'bigint'
        ? a.toString()
        : JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
  );
  return `The contract refused the transaction with ${errorName}(${shown.join(', ')}).`;
}

/** Error names the table knows (for tests). */
export const knownRevertNames = (): string[] => Object.keys(SENTENCES);
