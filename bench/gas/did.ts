/**
 * Gas of the DID registry's hot operations: registering a name, linking a wallet with its EIP-712 consent,
 * adding a device key; ENS-style record writes for reference against ENS's resolver (setText 57.8k).
 * The registry and its universal resolver are deployed fresh with viem from the forge artifacts.
 */
import { keccak256, stringToHex, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import {
  DID_TLD,
  KeyType,
  commitmentSecret,
  didDomain,
  didId,
  keyCommitment,
  linkConsentTypes,
  registerCommitment,
} from '../../keepers/src/chain/did.js';
import { deployDid } from '../../keepers/src/devnet/contractDeployments.js';
import { devAccount } from '../../keepers/src/devnet/devAccounts.js';
import type { GasResult, GasSuite } from './context.js';

/** A 12-character name: a typical handle length (the name's length moves register by ~100 gas a byte). */
const NAME = 'satoshi-2009';

export const didGasSuite: GasSuite = async ({ book, publicClient, wallet, gasOf, fundedAccount, log }) => {
  // a 1-second minimum commitment age: the bench moves the chain's clock past it instead of waiting
  const { registry, registryAbi } = await deployDid(wallet(devAccount(0)), publicClient, DID_TLD, {
    min: 1,
    max: 86_400,
  });
  const results: Record<string, GasResult> = {};
  const write = async (account: PrivateKeyAccount, functionName: string, args: readonly unknown[]) =>
    gasOf(await wallet(account).writeContract({ address: registry, abi: registryAbi, functionName, args }));
  const read = <T>(functionName: string, args: readonly unknown[]) =>
    publicClient.readContract({ address: registry, abi: registryAbi, functionName, args }) as Promise<T>;

  const aged = async () => {
    await publicClient.request({ method: 'evm_increaseTime' as never, params: [2] as never });
  };

  // ---- register: a fresh account's first name, after its commitment
  const owner = await fundedAccount(0n);
  const secret = commitmentSecret();
  results.didCommit = {
    gas: await write(owner, 'commit', [registerCommitment(NAME, owner.address, secret)]),
    note: 'the commitment before register or addKey (commit–reveal): one fresh storage slot',
  };
  await aged();
  results.didRegister = {
    gas: await write(owner, 'register', [NAME, secret]),
    // 75,000 until issue 12: the commit–reveal adds the 32-byte secret in calldata and reading + deleting the
    // commitment (net of the refund), measured at +1,321; the commitment itself is the separate didCommit
    target: 76_000,
    note: `register("${NAME}", secret) by an account that owns no DID yet, its commitment aged: mints the ERC-721 (owner and balance slots), uses up the commitment (refund)`,
  };
  log(`DID register: ${results.didRegister.gas}`);
  const did = didId(NAME);

  // ---- link wallets with their consent signatures
  const domain = didDomain(book.chainId, registry);
  const link = async (linkOwner: PrivateKeyAccount, linkDid: bigint, linked: PrivateKeyAccount) => {
    const nonce = await read<bigint>('linkNonce', [linked.address]);
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const consent = await linked.signTypedData({
      domain,
      types: linkConsentTypes,
      primaryType: 'LinkConsent',
      message: { did: linkDid, wallet: linked.address, owner: linkOwner.address, nonce, deadline },
    });
    return write(linkOwner, 'linkWallet', [linkDid, linked.address, deadline, consent]);
  };
  const fresh = () => privateKeyToAccount(generatePrivateKey());
  const firstWallet = fresh();
  results.didLinkWallet = {
    gas: await link(owner, did, firstWallet),
    target: 80_000,
    note: "the DID's first linked wallet, a wallet never seen by the registry, with its 65-byte EIP-712 LinkConsent",
  };
  results.didLinkWallet_second = {
    gas: await link(owner, did, fresh()),
    note: "a second fresh wallet linked to the same DID (also updates the length kept in the DID list's first entry)",
  };
  const other = await fundedAccount(0n);
  const otherSecret = commitmentSecret();
  await write(other, 'commit', [registerCommitment('other-name', other.address, otherSecret)]);
  await aged();
  await write(other, 'register', ['other-name', otherSecret]);
  results.didLinkWallet_walletsSecondDid = {
    gas: await link(other, didId('other-name'), firstWallet),
    note: 'a wallet already linked to one DID linked to a second one (membership scan + its list grows)',
  };
  log(`DID link wallet: ${results.didLinkWallet.gas}`);

  // ---- device keys
  const key = (label: string): Hex => keccak256(stringToHex(label));
  await write(owner, 'commit', [keyCommitment(did, key('x25519 device 1'), KeyType.X25519, owner.address)]);
  await aged();
  results.didAddKey = {
    gas: await write(owner, 'addKey', [did, key('x25519 device 1'), KeyType.X25519, key('ed25519 device 1')]),
    target: 70_000,
    note: 'an X25519 key-agreement key with 32 bytes of metadata in the event (the Ed25519 key of the same device), its commitment aged and used up',
  };
  results.didRevokeKey = {
    gas: await write(owner, 'revokeKey', [did, key('x25519 device 1')]),
    note: 'revoke an active key',
  };
  log(`DID add key: ${results.didAddKey.gas}`);

  // ---- ENS-style records and the primary name
  const node = await read<Hex>('nodeOf', [did]);
  results.didSetText = {
    gas: await write(owner, 'setText', [node, 'com.twitter', 'satoshi']),
    note: 'ENS-style setText(node, "com.twitter", "satoshi"), a new short record; ENS PublicResolver setText: 57.8k',
  };
  results.didSetText_avatarUri = {
    gas: await write(owner, 'setText', [
      node,
      'avatar',
      'ipfs://bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq',
    ]),
    note: 'setText(node, "avatar", 66-character ipfs URI): the value takes 3 fresh storage words',
  };
  results.didSetContenthash = {
    gas: await write(owner, 'setContenthash', [
      node,
      '0xe3010170122029f2d17be6139079dc48696d1f582a8530eb9805b561eda517e22a892c7e3f1f',
    ]),
    note: 'the profile pointer: ENSIP-7 contenthash of an IPFS CIDv1 (38 bytes), new',
  };
  results.didSetPrimary = {
    gas: await write(owner, 'setPrimary', [did]),
    note: "the owner's first primary DID (also records its addr.reverse node)",
  };
  return results;
};
