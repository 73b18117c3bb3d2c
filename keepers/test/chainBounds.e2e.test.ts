/**
 * Chain strings cannot halt settlement (issue 11, finding 5), on a real chain (anvil, 1 s blocks, the devnet
 * deployment), a real Redis, seven real guardian services and an in-process keeper:
 * 1. every bound of a chain-derived field that the keeper and the guardians parse strictly (the epoch
 *    dataset, the WatchDog view) admits everything the chain can hold, pinned against the deployed
 *    contracts: the endpoint bound equals `NodeStaking.MAX_ENDPOINT_BYTES` and admits every decoded string
 *    of that many bytes (invalid UTF-8 included: zod counts UTF-16 units, the chain UTF-8 bytes), and each
 *    number field admits the largest value its Solidity type (or the contract's own check) allows;
 * 2. nodes registered with the longest endpoints the chain accepts — ASCII, multi-byte (2-, 3- and 4-byte
 *    characters), raw bytes that are not UTF-8 (with a NUL) — and one whose endpoint is not a URL are in
 *    the next epoch's dataset exactly as emitted; the dataset parses, the keeper's score stage completes,
 *    the guardians sign and the epoch is submitted; the odd nodes are only unreachable.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  bytesToHex,
  concat,
  createPublicClient,
  createWalletClient,
  decodeAbiParameters,
  encodeAbiParameters,
  http,
  stringToHex,
  toFunctionSelector,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { pino } from 'pino';
import { freePort, startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../src/devnet/devAccounts.js';
import { forgeScratchDir } from '../src/dev/foundry.js';
import type { AddressBook } from '../src/chain/addressBook.js';
import { DEVNET_CONSENSUS } from '../src/core/consensus.js';
import { canonicalJson, keccakUtf8 } from '../src/core/canonicalJson.js';
import { nodeStakingDomain, signNodeKeyConsent } from '../src/core/commitment.js';
import { MAX_ENDPOINT_BYTES, MAX_METADATA_URI_BYTES, utf8Length } from '../src/core/chainBounds.js';
import {
  cumulativeWire,
  datasetKeyWire,
  datasetNodeWire,
  datasetParametersWire,
  epochDatasetSchema,
  licenseCumulativeWire,
  parseEpochDataset,
  watchdogCommitWire,
} from '../src/core/datasetSchema.js';
import { epochWatchdogsResponseSchema } from '../src/core/watchdogApi.js';
import {
  didRegistryAbi,
  epochSettlementAbi,
  licenseRewardsAbi,
  nodeStakingAbi,
  sendTokenAbi,
  watchDogLicenseAbi,
} from '../src/generated/contracts.js';
import { ensureRedis, type RedisHandle } from '../src/infra/redis.js';
import { Keeper } from '../src/keeper/keeper.js';
import { GuardianService } from '../src/guardian/guardian.js';

const quiet = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const TIMING = {
  openingsWindowSeconds: 4,
  transcriptGraceSeconds: 1,
  requestTimeoutMs: 1000,
  schedulerIntervalMs: 500,
  commitmentFetches: 2,
};

let anvil: AnvilHandle;
let book: AddressBook;
let bookPath: string;
let client: PublicClient;
let redis: RedisHandle;
let keeperPort: number;
let tmp: string;
let guardians: GuardianService[] = [];
let guardianUrls: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

const UINT = (bits: number) => ((1n << BigInt(bits)) - 1n).toString();

/** The Solidity type of output `index` (or of the tuple component `component`) of `name` in `abi`. */
function outputType(abi: Abi, name: string, index = 0, component?: string): string {
  const fn = abi.find((x) => x.type === 'function' && x.name === name);
  assert.ok(fn && fn.type === 'function', `${name} is in the ABI`);
  const output = fn.outputs[index]!;
  if (component === undefined) return output.type;
  const c = (output as { components?: readonly { name?: string; type: string }[] }).components?.find(
    (x) => x.name === component,
  );
  assert.ok(c, `${name}.${component} is in the ABI`);
  return c.type;
}

const accepts = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) =>
  schema.safeParse(value).success;

/**
 * Registers `nodeKey` with `endpoint` as raw bytes: `register(address,uint96,bytes,string,string)` encoded
 * with `bytes` for the strings (the same ABI encoding), so the endpoint need not be valid UTF-8.
 */
