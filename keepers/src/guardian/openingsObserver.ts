/**
 * The guardian's own view of the openings (docs/keepers.md §6, issue 11 finding 1): once an epoch's seed
 * block exists, the guardian asks every node whose (single) commitment it attested for its k sampled
 * openings itself (`POST {endpoint}/epochs/<e>/openings { targets }`, the endpoint as registered in
 * NodeStaking at the start block), retrying until the openings deadline. It keeps the node-signed answer
 * (the signature must recover to the node over the epoch, the root and the targets), or — if none came by
 * the deadline — its own `OpeningsSilence` signature. Kept per epoch in `openings/<epoch>.jsonl` of its data
 * directory (durable across restarts), served by `GET /epochs/:e/openings`, and checked at `/sign`: a node
 * this guardian holds a signed answer of must not be silent or missing in the dataset.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Address, Hex, PublicClient, TypedDataDomain } from 'viem';
import { z } from 'zod';
import { activeNodesAt, firstBlockAtOrAfter } from '../chain/epochFacts.js';
import { recoverSigner, signHashWith } from '../core/attestation.js';
import type { SecpSigner } from '../core/commitment.js';
import { openingWire } from '../core/datasetSchema.js';
import { commitDeadline, epochAt, epochStart, type EpochTiming } from '../core/deadlines.js';
import {
  openingsDigest,
  openingsObservationSchema,
  silenceDigest,
  type OpeningsObservation,
} from '../core/openingsProof.js';
import { samplingSeed, sampleTargets } from '../core/sampling.js';
import { ecdsaSignatureWire, lowerHex } from '../core/wire.js';
import { nodeBaseUrl, nodeFetchJson } from '../infra/nodeFetch.js';
import type { CommitmentStore } from './commitmentStore.js';
import { EpochJournal } from './epochJournal.js';

const answerSchema = z.object({ openings: z.array(openingWire).max(1024), signature: ecdsaSignatureWire });

export interface OpeningsObserverOptions {
  client: PublicClient;
  staking: Address;
  fromBlock?: bigint;
  guardian: Address;
  signer: SecpSigner;
  stakingDomain: TypedDataDomain;
  settlementDomain: TypedDataDomain;
  k: number;
  commitGraceSeconds: number;
  openingsWindowSeconds: number;
  commitments: CommitmentStore;
  dataDir: string;
  timing: () => Promise<EpochTiming>;
  nowMs: () => number;
  requestTimeoutMs?: number;
  retainEpochs?: number;
  log: Logger;
}

export type { OpeningsObservation };

export class OpeningsObserver {
  private readonly journal: EpochJournal<OpeningsObservation>;
  private readonly inFlight = new Set<string>();
  /** (epoch, node) pairs this process asked during the window: silence is signed only for those. */
  private readonly asked = new Set<string>();
  private readonly endpoints = new Map<number, Map<string, string>>();
  private running = false;

  constructor(private readonly o: OpeningsObserverOptions) {
    this.journal = new EpochJournal(
      join(o.dataDir, 'openings'),
      openingsObservationSchema,
      o.retainEpochs ?? 16,
      (message) => new Error(message),
    );
  }

  /** Every observation of `epoch` (one per node). */
  list(epoch: number): OpeningsObservation[] {
    return this.journal.list(epoch);
  }

  private record(epoch: number, entry: OpeningsObservation): void {
    if (this.list(epoch).some((e) => e.nodeKey === entry.nodeKey)) return;
    this.journal.append(epoch, entry);
  }

  /** The openings deadline of `epoch`: commitDeadline + openingsWindowSeconds. */
  openingsDeadline(timing: EpochTiming, epoch: number): number {
    return commitDeadline(timing, this.o, epoch) + this.o.openingsWindowSeconds;
  }

  /** One pass: for each epoch in its openings window, ask the nodes not yet observed; at the deadline, sign silence. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const timing = await this.o.timing();
      const now = Math.floor(this.o.nowMs() / 1000);
      const current = epochAt(timing, now);
      for (let epoch = Math.max(1, current - 2); epoch < current; epoch++) await this.observeEpoch(timing, epoch, now);
    } catch (error) {
      this.o.log.warn({ err: (error as Error).message }, 'openings observation pass failed');
    } finally {
      this.running = false;
    }
  }

  private async observeEpoch(timing: EpochTiming, epoch: number, now: number): Promise<void> {
    const deadline = commitDeadline(timing, this.o, epoch);
    if (now < deadline) return;
    // Only nodes with a single attested commitment with units (two = equivocation: nothing to open).
    const byNode = new Map<string, { root: Hex; totalUnits: bigint }[]>();
    for (const c of this.o.commitments.list(epoch)) {
      const list = byNode.get(c.nodeKey) ?? [];
      list.push({ root: c.commitment.root as Hex, totalUnits: BigInt(c.commitment.totalUnits) });
      byNode.set(c.nodeKey, list);
    }
    const observed = new Set(this.list(epoch).map((e) => e.nodeKey));
    const todo = [...byNode].filter(([n, list]) => list.length === 1 && list[0]!.totalUnits > 0n && !observed.has(n));
    if (todo.length === 0) return;
    const seedBlock = await firstBlockAtOrAfter(this.o.client, deadline);
    if (!seedBlock) return;
    const seed = samplingSeed(epoch, seedBlock.blockHash as Hex);
    const closes = this.openingsDeadline(timing, epoch);
    const endpoints = await this.endpointsOf(epoch, timing);
    if (now >= closes) {
      for (const [nodeKey, [c]] of todo) {
        // Silence only for a node actually asked in the window (a guardian down all along saw nothing).
        if (this.inFlight.has(`${epoch}:${nodeKey}`) || !this.asked.has(`${epoch}:${nodeKey}`)) continue;
        const digest = silenceDigest(this.o.settlementDomain, epoch, nodeKey as Address, c!.root);
        const signature = await signHashWith(this.o.signer, digest);
        this.record(epoch, {
          status: 'silent',
          nodeKey,
          root: c!.root,
          silence: { guardian: this.o.guardian, signature },
        });
        this.o.log.info({ epoch, node: nodeKey }, 'no signed openings by the deadline: silence signed');
      }
      return;
    }
    await Promise.all(
      todo.map(async ([nodeKey, [c]]) => {
        const key = `${epoch}:${nodeKey}`;
        if (this.inFlight.has(key)) return;
        this.inFlight.add(key);
        try {
          const endpoint = endpoints.get(nodeKey);
          if (!endpoint) return;
          const targets = sampleTargets(seed, nodeKey as Address, c!.totalUnits, this.o.k);
          this.asked.add(key);
          const answer = await this.askNode(endpoint, epoch, targets, Math.max(200, (closes - now) * 1000));
          if (!answer) return;
          const digest = openingsDigest(this.o.stakingDomain, epoch, c!.root, targets, answer.openings);
          if ((await recoverSigner(digest, answer.signature as Hex)) !== nodeKey) return;
          this.record(epoch, { status: 'signed', nodeKey, root: c!.root, ...answer });
        } finally {
          this.inFlight.delete(key);
        }
      }),
    );
  }

  /** The one place the guardian calls a node: a signed answer, or null (no answer, unparseable). */
  private async askNode(endpoint: string, epoch: number, targets: bigint[], budgetMs: number) {
    try {
      // node-chosen endpoint: redirects are never followed (infra/nodeFetch.ts)
      const base = nodeBaseUrl(endpoint);
      const { status, body } = await nodeFetchJson(`${base}/epochs/${epoch}/openings`, {
        body: { targets: targets.map(String) },
        timeoutMs: Math.min(this.o.requestTimeoutMs ?? 3000, budgetMs),
        maxBytes: 8 * 1024 * 1024,
      });
      if (status !== 200) return null;
      const parsed = answerSchema.safeParse(lowerHex(body));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private async endpointsOf(epoch: number, timing: EpochTiming): Promise<Map<string, string>> {
    const cached = this.endpoints.get(epoch);
    if (cached) return cached;
    const start = await firstBlockAtOrAfter(this.o.client, epochStart(timing, epoch));
    if (!start) return new Map();
    const nodes = await activeNodesAt(this.o.client, this.o.staking, start.blockNumber, this.o.fromBlock);
    const map = new Map(nodes.map((n) => [n.nodeKey, n.endpoint]));
    this.endpoints.set(epoch, map);
    for (const e of this.endpoints.keys()) if (e < epoch - 4) this.endpoints.delete(e);
    return map;
  }
}
