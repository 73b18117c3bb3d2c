/**
 * Realistic epoch datasets for tests, built with the core primitives only (no sockets): real Ed25519
 * tickets and acks, real Merkle-sum trees, EIP-712 signed commitments, openings of the seeded samples,
 * WatchDog commits, assignments and signed transcripts. Each node gets a behaviour (honest, inflated with
 * fake leaves, silent, equivocating, malformed, no commitment); tests tamper with the result.
 */
import { randomBytes } from 'node:crypto';
import { bytesToHex, type Address, type Hex, type TypedDataDomain } from 'viem';
import { attestationDigest, signHashWith } from '../../src/core/attestation.js';
import { settlementDomain } from '../../src/core/epochHeader.js';
import { openingsDigest, silenceDigest } from '../../src/core/openingsProof.js';
import { lowerHex } from '../../src/core/wire.js';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  ackTicket,
  generateDeviceKey,
  receiptLeafHash,
  signTicket,
  ticketHash,
  type DeviceKey,
  type Receipt,
} from '../../src/core/relay.js';
import { buildSumTree, type SumTree } from '../../src/core/sumTree.js';
import {
  nodeStakingDomain,
  signCommitment,
  signedCommitmentToWire,
  type EpochCommitment,
} from '../../src/core/commitment.js';
import {
  assignWatchdogs,
  assignmentSeed,
  openingToWire,
  sampleLeafIndices,
  sampleTargets,
  samplingSeed,
} from '../../src/core/sampling.js';
import {
  challengeEnvelopeId,
  challengeOffsets,
  signTranscript,
  signWatchdogCommit,
  type TranscriptResult,
} from '../../src/core/watchdogSchedule.js';
import { datasetFromParts, type DatasetParts, type EpochDataset } from '../../src/core/dataset.js';
import { DEVNET_CONSENSUS } from '../../src/core/consensus.js';

export const rand32 = (): Hex => bytesToHex(randomBytes(32));
const lower = <T extends string>(s: string) => s.toLowerCase() as T;

export interface Device {
  key: DeviceKey;
  did: bigint;
}

export type Behaviour = 'honest' | 'inflated' | 'silent' | 'malformed' | 'equivocate' | 'no-commit' | 'duplicate-leaf';

export interface FixtureNode {
  privateKey: Hex;
  nodeKey: Address;
  operator: Address;
  stake: bigint;
  endpoint: string;
  behaviour: Behaviour;
  receipts: Receipt[];
  tree: SumTree;
  commitment: EpochCommitment;
}

export interface FixtureWatchdog {
  tokenId: bigint;
  privateKey: Hex;
  operator: Address;
  /** The license holder (default: the operator's address). */
  owner: Address;
  secret: Hex;
}

export interface FixtureOptions {
  epoch?: number;
  chainId?: number;
  staking?: Address;
  epochStart?: number;
  epochDuration?: number;
  behaviours: Behaviour[];
  receiptsPerNode?: number;
  devices?: number;
  /** WatchDog licenses; operators are shared round-robin by `watchdogOperators` keys. */
  watchdogs?: number;
  watchdogOperators?: number;
  /** Whether WatchDog `tokenId` reports its challenge i to node `nodeIndex` ok (default: all succeed). */
  challengeOk?: (nodeIndex: number, tokenId: bigint, i: number) => boolean;
  /** Whether the node delivered that challenge (its receipt is in its tree; default: as reported). */
  delivered?: (nodeIndex: number, tokenId: bigint, i: number) => boolean;
  /** Pre-made pieces (the e2e test passes on-chain identities). */
  nodes?: { privateKey: Hex; operator: Address; stake: bigint; endpoint: string }[];
  deviceList?: Device[];
  watchdogList?: { tokenId: bigint; privateKey: Hex; owner?: Address }[];
  /** The start, seed and assignment blocks (default: made up). */
  blocks?: { start: BlockRef; seed: BlockRef; assign: BlockRef };
  contracts?: DatasetParts['contracts'];
  /** Guardian private keys (default: 7 fresh ones); the guardian set is theirs unless overridden. */
  guardianKeys?: Hex[];
  /** How many guardians (the first ones) attest each commitment (default: all of them). */
  attestors?: number;
  /** How many guardians (the first ones) sign each silent node's silence (default: all of them). */
  silenceAttestors?: number;
  /** Overrides of other dataset fields (guardians, signers paid, previous cumulative…). */
  overrides?: Partial<DatasetParts>;
}

