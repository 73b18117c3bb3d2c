/**
 * `evaluateEpoch` on a worker thread, for tests that host live services (edge nodes, WatchDogs) in their
 * own process: evaluating a dataset verifies hundreds of signatures, and doing that on the main thread
 * would stall those services' event loop for seconds (and fail their real-time challenges).
 *
 * Returns what the tests compare against the chain: the header, each node's reward and fault flags, the
 * cumulative reward list and the reward proof of every entry (structured clone keeps bigints).
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Hex } from 'viem';
import type { EpochHeader, NodeScore } from '../../src/core/epochHeader.js';

export interface WorkerEvaluation {
  header: EpochHeader;
  perNode: { nodeKey: string; reward: bigint; faults: number }[];
  /** The scoring function's node scores, in rank order (what `publishScores` puts on-chain). */
  scores: NodeScore[];
  /** `result.cumulative` of the scoring function, in reward-tree order. */
  cumulative: { account: string; cumulative: bigint }[];
  /** Reward proof of `cumulative[i]`. */
  proofs: Hex[][];
  /** License leaves (`result.licenseCumulative`) with their reward proofs. */
  licenses: { tokenId: bigint; cumulative: bigint; proof: Hex[] }[];
}

export function evaluateInWorker(datasetText: string, dataHash: Hex): Promise<WorkerEvaluation> {
  return new Promise((resolve, reject) => {
    // A worker does not inherit the TypeScript loader: register tsx first, then load this module.
    const tsx = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: { datasetText, dataHash } });
    worker.once('message', (message: { ok: true; value: WorkerEvaluation } | { ok: false; error: string }) => {
      if (message.ok) resolve(message.value);
      else reject(new Error(`evaluateEpoch failed on the worker: ${message.error}`));
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const { datasetText, dataHash } = workerData as { datasetText: string; dataHash: Hex };
  (async () => {
    const { evaluateEpoch } = await import('../../src/core/dataset.js');
    const evaluation = await evaluateEpoch(JSON.parse(datasetText), { dataHash });
    const value: WorkerEvaluation = {
      header: evaluation.header,
      perNode: evaluation.perNode.map((n) => ({ nodeKey: n.nodeKey, reward: n.reward, faults: n.faults })),
      scores: evaluation.result.scores,
      cumulative: evaluation.result.cumulative.map((c) => ({ account: c.account, cumulative: c.cumulative })),
      proofs: evaluation.result.cumulative.map((_, i) => evaluation.trees.rewardTree!.proof(i) as Hex[]),
      licenses: evaluation.result.licenseCumulative.map((l, i) => ({
        tokenId: l.tokenId,
        cumulative: l.cumulative,
        proof: evaluation.trees.rewardTree!.proof(evaluation.trees.licenseLeafOffset + i) as Hex[],
      })),
    };
    port.postMessage({ ok: true, value });
  })().catch((error: unknown) => port.postMessage({ ok: false, error: (error as Error).stack ?? String(error) }));
}
