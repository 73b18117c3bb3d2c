/**
 * `sendnet did …`: the DID holder's journey. register a name, link a wallet with the wallet's EIP-712
 * `LinkConsent` (signed here from the wallet's key in an environment variable, or handed over with
 * `did consent`), unlink, add/revoke/list device keys, and resolve a name the way any ENS client does
 * (viem `getEnsAddress` / `getEnsText` against the DidUniversalResolver).
 */
import { Command } from 'commander';
import { hexToString, isHex, namehash, stringToHex, type Address, type Hex } from 'viem';
import { commitmentSecret, didDomain, didId, keyCommitment, linkConsentTypes } from '../../chain/did.js';
import { didRegistryAbi } from '../../generated/contracts.js';
import { InputError, RejectedError } from '../errors.js';
import { parseAddress, parseChoice, parseHex32, parseInteger } from '../inputs.js';
import { formatTime, renderRecord, renderTable } from '../output.js';
import type { ContractCall, Session } from '../session.js';
import { accountFromEnv } from '../signer.js';
import { sessionFor, txLines, withExamples } from './common.js';

const KEY_TYPES = ['ed25519', 'x25519'] as const;
const KEY_STATUS = ['none', 'active', 'revoked'] as const;
/** Text records `did resolve` shows besides those asked for with --text. */
export const DEFAULT_TEXT_KEYS = ['avatar', 'url', 'com.sendingnetwork.profile'];

/** The label of a DID name given as `alice` or `alice.send`; checked against the registry's name rules. */
export function didLabel(input: string, tld: string): string {
  const trimmed = input.trim();
  const label = trimmed.endsWith(`.${tld}`) ? trimmed.slice(0, -(tld.length + 1)) : trimmed;
  if (!/^[a-z0-9-]{3,24}$/.test(label) || label.startsWith('-') || label.endsWith('-') || label.includes('--')) {
    throw new InputError(
      `"${input}" is not a valid DID name: use 3-24 characters of a-z, 0-9 and single inner hyphens (e.g. alice or alice.${tld}).`,
    );
  }
  return label;
}

interface DidContext {
  registry: Address;
  tld: string;
}

async function registryOf(session: Session): Promise<DidContext> {
  const registry = await session.contract('DidRegistry');
  const tld = await session.read({ address: registry, abi: didRegistryAbi, functionName: 'tld', args: [] });
  return { registry, tld };
}

export interface DeviceKey {
  key: Hex;
  type: string;
  status: string;
  metadata: string;
  addedInBlock: bigint;
}