export interface BlockRef {
  blockNumber: number;
  blockHash: Hex;
}

export interface Fixture {
  guardianKeys: Hex[];
  parts: DatasetParts;
  dataset: EpochDataset;
  nodes: FixtureNode[];
  devices: Device[];
  watchdogs: FixtureWatchdog[];
}

export function makeDevices(n: number): Device[] {
  return Array.from({ length: n }, (_, i) => ({ key: generateDeviceKey(), did: 1000n + BigInt(i) }));
}

/** `count` delivered envelopes relayed by `node` between random pairs of distinct devices. */
export function makeReceipts(
  node: Address,
  epoch: number,
  devices: readonly Device[],
  count: number,
  /** Envelope ids of further receipts (WatchDog challenges the node delivered). */
  envelopeIds: readonly Hex[] = [],
): Receipt[] {
  const receipts: Receipt[] = [];
  for (let j = 0; j < count + envelopeIds.length; j++) {
    // 1 ≤ step ≤ n−1, so the recipient is never the sender.
    const sender = devices[j % devices.length]!;
    const s = devices[(j + 1 + (j % (devices.length - 1))) % devices.length]!;
    const ticket = signTicket(
      {
        envelopeId: j < count ? rand32() : envelopeIds[j - count]!,
        node: lower(node),
        epoch,
        units: 1 + (j % 4),
        recipientKey: s.key.publicKey,
        senderKey: sender.key.publicKey,
        senderDid: sender.did.toString(),
      },
      sender.key,
    );
    receipts.push({ ticket, ack: ackTicket(ticket, s.did.toString(), s.key) });
  }
  return receipts.sort((a, b) => (ticketHash(a.ticket) < ticketHash(b.ticket) ? -1 : 1));
}

export function treeOf(receipts: readonly Receipt[], fakeLeaves: { hash: Hex; units: bigint }[] = []): SumTree {
  return buildSumTree([
    ...receipts.map((r) => ({ hash: receiptLeafHash(r), units: BigInt(r.ticket.units) })),
    ...fakeLeaves,
  ]);
}

export const commitmentOf = (epoch: number, tree: SumTree): EpochCommitment => ({
  epoch,
  root: tree.root,
  totalUnits: tree.totalUnits,
  leafCount: BigInt(tree.leafCount),
});

