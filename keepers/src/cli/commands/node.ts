/**
 * `sendnet node …`: the node operator's journey. register (the node key signs the EIP-712
 * `NodeKeyConsent(operator)`, SEND is approved, the node registered), stake (top up), unbond, withdraw,
 * status, claim (cumulative rewards with a keeper-published proof).
 */
import { Command, Option } from 'commander';
import { parseEventLogs, type Address } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import { epochSettlementAbi, nodeStakingAbi, sendTokenAbi } from '../../generated/contracts.js';
import { InputError, RejectedError } from '../errors.js';
import { UINT96_MAX, parseAddress, parseAmount, parseNodeEndpoint, parseNodeMetadata } from '../inputs.js';
import { MAX_ENDPOINT_BYTES, MAX_METADATA_URI_BYTES } from '../../core/chainBounds.js';
import { formatSend, formatTime, renderRecord } from '../output.js';
import { accountClaim, loadRewardProofs, proofsSource, requireCurrentRoot } from '../proofs.js';
import { revertSentence } from '../reverts.js';
import type { Session } from '../session.js';
import { accountFromEnv, accountFromFile } from '../signer.js';
import { sessionFor, txLines, withExamples } from './common.js';

export const DEFAULT_NODE_KEY_ENV = 'SENDNET_NODE_KEY';
const STATUS = ['not registered', 'Active', 'Exiting', 'Ejected'] as const;

interface NodeRecord {
  operator: Address;
  stake: bigint;
  status: number;
  lastSlashEpoch: number;
  slashedInLastSlashEpoch: bigint;
  recentStrikeEpochs: bigint;
  unbonding: bigint;
  unbondingReleaseAt: number;
  unbondingEpoch: number;
}

const stakeAmount = (value: string, option: string) =>
  parseAmount(value, option, { decimals: 18, symbol: 'SEND', max: UINT96_MAX });

function nodeKeyAccount(
  options: { nodeKeyEnv?: string; nodeKeyFile?: string },
  env: NodeJS.ProcessEnv,
): PrivateKeyAccount {
  if (options.nodeKeyFile) return accountFromFile(options.nodeKeyFile, 'node');
  return accountFromEnv(options.nodeKeyEnv ?? DEFAULT_NODE_KEY_ENV, 'node', env);
}

/** The node key: an address argument, else the address of the node key in the environment. */
function nodeKeyAddress(
  arg: string | undefined,
  options: { nodeKeyEnv?: string; nodeKeyFile?: string },
  env: NodeJS.ProcessEnv,
): Address {
  if (arg) return parseAddress(arg, 'the node key');
  return nodeKeyAccount(options, env).address;
}

async function getNode(session: Session, staking: Address, nodeKey: Address): Promise<NodeRecord> {
  return session.read({ address: staking, abi: nodeStakingAbi, functionName: 'getNode', args: [nodeKey] });
}

/** The strike epochs packed four to a word, oldest first, zeros dropped. */
export function strikeEpochs(packed: bigint): number[] {
  const epochs: number[] = [];
  for (let i = 0n; i < 4n; i++) {
    const epoch = Number((packed >> (32n * i)) & 0xffffffffn);
    if (epoch !== 0) epochs.push(epoch);
  }
  return epochs;
}

/** Checks the signer operates an Active node before any approval is spent. */
async function requireOperatorOfActive(
  session: Session,
  staking: Address,
  nodeKey: Address,
  operator: Address,
): Promise<NodeRecord> {
  const node = await getNode(session, staking, nodeKey);
  if (node.status === 0) throw new RejectedError(revertSentence('NodeNotRegistered', [nodeKey]), 'NodeNotRegistered');
  if (node.operator.toLowerCase() !== operator.toLowerCase()) {
    throw new RejectedError(revertSentence('NotNodeOperator', [nodeKey, operator]), 'NotNodeOperator');
  }
  if (node.status !== 1)
    throw new RejectedError(revertSentence('NodeNotActive', [nodeKey, node.status]), 'NodeNotActive');
  return node;
}