/** Keys ever added to `did` (from `KeyAdded` events since the deployment block) with their current state. */
async function listKeys(session: Session, registry: Address, did: bigint): Promise<DeviceKey[]> {
  const { book } = await session.book();
  const logs = await session.publicClient().getContractEvents({
    address: registry,
    abi: didRegistryAbi,
    eventName: 'KeyAdded',
    args: { did },
    fromBlock: BigInt(book.startBlock),
    toBlock: 'latest',
  });
  return Promise.all(
    logs.map(async (log) => {
      const key = log.args.key as Hex;
      const [status] = await session.read({
        address: registry,
        abi: didRegistryAbi,
        functionName: 'keyState',
        args: [key],
      });
      const metadata = (log.args.metadata ?? '0x') as Hex;
      let text = metadata === '0x' ? '' : metadata;
      try {
        const decoded = hexToString(metadata);
        if (/^[\x20-\x7e]*$/.test(decoded)) text = decoded;
      } catch {
        /* keep hex */
      }
      return {
        key,
        type: KEY_TYPES[Number(log.args.keyType)] ?? String(log.args.keyType),
        status: KEY_STATUS[status] ?? String(status),
        metadata: text,
        addedInBlock: log.blockNumber,
      };
    }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The registry's commit–reveal, step by step with notes: checks `reveal` first (any refusal other than the
 * missing commitment is thrown before anything is sent), sends `commit(commitment)` (or reuses the same
 * commitment when it is already pending), waits until it is `minCommitmentAge` old by the chain's clock,
 * then sends `reveal`, retrying once a second while the node still says `CommitmentTooNew`.
 */
async function commitThenReveal(
  session: Session,
  registry: Address,
  commitment: Hex,
  what: string,
  reveal: ContractCall,
): Promise<Awaited<ReturnType<Session['send']>>> {
  const refused = await session.preflight(reveal);
  if (refused && refused.errorName !== 'UnknownCommitment') throw refused.error;
  const minAge = Number(
    await session.read({ address: registry, abi: didRegistryAbi, functionName: 'minCommitmentAge', args: [] }),
  );
  let committedAt = Number(
    await session.read({ address: registry, abi: didRegistryAbi, functionName: 'committedAt', args: [commitment] }),
  );
  if (committedAt === 0) {
    const receipt = await session.send({
      address: registry,
      abi: didRegistryAbi,
      functionName: 'commit',
      args: [commitment],
    });
    committedAt = Number((await session.publicClient().getBlock({ blockNumber: receipt.blockNumber })).timestamp);
    session.out.note(`Committed to ${what} (transaction ${receipt.transactionHash}).`);
  }
  const usableAt = committedAt + minAge;
  const wait = usableAt - (await session.now());
  if (wait > 0) {
    session.out.note(
      `Waiting ${wait} s, until ${formatTime(usableAt)}: the registry accepts ${what} only ${minAge} s after its commitment, so nobody who sees it in the mempool can take it first.`,
    );
    await sleep(wait * 1000);
  }
  for (let attempt = 0; ; attempt++) {
    const early = await session.preflight(reveal);
    if (!early) break;
    if (early.errorName !== 'CommitmentTooNew' || attempt >= minAge + 30) throw early.error;
    await sleep(1000);
  }
  return session.send(reveal);
}

export function didCommand(): Command {
  const did = withExamples(
    new Command('did').description('DIDs: register a name, link wallets, manage device keys, resolve names'),
    ['sendnet did register alice', 'sendnet did primary alice', 'sendnet did resolve alice', 'sendnet did keys --help'],
  );

  withExamples(
    did
      .command('register')
      .description(
        'register a DID name to the signer (3-24 characters of a-z, 0-9 and "-"): commits to it, waits the registry\'s minimum commitment age, then registers',
      )
      .argument('<name>', 'the name, e.g. alice (resolves as alice.send)'),
    ['sendnet did register alice'],
  ).action(async (nameArg: string, _options: object, command: Command) => {
    const session = sessionFor(command);
    const owner = (await session.signer()).address;
    const { registry, tld } = await registryOf(session);
    const trimmed = nameArg.trim();
    const name = trimmed.endsWith(`.${tld}`) ? trimmed.slice(0, -(tld.length + 1)) : trimmed;
    if (Buffer.byteLength(name) > 64)
      throw new InputError(`"${nameArg}" is too long for a DID name (at most 24 characters).`);
    const secret = commitmentSecret();
    // the registry checks the name rules here (each broken rule named) before anything is sent
    const commitment = await session.read({
      address: registry,
      abi: didRegistryAbi,
      functionName: 'registerCommitment',
      args: [name, owner, secret],
    });
    const receipt = await commitThenReveal(session, registry, commitment, `registering ${name}.${tld}`, {
      address: registry,
      abi: didRegistryAbi,
      functionName: 'register',
      args: [name, secret],
    });
    session.out.result(
      {
        name,
        ensName: `${name}.${tld}`,
        id: didId(name),
        owner,
        transaction: receipt.transactionHash,
        block: receipt.blockNumber,
      },
      () =>
        `Registered ${name}.${tld} to ${owner}.\n` +
        renderRecord([['DID id', didId(name).toString()], ...txLines(receipt)]),
    );
  });

  withExamples(
    did
      .command('link')
      .description(
        "link a wallet to the signer's DID with the wallet's EIP-712 consent: signed here from the wallet's key (--wallet-key-env), or given (--wallet, --deadline, --consent from `did consent`)",
      )
      .argument('<name>', 'the DID name')
      .option('--wallet-key-env <name>', "environment variable holding the wallet's private key (it signs the consent)")
      .option('--wallet <address>', 'the wallet, when its consent was signed elsewhere')
      .option('--consent <signature>', 'the consent signature from `sendnet did consent`')
      .option('--deadline <unix>', 'the deadline the consent was signed with')
      .option('--ttl <seconds>', 'validity of a consent signed here', '3600'),
    [
      'WALLET_KEY=0x… sendnet did link alice --wallet-key-env WALLET_KEY',
      'sendnet did link alice --wallet 0xWallet… --deadline 1767225600 --consent 0xSignature…',
    ],
  ).action(
    async (
      nameArg: string,
      options: { walletKeyEnv?: string; wallet?: string; consent?: string; deadline?: string; ttl: string },
      command: Command,
    ) => {
      const session = sessionFor(command);
      const owner = (await session.signer()).address;
      const { registry, tld } = await registryOf(session);
      const label = didLabel(nameArg, tld);
      const id = didId(label);
      let wallet: Address;
      let deadline: bigint;
      let consent: Hex;
      if (options.walletKeyEnv) {
        if (options.consent || options.wallet)
          throw new InputError('Pass either --wallet-key-env or --wallet with --consent, not both.');
        const walletAccount = accountFromEnv(options.walletKeyEnv, 'wallet', session.env);
        wallet = walletAccount.address;
        const nonce = await session.read({
          address: registry,
          abi: didRegistryAbi,
          functionName: 'linkNonce',
          args: [wallet],
        });
        deadline = BigInt((await session.now()) + parseInteger(options.ttl, '--ttl', 60, 31_536_000));
        const { book } = await session.book();
        consent = await walletAccount.signTypedData({
          domain: didDomain(book.chainId, registry),
          types: linkConsentTypes,
          primaryType: 'LinkConsent',
          message: { did: id, wallet, owner, nonce, deadline },
        });
      } else {
        if (!options.wallet || !options.consent || !options.deadline) {
          throw new InputError('Pass --wallet-key-env NAME, or all of --wallet, --deadline and --consent.');
        }
        wallet = parseAddress(options.wallet, '--wallet');
        deadline = BigInt(parseInteger(options.deadline, '--deadline'));
        if (!isHex(options.consent) || (options.consent.length !== 132 && options.consent.length !== 130)) {
          throw new InputError('--consent must be a 65-byte (or 64-byte compact) 0x-hex signature.');
        }
        consent = options.consent as Hex;
      }
      const receipt = await session.send({
        address: registry,
        abi: didRegistryAbi,
        functionName: 'linkWallet',
        args: [id, wallet, deadline, consent],
      });
      session.out.result(
        { name: `${label}.${tld}`, wallet, owner, transaction: receipt.transactionHash, block: receipt.blockNumber },
        () => `Linked ${wallet} to ${label}.${tld}.\n${renderRecord(txLines(receipt))}`,
      );
    },
  );

  withExamples(
    did
      .command('consent')
      .description(
        'sign, as the wallet (the signer), the EIP-712 consent to be linked to a DID; hand the output to the DID owner for `did link`',
      )
      .argument('<name>', 'the DID name')
      .requiredOption('--owner <address>', "the DID's current owner")
      .option('--ttl <seconds>', 'validity of the consent', '3600'),
    ['sendnet did consent alice --owner 0xAliceOwner…'],
  ).action(async (nameArg: string, options: { owner: string; ttl: string }, command: Command) => {
    const session = sessionFor(command);
    const walletAccount = await session.signer();
    const owner = parseAddress(options.owner, '--owner');
    const { registry, tld } = await registryOf(session);
    const label = didLabel(nameArg, tld);
    const id = didId(label);
    const { book } = await session.book();
    const nonce = await session.read({
      address: registry,
      abi: didRegistryAbi,
      functionName: 'linkNonce',
      args: [walletAccount.address],
    });
    const deadline = BigInt((await session.now()) + parseInteger(options.ttl, '--ttl', 60, 31_536_000));
    const consent = await walletAccount.signTypedData({
      domain: didDomain(book.chainId, registry),
      types: linkConsentTypes,
      primaryType: 'LinkConsent',
      message: { did: id, wallet: walletAccount.address, owner, nonce, deadline },
    });
    session.out.result(
      { name: `${label}.${tld}`, wallet: walletAccount.address, owner, nonce, deadline, consent },
      () =>
        renderRecord([
          ['wallet', walletAccount.address],
          ['deadline', `${deadline} (${formatTime(deadline)})`],
          ['consent', consent],
          [
            'owner runs',
            `sendnet did link ${label} --wallet ${walletAccount.address} --deadline ${deadline} --consent ${consent}`,
          ],
        ]),
    );
  });

  withExamples(
    did
      .command('unlink')
      .description('remove a wallet link: the DID owner names --wallet, or a linked wallet (the signer) unlinks itself')
      .argument('<name>', 'the DID name')
      .option('--wallet <address>', 'the wallet to unlink (default: the signer)'),
    ['sendnet did unlink alice --wallet 0xWallet…', 'SENDNET_PRIVATE_KEY=0x…wallet sendnet did unlink alice'],
  ).action(async (nameArg: string, options: { wallet?: string }, command: Command) => {
    const session = sessionFor(command);
    const signer = (await session.signer()).address;
    const wallet = options.wallet ? parseAddress(options.wallet, '--wallet') : signer;
    const { registry, tld } = await registryOf(session);
    const label = didLabel(nameArg, tld);
    const receipt = await session.send({
      address: registry,
      abi: didRegistryAbi,
      functionName: 'unlink',
      args: [didId(label), wallet],
    });
    session.out.result(
      { name: `${label}.${tld}`, wallet, transaction: receipt.transactionHash, block: receipt.blockNumber },
      () => `Unlinked ${wallet} from ${label}.${tld}.\n${renderRecord(txLines(receipt))}`,
    );
  });

  const keys = withExamples(
    did.command('keys').description('device and messaging keys of a DID (32-byte Ed25519 or X25519 public keys)'),
    ['sendnet did keys add alice 0x3b6a27bc…(64 hex digits) --type ed25519', 'sendnet did keys list alice'],
  );

  withExamples(
    keys
      .command('add')
      .description(
        'add a public key to a DID (signer: the DID owner): commits to the binding, waits the minimum commitment age, then adds it; a key can be added only once, ever',
      )
      .argument('<name>', 'the DID name')
      .argument('<key>', 'the 32-byte public key, 0x-hex')
      .option('--type <type>', 'ed25519 (signing) or x25519 (key agreement)', 'ed25519')
      .option('--metadata <text>', 'a label stored in the event, e.g. the device name', ''),
    ['sendnet did keys add alice 0x3b6a27bc…(64 hex digits) --type ed25519 --metadata "phone"'],
  ).action(async (nameArg: string, keyArg: string, options: { type: string; metadata: string }, command: Command) => {
    const session = sessionFor(command);
    const key = parseHex32(keyArg, 'the key');
    const type = parseChoice(options.type, '--type', KEY_TYPES);
    const { registry, tld } = await registryOf(session);
    const label = didLabel(nameArg, tld);
    const metadata = options.metadata ? stringToHex(options.metadata) : '0x';
    const owner = (await session.signer()).address;
    const keyType = KEY_TYPES.indexOf(type);
    const receipt = await commitThenReveal(
      session,
      registry,
      keyCommitment(didId(label), key, keyType, owner),
      `adding the key to ${label}.${tld}`,
      { address: registry, abi: didRegistryAbi, functionName: 'addKey', args: [didId(label), key, keyType, metadata] },
    );
    session.out.result(
      {
        name: `${label}.${tld}`,
        key,
        type,
        metadata: options.metadata,
        transaction: receipt.transactionHash,
        block: receipt.blockNumber,
      },
      () => `Added ${type} key ${key} to ${label}.${tld}.\n${renderRecord(txLines(receipt))}`,
    );
  });

  withExamples(
    keys
      .command('revoke')
      .description('revoke a key of a DID for good (signer: the DID owner)')
      .argument('<name>', 'the DID name')
      .argument('<key>', 'the 32-byte public key, 0x-hex'),
    ['sendnet did keys revoke alice 0x3b6a27bc…'],
  ).action(async (nameArg: string, keyArg: string, _options: object, command: Command) => {
    const session = sessionFor(command);
    await session.signer();
    const key = parseHex32(keyArg, 'the key');
    const { registry, tld } = await registryOf(session);
    const label = didLabel(nameArg, tld);
    const receipt = await session.send({
      address: registry,
      abi: didRegistryAbi,
      functionName: 'revokeKey',
      args: [didId(label), key],
    });
    session.out.result(
      { name: `${label}.${tld}`, key, transaction: receipt.transactionHash, block: receipt.blockNumber },
      () => `Revoked key ${key} of ${label}.${tld}.\n${renderRecord(txLines(receipt))}`,
    );
  });

  withExamples(
    keys
      .command('list')
      .description('every key ever added to a DID, with its current status')
      .argument('<name>', 'the DID name'),
    ['sendnet did keys list alice', 'sendnet --json did keys list alice'],
  ).action(async (nameArg: string, _options: object, command: Command) => {
    const session = sessionFor(command);
    const { registry, tld } = await registryOf(session);
    const label = didLabel(nameArg, tld);
    const list = await listKeys(session, registry, didId(label));
    session.out.result({ name: `${label}.${tld}`, keys: list }, () =>
      list.length === 0
        ? `${label}.${tld} has no keys.`
        : renderTable(
            [{ header: 'key' }, { header: 'type' }, { header: 'status' }, { header: 'metadata' }],
            list.map((k) => [k.key, k.type, k.status, k.metadata]),
          ),
    );
  });

  withExamples(
    did
      .command('primary')
      .description(
        "set the signer's primary DID, the name its address reverse-resolves to (getEnsName); the signer must own the DID or be linked to it",
      )
      .argument('[name]', 'the DID name (omit with --clear)')
      .option('--clear', 'clear the primary DID instead'),
    ['sendnet did primary alice', 'sendnet did primary --clear'],
  ).action(async (nameArg: string | undefined, options: { clear?: boolean }, command: Command) => {
    const session = sessionFor(command);
    const account = (await session.signer()).address;
    const { registry, tld } = await registryOf(session);
    if (options.clear ? nameArg !== undefined : nameArg === undefined)
      throw new InputError('Name the DID to make primary, or pass --clear (not both).');
    const label = nameArg === undefined ? null : didLabel(nameArg, tld);
    const id = label === null ? 0n : didId(label);
    const receipt = await session.send({
      address: registry,
      abi: didRegistryAbi,
      functionName: 'setPrimary',
      args: [id],
    });
    const name = label === null ? null : `${label}.${tld}`;
    session.out.result(
      { account, primary: name, id, transaction: receipt.transactionHash, block: receipt.blockNumber },
      () =>
        `${name === null ? `Cleared the primary DID of ${account}` : `${account} now reverse-resolves to ${name}`}.\n${renderRecord(txLines(receipt))}`,
    );
  });

  withExamples(
    did
      .command('resolve')
      .description('resolve a DID name like any ENS client: its address, text records, linked wallets and active keys')
      .argument('<name>', 'the DID name, e.g. alice or alice.send')
      .option('--text <key...>', 'extra text records to read'),
    [
      'sendnet did resolve alice',
      'sendnet did resolve alice.send --text com.twitter',
      'sendnet --json did resolve alice',
    ],
  ).action(async (nameArg: string, options: { text?: string[] }, command: Command) => {
    const session = sessionFor(command);
    const { registry, tld } = await registryOf(session);
    const label = didLabel(nameArg, tld);
    const { normalize } = await import('viem/ens');
    const ensName = normalize(`${label}.${tld}`);
    const universalResolverAddress = await session.contract('DidUniversalResolver');
    const client = session.publicClient();
    const address = await client.getEnsAddress({ name: ensName, universalResolverAddress });
    if (!address) throw new RejectedError(`The DID ${ensName} is not registered.`, 'UnknownDid');
    const textKeys = [...new Set([...DEFAULT_TEXT_KEYS, ...(options.text ?? [])])];
    const texts = Object.fromEntries(
      await Promise.all(
        textKeys.map(
          async (key) => [key, await client.getEnsText({ name: ensName, key, universalResolverAddress })] as const,
        ),
      ),
    );
    const id = didId(label);
    const wallets = await session.read({
      address: registry,
      abi: didRegistryAbi,
      functionName: 'walletsOf',
      args: [id],
    });
    const contenthash = await session.read({
      address: registry,
      abi: didRegistryAbi,
      functionName: 'contenthash',
      args: [namehash(ensName)],
    });
    const activeKeys = (await listKeys(session, registry, id)).filter((k) => k.status === 'active');
    session.out.result(
      {
        name: ensName,
        id,
        address,
        wallets,
        texts,
        contenthash: contenthash === '0x' ? null : contenthash,
        keys: activeKeys,
      },
      () =>
        renderRecord([
          ['name', ensName],
          ['address', address],
          ['linked wallets', wallets.length ? wallets.join(', ') : 'none'],
          ...Object.entries(texts)
            .filter(([, v]) => v !== null)
            .map(([k, v]) => [`text ${k}`, String(v)] as const),
          ['contenthash', contenthash === '0x' ? 'none' : contenthash],
          ...(activeKeys.length
            ? activeKeys.map(
                (k, i) =>
                  [i === 0 ? 'keys' : '', `${k.key} (${k.type}${k.metadata ? `, ${k.metadata}` : ''})`] as const,
              )
            : [['keys', 'none'] as const]),
        ]),
    );
  });

  return did;
}
