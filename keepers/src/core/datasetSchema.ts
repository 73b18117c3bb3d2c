/**
 * The epoch dataset wire format (docs/keepers.md §5): one JSON document holding everything the scoring
 * function needs, so the keeper and every guardian evaluate the very same bytes. Pure: zod schemas, the
 * parser (RangeError naming the first bad field), and `datasetFromParts`, which normalizes (lowercase hex,
 * decimal strings) and sorts every list into canonical order so the keeper publishes canonical data.
 *
 * Wire conventions (those of core/wire.ts): hex lowercase `0x…`; amounts, unit sums and uint256 ids as
 * decimal strings, uint32 values (epochs, ticket units) as numbers; times in unix seconds (challenge `at`
 * in unix milliseconds); the document's hash is `datasetHash` (dataset.ts) over `canonicalJson` of it. The schema does not transform anything, so a parsed dataset is byte-for-byte the
 * document that was hashed.
 */
import { z } from 'zod';
import type { Address, Hex } from 'viem';
import {
  type ackWire,
  addressWire,
  blockNumber,
  bytes32Wire,
  describeZodError,
  ecdsaSignatureWire,
  isCanonicalDecimal,
  isHex,
  receiptWire,
  type ticketWire,
  uint32,
  uintString,
  unixMillis,
  unixSeconds,
} from './wire.js';
import { MAX_ENDPOINT_BYTES } from './chainBounds.js';
import { attestationWire } from './attestation.js';

/**
 * 2: `contracts.licenseRewards`, `parameters.licenseEmission` and `previousLicenseCumulative` (license leaves).
 * 3: `commitments[].attestations` (guardian attestations, core/attestation.ts); `openings[].signature` (the
 *    node's Openings signature) and `openings[].silenceAttestations` (core/openingsProof.ts).
 * 4: `challengeOpenings` (the nodes' committed receipts of WatchDog challenge envelopes: a challenge result
 *    counts as a delivery only with one, core/evaluateWatchdogs.ts); challenge envelope ids fixed by the secret.
 */
export const DATASET_VERSION = 4;

// -------------------------------------------------------------------------------------------- atoms
// The vocabulary is core/wire.ts (its canonical dialect); the ticket and ack are its `ticketWire`, `ackWire`.

const ratio = z.number().finite().min(0).max(1);
const reason = z.string().min(1).max(500);

// ----------------------------------------------------------------------------- relay receipts (§2, §3)

/** Opening of one sampled leaf: the receipt and its sum-tree path, siblings bottom-up. */
export const openingWire = z.strictObject({
  index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  ...receiptWire.shape,
  siblings: z.array(z.strictObject({ hash: bytes32Wire, sum: uintString(128) })).max(64),
});

/** An epoch commitment (`EpochCommitment` of NodeStaking), wire form of core/commitment.ts. */
export const epochCommitmentWire = z.strictObject({
  epoch: uint32,
  root: bytes32Wire,
  totalUnits: uintString(128),
  leafCount: uintString(64),
});

/**
 * A signed commitment as core/commitment.ts `signedCommitmentToWire` writes it, with the guardians'
 * attestations (`CommitmentAttestation`, core/attestation.ts), ascending by guardian. `nodeKey` is the
 * claimed signer: the commitment counts only if the EIP-712 signature (NodeStaking domain) recovers to it
 * and at least `attestationQuorum(guardianSet)` distinct members attested it.
 */
export const commitmentWire = z.strictObject({
  commitment: epochCommitmentWire,
  signature: ecdsaSignatureWire,
  nodeKey: addressWire,
  attestations: z.array(attestationWire).max(256),
});

/**
 * What a node answered to the openings request for its k sample targets. `ok`: `openings[i]` answers
 * sample i (i = 0..k−1), `signature` is the node's `Openings` signature over them (core/openingsProof.ts).
 * `malformed`: a node-signed answer that is not k openings (`reason` says why). `silent`: no node-signed
 * answer reached anyone by the deadline; `silenceAttestations` are the guardians' `OpeningsSilence`
 * signatures (ascending by guardian). Nodes with no commitment, or with totalUnits 0, have no entry.
 */
export const nodeOpeningsWire = z.strictObject({
  nodeKey: addressWire,
  status: z.enum(['ok', 'silent', 'malformed']),
  reason: reason.optional(),
  openings: z.array(openingWire).max(1024).optional(),
  signature: ecdsaSignatureWire.optional(),
  silenceAttestations: z.array(attestationWire).max(256).optional(),
});

