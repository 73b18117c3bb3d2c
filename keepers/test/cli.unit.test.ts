/**
 * The CLI's pure parts: rankings query building and table rendering (the subgraph contract of
 * docs/cli.md), input parsing, the revert sentence table (every entry names a real contract error), the
 * allowlist and reward-proof lookups, help completeness, and the GraphQL client's failure sentences
 * against a local HTTP endpoint.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeErrorResult, encodeErrorResult, parseEther, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Command } from 'commander';
import { z } from 'zod';
import { freePort } from '../src/dev/anvil.js';
import { buildTree, licenseRewardLeaf, rewardLeaf } from '../src/core/merkle.js';
import { watchDogPresaleAbi } from '../src/generated/contracts.js';
import { allowlistDocument, allowlistProof, allowlistSchema } from '../src/cli/allowlist.js';
import { describeError } from '../src/cli/describeError.js';
import { ExitCode, InputError, RejectedError } from '../src/cli/errors.js';
import { graphqlQuery } from '../src/cli/graphql.js';
import {
  parseAddress,
  parseAmount,
  parseInteger,
  parseNodeEndpoint,
  parseNodeMetadata,
  parsePrivateKey,
  parseUrl,
  UINT96_MAX,
} from '../src/cli/inputs.js';
import { formatPpm, formatSendRounded, renderRecord, renderTable, toJson } from '../src/cli/output.js';
import {
  accountClaim,
  licenseClaim,
  processProof,
  proofsSource,
  requireCurrentRoot,
  rewardProofsSchema,
} from '../src/cli/proofs.js';
import {
  LATEST_EPOCH_QUERY,
  buildRankingsQuery,
  needsLatestEpoch,
  nodesResponseSchema,
  renderRankings,
  resultsResponseSchema,
  rowsFromNodes,
  rowsFromResults,
} from '../src/cli/rankings.js';
import { allErrorsAbi, knownRevertNames, revertSentence } from '../src/cli/reverts.js';
import { fetchRankings } from '../src/cli/commands/rankings.js';
import { strikeEpochs } from '../src/cli/commands/node.js';
import { didLabel } from '../src/cli/commands/did.js';
import { refundTerms } from '../src/cli/commands/presale.js';
import { buildProgram } from '../src/cli/program.js';
import { isOneSentence, runSendnet } from './cliHarness.js';

const NODE_FIELDS =
  'id operator stake status endpoint latestEpoch latestRank latestScore latestAvailability latestVerifiedUnits latestReward cumulativeRewards';
const RESULT_FIELDS = `epochNumber rank score availability latencyP50Ms latencyP95Ms verifiedUnits reward faults node { ${NODE_FIELDS} }`;

describe('rankings queries (the subgraph contract)', () => {
  test('by score: the latest scored epoch first, then its results by rank', () => {
    assert.equal(
      LATEST_EPOCH_QUERY,
      '{ epoches(first: 1, orderBy: number, orderDirection: desc, where: {scoresPublished: true}) { number } }',
    );
    assert.equal(needsLatestEpoch({ by: 'score', top: 10 }), true);
    assert.equal(needsLatestEpoch({ by: 'score', top: 10, epoch: 3 }), false);
    assert.equal(needsLatestEpoch({ by: 'uptime', top: 10 }), false);
    assert.equal(
      buildRankingsQuery({ by: 'score', top: 10 }, 7),
      `{ nodeEpochResults(first: 10, where: {epochNumber: 7}, orderBy: rank, orderDirection: asc) { ${RESULT_FIELDS} } }`,
    );
    assert.equal(
      buildRankingsQuery({ by: 'score', top: 3, epoch: 2 }, 7),
      `{ nodeEpochResults(first: 3, where: {epochNumber: 2}, orderBy: rank, orderDirection: asc) { ${RESULT_FIELDS} } }`,
      '--epoch wins over the latest',
    );
    assert.throws(() => buildRankingsQuery({ by: 'score', top: 10 }), /needs an epoch/);
  });

  test('by uptime, volume and rewards: the node entities, or one epoch’s results with --epoch', () => {
    assert.equal(
      buildRankingsQuery({ by: 'uptime', top: 5 }),
      `{ nodes(first: 5, orderBy: latestAvailability, orderDirection: desc, where: {latestEpoch_not: null}) { ${NODE_FIELDS} } }`,
    );
    assert.equal(
      buildRankingsQuery({ by: 'volume', top: 5 }),
      `{ nodes(first: 5, orderBy: latestVerifiedUnits, orderDirection: desc, where: {latestEpoch_not: null}) { ${NODE_FIELDS} } }`,
    );
    assert.equal(
      buildRankingsQuery({ by: 'rewards', top: 1000 }),
      `{ nodes(first: 1000, orderBy: cumulativeRewards, orderDirection: desc) { ${NODE_FIELDS} } }`,
    );
    assert.equal(
      buildRankingsQuery({ by: 'volume', top: 5, epoch: 4 }),
      `{ nodeEpochResults(first: 5, where: {epochNumber: 4}, orderBy: verifiedUnits, orderDirection: desc) { ${RESULT_FIELDS} } }`,
    );
    assert.equal(
      buildRankingsQuery({ by: 'uptime', top: 5, epoch: 4 }),
      `{ nodeEpochResults(first: 5, where: {epochNumber: 4}, orderBy: availability, orderDirection: desc) { ${RESULT_FIELDS} } }`,
    );
    assert.equal(
      buildRankingsQuery({ by: 'rewards', top: 5, epoch: 4 }),
      `{ nodeEpochResults(first: 5, where: {epochNumber: 4}, orderBy: reward, orderDirection: desc) { ${RESULT_FIELDS} } }`,
    );
    for (const top of [0, 1001, 1.5]) assert.throws(() => buildRankingsQuery({ by: 'rewards', top }), RangeError);
  });
});

const nodeA = {
  id: '0x00000000000000000000000000000000000000aa',
  operator: '0x00000000000000000000000000000000000000a1',
  stake: '12500000000000000000000',
  status: 'Active',
  endpoint: 'ws://a:7000',
  latestEpoch: 7,
  latestRank: 1,
  latestScore: 987654,
  latestAvailability: 995000,
  latestVerifiedUnits: '4200',
  latestReward: '1500000000000000000',
  cumulativeRewards: '9000000000000000000',
};
const nodeB = {
  ...nodeA,
  id: '0x00000000000000000000000000000000000000bb',
  status: 'Unbonding',
  latestEpoch: null,
  latestRank: null,
  latestScore: null,
  latestAvailability: null,
  latestVerifiedUnits: null,
  latestReward: null,
  cumulativeRewards: '0',
  stake: '10000000000000000000000',
};

describe('rankings rows and table', () => {
  test('node entities become rows; unknown values render as "-"', () => {
    const rows = rowsFromNodes(nodesResponseSchema.parse({ nodes: [nodeA, nodeB] }).nodes);
    assert.equal(rows[0]!.stake, 12500n * 10n ** 18n);
    assert.equal(rows[1]!.score, null);
    assert.equal(
      renderRankings(rows),
      [
        '#  node                                        epoch  rank   score  uptime  p50/p95 ms  volume (units)    reward  total rewards        stake  status',
        '-  ------------------------------------------  -----  ----  ------  ------  ----------  --------------  --------  -------------  -----------  ---------',
        '1  0x00000000000000000000000000000000000000aa      7     1  98.77%  99.50%           -            4200  1.5 SEND         9 SEND  12,500 SEND  Active',
        '2  0x00000000000000000000000000000000000000bb      -     -       -       -           -               -         -         0 SEND  10,000 SEND  Unbonding',
      ].join('\n'),
    );
    assert.equal(renderRankings([]), 'No ranked nodes yet.');
  });

  test('epoch results become rows with latencies', () => {
    const parsed = resultsResponseSchema.parse({
      nodeEpochResults: [
        {
          epochNumber: 7,
          rank: 1,
          score: 1_000_000,
          availability: 1_000_000,
          latencyP50Ms: 41,
          latencyP95Ms: 120,
          verifiedUnits: '10',
          reward: '2000000000000000000',
          faults: 0,
          node: nodeA,
        },
      ],
    });
    const [row] = rowsFromResults(parsed.nodeEpochResults);
    assert.deepEqual([row!.epoch, row!.rank, row!.latencyP50Ms, row!.reward], [7, 1, 41, 2n * 10n ** 18n]);
    assert.match(renderRankings([row!]), /100\.00%\s+100\.00%\s+41\/120\s+10\s+2 SEND\s+9 SEND/);
  });

  test('SEND amounts are rounded for people, exact in JSON', () => {
    const wei = (s: string) => parseEther(s);
    const cases: [bigint, string][] = [
      [0n, '0 SEND'],
      [wei('12345.6789'), '12,345.7 SEND'],
      [wei('12345.649'), '12,345.6 SEND'],
      [wei('999999.96'), '1,000,000 SEND'],
      [wei('1'), '1 SEND'],
      [wei('7655.04'), '7,655 SEND'],
      [wei('0.0042137'), '0.00421 SEND'],
      [1n, '< 0.000001 SEND'],
      [-wei('6300.25'), '-6,300.3 SEND'],
      [wei('1000000000'), '1,000,000,000 SEND'],
    ];
    for (const [amount, text] of cases) assert.equal(formatSendRounded(amount), text, `${amount}`);
    // the 1.5 SEND reward of nodeA keeps its decimal; --json keeps base units (toJson of a row)
    const [row] = rowsFromNodes(
      nodesResponseSchema.parse({ nodes: [{ ...nodeA, cumulativeRewards: '12345678901234567890123' }] }).nodes,
    );
    assert.match(renderRankings([row!]), /12,345\.7 SEND/);
    assert.match(renderRankings([row!], 'points'), /12,345\.7 points/, 'a points deployment labels rewards in points');
    assert.match(toJson(row), /"cumulativeRewards": "12345678901234567890123"/);
  });

  test('a malformed answer is rejected by the schema', () => {
    assert.equal(nodesResponseSchema.safeParse({ nodes: [{ ...nodeA, stake: 12 }] }).success, false);
  });

  test('tables and records align', () => {
    assert.equal(
      renderTable(
        [{ header: 'a' }, { header: 'num', right: true }],
        [
          ['xx', '1'],
          ['y', '100'],
        ],
      ),
      'a   num\n--  ---\nxx    1\ny   100',
    );
    assert.equal(
      renderRecord([
        ['k', 'v'],
        ['long key', 'w'],
      ]),
      'k         v\nlong key  w',
    );
    assert.equal(formatPpm(995000), '99.50%');
    assert.equal(formatPpm(null), '-');
  });
});

describe('GraphQL client', () => {
  async function withServer(
    answer: (body: string) => { status: number; body: string },
    run: (url: string) => Promise<void>,
  ) {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const a = answer(body);
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/subgraphs/name/sendnet`);
    } finally {
      await new Promise((r) => server.close(r));
    }
  }

  test('fetchRankings sends the contract queries and returns rows', async () => {
    const seen: string[] = [];
    await withServer(
      (body) => {
        const { query } = JSON.parse(body) as { query: string };
        seen.push(query);
        if (query.includes('epoches'))
          return { status: 200, body: JSON.stringify({ data: { epoches: [{ number: 7 }] } }) };
        return {
          status: 200,
          body: JSON.stringify({
            data: {
              nodeEpochResults: [
                {
                  epochNumber: 7,
                  rank: 1,
                  score: 900000,
                  availability: 990000,
                  latencyP50Ms: 1,
                  latencyP95Ms: 2,
                  verifiedUnits: '3',
                  reward: '4',
                  faults: 0,
                  node: nodeA,
                },
              ],
            },
          }),
        };
      },
      async (url) => {
        const { epoch, rows } = await fetchRankings(url, { by: 'score', top: 2 });
        assert.equal(epoch, 7);
        assert.equal(rows.length, 1);
        assert.deepEqual(seen, [LATEST_EPOCH_QUERY, buildRankingsQuery({ by: 'score', top: 2 }, 7)]);
      },
    );
  });

  test('no scored epoch yet: no rows, no second query', async () => {
    await withServer(
      () => ({ status: 200, body: JSON.stringify({ data: { epoches: [] } }) }),
      async (url) => assert.deepEqual(await fetchRankings(url, { by: 'score', top: 2 }), { epoch: null, rows: [] }),
    );
  });

  test('GraphQL errors, HTTP errors, bad shapes and a dead endpoint are one sentence each', async () => {
    const schema = z.object({ nodes: z.array(z.unknown()) });
    await withServer(
      () => ({ status: 200, body: JSON.stringify({ errors: [{ message: 'Type `Query` has no field `nodes`' }] }) }),
      async (url) =>
        assert.rejects(
          graphqlQuery(url, '{ nodes { id } }', schema),
          /refused the query: Type `Query` has no field `nodes`\.$/,
        ),
    );
    await withServer(
      () => ({ status: 404, body: '{}' }),
      async (url) => assert.rejects(graphqlQuery(url, '{ nodes { id } }', schema), /answered HTTP 404\./),
    );
    await withServer(
      () => ({ status: 200, body: JSON.stringify({ data: { nodes: 3 } }) }),
      async (url) =>
        assert.rejects(
          graphqlQuery(url, '{ nodes { id } }', schema),
          /unexpected shape \(nodes .*\): is it the SendingNetwork subgraph\?/,
        ),
    );
    const port = await freePort();
    await assert.rejects(graphqlQuery(`http://127.0.0.1:${port}/x`, '{ a }', schema), (e: unknown) => {
      const d = describeError(e);
      return (
        d.exitCode === ExitCode.Network &&
        /^Cannot reach the GraphQL endpoint at http:\/\/127\.0\.0\.1:\d+\/x \(connection failed\)/.test(d.message)
      );
    });
  });

  test('the CLI prints the rankings table from the endpoint', async () => {
    await withServer(
      (body) => {
        assert.equal(JSON.parse(body).query, buildRankingsQuery({ by: 'rewards', top: 2 }));
        return { status: 200, body: JSON.stringify({ data: { nodes: [nodeA, nodeB] } }) };
      },
      async (url) => {
        const run = await runSendnet(['--graphql', url, 'rankings', '--by', 'rewards', '--top', '2']);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /^Top 2 nodes by cumulative rewards\n\n#\s+node/);
        assert.match(run.stdout, /1\s+0x0+aa\s+7\s+1\s+98\.77%/);
        const asJson = await runSendnet(['--json', '--graphql', url, 'rankings', '--by', 'rewards', '--top', '2']);
        const parsed = JSON.parse(asJson.stdout);
        assert.deepEqual(
          parsed.rows.map((r: { nodeKey: string }) => r.nodeKey),
          [nodeA.id, nodeB.id],
        );
        assert.equal(parsed.rows[0].cumulativeRewards, nodeA.cumulativeRewards);
      },
    );
  });
});

describe('inputs', () => {
  test('amounts: decimals, underscores, zero, too many decimals, uint96', () => {
    const send = { decimals: 18, symbol: 'SEND', max: UINT96_MAX };
    assert.equal(parseAmount('10000', '--stake', send), parseEther('10000'));
    assert.equal(parseAmount('10_000.25', '--stake', send), parseEther('10000.25'));
    assert.equal(parseAmount('0.000001', '--max', { decimals: 6, symbol: 'dUSD' }), 1n);
    assert.throws(() => parseAmount('0', '--stake', send), /--stake must be more than 0 SEND, got "0"\./);
    assert.equal(parseAmount('0', '--max', { ...send, allowZero: true }), 0n);
    assert.throws(() => parseAmount('1.0000001', '--max', { decimals: 6, symbol: 'dUSD' }), /more than 6 decimals/);
    assert.throws(
      () => parseAmount('-5', '--stake', send),
      /--stake must be a decimal number like 10000 or 12\.5, got "-5"\./,
    );
    assert.throws(() => parseAmount('1e6', '--stake', send), InputError);
    assert.throws(() => parseAmount('80000000000', '--stake', send), /too large/);
  });

  test('addresses, integers, URLs, keys', () => {
    assert.equal(
      parseAddress('0x70997970c51812dc3a010c7d01b50e0d17dc79c8', '--wallet'),
      '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    );
    assert.throws(
      () => parseAddress('0x1234', '--wallet'),
      /--wallet must be a 0x-prefixed 20-byte hex address, got "0x1234"\./,
    );
    assert.equal(parseInteger('25', '--top', 1, 1000), 25);
    assert.throws(() => parseInteger('0', '--top', 1, 1000), /--top must be at least 1/);
    assert.throws(() => parseInteger('2.5', '--top', 1, 1000), /--top must be a whole number/);
    assert.throws(
      () => parseUrl('ftp://x', '--endpoint', ['ws:', 'wss:']),
      /--endpoint must start with ws:\/\/ or wss:\/\//,
    );
    assert.throws(() => parseUrl('not a url', '--rpc', ['http:']), /--rpc must be an absolute URL/);
    const key = generatePrivateKey();
    assert.equal(parsePrivateKey(key.slice(2), 'K'), key);
    const secret = `0x${'z'.repeat(64)}`;
    assert.throws(
      () => parsePrivateKey(secret, 'The key in K'),
      (e: Error) => !e.message.includes(secret) && /not a valid private key/.test(e.message),
    );
    assert.throws(() => parsePrivateKey(`0x${'0'.repeat(64)}`, 'K'), /it is zero/);
  });

  test('node endpoints and metadata: ws(s) URLs within the chain bounds, counted in UTF-8 bytes', () => {
    assert.equal(parseNodeEndpoint(' ws://127.0.0.1:7001 ', '--endpoint'), 'ws://127.0.0.1:7001');
    const longest = `wss://${'é'.repeat(125)}`; // 6 + 250 = 256 bytes
    assert.equal(parseNodeEndpoint(longest, '--endpoint'), longest);
    assert.throws(() => parseNodeEndpoint(`${longest}a`, '--endpoint'), /--endpoint is 257 bytes long \(UTF-8\)/);
    assert.throws(() => parseNodeEndpoint(`ws://${'a'.repeat(252)}`, '--endpoint'), /is 257 bytes long/);
    assert.equal(parseNodeEndpoint(`ws://${'a'.repeat(251)}`, '--endpoint').length, 256);
    assert.throws(() => parseNodeEndpoint('', '--endpoint'), /--endpoint must not be empty\./);
    assert.throws(() => parseNodeEndpoint('   ', '--endpoint'), /--endpoint must not be empty\./);
    assert.throws(
      () => parseNodeEndpoint('https://relay.example', '--endpoint'),
      /must start with ws:\/\/ or wss:\/\//,
    );
    assert.throws(() => parseNodeEndpoint('relay.example:7000', '--endpoint'), InputError);
    assert.equal(parseNodeMetadata('', '--metadata'), '');
    assert.equal(parseNodeMetadata('€'.repeat(341), '--metadata').length, 341); // 1023 bytes
    assert.throws(() => parseNodeMetadata('€'.repeat(342), '--metadata'), /--metadata is 1026 bytes long/);
  });

  test('DID names and strike epochs', () => {
    assert.equal(didLabel('alice.send', 'send'), 'alice');
    assert.equal(didLabel('bob-2', 'send'), 'bob-2');
    for (const bad of ['Alice', 'ab', 'a--b', '-ab', 'x'.repeat(25), 'a b c'])
      assert.throws(() => didLabel(bad, 'send'), /is not a valid DID name/);
    assert.deepEqual(strikeEpochs(0n), []);
    assert.deepEqual(strikeEpochs(3n | (9n << 32n) | (12n << 64n)), [3, 9, 12]);
  });
});

describe('revert sentences', () => {
  test('every table entry names a real contract error', () => {
    const names = new Set(allErrorsAbi.map((e) => e.name));
    for (const name of knownRevertNames())
      assert.ok(names.has(name), `${name} is not an error of any protocol contract`);
  });

  test('decoded revert data becomes the sentence; unknown errors show name and args', () => {
    const data = encodeErrorResult({
      abi: watchDogPresaleAbi,
      errorName: 'CostAboveMax',
      args: [parseEther('0.2'), parseEther('0.15')],
    });
    const decoded = decodeErrorResult({ abi: allErrorsAbi, data });
    assert.equal(
      revertSentence(decoded.errorName, decoded.args ?? []),
      'The price is above your maximum: 0.2 ETH is needed but --max-total-cost is 0.15 ETH.',
    );
    assert.equal(
      revertSentence('CostAboveMax', [300_000000n, 299_990000n], { currency: { symbol: 'dUSD', decimals: 6 } }),
      'The price is above your maximum: 300 dUSD is needed but --max-total-cost is 299.99 dUSD.',
    );
    assert.equal(
      revertSentence('EpochNotNext', [5, 3n]),
      'The contract refused the transaction with EpochNotNext(5, 3).',
    );
  });

  test('phase windows read against chain time', () => {
    assert.match(
      revertSentence('PhaseNotOpen', [2, 1000, 2000], { now: 400 }),
      /^The public sale is not open yet: it opens at 1970-01-01T00:16:40Z \(in 10 min\)\.$/,
    );
    assert.match(
      revertSentence('PhaseNotOpen', [1, 1000, 2000], { now: 2500 }),
      /^The allowlist sale is not open: it ended at 1970-01-01T00:33:20Z\.$/,
    );
    assert.equal(
      revertSentence('PhaseNotOpen', [1, 0, 0]),
      'The allowlist sale is not open: that phase is not scheduled.',
    );
  });

  test('the two NothingToClaim errors (account and license) and DID ids read as names', () => {
    assert.match(
      revertSentence('NothingToClaim', [
        '0x00000000000000000000000000000000000000a1',
        5n * 10n ** 18n,
        5n * 10n ** 18n,
      ]),
      /^0x0+a1 has nothing to claim: 5 SEND of its 5 SEND/,
    );
    assert.match(revertSentence('NothingToClaim', [7n, 1n, 1n]), /^License 7 has nothing to claim/);
    assert.match(revertSentence('NotDidOwner', [0x616c696365n, '0xabc']), /does not own the DID "alice"/);
  });

  test('presale refund errors explain the self-refund time and the refund deadline', () => {
    // a live sale (status 0) before its self-refund time, with the chain time for "in …"
    assert.match(
      revertSentence('RefundsNotOpen', [0, 1_800_100_000], { now: 1_800_099_000 }),
      /^Refunds are not open: the sale is active\. They open when the owner cancels, or on their own at .+ \(in 17 min\) if the sale is neither finalized nor cancelled by then\.$/,
    );
    assert.equal(
      revertSentence('RefundsNotOpen', [2, 1_800_100_000]),
      'The sale was finalized: its licenses stand and are not refundable.',
    );
    assert.match(revertSentence('RefundPeriodOver', [1_800_200_000]), /^Refunds ended at .+ goes to the treasury\.$/);
    assert.match(revertSentence('SaleNotActive', [3]), /^The sale expired: .+sendnet presale refund/);
    assert.match(revertSentence('SaleNotActive', [1]), /^The sale is cancelled: no more licenses can be bought\.$/);
    assert.match(revertSentence('LicenseBurned', [4n]), /^License 4 was already refunded/);
    assert.match(revertSentence('LicenseVoid', [4n, 1_800_000_000n]), /^License 4 is void: .+earns no rewards/);
    // every error the presale and license declare has its own sentence
    const names = new Set(knownRevertNames());
    for (const name of ['RefundsNotOpen', 'RefundPeriodOver', 'RefundPeriodNotOver', 'NotRefundable', 'NothingToSweep'])
      assert.ok(names.has(name), name);
  });

  test('refundTerms states what a buyer can count on in every sale status', () => {
    const self = 1_800_100_000;
    const deadline = 1_800_200_000;
    assert.match(
      refundTerms('active', self, deadline, self - 7200),
      /^if the sale is neither finalized nor cancelled by .+ \(in 2 h\), every holder refunds itself, without the owner, until /,
    );
    assert.match(
      refundTerms('cancelled', self, deadline, self - 10),
      /^open: the sale was cancelled, holders refund until /,
    );
    assert.match(
      refundTerms('expired', self, deadline, self),
      /^open: the sale was neither finalized nor cancelled by .+ holders refund themselves until /,
    );
    assert.match(refundTerms('expired', self, deadline, deadline), /^refunds ended at .+ goes to the treasury$/);
    assert.match(refundTerms('cancelled', self, deadline, deadline + 1), /^refunds ended at /);
    assert.equal(
      refundTerms('finalized', self, deadline, deadline),
      'none: the sale was finalized, its licenses stand',
    );
  });

  test('describeError keeps CLI errors and wraps the rest in one sentence', () => {
    assert.deepEqual(describeError(new RejectedError('Cap reached: x', 'WalletCapExceeded')), {
      message: 'Cap reached: x.',
      code: 'WalletCapExceeded',
      exitCode: 4,
    });
    const unexpected = describeError(new TypeError('boom\n    at somewhere'));
    assert.equal(unexpected.message, 'Unexpected error: boom.');
    assert.equal(unexpected.exitCode, ExitCode.Unexpected);
  });
});

describe('allowlist and reward proofs', () => {
  const a = privateKeyToAccount(generatePrivateKey()).address;
  const b = privateKeyToAccount(generatePrivateKey()).address;
  const doc = allowlistSchema.parse(
    allowlistDocument([
      { account: a, max: 3 },
      { account: b, max: 1 },
    ]),
  );

  test('the allowlist proof is found by account and checked against both roots', () => {
    const { maxQuantity, proof } = allowlistProof(doc, 'al.json', b, doc.root);
    assert.equal(maxQuantity, 1n);
    assert.equal(proof.length, 1);
    const stranger = privateKeyToAccount(generatePrivateKey()).address;
    assert.throws(() => allowlistProof(doc, 'al.json', stranger, doc.root), /is not on the allowlist al\.json/);
    assert.throws(() => allowlistProof(doc, 'al.json', a, `0x${'11'.repeat(32)}`), /is not the sale's allowlist/);
    const tampered = { ...doc, entries: [{ account: a, max: 30n }, doc.entries[1]!] };
    assert.throws(() => allowlistProof(tampered, 'al.json', a, doc.root), /is inconsistent/);
  });

  test('reward proofs: account and license entries verified against the root; stale documents refused', () => {
    const tree = buildTree([rewardLeaf(a, 10n), rewardLeaf(b, 20n), licenseRewardLeaf(4n, 30n)]);
    const proofs = rewardProofsSchema.parse({
      epoch: 3,
      root: tree.root,
      claims: {
        [a.toLowerCase()]: { cumulative: '10', proof: tree.proof(0) },
        [b]: { cumulative: '21', proof: tree.proof(1) },
      },
      licenses: { '4': { cumulative: '30', proof: tree.proof(2) } },
    });
    assert.equal(processProof(rewardLeaf(a, 10n), tree.proof(0)), tree.root);
    assert.equal(accountClaim(proofs, 'p.json', a).cumulative, 10n);
    assert.throws(() => accountClaim(proofs, 'p.json', b), /does not lead to its root/);
    assert.equal(licenseClaim(proofs, 'p.json', 4n).cumulative, 30n);
    assert.throws(() => licenseClaim(proofs, 'p.json', 5n), /License 5 has no rewards in the epoch 3 proofs/);
    assert.doesNotThrow(() => requireCurrentRoot(proofs, 'p.json', { epoch: 3, root: tree.root as Hex }));
    assert.throws(
      () => requireCurrentRoot(proofs, 'p.json', { epoch: 4, root: `0x${'22'.repeat(32)}` }),
      /are for epoch 3 but claims are checked against finalized epoch 4/,
    );
    assert.equal(proofsSource('http://k/epochs/{epoch}/claims', 12), 'http://k/epochs/12/claims');
    assert.equal(
      rewardProofsSchema.safeParse({ epoch: 1, root: tree.root, claims: { nope: { cumulative: '1', proof: [] } } })
        .success,
      false,
    );
  });
});

describe('help', () => {
  test('every command and command group has a description and examples', () => {
    const leaves: Command[] = [];
    const all: Command[] = [];
    const walk = (c: Command) => {
      all.push(c);
      if (c.commands.length) c.commands.forEach(walk);
      else leaves.push(c);
    };
    const program = buildProgram();
    walk(program);
    const names = leaves.map((c) => {
      const parts: string[] = [];
      for (let x: Command | null = c; x?.parent; x = x.parent) parts.unshift(x.name());
      return parts.join(' ');
    });
    assert.deepEqual(names.sort(), [
      'did consent',
      'did keys add',
      'did keys list',
      'did keys revoke',
      'did link',
      'did primary',
      'did register',
      'did resolve',
      'did unlink',
      'keystore create',
      'license activate',
      'license claim',
      'node claim',
      'node endpoint',
      'node register',
      'node stake',
      'node status',
      'node unbond',
      'node withdraw',
      'points convert',
      'presale allowlist',
      'presale buy',
      'presale refund',
      'presale status',
      'rankings',
    ]);
    for (const leaf of all) {
      let help = '';
      leaf.configureOutput({ writeOut: (s) => (help += s) });
      leaf.outputHelp();
      assert.ok(leaf.description().length > 20, `${leaf.name()} has a description`);
      assert.match(
        help,
        /Examples:\n {2}\$ (SENDNET_[A-Z_]+=\S+ |[A-Z_]+=\S+ )*sendnet /,
        `${leaf.name()} has examples`,
      );
      assert.match(help, /Options:[\s\S]*--rpc <url>/, `${leaf.name()} shows the global options`);
    }
  });

  test('an unknown command is a usage error, without a stack trace', async () => {
    const run = await runSendnet(['node', 'fly']);
    assert.equal(run.code, 2);
    assert.ok(isOneSentence(run.stderr), run.stderr);
    const help = await runSendnet(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Commands:[\s\S]*node[\s\S]*presale[\s\S]*license[\s\S]*did[\s\S]*rankings/);
  });
});
