/**
 * Relay benchmark: throughput (envelopes/s) and delivery latency (p50/p99) of one reference edge node on
 * loopback with N client pairs, against a bare WebSocket forwarder (no checks, no persistence,
 * `bareForwarder.ts`) measured in the same run with the same clients; returns the ratios.
 *
 * Each server runs in its own child process; the clients run here. Every pair keeps `window` envelopes
 * outstanding: an envelope is complete when the node confirmed the recipient's ack (`acked`), which for
 * the edge node means ticket and ack verified and the receipt written. Senders sign tickets as they send
 * (or all before the clock starts with `presignTickets`); recipients sign acks live.
 * Latency = send → delivery at the recipient.
 *
 *   tsx bench/keepers/relay.ts [--pairs 8] [--envelopes 1000] [--bytes 1024] [--window 16] [--presign]
 *                              [--verify-threads 1] [--rounds 3]
 *
 * prints the result as JSON and writes bench/keepers/relay.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { z } from 'zod';
import { generateDeviceKey, type Envelope } from '../../keepers/src/core/relay.js';
import { RelayClient } from '../../keepers/src/client/relayClient.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface BenchRelayOptions {
  /** Sender/recipient pairs (default 8). */
  pairs?: number;
  /** Measured envelopes per pair (default 1000), after `warmup` more. */
  envelopesPerPair?: number;
  warmupPerPair?: number;
  /** Ciphertext bytes per envelope (default 1024: one unit). */
  payloadBytes?: number;
  /** Envelopes outstanding per pair (default 16). */
  window?: number;
  /**
   * Sign every ticket before the clock starts (default false: senders sign each ticket as they send, as
   * real clients do). Either way the clients do the same work against both servers.
   */
  presignTickets?: boolean;
  /** The edge node's signature-verification worker threads (default 1; 0 = its main thread). */
  verifyThreads?: number;
  /** Rounds of (bare, edge) runs, order alternating; the medians are reported (default 3). */
  rounds?: number;
}

export interface RelayRun {
  envelopes: number;
  seconds: number;
  envelopesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU (all its threads) per envelope, microseconds: insensitive to other load on the machine. */
  serverCpuUsPerEnvelope: number;
  /** Client-side CPU (this process, all pairs) per envelope, microseconds. */
  clientCpuUsPerEnvelope: number;
}

export interface BenchRelayResult {
  options: Required<BenchRelayOptions>;
  /** Medians over the rounds. */
  edge: RelayRun;
  bare: RelayRun;
  /**
   * edge / bare of the medians: throughput (target ≥ 0.5), latency (> 1 = slower), and server CPU
   * capacity (bare CPU per envelope / edge CPU per envelope: the throughput ratio when each server has a
   * core to itself and the clients are not the bottleneck).
   */
  ratios: { throughput: number; p50Latency: number; p99Latency: number; serverCpuCapacity: number };
  runs: { edge: RelayRun[]; bare: RelayRun[] };
}

const quiet = pino({ level: 'warn' });

