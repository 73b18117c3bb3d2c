/**
 * The deploy runner (keepers/src/devnet/deploy.ts) against a real anvil: every transaction of
 * script/Deploy.s.sol is mined in nonce order on an automining chain (sequential broadcast, `--slow`: no
 * out-of-order nonces left queued for good, foundry issue #10122), and a deploy that cannot finish is
 * stopped within its limit with an error naming what it waited for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicClient, http } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { startAnvil } from '../src/dev/anvil.js';
import { DeployError, deployProtocol, deployScriptArgs } from '../src/devnet/deploy.js';
import { devPrivateKey } from '../src/devnet/devAccounts.js';

test('the deploy broadcasts sequentially: each transaction after the previous one is mined', () => {
  const args = deployScriptArgs('http://127.0.0.1:1', devPrivateKey(0));
  assert.equal(args[0], 'script');
  assert.ok(args.includes('--broadcast'));
  assert.ok(args.includes('--slow'), 'forge script without --slow batches its transactions');
});

test('on an automining anvil every deploy transaction is mined in nonce order; nothing stays queued', async () => {
  const anvil = await startAnvil();
  try {
    const started = performance.now();
    const { book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) });
    const seconds = (performance.now() - started) / 1000;
    const client = createPublicClient({ transport: http(anvil.rpcUrl) });
    const deployer = privateKeyToAddress(devPrivateKey(0));
    const pool = (await client.request({ method: 'txpool_status' as never })) as { pending: string; queued: string };
    assert.deepEqual([Number(pool.pending), Number(pool.queued)], [0, 0], 'txpool must be empty after the deploy');
    const latest = Number(await client.getBlockNumber());
    const nonces: number[] = [];
    for (let n = 1; n <= latest; n++) {
      const block = await client.getBlock({ blockNumber: BigInt(n), includeTransactions: true });
      for (const tx of block.transactions) {
        assert.equal((await client.getTransactionReceipt({ hash: tx.hash })).status, 'success');
        if (tx.from.toLowerCase() === deployer.toLowerCase()) nonces.push(tx.nonce);
      }
    }
    assert.ok(nonces.length >= 10, `the deploy sends every contract and wiring call (${nonces.length} sent)`);
    assert.deepEqual(
      nonces,
      nonces.map((_, i) => i),
      "the chain mined the deployer's nonces 0, 1, 2, … in order",
    );
    assert.equal(await client.getTransactionCount({ address: deployer }), nonces.length);
    assert.ok(book.contracts.EpochSettlement, 'the address book names the deployed contracts');
    console.log(`deploy on automining anvil: ${nonces.length} transactions in ${seconds.toFixed(1)} s`);
  } finally {
    await anvil.stop();
  }
});

test('a deploy that cannot finish stops within its limit and names the nonces and txpool it waited on', async () => {
  // no mining at all: the first transaction stays pending, as the queued nonces did in the automine race
  const anvil = await startAnvil({ extraArgs: ['--no-mining'] });
  try {
    const started = Date.now();
    await assert.rejects(
      deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0), timeoutMs: 20_000 }),
      (error: unknown) => {
        assert.ok(error instanceof DeployError);
        assert.equal(error.code, 'deploy');
        assert.match(error.message, /did not finish within 20 s \(stopped\), waiting on http:\/\/127\.0\.0\.1:\d+/);
        assert.match(error.message, /deployer 0x[0-9a-fA-F]{40} nonce 0 mined, 1 pending; txpool 1 pending, 0 queued/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 35_000, 'stopped at its limit');
  } finally {
    await anvil.stop();
  }
});
