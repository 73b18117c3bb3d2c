/** Helpers every command module shares: the session of a commander action, help examples, tx fields. */
import type { Command } from 'commander';
import type { Hash, TransactionReceipt } from 'viem';
import { parseUrl } from '../inputs.js';
import { Session, type GlobalOptions } from '../session.js';

/** The session for the command being run, from its options merged with the global ones. */
export function sessionFor(command: Command): Session {
  const options = command.optsWithGlobals<GlobalOptions>();
  const rpc = parseUrl(options.rpc, '--rpc', ['http:', 'https:']);
  return new Session({ ...options, rpc });
}

/** Adds an "Examples:" section to a command's help. */
export function withExamples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

/** The fields every transaction result shows. */
export function txFields(receipt: TransactionReceipt & { transactionHash: Hash }) {
  return { transaction: receipt.transactionHash, block: receipt.blockNumber };
}

export const txLines = (receipt: TransactionReceipt) =>
  [
    ['transaction', receipt.transactionHash],
    ['block', receipt.blockNumber.toString()],
  ] as const;