async function startServer(
  mode: 'edge' | 'bare',
  verifyThreads: number,
): Promise<{ url: string; child: ChildProcess }> {
  // RELAY_BENCH_SERVER_FLAGS="--cpu-prof" profiles the servers
  const flags = (process.env.RELAY_BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [
      ...flags,
      '--import',
      'tsx',
      join(here, 'relayServer.ts'),
      '--mode',
      mode,
      '--verify-threads',
      String(verifyThreads),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${mode} server exited with code ${code} before listening`)));
  });
  const { url } = z.object({ url: z.string() }).parse(JSON.parse(first));
  return { url, child };
}

/** User + system CPU microseconds the server process has used so far. */
function serverCpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('message', (message: { cpu: { user: number; system: number } }) =>
      resolve(message.cpu.user + message.cpu.system),
    );
    if (!child.send('cpu')) reject(new Error('server IPC channel closed'));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Pair {
  sender: RelayClient;
  recipient: RelayClient;
}

type Outgoing = Envelope | (() => Envelope);

/** Sends `batches[i]` through pair i, `window` outstanding at a time; resolves with per-envelope latencies. */
function drive(pairs: Pair[], batches: Outgoing[][], window: number): Promise<number[]> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    let running = pairs.length;
    pairs.forEach(({ sender, recipient }, i) => {
      const queue = batches[i]!;
      const sentAt = new Map<string, number>();
      let next = 0;
      let done = 0;
      const sendOne = () => {
        const item = queue[next++]!;
        const t = performance.now();
        const envelope = typeof item === 'function' ? item() : item;
        sentAt.set(envelope.id, t);
        sender.sendEnvelope(envelope).catch(reject);
      };
      const onMessage = (m: { envelope: Envelope }) => {
        const t = sentAt.get(m.envelope.id);
        if (t !== undefined) latencies.push(performance.now() - t);
      };
      const onAcked = () => {
        done++;
        if (next < queue.length) sendOne();
        if (done === queue.length) {
          recipient.off('message', onMessage);
          recipient.off('acked', onAcked);
          if (--running === 0) resolve(latencies);
        }
      };
      recipient.on('message', onMessage);
      recipient.on('acked', onAcked);
      for (let k = 0; k < Math.min(window, queue.length); k++) sendOne();
    });
  });
}

async function runAgainst(mode: 'edge' | 'bare', o: Required<BenchRelayOptions>): Promise<RelayRun> {
  const { url, child } = await startServer(mode, o.verifyThreads);
  const pairs: Pair[] = [];
  try {
    for (let i = 0; i < o.pairs; i++) {
      const make = (did: number) =>
        new RelayClient({
          device: generateDeviceKey(),
          did: BigInt(did),
          openPayloads: false,
          reconnect: false,
          logger: quiet,
        });
      const pair = { sender: make(1000 + 2 * i), recipient: make(1001 + 2 * i) };
      await pair.sender.connect(url);
      await pair.recipient.connect(url);
      pairs.push(pair);
    }
    const build = (count: number): Outgoing[][] =>
      pairs.map(({ sender, recipient }) =>
        Array.from({ length: count }, () => {
          const payload = randomBytes(o.payloadBytes);
          const make = () => sender.envelopeFor(recipient.key, payload);
          return o.presignTickets ? make() : make;
        }),
      );
    const warmup = build(o.warmupPerPair);
    const measured = build(o.envelopesPerPair);
    await drive(pairs, warmup, o.window);
    const cpuBefore = await serverCpu(child);
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    const latencies = await drive(pairs, measured, o.window);
    const seconds = (performance.now() - started) / 1000;
    const clientCpu = process.cpuUsage(clientBefore);
    const cpuUsed = (await serverCpu(child)) - cpuBefore;
    latencies.sort((a, b) => a - b);
    const envelopes = o.pairs * o.envelopesPerPair;
    return {
      envelopes,
      seconds: round(seconds, 3),
      envelopesPerSecond: round(envelopes / seconds, 0),
      p50Ms: round(percentile(latencies, 50), 2),
      p99Ms: round(percentile(latencies, 99), 2),
      serverCpuUsPerEnvelope: round(cpuUsed / envelopes, 1),
      clientCpuUsPerEnvelope: round((clientCpu.user + clientCpu.system) / envelopes, 1),
    };
  } finally {
    for (const { sender, recipient } of pairs) await Promise.all([sender.close(), recipient.close()]);
    await stopServer(child);
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per-metric medians of several runs. */
function medianRun(runs: RelayRun[]): RelayRun {
  return {
    envelopes: runs[0]!.envelopes,
    seconds: round(median(runs.map((r) => r.seconds)), 3),
    envelopesPerSecond: round(median(runs.map((r) => r.envelopesPerSecond)), 0),
    p50Ms: round(median(runs.map((r) => r.p50Ms)), 2),
    p99Ms: round(median(runs.map((r) => r.p99Ms)), 2),
    serverCpuUsPerEnvelope: round(median(runs.map((r) => r.serverCpuUsPerEnvelope)), 1),
    clientCpuUsPerEnvelope: round(median(runs.map((r) => r.clientCpuUsPerEnvelope)), 1),
  };
}

export async function benchRelay(opts: BenchRelayOptions = {}): Promise<BenchRelayResult> {
  const o: Required<BenchRelayOptions> = {
    pairs: opts.pairs ?? 8,
    envelopesPerPair: opts.envelopesPerPair ?? 1000,
    warmupPerPair: opts.warmupPerPair ?? 100,
    payloadBytes: opts.payloadBytes ?? 1024,
    window: opts.window ?? 16,
    presignTickets: opts.presignTickets ?? false,
    verifyThreads: opts.verifyThreads ?? 1,
    rounds: opts.rounds ?? 3,
  };
  const runs = { edge: [] as RelayRun[], bare: [] as RelayRun[] };
  for (let round = 0; round < o.rounds; round++) {
    const order: ('bare' | 'edge')[] = round % 2 === 0 ? ['bare', 'edge'] : ['edge', 'bare'];
    for (const mode of order) runs[mode].push(await runAgainst(mode, o));
  }
  const edge = medianRun(runs.edge);
  const bare = medianRun(runs.bare);
  return {
    options: o,
    edge,
    bare,
    runs,
    ratios: {
      throughput: round(edge.envelopesPerSecond / bare.envelopesPerSecond, 3),
      p50Latency: round(edge.p50Ms / bare.p50Ms, 2),
      p99Latency: round(edge.p99Ms / bare.p99Ms, 2),
      serverCpuCapacity: round(bare.serverCpuUsPerEnvelope / edge.serverCpuUsPerEnvelope, 3),
    },
  };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string' },
      envelopes: { type: 'string' },
      bytes: { type: 'string' },
      window: { type: 'string' },
      presign: { type: 'boolean', default: false },
      'verify-threads': { type: 'string' },
      rounds: { type: 'string' },
    },
  });
  const int = z.coerce.number().int().positive().optional();
  const result = await benchRelay({
    pairs: int.parse(values.pairs),
    envelopesPerPair: int.parse(values.envelopes),
    payloadBytes: int.parse(values.bytes),
    window: int.parse(values.window),
    presignTickets: values.presign,
    rounds: int.parse(values.rounds),
    verifyThreads:
      values['verify-threads'] === undefined
        ? undefined
        : z.coerce.number().int().min(0).parse(values['verify-threads']),
  });
  const json = JSON.stringify(result, null, 2);
  writeFileSync(join(here, 'relay.json'), `${json}\n`);
  console.log(json);
}
