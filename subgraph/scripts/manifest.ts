/**
 * Generates the subgraph manifest from an address book (`deployments/<chainId>.json`, written by the deploy
 * script), so the same subgraph deploys to a local chain, a testnet or mainnet without hand edits:
 * addresses and `startBlock` come from the book, the network name from an option (default by chain id).
 * Also extracts the ABIs from the forge build into subgraph/abis.
 *
 *   tsx subgraph/scripts/manifest.ts [--address-book deployments/31337.json] [--network devnet]
 *                                    [--out subgraph/subgraph.yaml] [--start-block N]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { getAddress } from 'viem';
import { loadAddressBook, type AddressBook } from '../../keepers/src/chain/addressBook.js';
import { toYaml } from './yaml.js';
import {
  DATA_SOURCES,
  POINTS_CONTRACTS,
  SubgraphSourceError,
  abiEvents,
  extractAbis,
  subgraphDir,
  type Abi,
  type BookContract,
} from './sources.js';

/** Network names graph-node and The Graph use for known chain ids; anything else needs --network. */
const NETWORKS: Record<number, string> = {
  1: 'mainnet',
  10: 'optimism',
  56: 'bsc',
  100: 'gnosis',
  137: 'matic',
  8453: 'base',
  42161: 'arbitrum-one',
  84532: 'base-sepolia',
  421614: 'arbitrum-sepolia',
  11155111: 'sepolia',
  31337: 'devnet',
};

export const SPEC_VERSION = '1.3.0';
export const API_VERSION = '0.0.9';
const ZERO = '0x0000000000000000000000000000000000000000';

export interface ManifestOptions {
  addressBookPath: string;
  /** graph-node network name (default from the chain id). */
  network?: string;
  /** Where to write the manifest (default subgraph/subgraph.yaml); file paths in it are relative to it. */
  outPath?: string;
  /** Overrides the book's startBlock. */
  startBlock?: number;
}

export function networkFor(chainId: number): string {
  const name = NETWORKS[chainId];
  if (!name)
    throw new SubgraphSourceError(
      `no network name known for chain id ${chainId}: pass --network <graph-node network name>`,
    );
  return name;
}

