/**
 * Stages `submit`, `publish-scores` and `execute-faults`: the keeper's transactions, each sent exactly
 * once through `TxSender.sendOnce` (chainTx.ts) with an on-chain "already done" check. Transaction names
 * carry the epoch's submission round (`<e>` in round 0, `<e>.v<k>` after k voidings: chain.ts
 * `voidings`), so a voided epoch is submitted, published and executed again (`resetVoidedEpoch`).
 *
 * submit.<e>: waits for epoch e−1 to be submitted and for e to have ended; `submitEpoch(header, guardians
 * sorted, bitmap, compact signatures)` with every valid signature the keeper holds (collectQuorumSignatures);
 * done when `epochStatus(e) != None` — read before sending, so a keeper killed after sending submits
 * nothing twice. Records whether the header on-chain is ours (another keeper may have submitted a different
 * one; then later stages skip). If the header is ours but someone else submitted it with fewer signatures,
 * the ones the keeper holds are added (`addSignatures`).
 *
 * Late signatures (`addHeldSignatures`, in submit and execute-faults): while the epoch is Pending, every
 * signature the keeper holds over the on-chain digest that the chain has not recorded is added with
 * `addSignatures` (`add-signatures.<e>.<bitmap hex>`, exactly once); until the next epoch's seed block
 * (after which additions are no longer paid, docs/protocol.md §5.3) execute-faults asks the guardians that
 * have not signed again and adds what arrives.
 *
 * publish-scores.<e>: follows the on-chain cursor of the scores hash chain and publishes the remaining
 * chunks in order, one transaction each (`scores.<e>.<i>`).
 *
 * execute-faults.<e>: waits for the epoch to finalize (calling `finalizeEpochs` once its window passed),
 * then executes every pending fault leaf with its proof from the fault tree. A leaf whose node hit the
 * per-epoch slash cap is retried in the next clock epoch; a leaf that can never execute (core/faultRevert.ts:
 * not in the fault root, unregistered node key, …) is retired: logged once, remembered in the epoch's
 * `retired-faults` part and left out, so the stage completes and pruning goes on.
 */
import type { Address, Hex } from 'viem';
import { revertName } from '../chain.js';
import { classifyFaultRevert } from '../../core/faultRevert.js';
import { epochSettlementAbi, nodeStakingAbi } from '../../generated/contracts.js';
import {
  SCORES_END,
  collectQuorumSignatures,
  headerDigest,
  scoresHashChain,
  toCompactSignature,
  type EpochHeader,
  type HashSigner,
} from '../../core/epochHeader.js';
import { firstHeaderDifference } from '../../core/guardianApi.js';
import { buildTree, faultLeaf } from '../../core/merkle.js';
import { SCORES_CHUNK_SIZE } from '../../core/scoring.js';
import { epochStart } from '../../core/deadlines.js';
import type { StageContext, StageHandler } from '../runner.js';
import type { PipelineQueues } from '../queues.js';
import { jobId, type Stage } from '../stages.js';
import { epochTimes, headerDomain, nowSeconds, type KeeperEnv } from './env.js';
import { signaturesStage, type GuardianSignature } from './signatures.js';

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
  /** Leaves that can never execute (core/faultRevert.ts), logged once and dropped. */
  retired?: { index: number; nodeKey: string; reason: string }[];
  skipped?: string;
}

/** Per-part kind under which retired fault leaves are remembered (so each is logged once); pruned with the epoch. */
export const RETIRED_FAULTS_PART = 'retired-faults';

export { revertName };

/** Transaction-name tag of `epoch`'s current submission round: `<e>`, or `<e>.v<k>` after k voidings. */
export async function roundTag(env: KeeperEnv, epoch: number): Promise<string> {
  const k = await env.chain.voidings(epoch);
  return k === 0 ? String(epoch) : `${epoch}.v${k}`;
}

/** Stages re-run for a voided epoch: its score is rebuilt (the paid set or cumulative list before it may have changed). */
export const RESUBMIT_STAGES: readonly Stage[] = [
  'score',
  'publish-dataset',
  'signatures',
  'submit',
  'publish-scores',
  'execute-faults',
];

/**
 * If `epoch` was submitted by this pipeline and is `None` on-chain now (voided by `resolveDispute` or
 * `expireDispute`), forgets its outputs and jobs from `score` on and enqueues `score` again, so the
 * pipeline re-runs score → signatures → submit for it (the scheduler calls this for every epoch it
 * schedules: a voiding voids every later epoch too). Returns whether it reset the epoch.
 */