/** Approves `spender` for `amount` SEND unless the allowance already covers it; checks the balance first. */
async function ensureSendAllowance(
  session: Session,
  token: Address,
  owner: Address,
  spender: Address,
  amount: bigint,
): Promise<void> {
  const balance = await session.read({ address: token, abi: sendTokenAbi, functionName: 'balanceOf', args: [owner] });
  if (balance < amount) {
    throw new RejectedError(
      `${owner} holds only ${formatSend(balance)} but ${formatSend(amount)} is needed.`,
      'InsufficientBalance',
    );
  }
  const allowance = await session.read({
    address: token,
    abi: sendTokenAbi,
    functionName: 'allowance',
    args: [owner, spender],
  });
  if (allowance >= amount) return;
  session.out.note(`Approving ${formatSend(amount)} for NodeStaking ${spender}…`);
  await session.send({ address: token, abi: sendTokenAbi, functionName: 'approve', args: [spender, amount] });
}

const ENDPOINT_HELP = `where clients, WatchDogs and keepers reach the node: a ws:// or wss:// URL of at most ${MAX_ENDPOINT_BYTES} bytes`;
const METADATA_HELP = `operator metadata URI (region, contact), at most ${MAX_METADATA_URI_BYTES} bytes`;

function addNodeKeyOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--node-key-env <name>', 'environment variable holding the node key (hex private key)').default(
        DEFAULT_NODE_KEY_ENV,
      ),
    )
    .option(
      '--node-key-file <file>',
      'file holding the node key (hex private key) instead of the environment variable',
    );
}

