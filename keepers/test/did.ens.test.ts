/**
 * DID names resolve through standard tooling: viem's own ENS actions (getEnsAddress, getEnsText, getEnsName,
 * getEnsResolver), pointed at our DidUniversalResolver, resolve a DID registered on anvil. The contracts are
 * deployed with viem from the forge artifacts (`$FOUNDRY_OUT`, default `out/`; `npm run build` makes them).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeAbiParameters,
  encodeFunctionData,
  http,
  keccak256,
  namehash,
  stringToHex,
  toHex,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
  zeroHash,
} from 'viem';
import { normalize, packetToBytes } from 'viem/ens';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { devAccount } from '../src/devnet/devAccounts.js';
import {
  DID_TLD,
  KeyType,
  commitmentSecret,
  didDomain,
  didId,
  keyCommitment,
  linkConsentTypes,
  registerCommitment,
} from '../src/chain/did.js';
import { registerDidWithKeys } from '../src/chain/didRegistration.js';
import { deployDid, type DidDeployment } from '../src/devnet/contractDeployments.js';

let anvil: AnvilHandle;
let publicClient: PublicClient;
let did: DidDeployment;
const transport = () => http(anvil.rpcUrl);
const owner = devAccount(5);
const linked = devAccount(6);
const outsider = devAccount(7);

const wallet = (account = owner) => createWalletClient({ chain: foundry, transport: transport(), account });

async function write(functionName: string, args: readonly unknown[], account = owner) {
  const hash = await wallet(account).writeContract({ address: did.registry, abi: did.registryAbi, functionName, args });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, 'success', `${functionName} reverted`);
}

/** The custom error a call reverts with, decoded by viem from the contract's ABI. */
async function revertOf(address: Address, abi: Abi, functionName: string, args: readonly unknown[], account = owner) {
  try {
    await publicClient.simulateContract({ address, abi, functionName, args, account });
  } catch (error) {
    const reverted = error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError) return reverted.data;
    throw error;
  }
  assert.fail(`${functionName}(${args.join(', ')}) did not revert`);
}

before(async () => {
  anvil = await startAnvil();
  publicClient = createPublicClient({ chain: foundry, transport: transport() }) as PublicClient;
  did = await deployDid(wallet(devAccount(0)), publicClient, DID_TLD);

  // alice.send: owned by `owner`, with text records, a profile hash, a device key and a linked wallet
  await registerDidWithKeys(wallet(), publicClient, did.registry, 'alice', [
    { key: keccak256(stringToHex('x25519 phone')), keyType: KeyType.X25519 },
  ]);
  const node = namehash('alice.send');
  await write('setText', [node, 'avatar', 'https://example.com/alice.png']);
  await write('setText', [node, 'com.sendingnetwork.profile', 'ipfs://bafy-settings-and-social-graph']);
  await write('setContenthash', [node, `0xe30101701220${'11'.repeat(32)}`]);
  await write('setPrimary', [didId('alice')]);
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
  const consent = await linked.signTypedData({
    domain: didDomain(foundry.id, did.registry),
    types: linkConsentTypes,
    primaryType: 'LinkConsent',
    message: { did: didId('alice'), wallet: linked.address, owner: owner.address, nonce: 0n, deadline },
  });
  await write('linkWallet', [didId('alice'), linked.address, deadline, consent]);
  await write('setPrimary', [didId('alice')], linked);
});
after(async () => anvil?.stop());

