import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createPublicClient, http } from 'viem';
import { startAnvil } from '../src/chain/anvil.js';
import { deployProtocol } from '../src/chain/deploy.js';
import { devPrivateKey } from '../src/chain/devAccounts.js';
import { repoRoot } from '../src/chain/foundry.js';
import {
  didUniversalResolverAbi,
  epochSettlementAbi,
  licenseRewardsAbi,
  nodeStakingAbi,
  sendTokenAbi,
  watchDogLicenseAbi,
} from '../src/generated/contracts.js';
import { loadAddressBook } from '../src/config/addressBook.js';

test('the deploy script deploys and wires every contract on a fresh anvil', async () => {
  const anvil = await startAnvil();
  try {
    const { book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) });
    const client = createPublicClient({ transport: http(anvil.rpcUrl) });
    const { SendToken, NodeStaking, EpochSettlement } = book.contracts;
    for (const [name, address] of Object.entries(book.contracts)) {
      assert.ok(((await client.getCode({ address })) ?? '0x').length > 2, `no code for ${name} at ${address}`);
    }
    for (const address of [SendToken, NodeStaking, EpochSettlement]) {
      assert.ok(((await client.getCode({ address })) ?? '0x').length > 2, `no code at ${address}`);
    }
    // wiring: staking and settlement point at each other and at the token
    assert.equal(await client.readContract({ address: NodeStaking, abi: nodeStakingAbi, functionName: 'settlement' }), EpochSettlement);
    assert.equal(await client.readContract({ address: NodeStaking, abi: nodeStakingAbi, functionName: 'token' }), SendToken);
    assert.equal(await client.readContract({ address: EpochSettlement, abi: epochSettlementAbi, functionName: 'staking' }), NodeStaking);
    // the escrow holds the node-reward and guardian allocations (40% + 3%)
    const escrow = await client.readContract({ address: SendToken, abi: sendTokenAbi, functionName: 'balanceOf', args: [EpochSettlement] });
    assert.equal(escrow, 430_000_000n * 10n ** 18n);
    const [set] = await client.readContract({ address: EpochSettlement, abi: epochSettlementAbi, functionName: 'activeGuardianSet' });
    assert.equal(set.size, 7);
    assert.equal(set.threshold, 5);
    // the WatchDog license pool (12%) sits in LicenseRewards; the presale is the license's only minter
    const pool = await client.readContract({ address: SendToken, abi: sendTokenAbi, functionName: 'balanceOf', args: [book.contracts.LicenseRewards] });
    assert.equal(pool, 120_000_000n * 10n ** 18n);
    assert.equal(
      await client.readContract({ address: book.contracts.WatchDogLicense, abi: watchDogLicenseAbi, functionName: 'minter' }),
      book.contracts.WatchDogPresale,
    );
    assert.equal(
      await client.readContract({ address: book.contracts.LicenseRewards, abi: licenseRewardsAbi, functionName: 'settlement' }),
      EpochSettlement,
    );
    assert.equal(
      await client.readContract({ address: book.contracts.DidUniversalResolver, abi: didUniversalResolverAbi, functionName: 'registry' }),
      book.contracts.DidRegistry,
    );
  } finally {
    await anvil.stop();
  }
});

test('`npm run devnet -- --epochs 1` runs a small live network, prints the epoch table and exits 0 with every misbehaving node caught', () => {
  const port = String(20000 + Math.floor(Math.random() * 20000));
  const dataDir = `.devnet-test-${port}`;
  const run = spawnSync(
    'node_modules/.bin/tsx',
    // the four misbehaving nodes (2 droppers, 1 inflater, 1 offline) plus two honest ones
    ['keepers/src/devnet.ts', '--port', port, '--epochs', '1', '--nodes', '6', '--clients', '12', '--watchdogs', '3', '--no-graph', '--data-dir', dataDir],
    { cwd: repoRoot, encoding: 'utf8', timeout: 600_000 },
  );
  rmSync(`${repoRoot}/${dataDir}`, { recursive: true, force: true });
  assert.equal(run.status, 0, `devnet exited ${run.status}:\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`);
  assert.match(run.stdout, /epoch \d+: 6 nodes/);
  assert.match(run.stdout, /rank\s+node\s+behaviour\s+availability\s+volume\s+score\s+reward SEND\s+faults/);
  assert.match(run.stdout, /inflater .*openings-failed, slash/);
  assert.match(run.stdout, /every misbehaving node was caught and no honest node was penalised/);
});

test('devnet rejects bad arguments with a clear message', () => {
  const run = spawnSync('node_modules/.bin/tsx', ['keepers/src/devnet.ts', '--port', 'abc'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /--port must be an integer in 1\.\.65535, got "abc"/);
  const unknown = spawnSync('node_modules/.bin/tsx', ['keepers/src/devnet.ts', '--bogus'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown option '--bogus'/);
  const down = spawnSync('node_modules/.bin/tsx', ['keepers/src/devnet.ts', '--guardians-down', '9'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(down.status, 2);
  assert.match(down.stderr, /--guardians-down must be an integer in 0\.\.6, got "9"/);
  const help = spawnSync('node_modules/.bin/tsx', ['keepers/src/devnet.ts', '--help'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--epochs N/);
});

test('a malformed address book is rejected naming the field', async () => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/book-`);
  writeFileSync(`${dir}/bad.json`, JSON.stringify({ chainId: 1, contracts: { SendToken: '0x12' } }));
  assert.throws(() => loadAddressBook(`${dir}/bad.json`), /address book .*bad\.json: /);
  writeFileSync(`${dir}/garbage.json`, '{not json');
  assert.throws(() => loadAddressBook(`${dir}/garbage.json`), /cannot read address book/);
});
