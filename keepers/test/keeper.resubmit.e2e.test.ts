/**
 * The keeper pipeline around who signed and voided epochs (issue 11 finding 4, part of 6), on a real chain
 * (anvil, 1 s blocks, the devnet deployment), a real Redis and seven real guardian services:
 * 1. Late signatures: one guardian is down while the keeper collects signatures, so epoch A is submitted
 *    with six; the guardian comes back, and the keeper (execute-faults, before A+1's seed block) asks it
 *    again and adds its signature with `addSignatures`: all seven are recorded and A+1's dataset pays all
 *    seven.
 * 2. Resubmission: the owner voids epoch B (dispute + resolveDispute(false)); the keeper re-runs score →
 *    signatures → submit for B (the guardians sign again) and B is submitted a second time and settles.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, http, type PublicClient } from 'viem';
import { foundry } from 'viem/chains';
import { pino } from 'pino';
import { freePort, startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../src/devnet/devAccounts.js';
import { forgeScratchDir } from '../src/dev/foundry.js';
import type { AddressBook } from '../src/chain/addressBook.js';
import { DEVNET_CONSENSUS } from '../src/core/consensus.js';
import { epochSettlementAbi } from '../src/generated/contracts.js';
import { ensureRedis, type RedisHandle } from '../src/infra/redis.js';
import { Keeper } from '../src/keeper/keeper.js';
import { GuardianService } from '../src/guardian/guardian.js';
import { deriveEpochFacts } from '../src/chain/epochFacts.js';

const quiet = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const TIMING = {
  openingsWindowSeconds: 2,
  transcriptGraceSeconds: 1,
  requestTimeoutMs: 1000,
  schedulerIntervalMs: 500,
  commitmentFetches: 1,
};

let anvil: AnvilHandle;
let book: AddressBook;
let bookPath: string;
let client: PublicClient;
let redis: RedisHandle;
let keeperPort: number;
let tmp: string;
let guardians: GuardianService[] = [];
let ports: number[] = [];
const guardianAccounts = [3, 4, 5, 6, 7, 8, 9];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

const settlement = () => book.contracts.EpochSettlement;
const status = (epoch: number) =>
  client.readContract({ address: settlement(), abi: epochSettlementAbi, functionName: 'epochStatus', args: [epoch] });
const entry = (epoch: number) =>
  client.readContract({ address: settlement(), abi: epochSettlementAbi, functionName: 'epochEntry', args: [epoch] });
const submissions = async (epoch: number) =>
  client.getContractEvents({
    address: settlement(),
    abi: epochSettlementAbi,
    eventName: 'EpochSubmitted',
    args: { epoch },
    fromBlock: BigInt(book.startBlock),
    strict: true,
  });

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'keeper-resubmit-'));
  anvil = await startAnvil({ blockTime: 1 });
  bookPath = join(forgeScratchDir('book'), 'addresses.json');
  ({ book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0), addressBookPath: bookPath }));
  client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) }) as PublicClient;
  redis = await ensureRedis({ url: `redis://127.0.0.1:${await freePort()}`, dataDir: join(tmp, 'redis') });
  keeperPort = await freePort();
  const contracts = {
    staking: book.contracts.NodeStaking,
    settlement: book.contracts.EpochSettlement,
    didRegistry: book.contracts.DidRegistry,
    license: book.contracts.WatchDogLicense,
    licenseRewards: book.contracts.LicenseRewards,
  };
  ports = await Promise.all(guardianAccounts.map(() => freePort()));
  guardians = guardianAccounts.map(
    (i, k) =>
      new GuardianService({
        rpcUrl: anvil.rpcUrl,
        privateKey: devPrivateKey(i),
        chainId: book.chainId,
        contracts,
        consensus: DEVNET_CONSENSUS,
        dataDir: join(tmp, `guardian-${i}`),
        fromBlock: BigInt(book.startBlock),
        logger: quiet,
        port: ports[k],
        // /sign: only the keeper (dev account 2), datasets only from its URL
        keepers: [devAccount(2).address],
        datasetOrigins: [`http://127.0.0.1:${keeperPort}`],
      }),
  );
});

after(async () => {
  await Promise.all(guardians.map((g) => g.stop()));
  await redis?.stop();
  await anvil?.stop();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(bookPath ?? join(tmp, 'none'), { force: true });
});

test('the keeper adds late guardian signatures and resubmits an epoch the chain voided', {
  timeout: 300_000,
}, async () => {
  // guardian 6 (dev account 9) is down at first; the others answer on fixed ports
  const urls = await Promise.all(guardians.slice(0, 6).map((g) => g.start()));
  const lateGuardian = guardians[6]!;
  const lateUrl = `http://127.0.0.1:${ports[6]}`;
  const keeper = new Keeper({
    rpcUrl: anvil.rpcUrl,
    addressBook: book,
    privateKey: devPrivateKey(2),
    redisUrl: redis.url,
    guardianUrls: [...urls, lateUrl],
    httpPort: keeperPort,
    dataDir: join(tmp, 'keeper'),
    timing: TIMING,
    lockDurationMs: 3000,
    log: quiet,
  });
  await keeper.start();
  try {
    // 1. Epoch 1 is submitted with the six signatures the keeper could get.
    const A = 1;
    await waitFor(`epoch ${A} submitted`, async () => (await status(A)) !== 0, 120_000);
    const [, members] = await client.readContract({
      address: settlement(),
      abi: epochSettlementAbi,
      functionName: 'activeGuardianSet',
    });
    const lateIndex = members.findIndex((m) => m.toLowerCase() === lateGuardian.address);
    const submittedBitmap = (await submissions(A))[0]!.args.signerBitmap;
    assert.equal(submittedBitmap, 0x7fn & ~(1n << BigInt(lateIndex)), 'submitted with the six reachable guardians');
    // the guardian comes back: the keeper asks again and adds its signature while epoch A is pending
    await lateGuardian.start();
    await waitFor('the late signature recorded', async () => (await entry(A)).signerBitmap === 0x7fn, 30_000);
    const added = await client.getContractEvents({
      address: settlement(),
      abi: epochSettlementAbi,
      eventName: 'SignaturesAdded',
      args: { epoch: A },
      fromBlock: BigInt(book.startBlock),
      strict: true,
    });
    assert.equal(added.length, 1);
    assert.equal(added[0]!.args.added, 1n << BigInt(lateIndex));
    assert.equal(added[0]!.args.by.toLowerCase(), devAccount(2).address.toLowerCase(), 'added by the keeper');
    // epoch A+1 pays all seven (if the late signature arrived before its seed block, as it does here)
    await waitFor(`epoch ${A + 1} submitted`, async () => (await status(A + 1)) !== 0, 90_000);
    const factsNext = await deriveEpochFacts(
      client,
      {
        staking: book.contracts.NodeStaking,
        settlement: settlement(),
        didRegistry: book.contracts.DidRegistry,
        license: book.contracts.WatchDogLicense,
        licenseRewards: book.contracts.LicenseRewards,
      },
      A + 1,
      { ...DEVNET_CONSENSUS, fromBlock: BigInt(book.startBlock) },
    );
    assert.equal(factsNext.signersPaid.length, 7, 'the late guardian is paid in the next epoch');

    // 2. The owner voids epoch B while it is pending; the keeper submits it again.
    const B = A + 2;
    await waitFor(`epoch ${B} submitted`, async () => (await status(B)) === 1, 90_000);
    const owner = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account: devAccount(0) });
    for (const functionName of ['dispute', 'resolveDispute'] as const) {
      const hash =
        functionName === 'dispute'
          ? await owner.writeContract({
              address: settlement(),
              abi: epochSettlementAbi,
              functionName,
              args: [B, 'test'],
            })
          : await owner.writeContract({
              address: settlement(),
              abi: epochSettlementAbi,
              functionName,
              args: [B, false],
            });
      assert.equal((await client.waitForTransactionReceipt({ hash })).status, 'success');
    }
    // voided (the keeper may already be resubmitting it by now)
    const voided = await client.getContractEvents({
      address: settlement(),
      abi: epochSettlementAbi,
      eventName: 'EpochsVoided',
      fromBlock: BigInt(book.startBlock),
      strict: true,
    });
    assert.equal(voided.length, 1);
    assert.equal(voided[0]!.args.fromEpoch, B);
    await waitFor(
      `epoch ${B} submitted again`,
      async () => (await submissions(B)).length === 2 && (await status(B)) !== 0,
      90_000,
    );
    const [first, second] = await submissions(B);
    assert.equal(second!.args.header.epoch, B);
    assert.equal(second!.args.signerBitmap, 0x7fn, 'the guardians signed the resubmission');
    assert.notEqual(first!.transactionHash, second!.transactionHash);
    // and settlement goes on after it
    await waitFor(`epoch ${B + 1} submitted`, async () => (await status(B + 1)) !== 0, 90_000);
  } finally {
    await keeper.stop();
  }
});