export async function resetVoidedEpoch(env: KeeperEnv, queues: PipelineQueues, epoch: number): Promise<boolean> {
  if (!(await env.store.getStage(epoch, 'submit'))) return false;
  if ((await env.chain.epochStatus(epoch)) !== 'None') return false;
  // a job running right now (e.g. execute-faults about to notice the void) is left to finish: next tick
  const jobs = await Promise.all(RESUBMIT_STAGES.map((stage) => queues.queues[stage].getJob(jobId(stage, epoch))));
  for (const job of jobs) if (job && (await job.getState()) === 'active') return false;
  if (!(await env.store.tryLock(`reset.${epoch}`, 5_000))) return false;
  for (const [i, stage] of RESUBMIT_STAGES.entries()) {
    await jobs[i]?.remove({ removeChildren: true });
    await env.store.clearStage(epoch, stage);
  }
  await env.store.prunePartsOf(epoch, ['signatures']);
  await queues.add('score', epoch);
  env.log.warn({ epoch }, 'epoch was voided on-chain: re-running score, signatures and submit');
  return true;
}

export interface AddedSignatures {
  /** Bitmap recorded on-chain after this call (0 when the epoch is not ours or not pending). */
  recorded: bigint;
  /** Size of the guardian set in force at submission. */
  members: number;
  /** Bits this call added. */
  added: bigint;
}

/**
 * Adds every signature this keeper holds over the on-chain header digest of `epoch` that the chain has not
 * recorded (`addSignatures`, exactly once per bitmap). Nothing when the epoch is not Pending or its
 * on-chain header is not `header`.
 */
export async function addHeldSignatures(env: KeeperEnv, epoch: number, header: EpochHeader): Promise<AddedSignatures> {
  const none = { recorded: 0n, members: 0, added: 0n };
  if ((await env.chain.epochStatus(epoch)) !== 'Pending') return none;
  const onChain = await env.chain.submission(epoch);
  if (!onChain || onChain.headerDigest === null) return none;
  if (onChain.headerDigest.toLowerCase() !== headerDigest(headerDomain(env), header).toLowerCase()) return none;
  const index = new Map(onChain.guardians.map((g, i) => [g.toLowerCase(), i]));
  const held = [...(await env.store.getParts<GuardianSignature>(epoch, 'signatures')).values()]
    .map((s) => ({ i: index.get(s.guardian.toLowerCase()), s }))
    .filter((x): x is { i: number; s: GuardianSignature } => x.i !== undefined)
    .filter(({ i }) => ((onChain.signerBitmap >> BigInt(i)) & 1n) === 0n)
    .sort((a, b) => a.i - b.i);
  const current = { recorded: onChain.signerBitmap, members: onChain.guardians.length, added: 0n };
  if (held.length === 0) return current;
  const bitmap = held.reduce((m, { i }) => m | (1n << BigInt(i)), 0n);
  const recordedNow = async () =>
    (
      await env.client.readContract({
        address: env.book.contracts.EpochSettlement,
        abi: epochSettlementAbi,
        functionName: 'epochEntry',
        args: [epoch],
      })
    ).signerBitmap;
  try {
    await env.sender.sendOnce(
      `add-signatures.${await roundTag(env, epoch)}.${bitmap.toString(16)}`,
      {
        address: env.book.contracts.EpochSettlement,
        abi: epochSettlementAbi,
        functionName: 'addSignatures',
        args: [epoch, onChain.guardians, bitmap, held.map(({ s }) => toCompactSignature(s.signature))],
      },
      async () => ((await recordedNow()) & bitmap) === bitmap,
    );
  } catch (error) {
    const name = revertName(error);
    // another keeper added some of them, the epoch left Pending, or the set rotated: nothing more to add
    if (name === 'SignerAlreadyRecorded' || name === 'EpochNotPending' || name === 'GuardianSetRotated') {
      env.log.info({ epoch, revert: name }, 'late signatures not added');
      return current;
    }
    throw error;
  }
  env.log.info({ epoch, added: `0x${bitmap.toString(16)}` }, 'late guardian signatures added');
  return { ...current, recorded: onChain.signerBitmap | bitmap, added: bitmap };
}

