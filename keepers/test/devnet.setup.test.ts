/**
 * The devnet's on-chain set-up against the real contracts: nodes registered and staked with their key's
 * consent, licenses bought in the allowlist phase with operators named, DIDs with device keys.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicClient, http, keccak256, parseEther, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devPrivateKey } from '../src/devnet/devAccounts.js';
import type { AddressBook } from '../src/chain/addressBook.js';
import { didRegistryAbi, nodeStakingAbi, watchDogLicenseAbi } from '../src/generated/contracts.js';
import { writeDevnetDeployConfig } from '../src/devnet/deployConfig.js';
import {
  allowlistFor,
  buyLicenses,
  openAllowlist,
  distributeSend,
  fundEth,
  registerDids,
  registerNodes,
} from '../src/devnet/setup.js';

const key = (label: string, i: number): Hex => keccak256(toHex(`devnet-setup-test/${label}/${i}`));
let anvil: AnvilHandle;
let book: AddressBook;
const buyerKeys = [0, 1].map((i) => key('buyer', i));

before(async () => {
  anvil = await startAnvil();
  const configPath = writeDevnetDeployConfig({
    tag: `test-${anvil.port}`,
    genesisTime: Math.floor(Date.now() / 1000) + 60,
  });
  ({ book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0), configPath }));
  const root = allowlistFor(buyerKeys.map((k) => privateKeyToAccount(k).address)).tree.root;
  await openAllowlist({ rpcUrl: anvil.rpcUrl, book }, devPrivateKey(0), root, 10);
});
after(async () => anvil?.stop());

test('nodes, licenses and DIDs are set up through the contracts', async () => {
  const ctx = { rpcUrl: anvil.rpcUrl, book };
  const publicClient = createPublicClient({ transport: http(anvil.rpcUrl) });
  const operators = [0, 1].map((i) => key('operator', i));
  const nodeKeys = [0, 1, 2].map((i) => key('node', i));
  const didWallets = [0, 1].map((i) => key('did', i));
  await fundEth(
    ctx,
    [...operators, ...buyerKeys, ...didWallets].map((k) => privateKeyToAccount(k).address),
    parseEther('100'),
  );
  await distributeSend(
    ctx,
    devPrivateKey(1),
    operators.map((k) => privateKeyToAccount(k).address),
    parseEther('50000'),
  );

  const stake = parseEther('10000');
  await registerNodes(
    ctx,
    nodeKeys.map((nodeKey, i) => ({
      operatorKey: operators[i % 2]!,
      nodeKey,
      stake,
      endpoint: `ws://127.0.0.1:${7000 + i}`,
    })),
  );
  for (const [i, nodeKey] of nodeKeys.entries()) {
    const node = await publicClient.readContract({
      address: book.contracts.NodeStaking,
      abi: nodeStakingAbi,
      functionName: 'getNode',
      args: [privateKeyToAccount(nodeKey).address],
    });
    assert.equal(node.operator, privateKeyToAccount(operators[i % 2]!).address);
    assert.equal(node.stake, stake);
  }

  const wdOperators = [0, 1].map((i) => privateKeyToAccount(key('wd-operator', i)).address);
  const tokenIds = await buyLicenses(
    ctx,
    buyerKeys.map((ownerKey, i) => ({ ownerKey, operator: wdOperators[i]! })),
  );
  assert.equal(new Set(tokenIds).size, 2);
  for (const [i, tokenId] of tokenIds.entries()) {
    const operator = await publicClient.readContract({
      address: book.contracts.WatchDogLicense,
      abi: watchDogLicenseAbi,
      functionName: 'operatorOf',
      args: [tokenId],
    });
    assert.equal(operator, wdOperators[i]);
  }

  const deviceKeys = [0, 1].map((i) => key('device', i));
  const dids = await registerDids(
    ctx,
    didWallets.map((walletKey, i) => ({ walletKey, name: `setup-user-${i}`, deviceKeys: [deviceKeys[i]!] })),
  );
  for (const [i, did] of dids.entries()) {
    const [status, owner] = await publicClient.readContract({
      address: book.contracts.DidRegistry,
      abi: didRegistryAbi,
      functionName: 'keyState',
      args: [deviceKeys[i]!],
    });
    assert.equal(status, 1, 'Active');
    assert.equal(owner, did);
  }
});
