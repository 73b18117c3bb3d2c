/**
 * Where published datasets live and how a keeper without its own history gets the previous epoch's
 * cumulative reward list back.
 *
 * A dataset is stored as its canonical JSON, in Redis (`<p>:dataset:<hash>`, shared by all keeper
 * processes) and on disk (`<datasetsDir>/<hash>.json`). `findDataset` looks in both, then asks
 * `resyncUrls` (other keepers' `GET /datasets/:hash`) and accepts only bytes that hash to `hash`.
 *
 * `previousCumulative(e)`: the cumulative lists of epoch e−1 (account leaves and license leaves of its
 * reward tree) as submitted on-chain. From this keeper's own
 * `score` output of e−1 when its reward root is the one on-chain; otherwise (a cold start, or another
 * keeper submitted a different header) by fetching e−1's dataset by the `dataHash` of its on-chain header
 * and re-running `evaluateEpoch` — the result must reproduce the on-chain reward root. If neither works
 * the keeper cannot build epoch e: an UnrecoverableError tells the operator to resync
 * (`--resync-from <keeper url>`).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import type { Hex } from 'viem';
import { canonicalJson, keccakUtf8 } from '../../core/canonicalJson.js';
import { evaluateEpoch } from '../../core/dataset.js';
import type { CumulativeReward, LicenseCumulative } from '../../core/scoring.js';
import { fetchJson } from '../../infra/httpJson.js';
import { isLowerHex32 } from '../../core/wire.js';
import type { KeeperEnv } from './env.js';

export function datasetPath(env: KeeperEnv, hash: string): string {
  if (!isLowerHex32(hash)) throw new RangeError(`not a dataset hash: ${hash}`);
  return join(env.datasetsDir, `${hash}.json`);
}

/** Stores a dataset's canonical JSON in Redis and on disk (atomic rename). */
export async function saveDataset(env: KeeperEnv, hash: Hex, json: string): Promise<void> {
  const lower = hash.toLowerCase();
  await env.store.putDataset(lower, json);
  mkdirSync(env.datasetsDir, { recursive: true });
  const path = datasetPath(env, lower);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, json);
    renameSync(tmp, path);
  }
}

/** This keeper's copy of a dataset (Redis, then disk), or null. */
export async function localDataset(env: KeeperEnv, hash: string): Promise<string | null> {
  const lower = hash.toLowerCase();
  if (!isLowerHex32(lower)) return null;
  const fromRedis = await env.store.getDataset(lower);
  if (fromRedis !== null) return fromRedis;
  const path = datasetPath(env, lower);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

/** A dataset by hash from this keeper or, failing that, from `resyncUrls`; verified against the hash. */
export async function findDataset(env: KeeperEnv, hash: Hex): Promise<string | null> {
  const lower = hash.toLowerCase() as Hex;
  const local = await localDataset(env, lower);
  if (local !== null) return local;
  for (const base of env.resyncUrls) {
    try {
      const { status, body } = await fetchJson(`${base.replace(/\/$/, '')}/datasets/${lower}`, {
        timeoutMs: env.timing.requestTimeoutMs * 10,
        maxBytes: env.timing.maxDatasetBytes,
      });
      if (status !== 200) continue;
      const json = canonicalJson(body);
      if (keccakUtf8(json) !== lower) {
        env.log.warn({ base, hash: lower }, 'resync source served a dataset with another hash');
        continue;
      }
      await saveDataset(env, lower, json);
      env.log.info({ base, hash: lower }, 'dataset fetched from another keeper');
      return json;
    } catch (error) {
      env.log.warn({ base, err: (error as Error).message }, 'resync source failed');
    }
  }
  return null;
}

interface ScoreLike {
  header: { rewardRoot: Hex };
  cumulative: CumulativeReward[];
  /** Absent in outputs stored before license leaves existed. */
  licenseCumulative?: LicenseCumulative[];
}

/** The reward tree's leaves of an epoch: the account list and the license list. */
export interface PreviousCumulative {
  accounts: CumulativeReward[];
  licenses: LicenseCumulative[];
}

/** The cumulative lists of epoch − 1 as settled on-chain (empty for epoch 1). See the module comment. */
export async function previousCumulative(env: KeeperEnv, epoch: number): Promise<PreviousCumulative> {
  if (epoch <= 1) return { accounts: [], licenses: [] };
  const previous = await env.chain.submission(epoch - 1);
  if (!previous) throw new Error(`epoch ${epoch - 1} is not submitted: epoch ${epoch} cannot be built yet`);
  const onChainRoot = previous.header.rewardRoot.toLowerCase();
  const ours: ScoreLike | undefined = await env.store.getStage(epoch - 1, 'score');
  // An output stored before license leaves existed has no license list: its tree had none.
  if (ours && ours.header.rewardRoot.toLowerCase() === onChainRoot)
    return { accounts: ours.cumulative, licenses: ours.licenseCumulative ?? [] };
  const dataHash = previous.header.dataHash;
  env.log.warn(
    { epoch: epoch - 1, dataHash, haveOwn: !!ours },
    'no own result matching the on-chain reward root: rebuilding from the dataset',
  );
  const json = await findDataset(env, dataHash);
  if (json === null) {
    throw new UnrecoverableError(
      `cannot rebuild the cumulative reward list of epoch ${epoch - 1}: this keeper has no result for it and dataset ${dataHash} ` +
        `is neither stored locally nor served by a resync source; restart with --resync-from <another keeper's URL>`,
    );
  }
  const evaluation = await evaluateEpoch(JSON.parse(json), { dataHash });
  if (evaluation.trees.rewardRoot.toLowerCase() !== onChainRoot) {
    throw new UnrecoverableError(
      `dataset ${dataHash} of epoch ${epoch - 1} evaluates to reward root ${evaluation.trees.rewardRoot}, but ${onChainRoot} is on-chain`,
    );
  }
  return { accounts: evaluation.result.cumulative, licenses: evaluation.result.licenseCumulative };
}