// ------------------------------------------------------------------------------------ WatchDogs (§4)

/** A WatchDog's secret commitment, `personal_sign`ed (raw 32 bytes) by the license's operator key. */
export const watchdogCommitWire = z.strictObject({
  tokenId: uintString(256),
  operator: addressWire,
  /** `ownerOf` at the start block (zero for a burned license). */
  owner: addressWire,
  commit: bytes32Wire,
  signature: ecdsaSignatureWire,
});

/** One node's openings of receipts of challenge envelopes (at most m × challengesPerNode of them). */
export const challengeOpeningsWire = z.strictObject({
  nodeKey: addressWire,
  openings: z
    .array(openingWire)
    .min(1)
    .max(64 * 10_000),
});

export const challengeResultWire = z.strictObject({
  node: addressWire,
  /** Challenge number 0..challengesPerNode−1 of the schedule. */
  i: uint32,
  /** Send time, unix milliseconds. */
  at: unixMillis,
  envelopeId: bytes32Wire,
  ok: z.boolean(),
  /** Receive time − send time (0 when !ok). */
  latencyMs: uint32,
});

/** The transcript body (core/watchdogSchedule.ts `Transcript`), results in canonical order (node, then i). */
export const transcriptBodyWire = z.strictObject({
  tokenId: uintString(256),
  epoch: uint32,
  secret: bytes32Wire,
  results: z.array(challengeResultWire).max(1_000_000),
});

/** A signed transcript (core/watchdogSchedule.ts `SignedTranscript`): personal_sign of `transcriptHash`. */
export const transcriptWire = z.strictObject({ transcript: transcriptBodyWire, signature: ecdsaSignatureWire });

// ---------------------------------------------------------------------------------------- the dataset

const seedWire = z.strictObject({ blockNumber, blockHash: bytes32Wire, value: bytes32Wire });

export const datasetParametersWire = z.strictObject({
  /** Openings sampled per node. */
  k: z.number().int().min(1).max(1024),
  /** WatchDogs assigned per node. */
  m: z.number().int().min(1).max(64),
  /** Challenges each assigned WatchDog sends a node per epoch. */
  challengesPerNode: z.number().int().min(1).max(10_000),
  challengeTimeoutMs: z.number().int().min(1).max(86_400_000),
  commitGraceSeconds: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32),
  /** The assignment seed's reference time is epochStart − assignmentLeadSeconds. */
  assignmentLeadSeconds: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32),
  /** Fault amount of an openings fraud. */
  fraudSlash: uintString(96),
  // scoring parameters (core/scoring.ts)
  aMin: ratio,
  aTarget: ratio,
  gamma: z.number().int().min(1).max(8),
  stakeCap: uintString(256).refine((s) => s !== '0', 'must be positive'),
  volumeCapPerDid: uintString(64).refine((s) => s !== '0', 'must be positive'),
  stakeSplitBps: z.number().int().min(0).max(10_000),
  equivocationSlash: uintString(96),
  guardianShareBps: z.number().int().min(0).max(10_000),
  epochEmission: uintString(96),
  /** License emission of this epoch: `LicenseRewards.epochEmission(epoch)` (paid by LicenseRewards, not the settlement). */
  licenseEmission: uintString(96),
  /**
   * Points mode (docs/points.md): node rewards are credited to node keys (`scoring.ts` `rewardsTo`). Absent in
   * a token deployment (rewards to operators), so its datasets are unchanged; the chain decides it
   * (`chain/epochFacts.ts`: the settlement pays a different token than the one nodes stake).
   */
  rewardsTo: z.literal('nodeKey').optional(),
});

export const datasetNodeWire = z.strictObject({
  nodeKey: addressWire,
  operator: addressWire,
  stake: uintString(96),
  /** As emitted by NodeStaking (≤ MAX_ENDPOINT_BYTES UTF-8 bytes, so at most as many UTF-16 units: core/chainBounds.ts). */
  endpoint: z.string().max(MAX_ENDPOINT_BYTES),
});

/** A device key's state at the seed block (`DidRegistry.keyState`): active = Active and Ed25519. */
export const datasetKeyWire = z.strictObject({
  key: bytes32Wire,
  did: uintString(256),
  active: z.boolean(),
});

export const cumulativeWire = z.strictObject({ account: addressWire, cumulative: uintString(96) });
/** A license leaf of the reward tree: the license's cumulative reward (paid by LicenseRewards). */
export const licenseCumulativeWire = z.strictObject({ tokenId: uintString(256), cumulative: uintString(96) });

