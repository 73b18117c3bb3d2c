/**
 * The keeper's HTTP server. Every keeper process serves the same data (it all lives in the shared Redis),
 * so WatchDogs and guardians may use any of them.
 *
 *   POST /watchdog/commit        WatchDog secret commitment (core/watchdogApi.ts); only for the next
 *                                COMMIT_EPOCHS_AHEAD epochs, before their start (core/watchdogAcceptance.ts)
 *   GET  /epochs/:e/watchdogs    node set, assignment seed and commits of epoch e (`final` after epochStart)
 *   POST /watchdog/transcript    signed transcript; from epochEnd until the pipeline fixed the epoch's WatchDog
 *                                data (its `transcripts` stage, at epochEnd + transcriptGrace at the earliest);
 *                                no larger than the license's schedule needs, results exactly that schedule
 *                                (the assignment is fixed once the start block and the commits are)
 *   GET  /datasets/:hash         a published dataset (canonical JSON, exactly the bytes that were hashed)
 *   GET  /epochs/:e              pipeline status of epoch e: per-stage job state (with the last error of a
 *                                stage still retrying), outputs' summary, dead letters
 *   GET  /epochs/:e/claims       reward proofs of epoch e's reward tree: { epoch, root, claims: { account: { cumulative, proof } },
 *                                licenses: { tokenId: { cumulative, proof } } }
 *                                (docs/keepers.md §9, read by `sendnet node claim --proofs`)
 *   GET  /metrics                Prometheus text (prom-client; BullMQ queue counts read at scrape time)
 *   GET  /health                 { ok: true }
 *
 * Bodies are size-limited and validated with zod; errors are `{ error, message }` with 400 (malformed),
 * 404, 409 (refused: late, conflicting, bad signature), 413 (too large) or 500; every refusal is logged.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Address, Hex } from 'viem';
import type { Logger } from 'pino';
import {
  COMMIT_SIGNATURE_UNRECOVERABLE,
  TRANSCRIPT_SIGNATURE_UNRECOVERABLE,
  commitConflict,
  commitSignerRefusal,
  commitWindowRefusal,
  missedFixedData,
  transcriptConflict,
  transcriptScheduleRefusal,
  transcriptSecretRefusal,
  transcriptSignerRefusal,
  transcriptTooEarly,
  transcriptTooLarge,
  transcriptWithoutCommit,
  watchdogDataFixed,
  watchdogDataMayBeFixed,
  type Refusal,
} from '../core/watchdogAcceptance.js';
import {
  transcriptRequestSchema,
  watchdogCommitRequestSchema,
  type EpochWatchdogsResponse,
  type StoredWatchdogCommit,
} from '../core/watchdogApi.js';
import {
  recoverTranscriptSigner,
  recoverWatchdogCommitSigner,
  type SignedTranscript,
} from '../core/watchdogSchedule.js';
import { BodyTooLargeError, readBody, sendJson } from '../infra/httpJson.js';
import { epochSnapshot } from './handlers/collect.js';
import type { ScoreOutput } from './handlers/score.js';
import { ZERO_ROOT, buildRewardTree } from '../core/scoring.js';
import { HttpError } from '../core/errors.js';
import { localDataset } from './handlers/datasets.js';
import { epochTimes, nowSeconds, type KeeperEnv } from './handlers/env.js';
import { describeZodError, hexSource } from '../core/wire.js';
import type { KeeperMetrics } from './metrics.js';
import type { PipelineQueues } from './queues.js';
import { STAGES } from './stages.js';
import { assignmentSeed } from '../core/sampling.js';
import { validWatchdogCommits, watchdogAssignment } from '../core/evaluateWatchdogs.js';
import type { WatchdogCommitWire } from '../core/datasetSchema.js';

export interface KeeperHttpOptions {
  env: KeeperEnv;
  queues: PipelineQueues;
  metrics: KeeperMetrics;
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest accepted request body (default 4 MiB: transcripts can be long). */
  maxBodyBytes?: number;
  log: Logger;
}

