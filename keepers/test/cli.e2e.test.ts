/**
 * The `sendnet` CLI drives the three user journeys against a real anvil with the protocol deployed by the
 * deploy script, run as a child process exactly as a user runs it (`node bin/sendnet.mjs …`): node
 * operator (register, stake, status, unbond, claim), WatchDog buyer (allowlist phase with a proof from the
 * published allowlist file, then the public phase, ETH and stablecoin, license activation and reward
 * claim), DID holder (register, keys, wallet link with EIP-712 consent, ENS resolution, keystore signer).
 * Every failure a user can cause must exit non-zero with one sentence on stderr and change nothing.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseAbi,
  parseEther,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { freePort, startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../src/devnet/devAccounts.js';
import { didId } from '../src/chain/did.js';
import type { AddressBook } from '../src/chain/addressBook.js';
import { collectQuorumSignatures, settlementDomain, type EpochHeader } from '../src/core/epochHeader.js';
import { buildTree, licenseRewardLeaf, rewardLeaf } from '../src/core/merkle.js';
import {
  didRegistryAbi,
  epochSettlementAbi,
  nodeStakingAbi,
  sendTokenAbi,
  watchDogLicenseAbi,
  watchDogPresaleAbi,
} from '../src/generated/contracts.js';
import { isOneSentence, runSendnet, type CliRun } from './cliHarness.js';

const ZERO: Hex = `0x${'0'.repeat(64)}`;
let anvil: AnvilHandle;
let book: AddressBook;
let bookPath: string;
let publicClient: PublicClient;
let dir: string;
const transport = () => http(anvil.rpcUrl);
const testClient = () => createTestClient({ chain: foundry, mode: 'anvil', transport: transport() });
const wallet = (key: Hex) =>
  createWalletClient({ chain: foundry, transport: transport(), account: privateKeyToAccount(key) });

/** Runs the CLI against the test chain, signing with `key` (if any). */
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
/** Asserts a user-caused failure: the exit code, one sentence on stderr matching `pattern`. */
function refused(run: CliRun, exitCode: number, pattern: RegExp) {
  assert.equal(run.code, exitCode, `exit code (stderr: ${run.stderr})`);
  assert.ok(isOneSentence(run.stderr), `one sentence, no stack trace:\n${run.stderr}`);
  assert.match(run.stderr, pattern);
}

async function mined(hash: Hex) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success');
}

/** A fresh account with 10 ETH. */
async function freshAccount(): Promise<{ key: Hex; address: Address }> {
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  await testClient().setBalance({ address, value: parseEther('10') });
  return { key, address };
}

async function warpTo(timestamp: bigint | number) {
  const now = (await publicClient.getBlock()).timestamp;
  if (BigInt(timestamp) > now) await testClient().setNextBlockTimestamp({ timestamp: BigInt(timestamp) });
  await testClient().mine({ blocks: 1 });
}

// accounts of the journeys
let operator: { key: Hex; address: Address };
let buyerA: { key: Hex; address: Address };
let buyerB: { key: Hex; address: Address };
let allowlistPath: string;
let allowlistStart: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sendnet-cli-'));
  anvil = await startAnvil();
  ({ book, path: bookPath } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) }));
  publicClient = createPublicClient({ chain: foundry, transport: transport() }) as PublicClient;

  // the sale owner (dev account 0) schedules the allowlist phase before the public phase starts
  buyerA = await freshAccount();
  buyerB = await freshAccount();
  const outsider = privateKeyToAccount(generatePrivateKey()).address;
  allowlistPath = join(dir, 'allowlist.json');
  const built = await runSendnet([
    'presale',
    'allowlist',
    `${buyerA.address}:3`,
    `${outsider}:5`,
    '--out',
    allowlistPath,
  ]);
  assert.equal(built.code, 0, built.stderr);
  const doc = JSON.parse(readFileSync(allowlistPath, 'utf8')) as { root: Hex };
  allowlistStart = Number((await publicClient.getBlock()).timestamp) + 60;
  await mined(
    await wallet(devPrivateKey(0)).writeContract({
      address: book.contracts.WatchDogPresale,
      abi: watchDogPresaleAbi,
      functionName: 'setAllowlistPhase',
      args: [{ start: allowlistStart, end: allowlistStart + 300, reserve: 50, merkleRoot: doc.root }],
    }),
  );

  // the node operator gets SEND from the treasury (dev account 1)
  operator = await freshAccount();
  await mined(
    await wallet(devPrivateKey(1)).writeContract({
      address: book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'transfer',
      args: [operator.address, parseEther('50000')],
    }),
  );
});