export function nodeCommand(): Command {
  const node = withExamples(
    new Command('node').description(
      'edge nodes: register, change the endpoint, stake, unbond, withdraw, status, claim rewards',
    ),
    [
      'sendnet node register --stake 10000 --endpoint ws://node1.example:7000',
      'sendnet node endpoint 0xNodeKey… --endpoint wss://relay.example',
      'sendnet node status 0xNodeKey…',
      'sendnet node register --help',
    ],
  );

  withExamples(
    addNodeKeyOptions(
      node
        .command('register')
        .description(
          'register a new edge node: the node key signs its EIP-712 consent to the operator (the signer), the stake is approved and pulled',
        )
        .requiredOption(
          '--stake <amount>',
          'SEND to stake (whole tokens, e.g. 10000 or 12500.5); at least the minimum stake',
        )
        .requiredOption('--endpoint <url>', ENDPOINT_HELP)
        .option('--metadata <uri>', METADATA_HELP, ''),
    ),
    [
      'SENDNET_PRIVATE_KEY=0x…operator SENDNET_NODE_KEY=0x…node sendnet node register --stake 10000 --endpoint ws://node1.example:7000',
      'sendnet node register --node-key-file node.key --stake 25000 --endpoint wss://relay.example --metadata ipfs://bafy…',
    ],
  ).action(
    async (
      options: { stake: string; endpoint: string; metadata: string; nodeKeyEnv?: string; nodeKeyFile?: string },
      command: Command,
    ) => {
      const session = sessionFor(command);
      const stake = stakeAmount(options.stake, '--stake');
      const endpoint = parseNodeEndpoint(options.endpoint, '--endpoint');
      const metadata = parseNodeMetadata(options.metadata, '--metadata');
      const nodeAccount = nodeKeyAccount(options, session.env);
      const operator = (await session.signer()).address;
      const staking = await session.contract('NodeStaking');
      const token = await session.contract('SendToken');
      const { book } = await session.book();

      const existing = await getNode(session, staking, nodeAccount.address);
      if (existing.status !== 0)
        throw new RejectedError(
          revertSentence('NodeKeyAlreadyRegistered', [nodeAccount.address]),
          'NodeKeyAlreadyRegistered',
        );
      const minStake = await session.read({
        address: staking,
        abi: nodeStakingAbi,
        functionName: 'minStake',
        args: [],
      });
      if (stake < minStake)
        throw new RejectedError(revertSentence('StakeBelowMinimum', [stake, minStake]), 'StakeBelowMinimum');

      const consent = await nodeAccount.signTypedData({
        domain: { name: 'SendingNetwork NodeStaking', version: '1', chainId: book.chainId, verifyingContract: staking },
        types: { NodeKeyConsent: [{ name: 'operator', type: 'address' }] },
        primaryType: 'NodeKeyConsent',
        message: { operator },
      });
      await ensureSendAllowance(session, token, operator, staking, stake);
      const receipt = await session.send({
        address: staking,
        abi: nodeStakingAbi,
        functionName: 'register',
        args: [nodeAccount.address, stake, consent, endpoint, metadata],
      });
      session.out.result(
        {
          nodeKey: nodeAccount.address,
          operator,
          stake,
          endpoint,
          metadata,
          transaction: receipt.transactionHash,
          block: receipt.blockNumber,
        },
        () =>
          `Registered node ${nodeAccount.address}.\n` +
          renderRecord([
            ['node key', nodeAccount.address],
            ['operator', operator],
            ['stake', formatSend(stake)],
            ['endpoint', endpoint],
            ...(metadata ? ([['metadata', metadata]] as const) : []),
            ...txLines(receipt),
          ]),
      );
    },
  );

  withExamples(
    node
      .command('endpoint')
      .description("change an Active node's endpoint (and metadata URI); the signer must be its operator")
      .argument('<nodeKey>', 'the node key (address)')
      .requiredOption('--endpoint <url>', ENDPOINT_HELP)
      .option('--metadata <uri>', `${METADATA_HELP}; replaces the registered one`, ''),
    [
      'sendnet node endpoint 0xNodeKey… --endpoint wss://relay.example',
      'sendnet node endpoint 0xNodeKey… --endpoint ws://203.0.113.7:7000 --metadata ipfs://bafy…',
    ],
  ).action(async (nodeKeyArg: string, options: { endpoint: string; metadata: string }, command: Command) => {
    const session = sessionFor(command);
    const nodeKey = parseAddress(nodeKeyArg, 'the node key');
    const endpoint = parseNodeEndpoint(options.endpoint, '--endpoint');
    const metadata = parseNodeMetadata(options.metadata, '--metadata');
    const operator = (await session.signer()).address;
    const staking = await session.contract('NodeStaking');
    await requireOperatorOfActive(session, staking, nodeKey, operator);
    const receipt = await session.send({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'updateEndpoint',
      args: [nodeKey, endpoint, metadata],
    });
    session.out.result(
      { nodeKey, endpoint, metadata, transaction: receipt.transactionHash, block: receipt.blockNumber },
      () =>
        `Node ${nodeKey} is now reached at ${endpoint}.\n` +
        renderRecord([
          ['endpoint', endpoint],
          ...(metadata ? ([['metadata', metadata]] as const) : []),
          ...txLines(receipt),
        ]),
    );
  });

  withExamples(
    node
      .command('stake')
      .description("add SEND to an Active node's stake (the signer must be its operator)")
      .argument('<nodeKey>', 'the node key (address)')
      .requiredOption('--amount <amount>', 'SEND to add (whole tokens)'),
    ['sendnet node stake 0xNodeKey… --amount 5000'],
  ).action(async (nodeKeyArg: string, options: { amount: string }, command: Command) => {
    const session = sessionFor(command);
    const nodeKey = parseAddress(nodeKeyArg, 'the node key');
    const amount = stakeAmount(options.amount, '--amount');
    const operator = (await session.signer()).address;
    const staking = await session.contract('NodeStaking');
    const token = await session.contract('SendToken');
    await requireOperatorOfActive(session, staking, nodeKey, operator);
    await ensureSendAllowance(session, token, operator, staking, amount);
    const receipt = await session.send({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'increaseStake',
      args: [nodeKey, amount],
    });
    const [event] = parseEventLogs({ abi: nodeStakingAbi, logs: receipt.logs, eventName: 'StakeIncreased' });
    const newStake = event?.args.newStake ?? 0n;
    session.out.result(
      { nodeKey, added: amount, stake: newStake, transaction: receipt.transactionHash, block: receipt.blockNumber },
      () =>
        `Staked ${formatSend(amount)} more on node ${nodeKey}.\n` +
        renderRecord([['stake', formatSend(newStake)], ...txLines(receipt)]),
    );
  });

  withExamples(
    node
      .command('unbond')
      .description('start the unbonding cooldown on part or all of the stake (all of it exits the node)')
      .argument('<nodeKey>', 'the node key (address)')
      .option('--amount <amount>', 'SEND to unbond (a partial unbond must leave at least the minimum stake)')
      .option('--all', 'unbond the whole stake and exit'),
    ['sendnet node unbond 0xNodeKey… --amount 2000', 'sendnet node unbond 0xNodeKey… --all'],
  ).action(async (nodeKeyArg: string, options: { amount?: string; all?: boolean }, command: Command) => {
    const session = sessionFor(command);
    const nodeKey = parseAddress(nodeKeyArg, 'the node key');
    if (Boolean(options.amount) === Boolean(options.all))
      throw new InputError('Pass exactly one of --amount AMOUNT or --all.');
    const operator = (await session.signer()).address;
    const staking = await session.contract('NodeStaking');
    const current = await requireOperatorOfActive(session, staking, nodeKey, operator);
    const amount = options.all ? current.stake : stakeAmount(options.amount!, '--amount');
    const receipt = await session.send({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'requestUnbond',
      args: [nodeKey, amount],
    });
    const [event] = parseEventLogs({ abi: nodeStakingAbi, logs: receipt.logs, eventName: 'UnbondRequested' });
    const releaseAt = Number(event?.args.releaseAt ?? 0);
    const remaining = event?.args.remainingStake ?? 0n;
    session.out.result(
      {
        nodeKey,
        unbonded: amount,
        remainingStake: remaining,
        releaseAt,
        transaction: receipt.transactionHash,
        block: receipt.blockNumber,
      },
      () =>
        `Unbonding ${formatSend(amount)} of node ${nodeKey}.\n` +
        renderRecord([
          ['remaining stake', formatSend(remaining)],
          ['withdrawable from', `${formatTime(releaseAt)} (and once the current epoch is finalized)`],
          ...txLines(receipt),
        ]),
    );
  });

  withExamples(
    node
      .command('withdraw')
      .description("send the node's unbonded stake to its operator once the cooldown has passed")
      .argument('<nodeKey>', 'the node key (address)'),
    ['sendnet node withdraw 0xNodeKey…'],
  ).action(async (nodeKeyArg: string, _options: object, command: Command) => {
    const session = sessionFor(command);
    const nodeKey = parseAddress(nodeKeyArg, 'the node key');
    const staking = await session.contract('NodeStaking');
    const receipt = await session.send({
      address: staking,
      abi: nodeStakingAbi,
      functionName: 'withdraw',
      args: [nodeKey],
    });
    const [event] = parseEventLogs({ abi: nodeStakingAbi, logs: receipt.logs, eventName: 'StakeWithdrawn' });
    const amount = event?.args.amount ?? 0n;
    session.out.result(
      { nodeKey, withdrawn: amount, transaction: receipt.transactionHash, block: receipt.blockNumber },
      () => `Withdrew ${formatSend(amount)} from node ${nodeKey}.\n${renderRecord(txLines(receipt))}`,
    );
  });

  withExamples(
    addNodeKeyOptions(
      node
        .command('status')
        .description("a node's status, operator, stake, unbonding and strikes")
        .argument(
          '[nodeKey]',
          'the node key (address); default: the address of the node key in --node-key-env / --node-key-file',
        ),
    ),
    ['sendnet node status 0xNodeKey…', 'sendnet --json node status 0xNodeKey…'],
  ).action(
    async (
      nodeKeyArg: string | undefined,
      options: { nodeKeyEnv?: string; nodeKeyFile?: string },
      command: Command,
    ) => {
      const session = sessionFor(command);
      const nodeKey = nodeKeyAddress(nodeKeyArg, options, session.env);
      const staking = await session.contract('NodeStaking');
      const node = await getNode(session, staking, nodeKey);
      const minStake = await session.read({
        address: staking,
        abi: nodeStakingAbi,
        functionName: 'minStake',
        args: [],
      });
      const status = STATUS[node.status] ?? `status ${node.status}`;
      const strikes = strikeEpochs(node.recentStrikeEpochs);
      const data = {
        nodeKey,
        registered: node.status !== 0,
        status,
        operator: node.status === 0 ? null : node.operator,
        stake: node.stake,
        minStake,
        unbonding: node.unbonding,
        unbondingReleaseAt: node.unbondingReleaseAt,
        strikeEpochs: strikes,
        lastSlashEpoch: node.lastSlashEpoch,
      };
      session.out.result(data, () =>
        node.status === 0
          ? `Node ${nodeKey} is not registered.`
          : renderRecord([
              ['node key', nodeKey],
              ['status', status],
              ['operator', node.operator],
              ['stake', `${formatSend(node.stake)} (minimum ${formatSend(minStake)})`],
              [
                'unbonding',
                node.unbonding === 0n
                  ? '0 SEND'
                  : `${formatSend(node.unbonding)}, withdrawable from ${formatTime(node.unbondingReleaseAt)}`,
              ],
              ['strikes', strikes.length ? `epochs ${strikes.join(', ')}` : 'none'],
              ['last slash', node.lastSlashEpoch ? `epoch ${node.lastSlashEpoch}` : 'never'],
            ]),
      );
    },
  );

  withExamples(
    node
      .command('claim')
      .description(
        "claim an account's cumulative rewards with the proof the keeper published for the latest finalized epoch",
      )
      .requiredOption(
        '--proofs <source>',
        'reward proofs: a file or URL (a "{epoch}" in it becomes the latest finalized epoch)',
      )
      .option('--account <address>', 'account to pay (default: the signer); anyone may send the claim'),
    [
      "sendnet node claim --proofs 'http://keeper.example:8080/epochs/{epoch}/claims'",
      'sendnet node claim --proofs ./epoch-12-claims.json --account 0xOperator…',
    ],
  ).action(async (options: { proofs: string; account?: string }, command: Command) => {
    const session = sessionFor(command);
    const account = options.account ? parseAddress(options.account, '--account') : (await session.signer()).address;
    const settlement = await session.contract('EpochSettlement');
    const [epoch, root] = await session.read({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'claimableRewardRoot',
      args: [],
    });
    if (epoch === 0) throw new RejectedError(revertSentence('NoFinalizedEpoch', []), 'NoFinalizedEpoch');
    const source = proofsSource(options.proofs, epoch);
    const doc = await loadRewardProofs(source);
    requireCurrentRoot(doc, source, { epoch, root });
    const entry = accountClaim(doc, source, account);
    const already = await session.read({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'claimed',
      args: [account],
    });
    if (entry.cumulative <= already)
      throw new RejectedError(revertSentence('NothingToClaim', [account, entry.cumulative, already]), 'NothingToClaim');
    const receipt = await session.send({
      address: settlement,
      abi: epochSettlementAbi,
      functionName: 'claim',
      args: [account, entry.cumulative, entry.proof],
    });
    const paid = entry.cumulative - already;
    session.out.result(
      {
        account,
        epoch,
        cumulative: entry.cumulative,
        paid,
        transaction: receipt.transactionHash,
        block: receipt.blockNumber,
      },
      () =>
        `Claimed ${formatSend(paid)} for ${account} (epoch ${epoch}).\n` +
        renderRecord([['cumulative', formatSend(entry.cumulative)], ...txLines(receipt)]),
    );
  });

  return node;
}