export function submitStage(env: KeeperEnv): StageHandler<'submit'> {
  return {
    async run(ctx: StageContext): Promise<SubmitOutput> {
      const epoch = ctx.epoch;
      const score = await env.store.requireStage(epoch, 'score');
      await env.store.requireStage(epoch, 'signatures');
      // every signature held now (the stage's output plus any stored since), not just a quorum
      const held = [...(await env.store.getParts<GuardianSignature>(epoch, 'signatures')).values()];
      const name = `submit.${await roundTag(env, epoch)}`;
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
      const signers: HashSigner[] = held
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
      else await addHeldSignatures(env, epoch, score.header);
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
      const tag = await roundTag(env, epoch);
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
          `scores.${tag}.${i}`,
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

/**
 * `executeFault` with NodeStaking's errors too: `applyFault`'s reverts (SlashCapReached, NodeNotRegistered)
 * bubble up through the settlement unchanged, and viem decodes a revert only with the ABI it was given.
 */
const executeFaultAbi = [...epochSettlementAbi, ...nodeStakingAbi.filter((item) => item.type === 'error')];

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
      const { faults, header } = await env.store.requireStage(epoch, 'score');
      const empty = { faults: faults.length, executedByUs: [], alreadyExecuted: [] };
      const clock = await env.chain.clock();
      if (submit.headerMatches) {
        // Late signatures: until the next epoch's seed block (the paid set is read there), ask the guardians
        // that have not signed again and add what arrives.
        const paidAt = epochTimes(clock, env, epoch + 1).epochEnd + env.consensus.commitGraceSeconds;
        let added = await addHeldSignatures(env, epoch, header);
        const full = (a: AddedSignatures) => a.members === 0 || a.recorded === (1n << BigInt(a.members)) - 1n;
        if (!full(added) && nowSeconds(env) < paidAt) {
          await signaturesStage(env)
            .run(ctx)
            .catch((error) => ctx.log.warn({ err: (error as Error).message }, 'asking for late signatures failed'));
          added = await addHeldSignatures(env, epoch, header);
          // each ask makes a guardian fetch and evaluate the dataset again: at most about five per epoch
          const pollMs = Math.max(3000, (clock.epochDuration * 1000) / 5);
          if (!full(added) && nowSeconds(env) < paidAt)
            return ctx.waitUntil(Math.min(env.nowMs() + pollMs, paidAt * 1000), 'waiting for late guardian signatures');
        }
      }
      if (faults.length === 0) return empty;
      if (!submit.headerMatches) return { ...empty, skipped: 'the header on-chain is not ours' };
      const tag = await roundTag(env, epoch);
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
            `finalize.${tag}`,
            { address: settlement(), abi: epochSettlementAbi, functionName: 'finalizeEpochs' },
            async () => (await env.chain.epochStatus(epoch)) === 'Finalized',
          );
        } catch (error) {
          if (revertName(error) === 'NothingToFinalize')
            return ctx.waitUntil(env.nowMs() + 1500, 'chain time has not reached finalizeAt');
          throw error;
        }
        if ((await env.chain.epochStatus(epoch)) !== 'Finalized') {
          await env.sender.forget(`finalize.${tag}`);
          return ctx.waitUntil(env.nowMs() + 2000, 'an earlier epoch is not final yet');
        }
      }
      const tree = buildTree(faults.map((f) => faultLeaf(f.epoch, f.index, f.nodeKey, f.amount, f.strike)));
      const executedByUs: number[] = [];
      const alreadyExecuted: number[] = [];
      const retired = new Map(
        [...(await env.store.getParts<{ nodeKey: string; reason: string }>(epoch, RETIRED_FAULTS_PART))].map(
          ([index, r]) => [Number(index), { index: Number(index), ...r }],
        ),
      );
      let capped = 0;
      for (const f of faults) {
        if (retired.has(f.index)) continue; // can never execute: logged when it was retired
        if (!(await pending(epoch, f.index))) {
          alreadyExecuted.push(f.index);
          continue;
        }
        try {
          const outcome = await env.sender.sendOnce(
            `fault.${tag}.${f.index}`,
            {
              address: settlement(),
              abi: executeFaultAbi,
              functionName: 'executeFault',
              args: [epoch, f.index, f.nodeKey as Address, f.amount, f.strike, tree.proof(f.index)],
            },
            async () => !(await pending(epoch, f.index)),
          );
          (outcome.status === 'mined' ? executedByUs : alreadyExecuted).push(f.index);
        } catch (error) {
          const action = classifyFaultRevert(revertName(error));
          if (action.kind === 'unknown') throw error;
          if (action.kind === 'done') {
            alreadyExecuted.push(f.index);
          } else if (action.kind === 'retry') {
            capped++;
            ctx.log.warn(
              { index: f.index, nodeKey: f.nodeKey },
              'slash cap of this clock epoch reached: retrying next epoch',
            );
          } else {
            await env.store.setPart(epoch, RETIRED_FAULTS_PART, String(f.index), {
              nodeKey: f.nodeKey,
              reason: action.reason,
            });
            retired.set(f.index, { index: f.index, nodeKey: f.nodeKey, reason: action.reason });
            ctx.log.error(
              { epoch, index: f.index, nodeKey: f.nodeKey, reason: action.reason },
              'fault leaf can never execute: retired',
            );
          }
        }
      }
      if (capped > 0) {
        const next = epochStart(clock, (await env.chain.currentEpoch()) + 1);
        return ctx.waitUntil(next * 1000 + 1000, `${capped} fault(s) wait for the next clock epoch's slash cap`);
      }
      const out: ExecuteFaultsOutput = { faults: faults.length, executedByUs, alreadyExecuted };
      if (retired.size > 0) out.retired = [...retired.values()].sort((a, b) => a.index - b.index);
      return out;
    },
  };
}
