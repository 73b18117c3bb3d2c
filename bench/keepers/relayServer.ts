/**
 * Child process of the relay benchmark: runs one server on a free loopback port and prints
 * `{"url": …, "node": …}` on stdout, then serves until SIGTERM; answers `'cpu'` IPC messages with its
 * CPU time so far.
 *
 *   tsx bench/keepers/relayServer.ts --mode edge|bare [--verify-threads N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generatePrivateKey } from 'viem/accounts';
import { pino } from 'pino';
import { EdgeNode } from '../../keepers/src/edge-node/edgeNode.js';
import { EpochClock } from '../../keepers/src/core/epochClock.js';
import { nodeStakingDomain } from '../../keepers/src/core/commitment.js';
import { startBareForwarder } from './bareForwarder.js';

// the benchmark asks for this process's CPU time (main and worker threads) over IPC
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});

const { values } = parseArgs({
  options: { mode: { type: 'string', default: 'edge' }, 'verify-threads': { type: 'string', default: '0' } },
});

if (values.mode === 'bare') {
  const server = await startBareForwarder();
  process.stdout.write(`${JSON.stringify({ url: server.url, node: server.node })}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
} else if (values.mode === 'edge') {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-edge-'));
  const node = new EdgeNode({
    nodeKey: generatePrivateKey(),
    dataDir,
    clock: new EpochClock({
      genesisTime: Math.floor(Date.now() / 1000) - 10,
      epochDurationSeconds: 3600,
      commitGraceSeconds: 60,
    }),
    domain: nodeStakingDomain(31337, '0x0000000000000000000000000000000000000001'),
    logger: pino({ level: 'warn' }),
    verifyThreads: Number(values['verify-threads']),
  });
  await node.start();
  process.stdout.write(`${JSON.stringify({ url: node.url, node: node.address })}\n`);
  process.once(
    'SIGTERM',
    () =>
      void node.stop().then(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      }),
  );
} else {
  console.error(`unknown --mode ${values.mode}: use edge or bare`);
  process.exit(2);
}
