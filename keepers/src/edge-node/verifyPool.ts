/**
 * Ed25519 verification for the edge node, inline or on worker threads. Verifying the ticket and the ack
 * is about half of the node's CPU per envelope, and Node runs JavaScript on one thread, so with
 * `threads > 0` the verifications of one event-loop turn are batched (128 bytes each: key ‖ message ‖
 * signature) and spread over a pool of workers, while the main thread goes on parsing, routing and
 * writing. Public keys are parsed once per device on either path (`createPublicKey` is about a sixth of a
 * verification). Workers run plain node:crypto code (no TypeScript loader needed).
 */
import { verify, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { hexToBytes, type Hex } from 'viem';
import { ed25519PublicKey } from '../core/relay.js';

export interface SignatureVerifier {
  /** True when `signature` is `publicKey`'s Ed25519 signature of the 32-byte `message`; never rejects. */
  verify(publicKey: Hex, message: Uint8Array, signature: Hex): Promise<boolean>;
  close(): Promise<void>;
}

/** Parsed public keys of recently seen devices (bounded; oldest evicted first). */
export class Ed25519KeyCache {
  private readonly keys = new Map<Hex, KeyObject>();

  constructor(private readonly capacity = 10_000) {}

  verifySync(publicKey: Hex, message: Uint8Array, signature: Hex): boolean {
    try {
      let key = this.keys.get(publicKey);
      if (!key) {
        key = ed25519PublicKey(publicKey);
        if (this.keys.size >= this.capacity) this.keys.delete(this.keys.keys().next().value as Hex);
        this.keys.set(publicKey, key);
      }
      const sig = hexToBytes(signature);
      return sig.length === 64 && verify(null, message, key, sig);
    } catch {
      return false;
    }
  }
}

/** Verifies on the calling thread. */
export function inlineVerifier(cache = new Ed25519KeyCache()): SignatureVerifier {
  return {
    verify: async (publicKey, message, signature) => cache.verifySync(publicKey, message, signature),
    close: async () => {},
  };
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map();
parentPort.on('message', ({ id, buffer }) => {
  const items = Buffer.from(buffer);
  const n = items.length / 128;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * 128;
    const raw = items.subarray(base, base + 32);
    const name = raw.toString('hex');
    try {
      let key = keys.get(name);
      if (!key) {
        key = createPublicKey({ key: Buffer.concat([PREFIX, raw]), format: 'der', type: 'spki' });
        if (keys.size >= 10000) keys.delete(keys.keys().next().value);
        keys.set(name, key);
      }
      out[i] = verify(null, items.subarray(base + 32, base + 64), key, items.subarray(base + 64, base + 128)) ? 1 : 0;
    } catch {
      out[i] = 0;
    }
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});
`;

interface Job {
  item: Uint8Array;
  resolve: (ok: boolean) => void;
}

/** Verifies on `threads` worker threads, batching the requests of each event-loop turn. */
export function workerVerifier(threads: number): SignatureVerifier {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`verify threads must be ≥ 1, got ${threads}`);
  const workers = Array.from({ length: threads }, () => {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    return worker;
  });
  const waiting = new Map<number, Job[]>();
  let nextId = 0;
  let nextWorker = 0;
  let queue: Job[] = [];
  let scheduled = false;
  let closed = false;
  for (const worker of workers) {
    worker.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
      const jobs = waiting.get(id);
      waiting.delete(id);
      jobs?.forEach((job, i) => job.resolve(out[i] === 1));
    });
    worker.on('error', () => {
      // a crashed worker fails its batches closed (rejects the signatures), never open
      for (const [id, jobs] of waiting) {
        waiting.delete(id);
        jobs.forEach((job) => job.resolve(false));
      }
    });
  }
  const flush = () => {
    scheduled = false;
    const jobs = queue;
    queue = [];
    const per = Math.ceil(jobs.length / workers.length);
    for (let start = 0; start < jobs.length; start += per) {
      const batch = jobs.slice(start, start + per);
      const buffer = new Uint8Array(batch.length * 128);
      batch.forEach((job, i) => buffer.set(job.item, i * 128));
      const id = nextId++;
      waiting.set(id, batch);
      workers[nextWorker++ % workers.length]!.postMessage({ id, buffer: buffer.buffer }, [buffer.buffer]);
    }
  };
  return {
    verify(publicKey, message, signature) {
      if (closed) return Promise.resolve(false);
      let item: Uint8Array;
      try {
        const key = hexToBytes(publicKey);
        const sig = hexToBytes(signature);
        if (key.length !== 32 || message.length !== 32 || sig.length !== 64) return Promise.resolve(false);
        item = new Uint8Array(128);
        item.set(key, 0);
        item.set(message, 32);
        item.set(sig, 64);
      } catch {
        return Promise.resolve(false);
      }
      return new Promise<boolean>((resolve) => {
        queue.push({ item, resolve });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      closed = true;
      for (const [, jobs] of waiting) jobs.forEach((job) => job.resolve(false));
      waiting.clear();
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