export async function buildFixture(o: FixtureOptions): Promise<Fixture> {
  const epoch = o.epoch ?? 3;
  const chainId = o.chainId ?? 31337;
  const staking = (o.contracts?.staking ?? o.staking ?? `0x${'5a'.repeat(20)}`) as Address;
  const epochStart = o.epochStart ?? 1_700_000_000;
  const epochEnd = epochStart + (o.epochDuration ?? 20);
  const params = {
    ...DEVNET_CONSENSUS,
    equivocationSlash: '1000000000000000000000',
    guardianShareBps: 500,
    epochEmission: '273972000000000000000000',
    // config/devnet.json licenseRewards.initialEpochEmission: LicenseRewards.epochEmission(e) of the devnet's first 730 epochs
    licenseEmission: '82191780821917808219178',
  };
  const blocks = o.blocks ?? {
    start: { blockNumber: 100, blockHash: rand32() },
    seed: { blockNumber: 110, blockHash: rand32() },
    assign: { blockNumber: 99, blockHash: rand32() },
  };
  const seedBlockHash = blocks.seed.blockHash;
  const assignBlockHash = blocks.assign.blockHash;
  const seed = samplingSeed(epoch, seedBlockHash);
  const assignSeedValue = assignmentSeed(epoch, assignBlockHash);
  const domain = nodeStakingDomain(chainId, staking);
  const devices = o.deviceList ?? makeDevices(o.devices ?? 6);

  // Node identities first: the WatchDog assignment needs them, and the nodes' trees hold the challenge
  // receipts of the deliveries the transcripts report.
  const identities = o.behaviours.map((behaviour, i) => {
    const given = o.nodes?.[i];
    const privateKey = given?.privateKey ?? generatePrivateKey();
    return {
      given,
      behaviour,
      privateKey,
      nodeKey: lower<Address>(privateKeyToAccount(privateKey).address),
      operator: lower<Address>(given?.operator ?? privateKeyToAccount(generatePrivateKey()).address),
    };
  });

  // WatchDogs: licenses, commits, assignment and transcripts.
  const operatorKeys = Array.from({ length: o.watchdogOperators ?? 4 }, () => generatePrivateKey());
  const watchdogs: FixtureWatchdog[] = (
    o.watchdogList ??
    Array.from({ length: o.watchdogs ?? 5 }, (_, i) => ({
      tokenId: BigInt(i),
      privateKey: operatorKeys[i % operatorKeys.length]!,
    }))
  ).map((w: { tokenId: bigint; privateKey: Hex; owner?: Address }) => {
    const operator = lower<Address>(privateKeyToAccount(w.privateKey).address);
    return { ...w, operator, owner: lower<Address>(w.owner ?? operator), secret: rand32() };
  });
  const watchdogCommits = [];
  for (const w of watchdogs) {
    const message = await signWatchdogCommit(w.privateKey, w.tokenId, epoch, w.secret);
    watchdogCommits.push({
      tokenId: w.tokenId,
      operator: w.operator,
      owner: w.owner,
      commit: message.commit,
      signature: message.signature,
    });
  }
  const assignment = assignWatchdogs({
    assignSeed: assignSeedValue,
    nodes: identities.map((n) => n.nodeKey),
    watchdogs: watchdogs.map((w) => ({ tokenId: w.tokenId, operator: w.operator, owner: w.owner })),
    m: params.m,
    nodeOperators: new Map(identities.map((n) => [n.nodeKey.toLowerCase(), n.operator.toLowerCase()])),
  });
  const timeoutSeconds = Math.ceil(params.challengeTimeoutMs / 1000);
  const transcripts = [];
  /** node index → envelope ids of the challenges it delivered (in its tree). */
  const deliveredIds: Hex[][] = identities.map(() => []);
  for (const w of watchdogs) {
    const results: TranscriptResult[] = [];
    identities.forEach((n, nodeIndex) => {
      if (!assignment.get(n.nodeKey)?.includes(w.tokenId)) return;
      for (const { i, offset } of challengeOffsets(
        w.secret,
        n.nodeKey,
        params.challengesPerNode,
        epochEnd - epochStart,
        timeoutSeconds,
      )) {
        const ok = o.challengeOk?.(nodeIndex, w.tokenId, i) ?? true;
        const envelopeId = challengeEnvelopeId(w.secret, n.nodeKey, i);
        if (o.delivered?.(nodeIndex, w.tokenId, i) ?? ok) deliveredIds[nodeIndex]!.push(envelopeId);
        results.push({
          node: n.nodeKey,
          i,
          at: (epochStart + offset) * 1000 + 25,
          envelopeId,
          ok,
          latencyMs: ok ? 30 + i * 5 : 0,
        });
      }
    });
    transcripts.push(
      await signTranscript(w.privateKey, { tokenId: w.tokenId.toString(), epoch, secret: w.secret, results }),
    );
  }

  const nodes: FixtureNode[] = [];
  for (let i = 0; i < identities.length; i++) {
    const { given, privateKey, nodeKey, behaviour, operator } = identities[i]!;
    const receipts = makeReceipts(nodeKey, epoch, devices, o.receiptsPerNode ?? 24, deliveredIds[i]);
    let tree: SumTree;
    if (behaviour === 'inflated') {
      tree = treeOf(
        receipts,
        Array.from({ length: 40 }, () => ({ hash: rand32(), units: 64n })),
      );
    } else if (behaviour === 'duplicate-leaf') {
      tree = treeOf([receipts[0]!, receipts[0]!]);
      receipts.splice(1);
      receipts.push(receipts[0]!);
    } else tree = treeOf(receipts);
    nodes.push({
      privateKey,
      nodeKey,
      operator,
      stake: given?.stake ?? 10_000n * 10n ** 18n + BigInt(i) * 10n ** 21n,
      endpoint: given?.endpoint ?? `ws://127.0.0.1:${9000 + i}`,
      behaviour,
      receipts,
      tree,
      commitment: commitmentOf(epoch, tree),
    });
  }

  const guardianKeys = o.guardianKeys ?? Array.from({ length: 7 }, () => generatePrivateKey());
  const settlement = (o.contracts?.settlement ?? `0x${'5e'.repeat(20)}`) as Address;
  const attestors = guardianKeys.slice(0, o.attestors ?? guardianKeys.length);
  const commitments: unknown[] = [];
  const openings: DatasetParts['openings'][number][] = [];
  for (const n of nodes) {
    if (n.behaviour === 'no-commit') continue;
    const sign = async (c: EpochCommitment) => ({
      ...signedCommitmentToWire({
        commitment: c,
        signature: await signCommitment(n.privateKey, domain, c),
        nodeKey: n.nodeKey,
      }),
      attestations: await attest(attestors, chainId, settlement, domain, n.nodeKey, c),
    });
    commitments.push(await sign(n.commitment));
    if (n.behaviour === 'equivocate') commitments.push(await sign({ ...n.commitment, root: rand32() }));
    if (n.behaviour === 'silent')
      openings.push({
        nodeKey: n.nodeKey,
        status: 'silent',
        silenceAttestations: await silence(
          guardianKeys.slice(0, o.silenceAttestors ?? guardianKeys.length),
          chainId,
          settlement,
          epoch,
          n.nodeKey,
          n.commitment.root,
        ),
      });
    else if (n.behaviour !== 'equivocate') {
      const samples = sampleLeafIndices(n.tree, seed, n.nodeKey, params.k);
      const wire = samples.map((s) => {
        // An inflating node cannot open a fake leaf: it answers with a real receipt on the fake leaf's path.
        const receipt = n.receipts[s.index] ?? n.receipts[s.index % n.receipts.length]!;
        return openingToWire(n.tree, s.index, receipt);
      });
      const answer = n.behaviour === 'malformed' ? wire.slice(1) : wire;
      const signature = await signOpenings(
        n.privateKey,
        domain,
        epoch,
        n.commitment,
        seed,
        n.nodeKey,
        params.k,
        answer,
      );
      if (n.behaviour === 'malformed')
        openings.push({
          nodeKey: n.nodeKey,
          status: 'malformed',
          reason: `${answer.length} openings for ${params.k} samples`,
          openings: answer,
          signature,
        });
      else openings.push({ nodeKey: n.nodeKey, status: 'ok', openings: answer, signature });
    }
  }

  // The nodes' openings of their receipts of the challenges they delivered (the WatchDog evidence).
  const challengeOpenings = nodes.flatMap((n, nodeIndex) => {
    if (n.behaviour === 'no-commit' || n.behaviour === 'equivocate') return [];
    const ids = new Set(deliveredIds[nodeIndex]);
    const openings = n.receipts.flatMap((r, index) =>
      ids.has(r.ticket.envelopeId as Hex) ? [openingToWire(n.tree, index, r)] : [],
    );
    return openings.length > 0 ? [{ nodeKey: n.nodeKey, openings }] : [];
  });

  const guardianSet = guardianKeys.map((k) => lower<Address>(privateKeyToAccount(k).address));
  const keys = devices.map((d) => ({ key: d.key.publicKey, did: d.did, active: true }));
  const parts: DatasetParts = {
    chainId,
    contracts: o.contracts ?? {
      staking,
      settlement,
      didRegistry: `0x${'d1'.repeat(20)}`,
      license: `0x${'1c'.repeat(20)}`,
      licenseRewards: `0x${'1e'.repeat(20)}`,
    },
    epoch,
    epochStart,
    epochEnd,
    parameters: params,
    startBlock: blocks.start,
    seed: { ...blocks.seed, value: seed },
    assignSeed: { ...blocks.assign, value: assignSeedValue },
    nodes: nodes.map((n) => ({ nodeKey: n.nodeKey, operator: n.operator, stake: n.stake, endpoint: n.endpoint })),
    keys,
    watchdogs: watchdogCommits,
    commitments,
    openings,
    transcripts,
    challengeOpenings,
    guardianSet,
    signersPaid: guardianSet.slice(0, 5),
    previousCumulative: [{ account: nodes[0]?.operator ?? guardianSet[0]!, cumulative: 5n * 10n ** 18n }],
    previousLicenseCumulative: [{ tokenId: 0n, cumulative: 2n * 10n ** 18n }],
    ...o.overrides,
  };
  return { guardianKeys, parts, dataset: datasetFromParts(parts), nodes, devices, watchdogs };
}

