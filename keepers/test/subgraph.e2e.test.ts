/**
 * The subgraph on graph-node itself (gnd dev) indexing a real anvil devnet: nodes registered with stake,
 * two epochs submitted with scores published, a DID registered and a reward claimed; GraphQL returns the
 * nodes, the epochs with their signed headers, the per-node results in rank order (the CLI's ranking
 * queries), `_meta` reports the indexed block, and a `block: {number}` query returns the earlier state.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, createTestClient, createWalletClient, http, parseEther, type Address, type PublicClient } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { freePort, startAnvil, type AnvilHandle } from '../src/chain/anvil.js';
import { deployProtocol } from '../src/chain/deploy.js';
import { devAccount, devPrivateKey } from '../src/chain/devAccounts.js';
import { settleDevEpoch } from '../src/chain/devEpoch.js';
import { registerNode } from '../src/chain/nodeRegistration.js';
import { didId } from '../src/chain/did.js';
import type { AddressBook } from '../src/config/addressBook.js';
import type { NodeScore } from '../src/core/epochHeader.js';
import { didRegistryAbi, epochSettlementAbi } from '../src/generated/contracts.js';
import { graphql, startGraphNode, type GraphNodeHandle } from '../src/infra/graphNode.js';

let anvil: AnvilHandle;
let book: AddressBook;
let bookPath: string;
let graphNode: GraphNodeHandle;
let dataDir: string;

before(async () => {
  anvil = await startAnvil();
  ({ book, path: bookPath } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) }));
  dataDir = mkdtempSync(join(tmpdir(), 'subgraph-e2e-'));
  graphNode = await startGraphNode({ rpcUrl: anvil.rpcUrl, addressBookPath: bookPath, dataDir, httpPort: await freePort() });
});

after(async () => {
  await graphNode?.stop();
  await anvil?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Waits until the subgraph has indexed `block`; returns the block `_meta` reports. */