export const epochDatasetSchema = z.strictObject({
  version: z.literal(DATASET_VERSION),
  chainId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  contracts: z.strictObject({
    staking: addressWire,
    settlement: addressWire,
    didRegistry: addressWire,
    license: addressWire,
    licenseRewards: addressWire,
  }),
  epoch: z.number().int().min(1).max(0xffffffff),
  epochStart: unixSeconds,
  epochEnd: unixSeconds,
  /** epochEnd + commitGraceSeconds: the sampling seed's reference time. */
  commitDeadline: unixSeconds,
  parameters: datasetParametersWire,
  /** The first block with timestamp ≥ epochStart: node set, stakes and WatchDog operators are read there. */
  startBlock: z.strictObject({ blockNumber, blockHash: bytes32Wire }),
  /** Sampling seed: first block with timestamp ≥ commitDeadline; value = seedAt(epoch, blockHash). */
  seed: seedWire,
  /** Assignment seed: first block with timestamp ≥ epochStart − assignmentLeadSeconds. */
  assignSeed: seedWire,
  /** Nodes Active at the start block. */
  nodes: z.array(datasetNodeWire),
  /** Every device key named by a ticket or ack in `openings`, state at the seed block. */
  keys: z.array(datasetKeyWire),
  watchdogs: z.array(watchdogCommitWire),
  /** Signed commitments as received before the deadline (two of one node = equivocation evidence). */
  commitments: z.array(commitmentWire),
  openings: z.array(nodeOpeningsWire),
  transcripts: z.array(transcriptWire),
  /**
   * Per node, openings (in its commitment's sum tree) of receipts of WatchDog challenge envelopes, as the
   * node answered `POST /epochs/:e/openings { envelopeIds }`; ascending by node key, each node's openings by
   * envelope id. Self-verifying (a sum path to the counted root and the receipt's own signatures).
   */
  challengeOpenings: z.array(challengeOpeningsWire),
  /** The active guardian set (sorted ascending). */
  guardianSet: z.array(addressWire).min(1),
  /** Signers of the previous epoch's submitEpoch (empty for epoch 1); paid the guardian share. */
  signersPaid: z.array(addressWire),
  /** The previous epoch's cumulative reward list: the account leaves of its reward tree (root on-chain). */
  previousCumulative: z.array(cumulativeWire),
  /** The license leaves of the previous epoch's reward tree, ascending tokenId. */
  previousLicenseCumulative: z.array(licenseCumulativeWire),
});

export type EpochDataset = z.infer<typeof epochDatasetSchema>;
export type DatasetParameters = z.infer<typeof datasetParametersWire>;
export type DatasetNode = z.infer<typeof datasetNodeWire>;
export type DatasetKey = z.infer<typeof datasetKeyWire>;
export type TicketWire = z.infer<typeof ticketWire>;
export type AckWire = z.infer<typeof ackWire>;
export type OpeningWire = z.infer<typeof openingWire>;
export type CommitmentWire = z.infer<typeof commitmentWire>;
export type NodeOpeningsWire = z.infer<typeof nodeOpeningsWire>;
export type WatchdogCommitWire = z.infer<typeof watchdogCommitWire>;
export type ChallengeResultWire = z.infer<typeof challengeResultWire>;
export type ChallengeOpeningsWire = z.infer<typeof challengeOpeningsWire>;
export type TranscriptBodyWire = z.infer<typeof transcriptBodyWire>;
export type TranscriptWire = z.infer<typeof transcriptWire>;
export type CumulativeWire = z.infer<typeof cumulativeWire>;
export type LicenseCumulativeWire = z.infer<typeof licenseCumulativeWire>;

// ------------------------------------------------------------------------------------------ parsing

function invalid(message: string): never {
  throw new RangeError(`invalid epoch dataset: ${message}`);
}

function fail(path: string, message: string): never {
  invalid(`${path}: ${message}`);
}

function checkUnique<T>(items: readonly T[], key: (item: T) => string, field: string, what: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) fail(`${field}[${i}]`, `duplicate ${what} ${k}`);
    seen.add(k);
  });
}

/**
 * Validates a dataset document. Structural problems (wrong types, bad hex, inconsistent times,
 * duplicates that make the document ambiguous) throw a RangeError naming the field; problems with
 * individual signed items (bad signatures, fraud) are not structural and are left to `evaluateEpoch`.
 */