async function registerRaw(nodePrivateKey: Hex, endpoint: Hex): Promise<Address> {
  const operator = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account: devAccount(1) });
  const staking = book.contracts.NodeStaking;
  const nodeKey = privateKeyToAccount(nodePrivateKey).address;
  const minStake = await client.readContract({ address: staking, abi: nodeStakingAbi, functionName: 'minStake' });
  const approve = await operator.writeContract({
    address: book.contracts.SendToken,
    abi: sendTokenAbi,
    functionName: 'approve',
    args: [staking, minStake],
  });
  await client.waitForTransactionReceipt({ hash: approve });
  const consent = await signNodeKeyConsent(
    nodePrivateKey,
    nodeStakingDomain(book.chainId, staking),
    devAccount(1).address,
  );
  const data = concat([
    toFunctionSelector('register(address,uint96,bytes,string,string)'),
    encodeAbiParameters(
      [{ type: 'address' }, { type: 'uint96' }, { type: 'bytes' }, { type: 'bytes' }, { type: 'bytes' }],
      [nodeKey, minStake, consent, endpoint, '0x'],
    ),
  ]);
  const hash = await operator.sendTransaction({ to: staking, data });
  assert.equal((await client.waitForTransactionReceipt({ hash })).status, 'success', `register ${endpoint}`);
  return nodeKey.toLowerCase() as Address;
}

/** `bytes` decoded the way viem decodes an event's `string` (TextDecoder, invalid sequences → U+FFFD). */
const decodeAsString = (bytes: Hex): string =>
  decodeAbiParameters([{ type: 'string' }], encodeAbiParameters([{ type: 'bytes' }], [bytes]))[0];

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'chain-bounds-'));
  anvil = await startAnvil({ blockTime: 1 });
  bookPath = join(forgeScratchDir('book'), 'addresses.json');
  ({ book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0), addressBookPath: bookPath }));
  client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) }) as PublicClient;
});

after(async () => {
  await Promise.all(guardians.map((g) => g.stop()));
  await redis?.stop();
  await anvil?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (bookPath) rmSync(bookPath, { force: true });
});