function handlersIn(mappingPath: string): Set<string> {
  const source = readFileSync(mappingPath, 'utf8');
  return new Set([...source.matchAll(/export function (handle\w+)\s*\(/g)].map((m) => m[1]!));
}

/** Builds the manifest object for `book`. `paths` turns a subgraph-relative path into a manifest-relative one. */
export function buildManifest(
  book: AddressBook,
  abis: Map<string, Abi>,
  network: string,
  startBlock: number,
  paths: (p: string) => string,
) {
  const address = (contract: BookContract) => {
    const value = book.contracts[contract];
    if (!value) throw new SubgraphSourceError(`the address book names no ${contract} contract`);
    return getAddress(value);
  };
  // points mode (docs/points.md): the book names the points contracts; every data source then tells its
  // mapping so (context `rewardUnit`), and a token deployment's manifest stays exactly as it was
  const pointsMode = POINTS_CONTRACTS.every((name) => book.contracts[name] !== undefined);
  if (!pointsMode && POINTS_CONTRACTS.some((name) => book.contracts[name] !== undefined))
    throw new SubgraphSourceError(`a points deployment's address book names both ${POINTS_CONTRACTS.join(' and ')}`);
  const dataSources = [];
  const reexports = new Map<string, string[]>(); // mapping module → export clauses
  for (const spec of DATA_SOURCES) {
    if (POINTS_CONTRACTS.includes(spec.contract) && !pointsMode) continue;
    const contractAddress = address(spec.contract);
    if (contractAddress === ZERO) continue; // e.g. no stablecoin configured
    const abi = abis.get(spec.abi);
    if (!abi) throw new SubgraphSourceError(`ABI ${spec.abi} was not extracted`);
    const mappingPath = join(subgraphDir, 'src', spec.mapping);
    const handlers = handlersIn(mappingPath);
    const events = abiEvents(abi).filter((e) => !spec.events || spec.events.includes(e.name));
    const module = spec.mapping.replace(/\.ts$/, '');
    const clauses = reexports.get(module) ?? [];
    reexports.set(module, clauses);
    const eventHandlers = events.map((event) => {
      const local = `handle${event.name}`;
      if (!handlers.has(local)) {
        throw new SubgraphSourceError(
          `${spec.mapping} has no ${local}: every event of ${spec.abi} must be indexed (${event.signature})`,
        );
      }
      const handler = exportedHandler(spec.mapping, event.name);
      const clause = `${local} as ${handler}`;
      if (!clauses.includes(clause)) clauses.push(clause);
      const entry: Record<string, unknown> = { event: event.signature, handler };
      for (const filter of spec.filters?.[event.name] ?? [])
        entry[filter.topic] = [address(filter.contract).toLowerCase()];
      return entry;
    });
    const context: Record<string, { type: string; data: string }> = {
      contractName: { type: 'String', data: spec.contract },
    };
    for (const name of spec.context ?? []) context[name] = { type: 'Bytes', data: address(name).toLowerCase() };
    if (pointsMode) context.rewardUnit = { type: 'String', data: 'points' };
    dataSources.push({
      kind: 'ethereum',
      name: spec.name,
      network,
      context,
      source: { address: contractAddress.toLowerCase(), abi: spec.abi, startBlock },
      mapping: {
        kind: 'ethereum/events',
        apiVersion: API_VERSION,
        language: 'wasm/assemblyscript',
        file: paths(`src/${MAPPING_ENTRY}`),
        entities: ['Protocol'],
        abis: [spec.abi, ...(spec.extraAbis ?? [])].map((name) => ({ name, file: paths(`abis/${name}.json`) })),
        eventHandlers,
      },
    });
  }
  const entry = [...reexports].map(([module, clauses]) => `export { ${clauses.join(', ')} } from './${module}';`);
  const manifest = {
    specVersion: SPEC_VERSION,
    description: `SendingNetwork protocol (chain ${book.chainId}, ${network})`,
    // keep every block's history: rankings support time-travel queries (block: {number: N})
    indexerHints: { prune: 'never' },
    schema: { file: paths('schema.graphql') },
    dataSources,
  };
  return { manifest, entry: `${MAPPING_HEADER}${entry.join('\n')}\n` };
}

/**
 * Every data source uses one entry module (src/mapping.ts, generated) that re-exports each contract
 * module's `handle<Event>` as `handle<Module><Event>`, so the AssemblyScript is compiled once, not once
 * per data source.
 */
export const MAPPING_ENTRY = 'mapping.ts';
const MAPPING_HEADER =
  '// Generated by subgraph/scripts/manifest.ts: the single entry of every data source. Do not edit.\n';

export function exportedHandler(mapping: string, event: string): string {
  const module = mapping.replace(/\.ts$/, '');
  return `handle${module[0]!.toUpperCase()}${module.slice(1)}${event}`;
}

/** Leaves the file (and its mtime) alone when the content is the same: concurrent runs write identical text. */
function writeIfChanged(path: string, content: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return;
  writeFileSync(path, content);
}

/** Extracts the ABIs and writes the manifest; returns its path. */
export function writeManifest(options: ManifestOptions): string {
  return generateManifest(options).path;
}

export interface HandlerRef {
  dataSource: string;
  address: string;
  event: string;
  handler: string;
}

/** Writes the manifest (and the mapping entry); returns its path and every event handler it declares. */
export function generateManifest(options: ManifestOptions): { path: string; network: string; handlers: HandlerRef[] } {
  const book = loadAddressBook(resolve(options.addressBookPath));
  const network = options.network ?? networkFor(book.chainId);
  const outPath = resolve(options.outPath ?? join(subgraphDir, 'subgraph.yaml'));
  const startBlock = options.startBlock ?? book.startBlock;
  const abis = extractAbis();
  const outDir = dirname(outPath);
  const paths = (p: string) => {
    const rel = relative(outDir, join(subgraphDir, p));
    return rel.startsWith('.') ? rel : `./${rel}`;
  };
  const { manifest, entry } = buildManifest(book, abis, network, startBlock, paths);
  writeIfChanged(join(subgraphDir, 'src', MAPPING_ENTRY), entry);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    outPath,
    `# Generated by subgraph/scripts/manifest.ts from an address book (chain ${book.chainId}): do not edit.\n${toYaml(manifest)}`,
  );
  const handlers = manifest.dataSources.flatMap((ds) =>
    ds.mapping.eventHandlers.map((h) => ({
      dataSource: ds.name,
      address: ds.source.address,
      event: String(h.event).split('(')[0]!,
      handler: String(h.handler),
    })),
  );
  return { path: outPath, network, handlers };
}

const USAGE = `usage: tsx subgraph/scripts/manifest.ts [--address-book FILE] [--network NAME] [--out FILE] [--start-block N]
  --address-book FILE  address book written by the deploy script (default deployments/31337.json)
  --network NAME       graph-node network name (default from the chain id: 31337 → devnet, 1 → mainnet, …)
  --out FILE           manifest to write (default subgraph/subgraph.yaml)
  --start-block N      first block to index (default the book's startBlock)`;

function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'address-book': { type: 'string', default: process.env.ADDRESS_BOOK ?? 'deployments/31337.json' },
        network: { type: 'string' },
        out: { type: 'string' },
        'start-block': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    console.error(`manifest: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) return console.log(USAGE);
  const bookPath = resolve(values['address-book']);
  if (!existsSync(bookPath)) {
    console.error(`manifest: address book ${bookPath} not found: deploy first (npm run devnet) or pass --address-book`);
    process.exit(2);
  }
  let startBlock: number | undefined;
  if (values['start-block'] !== undefined) {
    startBlock = Number(values['start-block']);
    if (!Number.isInteger(startBlock) || startBlock < 0) {
      console.error(`manifest: --start-block must be a non-negative integer, got "${values['start-block']}"`);
      process.exit(2);
    }
  }
  try {
    const out = writeManifest({ addressBookPath: bookPath, network: values.network, outPath: values.out, startBlock });
    console.log(`manifest: wrote ${relative(process.cwd(), out)}`);
  } catch (error) {
    console.error(`manifest: ${(error as Error).message}`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
