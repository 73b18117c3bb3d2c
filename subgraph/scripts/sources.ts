/**
 * What the subgraph indexes: one data source per address-book contract, its ABI (from the forge build),
 * its mapping file, and per-event options (topic filters). Every event of every ABI gets the handler
 * `handle<EventName>`, which the manifest generator checks exists in the mapping file, so a contract
 * change that adds an event fails the build until the event is indexed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SendnetError } from '../../keepers/src/core/errors.js';

export const subgraphDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(subgraphDir, '..');

/** Address-book keys of contracts that have data sources (DidUniversalResolver emits no events). */
export type BookContract =
  | 'SendToken'
  | 'NodeStaking'
  | 'EpochSettlement'
  | 'WatchDogLicense'
  | 'WatchDogPresale'
  | 'LicenseRewards'
  | 'PaymentToken'
  | 'DidRegistry'
  | 'SwapSettlement'
  | 'TestnetPoints'
  | 'PointsConversion';

/** Address-book keys present only in a points deployment (docs/points.md): their data sources are optional. */
export const POINTS_CONTRACTS: readonly BookContract[] = ['TestnetPoints', 'PointsConversion'];

export interface AbiSource {
  /** ABI name in the manifest and file name under subgraph/abis. */
  name: string;
  /** forge artifact: out/<file>/<contract>.json */
  artifact: string;
  /**
   * Keep only these view functions, with static tuple outputs flattened into their fields. A static
   * tuple encodes exactly like its fields in sequence, so the selector and the bytes on the wire are the
   * same; graph-node's `gnd test` (0.45) cannot encode tuple types in its eth_call mocks.
   */
  flattenViews?: string[];
}

/** ABIs extracted from the forge build into subgraph/abis/<name>.json. */
export const ABIS: AbiSource[] = [
  { name: 'SendToken', artifact: 'SendToken.sol/SendToken.json' },
  { name: 'NodeStaking', artifact: 'NodeStaking.sol/NodeStaking.json' },
  { name: 'EpochSettlement', artifact: 'EpochSettlement.sol/EpochSettlement.json' },
  { name: 'WatchDogLicense', artifact: 'WatchDogLicense.sol/WatchDogLicense.json' },
  { name: 'WatchDogPresale', artifact: 'WatchDogPresale.sol/WatchDogPresale.json' },
  {
    name: 'WatchDogPresaleView',
    artifact: 'WatchDogPresale.sol/WatchDogPresale.json',
    flattenViews: ['supply', 'tierCount', 'tier'],
  },
  { name: 'LicenseRewards', artifact: 'LicenseRewards.sol/LicenseRewards.json' },
  { name: 'DidRegistry', artifact: 'DidRegistry.sol/DidRegistry.json' },
  { name: 'SwapSettlement', artifact: 'SwapSettlement.sol/SwapSettlement.json' },
  // the presale's stablecoin: any ERC-20 (USDC on a public chain), so the standard interface
  { name: 'ERC20', artifact: 'IERC20.sol/IERC20.json' },
  // points mode only (docs/points.md)
  { name: 'TestnetPoints', artifact: 'TestnetPoints.sol/TestnetPoints.json' },
  { name: 'PointsConversion', artifact: 'PointsConversion.sol/PointsConversion.json' },
];

/** An event handler filter: only logs whose indexed topic N is one of these address-book contracts. */
export interface TopicFilter {
  topic: 'topic1' | 'topic2' | 'topic3';
  contract: BookContract;
}

export interface DataSourceSpec {
  /** Data-source name (also the folder of its generated types). */
  name: string;
  contract: BookContract;
  abi: string;
  /** Mapping file under subgraph/src. */
  mapping: string;
  /** Index only these events of the ABI (default: all). */
  events?: string[];
  /** Per-event topic filters (graph-node specVersion ≥ 1.2). */
  filters?: Record<string, TopicFilter[]>;
  /** Address-book contracts passed in the data-source context as `<name>` (Bytes). */
  context?: BookContract[];
  /** Further ABIs the mapping binds to for eth_calls. */
  extraAbis?: string[];
}

