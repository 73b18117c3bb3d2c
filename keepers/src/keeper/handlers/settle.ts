/**
 * Stages `submit`, `publish-scores` and `execute-faults`: the keeper's transactions, each sent exactly
 * once through `TxSender.sendOnce` (chainTx.ts) with an on-chain "already done" check.
 *
 * submit.<e>: waits for epoch e−1 to be submitted and for e to have ended; `submitEpoch(header, guardians
 * sorted, bitmap, compact signatures)` (collectQuorumSignatures); done when `epochStatus(e) != None` —
 * read before sending, so a keeper killed after sending submits nothing twice. Records whether the header
 * on-chain is ours (another keeper may have submitted a different one; then later stages skip).
 *
 * publish-scores.<e>: follows the on-chain cursor of the scores hash chain and publishes the remaining
 * chunks in order, one transaction each (`scores.<e>.<i>`).
 *
 * execute-faults.<e>: waits for the epoch to finalize (calling `finalizeEpochs` once its window passed),
 * then executes every pending fault leaf with its proof from the fault tree. A leaf whose node hit the
 * per-epoch slash cap is retried in the next clock epoch.
 */
import { BaseError, ContractFunctionRevertedError, type Address, type Hex } from 'viem';
import { epochSettlementAbi } from '../../generated/contracts.js';
import { SCORES_END, collectQuorumSignatures, scoresHashChain, type HashSigner } from '../../core/epochHeader.js';
import { firstHeaderDifference } from '../../core/guardianApi.js';
import { buildTree, faultLeaf } from '../../core/merkle.js';
import { SCORES_CHUNK_SIZE } from '../../core/scoring.js';
import { epochStart } from '../../core/deadlines.js';
import type { StageContext, StageHandler } from '../runner.js';
import { epochTimes, headerDomain, nowSeconds, type KeeperEnv } from './env.js';

export interface SubmitOutput {
  txHash: Hex;
  blockNumber: number;
  submittedByUs: boolean;
  /** The header on-chain equals the one this keeper built (else publish-scores/execute-faults skip). */
  headerMatches: boolean;
  mismatch?: string;
}

export interface PublishScoresOutput {
  chunks: number;
  sentByUs: number;
  skipped?: string;
}

export interface ExecuteFaultsOutput {
  faults: number;
  executedByUs: number[];
  alreadyExecuted: number[];
  skipped?: string;
}

/** The custom error name of a reverted contract call, if that is what `error` is. */
export function revertName(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined;
}

