/**
 * Epoch commitments against the real NodeStaking on anvil: a node key registered with a consent signed
 * by `signNodeKeyConsent`, the contract's `commitmentDigest` equals ours, and two different commitments
 * signed with `signCommitment` are an equivocation proof the contract accepts (identical ones, or two
 * signers, are refused with the contract's error).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicClient, createWalletClient, http, parseEventLogs, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilHandle } from '../src/dev/anvil.js';
import { deployProtocol } from '../src/devnet/deploy.js';
import { devAccount, devPrivateKey } from '../src/devnet/devAccounts.js';
import { nodeStakingAbi, sendTokenAbi } from '../src/generated/contracts.js';
import type { AddressBook } from '../src/chain/addressBook.js';
import {
  commitmentDigest,
  isEquivocation,
  nodeKeyConsentDigest,
  nodeStakingDomain,
  parseSignedCommitment,
  recoverCommitmentSigner,
  signCommitment,
  signNodeKeyConsent,
  signedCommitmentToWire,
  verifySignedCommitment,
  type EpochCommitment,
  type SignedCommitment,
} from '../src/core/commitment.js';
import { buildSumTree } from '../src/core/sumTree.js';

let anvil: AnvilHandle;
let book: AddressBook;

before(async () => {
  anvil = await startAnvil();
  ({ book } = await deployProtocol({ rpcUrl: anvil.rpcUrl, privateKey: devPrivateKey(0) }));
});
after(async () => anvil?.stop());

test('commitments signed in TypeScript: digest equals the contract, equivocation is provable on-chain', async () => {
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain: foundry, transport });
  const operator = createWalletClient({ chain: foundry, transport, account: devAccount(1) }); // the treasury holds SEND
  const finder = createWalletClient({ chain: foundry, transport, account: devAccount(2) });
  const staking = book.contracts.NodeStaking;
  const domain = nodeStakingDomain(book.chainId, staking);
  const nodePrivateKey = generatePrivateKey();
  const nodeKey = privateKeyToAccount(nodePrivateKey).address;
  const send = async (hash: Promise<Hex>) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash });
    assert.equal(receipt.status, 'success');
    return receipt;
  };

  // register the node key with its consent
  assert.equal(
    await publicClient.readContract({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'nodeKeyConsentDigest',
      args: [devAccount(1).address],
    }),
    nodeKeyConsentDigest(domain, devAccount(1).address),
  );
  const minStake = await publicClient.readContract({ address: staking, abi: nodeStakingAbi, functionName: 'minStake' });
  await send(
    operator.writeContract({
      address: book.contracts.SendToken,
      abi: sendTokenAbi,
      functionName: 'approve',
      args: [staking, minStake],
    }),
  );
  const consent = await signNodeKeyConsent(nodePrivateKey, domain, devAccount(1).address);
  await send(
    operator.writeContract({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'register',
      args: [nodeKey, minStake, consent, 'ws://127.0.0.1:1', ''],
    }),
  );
  assert.equal(
    await publicClient.readContract({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'isActive',
      args: [nodeKey],
    }),
    true,
  );

  // the contract's digest equals ours, for an empty and a real tree
  const tree = buildSumTree([
    { hash: `0x${'11'.repeat(32)}`, units: 5n },
    { hash: `0x${'22'.repeat(32)}`, units: 7n },
    { hash: `0x${'33'.repeat(32)}`, units: 1n },
  ]);
  const a: EpochCommitment = {
    epoch: 1,
    root: tree.root,
    totalUnits: tree.totalUnits,
    leafCount: BigInt(tree.leafCount),
  };
  const b: EpochCommitment = { ...a, totalUnits: a.totalUnits + 1n };
  const empty: EpochCommitment = { epoch: 1, root: `0x${'00'.repeat(32)}`, totalUnits: 0n, leafCount: 0n };
  for (const c of [
    a,
    b,
    empty,
    { ...a, epoch: 0xffffffff, totalUnits: (1n << 128n) - 1n, leafCount: (1n << 64n) - 1n },
  ]) {
    assert.equal(
      await publicClient.readContract({
        address: staking,
        abi: nodeStakingAbi,
        functionName: 'commitmentDigest',
        args: [c],
      }),
      commitmentDigest(domain, c),
    );
  }

  // signatures: from a raw key and from a viem account; recovery; wire round trip
  const sigA = await signCommitment(nodePrivateKey, domain, a);
  const sigB = await signCommitment(privateKeyToAccount(nodePrivateKey), domain, b);
  assert.equal(await recoverCommitmentSigner(domain, a, sigA), nodeKey.toLowerCase());
  const signedA: SignedCommitment = { commitment: a, signature: sigA, nodeKey };
  const signedB: SignedCommitment = { commitment: b, signature: sigB, nodeKey };
  const wire = JSON.parse(JSON.stringify(signedCommitmentToWire(signedA)));
  assert.equal(wire.commitment.totalUnits, '13');
  const parsed = parseSignedCommitment(wire);
  assert.deepEqual(parsed, { ...signedA, nodeKey: nodeKey.toLowerCase() });
  assert.ok(await verifySignedCommitment(domain, parsed));
  assert.ok(!(await verifySignedCommitment(domain, { ...parsed, commitment: b })));
  assert.ok(
    !(await verifySignedCommitment(nodeStakingDomain(book.chainId + 1, staking), parsed)),
    'another chain id is another domain',
  );
  assert.throws(
    () => parseSignedCommitment({ ...wire, commitment: { ...wire.commitment, leafCount: 3 } }),
    /commitment.leafCount/,
  );
  assert.ok(isEquivocation(signedA, signedB));
  assert.ok(!isEquivocation(signedA, { ...signedA, signature: sigA }));

  // identical commitments are not an equivocation
  await assert.rejects(
    finder.writeContract({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'proveEquivocation',
      args: [a, sigA, a, sigA],
    }),
    /CommitmentsIdentical/,
  );
  // two different signers are not an equivocation
  const otherSig = await signCommitment(generatePrivateKey(), domain, b);
  await assert.rejects(
    finder.writeContract({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'proveEquivocation',
      args: [a, sigA, b, otherSig],
    }),
    /CommitmentSignerMismatch/,
  );
  // two different commitments of one epoch by the node key are
  const receipt = await send(
    finder.writeContract({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'proveEquivocation',
      args: [a, sigA, b, sigB],
    }),
  );
  const [event] = parseEventLogs({ abi: nodeStakingAbi, logs: receipt.logs, eventName: 'EquivocationProven' });
  assert.equal(event!.args.nodeKey, nodeKey);
  assert.equal(event!.args.epoch, 1);
  assert.equal(
    await publicClient.readContract({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'equivocationProven',
      args: [nodeKey, 1],
    }),
    true,
  );
  await assert.rejects(
    finder.writeContract({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'proveEquivocation',
      args: [b, sigB, a, sigA],
    }),
    /EquivocationAlreadyProven/,
  );
});
