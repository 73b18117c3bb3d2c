/**
 * `sendnet points` without a chain: option rules, the subgraph queries, per-epoch points from cumulative
 * claims leaves, rounding for people and full precision with --json, the refusal of a deployment that is
 * not in points mode, and the PointsConversion revert sentences. The command runs as a child process
 * against a stub GraphQL endpoint and claims documents on disk.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeErrorResult, encodeErrorResult, getAddress } from 'viem';
import { buildTree, licenseRewardLeaf, rewardLeaf } from '../src/core/merkle.js';
import { pointsConversionAbi } from '../src/generated/contracts.js';
import { InputError, RejectedError } from '../src/cli/errors.js';
import {
  buildNodePointsQuery,
  claimsEpochs,
  epochPointsFromCumulative,
  formatPoints,
  nodePointsFrom,
  parsePointsRequest,
  renderNodePoints,
  renderOperatorPoints,
  requirePointsMode,
  sumByEpoch,
  type NodePoints,
} from '../src/cli/points.js';
import { allErrorsAbi, knownRevertNames, revertSentence } from '../src/cli/reverts.js';
import { isOneSentence, runSendnet } from './cliHarness.js';

const E18 = 10n ** 18n;
const NODE = getAddress('0xaa00000000000000000000000000000000000001');
const NODE2 = '0xaa00000000000000000000000000000000000002';
const OPERATOR = '0xbb00000000000000000000000000000000000001';
const GUARDIAN = '0xcc00000000000000000000000000000000000001';

describe('points options', () => {
  test('exactly one of --node, --operator, --license, --account; --epochs bounded', () => {
    assert.throws(
      () => parsePointsRequest({}),
      (e: unknown) => e instanceof InputError && /Say whose points/.test(e.message),
    );
    assert.throws(
      () => parsePointsRequest({ node: NODE, license: '3' }),
      /Pass only one of --node, --operator, --license and --account \(got --node and --license\)/,
    );
    assert.throws(() => parsePointsRequest({ node: '0x12' }), /--node must be a 0x-prefixed 20-byte hex address/);
    assert.throws(() => parsePointsRequest({ license: 'seven' }), /--license/);
    assert.throws(() => parsePointsRequest({ node: NODE, epochs: '0' }), /--epochs/);
    assert.throws(() => parsePointsRequest({ node: NODE, epochs: '1001' }), /--epochs/);
    assert.deepEqual(parsePointsRequest({ license: '7', epochs: '3' }), {
      target: { kind: 'license', tokenId: 7n },
      epochs: 3,
    });
    const { target, epochs } = parsePointsRequest({ node: NODE.toLowerCase() });
    assert.deepEqual(target, { kind: 'node', nodeKey: NODE });
    assert.equal(epochs, 10);
  });

  test('subgraph queries: one node by its lowercase id, or every node of an operator', () => {
    assert.equal(
      buildNodePointsQuery({ kind: 'node', nodeKey: NODE }, 5),
      `{ node(id: "${NODE.toLowerCase()}") { id operator status cumulativeRewards results(first: 5, orderBy: epochNumber, orderDirection: desc) { epochNumber reward } pointsConversions { points amount recipient } } }`,
    );
    assert.match(
      buildNodePointsQuery({ kind: 'operator', operator: OPERATOR }, 2),
      /^\{ nodes\(first: 1000, orderBy: id, where: \{operator: "0xbb0+1"\}\) \{ .*results\(first: 2,/,
    );
    assert.throws(() => buildNodePointsQuery({ kind: 'license', tokenId: 1n }, 2), RangeError);
  });

  test('not in points mode: refused with NotPointsMode', () => {
    assert.throws(
      () => requirePointsMode({ pointsMode: false, rewardUnit: 'SEND', lastFinalizedEpoch: 4 }, 'http://g'),
      (e: unknown) =>
        e instanceof RejectedError &&
        e.code === 'NotPointsMode' &&
        /not in points mode: the subgraph at http:\/\/g reports rewards in SEND/.test(e.message),
    );
    assert.throws(() => requirePointsMode(null, 'http://g'), /has indexed no protocol activity yet/);
    assert.equal(
      requirePointsMode({ pointsMode: true, rewardUnit: 'points', lastFinalizedEpoch: 4 }, 'x').lastFinalizedEpoch,
      4,
    );
  });
});

describe('per-epoch points', () => {
  test('claims epochs: one baseline epoch before the shown ones, never before epoch 1', () => {
    assert.deepEqual(claimsEpochs(10, 3), [7, 8, 9, 10]);
    assert.deepEqual(claimsEpochs(2, 5), [1, 2]);
    assert.deepEqual(claimsEpochs(1, 1), [1]);
  });

  test('differences of consecutive cumulative leaves, newest first; no leaf counts as zero', () => {
    assert.deepEqual(
      epochPointsFromCumulative(
        [
          { epoch: 7, cumulative: 5n },
          { epoch: 8, cumulative: 9n },
          { epoch: 9, cumulative: 9n },
          { epoch: 10, cumulative: 15n },
        ],
        'license 1',
      ),
      {
        epochs: [
          { epoch: 10, points: 6n },
          { epoch: 9, points: 0n },
          { epoch: 8, points: 4n },
        ],
        total: 15n,
      },
    );
    // from epoch 1 the first document's cumulative is that epoch's points; before the first leaf: zero
    assert.deepEqual(
      epochPointsFromCumulative(
        [
          { epoch: 1, cumulative: null },
          { epoch: 2, cumulative: 3n },
        ],
        'x',
      ),
      {
        epochs: [
          { epoch: 2, points: 3n },
          { epoch: 1, points: 0n },
        ],
        total: 3n,
      },
    );
    assert.throws(
      () =>
        epochPointsFromCumulative(
          [
            { epoch: 4, cumulative: 5n },
            { epoch: 5, cumulative: 4n },
          ],
          'license 9',
        ),
      (e: unknown) =>
        e instanceof RejectedError &&
        e.code === 'InconsistentClaims' &&
        /license 9 fall from 5 in epoch 4 to 4 in epoch 5/.test(e.message),
    );
  });

  test("an operator's per-epoch sum covers exactly the newest epochs every node listed", () => {
    const node = (key: string, epochs: [number, bigint][]): NodePoints => ({
      nodeKey: key as `0x${string}`,
      operator: OPERATOR,
      status: 'Active',
      total: epochs.reduce((s, [, p]) => s + p * E18, 0n),
      epochs: epochs.map(([epoch, points]) => ({ epoch, points: points * E18 })),
      converted: null,
    });
    // each lists its newest 2 results: B stopped at epoch 5, so 10 and 9 are A's alone
    const nodes = [
      node(NODE, [
        [10, 3n],
        [9, 2n],
      ]),
      node(NODE2, [
        [5, 7n],
        [4, 1n],
      ]),
    ];
    assert.deepEqual(sumByEpoch(nodes, 2), [
      { epoch: 10, points: 3n * E18 },
      { epoch: 9, points: 2n * E18 },
    ]);
    const both = [node(NODE, [[3, 1n]]), node(NODE2, [[3, 2n]])];
    assert.deepEqual(sumByEpoch(both, 5), [{ epoch: 3, points: 3n * E18 }]);
    const text = renderOperatorPoints(OPERATOR, nodes, 2);
    assert.match(text, /^operator\s+0xbb0+1\nnodes\s+2\ntotal\s+13 points\n/);
    assert.match(text, /epoch\s+points\n-+\s+-+\n\s+10\s+3 points\n\s+9\s+2 points$/);
    assert.equal(renderOperatorPoints(OPERATOR, [], 2), `${OPERATOR} operates no node the subgraph knows.`);
  });

  test('people see rounded points; the node record keeps full precision', () => {
    assert.equal(formatPoints(1_234_567n * E18 + 45n * 10n ** 15n), '1,234,567 points');
    assert.equal(formatPoints(12n * 10n ** 17n), '1.2 points');
    assert.equal(formatPoints(0n), '0 points');
    const record = nodePointsFrom({
      id: NODE.toLowerCase(),
      operator: OPERATOR,
      status: 'Active',
      cumulativeRewards: 220n * E18 + 1n,
      results: [
        { epochNumber: 2, reward: 120n * E18 + 1n },
        { epochNumber: 1, reward: 100n * E18 },
      ],
      pointsConversions: [{ points: 220n * E18 + 1n, amount: 440n * E18 + 2n, recipient: OPERATOR }],
    });
    assert.equal(record.total, 220n * E18 + 1n);
    assert.equal(record.nodeKey, NODE);
    const text = renderNodePoints(record);
    assert.match(text, /total\s+220 points/);
    assert.match(text, /converted\s+220 points into 440 SEND \(paid to 0xbB0+1\)/i);
    assert.match(text, /\s+2\s+120 points\n\s+1\s+100 points$/);
  });
});

describe('PointsConversion revert sentences', () => {
  test('every PointsConversion error the CLI can meet decodes and has its own sentence', () => {
    const names = new Set(knownRevertNames());
    for (const item of pointsConversionAbi) {
      if (item.type !== 'error' || item.name === 'InvalidParameter' || item.name === 'SafeERC20FailedOperation')
        continue;
      assert.ok(names.has(item.name), `${item.name} has a sentence`);
    }
    const data = encodeErrorResult({ abi: pointsConversionAbi, errorName: 'NodeEjected', args: [NODE] });
    const decoded = decodeErrorResult({ abi: allErrorsAbi, data });
    assert.equal(decoded.errorName, 'NodeEjected');
    assert.match(revertSentence('NodeEjected', [NODE]), /was ejected by the protocol, so its points do not convert/);
    assert.match(revertSentence('SnapshotNotTaken', []), /^No points snapshot has been taken yet/);
    assert.match(revertSentence('AlreadyConverted', [GUARDIAN]), /were already converted/);
    assert.match(revertSentence('LicenseAlreadyConverted', [3n]), /license 3 were already converted/);
    assert.match(revertSentence('LicenseVoid', [3n]), /^License 3 is void/);
    assert.match(revertSentence('ConversionClosed', [1_800_000_000n]), /closed at 2027-01-15T08:00:00Z/);
    assert.match(
      revertSentence('InsufficientFunding', [5n * E18, E18]),
      /holds only 1 SEND but this conversion pays 5 SEND/,
    );
    assert.match(revertSentence('AccountIsNodeKey', [NODE]), /sendnet points convert --node/);
  });
});

describe('sendnet points against a stub subgraph and claims documents', () => {
  async function withSubgraph(
    answer: (query: string) => unknown,
    run: (url: string) => Promise<void>,
  ): Promise<string[]> {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { query } = JSON.parse(body) as { query: string };
        seen.push(query);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: answer(query) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/subgraphs/name/sendnet`);
    } finally {
      await new Promise((r) => server.close(r));
    }
    return seen;
  }
  const protocol = (pointsMode: boolean, lastFinalizedEpoch = 3) => ({
    protocol: { pointsMode, rewardUnit: pointsMode ? 'points' : 'SEND', lastFinalizedEpoch },
  });
  const nodeRecord = {
    id: NODE.toLowerCase(),
    operator: OPERATOR,
    status: 'Active',
    cumulativeRewards: (220n * E18 + 123n).toString(),
    results: [
      { epochNumber: 2, reward: (120n * E18 + 123n).toString() },
      { epochNumber: 1, reward: (100n * E18).toString() },
    ],
    pointsConversions: [],
  };

  test('--node: rounded table for people, exact wei with --json', async () => {
    await withSubgraph(
      (q) => (q.includes('protocol(') ? protocol(true) : { node: nodeRecord }),
      async (url) => {
        const human = await runSendnet(['points', '--node', NODE, '--epochs', '2'], { SENDNET_GRAPHQL: url });
        assert.equal(human.code, 0, human.stderr);
        assert.match(human.stdout, /total\s+220 points/);
        assert.match(human.stdout, /converted\s+no/);
        assert.match(human.stdout, /\s+2\s+120 points\n\s+1\s+100 points/);
        const json = await runSendnet(['--json', 'points', '--node', NODE], { SENDNET_GRAPHQL: url });
        assert.equal(json.code, 0, json.stderr);
        const doc = JSON.parse(json.stdout);
        assert.equal(doc.unit, 'points');
        assert.equal(doc.total, '220000000000000000123');
        assert.deepEqual(doc.epochs[0], { epoch: 2, points: '120000000000000000123' });
        assert.equal(doc.converted, null);
      },
    );
  });

  test('--operator sums its nodes; an unknown node is refused', async () => {
    await withSubgraph(
      (q) =>
        q.includes('protocol(')
          ? protocol(true)
          : q.includes('nodes(')
            ? {
                nodes: [
                  nodeRecord,
                  { ...nodeRecord, id: NODE2, cumulativeRewards: '5', results: [{ epochNumber: 2, reward: '5' }] },
                ],
              }
            : { node: null },
      async (url) => {
        const json = await runSendnet(['--json', 'points', '--operator', OPERATOR], { SENDNET_GRAPHQL: url });
        assert.equal(json.code, 0, json.stderr);
        const doc = JSON.parse(json.stdout);
        assert.equal(doc.total, (220n * E18 + 128n).toString());
        assert.equal(doc.nodes.length, 2);
        assert.deepEqual(doc.epochs, [
          { epoch: 2, points: (120n * E18 + 128n).toString() },
          { epoch: 1, points: (100n * E18).toString() },
        ]);
        const unknown = await runSendnet(['points', '--node', NODE2], { SENDNET_GRAPHQL: url });
        assert.equal(unknown.code, 4);
        assert.ok(isOneSentence(unknown.stderr), unknown.stderr);
        assert.match(unknown.stderr, /knows no node 0xaa0+2/i);
      },
    );
  });

  test('a deployment that is not in points mode is refused (exit 4, NotPointsMode)', async () => {
    await withSubgraph(
      () => protocol(false),
      async (url) => {
        const run = await runSendnet(['--json', 'points', '--node', NODE], { SENDNET_GRAPHQL: url });
        assert.equal(run.code, 4);
        assert.ok(isOneSentence(run.stderr), run.stderr);
        assert.equal(JSON.parse(run.stdout).error.code, 'NotPointsMode');
        assert.match(run.stderr, /not in points mode/);
      },
    );
  });

  test('--license and --account: per-epoch points from the claims documents of the finalized epochs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'points-claims-'));
    try {
      // cumulative leaves: license 7 has 0 (absent), 2.5, 4 points; the guardian 1, 1, 3 points
      const cumulative = [
        { epoch: 1, license: null, guardian: E18 },
        { epoch: 2, license: 25n * 10n ** 17n, guardian: E18 },
        { epoch: 3, license: 4n * E18, guardian: 3n * E18 },
      ];
      const roots: string[] = [];
      for (const c of cumulative) {
        const leaves = [rewardLeaf(GUARDIAN, c.guardian), rewardLeaf(NODE, 10n * E18)];
        if (c.license !== null) leaves.push(licenseRewardLeaf(7n, c.license));
        const tree = buildTree(leaves);
        roots.push(tree.root);
        const doc = {
          epoch: c.epoch,
          root: tree.root,
          claims: {
            [GUARDIAN]: { cumulative: c.guardian.toString(), proof: tree.proof(0) },
            [NODE]: { cumulative: (10n * E18).toString(), proof: tree.proof(1) },
          },
          ...(c.license !== null
            ? { licenses: { '7': { cumulative: c.license.toString(), proof: tree.proof(2) } } }
            : {}),
        };
        writeFileSync(join(dir, `claims-${c.epoch}.json`), JSON.stringify(doc));
      }
      const proofs = join(dir, 'claims-{epoch}.json');
      let tamperedRoot: string | null = null;
      const seen = await withSubgraph(
        (q) =>
          q.includes('epoches(')
            ? {
                epoches: roots.map((rewardRoot, i) => ({
                  number: i + 1,
                  rewardRoot: i === 1 && tamperedRoot ? tamperedRoot : rewardRoot,
                })),
              }
            : protocol(true, 3),
        async (url) => {
          const env = { SENDNET_GRAPHQL: url };
          const license = await runSendnet(['--json', 'points', '--license', '7', '--proofs', proofs], env);
          assert.equal(license.code, 0, license.stderr);
          assert.deepEqual(JSON.parse(license.stdout), {
            unit: 'points',
            tokenId: '7',
            lastFinalizedEpoch: 3,
            total: (4n * E18).toString(),
            epochs: [
              { epoch: 3, points: (15n * 10n ** 17n).toString() },
              { epoch: 2, points: (25n * 10n ** 17n).toString() },
              { epoch: 1, points: '0' },
            ],
          });
          const guardian = await runSendnet(
            ['points', '--account', GUARDIAN, '--epochs', '1', '--proofs', proofs],
            env,
          );
          assert.equal(guardian.code, 0, guardian.stderr);
          assert.match(guardian.stdout, /total\s+3 points \(up to epoch 3\)/);
          assert.match(guardian.stdout, /\n {4}3 {2}2 points\n$/);
          assert.doesNotMatch(guardian.stdout, /^\s+2\s+/m);
          const noProofs = await runSendnet(['points', '--license', '7'], env);
          assert.equal(noProofs.code, 2);
          assert.match(noProofs.stderr, /--license needs --proofs/);
          const missing = await runSendnet(
            ['points', '--license', '7', '--proofs', join(dir, 'nope-{epoch}.json')],
            env,
          );
          assert.equal(missing.code, 2);
          assert.ok(isOneSentence(missing.stderr), missing.stderr);
          assert.match(missing.stderr, /nope-1\.json: no such file/);
          // a document that is not the finalized epoch's tree is refused
          tamperedRoot = `0x${'ee'.repeat(32)}`;
          const stale = await runSendnet(['--json', 'points', '--license', '7', '--proofs', proofs], env);
          assert.equal(stale.code, 4, stale.stderr);
          assert.equal(JSON.parse(stale.stdout).error.code, 'StaleProofs');
          assert.match(stale.stderr, /but finalized epoch 2 has reward root 0xee/);
        },
      );
      assert.ok(
        seen.some((q) => q.includes('number_in: [1, 2, 3], status: "Finalized"')),
        'the finalized roots are asked for',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('points convert: argument errors before any network access', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['points', 'convert', '--proofs', 'x'],
        /Say what to convert: pass one of --node KEY, --license ID or --account/,
      ],
      [
        ['points', 'convert', '--node', NODE, '--license', '1', '--proofs', 'x'],
        /Pass only one of --node, --license and --account/,
      ],
      [['points', 'convert', '--node', NODE], /points convert needs --proofs/i],
      [['points', 'convert', '--operator', OPERATOR, '--proofs', 'x'], /converts one leaf/],
      [['points', 'convert', '--license', 'x1', '--proofs', 'x'], /--license/],
      [['points', '--account', '--proofs', 'x'], /--account needs an address here/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runSendnet(args, { SENDNET_RPC: 'http://127.0.0.1:1' });
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.ok(isOneSentence(run.stderr), run.stderr);
      assert.match(run.stderr, pattern);
    }
  });
});