export function parseEpochDataset(raw: unknown): EpochDataset {
  const result = epochDatasetSchema.safeParse(raw);
  if (!result.success) invalid(describeZodError(result.error, { countMore: true }));
  const d = result.data;
  const p = d.parameters;
  if (d.epochEnd <= d.epochStart) fail('epochEnd', `must be after epochStart (${d.epochStart})`);
  if (d.commitDeadline !== d.epochEnd + p.commitGraceSeconds) {
    fail('commitDeadline', `must equal epochEnd + commitGraceSeconds (${d.epochEnd + p.commitGraceSeconds})`);
  }
  if (Math.ceil(p.challengeTimeoutMs / 1000) >= d.epochEnd - d.epochStart) {
    fail('parameters.challengeTimeoutMs', 'must be shorter than the epoch');
  }
  if (Math.round(p.aTarget * 1e6) <= Math.round(p.aMin * 1e6)) fail('parameters.aTarget', 'must exceed aMin');
  // A node's verified units (≤ k DIDs, each credited at most volumeCapPerDid) must fit in uint64.
  if (BigInt(p.volumeCapPerDid) * BigInt(p.k) >= 1n << 64n)
    fail('parameters.volumeCapPerDid', 'times k must fit in uint64');
  if (d.seed.blockNumber < d.startBlock.blockNumber) fail('seed.blockNumber', 'must not precede startBlock');
  if (d.assignSeed.blockNumber > d.startBlock.blockNumber) fail('assignSeed.blockNumber', 'must not follow startBlock');

  checkUnique(d.nodes, (n) => n.nodeKey, 'nodes', 'node');
  checkUnique(d.keys, (k) => k.key, 'keys', 'key');
  checkUnique(d.openings, (o) => o.nodeKey, 'openings', 'openings entry for node');
  checkUnique(d.guardianSet, (g) => g, 'guardianSet', 'guardian');
  checkUnique(d.signersPaid, (g) => g, 'signersPaid', 'signer');
  checkUnique(d.previousCumulative, (c) => c.account, 'previousCumulative', 'account');
  checkUnique(d.previousLicenseCumulative, (c) => c.tokenId, 'previousLicenseCumulative', 'license');
  const guardians = new Set(d.guardianSet);
  d.signersPaid.forEach((s, i) => {
    if (!guardians.has(s)) fail(`signersPaid[${i}]`, `${s} is not in guardianSet`);
  });
  d.openings.forEach((o, i) => {
    if (o.status !== 'silent' && o.openings === undefined)
      fail(`openings[${i}].openings`, `required when status is ${o.status}`);
    if (o.status === 'silent' && o.openings !== undefined)
      fail(`openings[${i}].openings`, 'must be absent when status is silent');
    if (o.status === 'malformed' && o.reason === undefined)
      fail(`openings[${i}].reason`, 'required when status is malformed');
    if (o.status !== 'silent' && o.signature === undefined)
      fail(`openings[${i}].signature`, `required when status is ${o.status} (the node's Openings signature)`);
    if (o.status === 'silent' && o.signature !== undefined)
      fail(`openings[${i}].signature`, 'must be absent when status is silent');
    if (o.status !== 'silent' && o.silenceAttestations !== undefined)
      fail(`openings[${i}].silenceAttestations`, `must be absent when status is ${o.status}`);
  });
  let total = BigInt(p.epochEmission);
  for (const c of d.previousCumulative) total += BigInt(c.cumulative);
  if (total >= 1n << 96n) fail('previousCumulative', 'sum plus epochEmission exceeds uint96');
  let licenseTotal = BigInt(p.licenseEmission);
  for (const c of d.previousLicenseCumulative) licenseTotal += BigInt(c.cumulative);
  if (licenseTotal >= 1n << 96n) fail('previousLicenseCumulative', 'sum plus licenseEmission exceeds uint96');
  return d;
}

// ------------------------------------------------------------------------------------------ builder

type Amount = bigint | number | string;
type Loose<T> = T extends string ? string | bigint | number : T;