after(async () => {
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('presale journey', () => {
  test('allowlist phase: not open yet, then a purchase with the proof from the allowlist file; price and cap errors', async () => {
    refused(
      await cli(['presale', 'buy', '--allowlist', allowlistPath, '--quantity', '2'], buyerA.key),
      4,
      /allowlist sale is not open yet: it opens at/,
    );
    await warpTo(allowlistStart);

    const bought = json(
      await cli(['--json', 'presale', 'buy', '--allowlist', allowlistPath, '--quantity', '2'], buyerA.key),
    );
    assert.equal(bought.phase, 'allowlist');
    assert.deepEqual(bought.tokenIds, ['1', '2']);
    assert.equal(bought.cost, parseEther('0.2').toString());
    const balance = await publicClient.readContract({
      address: book.contracts.WatchDogLicense,
      abi: watchDogLicenseAbi,
      functionName: 'balanceOf',
      args: [buyerA.address],
    });
    assert.equal(balance, 2n);

    // price above the buyer's max, then above the allowance: nothing is bought
    refused(
      await cli(['presale', 'buy', '--allowlist', allowlistPath, '--max-total-cost', '0.05'], buyerA.key),
      4,
      /price is above your maximum: 0\.1 ETH is needed but --max-total-cost is 0\.05 ETH/,
    );
    refused(
      await cli(['presale', 'buy', '--allowlist', allowlistPath, '--quantity', '2'], buyerA.key),
      4,
      /Cap reached: .* may buy 3 licenses in the allowlist phase, has bought 2/,
    );
    refused(await cli(['presale', 'buy', '--allowlist', allowlistPath], buyerB.key), 4, /is not on the allowlist/);
    // the public phase has not started yet
    refused(await cli(['presale', 'buy', '--quantity', '1'], buyerB.key), 4, /public sale is not open yet/);
    const sold = await publicClient.readContract({
      address: book.contracts.WatchDogPresale,
      abi: watchDogPresaleAbi,
      functionName: 'sold',
    });
    assert.equal(sold, 2n);
  });

  test('public phase: ETH and stablecoin purchases, the per-purchase cap, status', async () => {
    const schedule = await publicClient.readContract({
      address: book.contracts.WatchDogPresale,
      abi: watchDogPresaleAbi,
      functionName: 'schedule',
    });
    await warpTo(schedule.publicStart);

    const bought = json(
      await cli(['--json', 'presale', 'buy', '--quantity', '3', '--max-total-cost', '1'], buyerB.key),
    );
    assert.equal(bought.phase, 'public');
    assert.deepEqual(bought.tokenIds, ['3', '4', '5']);
    assert.equal(bought.cost, parseEther('0.3').toString(), 'pays the price, not the max');
    refused(
      await cli(['presale', 'buy', '--quantity', '11'], buyerB.key),
      4,
      /Cap reached: at most 10 licenses per purchase in the public phase, asked for 11/,
    );

    // the stablecoin: approval then purchase, at the tier's token price (300 dUSD, 6 decimals)
    await mined(
      await wallet(buyerB.key).writeContract({
        address: book.contracts.PaymentToken,
        abi: parseAbi(['function mint(address to, uint256 amount)']),
        functionName: 'mint',
        args: [buyerB.address, 1000_000000n],
      }),
    );
    refused(
      await cli(['presale', 'buy', '--currency', 'token', '--max-total-cost', '299.99'], buyerB.key),
      4,
      /300 dUSD is needed but --max-total-cost is 299\.99 dUSD/,
    );
    const paidInToken = json(
      await cli(['--json', 'presale', 'buy', '--currency', 'token', '--max-total-cost', '300'], buyerB.key),
    );
    assert.deepEqual(paidInToken.tokenIds, ['6']);
    assert.equal(paidInToken.cost, '300000000');

    const status = json(await cli(['--json', 'presale', 'status', '--account', buyerB.address]));
    assert.equal(status.sold, 6);
    assert.equal(status.allowlistSold, 2);
    assert.equal(status.public.open, true);
    assert.deepEqual(status.purchased, { allowlist: '0', public: '4' });
    const human = await cli(['presale', 'status']);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /sold\s+6 of 1000/);
    assert.match(human.stdout, /tier\s+licenses\s+ETH\s+dUSD/);
  });

  test('license activate names the WatchDog operator; only the holder may', async () => {
    const operatorKey = privateKeyToAccount(generatePrivateKey()).address;
    const done = json(await cli(['--json', 'license', 'activate', '3', '--operator', operatorKey], buyerB.key));
    assert.equal(done.operator, operatorKey);
    const onChain = await publicClient.readContract({
      address: book.contracts.WatchDogLicense,
      abi: watchDogLicenseAbi,
      functionName: 'operatorOf',
      args: [3n],
    });
    assert.equal(onChain, operatorKey);
    refused(
      await cli(['license', 'activate', '3', '--operator', operatorKey], buyerA.key),
      4,
      /neither holds license 3 nor is approved/,
    );
    refused(
      await cli(['license', 'activate', '999', '--operator', operatorKey], buyerA.key),
      4,
      /license does not exist/,
    );
  });
});

describe('node journey', () => {
  let nodeKey: Hex;
  let nodeAddress: Address;

  test('register with the node key consent, top up, and see it in status', async () => {
    nodeKey = generatePrivateKey();
    nodeAddress = privateKeyToAccount(nodeKey).address;
    const registered = json(
      await cli(
        [
          '--json',
          'node',
          'register',
          '--stake',
          '10000',
          '--endpoint',
          'ws://127.0.0.1:7001',
          '--metadata',
          'ipfs://op',
        ],
        operator.key,
        {
          SENDNET_NODE_KEY: nodeKey,
        },
      ),
    );
    assert.equal(registered.nodeKey, nodeAddress);
    assert.equal(registered.operator, operator.address);

    const staked = json(await cli(['--json', 'node', 'stake', nodeAddress, '--amount', '2500.5'], operator.key));
    assert.equal(staked.stake, parseEther('12500.5').toString());

    const status = json(await cli(['--json', 'node', 'status', nodeAddress]));
    assert.equal(status.status, 'Active');
    assert.equal(status.operator, operator.address);
    assert.equal(status.stake, parseEther('12500.5').toString());
    // the chain agrees
    const node = await publicClient.readContract({
      address: book.contracts.NodeStaking,
      abi: nodeStakingAbi,
      functionName: 'getNode',
      args: [nodeAddress],
    });
    assert.equal(node.operator, operator.address);
    assert.equal(node.stake, parseEther('12500.5'));
    const human = await cli(['node', 'status', nodeAddress]);
    assert.match(human.stdout, /status\s+Active/);
    assert.match(human.stdout, /stake\s+12500\.5 SEND \(minimum 10000 SEND\)/);
  });

  test('stake below the minimum and an already registered key are refused before any approval', async () => {
    const allowanceBefore = await publicClient.readContract({
      address: book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'allowance',
      args: [operator.address, book.contracts.NodeStaking],
    });
    refused(
      await cli(['node', 'register', '--stake', '9999.5', '--endpoint', 'ws://127.0.0.1:7002'], operator.key, {
        SENDNET_NODE_KEY: generatePrivateKey(),
      }),
      4,
      /The stake of 9999\.5 SEND is below the minimum stake of 10000 SEND\./,
    );
    refused(
      await cli(['node', 'register', '--stake', '10000', '--endpoint', 'ws://127.0.0.1:7001'], operator.key, {
        SENDNET_NODE_KEY: nodeKey,
      }),
      4,
      new RegExp(`Node ${nodeAddress} is already registered`),
    );
    const allowanceAfter = await publicClient.readContract({
      address: book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'allowance',
      args: [operator.address, book.contracts.NodeStaking],
    });
    assert.equal(allowanceAfter, allowanceBefore, 'no approval was spent on a refused registration');
    // someone else's node
    refused(await cli(['node', 'stake', nodeAddress, '--amount', '1'], buyerA.key), 4, /is not the operator of node/);
  });

  test('endpoints the chain would refuse (too long, empty, not ws:// or wss://) are usage errors before any transaction; `node endpoint` sets the longest one', async () => {
    const nonceBefore = await publicClient.getTransactionCount({ address: operator.address });
    const register = (endpoint: string, metadata = '') =>
      cli(['node', 'register', '--stake', '10000', '--endpoint', endpoint, '--metadata', metadata], operator.key, {
        SENDNET_NODE_KEY: generatePrivateKey(),
      });
    // the reported attack: a 3,000-character endpoint (the sentence names the length, not the value)
    const long = `ws://${'a'.repeat(2995)}`;
    const tooLong = await register(long);
    refused(tooLong, 2, /--endpoint is 3000 bytes long \(UTF-8\), more than the 256 bytes NodeStaking accepts\./);
    assert.ok(!tooLong.stderr.includes('a'.repeat(300)), 'the value is not echoed');
    // 129 two-byte characters: 134 characters but 263 bytes, as the chain counts
    refused(await register(`ws://${'é'.repeat(129)}`), 2, /--endpoint is 263 bytes long \(UTF-8\)/);
    refused(await register(''), 2, /--endpoint must not be empty\./);
    refused(await register('http://127.0.0.1:7001'), 2, /--endpoint must start with ws:\/\/ or wss:\/\//);
    refused(await register('127.0.0.1:7001'), 2, /--endpoint must (be an absolute URL|start with ws:)/);
    refused(
      await register('ws://127.0.0.1:7001', `ipfs://${'m'.repeat(1020)}`),
      2,
      /--metadata is 1027 bytes long \(UTF-8\), more than the 1024 bytes NodeStaking accepts\./,
    );
    refused(
      await cli(['node', 'endpoint', nodeAddress, '--endpoint', long], operator.key),
      2,
      /--endpoint is 3000 bytes long/,
    );
    refused(await cli(['node', 'endpoint', nodeAddress, '--endpoint', ''], operator.key), 2, /must not be empty/);
    assert.equal(
      await publicClient.getTransactionCount({ address: operator.address }),
      nonceBefore,
      'no transaction was sent for a refused endpoint',
    );

    // the longest endpoint, multi-byte: "wss://" + 125 two-byte characters = 256 bytes
    const longest = `wss://${'é'.repeat(125)}`;
    const updated = json(
      await cli(
        ['--json', 'node', 'endpoint', nodeAddress, '--endpoint', longest, '--metadata', 'ipfs://op2'],
        operator.key,
      ),
    );
    assert.equal(updated.endpoint, longest);
    const logs = await publicClient.getContractEvents({
      address: book.contracts.NodeStaking,
      abi: nodeStakingAbi,
      eventName: 'NodeEndpointUpdated',
      args: { nodeKey: nodeAddress },
      fromBlock: 0n,
    });
    assert.equal(logs.at(-1)?.args.endpoint, longest, 'the chain emitted exactly the endpoint typed');
    assert.equal(logs.at(-1)?.args.metadataURI, 'ipfs://op2');
    refused(
      await cli(['node', 'endpoint', nodeAddress, '--endpoint', 'ws://127.0.0.1:7001'], buyerA.key),
      4,
      /is not the operator of node/,
    );
  });

  test('unbond, then withdrawing before the cooldown is refused with the release time', async () => {
    const unbonded = json(await cli(['--json', 'node', 'unbond', nodeAddress, '--amount', '2500.5'], operator.key));
    assert.equal(unbonded.remainingStake, parseEther('10000').toString());
    refused(await cli(['node', 'unbond', nodeAddress, '--amount', '1'], operator.key), 4, /below the minimum stake/);
    refused(await cli(['node', 'withdraw', nodeAddress], operator.key), 4, /still cooling down until/);
  });

  test('wrong network, RPC down, bad input and bad keys end with one sentence', async () => {
    const wrongChain = join(dir, 'wrong-chain.json');
    writeFileSync(wrongChain, JSON.stringify({ ...JSON.parse(readFileSync(bookPath, 'utf8')), chainId: 1 }));
    refused(
      await cli(['--deployments', wrongChain, 'node', 'status', nodeAddress]),
      3,
      /Wrong network: the address book .* is for chain 1 but the RPC at .* is chain 31337/,
    );

    const otherDeployment = join(dir, 'other-deployment.json');
    const raw = JSON.parse(readFileSync(bookPath, 'utf8'));
    raw.contracts.NodeStaking = privateKeyToAccount(generatePrivateKey()).address;
    writeFileSync(otherDeployment, JSON.stringify(raw));
    refused(
      await cli(['--deployments', otherDeployment, 'node', 'status', nodeAddress]),
      3,
      /Wrong network: there is no NodeStaking contract at/,
    );

    const deadPort = await freePort();
    refused(
      await cli(['--rpc', `http://127.0.0.1:${deadPort}`, 'node', 'status', nodeAddress]),
      3,
      /Cannot reach the RPC at http:\/\/127\.0\.0\.1:\d+/,
    );
    refused(
      await cli(['--deployments', join(dir, 'missing.json'), 'node', 'status', nodeAddress]),
      3,
      /cannot read address book/i,
    );

    refused(
      await cli(['node', 'register', '--stake', 'ten', '--endpoint', 'ws://x'], operator.key, {
        SENDNET_NODE_KEY: generatePrivateKey(),
      }),
      2,
      /--stake must be a decimal number/,
    );
    refused(
      await cli(['node', 'stake', nodeAddress, '--amount', '1'], '0x1234' as Hex),
      2,
      /SENDNET_PRIVATE_KEY is not a valid private key/,
    );
    const noKey = await cli(['--json', 'node', 'stake', nodeAddress, '--amount', '1']);
    refused(noKey, 2, /No signing key: set SENDNET_PRIVATE_KEY/);
    assert.equal(JSON.parse(noKey.stdout).error.code, 'NoKey', '--json also reports the failure on stdout');
  });
});

describe('DID journey', () => {
  let owner: { key: Hex; address: Address };
  const walletKey = generatePrivateKey();
  const walletAddress = privateKeyToAccount(walletKey).address;
  const deviceKey: Hex = `0x${'ab'.repeat(32)}`;

  test('register a name; taken and invalid names are refused', async () => {
    owner = await freshAccount();
    const done = json(await cli(['--json', 'did', 'register', 'alice'], owner.key));
    assert.equal(done.ensName, 'alice.send');
    assert.equal(done.id, didId('alice').toString());
    refused(await cli(['did', 'register', 'alice.send'], buyerA.key), 4, /The name "alice" is already registered\./);
    refused(await cli(['did', 'register', 'Bad_Name'], buyerA.key), 4, /invalid character "B" at position 0/);
  });

  test('register shows the commit–reveal wait; primary sets and clears reverse resolution', async () => {
    const run = await cli(['did', 'register', 'alice-2'], owner.key);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Committed to registering alice-2\.send \(transaction 0x[0-9a-f]{64}\)\./);
    assert.match(
      run.stderr,
      /Waiting \d+ s, until .*: the registry accepts registering alice-2\.send only 2 s after its commitment/,
    );
    assert.match(run.stdout, /Registered alice-2\.send to /);
    const primaryOf = () =>
      publicClient.readContract({
        address: book.contracts.DidRegistry,
        abi: didRegistryAbi,
        functionName: 'primaryOf',
        args: [owner.address],
      });
    const set = json(await cli(['--json', 'did', 'primary', 'alice-2.send'], owner.key));
    assert.equal(set.primary, 'alice-2.send');
    assert.equal(await primaryOf(), didId('alice-2'));
    refused(await cli(['did', 'primary', 'alice-2'], buyerA.key), 4, /neither owns nor is linked to the DID "alice-2"/);
    refused(await cli(['did', 'primary'], owner.key), 2, /Name the DID to make primary, or pass --clear/);
    refused(await cli(['did', 'primary', 'alice-2', '--clear'], owner.key), 2, /Name the DID to make primary/);
    json(await cli(['--json', 'did', 'primary', '--clear'], owner.key));
    assert.equal(await primaryOf(), 0n);
  });

  test('add a device key, link a wallet with its EIP-712 consent, resolve through the ENS resolver', async () => {
    json(
      await cli(
        ['--json', 'did', 'keys', 'add', 'alice', deviceKey, '--type', 'ed25519', '--metadata', 'phone'],
        owner.key,
      ),
    );
    refused(await cli(['did', 'keys', 'add', 'alice', deviceKey], owner.key), 4, /was already added once/);
    refused(
      await cli(['did', 'keys', 'add', 'alice', `0x${'cd'.repeat(32)}`], buyerA.key),
      4,
      /does not own the DID "alice"/,
    );

    const linked = json(
      await cli(['--json', 'did', 'link', 'alice', '--wallet-key-env', 'WALLET_KEY'], owner.key, {
        WALLET_KEY: walletKey,
      }),
    );
    assert.equal(linked.wallet, walletAddress);
    assert.equal(
      await publicClient.readContract({
        address: book.contracts.DidRegistry,
        abi: didRegistryAbi,
        functionName: 'isLinked',
        args: [didId('alice'), walletAddress],
      }),
      true,
    );
    refused(
      await cli(['did', 'link', 'alice', '--wallet-key-env', 'WALLET_KEY'], owner.key, { WALLET_KEY: walletKey }),
      4,
      /is already linked to the DID "alice"/,
    );

    const resolved = json(await cli(['--json', 'did', 'resolve', 'alice']));
    assert.equal(resolved.name, 'alice.send');
    assert.equal(resolved.address, owner.address);
    assert.deepEqual(resolved.wallets, [walletAddress]);
    assert.deepEqual(
      resolved.keys.map((k: { key: string; type: string; metadata: string }) => [k.key, k.type, k.metadata]),
      [[deviceKey, 'ed25519', 'phone']],
    );
    const human = await cli(['did', 'resolve', 'alice.send']);
    assert.match(human.stdout, new RegExp(`address\\s+${owner.address}`));
    refused(await cli(['did', 'resolve', 'nobody']), 4, /The DID nobody\.send is not registered\./);
  });

  test('consent signed by the wallet and handed over, keys revoked and listed, unlink', async () => {
    const second = await freshAccount();
    const consent = json(await cli(['--json', 'did', 'consent', 'alice', '--owner', owner.address], second.key));
    json(
      await cli(
        [
          '--json',
          'did',
          'link',
          'alice',
          '--wallet',
          consent.wallet,
          '--deadline',
          consent.deadline,
          '--consent',
          consent.consent,
        ],
        owner.key,
      ),
    );
    json(await cli(['--json', 'did', 'keys', 'revoke', 'alice', deviceKey], owner.key));
    const keys = json(await cli(['--json', 'did', 'keys', 'list', 'alice']));
    assert.deepEqual(
      keys.keys.map((k: { status: string }) => k.status),
      ['revoked'],
    );
    json(await cli(['--json', 'did', 'unlink', 'alice', '--wallet', walletAddress], owner.key));
    json(await cli(['--json', 'did', 'unlink', 'alice'], second.key)); // the wallet unlinks itself
    const resolved = json(await cli(['--json', 'did', 'resolve', 'alice']));
    assert.deepEqual(resolved.wallets, []);
    assert.deepEqual(resolved.keys, []);
    refused(
      await cli(['did', 'unlink', 'alice', '--wallet', walletAddress], owner.key),
      4,
      /is not linked to the DID "alice"/,
    );
  });

  test('an encrypted keystore signs; a wrong password is one sentence', async () => {
    const keystore = join(dir, 'bob.json');
    const holder = await freshAccount();
    const created = json(
      await runSendnet(['--json', 'keystore', 'create', '--out', keystore, '--from-env', 'KEY', '--scrypt-n', '1024'], {
        KEY: holder.key,
        SENDNET_KEYSTORE_PASSWORD: 'correct horse',
      }),
    );
    assert.equal(created.address, holder.address);
    refused(
      await runSendnet(['keystore', 'create', '--out', keystore], { SENDNET_KEYSTORE_PASSWORD: 'x' }),
      2,
      /already exists/,
    );
    const done = json(
      await cli(['--json', '--keystore', keystore, 'did', 'register', 'bob'], undefined, {
        SENDNET_KEYSTORE_PASSWORD: 'correct horse',
      }),
    );
    assert.equal(done.owner, holder.address);
    refused(
      await cli(['--keystore', keystore, 'did', 'register', 'bobby'], undefined, {
        SENDNET_KEYSTORE_PASSWORD: 'wrong',
      }),
      2,
      /Wrong password for the keystore/,
    );
    refused(
      await cli(['--keystore', keystore, 'did', 'register', 'bobby']),
      2,
      /No password: set SENDNET_KEYSTORE_PASSWORD/,
    );
  });
});

describe('rewards', () => {
  test('node and license claims with the keeper-published proofs of the latest finalized epoch', async () => {
    const settlement = book.contracts.EpochSettlement;
    const operatorReward = parseEther('1234.5');
    const licenseReward = parseEther('77');
    const otherAccount = privateKeyToAccount(generatePrivateKey()).address;
    const leaves = [
      rewardLeaf(operator.address, operatorReward),
      rewardLeaf(otherAccount, parseEther('1')),
      licenseRewardLeaf(1n, licenseReward),
    ];
    const tree = buildTree(leaves);

    refused(
      await cli(['node', 'claim', '--proofs', join(dir, 'none.json')], operator.key),
      4,
      /No epoch has been finalized yet/,
    );

    // epoch 1 settled by 5 of the 7 devnet guardians, then finalized after the dispute window
    const endsAt = await publicClient.readContract({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'epochEnd',
      args: [1],
    });
    await warpTo(endsAt);
    const header: EpochHeader = {
      epoch: 1,
      consensusVersion: 1,
      faultCount: 0,
      totalCumulative: operatorReward + parseEther('1'),
      epochEmission: operatorReward + parseEther('1'),
      rewardRoot: tree.root,
      faultRoot: ZERO,
      scoresHash: ZERO,
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
    await testClient().increaseTime({ seconds: book.disputeWindowSeconds + 1 });
    await testClient().mine({ blocks: 1 });
    await mined(
      await keeper.writeContract({ address: settlement, abi: epochSettlementAbi, functionName: 'finalizeEpochs' }),
    );

    // what the keeper publishes at GET /epochs/1/claims
    const proofs = {
      epoch: 1,
      root: tree.root,
      claims: {
        [operator.address.toLowerCase()]: { cumulative: operatorReward.toString(), proof: tree.proof(0) },
        [otherAccount]: { cumulative: parseEther('1').toString(), proof: tree.proof(1) },
      },
      licenses: { '1': { cumulative: licenseReward.toString(), proof: tree.proof(2) } },
    };
    writeFileSync(join(dir, 'claims-1.json'), JSON.stringify(proofs));
    const template = join(dir, 'claims-{epoch}.json');

    const before = await publicClient.readContract({
      address: book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'balanceOf',
      args: [operator.address],
    });
    const claimed = json(await cli(['--json', 'node', 'claim', '--proofs', template], operator.key));
    assert.equal(claimed.paid, operatorReward.toString());
    const afterBalance = await publicClient.readContract({
      address: book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'balanceOf',
      args: [operator.address],
    });
    assert.equal(afterBalance - before, operatorReward);
    refused(
      await cli(['node', 'claim', '--proofs', template], operator.key),
      4,
      /has nothing to claim: 1234\.5 SEND of its 1234\.5 SEND were already paid/,
    );
    refused(await cli(['node', 'claim', '--proofs', template], buyerA.key), 4, /has no rewards in the epoch 1 proofs/);

    // anyone may send the claim for another account; a license claim pays the license's holder
    json(await cli(['--json', 'node', 'claim', '--proofs', template, '--account', otherAccount], buyerB.key));
    const license = json(await cli(['--json', 'license', 'claim', '1', '--proofs', template], buyerB.key));
    assert.equal(license.holder, buyerA.address);
    assert.equal(license.paid, licenseReward.toString());

    // stale or corrupt proofs are refused before sending
    writeFileSync(join(dir, 'stale.json'), JSON.stringify({ ...proofs, epoch: 7, root: `0x${'11'.repeat(32)}` }));
    refused(
      await cli(['node', 'claim', '--proofs', join(dir, 'stale.json')], operator.key),
      4,
      /are for epoch 7 but claims are checked against finalized epoch 1/,
    );
    const corrupt = structuredClone(proofs);
    corrupt.claims[otherAccount]!.cumulative = '5';
    writeFileSync(join(dir, 'corrupt.json'), JSON.stringify(corrupt));
    refused(
      await cli(['node', 'claim', '--proofs', join(dir, 'corrupt.json'), '--account', otherAccount], operator.key),
      2,
      /does not lead to its root/,
    );
    refused(
      await cli(['node', 'claim', '--proofs', 'http://127.0.0.1:9/epochs/{epoch}/claims'], operator.key),
      3,
      /Cannot fetch the reward proofs from http:\/\/127\.0\.0\.1:9\/epochs\/1\/claims/,
    );
  });
});

test('rankings: an unreachable GraphQL endpoint is one sentence', async () => {
  const port = await freePort();
  refused(
    await cli(['--graphql', `http://127.0.0.1:${port}/subgraphs/name/sendnet`, 'rankings']),
    3,
    /Cannot reach the GraphQL endpoint at http:\/\/127\.0\.0\.1:\d+\/subgraphs\/name\/sendnet/,
  );
  refused(await cli(['rankings', '--by', 'fame']), 2, /--by must be one of score, uptime, volume, rewards/);
});
