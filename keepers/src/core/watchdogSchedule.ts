/**
 * WatchDog availability checks (docs/keepers.md §4): secret commitments, the challenge schedule a secret
 * fixes, and the signed transcript of results with its acceptance check. Pure: no I/O, no clock.
 *
 *   commit         = keccak256(abi.encode("SN-WD-1", uint256 tokenId, uint32 epoch, bytes32 secret))
 *   offset(n, i)   = uint256(keccak256(abi.encode(bytes32 secret, address n, uint32 i))) mod (epochDuration − timeout)
 *   envelopeId(n, i) = keccak256(abi.encode("SN-WD-ENVELOPE-1", bytes32 secret, address n, uint32 i))
 *   transcriptHash = keccak256(abi.encode("SN-WD-TRANSCRIPT-1", uint256 tokenId, uint32 epoch, bytes32 secret,
 *                      (address node, uint32 i, uint64 at, bytes32 envelopeId, bool ok, uint32 latencyMs)[] results))
 *
 * Commits and transcripts are signed by the license's operator key with EIP-191 `personal_sign` over the
 * raw 32-byte hash. Transcript results are in canonical order: node ascending, then i ascending.
 *
 * A challenge's envelope id is fixed by the secret (issue 11 finding 3): it looks random to the node (the
 * secret stays hidden until the transcript, which keepers take only after the commit deadline), and once
 * the transcript reveals the secret everybody knows which envelope each result is about, so the node's
 * committed receipt of that envelope (an opening of its sum tree) is the evidence of a delivery.
 */
import { z } from 'zod';
import { bytesToHex, encodeAbiParameters, hexToBytes, recoverMessageAddress, type Address, type Hex } from 'viem';
import { signMessage } from 'viem/accounts';
import { keccak } from './merkle.js';
import {
  address,
  assertUint32,
  decimalUint256,
  describeZodError,
  hex32,
  isHex32,
  secpSignature,
  uint32,
} from './wire.js';
import { SendnetError } from './errors.js';

/** Challenges per WatchDog, node and epoch (devnet default). */
export const DEFAULT_CHALLENGES_PER_NODE = 4;

export class WatchdogFormatError extends SendnetError {
  override name = 'WatchdogFormatError';
  override readonly code = 'watchdog-format';
}

/** A raw private key, or anything that signs EIP-191 messages (a viem local account). */
export type MessageSigner = Hex | { signMessage(args: { message: { raw: Hex } }): Promise<Hex> };

function personalSign(signer: MessageSigner, hash: Hex): Promise<Hex> {
  if (typeof signer === 'string') return signMessage({ message: { raw: hash }, privateKey: signer });
  return signer.signMessage({ message: { raw: hash } });
}

async function personalRecover(hash: Hex, signature: Hex): Promise<Address> {
  return (await recoverMessageAddress({ message: { raw: hash }, signature })).toLowerCase() as Address;
}

function checkHex32(what: string, value: Hex): void {
  if (!isHex32(value)) throw new RangeError(`${what} must be 32 bytes of hex, got ${value}`);
}

// ------------------------------------------------------------------------------------------- commits

const ENVELOPE_ID_TAG = new TextEncoder().encode('SN-WD-ENVELOPE-1');
/** The constant parts of the envelope id's abi.encode: the string's offset (0x80), length and bytes. */
const ENVELOPE_ID_ENCODING = (() => {
  const b = new Uint8Array(192);
  b[31] = 0x80;
  b[159] = ENVELOPE_ID_TAG.length;
  b.set(ENVELOPE_ID_TAG, 160);
  return b;
})();

/**
 * The envelope id of challenge `i` to `node`: derived from the secret, so a result names exactly one
 * envelope and a node cannot know which of its envelopes are challenges before the secret is revealed.
 */
export function challengeEnvelopeId(secret: Hex, node: Address, i: number): Hex {
  assertUint32('challenge index', i);
  checkHex32('secret', secret);
  const nodeBytes = hexToBytes(node);
  if (nodeBytes.length !== 20) throw new RangeError(`not a 20-byte address: ${node}`);
  // abi.encode(string, bytes32, address, uint32) laid out by hand (one keccak per result, the hot path of
  // checking a large transcript): head = string offset 0x80, secret, address, i; tail = length, tag.
  const buffer = new Uint8Array(ENVELOPE_ID_ENCODING);
  buffer.set(hexToBytes(secret), 32);
  buffer.set(nodeBytes, 76);
  new DataView(buffer.buffer).setUint32(124, i);
  return bytesToHex(keccak(buffer));
}

