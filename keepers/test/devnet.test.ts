/**
 * The deploy script and the `npm run devnet` CLI: wiring of a fresh deployment, the CLI's usage, argument
 * and port errors (exit 2 with one sentence), and one real run of a small devnet for one epoch.
 *
 * Run: node --import tsx --test --test-concurrency=1 keepers/test/devnet.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, http } from 'viem';
import { freePort, startAnvil } from '../src/dev/anvil.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devPrivateKey } from '../src/devnet/devAccounts.js';
import { repoRoot } from '../src/dev/foundry.js';
import {
  didUniversalResolverAbi,
  epochSettlementAbi,
  licenseRewardsAbi,
  nodeStakingAbi,
  sendTokenAbi,
  watchDogLicenseAbi,
} from '../src/generated/contracts.js';
import { loadAddressBook } from '../src/chain/addressBook.js';

test('the deploy script deploys and wires every contract on a fresh anvil', async () => {
  const anvil = await startAnvil();
  let bookPath: string | undefined;
  try {
    const { book, path } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) });
    bookPath = path;
    const client = createPublicClient({ transport: http(anvil.rpcUrl) });
    const { SendToken, NodeStaking, EpochSettlement } = book.contracts;
    for (const [name, address] of Object.entries(book.contracts)) {
      assert.ok(((await client.getCode({ address })) ?? '0x').length > 2, `no code for ${name} at ${address}`);
    }
    for (const address of [SendToken, NodeStaking, EpochSettlement]) {
      assert.ok(((await client.getCode({ address })) ?? '0x').length > 2, `no code at ${address}`);
    }
    // wiring: staking and settlement point at each other and at the token
    assert.equal(
      await client.readContract({ address: NodeStaking, abi: nodeStakingAbi, functionName: 'settlement' }),
      EpochSettlement,
    );
    assert.equal(
      await client.readContract({ address: NodeStaking, abi: nodeStakingAbi, functionName: 'token' }),
      SendToken,
    );
    assert.equal(
      await client.readContract({ address: EpochSettlement, abi: epochSettlementAbi, functionName: 'staking' }),
      NodeStaking,
    );
    // the escrow holds the node-reward and guardian allocations (40% + 3%)
    const escrow = await client.readContract({
      address: SendToken,
      abi: sendTokenAbi,
      functionName: 'balanceOf',
      args: [EpochSettlement],
    });
    assert.equal(escrow, 430_000_000n * 10n ** 18n);
    const [set] = await client.readContract({
      address: EpochSettlement,
      abi: epochSettlementAbi,
      functionName: 'activeGuardianSet',
    });
    assert.equal(set.size, 7);
    assert.equal(set.threshold, 5);
    // the WatchDog license pool (12%) sits in LicenseRewards; the presale is the license's only minter
    const pool = await client.readContract({
      address: SendToken,
      abi: sendTokenAbi,
      functionName: 'balanceOf',
      args: [book.contracts.LicenseRewards],
    });
    assert.equal(pool, 120_000_000n * 10n ** 18n);
    assert.equal(
      await client.readContract({
        address: book.contracts.WatchDogLicense,
        abi: watchDogLicenseAbi,
        functionName: 'minter',
      }),
      book.contracts.WatchDogPresale,
    );
    assert.equal(
      await client.readContract({
        address: book.contracts.LicenseRewards,
        abi: licenseRewardsAbi,
        functionName: 'settlement',
      }),
      EpochSettlement,
    );
    assert.equal(
      await client.readContract({
        address: book.contracts.DidUniversalResolver,
        abi: didUniversalResolverAbi,
        functionName: 'registry',
      }),
      book.contracts.DidRegistry,
    );
  } finally {
    await anvil.stop();
    if (bookPath) rmSync(bookPath, { force: true });
  }
});

const devnetCli = (args: string[], timeoutMs = 60_000) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'keepers/src/devnet/main.ts', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
  });

test('`npm run devnet -- --help` prints the usage and exits 0', () => {
  const run = devnetCli(['--help']);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^Usage: npm run devnet -- \[options\]/);
  for (const flag of [
    '--epochs <n>',
    '--port <n>',
    '--redis-url <url>',
    '--nodes <n>',
    '--clients <n>',
    '--watchdogs <n>',
    '--guardians-down <i,j>',
    '--data-dir <dir>',
    '--no-graph',
    '--points',
  ]) {
    assert.ok(run.stdout.includes(flag), `usage mentions ${flag}`);
  }
});

test('devnet rejects bad arguments with exit code 2 and a sentence naming the problem', () => {
  const cases: [string[], RegExp][] = [
    [['--port', 'abc'], /^devnet: --port must be an integer in 1\.\.65535, got "abc"$/m],
    [['--epochs', '0'], /^devnet: --epochs must be an integer in 1\.\.1000, got "0"$/m],
    [['--nodes', '3'], /^devnet: --nodes must be an integer in 4\.\.200, got "3"$/m],
    [['--guardians-down', '2,9'], /^devnet: --guardians-down must be an integer in 0\.\.6, got "9"$/m],
    [['--bogus'], /^devnet: unknown option '--bogus'/m],
  ];
  for (const [args, message] of cases) {
    const run = devnetCli(args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(' '));
    assert.match(run.stderr, /Usage: npm run devnet/, `${args.join(' ')} shows the usage`);
  }
});

test('devnet refuses a port that is already in use', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  try {
    const { port } = server.address() as AddressInfo;
    const run = devnetCli(['--port', String(port), '--epochs', '1', '--no-graph']);
    assert.equal(run.status, 2, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `^devnet: port ${port} is already in use \\(another devnet or anvil\\?\\): stop it or pass --port$`,
        'm',
      ),
    );
  } finally {
    server.close();
  }
});

test('`npm run devnet -- --epochs 1` on a small population settles the epoch, prints its table and exits 0', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'devnet-cli-'));
  const port = String(await freePort());
  const started = Date.now();
  const run = devnetCli(
    [
      '--epochs',
      '1',
      '--nodes',
      '6',
      '--clients',
      '12',
      '--watchdogs',
      '3',
      '--guardians-down',
      '5,6',
      '--no-graph',
      '--port',
      port,
      '--data-dir',
      dataDir,
    ],
    420_000,
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  try {
    assert.equal(
      run.status,
      0,
      `exit ${run.status} ${run.signal ?? ''} after ${seconds} s\n${run.stdout}\n${run.stderr}`,
    );
    console.log(run.stdout);
    assert.match(
      run.stdout,
      /nodes {6}#0\(dropper\) #1\(dropper\) #2\(inflater\) #3\(offline\) #4\(late-committer\) #5/,
    );
    const table = /^epoch (\d+): 6 nodes, (\d+) fault leaves \((\d+) executed\)$/m.exec(run.stdout);
    assert.ok(table, 'an epoch table is printed');
    assert.equal(table[3], table[2], 'the table is printed once every fault leaf is executed');
    assert.match(run.stdout, /^rank +node +behaviour +availability +volume +score +reward SEND +faults$/m);
    for (const behaviour of ['honest', 'dropper', 'inflater', 'offline'])
      assert.match(run.stdout, new RegExp(`^\\d+ +#\\d 0x[0-9a-f]{8} +${behaviour} `, 'm'), `a ${behaviour} row`);
    assert.match(
      run.stdout,
      /^\d+ +#2 0x[0-9a-f]{8} +inflater .* openings-failed, slash(, [a-z-]+)*, slashed 1,000$/m,
      'the inflater is shown slashed',
    );
    assert.match(run.stdout, /^epoch +node +behaviour +reward SEND +slashed SEND +strikes +net SEND$/m, 'the ledger');
    assert.match(run.stdout, /^\d+ +#2 +inflater +0 +1,000 +1 +−1,000$/m, 'the forger nets −1,000 SEND');
    assert.match(
      run.stdout,
      new RegExp(
        `devnet: epochs ${table[1]}\\.\\.${table[1]} settled; every misbehaving node was caught and netted no SEND \\(the slashed ones less than nothing\\), the late committer got no volume credit, no guardian signed the framer's header, the colluding WatchDogs gained nothing and no honest node was penalised`,
      ),
    );
    assert.match(run.stdout, /devnet: stopping every process it started/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a malformed address book is rejected naming the field', () => {
  const dir = mkdtempSync(`${tmpdir()}/book-`);
  writeFileSync(`${dir}/bad.json`, JSON.stringify({ chainId: 1, contracts: { SendToken: '0x12' } }));
  assert.throws(() => loadAddressBook(`${dir}/bad.json`), /address book .*bad\.json: /);
  writeFileSync(`${dir}/garbage.json`, '{not json');
  assert.throws(() => loadAddressBook(`${dir}/garbage.json`), /cannot read address book/);
});
