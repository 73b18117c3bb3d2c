/**
 * A devnet adversary (issue 11 finding 1): a third party racing the guardians with a framing dataset right
 * after each epoch's seed block. It takes the keeper's last settled dataset, changes one field of an honest
 * node's first opening (making it look like fraud), serves it, and POSTs `/sign` for it to every guardian as
 * soon as the seed exists — without a keeper key, like any outsider. Every answer is recorded; the devnet
 * fails if any guardian signed.
 */
import { createServer, type Server } from 'node:http';
import type { Address, PublicClient } from 'viem';
import { canonicalJson, keccakUtf8 } from '../core/canonicalJson.js';
import { evaluateEpoch } from '../core/dataset.js';
import { headerToWire } from '../core/guardianApi.js';
import { epochSettlementAbi } from '../generated/contracts.js';

export interface FramingAttempt {
  epoch: number;
  guardian: string;
  status: number;
  error?: string;
}

export class Framer {
  readonly attempts: FramingAttempt[] = [];
  private server?: Server;
  private url = '';
  private readonly served = new Map<string, string>();
  private readonly tried = new Set<number>();

  constructor(
    private readonly o: {
      client: PublicClient;
      settlement: Address;
      keeperUrl: string;
      guardianUrls: readonly string[];
      honestNodes: ReadonlySet<string>;
    },
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const body = this.served.get(req.url ?? '');
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(body ?? '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Races the guardians for `epoch` (once): call right after its seed block exists. */
  async race(epoch: number): Promise<void> {
    if (this.tried.has(epoch)) return;
    this.tried.add(epoch);
    const framed = await this.framingDataset(epoch);
    if (!framed) return;
    const json = canonicalJson(framed);
    const dataHash = keccakUtf8(json);
    this.served.set(`/datasets/${dataHash}`, json);
    const header = headerToWire((await evaluateEpoch(framed)).header);
    const request = { epoch, datasetUrl: `${this.url}/datasets/${dataHash}`, dataHash, header };
    await Promise.all(
      this.o.guardianUrls.map(async (guardian) => {
        try {
          const res = await fetch(`${guardian}/sign`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(request),
            signal: AbortSignal.timeout(10_000),
          });
          const body = (await res.json().catch(() => ({}))) as { error?: string };
          this.attempts.push({ epoch, guardian, status: res.status, error: body.error });
        } catch {
          // a guardian that is down signs nothing either
        }
      }),
    );
  }

  /** The latest settled dataset with an honest node's first opening changed in one field (as epoch-agnostic bait). */
  private async framingDataset(epoch: number): Promise<Record<string, unknown> | null> {
    for (let e = epoch - 1; e >= 1 && e >= epoch - 4; e--) {
      const logs = await this.o.client.getContractEvents({
        address: this.o.settlement,
        abi: epochSettlementAbi,
        eventName: 'EpochSubmitted',
        args: { epoch: e },
        fromBlock: 0n,
      });
      const dataHash = logs.at(-1)?.args.header?.dataHash;
      if (!dataHash) continue;
      const res = await fetch(`${this.o.keeperUrl}/datasets/${dataHash}`).catch(() => null);
      if (!res?.ok) continue;
      const d = (await res.json()) as {
        openings: { nodeKey: string; status: string; openings?: { siblings: { sum: string }[] }[] }[];
      };
      const victim = d.openings.find(
        (o) => o.status === 'ok' && this.o.honestNodes.has(o.nodeKey) && (o.openings?.[0]?.siblings.length ?? 0) > 0,
      );
      if (!victim) continue;
      const sibling = victim.openings![0]!.siblings[0]!;
      sibling.sum = (BigInt(sibling.sum) + 1n).toString();
      return d as unknown as Record<string, unknown>;
    }
    return null;
  }
}

/** What the framer gained: one sentence per guardian signature it got (none is the only right answer). */
export function framingProblems(attempts: readonly FramingAttempt[]): string[] {
  return attempts
    .filter((a) => a.status === 200)
    .map((a) => `guardian ${a.guardian} signed a framing header for epoch ${a.epoch} posted by a third party`);
}
