/**
 * The subgraph manifest generator (subgraph/scripts/manifest.ts): one data source per address-book
 * contract with every ABI event handled, addresses and start block from the book, network names by chain
 * id, topic filters on the token transfers, and clear errors for what it cannot resolve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateManifest, networkFor } from '../../subgraph/scripts/manifest.js';
import { abiEvents, extractAbis, flattenedViews, subgraphDir } from '../../subgraph/scripts/sources.js';
import { toYaml } from '../../subgraph/scripts/yaml.js';

const fixture = join(subgraphDir, 'fixtures', 'addressBook.json');
const book = JSON.parse(readFileSync(fixture, 'utf8'));

test('every event of every indexed ABI has a handler, with addresses and start block from the book', () => {
  const dir = mkdtempSync(join(subgraphDir, '.manifest-test-'));
  try {
    const { path, network, handlers } = generateManifest({
      addressBookPath: fixture,
      outPath: join(dir, 'subgraph.yaml'),
      startBlock: 42,
    });
    assert.equal(network, 'devnet');
    const abis = extractAbis();
    const expected: [string, string][] = [
      ['SendToken', 'SendToken'],
      ['NodeStaking', 'NodeStaking'],
      ['EpochSettlement', 'EpochSettlement'],
      ['WatchDogLicense', 'WatchDogLicense'],
      ['WatchDogPresale', 'WatchDogPresale'],
      ['LicenseRewards', 'LicenseRewards'],
      ['DidRegistry', 'DidRegistry'],
      ['SwapSettlement', 'SwapSettlement'],
    ];
    for (const [dataSource, abi] of expected) {
      const events = abiEvents(abis.get(abi)!).map((e) => e.name);
      const handled = handlers.filter((h) => h.dataSource === dataSource);
      assert.deepEqual(handled.map((h) => h.event).sort(), [...events].sort(), `${dataSource} handles every event`);
      assert.ok(handled.every((h) => h.address === book.contracts[dataSource].toLowerCase()));
    }
    const yaml = readFileSync(path, 'utf8');
    assert.equal(
      (yaml.match(/startBlock: 42/g) ?? []).length,
      10,
      'the start block override reaches every data source',
    );
    assert.match(yaml, /network: "devnet"/);
    assert.match(yaml, /prune: "never"/);
    // claims: SEND transfers out of the settlement only; the stablecoin only with the presale on a side
    const settlement = book.contracts.EpochSettlement.toLowerCase();
    const presale = book.contracts.WatchDogPresale.toLowerCase();
    assert.match(yaml, new RegExp(`handler: "handleSendTokenTransfer"\\n\\s+topic1:\\n\\s+- "${settlement}"`));
    assert.match(yaml, new RegExp(`handler: "handlePaymentTokenTransfer"\\n\\s+topic2:\\n\\s+- "${presale}"`));
    assert.match(yaml, new RegExp(`handler: "handlePaymentTokenTransfer"\\n\\s+topic1:\\n\\s+- "${presale}"`));
    // one mapping entry re-exports every handler under its manifest name
    const entry = readFileSync(join(subgraphDir, 'src', 'mapping.ts'), 'utf8');
    for (const h of handlers) assert.ok(entry.includes(` as ${h.handler}`), `mapping.ts exports ${h.handler}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('network names come from the chain id, and unknown chains need --network', () => {
  assert.equal(networkFor(1), 'mainnet');
  assert.equal(networkFor(11155111), 'sepolia');
  assert.equal(networkFor(31337), 'devnet');
  assert.throws(() => networkFor(999_999), /no network name known for chain id 999999: pass --network/);
  const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
  try {
    const other = join(dir, 'book.json');
    writeFileSync(other, JSON.stringify({ ...book, chainId: 999_999 }));
    const { network } = generateManifest({
      addressBookPath: other,
      network: 'my-chain',
      outPath: join(subgraphDir, '.manifest-test-net', 'subgraph.yaml'),
    });
    assert.equal(network, 'my-chain');
    assert.throws(() => generateManifest({ addressBookPath: other, outPath: join(dir, 'x.yaml') }), /pass --network/);
    writeFileSync(other, JSON.stringify({ ...book, contracts: { ...book.contracts, NodeStaking: 'not-an-address' } }));
    assert.throws(
      () => generateManifest({ addressBookPath: other, outPath: join(dir, 'x.yaml') }),
      /contracts\.NodeStaking/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(subgraphDir, '.manifest-test-net'), { recursive: true, force: true });
  }
});

test('static tuple outputs are flattened for the presale view ABI; the YAML writer quotes every string', () => {
  const abi = [
    {
      type: 'function',
      name: 'tier',
      inputs: [{ name: 'index', type: 'uint256' }],
      outputs: [
        {
          name: 't',
          type: 'tuple',
          components: [
            { name: 'start', type: 'uint32' },
            { name: 'ethPrice', type: 'uint96' },
          ],
        },
        { name: 'end', type: 'uint256' },
      ],
    },
    { type: 'function', name: 'names', inputs: [], outputs: [{ name: '', type: 'string[]' }] },
  ];
  const [tier] = flattenedViews(abi, ['tier']);
  assert.deepEqual(
    (tier!.outputs as { name: string; type: string }[]).map((o) => `${o.type} ${o.name}`),
    ['uint32 start', 'uint96 ethPrice', 'uint256 end'],
  );
  assert.throws(() => flattenedViews(abi, ['supply']), /no view function\(s\) supply/);
  assert.equal(
    toYaml({ a: 'x: "y"', list: [{ k: 1, b: true }, 'z'], empty: [], nested: { n: null } }),
    'a: "x: \\"y\\""\nlist:\n  - k: 1\n    b: true\n  - "z"\nempty: []\nnested:\n  n: null\n',
  );
});

test('points mode: the points contracts get data sources and every data source says rewardUnit = points', () => {
  const dir = mkdtempSync(join(subgraphDir, '.manifest-test-points-'));
  try {
    const pointsFixture = join(subgraphDir, 'fixtures', 'addressBook.points.json');
    const pointsBook = JSON.parse(readFileSync(pointsFixture, 'utf8'));
    const { path, handlers } = generateManifest({ addressBookPath: pointsFixture, outPath: join(dir, 'points.yaml') });
    const yaml = readFileSync(path, 'utf8');
    const pointsConversion = pointsBook.contracts.PointsConversion.toLowerCase();
    assert.deepEqual(
      handlers
        .filter((h) => h.dataSource === 'PointsConversion')
        .map((h) => h.event)
        .sort(),
      ['Converted', 'Funded', 'SnapshotTaken', 'Swept'],
    );
    assert.ok(handlers.filter((h) => h.dataSource === 'PointsConversion').every((h) => h.address === pointsConversion));
    // only the points claims: transfers out of the settlement escrow
    assert.deepEqual(
      handlers.filter((h) => h.dataSource === 'TestnetPoints').map((h) => h.event),
      ['Transfer'],
    );
    const settlement = book.contracts.EpochSettlement.toLowerCase();
    assert.match(yaml, new RegExp(`handler: "handleTestnetPointsTransfer"\\n\\s+topic1:\\n\\s+- "${settlement}"`));
    const dataSources = (yaml.match(/^ {2}- kind: "ethereum"$/gm) ?? []).length;
    assert.equal(dataSources, 12);
    assert.equal((yaml.match(/rewardUnit:\n\s+type: "String"\n\s+data: "points"/g) ?? []).length, dataSources);

    // the token deployment's manifest names neither, and says nothing about the unit
    const { path: tokenPath, handlers: tokenHandlers } = generateManifest({
      addressBookPath: fixture,
      outPath: join(dir, 'token.yaml'),
    });
    const tokenYaml = readFileSync(tokenPath, 'utf8');
    assert.ok(!tokenHandlers.some((h) => h.dataSource === 'TestnetPoints' || h.dataSource === 'PointsConversion'));
    assert.doesNotMatch(tokenYaml, /rewardUnit|PointsConversion|TestnetPoints/);

    // half a points deployment is a broken address book
    const half = join(dir, 'half.json');
    const { PointsConversion: _dropped, ...contracts } = pointsBook.contracts;
    writeFileSync(half, JSON.stringify({ ...pointsBook, contracts }));
    assert.throws(
      () => generateManifest({ addressBookPath: half, outPath: join(dir, 'half.yaml') }),
      /names both TestnetPoints and PointsConversion/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    // the other tests expect the token deployment's mapping entry
    generateManifest({ addressBookPath: fixture, outPath: join(dir, 'restore.yaml') });
    rmSync(dir, { recursive: true, force: true });
  }
});