async function indexed(block: bigint): Promise<number> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const data = await graphql<{ _meta: { block: { number: number }; hasIndexingErrors: boolean } }>(
      graphNode.graphqlUrl,
      '{ _meta { block { number } hasIndexingErrors } }',
    );
    assert.equal(data._meta.hasIndexingErrors, false, `indexing errors; see ${graphNode.logPath}`);
    if (BigInt(data._meta.block.number) >= block) return data._meta.block.number;
    if (Date.now() > deadline) throw new Error(`block ${block} not indexed within 120 s (at ${data._meta.block.number}); see ${graphNode.logPath}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Result {
  id: string;
  rank: number;
  score: number;
  availability: number;
  verifiedUnits: string;
  reward: string;
  node: { id: string };
}

/** The CLI's ranking by score: the latest fully published epoch (or `epoch`), in rank order. */
async function rankingByScore(top: number, block?: bigint): Promise<{ epoch: number; results: Result[] }> {
  const at = block === undefined ? '' : `block: {number: ${block}}, `;
  const latest = await graphql<{ epoches: { number: number }[] }>(
    graphNode.graphqlUrl,
    `{ epoches(${at}first: 1, orderBy: number, orderDirection: desc, where: {scoresPublished: true}) { number } }`,
  );
  const epoch = latest.epoches[0].number;
  const data = await graphql<{ nodeEpochResults: Result[] }>(
    graphNode.graphqlUrl,
    `query($n: Int!, $e: Int!) { nodeEpochResults(${at}first: $n, where: {epochNumber: $e}, orderBy: rank, orderDirection: asc) { id rank score availability verifiedUnits reward node { id } } }`,
    { n: top, e: epoch },
  );
  return { epoch, results: data.nodeEpochResults };
}

const expectedResults = (epoch: number, scores: NodeScore[]) =>
  [...scores]
    .sort((a, b) => a.rank - b.rank)
    .map((s) => ({
      id: `${epoch}-${s.nodeKey.toLowerCase()}`,
      rank: s.rank,
      score: s.score,
      availability: s.availability,
      verifiedUnits: s.verifiedUnits.toString(),
      reward: s.reward.toString(),
      node: { id: s.nodeKey.toLowerCase() },
    }));

test('graph-node indexes nodes, epochs, rankings and DIDs from the devnet; time travel and _meta', { timeout: 900_000 }, async () => {
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain: foundry, transport }) as PublicClient;
  const testClient = createTestClient({ chain: foundry, mode: 'anvil', transport });
  const operator = createWalletClient({ chain: foundry, transport, account: devAccount(1) }); // devnet treasury: holds SEND
  const keeper = createWalletClient({ chain: foundry, transport, account: devAccount(2) });
  const user = createWalletClient({ chain: foundry, transport, account: devAccount(8) });

  // three edge nodes with stake
  const nodeKeys = [0, 1, 2].map(() => privateKeyToAccount(generatePrivateKey()));
  const stakes = [parseEther('10000'), parseEther('15000'), parseEther('12000')];
  for (const [i, nodeKey] of nodeKeys.entries()) {
    await registerNode(operator, publicClient, {
      staking: book.contracts.NodeStaking,
      token: book.contracts.SendToken,
      nodeKey,
      stake: stakes[i],
      endpoint: `ws://node${i}.devnet:7000`,
      metadataURI: `ipfs://node${i}`,
    });
  }

  // epoch 1: node 1 first
  const score = (i: number, rank: number, s: number, availability: number, units: bigint, reward: bigint): NodeScore => ({
    nodeKey: nodeKeys[i].address,
    rank,
    score: s,
    availability,
    latencyP50Ms: 40 + i,
    latencyP95Ms: 120 + i,
    verifiedUnits: units,
    reward,
    faults: 0,
  });
  const scores1 = [score(1, 1, 990_000, 999_000, 5000n, parseEther('120')), score(0, 2, 950_000, 995_000, 3000n, parseEther('100')), score(2, 3, 400_000, 930_000, 100n, parseEther('10'))];
  const operatorAddress = operator.account.address;
  const total1 = scores1.reduce((a, s) => a + s.reward, 0n);
  const epoch1 = await settleDevEpoch(keeper, publicClient, testClient, {
    book,
    epoch: 1,
    scores: scores1,
    cumulative: new Map<Address, bigint>([[operatorAddress, total1]]),
    chunkSize: 2,
  });

  // a DID
  const didHash = await user.writeContract({ address: book.contracts.DidRegistry, abi: didRegistryAbi, functionName: 'register', args: ['alice'] });
  const didReceipt = await publicClient.waitForTransactionReceipt({ hash: didHash });
  const block1 = didReceipt.blockNumber;
  assert.equal(await indexed(block1), Number(block1), '_meta reports the indexed block, the chain head');

  const { node } = await graphql<{ node: Record<string, unknown> }>(
    graphNode.graphqlUrl,
    `{ node(id: "${nodeKeys[1].address.toLowerCase()}") { operator stake status strikes endpoint metadataURI latestEpoch latestRank latestScore latestAvailability latestVerifiedUnits latestReward totalVerifiedUnits cumulativeRewards } }`,
  );
  assert.deepEqual(node, {
    operator: operatorAddress.toLowerCase(),
    stake: stakes[1].toString(),
    status: 'Active',
    strikes: 0,
    endpoint: 'ws://node1.devnet:7000',
    metadataURI: 'ipfs://node1',
    latestEpoch: 1,
    latestRank: 1,
    latestScore: 990_000,
    latestAvailability: 999_000,
    latestVerifiedUnits: '5000',
    latestReward: parseEther('120').toString(),
    totalVerifiedUnits: '5000',
    cumulativeRewards: parseEther('120').toString(),
  });

  // the epoch carries the signed header (EpochSubmitted is tested here: gnd test cannot encode its tuple)
  const { epoch } = await graphql<{ epoch: Record<string, unknown> }>(
    graphNode.graphqlUrl,
    '{ epoch(id: "1") { number consensusVersion faultCount totalCumulative epochEmission rewardRoot faultRoot scoresHash dataHash seed status submitter submissions scoresPublished publishedCount } }',
  );
  assert.deepEqual(epoch, {
    number: 1,
    consensusVersion: 1,
    faultCount: 0,
    totalCumulative: total1.toString(),
    epochEmission: total1.toString(),
    rewardRoot: epoch1.header.rewardRoot,
    faultRoot: epoch1.header.faultRoot,
    scoresHash: epoch1.header.scoresHash,
    dataHash: epoch1.header.dataHash,
    seed: epoch1.header.seed,
    status: 'Pending',
    submitter: keeper.account.address.toLowerCase(),
    submissions: 1,
    scoresPublished: true,
    publishedCount: 3,
  });

  // rankings: by score (rank order), uptime, volume, rewards — the CLI's queries
  const ranking1 = await rankingByScore(10);
  assert.equal(ranking1.epoch, 1);
  assert.deepEqual(ranking1.results, expectedResults(1, scores1));
  const byUptime = await graphql<{ nodes: { id: string }[] }>(
    graphNode.graphqlUrl,
    '{ nodes(first: 10, orderBy: latestAvailability, orderDirection: desc, where: {latestEpoch_not: null}) { id } }',
  );
  assert.deepEqual(byUptime.nodes.map((n) => n.id), [1, 0, 2].map((i) => nodeKeys[i].address.toLowerCase()));
  const byVolume = await graphql<{ nodes: { id: string }[] }>(
    graphNode.graphqlUrl,
    '{ nodes(first: 10, orderBy: latestVerifiedUnits, orderDirection: desc, where: {latestEpoch_not: null}) { id } }',
  );
  assert.deepEqual(byVolume.nodes.map((n) => n.id), [1, 0, 2].map((i) => nodeKeys[i].address.toLowerCase()));

  const { dids } = await graphql<{ dids: { tokenId: string; name: string; owner: { id: string } }[] }>(
    graphNode.graphqlUrl,
    '{ dids { tokenId name owner { id } } }',
  );
  assert.deepEqual(dids, [{ tokenId: didId('alice').toString(), name: 'alice', owner: { id: user.account.address.toLowerCase() } }]);

  // epoch 2 reorders the ranking; its submission also finalizes epoch 1 (its dispute window has passed)
  const scores2 = [score(0, 1, 999_000, 999_500, 8000n, parseEther('150')), score(2, 2, 900_000, 990_000, 2000n, parseEther('60')), score(1, 3, 500_000, 940_000, 1000n, parseEther('20'))];
  const total2 = total1 + scores2.reduce((a, s) => a + s.reward, 0n);
  const epoch2 = await settleDevEpoch(keeper, publicClient, testClient, {
    book,
    epoch: 2,
    scores: scores2,
    cumulative: new Map<Address, bigint>([[operatorAddress, total2]]),
  });
  // epoch 1's dispute window may not have passed at epoch 2's submission when set-up ran late (a loaded
  // machine): let it pass and finalize explicitly, so the claim below never depends on timing
  const FINALIZED = 3;
  const status1 = await publicClient.readContract({ address: book.contracts.EpochSettlement, abi: epochSettlementAbi, functionName: 'epochStatus', args: [1] });
  if (status1 !== FINALIZED) {
    // exactly epoch 1's finalizeAt: epoch 2, submitted later, stays pending (asserted below)
    const [submitted1] = await publicClient.getContractEvents({ address: book.contracts.EpochSettlement, abi: epochSettlementAbi, eventName: 'EpochSubmitted', args: { epoch: 1 }, fromBlock: 0n });
    const latest = (await publicClient.getBlock()).timestamp;
    const at = BigInt(submitted1.args.finalizeAt!);
    await testClient.setNextBlockTimestamp({ timestamp: at > latest ? at : latest + 1n });
    const fin = await keeper.writeContract({ address: book.contracts.EpochSettlement, abi: epochSettlementAbi, functionName: 'finalizeEpochs', gas: 300_000n }); // explicit gas: no estimate against the previous block's time
    assert.equal((await publicClient.waitForTransactionReceipt({ hash: fin })).status, 'success');
  }
  assert.equal(
    await publicClient.readContract({ address: book.contracts.EpochSettlement, abi: epochSettlementAbi, functionName: 'epochStatus', args: [1] }),
    FINALIZED,
  );
  // claim what epoch 1 (now final) owes the operator: a SEND transfer out of the settlement
  const claimHash = await operator.writeContract({
    address: book.contracts.EpochSettlement,
    abi: epochSettlementAbi,
    functionName: 'claim',
    args: [operatorAddress, total1, epoch1.tree.proof(0)],
  });
  const block2 = (await publicClient.waitForTransactionReceipt({ hash: claimHash })).blockNumber;
  assert.ok(block2 > epoch2.lastBlock - 1n);
  await indexed(block2);

  const ranking2 = await rankingByScore(10);
  assert.equal(ranking2.epoch, 2);
  assert.deepEqual(ranking2.results, expectedResults(2, scores2));
  const epochs = await graphql<{ epoches: { number: number; status: string }[] }>(graphNode.graphqlUrl, '{ epoches(orderBy: number) { number status } }');
  assert.deepEqual(epochs.epoches, [
    { number: 1, status: 'Finalized' },
    { number: 2, status: 'Pending' },
  ]);
  const byRewards = await graphql<{ nodes: { id: string; cumulativeRewards: string }[] }>(
    graphNode.graphqlUrl,
    '{ nodes(first: 10, orderBy: cumulativeRewards, orderDirection: desc) { id cumulativeRewards } }',
  );
  assert.deepEqual(byRewards.nodes, [
    { id: nodeKeys[0].address.toLowerCase(), cumulativeRewards: parseEther('250').toString() },
    { id: nodeKeys[1].address.toLowerCase(), cumulativeRewards: parseEther('140').toString() },
    { id: nodeKeys[2].address.toLowerCase(), cumulativeRewards: parseEther('70').toString() },
  ]);
  const { account } = await graphql<{ account: { claimedRewards: string; claims: { amount: string }[] } }>(
    graphNode.graphqlUrl,
    `{ account(id: "${operatorAddress.toLowerCase()}") { claimedRewards claims { amount } } }`,
  );
  assert.deepEqual(account, { claimedRewards: total1.toString(), claims: [{ amount: total1.toString() }] });

  // time travel: at block1 the ranking, the node and the epoch are as they were after epoch 1
  const past = await rankingByScore(10, block1);
  assert.equal(past.epoch, 1);
  assert.deepEqual(past.results, expectedResults(1, scores1));
  const then = await graphql<{ node: { latestEpoch: number; latestRank: number; cumulativeRewards: string } }>(
    graphNode.graphqlUrl,
    `{ node(id: "${nodeKeys[0].address.toLowerCase()}", block: {number: ${block1}}) { latestEpoch latestRank cumulativeRewards } }`,
  );
  assert.deepEqual(then.node, { latestEpoch: 1, latestRank: 2, cumulativeRewards: parseEther('100').toString() });
  const now = await graphql<{ node: { latestEpoch: number; latestRank: number } }>(
    graphNode.graphqlUrl,
    `{ node(id: "${nodeKeys[0].address.toLowerCase()}") { latestEpoch latestRank } }`,
  );
  assert.deepEqual(now.node, { latestEpoch: 2, latestRank: 1 });
  const epochThen = await graphql<{ epoch: { status: string } }>(graphNode.graphqlUrl, `{ epoch(id: "1", block: {number: ${block1}}) { status } }`);
  assert.equal(epochThen.epoch.status, 'Pending');
  const meta = await graphql<{ _meta: { block: { number: number } } }>(graphNode.graphqlUrl, '{ _meta { block { number } } }');
  assert.equal(meta._meta.block.number, Number(block2));
});
