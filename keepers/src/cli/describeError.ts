/**
 * Turns anything a command throws into ONE sentence, a machine code and an exit code: CLI errors as they
 * are, contract reverts through the revert table (cli/reverts.ts), viem transport failures as "cannot
 * reach the RPC", and anything else as "Unexpected error: …" (the stack only with SENDNET_DEBUG=1).
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  HttpRequestError,
  InsufficientFundsError,
  TimeoutError,
  UserRejectedRequestError,
  WaitForTransactionReceiptTimeoutError,
} from 'viem';
import { UsageError } from '../core/errors.js';
import { CliError, ExitCode, sentence, type ExitCodeValue } from './errors.js';
import { revertSentence, type RevertContext } from './reverts.js';
import { hexSource } from '../core/wire.js';

/** A transaction hash inside a message. */
const TX_HASH = new RegExp(hexSource(32));

export interface Described {
  message: string;
  code: string;
  exitCode: ExitCodeValue;
}

/** The custom error a viem error carries, if it is a decoded contract revert. */
export function revertOf(
  error: unknown,
): { errorName: string; args: readonly unknown[] } | { unknownSignature: string } | { reason: string } | null {
  if (!(error instanceof BaseError)) return null;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError)) return null;
  if (reverted.data) return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
  if (reverted.signature) return { unknownSignature: reverted.signature };
  return { reason: reverted.reason ?? 'execution reverted' };
}

export function describeError(error: unknown, ctx: RevertContext = {}, rpcUrl?: string): Described {
  if (error instanceof CliError)
    return { message: sentence(error.message), code: error.code, exitCode: error.exitCode };
  if (error instanceof UsageError) return { message: sentence(error.message), code: 'Usage', exitCode: ExitCode.Usage };
  const revert = revertOf(error);
  if (revert) {
    if ('errorName' in revert) {
      return {
        message: sentence(revertSentence(revert.errorName, revert.args, ctx)),
        code: revert.errorName,
        exitCode: ExitCode.Rejected,
      };
    }
    if ('unknownSignature' in revert) {
      return {
        message: `The contract refused the transaction with an error this CLI does not know (selector ${revert.unknownSignature}).`,
        code: 'UnknownRevert',
        exitCode: ExitCode.Rejected,
      };
    }
    return {
      message: sentence(`The contract refused the transaction: ${revert.reason}`),
      code: 'Reverted',
      exitCode: ExitCode.Rejected,
    };
  }
  if (error instanceof BaseError) {
    const http = error.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError);
    if (http) {
      const url = (http as HttpRequestError).url ?? rpcUrl ?? 'the RPC';
      return {
        message: `Cannot reach the RPC at ${url}: check that the node is running and --rpc is right.`,
        code: 'RpcUnreachable',
        exitCode: ExitCode.Network,
      };
    }
    if (error.walk((e) => e instanceof InsufficientFundsError)) {
      return {
        message: 'The signing account does not have enough ETH to pay for this transaction and its gas.',
        code: 'InsufficientFunds',
        exitCode: ExitCode.Rejected,
      };
    }
    const timeout = error.walk((e) => e instanceof WaitForTransactionReceiptTimeoutError);
    if (timeout) {
      const hash = TX_HASH.exec(timeout.message)?.[0] ?? 'the transaction';
      return {
        message: `The transaction ${hash} was sent but not mined in time: look it up later before sending it again.`,
        code: 'NotMined',
        exitCode: ExitCode.Network,
      };
    }
    if (error.walk((e) => e instanceof UserRejectedRequestError)) {
      return { message: 'The signer refused to sign the transaction.', code: 'Rejected', exitCode: ExitCode.Rejected };
    }
    return {
      message: sentence(`The chain refused the request: ${error.shortMessage.split('\n')[0]}`),
      code: 'ChainError',
      exitCode: ExitCode.Unexpected,
    };
  }
  const text = error instanceof Error ? error.message : String(error);
  return {
    message: sentence(`Unexpected error: ${text.split('\n')[0]}`),
    code: 'Unexpected',
    exitCode: ExitCode.Unexpected,
  };
}