test('getEnsAddress resolves a DID name to its owner (addr and addr with coin type 60)', async () => {
  const universalResolverAddress = did.universalResolver;
  assert.equal(
    await publicClient.getEnsAddress({ name: normalize('alice.send'), universalResolverAddress }),
    owner.address,
  );
  const coin60 = await publicClient.getEnsAddress({ name: 'alice.send', coinType: 60n, universalResolverAddress });
  assert.equal(coin60?.toLowerCase(), owner.address.toLowerCase());
  // this chain's ENSIP-11 coin type answers too, another chain's does not
  const own = await publicClient.getEnsAddress({
    name: 'alice.send',
    coinType: 0x80000000n | BigInt(foundry.id),
    universalResolverAddress,
  });
  assert.equal(own?.toLowerCase(), owner.address.toLowerCase());
  assert.equal(
    await publicClient.getEnsAddress({ name: 'alice.send', coinType: 0x80000000n | 10n, universalResolverAddress }),
    null,
  );
});

test('getEnsText reads the text records the DID owner set', async () => {
  const universalResolverAddress = did.universalResolver;
  assert.equal(
    await publicClient.getEnsText({ name: 'alice.send', key: 'avatar', universalResolverAddress }),
    'https://example.com/alice.png',
  );
  assert.equal(
    await publicClient.getEnsText({ name: 'alice.send', key: 'com.sendingnetwork.profile', universalResolverAddress }),
    'ipfs://bafy-settings-and-social-graph',
  );
  assert.equal(await publicClient.getEnsText({ name: 'alice.send', key: 'url', universalResolverAddress }), null);
});

test('getEnsName reverse-resolves the owner and a linked wallet to their primary DID', async () => {
  const universalResolverAddress = did.universalResolver;
  assert.equal(await publicClient.getEnsName({ address: owner.address, universalResolverAddress }), 'alice.send');
  assert.equal(await publicClient.getEnsName({ address: linked.address, universalResolverAddress }), 'alice.send');
  assert.equal(await publicClient.getEnsName({ address: outsider.address, universalResolverAddress }), null);
  assert.equal(
    await publicClient.getEnsName({ address: owner.address, coinType: 0n, universalResolverAddress }),
    null,
    'bitcoin has no DID primary',
  );
});

test('getEnsResolver finds the registry for DID names', async () => {
  const universalResolverAddress = did.universalResolver;
  assert.equal(await publicClient.getEnsResolver({ name: 'alice.send', universalResolverAddress }), did.registry);
  assert.equal(
    await publicClient.getEnsResolver({ name: 'nobody.send', universalResolverAddress }),
    '0x0000000000000000000000000000000000000000',
  );
});

test('the profile pointer (contenthash) and the ENS interfaces answer through the universal resolver', async () => {
  const node = namehash('alice.send');
  const [result, resolverAddress] = (await publicClient.readContract({
    address: did.universalResolver,
    abi: did.universalResolverAbi,
    functionName: 'resolveWithGateways',
    args: [
      toHex(packetToBytes('alice.send')),
      encodeFunctionData({
        abi: [
          {
            type: 'function',
            name: 'contenthash',
            stateMutability: 'view',
            inputs: [{ type: 'bytes32' }],
            outputs: [{ type: 'bytes' }],
          },
        ],
        functionName: 'contenthash',
        args: [node],
      }),
      [],
    ],
  })) as [Hex, Address];
  assert.equal(resolverAddress, did.registry);
  assert.equal(decodeAbiParameters([{ type: 'bytes' }], result)[0], `0xe30101701220${'11'.repeat(32)}`);
  for (const id of ['0x3b3b57de', '0xf1cb7e06', '0x59d1d43c', '0xbc1c58d1', '0x691f3431', '0x80ac58cd']) {
    const supported = await publicClient.readContract({
      address: did.registry,
      abi: did.registryAbi,
      functionName: 'supportsInterface',
      args: [id],
    });
    assert.equal(supported, true, `supportsInterface(${id})`);
  }
});

