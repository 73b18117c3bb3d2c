/**
 * Command line of the reference edge node (`tsx keepers/src/edge-node/edgeNode.ts --help`). Every flag is
 * validated with zod; the epoch clock and the commitment domain come from an address book or from flags.
 */
import { parseArgs } from 'node:util';
import { createPublicClient, http, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { loadAddressBook } from '../chain/addressBook.js';
import { nodeStakingDomain } from '../core/commitment.js';
import { address, hex32 } from '../core/wire.js';
import { EdgeNode, type EdgeNodeOptions } from './edgeNode.js';
import { didRegistryKeyDirectory } from '../chain/didKeyDirectory.js';
import { EpochClock } from '../core/epochClock.js';

export const USAGE = `usage: tsx keepers/src/edge-node/edgeNode.ts --node-key HEX --data-dir DIR [options]

  --node-key HEX              node key (secp256k1 private key, 0x + 64 hex); env EDGE_NODE_KEY also works
  --data-dir DIR              where the node keeps its LevelDB (pending envelopes, receipts, commitments)
  --host HOST                 listen address (default 127.0.0.1)
  --port N                    HTTP + WebSocket port (default 7400; 0 = any free port)
  --address-book FILE         deployments/<chain>.json: genesis time, epoch duration, chain id, NodeStaking,
                              DidRegistry (or give the four flags below)
  --genesis-time SECONDS      epoch 1 start (Unix seconds)
  --epoch-duration SECONDS    epoch length
  --chain-id N                chain id of the commitment domain
  --node-staking ADDRESS      NodeStaking address of the commitment domain
  --commit-grace-seconds N    seconds after an epoch's end its commitment is accepted (default 5)
  --retain-epochs N           committed epochs kept for openings (default 8)
  --verify-threads N          worker threads verifying signatures (default 0: main thread)
  --rpc-url URL               check login keys on-chain (DidRegistry.keyState; needs --address-book)
  --drop-rate R               misbehave: drop this fraction (0-1) of envelopes
  --inflate-units F           misbehave: forge receipts worth F x the real units (0.5 = +50%)
  --offline-after-ms MS       misbehave: stop answering after MS milliseconds
  --equivocate                misbehave: sign two different commitments per epoch
  --help                      this text`;

export class UsageError extends Error {
  override name = 'UsageError';
}

const numeric = (what: string, schema: z.ZodNumber) =>
  z
    .string()
    .transform((value, ctx) => {
      const n = Number(value);
      const parsed = schema.safeParse(n);
      if (value.trim() === '' || !parsed.success) {
        ctx.addIssue({ code: 'custom', message: `${what} must be ${schema.description ?? 'a valid number'}, got "${value}"` });
        return z.NEVER;
      }
      return parsed.data;
    });

const argsSchema = z.object({
  nodeKey: hex32,
  dataDir: z.string().min(1),
  host: z.string().min(1),
  port: numeric('--port', z.number().int().min(0).max(65535).describe('0-65535')),
  addressBook: z.string().optional(),
  genesisTime: numeric('--genesis-time', z.number().int().nonnegative().describe('a Unix time')).optional(),
  epochDuration: numeric('--epoch-duration', z.number().int().positive().describe('a positive integer')).optional(),
  chainId: numeric('--chain-id', z.number().int().positive().describe('a positive integer')).optional(),
  nodeStaking: address.optional(),
  commitGraceSeconds: numeric('--commit-grace-seconds', z.number().int().nonnegative().describe('an integer ≥ 0')),
  retainEpochs: numeric('--retain-epochs', z.number().int().positive().describe('a positive integer')),
  verifyThreads: numeric('--verify-threads', z.number().int().min(0).max(64).describe('0-64')),
  rpcUrl: z.url().optional(),
  dropRate: numeric('--drop-rate', z.number().min(0).max(1).describe('in [0, 1]')),
  inflateUnits: numeric('--inflate-units', z.number().min(0).describe('≥ 0')),
  offlineAfterMs: numeric('--offline-after-ms', z.number().int().nonnegative().describe('an integer ≥ 0')).optional(),
  equivocate: z.boolean(),
});

/** Parses argv into EdgeNode options; throws UsageError naming the bad flag. `null` for --help. */
export function parseEdgeNodeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): (EdgeNodeOptions & { rpcUrl?: string }) | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'node-key': { type: 'string' },
        'data-dir': { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '7400' },
        'address-book': { type: 'string' },
        'genesis-time': { type: 'string' },
        'epoch-duration': { type: 'string' },
        'chain-id': { type: 'string' },
        'node-staking': { type: 'string' },
        'commit-grace-seconds': { type: 'string', default: '5' },
        'retain-epochs': { type: 'string', default: '8' },
        'verify-threads': { type: 'string', default: '0' },
        'rpc-url': { type: 'string' },
        'drop-rate': { type: 'string', default: '0' },
        'inflate-units': { type: 'string', default: '0' },
        'offline-after-ms': { type: 'string' },
        equivocate: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return null;
  const parsed = argsSchema.safeParse({
    nodeKey: values['node-key'] ?? env.EDGE_NODE_KEY,
    dataDir: values['data-dir'],
    host: values.host,
    port: values.port,
    addressBook: values['address-book'],
    genesisTime: values['genesis-time'],
    epochDuration: values['epoch-duration'],
    chainId: values['chain-id'],
    nodeStaking: values['node-staking'],
    commitGraceSeconds: values['commit-grace-seconds'],
    retainEpochs: values['retain-epochs'],
    verifyThreads: values['verify-threads'],
    rpcUrl: values['rpc-url'],
    dropRate: values['drop-rate'],
    inflateUnits: values['inflate-units'],
    offlineAfterMs: values['offline-after-ms'],
    equivocate: values.equivocate,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = `--${String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError(`${flag}: ${issue.message}`);
  }
  const a = parsed.data;
  let genesisTime = a.genesisTime;
  let epochDurationSeconds = a.epochDuration;
  let chainId = a.chainId;
  let staking: Address | undefined = a.nodeStaking;
  let registry: Address | undefined;
  if (a.addressBook) {
    const book = loadAddressBook(a.addressBook);
    genesisTime ??= book.genesisTime;
    epochDurationSeconds ??= book.epochDurationSeconds;
    chainId ??= book.chainId;
    staking ??= book.contracts.NodeStaking;
    registry = book.contracts.DidRegistry;
  }
  if (genesisTime === undefined || epochDurationSeconds === undefined || chainId === undefined || staking === undefined) {
    throw new UsageError('give --address-book, or all of --genesis-time, --epoch-duration, --chain-id and --node-staking');
  }
  if (a.rpcUrl && !registry) throw new UsageError('--rpc-url needs --address-book (for the DidRegistry address)');
  const options: EdgeNodeOptions & { rpcUrl?: string } = {
    nodeKey: a.nodeKey as Hex,
    dataDir: a.dataDir,
    host: a.host,
    port: a.port,
    clock: new EpochClock({ genesisTime, epochDurationSeconds, commitGraceSeconds: a.commitGraceSeconds }),
    domain: nodeStakingDomain(chainId, staking),
    retainEpochs: a.retainEpochs,
    verifyThreads: a.verifyThreads,
    dropRate: a.dropRate,
    inflateUnits: a.inflateUnits,
    offlineAfterMs: a.offlineAfterMs,
    equivocate: a.equivocate,
    rpcUrl: a.rpcUrl,
  };
  if (a.rpcUrl && registry) {
    options.keys = didRegistryKeyDirectory(createPublicClient({ transport: http(a.rpcUrl) }), registry);
  }
  return options;
}

export async function main(argv: string[]): Promise<void> {
  const options = parseEdgeNodeArgs(argv);
  if (!options) {
    console.log(USAGE);
    return;
  }
  const node = new EdgeNode(options);
  await node.start();
  console.log(JSON.stringify({ node: node.address, url: node.url, http: node.httpUrl }));
  const stop = () => void node.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
