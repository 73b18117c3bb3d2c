import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createPublicClient, http } from 'viem';
import { foundryBinary } from './foundry.js';

export interface AnvilHandle {
  readonly rpcUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Ports handed out below Linux's ephemeral range (32768–60999 by default): a port the OS picks with
 * `listen(0)` comes from that range, and so do the source ports of outgoing connections, so such a port can
 * be taken by any connection before the service that was given it listens (an EADDRINUSE seen in CI, with
 * hundreds of client connections per devnet). Ports here are free when checked and never used as source
 * ports; random choice keeps parallel test processes apart.
 */
const LOW_PORTS = { from: 20_000, to: 32_000 };

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

/** A free TCP port on loopback, outside the ephemeral range when one is free there (else chosen by the OS). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW_PORTS.from + Math.floor(Math.random() * (LOW_PORTS.to - LOW_PORTS.from));
    const bound = await tryListen(port);
    if (bound !== null) return bound;
  }
  const any = await tryListen(0);
  if (any === null) throw new Error('no free TCP port on 127.0.0.1');
  return any;
}

/** Starts a fresh anvil on a free port and waits until it answers JSON-RPC. */
export async function startAnvil(options: { port?: number; blockTime?: number; extraArgs?: string[] } = {}) {
  const port = options.port ?? (await freePort());
  const args = ['--port', String(port), '--host', '127.0.0.1', '--silent', ...(options.extraArgs ?? [])];
  if (options.blockTime) args.push('--block-time', String(options.blockTime));
  const child: ChildProcess = spawn(foundryBinary('anvil'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const rpcUrl = `http://127.0.0.1:${port}`;
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited with code ${child.exitCode}: ${stderr.trim()}`);
    try {
      await client.getChainId();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`anvil did not answer on ${rpcUrl} within 30 s: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const handle: AnvilHandle = {
    rpcUrl,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
  return handle;
}