test('unknown and foreign names resolve to null; the resolver reverts with the ENS errors viem maps', async () => {
  const universalResolverAddress = did.universalResolver;
  for (const name of ['nobody.send', 'sub.alice.send', 'alice.eth', 'send', 'Alice.send']) {
    assert.equal(await publicClient.getEnsAddress({ name, universalResolverAddress }), null, name);
    assert.equal(await publicClient.getEnsText({ name, key: 'avatar', universalResolverAddress }), null, name);
  }
  // strict mode surfaces the Universal Resolver error itself, decoded by viem's own ENS ABI
  await assert.rejects(
    publicClient.getEnsAddress({ name: 'nobody.send', strict: true, universalResolverAddress }),
    (error: unknown) => {
      const reverted = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError);
      return reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName === 'ResolverNotFound';
    },
  );
});

test('bad names are rejected at registration with an error naming the problem', async () => {
  const cases: Array<[string, string, readonly unknown[]]> = [
    ['Alice', 'NameInvalidCharacter', [0n, '0x41']],
    ['bob_smith', 'NameInvalidCharacter', [3n, '0x5f']],
    ['ab', 'NameTooShort', [2n, 3n]],
    ['a'.repeat(25), 'NameTooLong', [25n, 24n]],
    ['-bob', 'NameHyphenAtEdge', []],
    ['bo--b', 'NameDoubleHyphen', [3n]],
    ['alice', 'NameTaken', ['alice']],
  ];
  for (const [name, errorName, args] of cases) {
    const data = await revertOf(did.registry, did.registryAbi, 'register', [name, zeroHash], outsider);
    assert.equal(data?.errorName, errorName, name);
    assert.deepEqual(data?.args ?? [], args, name);
  }
  // and names viem itself would refuse to normalize never get that far
  assert.throws(() => normalize('bad name.send'));
});

test("the commitments the clients compute are the registry's, and a copied reveal is refused", async () => {
  const read = (functionName: string, args: readonly unknown[]) =>
    publicClient.readContract({ address: did.registry, abi: did.registryAbi, functionName, args });
  const secret = commitmentSecret();
  assert.match(secret, /^0x[0-9a-f]{64}$/);
  assert.notEqual(secret, commitmentSecret());
  assert.equal(
    registerCommitment('satoshi', owner.address, secret),
    await read('registerCommitment', ['satoshi', owner.address, secret]),
  );
  const key = keccak256(stringToHex('ed25519 laptop'));
  for (const keyType of [KeyType.Ed25519, KeyType.X25519]) {
    assert.equal(
      keyCommitment(didId('alice'), key, keyType, owner.address),
      await read('keyCommitment', [didId('alice'), key, keyType, owner.address]),
    );
  }
  // `outsider` copies a pending reveal of `owner` (name and secret): the commitment names owner, not outsider
  await write('commit', [registerCommitment('satoshi', owner.address, secret)]);
  const copied = await revertOf(did.registry, did.registryAbi, 'register', ['satoshi', secret], outsider);
  assert.equal(copied?.errorName, 'UnknownCommitment');
  assert.deepEqual(copied?.args, [registerCommitment('satoshi', outsider.address, secret)]);
  // and the owner's own reveal in the commitment's block is too new
  const early = await revertOf(did.registry, did.registryAbi, 'register', ['satoshi', secret], owner);
  assert.equal(early?.errorName, 'CommitmentTooNew');
});

test('registerDidWithKeys commits, waits the minimum age and reveals on an automining node', async () => {
  const started = Date.now();
  const key = keccak256(stringToHex('ed25519 tablet'));
  const { did: id, keys } = await registerDidWithKeys(wallet(outsider), publicClient, did.registry, 'outsider-1', [
    { key, keyType: KeyType.Ed25519, metadata: stringToHex('tablet') },
  ]);
  assert.equal(id, didId('outsider-1'));
  assert.equal(keys.length, 1);
  const [status, keyDid] = (await publicClient.readContract({
    address: did.registry,
    abi: did.registryAbi,
    functionName: 'keyState',
    args: [key],
  })) as readonly [number, bigint, number];
  assert.equal(status, 1);
  assert.equal(keyDid, id);
  assert.ok(Date.now() - started >= 1000, 'waited for the commitment to age');
});