export function watchdogCommit(tokenId: bigint, epoch: number, secret: Hex): Hex {
  assertUint32('epoch', epoch);
  checkHex32('secret', secret);
  const encoded = encodeAbiParameters(
    [{ type: 'string' }, { type: 'uint256' }, { type: 'uint32' }, { type: 'bytes32' }],
    ['SN-WD-1', tokenId, epoch, secret],
  );
  return bytesToHex(keccak(hexToBytes(encoded)));
}

/** Body of `POST /watchdog/commit`: `signature` = personal_sign(operator key, commit). */
export const watchdogCommitMessageSchema = z.object({
  tokenId: decimalUint256,
  epoch: uint32,
  commit: hex32,
  signature: secpSignature,
});
export type WatchdogCommitMessage = z.infer<typeof watchdogCommitMessageSchema>;

export function parseWatchdogCommitMessage(value: unknown): WatchdogCommitMessage {
  const parsed = watchdogCommitMessageSchema.safeParse(value);
  if (!parsed.success) throw new WatchdogFormatError(`malformed WatchDog commit: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** The signed commit message for (tokenId, epoch, secret). */
export async function signWatchdogCommit(
  signer: MessageSigner,
  tokenId: bigint,
  epoch: number,
  secret: Hex,
): Promise<WatchdogCommitMessage> {
  const commit = watchdogCommit(tokenId, epoch, secret);
  return {
    tokenId: tokenId.toString(),
    epoch,
    commit,
    signature: (await personalSign(signer, commit)).toLowerCase() as Hex,
  };
}

/** The operator address that signed a commit message (lowercase); the caller compares with the license. */
export function recoverWatchdogCommitSigner(message: WatchdogCommitMessage): Promise<Address> {
  return personalRecover(message.commit, message.signature);
}

// ------------------------------------------------------------------------------------------- schedule

export interface ScheduledChallenge {
  node: Address;
  i: number;
  /** Seconds after the epoch start. */
  offset: number;
}

/**
 * Offsets of the `count` challenges of one node, sorted by offset (ties by i), each keeping its index i.
 * Offsets lie in [0, epochDurationSeconds − timeoutSeconds).
 */
export function challengeOffsets(
  secret: Hex,
  node: Address,
  count: number,
  epochDurationSeconds: number,
  timeoutSeconds: number,
): { i: number; offset: number }[] {
  checkHex32('secret', secret);
  assertUint32('count', count);
  if (
    !Number.isInteger(epochDurationSeconds) ||
    !Number.isInteger(timeoutSeconds) ||
    timeoutSeconds < 0 ||
    epochDurationSeconds <= timeoutSeconds
  ) {
    throw new RangeError(
      `need integer epochDuration > challenge timeout ≥ 0 seconds, got ${epochDurationSeconds} and ${timeoutSeconds}`,
    );
  }
  const window = BigInt(epochDurationSeconds - timeoutSeconds);
  const nodeBytes = hexToBytes(node);
  if (nodeBytes.length !== 20) throw new RangeError(`not a 20-byte address: ${node}`);
  const buffer = new Uint8Array(96);
  buffer.set(hexToBytes(secret), 0);
  buffer.set(nodeBytes, 44);
  const view = new DataView(buffer.buffer);
  const out: { i: number; offset: number }[] = [];
  for (let i = 0; i < count; i++) {
    view.setUint32(92, i);
    out.push({ i, offset: Number(BigInt(bytesToHex(keccak(buffer))) % window) });
  }
  return out.sort((a, b) => a.offset - b.offset || a.i - b.i);
}

/** Every challenge of a WatchDog in an epoch, in time order (ties by node, then i). */
export function watchdogSchedule(
  secret: Hex,
  nodes: readonly Address[],
  count: number,
  epochDurationSeconds: number,
  timeoutSeconds: number,
): ScheduledChallenge[] {
  const all = uniqueSortedNodes(nodes).flatMap((node) =>
    challengeOffsets(secret, node, count, epochDurationSeconds, timeoutSeconds).map(({ i, offset }) => ({
      node,
      i,
      offset,
    })),
  );
  return all.sort((a, b) => a.offset - b.offset || compareAddress(a.node, b.node) || a.i - b.i);
}

function compareAddress(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function uniqueSortedNodes(nodes: readonly Address[]): Address[] {
  return [...new Set(nodes.map((n) => n.toLowerCase() as Address))].sort(compareAddress);
}

// ------------------------------------------------------------------------------------------- transcripts

export const transcriptResultSchema = z.object({
  node: address,
  /** Challenge index i of the schedule. */
  i: uint32,
  /** When the challenge was sent, Unix milliseconds. */
  at: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  envelopeId: hex32,
  ok: z.boolean(),
  /** Receive time − send time when ok; ignored (use 0) when not. */
  latencyMs: uint32,
});

export const transcriptSchema = z.object({
  tokenId: decimalUint256,
  epoch: uint32,
  secret: hex32,
  results: z.array(transcriptResultSchema).max(1_000_000),
});

/** Body of the transcript upload: `signature` = personal_sign(operator key, transcriptHash(transcript)). */
export const signedTranscriptSchema = z.object({ transcript: transcriptSchema, signature: secpSignature });

export type TranscriptResult = z.infer<typeof transcriptResultSchema>;
export type Transcript = z.infer<typeof transcriptSchema>;
export type SignedTranscript = z.infer<typeof signedTranscriptSchema>;

export function parseSignedTranscript(value: unknown): SignedTranscript {
  const parsed = signedTranscriptSchema.safeParse(value);
  if (!parsed.success) throw new WatchdogFormatError(`malformed transcript: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** Results in canonical order: node ascending, then i ascending (a new array). */
export function sortTranscriptResults(results: readonly TranscriptResult[]): TranscriptResult[] {
  return [...results].sort((a, b) => compareAddress(a.node, b.node) || a.i - b.i);
}

const TRANSCRIPT_PARAMS = [
  { type: 'string' },
  { type: 'uint256' },
  { type: 'uint32' },
  { type: 'bytes32' },
  {
    type: 'tuple[]',
    components: [
      { name: 'node', type: 'address' },
      { name: 'i', type: 'uint32' },
      { name: 'at', type: 'uint64' },
      { name: 'envelopeId', type: 'bytes32' },
      { name: 'ok', type: 'bool' },
      { name: 'latencyMs', type: 'uint32' },
    ],
  },
] as const;

/** Canonical hash of a transcript (results hashed in the order given; checkTranscript requires canonical order). */
export function transcriptHash(t: Transcript): Hex {
  const encoded = encodeAbiParameters(TRANSCRIPT_PARAMS, [
    'SN-WD-TRANSCRIPT-1',
    BigInt(t.tokenId),
    t.epoch,
    t.secret,
    t.results.map((r) => ({
      node: r.node,
      i: r.i,
      at: BigInt(r.at),
      envelopeId: r.envelopeId,
      ok: r.ok,
      latencyMs: r.latencyMs,
    })),
  ]);
  return bytesToHex(keccak(hexToBytes(encoded)));
}

/** Signs the transcript, results put into canonical order first. */
export async function signTranscript(signer: MessageSigner, transcript: Transcript): Promise<SignedTranscript> {
  const parsed = transcriptSchema.safeParse({ ...transcript, results: sortTranscriptResults(transcript.results) });
  if (!parsed.success) throw new WatchdogFormatError(`malformed transcript: ${describeZodError(parsed.error)}`);
  const signature = (await personalSign(signer, transcriptHash(parsed.data))).toLowerCase() as Hex;
  return { transcript: parsed.data, signature };
}

/** The operator address that signed the transcript (lowercase); the caller compares with the license. */
export function recoverTranscriptSigner(transcript: Transcript, signature: Hex): Promise<Address> {
  return personalRecover(transcriptHash(transcript), signature);
}

export const TRANSCRIPT_REJECTIONS = [
  'wrong-token',
  'wrong-epoch',
  'secret-does-not-open-commit',
  'results-out-of-order',
  'unassigned-node',
  'bad-challenge-index',
  'duplicate-result',
  'missing-result',
  'latency-exceeds-timeout',
  'off-schedule',
  'wrong-envelope-id',
] as const;
export type TranscriptRejection = (typeof TRANSCRIPT_REJECTIONS)[number];

export interface NodeAvailability {
  scheduled: number;
  ok: number;
  /** ok / scheduled. */
  successRatio: number;
  /** Latencies of the successful challenges, in result order (i ascending). */
  latenciesMs: number[];
}

export interface TranscriptExpectation {
  /** The WatchDog's commit for the epoch (from its accepted commit message). */
  commit: Hex;
  /** Nodes assigned to this WatchDog (`assignWatchdogs`). */
  nodes: readonly Address[];
  /** Challenges per node. */
  count: number;
  epochDurationSeconds: number;
  timeoutSeconds: number;
  /** When given, the transcript must name them. */
  tokenId?: bigint;
  epoch?: number;
  /** When given, each result's `at` must lie in [start + offset, start + offset + timeout) seconds. */
  epochStartSeconds?: number;
}

/**
 * Accepts a transcript when the secret opens the commit and the results are exactly the schedule (each
 * assigned node × i in 0..count−1 once, canonical order, no extra), with latencies within the timeout.
 * Returns per-node success ratio and latencies (keys lowercase), or the first problem found.
 */
export function checkTranscript(
  t: Transcript,
  expected: TranscriptExpectation,
): { ok: true; nodes: Map<Address, NodeAvailability> } | { ok: false; reason: TranscriptRejection; detail: string } {
  const fail = (reason: TranscriptRejection, detail: string) => ({ ok: false as const, reason, detail });
  if (expected.tokenId !== undefined && BigInt(t.tokenId) !== expected.tokenId) {
    return fail('wrong-token', `transcript is for license ${t.tokenId}, expected ${expected.tokenId}`);
  }
  if (expected.epoch !== undefined && t.epoch !== expected.epoch)
    return fail('wrong-epoch', `transcript is for epoch ${t.epoch}, expected ${expected.epoch}`);
  if (watchdogCommit(BigInt(t.tokenId), t.epoch, t.secret) !== expected.commit.toLowerCase()) {
    return fail('secret-does-not-open-commit', `secret does not open commit ${expected.commit}`);
  }
  const nodes = uniqueSortedNodes(expected.nodes);
  const offsets = new Map<Address, number[]>();
  for (const node of nodes) {
    const byIndex: number[] = new Array(expected.count);
    for (const { i, offset } of challengeOffsets(
      t.secret,
      node,
      expected.count,
      expected.epochDurationSeconds,
      expected.timeoutSeconds,
    ))
      byIndex[i] = offset;
    offsets.set(node, byIndex);
  }
  const timeoutMs = expected.timeoutSeconds * 1000;
  const out = new Map<Address, NodeAvailability>(
    nodes.map((n) => [n, { scheduled: expected.count, ok: 0, successRatio: 0, latenciesMs: [] as number[] }]),
  );
  let previous: TranscriptResult | undefined;
  for (const r of t.results) {
    const node = r.node.toLowerCase() as Address;
    const byIndex = offsets.get(node);
    if (!byIndex) return fail('unassigned-node', `result for node ${r.node}, which is not assigned to this WatchDog`);
    if (r.i >= expected.count)
      return fail('bad-challenge-index', `result ${r.node}#${r.i}: only ${expected.count} challenges per node`);
    if (previous) {
      const order = compareAddress(previous.node, node) || previous.i - r.i;
      if (order === 0) return fail('duplicate-result', `two results for ${r.node}#${r.i}`);
      if (order > 0)
        return fail('results-out-of-order', `result ${r.node}#${r.i} after ${previous.node}#${previous.i}`);
    }
    previous = r;
    if (r.envelopeId.toLowerCase() !== challengeEnvelopeId(t.secret, node, r.i))
      return fail('wrong-envelope-id', `result ${r.node}#${r.i} names envelope ${r.envelopeId}, not the schedule's`);
    if (expected.epochStartSeconds !== undefined) {
      const earliest = (expected.epochStartSeconds + byIndex[r.i]!) * 1000;
      if (r.at < earliest || r.at >= earliest + timeoutMs) {
        return fail('off-schedule', `result ${r.node}#${r.i} sent at ${r.at} ms, scheduled at ${earliest} ms`);
      }
    }
    if (r.ok) {
      if (r.latencyMs > timeoutMs)
        return fail(
          'latency-exceeds-timeout',
          `result ${r.node}#${r.i}: ok with latency ${r.latencyMs} ms > ${timeoutMs} ms`,
        );
      const entry = out.get(node)!;
      entry.ok++;
      entry.latenciesMs.push(r.latencyMs);
    }
  }
  const expectedCount = nodes.length * expected.count;
  if (t.results.length !== expectedCount) {
    return fail('missing-result', `${t.results.length} results, the schedule has ${expectedCount}`);
  }
  for (const entry of out.values()) entry.successRatio = entry.scheduled === 0 ? 0 : entry.ok / entry.scheduled;
  return { ok: true, nodes: out };
}
