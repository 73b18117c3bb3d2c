/**
 * `sendnet points convert` on a real points deployment (anvil, script/Deploy.s.sol with `points.enabled`,
 * docs/points.md): a node registered through the CLI earns points in epoch 1 (settled by a guardian quorum
 * and finalized), and the CLI refuses before the snapshot, decodes an unfunded conversion, converts the
 * node (SEND to its operator) and a guardian account, refuses a second conversion, an unregistered key and
 * the wrong epoch's document, a book without PointsConversion, and everything after the deadline. A live
 * graph-node (gnd dev) then indexes the deployment: `sendnet points --node/--operator/--account` read the
 * node's published points, its conversion and the guardian's claims leaf; Protocol.pointsMode is true.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseEther,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { forgeScratchDir, repoRoot } from '../src/dev/foundry.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../src/devnet/devAccounts.js';
import type { AddressBook } from '../src/chain/addressBook.js';
import {
  collectQuorumSignatures,
  scoresHashChain,
  settlementDomain,
  type EpochHeader,
} from '../src/core/epochHeader.js';
import { freePort } from '../src/dev/anvil.js';
import { graphql, startGraphNode } from '../src/infra/graphNode.js';
import { buildTree, rewardLeaf } from '../src/core/merkle.js';
import { epochSettlementAbi, pointsConversionAbi, sendTokenAbi } from '../src/generated/contracts.js';
import { isOneSentence, runSendnet, type CliRun } from './cliHarness.js';

const ZERO: Hex = `0x${'0'.repeat(64)}`;
let anvil: AnvilHandle;
let book: AddressBook;
let bookPath: string;
let dir: string;
let publicClient: PublicClient;
const transport = () => http(anvil.rpcUrl);
const testClient = () => createTestClient({ chain: foundry, mode: 'anvil', transport: transport() });

function cli(args: readonly string[], key?: Hex, extraEnv: Record<string, string> = {}): Promise<CliRun> {
  return runSendnet(args, {
    SENDNET_RPC: anvil.rpcUrl,
    SENDNET_DEPLOYMENTS: bookPath,
    SENDNET_PRIVATE_KEY: key,
    ...extraEnv,
  });
}
const json = (run: CliRun) => {
  assert.equal(run.code, 0, `expected success, got exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
};
function refused(run: CliRun, exitCode: number, pattern: RegExp, code?: string) {
  assert.equal(run.code, exitCode, `exit code (stderr: ${run.stderr})`);
  assert.ok(isOneSentence(run.stderr), `one sentence, no stack trace:\n${run.stderr}`);
  assert.match(run.stderr, pattern);
  if (code) assert.equal(JSON.parse(run.stdout).error.code, code);
}
async function mined(hash: Hex) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success');
}
const sendOf = (account: Address) =>
  publicClient.readContract({
    address: book.contracts.SendToken,
    abi: sendTokenAbi,
    functionName: 'balanceOf',
    args: [account],
  });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sendnet-points-'));
  const base = JSON.parse(readFileSync(join(repoRoot, 'config/devnet.json'), 'utf8'));
  // one SEND per two points; epoch 1 is the last points epoch; conversion open for an hour after it
  const config = {
    ...base,
    points: {
      ...base.points,
      enabled: true,
      ratio: '500000000000000000',
      lastPointsEpoch: 1,
      conversionDeadlineOffsetSeconds: 3600,
    },
  };
  const configPath = join(forgeScratchDir('points-cli-config'), 'points.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  anvil = await startAnvil();
  ({ book, path: bookPath } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0), configPath }));
  publicClient = createPublicClient({ chain: foundry, transport: transport() }) as PublicClient;
});

after(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('points convert: snapshot, funding, node and account conversions, and every refusal on the way', async () => {
  const conversion = book.contracts.PointsConversion!;
  const settlement = book.contracts.EpochSettlement;
  const treasury = createWalletClient({ chain: foundry, transport: transport(), account: devAccount(1) });

  // an operator (SEND from the treasury, which holds all of it in points mode) registers a node via the CLI
  const operatorKey = generatePrivateKey();
  const operator = privateKeyToAccount(operatorKey).address;
  await testClient().setBalance({ address: operator, value: parseEther('10') });
  await mined(
    await treasury.writeContract({
      address: book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'transfer',
      args: [operator, parseEther('10000')],
    }),
  );
  const nodeKey = generatePrivateKey();
  const node = privateKeyToAccount(nodeKey).address;
  json(
    await cli(['--json', 'node', 'register', '--stake', '10000', '--endpoint', 'ws://127.0.0.1:7001'], operatorKey, {
      SENDNET_NODE_KEY: nodeKey,
    }),
  );

  // epoch 1: the node key and a guardian account earn points (leaves keyed by node key in points mode)
  const guardian = privateKeyToAccount(generatePrivateKey()).address;
  const stranger = privateKeyToAccount(generatePrivateKey()).address;
  const nodePoints = parseEther('300.5');
  const guardianPoints = parseEther('20');
  const strangerPoints = parseEther('1');
  const tree = buildTree([
    rewardLeaf(node, nodePoints),
    rewardLeaf(guardian, guardianPoints),
    rewardLeaf(stranger, strangerPoints),
  ]);
  const total = nodePoints + guardianPoints + strangerPoints;
  const endsAt = await publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'epochEnd',
    args: [1],
  });
  const now = (await publicClient.getBlock()).timestamp;
  if (endsAt > now) await testClient().setNextBlockTimestamp({ timestamp: endsAt });
  await testClient().mine({ blocks: 1 });
  // the node's published score carries its points of the epoch (what the subgraph indexes per epoch)
  const scores = scoresHashChain(
    [
      {
        nodeKey: node,
        rank: 1,
        score: 900_000,
        availability: 990_000,
        latencyP50Ms: 40,
        latencyP95Ms: 120,
        verifiedUnits: 1000n,
        reward: nodePoints,
        faults: 0,
      },
    ],
    10,
  );
  const header: EpochHeader = {
    epoch: 1,
    consensusVersion: 1,
    faultCount: 0,
    totalCumulative: total,
    epochEmission: total,
    rewardRoot: tree.root,
    faultRoot: ZERO,
    scoresHash: scores.head,
    dataHash: ZERO,
    seed: ZERO,
  };
  const [, members] = await publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'activeGuardianSet',
  });
  const quorum = await collectQuorumSignatures(
    settlementDomain(book.chainId, settlement),
    header,
    members,
    [3, 4, 5, 6, 7].map((i) => devAccount(i)),
  );
  const keeper = createWalletClient({ chain: foundry, transport: transport(), account: devAccount(2) });
  await mined(
    await keeper.writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'submitEpoch',
      args: [header, quorum.guardians, quorum.signerBitmap, quorum.signatures],
    }),
  );
  await mined(
    await keeper.writeContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'publishScores',
      args: [1, scores.chunks[0]!, scores.nexts[0]!],
    }),
  );
  await testClient().increaseTime({ seconds: book.disputeWindowSeconds + 1 });
  await testClient().mine({ blocks: 1 });
  await mined(
    await keeper.writeContract({ address: settlement, abi: epochSettlementAbi, functionName: 'finalizeEpochs' }),
  );

  // the keeper's claims document of epoch 1 (GET /epochs/1/claims)
  const doc = {
    epoch: 1,
    root: tree.root,
    claims: {
      [node.toLowerCase()]: { cumulative: nodePoints.toString(), proof: tree.proof(0) },
      [guardian.toLowerCase()]: { cumulative: guardianPoints.toString(), proof: tree.proof(1) },
      [stranger.toLowerCase()]: { cumulative: strangerPoints.toString(), proof: tree.proof(2) },
    },
    licenses: {},
  };
  writeFileSync(join(dir, 'claims-1.json'), JSON.stringify(doc));
  const proofs = join(dir, 'claims-{epoch}.json');
  const caller = generatePrivateKey();
  await testClient().setBalance({ address: privateKeyToAccount(caller).address, value: parseEther('10') });

  refused(
    await cli(['--json', 'points', 'convert', '--node', node, '--proofs', proofs], caller),
    4,
    /No points snapshot has been taken yet/,
    'SnapshotNotTaken',
  );

  // anyone takes the snapshot; before funding, the contract's refusal is decoded
  await mined(await keeper.writeContract({ address: conversion, abi: pointsConversionAbi, functionName: 'snapshot' }));
  refused(
    await cli(['--json', 'points', 'convert', '--node', node, '--proofs', proofs], caller),
    4,
    /holds only 0 SEND but this conversion pays 150\.25 SEND/,
    'InsufficientFunding',
  );
  const required = await publicClient.readContract({
    address: conversion,
    abi: pointsConversionAbi,
    functionName: 'requiredFunding',
  });
  // the ratio applied to the snapshot's account total and the license points emitted up to epoch 1
  const licenseEmitted = await publicClient.readContract({
    address: conversion,
    abi: pointsConversionAbi,
    functionName: 'snapshotLicenseEmitted',
  });
  assert.ok(licenseEmitted > 0n);
  assert.equal(required, (total + licenseEmitted) / 2n);
  await mined(
    await treasury.writeContract({
      address: book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'approve',
      args: [conversion, required],
    }),
  );
  await mined(
    await treasury.writeContract({
      address: conversion,
      abi: pointsConversionAbi,
      functionName: 'fund',
      args: [required],
    }),
  );

  // the node's points pay its operator, whoever sends the conversion
  const before = await sendOf(operator);
  const converted = json(await cli(['--json', 'points', 'convert', '--node', node, '--proofs', proofs], caller));
  assert.equal(converted.kind, 'Node');
  assert.equal(converted.points, nodePoints.toString());
  assert.equal(converted.send, (nodePoints / 2n).toString());
  assert.equal(converted.recipient, operator);
  assert.equal(converted.snapshotEpoch, 1);
  assert.equal((await sendOf(operator)) - before, nodePoints / 2n);
  refused(
    await cli(['--json', 'points', 'convert', '--node', node, '--proofs', proofs], caller),
    4,
    /were already converted/,
    'AlreadyConverted',
  );

  // a key that never registered cannot convert as a node; as an account it can
  refused(
    await cli(['--json', 'points', 'convert', '--node', stranger, '--proofs', proofs], caller),
    4,
    new RegExp(`Node ${stranger} is not registered`),
    'NodeNotRegistered',
  );
  // the guardian converts its own leaf (--account without a value: the signer)
  const guardianKey = generatePrivateKey();
  const guardianAddress = privateKeyToAccount(guardianKey).address;
  refused(
    await cli(['--json', 'points', 'convert', '--account', '--proofs', proofs], guardianKey),
    4,
    new RegExp(`${guardianAddress} has no rewards in the epoch 1 proofs`),
    'NoRewards',
  );
  const human = await cli(['points', 'convert', '--account', guardian, '--proofs', proofs], caller);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^Converted 20 points of ${guardian} into 10 SEND, paid to ${guardian}\\.`));
  assert.equal(await sendOf(guardian), parseEther('10'));

  // a document whose root is not the snapshot's
  const other = buildTree([rewardLeaf(stranger, strangerPoints), rewardLeaf(node, 1n)]);
  writeFileSync(
    join(dir, 'wrong.json'),
    JSON.stringify({
      epoch: 1,
      root: other.root,
      claims: { [stranger.toLowerCase()]: { cumulative: strangerPoints.toString(), proof: other.proof(0) } },
    }),
  );
  refused(
    await cli(['--json', 'points', 'convert', '--account', stranger, '--proofs', join(dir, 'wrong.json')], caller),
    4,
    /but the points snapshot is epoch 1 \(root 0x[0-9a-f]{64}\): use the snapshot epoch's document/,
    'StaleProofs',
  );

  // an address book without PointsConversion (a token deployment's) is refused
  const tokenBook = join(dir, 'token-book.json');
  const raw = JSON.parse(readFileSync(bookPath, 'utf8'));
  delete raw.contracts.PointsConversion;
  delete raw.contracts.TestnetPoints;
  writeFileSync(tokenBook, JSON.stringify(raw));
  refused(
    await cli(
      ['--json', '--deployments', tokenBook, 'points', 'convert', '--account', stranger, '--proofs', proofs],
      caller,
    ),
    4,
    /not in points mode: the address book .+ names no PointsConversion contract/,
    'NotPointsMode',
  );

  // graph-node indexes the points deployment: `sendnet points` reads points per epoch and conversions
  const graph = await startGraphNode({
    dataDir: join(dir, 'graph'),
    addressBookPath: bookPath,
    rpcUrl: anvil.rpcUrl,
    httpPort: await freePort(),
  });
  try {
    const head = Number(await publicClient.getBlockNumber());
    for (let i = 0; ; i++) {
      const meta = await graphql<{ _meta: { block: { number: number } } }>(
        graph.graphqlUrl,
        '{ _meta { block { number } } }',
      );
      if (meta._meta.block.number >= head) break;
      assert.ok(i < 600, `graph-node indexed up to block ${meta._meta.block.number} of ${head} within 5 min`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const env = { SENDNET_GRAPHQL: graph.graphqlUrl };
    const nodeDoc = json(await cli(['--json', 'points', '--node', node], undefined, env));
    assert.equal(nodeDoc.total, nodePoints.toString());
    assert.deepEqual(nodeDoc.epochs, [{ epoch: 1, points: nodePoints.toString() }]);
    assert.deepEqual(nodeDoc.converted, {
      points: nodePoints.toString(),
      send: (nodePoints / 2n).toString(),
      recipient: operator,
    });
    const operatorDoc = json(await cli(['--json', 'points', '--operator', operator], undefined, env));
    assert.equal(operatorDoc.total, nodePoints.toString());
    const guardianDoc = json(
      await cli(['--json', 'points', '--account', guardian, '--proofs', proofs], undefined, env),
    );
    assert.equal(guardianDoc.total, guardianPoints.toString());
    assert.deepEqual(guardianDoc.epochs, [{ epoch: 1, points: guardianPoints.toString() }]);
    const indexed = await graphql<{
      protocol: { pointsMode: boolean; rewardUnit: string };
      pointsConversion: { snapshotEpoch: number; totalFunded: string; totalConverted: string; conversionCount: number };
    }>(
      graph.graphqlUrl,
      '{ protocol(id: "protocol") { pointsMode rewardUnit } pointsConversion(id: "points") { snapshotEpoch totalFunded totalConverted conversionCount } }',
    );
    assert.deepEqual(indexed.protocol, { pointsMode: true, rewardUnit: 'points' });
    assert.deepEqual(indexed.pointsConversion, {
      snapshotEpoch: 1,
      totalFunded: required.toString(),
      totalConverted: (nodePoints / 2n + guardianPoints / 2n).toString(),
      conversionCount: 2,
    });
  } finally {
    await graph.stop();
  }

  // after the deadline nothing converts
  const deadline = await publicClient.readContract({
    address: conversion,
    abi: pointsConversionAbi,
    functionName: 'conversionDeadline',
  });
  await testClient().setNextBlockTimestamp({ timestamp: deadline + 1n });
  await testClient().mine({ blocks: 1 });
  refused(
    await cli(['--json', 'points', 'convert', '--account', stranger, '--proofs', proofs], caller),
    4,
    /The points conversion closed at /,
    'ConversionClosed',
  );
});