test('every chain-derived bound the keeper and guardians parse strictly admits what the chain can hold', async () => {
  const read = <T>(address: Address, abi: Abi, functionName: string, args: unknown[] = []) =>
    client.readContract({ address, abi, functionName, args }) as Promise<T>;
  const { NodeStaking: staking, EpochSettlement: settlement, LicenseRewards: licenseRewards } = book.contracts;

  // endpoint: the schema's bound is the chain's (equal, so a change on either side fails here)
  assert.equal(await read<bigint>(staking, nodeStakingAbi, 'MAX_ENDPOINT_BYTES'), BigInt(MAX_ENDPOINT_BYTES));
  assert.equal(await read<bigint>(staking, nodeStakingAbi, 'MAX_METADATA_URI_BYTES'), BigInt(MAX_METADATA_URI_BYTES));
  const endpoint = datasetNodeWire.shape.endpoint;
  assert.ok(accepts(endpoint, 'w'.repeat(MAX_ENDPOINT_BYTES)));
  assert.ok(!accepts(endpoint, 'w'.repeat(MAX_ENDPOINT_BYTES + 1)), 'the bound is exactly the chain bound');
  // every byte string the chain accepts, decoded as readers decode it, passes (UTF-16 units ≤ UTF-8 bytes)
  const samples: Hex[] = [
    bytesToHex(new Uint8Array(MAX_ENDPOINT_BYTES).fill(0xff)), // 256 invalid bytes: 256 × U+FFFD (768 UTF-8 bytes)
    bytesToHex(new Uint8Array(MAX_ENDPOINT_BYTES).fill(0)), // NULs
    stringToHex('😀'.repeat(MAX_ENDPOINT_BYTES / 4)), // 4-byte characters: 2 UTF-16 units each
    stringToHex(`ws://${'€'.repeat(83)}ab`), // 3-byte characters
  ];
  for (let i = 0; i < 500; i++) samples.push(bytesToHex(randomBytes(1 + (i % MAX_ENDPOINT_BYTES))));
  for (const bytes of samples) {
    assert.ok((bytes.length - 2) / 2 <= MAX_ENDPOINT_BYTES);
    const decoded = decodeAsString(bytes);
    assert.ok(accepts(endpoint, decoded), `decoded ${bytes.slice(0, 40)}… (${decoded.length} UTF-16 units) passes`);
  }
  assert.equal(utf8Length(decodeAsString(samples[0]!)), 3 * MAX_ENDPOINT_BYTES, 'why readers must not count UTF-8');
  // the WatchDog view carries the same nodes with the same bound
  assert.ok(
    accepts(epochWatchdogsResponseSchema.shape.nodes, [
      { nodeKey: `0x${'11'.repeat(20)}`, operator: `0x${'22'.repeat(20)}`, stake: UINT(96), endpoint: 'é'.repeat(128) },
    ]),
  );

  // numbers: each field's Solidity type (pinned) and the largest value of that type accepted by the schema
  const pins: [string, string, { safeParse(v: unknown): { success: boolean } }, unknown][] = [
    [
      'NodeStaking.getNode().stake',
      outputType(nodeStakingAbi, 'getNode', 0, 'stake'),
      datasetNodeWire.shape.stake,
      UINT(96),
    ],
    [
      'NodeStaking.equivocationSlash',
      outputType(nodeStakingAbi, 'equivocationSlash'),
      datasetParametersWire.shape.equivocationSlash,
      UINT(96),
    ],
    [
      'EpochSettlement.emissionCap',
      outputType(epochSettlementAbi, 'emissionCap'),
      datasetParametersWire.shape.epochEmission,
      UINT(96),
    ],
    // LicenseRewards.epochEmission returns uint256 but is initialEpochEmission (uint96) halved: checked below
    [
      'LicenseRewards.initialEpochEmission',
      outputType(licenseRewardsAbi, 'initialEpochEmission'),
      datasetParametersWire.shape.licenseEmission,
      UINT(96),
    ],
    // every cumulative leaf ≤ the settlement's finalizedCumulative (uint96)
    [
      'EpochSettlement.settlementProgress().finalizedCumulative',
      outputType(epochSettlementAbi, 'settlementProgress', 0, 'finalizedCumulative'),
      cumulativeWire.shape.cumulative,
      UINT(96),
    ],
    ['DidRegistry.keyState().did', outputType(didRegistryAbi, 'keyState', 1), datasetKeyWire.shape.did, UINT(256)],
    [
      'WatchDogLicense.operatorOf(tokenId)',
      (watchDogLicenseAbi as Abi).flatMap((x) =>
        x.type === 'function' && x.name === 'operatorOf' ? [x.inputs[0]!.type] : [],
      )[0]!,
      watchdogCommitWire.shape.tokenId,
      UINT(256),
    ],
    ['license leaves tokenId', 'uint256', licenseCumulativeWire.shape.tokenId, UINT(256)],
    [
      'EpochSettlement.currentEpoch',
      outputType(epochSettlementAbi, 'currentEpoch'),
      epochDatasetSchema.shape.epoch,
      0xffffffff,
    ],
    [
      'EpochSettlement.guardianShareBps',
      outputType(epochSettlementAbi, 'guardianShareBps'),
      datasetParametersWire.shape.guardianShareBps,
      10_000,
    ],
  ];
  const expectedTypes = [
    'uint96',
    'uint96',
    'uint96',
    'uint96',
    'uint96',
    'uint256',
    'uint256',
    'uint256',
    'uint32',
    'uint16',
  ];
  pins.forEach(([what, type, schema, max], i) => {
    assert.equal(type, expectedTypes[i], `${what} is ${expectedTypes[i]}`);
    assert.ok(accepts(schema, max), `${what}: the schema accepts ${max}`);
  });
  // the contract's own checks behind the two values whose ABI type is wider than the schema
  const initial = await read<bigint>(licenseRewards, licenseRewardsAbi, 'initialEpochEmission');
  assert.ok((await read<bigint>(licenseRewards, licenseRewardsAbi, 'epochEmission', [0xffffffff])) <= initial);
  assert.ok((await read<number>(settlement, epochSettlementAbi, 'guardianShareBps')) <= 10_000);
  // epoch times (uint64 on-chain): this deployment's last uint32 epoch still ends within the schema's range
  const lastEnd = await read<bigint>(settlement, epochSettlementAbi, 'epochEnd', [0xffffffff]);
  assert.ok(accepts(epochDatasetSchema.shape.epochEnd, Number(lastEnd)), `epochEnd(2^32−1) = ${lastEnd} < 2^40`);
});