/** The node's `Openings` signature over its answer to the seeded targets (core/openingsProof.ts). */
export async function signOpenings(
  nodePrivateKey: Hex,
  stakingDomain: TypedDataDomain,
  epoch: number,
  commitment: EpochCommitment,
  seed: Hex,
  nodeKey: Address,
  k: number,
  openings: readonly unknown[],
): Promise<Hex> {
  const targets = sampleTargets(seed, nodeKey, commitment.totalUnits, k);
  return signHashWith(
    nodePrivateKey,
    openingsDigest(stakingDomain, epoch, commitment.root, targets, lowerHex(openings) as unknown[]),
  );
}

/** Silence signatures of `guardianKeys` for a node's root (ascending by guardian). */
export async function silence(
  guardianKeys: readonly Hex[],
  chainId: number,
  settlement: Address,
  epoch: number,
  nodeKey: Address,
  root: Hex,
): Promise<{ guardian: Address; signature: Hex }[]> {
  const digest = silenceDigest(settlementDomain(chainId, settlement), epoch, nodeKey, root);
  const out = await Promise.all(
    guardianKeys.map(async (k) => ({
      guardian: lower<Address>(privateKeyToAccount(k).address),
      signature: await signHashWith(k, digest),
    })),
  );
  return out.sort((a, b) => (a.guardian < b.guardian ? -1 : 1));
}

/** Attestations of `c` by each of `guardianKeys` (ascending by guardian), as guardians sign them. */
export async function attest(
  guardianKeys: readonly Hex[],
  chainId: number,
  settlement: Address,
  stakingDomain: TypedDataDomain,
  nodeKey: Address,
  c: EpochCommitment,
): Promise<{ guardian: Address; signature: Hex }[]> {
  const digest = attestationDigest(settlementDomain(chainId, settlement), stakingDomain, nodeKey, c);
  const out = await Promise.all(
    guardianKeys.map(async (k) => ({
      guardian: lower<Address>(privateKeyToAccount(k).address),
      signature: await signHashWith(k, digest),
    })),
  );
  return out.sort((a, b) => (a.guardian < b.guardian ? -1 : 1));
}

/** A deep copy of a dataset to tamper with. */
export const clone = <T>(value: T): T => structuredClone(value);
