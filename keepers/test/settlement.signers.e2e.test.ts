/**
 * Who is paid as a guardian, disputes and voided epochs (issue 11 finding 4, part of 6) on a real anvil
 * with the deployed protocol and real guardian services (GuardianService: fetch, chain checks,
 * evaluateEpoch, signing):
 * (a) an epoch submitted through a forwarder contract: the next epoch's facts (chain/epochFacts.ts) read
 *     its signers from storage and the guardians sign the next epoch (calldata decoding threw here);
 * (b) an epoch submitted by a contract reusing `submitEpoch`'s selector whose calldata claims one guardian:
 *     the next epoch pays the recorded signers, not the claimed one;
 * (c) that submitter passed only T = 5 of 7 signatures: the other two, added with `addSignatures`, are
 *     paid too;
 * (d) one guardian's dispute does not stop finality; three do, and the unresolved dispute expires to a void;
 * (e) the voided epoch is signed again, with a different header, by the guardians that signed the voided
 *     one, and settles; a third header for it is still refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWalletClient, encodeFunctionData, http, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { GuardianService } from '../src/guardian/guardian.js';
import {
  canonicalJson,
  datasetFromParts,
  datasetHash,
  evaluateEpoch,
  type DatasetParts,
  type EpochDataset,
} from '../src/core/dataset.js';
import { toCompactSignature, type EpochHeader } from '../src/core/epochHeader.js';
import { headerToWire } from '../src/core/guardianApi.js';
import { generateDeviceKey } from '../src/core/relay.js';
import { deriveEpochFacts } from '../src/chain/epochFacts.js';
import { ChainReader } from '../src/keeper/chain.js';
import { loadArtifact } from '../src/devnet/artifacts.js';
import { devAccount } from '../src/devnet/devAccounts.js';
import { epochSettlementAbi } from '../src/generated/contracts.js';
import { DEVNET_CONSENSUS } from '../src/core/consensus.js';
import { buildFixture, type Device, type Fixture } from './helpers/epochFixture.js';
import {
  currentEpoch,
  epochStartOf,
  guardianKeys,
  mineAt,
  mintLicense,
  registerDevice,
  registerNode,
  startProtocolChain,
  submitEmptyEpochs,
  type ProtocolChain,
} from './helpers/protocolChain.js';

let chain: ProtocolChain;
let server: Server;
let baseUrl: string;
const served = new Map<string, string>();
const dataDirs: string[] = [];

before(async () => {
  chain = await startProtocolChain();
  server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(body ?? '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await chain?.stop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** The latest chain time this test mined to (ms): the guardians' clock. */
let chainNowMs = 0;
async function mineTo(timestamp: number): Promise<void> {
  await mineAt(chain, timestamp);
  chainNowMs = Math.max(chainNowMs, timestamp * 1000);
}

const signRequest = (dataset: EpochDataset, header: EpochHeader) => {
  const dataHash = datasetHash(dataset);
  served.set(`/datasets/${dataHash}.json`, canonicalJson(dataset));
  return {
    epoch: dataset.epoch,
    datasetUrl: `${baseUrl}/datasets/${dataHash}.json`,
    dataHash,
    header: headerToWire(header),
  };
};