export const DATA_SOURCES: DataSourceSpec[] = [
  {
    name: 'SendToken',
    contract: 'SendToken',
    abi: 'SendToken',
    mapping: 'sendToken.ts',
    // reward claims are the SEND transfers out of the settlement escrow; other transfers are not indexed
    filters: { Transfer: [{ topic: 'topic1', contract: 'EpochSettlement' }] },
    context: ['EpochSettlement'],
  },
  { name: 'NodeStaking', contract: 'NodeStaking', abi: 'NodeStaking', mapping: 'nodeStaking.ts' },
  { name: 'EpochSettlement', contract: 'EpochSettlement', abi: 'EpochSettlement', mapping: 'epochSettlement.ts' },
  { name: 'WatchDogLicense', contract: 'WatchDogLicense', abi: 'WatchDogLicense', mapping: 'watchDogLicense.ts' },
  {
    name: 'WatchDogPresale',
    contract: 'WatchDogPresale',
    abi: 'WatchDogPresale',
    mapping: 'watchDogPresale.ts',
    extraAbis: ['WatchDogPresaleView'],
  },
  { name: 'LicenseRewards', contract: 'LicenseRewards', abi: 'LicenseRewards', mapping: 'licenseRewards.ts' },
  { name: 'DidRegistry', contract: 'DidRegistry', abi: 'DidRegistry', mapping: 'didRegistry.ts' },
  { name: 'SwapSettlement', contract: 'SwapSettlement', abi: 'SwapSettlement', mapping: 'swapSettlement.ts' },
  // the stablecoin is a third-party token: only its transfers and approvals that involve the presale
  {
    name: 'PaymentTokenIn',
    contract: 'PaymentToken',
    abi: 'ERC20',
    mapping: 'paymentToken.ts',
    filters: {
      Transfer: [{ topic: 'topic2', contract: 'WatchDogPresale' }],
      Approval: [{ topic: 'topic2', contract: 'WatchDogPresale' }],
    },
    context: ['WatchDogPresale'],
  },
  {
    name: 'PaymentTokenOut',
    contract: 'PaymentToken',
    abi: 'ERC20',
    mapping: 'paymentToken.ts',
    events: ['Transfer'],
    filters: { Transfer: [{ topic: 'topic1', contract: 'WatchDogPresale' }] },
    context: ['WatchDogPresale'],
  },
  // points mode only (absent from a token deployment's address book, so no data source there): reward
  // claims pay points, the TestnetPoints transfers out of the settlement escrow
  {
    name: 'TestnetPoints',
    contract: 'TestnetPoints',
    abi: 'TestnetPoints',
    mapping: 'testnetPoints.ts',
    events: ['Transfer'],
    filters: { Transfer: [{ topic: 'topic1', contract: 'EpochSettlement' }] },
    context: ['EpochSettlement'],
  },
  { name: 'PointsConversion', contract: 'PointsConversion', abi: 'PointsConversion', mapping: 'pointsConversion.ts' },
];

const abiParam: z.ZodType<AbiParam> = z.lazy(() =>
  z.looseObject({
    name: z.string(),
    type: z.string(),
    indexed: z.boolean().optional(),
    components: z.array(abiParam).optional(),
  }),
);
interface AbiParam {
  name: string;
  type: string;
  indexed?: boolean;
  components?: AbiParam[];
}
// passthrough: the ABI is written back whole (outputs, stateMutability, … are needed for contract bindings)
const abiItem = z.looseObject({ type: z.string(), name: z.string().optional(), inputs: z.array(abiParam).optional() });
const abiSchema = z.array(abiItem);
export type Abi = z.infer<typeof abiSchema>;

export class SubgraphSourceError extends SendnetError {
  override name = 'SubgraphSourceError';
  override readonly code = 'subgraph-source';
}

/** The forge build directory: `$FOUNDRY_OUT` or `out/`. */
function foundryOut(): string {
  const dir = process.env.FOUNDRY_OUT ?? 'out';
  return resolve(repoRoot, dir);
}

/** Reads the ABI of `source` from the forge build. */
export function readForgeAbi(source: AbiSource): Abi {
  const path = join(foundryOut(), source.artifact);
  if (!existsSync(path))
    throw new SubgraphSourceError(
      `forge artifact ${path} is missing: build the contracts first (npm run build:contracts)`,
    );
  const parsed = abiSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')).abi);
  if (!parsed.success) throw new SubgraphSourceError(`${path}: "abi" is not an ABI array`);
  return parsed.data;
}

function isStatic(param: AbiParam): boolean {
  if (param.type.endsWith(']') || param.type === 'bytes' || param.type === 'string') return false;
  if (param.type === 'tuple') return (param.components ?? []).every(isStatic);
  return true;
}

function flatten(params: AbiParam[]): AbiParam[] {
  return params.flatMap((p) => (p.type === 'tuple' && isStatic(p) ? flatten(p.components ?? []) : [p]));
}

/** The named view functions of `abi`, static tuple outputs flattened (see AbiSource.flattenViews). */
export function flattenedViews(abi: Abi, names: string[]): Abi {
  const views = abi.filter((item) => item.type === 'function' && names.includes(item.name ?? ''));
  const missing = names.filter((n) => !views.some((v) => v.name === n));
  if (missing.length) throw new SubgraphSourceError(`ABI has no view function(s) ${missing.join(', ')}`);
  return views.map((item) => ({ ...item, outputs: flatten((item.outputs ?? []) as AbiParam[]) }));
}

/** Writes subgraph/abis/<name>.json for every ABI; returns them by name. */
export function extractAbis(outDir = join(subgraphDir, 'abis')): Map<string, Abi> {
  mkdirSync(outDir, { recursive: true });
  const abis = new Map<string, Abi>();
  for (const source of ABIS) {
    const full = readForgeAbi(source);
    const abi = source.flattenViews ? flattenedViews(full, source.flattenViews) : full;
    writeFileSync(join(outDir, `${source.name}.json`), `${JSON.stringify(abi, null, 2)}\n`);
    abis.set(source.name, abi);
  }
  return abis;
}

/** Canonical type of a parameter as graph-node writes it in event signatures (tuples expanded). */
function canonicalType(param: AbiParam): string {
  if (param.type.startsWith('tuple')) {
    const suffix = param.type.slice('tuple'.length);
    return `(${(param.components ?? []).map(canonicalType).join(',')})${suffix}`;
  }
  return param.type;
}

/** `Name(indexed address,uint96,…)`: the manifest's event signature. */
export function eventSignature(event: { name?: string; inputs?: AbiParam[] }): string {
  const params = (event.inputs ?? []).map((p) => `${p.indexed ? 'indexed ' : ''}${canonicalType(p)}`);
  return `${event.name}(${params.join(',')})`;
}

export function abiEvents(abi: Abi): { name: string; signature: string }[] {
  return abi
    .filter((item) => item.type === 'event')
    .map((item) => ({ name: item.name as string, signature: eventSignature(item) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
