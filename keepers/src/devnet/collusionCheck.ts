/**
 * `checkCollusion` (report.ts) of a published dataset, run on a worker thread: evaluating a dataset
 * verifies hundreds of signatures, and the devnet process hosts the edge nodes and WatchDogs, whose
 * challenges are real-time — on the main thread it would stall their event loop for seconds.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Collusion } from './report.js';

interface Job {
  epoch: number;
  datasetText: string;
  licenses: string[];
  victim: string | undefined;
  offline: string[];
}

/** What `checkCollusion` finds in the epoch's evaluation (no problems: the colluders gained nothing). */
export function checkCollusionInWorker(
  epoch: number,
  datasetText: string,
  collusion: Collusion,
): Promise<{ problems: string[]; lies: number }> {
  const job: Job = {
    epoch,
    datasetText,
    licenses: collusion.licenses.map(String),
    victim: collusion.victim,
    offline: [...collusion.offline],
  };
  return new Promise((resolve, reject) => {
    // A worker does not inherit the TypeScript loader: register tsx first, then load this module.
    const tsx = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: job });
    worker.once('message', (message: { ok: true; problems: string[]; lies: number } | { ok: false; error: string }) => {
      if (message.ok) resolve({ problems: message.problems, lies: message.lies });
      else reject(new Error(`the collusion check failed on the worker: ${message.error}`));
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const job = workerData as Job;
  (async () => {
    const { evaluateEpoch } = await import('../core/dataset.js');
    const { checkCollusion } = await import('./report.js');
    const evaluation = await evaluateEpoch(JSON.parse(job.datasetText));
    const { problems, lies } = checkCollusion(job.epoch, evaluation, {
      licenses: job.licenses.map((id) => BigInt(id)),
      victim: job.victim,
      offline: new Set(job.offline),
    });
    port.postMessage({ ok: true, problems, lies });
  })().catch((error: unknown) => port.postMessage({ ok: false, error: (error as Error).stack ?? String(error) }));
}