export function submitStage(env: KeeperEnv): StageHandler<'submit'> {
  return {
    async run(ctx: StageContext): Promise<SubmitOutput> {
      const epoch = ctx.epoch;
      const score = await env.store.requireStage(epoch, 'score');
      const sigs = await env.store.requireStage(epoch, 'signatures');
      const name = `submit.${epoch}`;
      const status = await env.chain.epochStatus(epoch);
      if (status === 'None' && !(await env.sender.record(name))) {
        if (epoch > 1 && (await env.chain.epochStatus(epoch - 1)) === 'None') {
          return ctx.waitUntil(env.nowMs() + 2000, `epoch ${epoch - 1} is not submitted yet`);
        }
        const { epochEnd } = epochTimes(await env.chain.clock(), env, epoch);
        if (nowSeconds(env) < epochEnd) return ctx.waitUntil(epochEnd * 1000 + 1000, 'epoch has not ended');
      }
      const set = await env.chain.guardianSet();
      const members = new Set(set.members.map((m) => m.toLowerCase()));
      const signers: HashSigner[] = sigs.signatures
        .filter((s) => members.has(s.guardian.toLowerCase()))
        .map((s) => ({ address: s.guardian, sign: async () => s.signature }));
      const quorum = await collectQuorumSignatures(headerDomain(env), score.header, set.members, signers);
      let outcome;
      try {
        outcome = await env.sender.sendOnce(
          name,
          {
            address: env.book.contracts.EpochSettlement,
            abi: epochSettlementAbi,
            functionName: 'submitEpoch',
            args: [score.header, quorum.guardians, quorum.signerBitmap, quorum.signatures],
          },
          async () => (await env.chain.epochStatus(epoch)) !== 'None',
        );
      } catch (error) {
        const name = revertName(error);
        // The chain's clock lags the wall clock by up to a block; the previous epoch may be racing us.
        if (name === 'EpochNotEnded' || name === 'EpochNotNext')
          return ctx.waitUntil(env.nowMs() + 1500, `submitEpoch reverts with ${name}`);
        throw error;
      }
      const onChain = await env.chain.submission(epoch);
      if (!onChain) throw new Error(`epoch ${epoch} is submitted but its EpochSubmitted event is not visible yet`);
      const difference = onChain ? firstHeaderDifference(score.header, onChain.header) : null;
      if (outcome.status === 'mined') {
        env.metrics?.epochsSubmitted.inc();
        ctx.log.info({ txHash: outcome.hash, gasUsed: outcome.receipt.gasUsed.toString() }, 'epoch submitted');
      } else {
        ctx.log.info({ txHash: onChain.txHash }, 'epoch was already submitted');
      }
      env.metrics?.lastSubmittedEpoch.set(epoch);
      if (difference) ctx.log.error({ difference }, 'the header on-chain is not the one this keeper built');
      return {
        txHash: onChain.txHash,
        blockNumber: Number(onChain.blockNumber),
        submittedByUs: outcome.status === 'mined',
        headerMatches: difference === null,
        ...(difference
          ? { mismatch: `${difference.field}: ours ${difference.ours}, on-chain ${difference.theirs}` }
          : {}),
      };
    },
  };
}

export function publishScoresStage(env: KeeperEnv): StageHandler<'publish-scores'> {
  const settlement = () => env.book.contracts.EpochSettlement;
  const cursorOf = async (epoch: number): Promise<Hex | null> => {
    try {
      const entry = await env.client.readContract({
        address: settlement(),
        abi: epochSettlementAbi,
        functionName: 'epochEntry',
        args: [epoch],
      });
      return entry.scoresCursor;
    } catch (error) {
      if (revertName(error) === 'EpochNotInRing') return null;
      throw error;
    }
  };
  return {
    async run(ctx: StageContext): Promise<PublishScoresOutput> {
      const epoch = ctx.epoch;
      const submit = await env.store.requireStage(epoch, 'submit');
      const score = await env.store.requireStage(epoch, 'score');
      if (!submit.headerMatches) return { chunks: 0, sentByUs: 0, skipped: 'the header on-chain is not ours' };
      const chain = scoresHashChain(score.scores, SCORES_CHUNK_SIZE);
      if (chain.head !== score.header.scoresHash) {
        throw new Error(`scores of epoch ${epoch} hash to ${chain.head}, the header says ${score.header.scoresHash}`);
      }
      const links: Hex[] = [chain.head, ...chain.nexts];
      let sentByUs = 0;
      for (;;) {
        const cursor = await cursorOf(epoch);
        if (cursor === null)
          return {
            chunks: chain.chunks.length,
            sentByUs,
            skipped: 'epoch left the ring before its scores were published',
          };
        if (cursor === SCORES_END) break;
        const i = links.indexOf(cursor);
        if (i < 0 || i >= chain.chunks.length)
          throw new Error(`scores cursor ${cursor} of epoch ${epoch} is not a link of our chain`);
        const outcome = await env.sender.sendOnce(
          `scores.${epoch}.${i}`,
          {
            address: settlement(),
            abi: epochSettlementAbi,
            functionName: 'publishScores',
            args: [epoch, chain.chunks[i], chain.nexts[i]],
          },
          async () => (await cursorOf(epoch)) !== links[i],
        );
        if (outcome.status === 'mined') sentByUs++;
      }
      return { chunks: chain.chunks.length, sentByUs };
    },
  };
}

