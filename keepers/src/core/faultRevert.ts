/**
 * What the keeper's fault stage does when `EpochSettlement.executeFault` reverts (issue 12 §2). A leaf that
 * can never execute must not hold the stage open: the stage would reschedule itself every epoch and the
 * keeper's Redis pruning, which stops at the first epoch with an unfinished stage, would stop there for
 * good. So each revert the contracts can raise is classified:
 * - `retry`: temporary, executable in a later clock epoch (`SlashCapReached`: earlier slashes of this clock
 *   epoch used the node's cap; NodeStaking keeps the stake from being withdrawn meanwhile);
 * - `done`: someone else executed the leaf first (`FaultAlreadyExecuted`);
 * - `retire`: the leaf can never execute in any later state of the chain; logged once with `reason` and
 *   dropped, so the stage completes;
 * - `unknown`: not a contract revert we know (RPC failure, …): thrown, the job is retried.
 * Pure: no I/O.
 */

export type FaultRevertAction =
  | { kind: 'retry' }
  | { kind: 'done' }
  | { kind: 'retire'; reason: string }
  | { kind: 'unknown' };

/** Reverts after which a fault leaf can never execute, with the sentence logged when it is retired. */
const NEVER_EXECUTABLE: Readonly<Record<string, string>> = {
  InvalidFaultProof:
    "the leaf and proof do not match the epoch's fault root (our fault tree differs from the header's)",
  NoFaultsInEpoch: 'the epoch has no fault root on-chain (it was voided or submitted without faults)',
  NodeNotRegistered: 'the fault names a node key that was never registered with NodeStaking',
  OnlySettlement: 'NodeStaking does not accept this EpochSettlement as its settlement (deployment mismatch)',
};

/** The action for a revert of `executeFault` whose custom error name is `errorName` (undefined: not a revert). */
export function classifyFaultRevert(errorName: string | undefined): FaultRevertAction {
  if (errorName === undefined) return { kind: 'unknown' };
  if (errorName === 'SlashCapReached') return { kind: 'retry' };
  if (errorName === 'FaultAlreadyExecuted') return { kind: 'done' };
  const reason = NEVER_EXECUTABLE[errorName];
  return reason === undefined ? { kind: 'unknown' } : { kind: 'retire', reason: `${errorName}: ${reason}` };
}