export interface KeeperHttpServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const DATASET_ROUTE = new RegExp(`^/datasets/(${hexSource(32)})$`);

/** The reward proofs document of `GET /epochs/:e/claims` (docs/cli.md §7). */
export interface ClaimsDocument {
  epoch: number;
  root: Hex;
  claims: Record<string, { cumulative: string; proof: Hex[] }>;
  licenses: Record<string, { cumulative: string; proof: Hex[] }>;
}

/**
 * The claims document of a stored `score` output: a proof for every account leaf and every license leaf
 * (license leaves follow the account leaves in the tree, core/scoring.ts `rewardTreeLeaves`). Null when
 * the stored lists do not hash to the header's reward root. An output stored before license leaves existed
 * has no license list (its tree had none).
 */
export function claimsDocument(
  epoch: number,
  scored: {
    header: Pick<ScoreOutput['header'], 'rewardRoot'>;
    /** Amounts as bigints or decimal strings (core/scoring.ts `rewardTreeLeaves`). */
    cumulative: readonly { account: string; cumulative: bigint | string }[];
    licenseCumulative?: readonly { tokenId: bigint | string; cumulative: bigint | string }[];
  },
): ClaimsDocument | null {
  const licenseCumulative = scored.licenseCumulative ?? [];
  const tree = buildRewardTree(scored.cumulative, licenseCumulative);
  if ((tree?.root ?? ZERO_ROOT) !== scored.header.rewardRoot.toLowerCase()) return null;
  const claims: ClaimsDocument['claims'] = {};
  scored.cumulative.forEach(
    (c, i) =>
      (claims[c.account.toLowerCase()] = { cumulative: BigInt(c.cumulative).toString(), proof: tree!.proof(i) }),
  );
  const licenses: ClaimsDocument['licenses'] = {};
  const offset = scored.cumulative.length;
  licenseCumulative.forEach(
    (l, i) =>
      (licenses[BigInt(l.tokenId).toString()] = {
        cumulative: BigInt(l.cumulative).toString(),
        proof: tree!.proof(offset + i),
      }),
  );
  return { epoch, root: scored.header.rewardRoot, claims, licenses };
}

/** A WatchDog acceptance rule's refusal (core/watchdogAcceptance.ts) as a 409. */
const refused = (refusal: Refusal) => new HttpError(409, refusal.code, refusal.message);

function refuse(refusal: Refusal | null): void {
  if (refusal) throw refused(refusal);
}

