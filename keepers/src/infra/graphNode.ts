/**
 * A local graph-node on the real engine: `gnd dev` (graph-node's dev build, npm
 * `@graphprotocol/gnd-linux-x64`) indexing the protocol subgraph from a chain's RPC.
 *
 * startGraphNode: Postgres cluster in `<dataDir>/pg` (initdb on first use, run as an unprivileged user,
 * a fresh graph-node database each start since a devnet chain starts over), the IPFS version probe
 * graph-node waits for, manifest from the address book + codegen + build (cached), then `gnd dev` on the
 * built subgraph; resolves once GraphQL answers. stop() sends SIGINT to gnd (it ignores SIGTERM), stops
 * Postgres and closes the probe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { freePort } from '../dev/anvil.js';
import { repoRoot } from '../dev/foundry.js';
import { log } from './log.js';
import { buildCached } from '../../../subgraph/scripts/build.js';
import { generateManifest } from '../../../subgraph/scripts/manifest.js';
import { subgraphDir } from '../../../subgraph/scripts/sources.js';
import { startIpfsProbe, type IpfsProbe } from './ipfsProbe.js';
import { startPostgres, type PostgresHandle } from './postgres.js';
import { SendnetError } from '../core/errors.js';

export interface GraphNodeOptions {
  /** JSON-RPC endpoint of the chain to index. */
  rpcUrl: string;
  /** graph-node network name written into the manifest (default from the chain id: 31337 → devnet). */
  network?: string;
  /** Address book written by the deploy script. */
  addressBookPath: string;
  /** Folder for Postgres, the generated manifest and gnd's log. */
  dataDir: string;
  /** GraphQL HTTP port (default 8000). */
  httpPort?: number;
  /** How long to wait for GraphQL to answer (default 10 min: a first build compiles the mappings). */
  startTimeoutMs?: number;
}

export interface GraphNodeHandle {
  /** `http://127.0.0.1:<httpPort>/subgraphs/name/subgraph-0` */
  readonly graphqlUrl: string;
  /** Where gnd's output goes. */
  readonly logPath: string;
  stop(): Promise<void>;
}

export class GraphNodeError extends SendnetError {
  override name = 'GraphNodeError';
  override readonly code = 'graph-node';
}

/** The name gnd dev deploys its first manifest under. */
export const SUBGRAPH_NAME = 'subgraph-0';

const graphqlResponse = z.object({
  data: z.unknown().optional(),
  errors: z.array(z.object({ message: z.string() })).optional(),
});

/** POSTs a GraphQL query; returns `data` or throws with the server's first error message. */
export async function graphql<T = unknown>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: z.infer<typeof graphqlResponse>;
  try {
    body = graphqlResponse.parse(JSON.parse(text));
  } catch {
    throw new GraphNodeError(
      `GraphQL ${url} answered ${response.status} with something that is not a GraphQL response: ${text.slice(0, 300)}`,
    );
  }
  if (body.errors?.length) throw new GraphNodeError(`GraphQL error: ${body.errors[0]!.message}`);
  if (!response.ok) throw new GraphNodeError(`GraphQL ${url} answered ${response.status}`);
  return body.data as T;
}

function gndBinary(): string {
  const path = join(repoRoot, 'node_modules', '.bin', 'gnd');
  if (!existsSync(path))
    throw new GraphNodeError(`gnd not found at ${path}: run \`npm ci\` (package @graphprotocol/gnd-linux-x64)`);
  return path;
}

async function waitForGraphql(url: string, child: ChildProcess, timeoutMs: number, logPath: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new GraphNodeError(
        `gnd dev exited (${child.exitCode ?? child.signalCode}) before GraphQL answered; see ${logPath}`,
      );
    }
    try {
      await graphql(url, '{ _meta { block { number } } }');
      return;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new GraphNodeError(
        `GraphQL at ${url} did not answer within ${timeoutMs / 1000} s (last: ${last}); see ${logPath}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startGraphNode(options: GraphNodeOptions): Promise<GraphNodeHandle> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const httpPort = options.httpPort ?? 8000;
  const logPath = join(dataDir, 'gnd.log');
  const gnd = gndBinary();

  // manifest + build first: a compile error should not leave Postgres running. graph-cli needs the
  // manifest under the repository (it looks for node_modules above it): one folder per data folder, and
  // the file is named subgraph.yaml like the built one, since gnd dev looks for <build dir>/<file name>.
  const { path: manifestPath, network } = generateManifest({
    addressBookPath: options.addressBookPath,
    network: options.network,
    outPath: join(
      subgraphDir,
      '.manifests',
      createHash('sha256').update(dataDir).digest('hex').slice(0, 12),
      'subgraph.yaml',
    ),
  });
  const started = Date.now();
  const { builtManifest, rebuilt } = await buildCached(manifestPath);
  log.info({ builtManifest, rebuilt, ms: Date.now() - started }, 'subgraph built');

  let pg: PostgresHandle | undefined;
  let probe: IpfsProbe | undefined;
  let child: ChildProcess | undefined;
  const cleanup = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child!.once('exit', () => r()));
      child.kill('SIGINT');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await probe?.close();
    await pg?.stop();
    rmSync(dirname(manifestPath), { recursive: true, force: true });
  };
  try {
    pg = await startPostgres({ dataDir, database: 'graph-node', resetDatabase: true });
    probe = await startIpfsProbe();
    const [indexPort, adminPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    const args = [
      'dev',
      // the source manifest and its build folder (relative to the manifest)
      '--manifests',
      `${manifestPath}:${relative(dirname(manifestPath), dirname(builtManifest))}`,
      '--database-dir',
      join(dataDir, 'gnd'),
      '--postgres-url',
      pg.url,
      '--ethereum-rpc',
      `${network}:${options.rpcUrl}`,
      '--ipfs',
      probe.url,
      '--http-port',
      String(httpPort),
      '--index-node-port',
      String(indexPort),
      '--admin-port',
      String(adminPort),
      '--metrics-port',
      String(metricsPort),
    ];
    const out = createWriteStream(logPath, { flags: 'a' });
    child = spawn(gnd, args, {
      cwd: dataDir,
      env: {
        ...process.env,
        GRAPH_LOG: process.env.GRAPH_LOG ?? 'info',
        // a devnet mines on demand: poll the head often so new blocks are indexed within a second
        ETHEREUM_POLLING_INTERVAL: process.env.ETHEREUM_POLLING_INTERVAL ?? '200',
        PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    const graphqlUrl = `http://127.0.0.1:${httpPort}/subgraphs/name/${SUBGRAPH_NAME}`;
    await waitForGraphql(graphqlUrl, child, options.startTimeoutMs ?? 600_000, logPath);
    log.info({ graphqlUrl, network, logPath }, 'graph-node (gnd dev) serving');
    return { graphqlUrl, logPath, stop: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