test('paid guardians come from storage whoever submits; disputes need three votes and expire; a voided epoch is re-signed', async () => {
  const c = chain;
  const grace = DEVNET_CONSENSUS.commitGraceSeconds;
  const settlement = c.contracts.settlement;
  const wallet = (i: number) =>
    createWalletClient({ chain: foundry, transport: http(c.anvil.rpcUrl), account: devAccount(i) });
  const send = async (i: number, call: Parameters<ReturnType<typeof wallet>['writeContract']>[0]) => {
    const receipt = await c.publicClient.waitForTransactionReceipt({ hash: await wallet(i).writeContract(call) });
    assert.equal(receipt.status, 'success', `${call.functionName} succeeded`);
    return receipt;
  };
  const status = (epoch: number) =>
    c.publicClient.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'epochStatus',
      args: [epoch],
    });
  const entry = (epoch: number) =>
    c.publicClient.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'epochEntry',
      args: [epoch],
    });
  const facts = (epoch: number) =>
    deriveEpochFacts(c.publicClient, c.contracts, epoch, { ...DEVNET_CONSENSUS, fromBlock: BigInt(c.book.startBlock) });

  // On-chain identities (as in guardian.e2e): devices, staked nodes, licensed WatchDogs.
  const devices: Device[] = [];
  for (const name of ['alice', 'bob', 'carol', 'dave']) {
    const key = generateDeviceKey();
    devices.push({ key, did: await registerDevice(c, generatePrivateKey(), name, key) });
  }
  const nodes = [0, 1, 2].map((i) => ({
    privateKey: generatePrivateKey(),
    operatorPrivateKey: generatePrivateKey(),
    stake: (20_000n + BigInt(i) * 1_000n) * 10n ** 18n,
    endpoint: `ws://127.0.0.1:${9200 + i}`,
  }));
  for (const n of nodes)
    await registerNode(c, {
      nodePrivateKey: n.privateKey,
      operatorPrivateKey: n.operatorPrivateKey,
      stake: n.stake,
      endpoint: n.endpoint,
    });
  const watchdogList: { tokenId: bigint; privateKey: Hex; owner: Address }[] = [];
  for (let i = 0; i < 4; i++) {
    const operatorKey = generatePrivateKey();
    const holderKey = generatePrivateKey();
    watchdogList.push({
      owner: privateKeyToAccount(holderKey).address,
      tokenId: await mintLicense(c, holderKey, privateKeyToAccount(operatorKey).address),
      privateKey: operatorKey,
    });
  }
  const build = (
    epoch: number,
    f: Awaited<ReturnType<typeof facts>>,
    behaviours: Fixture['nodes'][number]['behaviour'][],
    overrides: Partial<DatasetParts> = {},
  ) =>
    buildFixture({
      epoch,
      chainId: c.book.chainId,
      contracts: c.contracts,
      epochStart: f.epochStart,
      epochDuration: f.epochEnd - f.epochStart,
      behaviours,
      nodes: f.nodes.map((fn) => {
        const n = nodes.find((x) => privateKeyToAccount(x.privateKey).address.toLowerCase() === fn.nodeKey)!;
        return {
          privateKey: n.privateKey,
          operator: fn.operator as Address,
          stake: BigInt(fn.stake),
          endpoint: fn.endpoint,
        };
      }),
      deviceList: devices,
      watchdogList,
      blocks: { start: f.startBlock, seed: f.seed, assign: f.assignSeed },
      overrides: {
        guardianSet: f.guardianSet,
        signersPaid: f.signersPaid,
        previousCumulative: [],
        previousLicenseCumulative: [],
        ...overrides,
      },
    });

  const keys = guardianKeys();
  const guardians = keys.map((k) => {
    const dir = mkdtempSync(join(tmpdir(), 'guardian-'));
    dataDirs.push(dir);
    return new GuardianService({
      rpcUrl: c.anvil.rpcUrl,
      privateKey: k,
      chainId: c.book.chainId,
      contracts: c.contracts,
      consensus: DEVNET_CONSENSUS,
      dataDir: dir,
      fromBlock: BigInt(c.book.startBlock),
      datasetOrigins: [baseUrl], // this test's dataset server (sign() is called directly: no keeper auth)
      // The test moves the chain's clock (mineAt): the guardians read time from it, and with no openings
      // window or transcript grace configured an epoch is signable from its commit deadline on.
      nowMs: () => Math.max(Date.now(), chainNowMs),
      openingsWindowSeconds: 0,
      transcriptGraceSeconds: 0,
      observeIntervalMs: 0,
    });
  });
  const [, memberList] = await c.publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'activeGuardianSet',
  });
  const members = [...memberList].map((m) => m.toLowerCase() as Address);
  const lower = (k: Hex) => privateKeyToAccount(k).address.toLowerCase() as Address;
  /** Every guardian signs; returns the signatures by member address. */
  const signAll = async (dataset: EpochDataset, header: EpochHeader, who = guardians) => {
    const out = new Map<Address, Hex>();
    for (const g of who) {
      const r = await g.sign(signRequest(dataset, header));
      assert.equal(r.status, 200, `guardian ${g.address} signs epoch ${dataset.epoch}: ${JSON.stringify(r.body)}`);
      out.set(g.address, r.body.signature as Hex);
    }
    return out;
  };
  /** submitEpoch arguments with the signatures of `signers` (addresses) only. */
  const quorum = (sigs: Map<Address, Hex>, signers: readonly Address[]) => {
    let bitmap = 0n;
    const signatures: { r: Hex; vs: Hex }[] = [];
    members.forEach((m, i) => {
      if (!signers.includes(m)) return;
      bitmap |= 1n << BigInt(i);
      signatures.push(toCompactSignature(sigs.get(m)!));
    });
    return { bitmap, signatures };
  };
  const deploy = async (name: string, args: unknown[] = []) => {
    const artifact = loadArtifact('SubmitterContracts.sol', name);
    const hash = await wallet(2).deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args });
    const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
    return { address: receipt.contractAddress!, abi: artifact.abi };
  };

  // Epochs before E−1 settle empty, directly; E−1 through a forwarder contract (a) with guardians 2..6.
  const E = (await currentEpoch(c)) + 2;
  await mineTo(await epochStartOf(c, E));
  await submitEmptyEpochs(c, E - 2, keys.slice(0, 5));
  const forwarder = await deploy('SubmitForwarder');
  const emptyHeader: EpochHeader = {
    epoch: E - 1,
    consensusVersion: 1,
    faultCount: 0,
    totalCumulative: 0n,
    epochEmission: 0n,
    rewardRoot: `0x${'00'.repeat(32)}`,
    faultRoot: `0x${'00'.repeat(32)}`,
    scoresHash: `0x${'00'.repeat(31)}01`,
    dataHash: `0x${'11'.repeat(32)}`,
    seed: `0x${'22'.repeat(32)}`,
  };
  const domainDigest = await c.publicClient.readContract({
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'headerDigest',
    args: [emptyHeader],
  });
  const forwardedSigners = keys.slice(2, 7);
  const forwardedSigs = new Map<Address, Hex>();
  for (const k of forwardedSigners)
    forwardedSigs.set(lower(k), await privateKeyToAccount(k).sign({ hash: domainDigest }));
  const fq = quorum(forwardedSigs, forwardedSigners.map(lower));
  await send(2, {
    address: forwarder.address,
    abi: forwarder.abi,
    functionName: 'forward',
    args: [
      settlement,
      encodeFunctionData({
        abi: epochSettlementAbi,
        functionName: 'submitEpoch',
        args: [emptyHeader, members, fq.bitmap, fq.signatures],
      }),
    ],
  });

  // Epoch E: its paid set is E−1's recorded signers; every guardian checks and signs.
  const start = await epochStartOf(c, E);
  await mineTo(start + c.book.epochDurationSeconds + grace);
  const factsE = await facts(E);
  assert.deepEqual(factsE.signersPaid, forwardedSigners.map(lower).sort(), '(a) signers of the forwarded epoch');
  const reader = new ChainReader(c.publicClient, c.book);
  const forwarded = await reader.submission(E - 1);
  assert.equal(forwarded!.submitter.toLowerCase(), forwarder.address.toLowerCase());
  assert.deepEqual(forwarded!.signers.map((s) => s.toLowerCase()).sort(), forwardedSigners.map(lower).sort());
  const fixtureE = await build(E, factsE, ['honest', 'inflated', 'honest']);
  const evalE = await evaluateEpoch(fixtureE.dataset);
  const sigsE = await signAll(fixtureE.dataset, evalE.header);

  // (b) + (c): E submitted by a selector-reusing contract with exactly T = 5 signatures (guardians 0..4);
  // its calldata claims guardian 6 alone signed.
  const reuser = await deploy('SelectorReusingSubmitter', [settlement]);
  const firstFive = keys.slice(0, 5).map(lower);
  const q5 = quorum(sigsE, firstFive);
  await send(2, {
    address: reuser.address,
    abi: reuser.abi,
    functionName: 'load',
    args: [
      encodeFunctionData({
        abi: epochSettlementAbi,
        functionName: 'submitEpoch',
        args: [evalE.header, members, q5.bitmap, q5.signatures],
      }),
    ],
  });
  const g6 = lower(keys[6]!);
  const claimed = quorum(sigsE, [g6]);
  await send(2, {
    address: reuser.address,
    abi: reuser.abi,
    functionName: 'submitEpoch',
    args: [evalE.header, members, claimed.bitmap, claimed.signatures],
  });
  assert.equal((await entry(E)).signerBitmap, q5.bitmap, 'the chain records the five real signers');
  // the two left out are added by anyone (dev account 1), one transaction each
  for (const k of keys.slice(5)) {
    const one = quorum(sigsE, [lower(k)]);
    await send(1, {
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'addSignatures',
      args: [E, members, one.bitmap, one.signatures],
    });
  }
  assert.equal((await entry(E)).signerBitmap, (1n << 7n) - 1n);
  const onChainE = await reader.submission(E);
  assert.equal(onChainE!.signers.length, 7);
  assert.equal(onChainE!.submitter.toLowerCase(), reuser.address.toLowerCase());

  // (d) one guardian's dispute is a vote: E still finalizes after its window.
  await send(2 + 7, { address: settlement, abi: epochSettlementAbi, functionName: 'dispute', args: [E, 'one'] });
  assert.equal(await status(E), 1, 'Pending after one vote');

  // Epoch E+1: pays all seven (storage), not guardian 6 alone (calldata), nor only the five submitted.
  const startNext = start + c.book.epochDurationSeconds;
  await mineTo(startNext + c.book.epochDurationSeconds + grace);
  await send(2, { address: settlement, abi: epochSettlementAbi, functionName: 'finalizeEpochs' });
  assert.equal(await status(E), 3, '(d) E finalized despite one dispute vote');
  const factsNext = await facts(E + 1);
  assert.deepEqual(factsNext.signersPaid, [...members].sort(), '(b)(c) all seven recorded signers are paid');
  const previous = {
    previousCumulative: evalE.result.cumulative.map((x) => ({ account: x.account, cumulative: x.cumulative })),
    previousLicenseCumulative: evalE.result.licenseCumulative,
  };
  const fixtureNext = await build(E + 1, factsNext, ['honest', 'silent', 'no-commit'], previous);
  const evalNext = await evaluateEpoch(fixtureNext.dataset);
  const guardianShare = evalNext.result.cumulative.filter((x) => members.includes(x.account.toLowerCase() as Address));
  assert.equal(guardianShare.length, 7, 'the guardian share of E+1 pays seven guardians');
  const sigsNext = await signAll(fixtureNext.dataset, evalNext.header);
  const qNext = quorum(sigsNext, members.slice(0, 5));
  await send(2, {
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'submitEpoch',
    args: [evalNext.header, members, qNext.bitmap, qNext.signatures],
  });

  // (d) three guardians' votes dispute E+1; nobody resolves it; it expires and anyone voids it.
  for (const i of [3, 4, 5]) {
    await send(i, {
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'dispute',
      args: [E + 1, `vote ${i}`],
    });
  }
  assert.equal(await status(E + 1), 2, 'Disputed after three votes');
  const expiresAt = (await entry(E + 1)).finalizeAt;
  await mineTo(expiresAt);
  const expired = await send(1, {
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'expireDispute',
    args: [E + 1],
  });
  assert.ok(expired.logs.length >= 2, 'DisputeExpired and EpochsVoided');
  assert.equal(await status(E + 1), 0, '(d) the expired dispute voided E+1');

  // (e) another valid header for E+1 (a transcript left out): the guardians that signed the voided one sign it.
  const fixtureAgain = datasetFromParts({ ...fixtureNext.parts, transcripts: fixtureNext.parts.transcripts.slice(1) });
  const evalAgain = await evaluateEpoch(fixtureAgain);
  assert.notEqual(evalAgain.header.dataHash, evalNext.header.dataHash);
  const sigsAgain = await signAll(fixtureAgain, evalAgain.header);
  // the guardian's record keeps the voided header's digest
  const record = JSON.parse(readFileSync(join(guardians[0]!.dataDir, 'signed-epochs.json'), 'utf8'))[String(E + 1)];
  assert.equal(
    record.digest,
    await c.publicClient.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'headerDigest',
      args: [evalAgain.header],
    }),
  );
  assert.equal(record.replaced.length, 1);
  assert.equal(record.replaced[0].voidedAtBlock, Number(expired.blockNumber));
  const qAgain = quorum(sigsAgain, members);
  await send(2, {
    address: settlement,
    abi: epochSettlementAbi,
    functionName: 'submitEpoch',
    args: [evalAgain.header, members, qAgain.bitmap, qAgain.signatures],
  });
  assert.equal(await status(E + 1), 1, '(e) the voided epoch is settled again');
  assert.equal((await entry(E + 1)).signerBitmap, (1n << 7n) - 1n);
  // not voided since: a third header for E+1 is refused
  const third = datasetFromParts({ ...fixtureNext.parts, transcripts: fixtureNext.parts.transcripts.slice(2) });
  const refusal = await guardians[0]!.sign(signRequest(third, (await evaluateEpoch(third)).header));
  assert.equal(refusal.status, 409);
  assert.equal(refusal.body.error, 'already-signed');
});
