/**
 * Command line of the reference edge node (`npm run edge-node -- --help`; the entry is `main.ts`). Every
 * flag is validated with zod; the epoch clock and the commitment domain come from an address book or from
 * flags.
 */
import type { Command } from 'commander';
import { createPublicClient, http, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { loadAddressBook } from '../chain/addressBook.js';
import { nodeStakingDomain } from '../core/commitment.js';
import { address, hex32 } from '../core/wire.js';
import type { EdgeNodeOptions } from './edgeNode.js';
import { didRegistryKeyDirectory } from '../chain/didKeyDirectory.js';
import { EpochClock } from '../core/epochClock.js';
import { UsageError } from '../core/errors.js';
import { commandLine, parseCommandLine } from '../infra/commandLine.js';

/** The edge node's options (commander); `parseEdgeNodeArgs` validates their values. */
export function edgeNodeCommand(): Command {
  return commandLine(
    'edge-node',
    'SendingNetwork reference edge node: relays envelopes, commits receipts, answers openings',
  )
    .usage('--node-key HEX --data-dir DIR [options]')
    .option('--node-key <hex>', 'node key (secp256k1 private key, 0x + 64 hex); env EDGE_NODE_KEY also works')
    .option('--data-dir <dir>', 'where the node keeps its LevelDB (pending envelopes, receipts, commitments)')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <n>', 'HTTP + WebSocket port (0 = any free port)', '7400')
    .option(
      '--address-book <file>',
      'deployments/<chain>.json: genesis time, epoch duration, chain id, NodeStaking, DidRegistry (or give the four flags below)',
    )
    .option('--genesis-time <seconds>', 'epoch 1 start (Unix seconds)')
    .option('--epoch-duration <seconds>', 'epoch length')
    .option('--chain-id <n>', 'chain id of the commitment domain')
    .option('--node-staking <address>', 'NodeStaking address of the commitment domain')
    .option('--commit-grace-seconds <n>', "seconds after an epoch's end its commitment is accepted", '5')
    .option('--retain-epochs <n>', 'committed epochs kept for openings', '8')
    .option('--verify-threads <n>', 'worker threads verifying signatures (0: main thread)', '0')
    .option('--rpc-url <url>', 'check login keys on-chain (DidRegistry.keyState; needs --address-book)')
    .option('--drop-rate <r>', 'misbehave: drop this fraction (0-1) of envelopes', '0')
    .option('--inflate-units <f>', 'misbehave: forge receipts worth F x the real units (0.5 = +50%)', '0')
    .option('--offline-after-ms <ms>', 'misbehave: stop answering after MS milliseconds')
    .option('--equivocate', 'misbehave: sign two different commitments per epoch', false)
    .option(
      '--guardian <url>',
      'a guardian to send signed commitments to for attestation (repeatable; without any, no commitment counts)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    );
}

const numeric = (what: string, schema: z.ZodNumber) =>
  z.string().transform((value, ctx) => {
    const n = Number(value);
    const parsed = schema.safeParse(n);
    if (value.trim() === '' || !parsed.success) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} must be ${schema.description ?? 'a valid number'}, got "${value}"`,
      });
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
  guardian: z.array(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
});

/** Parses argv into EdgeNode options; throws UsageError naming the bad flag. `null` when the help was printed. */
export function parseEdgeNodeArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): (EdgeNodeOptions & { rpcUrl?: string }) | null {
  const command = edgeNodeCommand();
  if (!parseCommandLine(command, argv)) return null;
  const values = command.opts<Record<string, string | string[] | boolean | undefined>>();
  const parsed = argsSchema.safeParse({
    ...values,
    nodeKey: values.nodeKey ?? env.EDGE_NODE_KEY,
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
  if (
    genesisTime === undefined ||
    epochDurationSeconds === undefined ||
    chainId === undefined ||
    staking === undefined
  ) {
    throw new UsageError(
      'give --address-book, or all of --genesis-time, --epoch-duration, --chain-id and --node-staking',
    );
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
    guardianUrls: a.guardian,
    rpcUrl: a.rpcUrl,
  };
  if (a.rpcUrl && registry) {
    options.keys = didRegistryKeyDirectory(createPublicClient({ transport: http(a.rpcUrl) }), registry);
  }
  return options;
}
