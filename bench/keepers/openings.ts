/**
 * Opening verification throughput against the machine's own limit, measured in the same run:
 * - raw: Node's own `crypto.verify` on Ed25519 signatures with ready-made key objects (nothing else);
 * - openings: `verifyOpening` (core/sampling.ts) on real openings of a real Merkle-sum tree — schema
 *   parse, sum path to the committed root, target interval, ticket and ack hashes, both Ed25519
 *   signatures — exactly what the keeper and every guardian run per sampled leaf.
 * An opening carries two signatures, so the ratio compares signatures verified per second inside
 * openings with the raw rate: 1.0 would mean the rest of the work is free, 0.5 means it costs as much as
 * the signatures themselves.
 *
 *   tsx bench/keepers/openings.ts        # prints JSON
 */
import { verify } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { hexToBytes, type Address, type Hex } from 'viem';
import { buildSumTree } from '../../keepers/src/core/sumTree.js';
import {
  ackTicket,
  ed25519PublicKey,
  generateDeviceKey,
  receiptLeafHash,
  signTicket,
  ticketHashBytes,
  type Receipt,
} from '../../keepers/src/core/relay.js';
import { openingSchema, openingToWire, sampleLeafIndices, verifyOpening } from '../../keepers/src/core/sampling.js';

export interface OpeningsBenchResult {
  receipts: number;
  senders: number;
  openingsVerified: number;
  openingsPerSecond: number;
  signaturesPerSecondInOpenings: number;
  rawEd25519VerifiesPerSecond: number;
  ratio: number;
  target: number;
}

const NODE: Address = '0x00000000000000000000000000000000000000e1';
const SEED: Hex = `0x${'5e'.repeat(32)}`;

/** Runs `fn` repeatedly for about `ms` milliseconds; returns calls per second. */
function rate(ms: number, fn: () => void): { perSecond: number; calls: number } {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 64; i++) fn();
    calls += 64;
    elapsed = performance.now() - start;
  }
  return { perSecond: (calls * 1000) / elapsed, calls };
}

export function benchOpenings(
  options: { receipts?: number; senders?: number; durationMs?: number } = {},
): OpeningsBenchResult {
  const receiptsCount = options.receipts ?? 4096;
  const senders = options.senders ?? 64;
  const durationMs = options.durationMs ?? 3000;
  const keys = Array.from({ length: senders }, () => generateDeviceKey());
  const receipts: Receipt[] = [];
  for (let i = 0; i < receiptsCount; i++) {
    const sender = keys[i % senders]!;
    const recipient = keys[(i + 1) % senders]!;
    const ticket = signTicket(
      {
        envelopeId: `0x${i.toString(16).padStart(64, '0')}` as Hex,
        node: NODE,
        epoch: 7,
        units: 1 + (i % 8),
        recipientKey: recipient.publicKey,
        senderKey: sender.publicKey,
        senderDid: String(1 + (i % senders)),
      },
      sender,
    );
    receipts.push({ ticket, ack: ackTicket(ticket, String(1 + ((i + 1) % senders)), recipient) });
  }
  const leaves = receipts.map((r) => ({ hash: receiptLeafHash(r), units: BigInt(r.ticket.units), receipt: r }));
  leaves.sort((a, b) => (a.hash < b.hash ? -1 : 1));
  const tree = buildSumTree(leaves);
  const commitment = { epoch: 7, root: tree.root, totalUnits: tree.totalUnits, leafCount: BigInt(tree.leafCount) };
  const samples = sampleLeafIndices(tree, SEED, NODE, 256);
  // Openings as they arrive from a node: JSON, parsed by the schema before verification.
  const wire = samples.map((s) => JSON.stringify(openingToWire(tree, s.index, leaves[s.index]!.receipt)));

  // Raw limit: the same signatures, ready-made key objects, nothing but crypto.verify.
  const raw = receipts
    .slice(0, 256)
    .flatMap((r) => [
      { key: ed25519PublicKey(r.ticket.senderKey), message: ticketHashBytes(r.ticket), sig: hexToBytes(r.ticket.sig) },
    ]);
  let k = 0;
  const rawStep = () => {
    const item = raw[k++ % raw.length]!;
    if (!verify(null, item.message, item.key, item.sig)) throw new Error('raw verify failed');
  };
  let j = 0;
  const openingStep = () => {
    const n = j++ % wire.length;
    const opening = openingSchema.parse(JSON.parse(wire[n]!));
    const result = verifyOpening(opening, { node: NODE, commitment, target: samples[n]!.target });
    if (!result.ok) throw new Error(`opening ${n} rejected: ${result.reason}`);
  };
  // Interleaved 250 ms slices, so both rates see the same machine (other load drifts over seconds).
  const rawRate = { perSecond: 0, calls: 0 };
  const openingRate = { perSecond: 0, calls: 0 };
  const slices = Math.max(1, Math.round(durationMs / 250));
  for (let s = 0; s < slices; s++) {
    const a = rate(250, rawStep);
    const b = rate(250, openingStep);
    rawRate.calls += a.calls;
    rawRate.perSecond += a.perSecond / slices;
    openingRate.calls += b.calls;
    openingRate.perSecond += b.perSecond / slices;
  }
  const signaturesPerSecond = openingRate.perSecond * 2;
  return {
    receipts: receiptsCount,
    senders,
    openingsVerified: openingRate.calls,
    openingsPerSecond: Math.round(openingRate.perSecond),
    signaturesPerSecondInOpenings: Math.round(signaturesPerSecond),
    rawEd25519VerifiesPerSecond: Math.round(rawRate.perSecond),
    ratio: Number((signaturesPerSecond / rawRate.perSecond).toFixed(3)),
    target: 0.5,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(benchOpenings(), null, 2)}\n`);
}