test('nodes with the longest, multi-byte, non-UTF-8 and non-URL endpoints: the dataset parses, the score stage completes, the epoch settles', {
  timeout: 300_000,
}, async () => {
  redis = await ensureRedis({ url: `redis://127.0.0.1:${await freePort()}`, dataDir: join(tmp, 'redis') });
  keeperPort = await freePort();
  const contracts = {
    staking: book.contracts.NodeStaking,
    settlement: book.contracts.EpochSettlement,
    didRegistry: book.contracts.DidRegistry,
    license: book.contracts.WatchDogLicense,
    licenseRewards: book.contracts.LicenseRewards,
  };
  guardians = [3, 4, 5, 6, 7, 8, 9].map(
    (i) =>
      new GuardianService({
        rpcUrl: anvil.rpcUrl,
        privateKey: devPrivateKey(i),
        chainId: book.chainId,
        contracts,
        consensus: DEVNET_CONSENSUS,
        dataDir: join(tmp, `guardian-${i}`),
        fromBlock: BigInt(book.startBlock),
        logger: quiet,
        // /sign: only the keeper (dev account 2), datasets only from its URL
        keepers: [devAccount(2).address],
        datasetOrigins: [`http://127.0.0.1:${keeperPort}`],
      }),
  );
  guardianUrls = await Promise.all(guardians.map((g) => g.start()));

  const ascii = `ws://127.0.0.1:1/${'a'.repeat(MAX_ENDPOINT_BYTES - 17)}`;
  const multibyte = `wss://${'é'.repeat(40)}${'€'.repeat(30)}${'😀'.repeat(20)}${'x'.repeat(MAX_ENDPOINT_BYTES - 6 - 80 - 90 - 80)}`;
  const raw = concat([
    stringToHex('ws://'),
    bytesToHex(new Uint8Array([0xff, 0x00, 0xc3, 0xed, 0xa0, 0x80, 0xf0, 0x9f])),
  ]);
  const notUtf8 = concat([raw, bytesToHex(new Uint8Array(MAX_ENDPOINT_BYTES - 13).fill(0xfe))]);
  const notUrl = 'my node, port 7000 (ask the operator)';
  assert.equal(utf8Length(ascii), MAX_ENDPOINT_BYTES);
  assert.equal(utf8Length(multibyte), MAX_ENDPOINT_BYTES);
  assert.equal((notUtf8.length - 2) / 2, MAX_ENDPOINT_BYTES);
  const registered = new Map<string, string>();
  for (const endpoint of [stringToHex(ascii), stringToHex(multibyte), notUtf8, stringToHex(notUrl)]) {
    const nodeKey = await registerRaw(generatePrivateKey(), endpoint);
    registered.set(nodeKey, decodeAsString(endpoint));
  }
  // one byte more is refused by the chain itself
  await assert.rejects(registerRaw(generatePrivateKey(), stringToHex(`${ascii}a`)), /EndpointTooLong|reverted/);

  const now = Number((await client.getBlock({ blockTag: 'latest' })).timestamp);
  const T = Math.floor((now - book.genesisTime) / book.epochDurationSeconds) + 2; // starts after the registrations
  const keeper = new Keeper({
    rpcUrl: anvil.rpcUrl,
    addressBook: book,
    privateKey: devPrivateKey(2),
    redisUrl: redis.url,
    guardianUrls,
    httpPort: keeperPort,
    dataDir: join(tmp, 'keeper'),
    timing: TIMING,
    lockDurationMs: 3000,
    log: quiet,
  });
  await keeper.start();
  try {
    const status = (e: number) =>
      client.readContract({
        address: book.contracts.EpochSettlement,
        abi: epochSettlementAbi,
        functionName: 'epochStatus',
        args: [e],
      });
    const started = Date.now();
    await waitFor(`epoch ${T} submitted`, async () => (await status(T)) !== 0, 150_000 + T * 20_000);
    console.log(`epoch ${T} submitted ${((Date.now() - started) / 1000).toFixed(1)} s after the keeper started`);
    const [submitted] = await client.getContractEvents({
      address: book.contracts.EpochSettlement,
      abi: epochSettlementAbi,
      eventName: 'EpochSubmitted',
      args: { epoch: T },
      fromBlock: 0n,
    });
    const dataHash = submitted!.args.header!.dataHash;
    const text = await (await fetch(`${keeper.httpUrl}/datasets/${dataHash}`)).text();
    assert.equal(keccakUtf8(text), dataHash);
    const dataset = parseEpochDataset(JSON.parse(text));
    assert.equal(canonicalJson(dataset), text, 'the published bytes are the canonical dataset');
    for (const [nodeKey, endpoint] of registered) {
      const node = dataset.nodes.find((n) => n.nodeKey === nodeKey);
      assert.ok(node, `node ${nodeKey} is in the dataset`);
      assert.equal(node.endpoint, endpoint, 'the endpoint exactly as the chain emitted it');
      assert.ok(!dataset.openings.some((o) => o.nodeKey === nodeKey), 'unreachable: no commitment, no openings entry');
    }
    assert.ok(
      dataset.nodes.some((n) => n.endpoint.includes('\uFFFD')),
      'the non-UTF-8 endpoint decoded lossily',
    );
    const pipeline = (await (await fetch(`${keeper.httpUrl}/epochs/${T}`)).json()) as {
      stages: Record<string, { job: string; done: boolean }>;
      deadLetters: unknown[];
    };
    assert.deepEqual(pipeline.stages.score, { job: 'completed', done: true });
    assert.deepEqual(pipeline.deadLetters, []);
    const score = await keeper.env.store.getStage(T, 'score');
    assert.equal(score?.dataHash, dataHash);
  } finally {
    await keeper.stop();
  }
});