/** The parts of a dataset in the keeper's in-memory form: any-case hex, amounts as bigint/number/string. */
export interface DatasetParts {
  chainId: number;
  contracts: { staking: string; settlement: string; didRegistry: string; license: string; licenseRewards: string };
  epoch: number;
  epochStart: number;
  epochEnd: number;
  commitDeadline?: number;
  parameters: { [K in keyof DatasetParameters]: Loose<DatasetParameters[K]> };
  startBlock: { blockNumber: number | bigint; blockHash: string };
  seed: { blockNumber: number | bigint; blockHash: string; value: string };
  assignSeed: { blockNumber: number | bigint; blockHash: string; value: string };
  nodes: readonly { nodeKey: string; operator: string; stake: Amount; endpoint: string }[];
  keys: readonly { key: string; did: Amount; active: boolean }[];
  watchdogs: readonly { tokenId: Amount; operator: string; owner: string; commit: string; signature: string }[];
  /** Signed commitments, wire form or core/commitment.ts `SignedCommitment` (bigints allowed). */
  commitments: readonly unknown[];
  openings: readonly {
    nodeKey: string;
    status: 'ok' | 'silent' | 'malformed';
    reason?: string;
    openings?: readonly unknown[];
    signature?: string;
    silenceAttestations?: readonly { guardian: string; signature: string }[];
  }[];
  transcripts: readonly unknown[];
  /** Openings of challenge receipts per node (default: none). */
  challengeOpenings?: readonly { nodeKey: string; openings: readonly unknown[] }[];
  guardianSet: readonly string[];
  signersPaid: readonly string[];
  previousCumulative: readonly { account: string; cumulative: Amount }[] | ReadonlyMap<string, Amount>;
  /** License leaves of the previous reward tree (token id → cumulative as a map, or a list). */
  previousLicenseCumulative: readonly { tokenId: Amount; cumulative: Amount }[] | ReadonlyMap<Amount, Amount>;
}

const dec = (v: Amount): string => {
  try {
    return BigInt(v).toString();
  } catch {
    return String(v); // not an integer: the schema names the field
  }
};
const low = <T extends string>(v: string): T => v.toLowerCase() as T;
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byBigint = (a: string, b: string) => {
  // Not a number (a bad document): any order, the schema names the problem.
  if (!isCanonicalDecimal(a) || !isCanonicalDecimal(b)) return byString(a, b);
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Lowercases every 0x hex string and turns bigints into decimal strings, recursively. */
function normalizeLoose(value: unknown): unknown {
  if (typeof value === 'string') return isHex(value) ? value.toLowerCase() : value;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(normalizeLoose);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = normalizeLoose(v);
    return out;
  }
  return value;
}

/** A commitment entry with its attestations in canonical order (ascending guardian); none → []. */
function sortAttestations<T extends { attestations?: { guardian: string }[] }>(c: T): T {
  const attestations = [...(c.attestations ?? [])].sort((a, b) => byString(String(a.guardian), String(b.guardian)));
  return { ...c, attestations };
}

/** A cumulative list given as a list, or as a map turned into one with `entry`. */
function entryList<K, T>(
  list: readonly T[] | ReadonlyMap<K, Amount>,
  entry: (key: K, cumulative: Amount) => T,
): readonly T[] {
  return list instanceof Map
    ? [...list.entries()].map(([key, cumulative]) => entry(key, cumulative))
    : (list as readonly T[]);
}

/**
 * Builds a canonical dataset from the keeper's parts: lowercase hex, decimal strings, every list sorted
 * (nodes, openings and commitments by nodeKey, keys by key, WatchDog commits and transcripts by tokenId,
 * guardians, accounts and license token ids ascending), then validated with `parseEpochDataset`. Items such as
 * openings and transcripts are normalized but otherwise kept as received.
 */