export function executeFaultsStage(env: KeeperEnv): StageHandler<'execute-faults'> {
  const settlement = () => env.book.contracts.EpochSettlement;
  const pending = (epoch: number, index: number) =>
    env.client.readContract({
      address: settlement(),
      abi: epochSettlementAbi,
      functionName: 'faultPending',
      args: [epoch, index],
    });
  return {
    async run(ctx: StageContext): Promise<ExecuteFaultsOutput> {
      const epoch = ctx.epoch;
      const submit = await env.store.requireStage(epoch, 'submit');
      const { faults } = await env.store.requireStage(epoch, 'score');
      const empty = { faults: faults.length, executedByUs: [], alreadyExecuted: [] };
      if (faults.length === 0) return empty;
      if (!submit.headerMatches) return { ...empty, skipped: 'the header on-chain is not ours' };
      const clock = await env.chain.clock();
      const status = await env.chain.epochStatus(epoch);
      if (status === 'None') return { ...empty, skipped: 'the epoch was voided' };
      if (status === 'Disputed') return ctx.waitUntil(env.nowMs() + clock.epochDuration * 1000, 'epoch is disputed');
      if (status === 'Pending') {
        const entry = await env.client.readContract({
          address: settlement(),
          abi: epochSettlementAbi,
          functionName: 'epochEntry',
          args: [epoch],
        });
        const finalizeAt = Number(entry.finalizeAt);
        if (nowSeconds(env) < finalizeAt) return ctx.waitUntil(finalizeAt * 1000 + 1000, 'dispute window');
        // finalizeEpochs finalizes every due epoch in order, earlier ones (submitted earlier) included.
        try {
          await env.sender.sendOnce(
            `finalize.${epoch}`,
            { address: settlement(), abi: epochSettlementAbi, functionName: 'finalizeEpochs' },
            async () => (await env.chain.epochStatus(epoch)) === 'Finalized',
          );
        } catch (error) {
          if (revertName(error) === 'NothingToFinalize')
            return ctx.waitUntil(env.nowMs() + 1500, 'chain time has not reached finalizeAt');
          throw error;
        }
        if ((await env.chain.epochStatus(epoch)) !== 'Finalized') {
          await env.sender.forget(`finalize.${epoch}`);
          return ctx.waitUntil(env.nowMs() + 2000, 'an earlier epoch is not final yet');
        }
      }
      const tree = buildTree(faults.map((f) => faultLeaf(f.epoch, f.index, f.nodeKey, f.amount, f.strike)));
      const executedByUs: number[] = [];
      const alreadyExecuted: number[] = [];
      let capped = 0;
      for (const f of faults) {
        if (!(await pending(epoch, f.index))) {
          alreadyExecuted.push(f.index);
          continue;
        }
        try {
          const outcome = await env.sender.sendOnce(
            `fault.${epoch}.${f.index}`,
            {
              address: settlement(),
              abi: epochSettlementAbi,
              functionName: 'executeFault',
              args: [epoch, f.index, f.nodeKey as Address, f.amount, f.strike, tree.proof(f.index)],
            },
            async () => !(await pending(epoch, f.index)),
          );
          (outcome.status === 'mined' ? executedByUs : alreadyExecuted).push(f.index);
        } catch (error) {
          if (revertName(error) !== 'SlashCapReached') throw error;
          capped++;
          ctx.log.warn(
            { index: f.index, nodeKey: f.nodeKey },
            'slash cap of this clock epoch reached: retrying next epoch',
          );
        }
      }
      if (capped > 0) {
        const next = epochStart(clock, (await env.chain.currentEpoch()) + 1);
        return ctx.waitUntil(next * 1000 + 1000, `${capped} fault(s) wait for the next clock epoch's slash cap`);
      }
      return { faults: faults.length, executedByUs, alreadyExecuted };
    },
  };
}
