/**
 * Buyers never depend on the owner, on a real anvil with the protocol deployed by the deploy script
 * (config/devnet.json's self-refund and refund-deadline offsets) and the `sendnet` CLI run as a user runs
 * it: before the self-refund time a refund is refused with the deadlines explained; from it, with no owner
 * action, the sale is expired, the licenses are void (the operator key the keeper and guardians read is
 * zero, so a WatchDog commit is refused) and each holder refunds itself; at the refund deadline refunds
 * end and anyone sweeps the unrefunded money to the treasury.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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
import { deployProtocol } from '../src/devnet/deploy.js';
import { devPrivateKey } from '../src/devnet/devAccounts.js';
import type { AddressBook } from '../src/chain/addressBook.js';
import { watchdogOperatorsAt } from '../src/chain/epochFacts.js';
import { commitSignerRefusal } from '../src/core/watchdogAcceptance.js';
import { watchDogLicenseAbi, watchDogPresaleAbi } from '../src/generated/contracts.js';
import { isOneSentence, runSendnet, type CliRun } from './cliHarness.js';

let anvil: AnvilHandle;
let book: AddressBook;
let bookPath: string;
let publicClient: PublicClient;
const transport = () => http(anvil.rpcUrl);
const testClient = () => createTestClient({ chain: foundry, mode: 'anvil', transport: transport() });

before(async () => {
  anvil = await startAnvil();
  ({ book, path: bookPath } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) }));
  publicClient = createPublicClient({ chain: foundry, transport: transport() }) as PublicClient;
});
after(async () => anvil?.stop());

function cli(args: readonly string[], key?: Hex): Promise<CliRun> {
  return runSendnet(args, { SENDNET_RPC: anvil.rpcUrl, SENDNET_DEPLOYMENTS: bookPath, SENDNET_PRIVATE_KEY: key });
}
const json = (run: CliRun) => {
  assert.equal(run.code, 0, `expected success, got exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
};
function refused(run: CliRun, exitCode: number, pattern: RegExp) {
  assert.equal(run.code, exitCode, `exit code (stderr: ${run.stderr})`);
  assert.ok(isOneSentence(run.stderr), `one sentence, no stack trace:\n${run.stderr}`);
  assert.match(run.stderr, pattern);
}
async function freshAccount(): Promise<{ key: Hex; address: Address }> {
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  await testClient().setBalance({ address, value: parseEther('10') });
  return { key, address };
}
async function warpTo(timestamp: number) {
  const now = Number((await publicClient.getBlock()).timestamp);
  if (timestamp > now) await testClient().setNextBlockTimestamp({ timestamp: BigInt(timestamp) });
  await testClient().mine({ blocks: 1 });
}
const presaleRead = <T>(functionName: string) =>
  publicClient.readContract({
    address: book.contracts.WatchDogPresale,
    abi: watchDogPresaleAbi,
    functionName: functionName as 'selfRefundTime',
    args: [],
  }) as Promise<T>;

test('an unfinalized sale: self-refund without the owner, void licenses refuse commits, refunds end at the deadline, then the sweep', async () => {
  const selfRefundTime = await presaleRead<number>('selfRefundTime');
  const refundDeadline = await presaleRead<number>('refundDeadline');
  const schedule = await presaleRead<{ publicStart: number; publicEnd: number }>('schedule');
  assert.ok(
    schedule.publicEnd <= selfRefundTime && selfRefundTime < refundDeadline,
    'deadlines from the deploy config',
  );

  // two buyers in the public phase (0.1 ETH each in the first tier)
  const alice = await freshAccount();
  const bob = await freshAccount();
  await warpTo(schedule.publicStart);
  const bought = json(await cli(['--json', 'presale', 'buy', '--quantity', '2', '--max-total-cost', '0.2'], alice.key));
  assert.deepEqual(bought.tokenIds, ['1', '2']);
  json(await cli(['--json', 'presale', 'buy', '--quantity', '1', '--max-total-cost', '0.1'], bob.key));
  const operatorKey = privateKeyToAccount(generatePrivateKey()).address;
  json(await cli(['--json', 'license', 'activate', '1', '--operator', operatorKey], alice.key));

  // active: status states the deadlines, a refund is refused before any transaction
  const status = json(await cli(['--json', 'presale', 'status']));
  assert.equal(status.status, 'active');
  assert.equal(status.selfRefundTime, selfRefundTime);
  assert.equal(status.refundDeadline, refundDeadline);
  assert.match(
    status.refunds,
    /^if the sale is neither finalized nor cancelled by .+, every holder refunds itself, without the owner, until /,
  );
  refused(
    await cli(['presale', 'refund', '1'], alice.key),
    4,
    /No refund now\. Refunds: if the sale is neither finalized nor cancelled by /,
  );
  const liveBlock = Number((await publicClient.getBlock()).number);

  // the owner does nothing: at the self-refund time the sale is expired and its licenses void
  await warpTo(selfRefundTime);
  const expired = json(await cli(['--json', 'presale', 'status']));
  assert.equal(expired.status, 'expired');
  assert.match(
    expired.refunds,
    /^open: the sale was neither finalized nor cancelled by .+ holders refund themselves until /,
  );
  const voidBlock = Number((await publicClient.getBlock()).number);
  const [before, after] = await Promise.all([
    watchdogOperatorsAt(publicClient, book.contracts.WatchDogLicense, [1n], liveBlock),
    watchdogOperatorsAt(publicClient, book.contracts.WatchDogLicense, [1n], voidBlock),
  ]);
  assert.equal(before.get('1'), operatorKey.toLowerCase(), 'operator while the sale stood');
  assert.equal(after.get('1'), '0x0000000000000000000000000000000000000000', 'void license: no operator');
  // what the keeper answers a commit signed by the former operator key
  assert.equal(
    commitSignerRefusal('1', operatorKey.toLowerCase() as Address, after.get('1')!)?.code,
    'unknown-license',
  );
  refused(
    await cli(['license', 'activate', '2', '--operator', operatorKey], alice.key),
    4,
    /License 2 is void: its sale was cancelled or expired unfinalized/,
  );
  // the owner can no longer finalize
  await assert.rejects(
    publicClient.simulateContract({
      account: privateKeyToAccount(devPrivateKey(0)),
      address: book.contracts.WatchDogPresale,
      abi: watchDogPresaleAbi,
      functionName: 'finalizeSale',
      args: [],
    }),
    /SaleNotActive/,
  );

  // self-refund: someone else's license is refused, the holder's own paid back exactly, twice refused
  refused(await cli(['presale', 'refund', '1'], bob.key), 4, /License 1 is held by 0x[0-9a-fA-F]{40}, not by /);
  const balanceBefore = await publicClient.getBalance({ address: alice.address });
  const refund = json(await cli(['--json', 'presale', 'refund', '1', '2'], alice.key));
  assert.equal(refund.status, 'expired');
  assert.equal(refund.ethAmount, parseEther('0.2').toString());
  const balanceAfter = await publicClient.getBalance({ address: alice.address });
  assert.ok(balanceAfter - balanceBefore > parseEther('0.199'), 'refund minus gas');
  refused(await cli(['presale', 'refund', '1'], alice.key), 4, /License 1 was already refunded/);
  refused(await cli(['presale', 'refund', '7', '7'], alice.key), 2, /listed twice/);

  // the refund deadline: bob never refunded; refunds end, anyone sweeps his 0.1 ETH to the treasury
  await warpTo(refundDeadline);
  refused(await cli(['presale', 'refund', '3'], bob.key), 4, /No refund now\. Refunds: refunds ended at /);
  const treasury = await presaleRead<Address>('treasury');
  const treasuryBefore = await publicClient.getBalance({ address: treasury });
  const anyone = await freshAccount();
  const hash = await createWalletClient({
    chain: foundry,
    transport: transport(),
    account: privateKeyToAccount(anyone.key),
  }).writeContract({
    address: book.contracts.WatchDogPresale,
    abi: watchDogPresaleAbi,
    functionName: 'sweepUnrefunded',
    args: [],
  });
  assert.equal((await publicClient.waitForTransactionReceipt({ hash })).status, 'success');
  assert.equal((await publicClient.getBalance({ address: treasury })) - treasuryBefore, parseEther('0.1'));
  assert.equal(await publicClient.getBalance({ address: book.contracts.WatchDogPresale }), 0n);
  const owner = await publicClient.readContract({
    address: book.contracts.WatchDogLicense,
    abi: watchDogLicenseAbi,
    functionName: 'ownerOf',
    args: [3n],
  });
  assert.equal(owner, bob.address, 'an unrefunded license stays, void');
});