export function datasetFromParts(parts: DatasetParts): EpochDataset {
  const p = parts.parameters;
  const prev = entryList(parts.previousCumulative, (account: string, cumulative) => ({ account, cumulative }));
  const prevLicenses = entryList(parts.previousLicenseCumulative, (tokenId: Amount, cumulative) => ({
    tokenId,
    cumulative,
  }));
  const sortedBy = <T>(items: T[], key: (t: T) => string, cmp = byString) => items.sort((a, b) => cmp(key(a), key(b)));
  const json = (v: unknown) => JSON.stringify(v);
  const raw = {
    version: DATASET_VERSION,
    chainId: parts.chainId,
    contracts: {
      staking: low(parts.contracts.staking),
      settlement: low(parts.contracts.settlement),
      didRegistry: low(parts.contracts.didRegistry),
      license: low(parts.contracts.license),
      licenseRewards: low(parts.contracts.licenseRewards),
    },
    epoch: parts.epoch,
    epochStart: parts.epochStart,
    epochEnd: parts.epochEnd,
    commitDeadline: parts.commitDeadline ?? parts.epochEnd + Number(p.commitGraceSeconds),
    parameters: {
      k: Number(p.k),
      m: Number(p.m),
      challengesPerNode: Number(p.challengesPerNode),
      challengeTimeoutMs: Number(p.challengeTimeoutMs),
      commitGraceSeconds: Number(p.commitGraceSeconds),
      assignmentLeadSeconds: Number(p.assignmentLeadSeconds),
      fraudSlash: dec(p.fraudSlash),
      aMin: Number(p.aMin),
      aTarget: Number(p.aTarget),
      gamma: Number(p.gamma),
      stakeCap: dec(p.stakeCap),
      volumeCapPerDid: dec(p.volumeCapPerDid),
      stakeSplitBps: Number(p.stakeSplitBps),
      equivocationSlash: dec(p.equivocationSlash),
      guardianShareBps: Number(p.guardianShareBps),
      epochEmission: dec(p.epochEmission),
      licenseEmission: dec(p.licenseEmission),
      // canonical: absent unless points mode
      ...(p.rewardsTo === undefined || p.rewardsTo === 'operator' ? {} : { rewardsTo: String(p.rewardsTo) }),
    },
    startBlock: { blockNumber: Number(parts.startBlock.blockNumber), blockHash: low(parts.startBlock.blockHash) },
    seed: {
      blockNumber: Number(parts.seed.blockNumber),
      blockHash: low(parts.seed.blockHash),
      value: low(parts.seed.value),
    },
    assignSeed: {
      blockNumber: Number(parts.assignSeed.blockNumber),
      blockHash: low(parts.assignSeed.blockHash),
      value: low(parts.assignSeed.value),
    },
    nodes: sortedBy(
      parts.nodes.map((n) => ({
        nodeKey: low(n.nodeKey),
        operator: low(n.operator),
        stake: dec(n.stake),
        endpoint: n.endpoint,
      })),
      (n) => n.nodeKey,
    ),
    keys: sortedBy(
      parts.keys.map((k) => ({ key: low(k.key), did: dec(k.did), active: k.active })),
      (k) => k.key,
    ),
    watchdogs: sortedBy(
      parts.watchdogs.map((w) => ({
        tokenId: dec(w.tokenId),
        operator: low(w.operator),
        owner: low(w.owner),
        commit: low(w.commit),
        signature: low(w.signature),
      })),
      (w) => w.tokenId,
      byBigint,
    ).sort((a, b) => byBigint(a.tokenId, b.tokenId) || byString(json(a), json(b))),
    commitments: parts.commitments
      .map((c) => sortAttestations(normalizeLoose(c) as { nodeKey: string; attestations?: { guardian: string }[] }))
      .sort((a, b) => byString(String(a.nodeKey), String(b.nodeKey)) || byString(json(a), json(b))),
    openings: sortedBy(
      parts.openings.map((o) => {
        const n = normalizeLoose(o) as { nodeKey: string; silenceAttestations?: { guardian: string }[] };
        if (n.silenceAttestations)
          n.silenceAttestations = [...n.silenceAttestations].sort((a, b) => byString(a.guardian, b.guardian));
        return n;
      }),
      (o) => o.nodeKey,
    ),
    transcripts: parts.transcripts
      .map((t) => normalizeLoose(t) as { transcript: { tokenId: string } })
      .sort(
        (a, b) => byBigint(String(a.transcript?.tokenId), String(b.transcript?.tokenId)) || byString(json(a), json(b)),
      ),
    challengeOpenings: sortedBy(
      (parts.challengeOpenings ?? [])
        .filter((c) => c.openings.length > 0)
        .map((c) => {
          const n = normalizeLoose(c) as { nodeKey: string; openings: { ticket?: { envelopeId?: string } }[] };
          n.openings = [...n.openings].sort((a, b) =>
            byString(String(a.ticket?.envelopeId), String(b.ticket?.envelopeId)),
          );
          return n;
        }),
      (c) => c.nodeKey,
    ),
    guardianSet: parts.guardianSet.map((g) => low(g)).sort(byString),
    signersPaid: parts.signersPaid.map((g) => low(g)).sort(byString),
    previousCumulative: sortedBy(
      prev.map((c) => ({ account: low(c.account), cumulative: dec(c.cumulative) })),
      (c) => c.account,
    ),
    previousLicenseCumulative: sortedBy(
      prevLicenses.map((c) => ({ tokenId: dec(c.tokenId), cumulative: dec(c.cumulative) })),
      (c) => c.tokenId,
      byBigint,
    ),
  };
  return parseEpochDataset(raw);
}

/** Lowercase address type guard for the evaluation code. */
export const asAddress = (s: string): Address => s as Address;
export const asHex = (s: string): Hex => s as Hex;