/** The request body parsed as JSON, and its size in bytes. */
async function jsonBodyAndSize(request: IncomingMessage, maxBytes: number): Promise<{ json: unknown; bytes: number }> {
  let text: string;
  try {
    text = await readBody(request, maxBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new HttpError(413, 'body-too-large', error.message);
    throw error;
  }
  try {
    return { json: JSON.parse(text), bytes: Buffer.byteLength(text) };
  } catch {
    throw new HttpError(400, 'bad-json', 'request body is not JSON');
  }
}

const jsonBody = async (request: IncomingMessage, maxBytes: number) => (await jsonBodyAndSize(request, maxBytes)).json;

/** Epochs whose WatchDog assignment is kept in memory (transcripts arrive for one or two epochs at a time). */
const ASSIGNMENTS_KEPT = 4;

export async function startKeeperHttp(options: KeeperHttpOptions): Promise<KeeperHttpServer> {
  const { env, queues, metrics, log } = options;
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;

  const operatorNow = async (tokenId: bigint): Promise<Address> => {
    const latest = await env.client.getBlockNumber({ cacheTime: 0 });
    const operators = await env.chain.watchdogOperatorsAt([tokenId], latest);
    return (operators.get(tokenId.toString()) ?? '0x0000000000000000000000000000000000000000').toLowerCase() as Address;
  };

  async function postCommit(request: IncomingMessage) {
    const parsed = watchdogCommitRequestSchema.safeParse(await jsonBody(request, 64 * 1024));
    if (!parsed.success) throw new HttpError(400, 'bad-request', describeZodError(parsed.error));
    const c = parsed.data;
    refuse(commitWindowRefusal(c.epoch, nowSeconds(env), await env.chain.clock()));
    let signer: Address;
    try {
      signer = await recoverWatchdogCommitSigner(c);
    } catch {
      throw refused(COMMIT_SIGNATURE_UNRECOVERABLE);
    }
    const operator = await operatorNow(BigInt(c.tokenId));
    refuse(commitSignerRefusal(c.tokenId, signer, operator));
    const stored: StoredWatchdogCommit = { tokenId: c.tokenId, operator, commit: c.commit, signature: c.signature };
    if (!(await env.store.putWatchdog(c.epoch, 'commits', c.tokenId, stored))) {
      refuse(commitConflict(c, (await env.store.getWatchdog<StoredWatchdogCommit>(c.epoch, 'commits')).get(c.tokenId)));
    }
    return { status: 200, body: { accepted: true } };
  }

  /**
   * tokenId → nodes assigned to it in `epoch`, as `evaluateEpoch` will compute them: the nodes Active at the
   * start block, the assignment seed, and the stored commits with the operators and owners of the start block (what the
   * `transcripts` stage puts into the dataset). Fixed once the epoch started (commits are closed then), so it
   * is computed once per epoch; null while the start block or the assignment block does not exist.
   */
  const assignments = new Map<number, Promise<Map<string, Address[]> | null>>();
  async function computeAssignment(epoch: number): Promise<Map<string, Address[]> | null> {
    const times = epochTimes(await env.chain.clock(), env, epoch);
    const snapshot = await epochSnapshot(env, epoch);
    const assignBlock = await env.chain.firstBlockAtOrAfter(
      Math.max(0, times.epochStart - env.consensus.assignmentLeadSeconds),
    );
    if (!snapshot || !assignBlock) return null;
    const commits = [...(await env.store.getWatchdog<StoredWatchdogCommit>(epoch, 'commits')).values()];
    const tokenIds = commits.map((c) => BigInt(c.tokenId));
    const startBlock = BigInt(snapshot.startBlock.blockNumber);
    const [operators, owners] = await Promise.all([
      env.chain.watchdogOperatorsAt(tokenIds, startBlock),
      env.chain.watchdogOwnersAt(tokenIds, startBlock),
    ]);
    const watchdogs: WatchdogCommitWire[] = commits.map((c) => ({
      tokenId: c.tokenId,
      operator: (operators.get(c.tokenId) ?? c.operator).toLowerCase(),
      owner: owners.get(c.tokenId)!,
      commit: c.commit,
      signature: c.signature,
    }));
    const valid = await validWatchdogCommits(epoch, watchdogs);
    const seed = assignmentSeed(epoch, assignBlock.hash.toLowerCase() as Hex);
    return watchdogAssignment(seed, snapshot.nodes, valid, env.consensus.m).nodesOf;
  }
  function assignmentOf(epoch: number): Promise<Map<string, Address[]> | null> {
    let pending = assignments.get(epoch);
    if (!pending) {
      pending = computeAssignment(epoch);
      pending.then(
        (value) => value === null && assignments.delete(epoch),
        () => assignments.delete(epoch),
      );
      assignments.set(epoch, pending);
      if (assignments.size > ASSIGNMENTS_KEPT) assignments.delete(assignments.keys().next().value!);
    }
    return pending;
  }

  async function postTranscript(request: IncomingMessage) {
    const { json, bytes } = await jsonBodyAndSize(request, maxBody);
    const parsed = transcriptRequestSchema.safeParse(json);
    if (!parsed.success) throw new HttpError(400, 'bad-request', describeZodError(parsed.error));
    const signed: SignedTranscript = parsed.data;
    const t = signed.transcript;
    const times = epochTimes(await env.chain.clock(), env, t.epoch);
    const now = nowSeconds(env);
    refuse(transcriptTooEarly(t.epoch, now, times.commitDeadline));
    // Open until the pipeline fixes the epoch's WatchDog data (never before the transcript deadline), so
    // WatchDogs that could not reach a keeper that was down get in when it is back.
    const fixed = async () =>
      watchdogDataMayBeFixed(now, times.transcriptDeadline) ? env.store.getStage(t.epoch, 'transcripts') : undefined;
    if (await fixed()) throw refused(watchdogDataFixed(t.epoch, times.transcriptDeadline));
    const commit = (await env.store.getWatchdog<StoredWatchdogCommit>(t.epoch, 'commits')).get(t.tokenId);
    if (!commit) throw refused(transcriptWithoutCommit(t));
    const assignment = await assignmentOf(t.epoch);
    if (!assignment)
      throw new HttpError(503, 'not-ready', `the start block of epoch ${t.epoch} is not known yet: retry shortly`);
    const assigned = assignment.get(t.tokenId) ?? [];
    const { challengesPerNode } = env.consensus;
    refuse(transcriptTooLarge(t, bytes, assigned.length, challengesPerNode));
    refuse(transcriptSecretRefusal(t, commit));
    let signer: Address;
    try {
      signer = await recoverTranscriptSigner(t, signed.signature);
    } catch {
      throw refused(TRANSCRIPT_SIGNATURE_UNRECOVERABLE);
    }
    refuse(transcriptSignerRefusal(signer, commit));
    refuse(
      transcriptScheduleRefusal(t, {
        commit: commit.commit as Hex,
        nodes: assigned,
        count: challengesPerNode,
        epochDurationSeconds: times.epochEnd - times.epochStart,
        timeoutSeconds: Math.ceil(env.consensus.challengeTimeoutMs / 1000),
        tokenId: BigInt(t.tokenId),
        epoch: t.epoch,
      }),
    );
    if (!(await env.store.putWatchdog(t.epoch, 'transcripts', t.tokenId, signed))) {
      refuse(
        transcriptConflict(
          signed,
          (await env.store.getWatchdog<SignedTranscript>(t.epoch, 'transcripts')).get(t.tokenId),
        ),
      );
    }
    // Fixed while this one was being stored: accepted only if the snapshot has it.
    if (missedFixedData(t, await fixed())) throw refused(watchdogDataFixed(t.epoch, times.transcriptDeadline));
    return { status: 200, body: { accepted: true } };
  }

  async function getWatchdogs(epoch: number) {
    const cached = await env.store.getStage(epoch, 'watchdog-view');
    if (cached) return { status: 200, body: cached };
    const times = epochTimes(await env.chain.clock(), env, epoch);
    const final = nowSeconds(env) >= times.epochStart;
    const assignBlock = await env.chain.firstBlockAtOrAfter(
      Math.max(0, times.epochStart - env.consensus.assignmentLeadSeconds),
    );
    const snapshot = final ? await epochSnapshot(env, epoch) : null;
    const stored = [...(await env.store.getWatchdog<StoredWatchdogCommit>(epoch, 'commits')).values()].sort((a, b) =>
      BigInt(a.tokenId) < BigInt(b.tokenId) ? -1 : 1,
    );
    // Once the start block exists the holders are fixed there: the WatchDogs assign by owner.
    const owners = snapshot
      ? await env.chain.watchdogOwnersAt(
          stored.map((c) => BigInt(c.tokenId)),
          BigInt(snapshot.startBlock.blockNumber),
        )
      : undefined;
    const commits = stored.map(({ tokenId, operator, commit, signature }) => ({
      tokenId,
      operator,
      commit,
      signature,
      ...(owners ? { owner: owners.get(tokenId)! } : {}),
    }));
    const hash = assignBlock?.hash.toLowerCase() as Hex | undefined;
    const body: EpochWatchdogsResponse = {
      epoch,
      epochStart: times.epochStart,
      epochEnd: times.epochEnd,
      final: final && snapshot !== null && assignBlock !== null,
      parameters: {
        m: env.consensus.m,
        challengesPerNode: env.consensus.challengesPerNode,
        challengeTimeoutMs: env.consensus.challengeTimeoutMs,
      },
      assignSeed:
        assignBlock && hash
          ? { blockNumber: Number(assignBlock.number), blockHash: hash, value: assignmentSeed(epoch, hash) }
          : null,
      nodes: snapshot?.nodes ?? null,
      watchdogs: commits,
    };
    if (body.final) await env.store.setStage(epoch, 'watchdog-view', body);
    return { status: 200, body };
  }

  async function getEpoch(epoch: number) {
    const outputs = await env.store.stageOutputs(epoch);
    const stages: Record<string, { job: string; done: boolean; attemptsMade?: number; lastError?: string }> = {};
    for (const stage of STAGES) {
      const { state, ...failure } = await queues.status(stage, epoch);
      stages[stage] = { job: state, done: stage in outputs, ...failure };
    }
    const score = outputs.score;
    return {
      status: 200,
      body: {
        epoch,
        stages,
        dataHash: score?.dataHash ?? null,
        header: score?.header ?? null,
        rejected: score?.rejected?.length ?? null,
        faults: score?.faults?.length ?? null,
        submit: outputs.submit ?? null,
        deadLetters: await queues.deadLetters(epoch),
      },
    };
  }

  /** Claims documents by epoch: a reward tree is rebuilt once per epoch, not per request. */
  const claimsCache = new Map<number, unknown>();

  async function getClaims(epoch: number): Promise<{ status: number; body: unknown }> {
    const cached = claimsCache.get(epoch);
    if (cached) return { status: 200, body: cached };
    const scored = await env.store.getStage(epoch, 'score');
    if (!scored) throw new HttpError(404, 'not-scored', `epoch ${epoch} has not been scored by this keeper`);
    const body = claimsDocument(epoch, scored);
    if (!body)
      throw new HttpError(
        500,
        'root-mismatch',
        `epoch ${epoch}: the stored cumulative lists do not hash to the header's reward root`,
      );
    if (claimsCache.size >= 16) claimsCache.delete(claimsCache.keys().next().value!);
    claimsCache.set(epoch, body);
    return { status: 200, body };
  }

  async function route(request: IncomingMessage): Promise<{ status: number; body: unknown; contentType?: string }> {
    const path = (request.url ?? '/').split('?')[0]!;
    const method = request.method ?? 'GET';
    if (path === '/health' && method === 'GET') return { status: 200, body: { ok: true } };
    if (path === '/metrics' && method === 'GET') {
      const { contentType, body } = await metrics.render();
      return { status: 200, body, contentType };
    }
    if (path === '/watchdog/commit' && method === 'POST') return postCommit(request);
    if (path === '/watchdog/transcript' && method === 'POST') return postTranscript(request);
    let m = DATASET_ROUTE.exec(path);
    if (m && method === 'GET') {
      const json = await localDataset(env, m[1]!.toLowerCase());
      if (json === null) throw new HttpError(404, 'not-found', `no dataset ${m[1]}`);
      return { status: 200, body: json };
    }
    m = /^\/epochs\/([1-9][0-9]{0,9})(\/watchdogs|\/claims)?$/.exec(path);
    if (m && method === 'GET') {
      const epoch = Number(m[1]);
      if (epoch > 0xffffffff) throw new HttpError(400, 'bad-epoch', `epoch ${m[1]} is not a uint32`);
      if (m[2] === '/claims') return getClaims(epoch);
      return m[2] ? getWatchdogs(epoch) : getEpoch(epoch);
    }
    throw new HttpError(404, 'not-found', `no route ${method} ${path}`);
  }

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    route(request)
      .then(({ status, body, contentType }) => sendJson(response, status, body, contentType))
      .catch((error: unknown) => {
        if (error instanceof HttpError) {
          metrics.httpRejected?.inc({ code: error.wireCode });
          log.warn(
            {
              status: error.status,
              code: error.wireCode,
              reason: error.message,
              method: request.method,
              url: request.url,
            },
            'keeper HTTP request refused',
          );
          sendJson(response, error.status, error.body);
          return;
        }
        log.error({ err: (error as Error).message, url: request.url }, 'keeper HTTP handler failed');
        sendJson(response, 500, { error: 'internal', message: (error as Error).message });
      })
      .catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  log.info({ url }, 'keeper HTTP listening');
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
