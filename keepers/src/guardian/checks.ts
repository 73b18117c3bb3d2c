/**
 * The guardian's check of a dataset against what the chain decides (docs/keepers.md §6): chain id and
 * contracts, parameters (its own consensus copy plus the chain's), epoch times, the start / seed /
 * assignment blocks and seeds, the Active node set, key states, WatchDog operators, the guardian set, the
 * signers paid, the license emission (`LicenseRewards.epochEmission`) and the previous cumulative lists
 * (account leaves + license leaves) against the previous reward root. Returns the first
 * field that differs, with both values; the guardian answers 422 naming it.
 */
import type { Address, Hex, PublicClient } from 'viem';
import {
  cumulativeRoot,
  deriveEpochFacts,
  epochFactsMismatch,
  keyStatesAt,
  keysNamedByOpenings,
  watchdogOperatorsAt,
  watchdogOwnersAt,
  type EpochContracts,
} from '../chain/epochFacts.js';
import { canonicalJson } from '../core/canonicalJson.js';
import type { EpochDataset } from '../core/datasetSchema.js';
import type { ConsensusParameters } from '../core/consensus.js';

export interface ChainMismatch {
  field: string;
  /** What the chain (or the guardian's configuration) says. */
  ours: unknown;
  /** What the dataset says. */
  theirs: unknown;
}

export interface ChainCheckContext {
  client: PublicClient;
  chainId: number;
  contracts: EpochContracts;
  consensus: ConsensusParameters;
  fromBlock?: bigint;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** Compares the dataset with the chain; null when everything the chain decides matches. */
export async function checkDatasetAgainstChain(ctx: ChainCheckContext, d: EpochDataset): Promise<ChainMismatch | null> {
  const lowerContracts = {
    staking: ctx.contracts.staking.toLowerCase(),
    settlement: ctx.contracts.settlement.toLowerCase(),
    didRegistry: ctx.contracts.didRegistry.toLowerCase(),
    license: ctx.contracts.license.toLowerCase(),
    licenseRewards: ctx.contracts.licenseRewards.toLowerCase(),
  };
  if (d.chainId !== ctx.chainId) return { field: 'chainId', ours: ctx.chainId, theirs: d.chainId };
  for (const k of Object.keys(lowerContracts) as (keyof typeof lowerContracts)[]) {
    if (d.contracts[k] !== lowerContracts[k])
      return { field: `contracts.${k}`, ours: lowerContracts[k], theirs: d.contracts[k] };
  }
  for (const [k, v] of Object.entries(ctx.consensus)) {
    const theirs = d.parameters[k as keyof ConsensusParameters];
    if (!same(v, theirs)) return { field: `parameters.${k}`, ours: v, theirs };
  }

  const facts = await deriveEpochFacts(ctx.client, ctx.contracts, d.epoch, {
    commitGraceSeconds: ctx.consensus.commitGraceSeconds,
    assignmentLeadSeconds: ctx.consensus.assignmentLeadSeconds,
    fromBlock: ctx.fromBlock,
  });
  const factsMismatch = epochFactsMismatch(facts, d);
  if (factsMismatch) return factsMismatch;

  // The previous reward tree holds both leaf types: only the account list and the license list together
  // reproduce its root (the root cannot tell which of the two is wrong, so the field stays previousCumulative).
  const previousRoot = cumulativeRoot(d.previousCumulative, d.previousLicenseCumulative);
  if (previousRoot !== facts.previousRewardRoot) {
    return {
      field: 'previousCumulative',
      ours: `reward root ${facts.previousRewardRoot}`,
      theirs: `reward root ${previousRoot} (previousCumulative + previousLicenseCumulative)`,
    };
  }

  // Key states at the seed block: every listed key is right, and every key the openings name is listed.
  const listed = new Map(d.keys.map((k) => [k.key, k]));
  for (const key of keysNamedByOpenings(d)) {
    if (!listed.has(key)) return { field: 'keys', ours: `key ${key} (named by an opening)`, theirs: 'missing' };
  }
  const states = await keyStatesAt(
    ctx.client,
    ctx.contracts.didRegistry,
    d.keys.map((k) => k.key as Hex),
    d.seed.blockNumber,
  );
  for (const state of states) {
    const theirs = listed.get(state.key)!;
    if (!same(state, theirs)) return { field: `keys (${state.key})`, ours: state, theirs };
  }

  // WatchDog operators and owners at the start block.
  const tokenIds = d.watchdogs.map((w) => BigInt(w.tokenId));
  const [operators, owners] = await Promise.all([
    watchdogOperatorsAt(ctx.client, ctx.contracts.license, tokenIds, d.startBlock.blockNumber),
    watchdogOwnersAt(ctx.client, ctx.contracts.license, tokenIds, d.startBlock.blockNumber),
  ]);
  for (const w of d.watchdogs) {
    const ours: Address | undefined = operators.get(w.tokenId);
    if (ours !== w.operator)
      return { field: `watchdogs (${w.tokenId}).operator`, ours: ours ?? null, theirs: w.operator };
    const owner: Address | undefined = owners.get(w.tokenId);
    if (owner !== w.owner) return { field: `watchdogs (${w.tokenId}).owner`, ours: owner ?? null, theirs: w.owner };
  }
  return null;
}
