/**
 * Guardian service (docs/keepers.md §6): an HTTP server that signs an epoch header only after recomputing
 * it. `POST /sign { epoch, datasetUrl, dataHash, header }`: fetch the dataset (size-limited), check its
 * hash and that it is canonical, check everything the chain decides (guardianChecks.ts), run
 * `evaluateEpoch`, and sign the EIP-712 header only if every field equals its own; otherwise 409 naming
 * the first differing field. It records each signed epoch's digest before answering and never signs a
 * different header for that epoch. `GET /health`, `GET /metrics` (Prometheus). API schemas:
 * core/guardianApi.ts.
 *
 *   GUARDIAN_PRIVATE_KEY=0x… tsx keepers/src/guardian/main.ts --rpc-url http://127.0.0.1:8545 \
 *     --address-book deployments/local-8545.json --data-dir .guardian/3 --port 7301 [--consensus FILE]
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  bytesToHex,
  createPublicClient,
  http,
  recoverMessageAddress,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { Logger } from 'pino';
import { log as rootLog } from '../infra/log.js';
import { keccak } from '../core/merkle.js';
import {
  datasetHash,
  evaluateEpoch,
  parseEpochDataset,
  type EpochDataset,
  type EpochEvaluation,
} from '../core/dataset.js';
import { headerDigest, settlementDomain } from '../core/epochHeader.js';
import {
  firstHeaderDifference,
  headerFromWire,
  headerToWire,
  signRequestSchema,
  type SignRequest,
  type SignResponse,
} from '../core/guardianApi.js';
import { describeZodError } from '../core/wire.js';
import { ChainFactsError, ChainNotReadyError, type EpochContracts } from '../chain/epochFacts.js';
import type { ConsensusParameters } from '../core/consensus.js';
import { checkDatasetAgainstChain } from './checks.js';
import { SignedEpochs, SignedEpochsError } from './signedEpochs.js';
import { BodyTooLargeError, readBody, readBodyUpTo, sendJson } from '../infra/httpJson.js';
import { HttpError } from '../core/errors.js';
import { epochSettlementAbi, nodeStakingAbi } from '../generated/contracts.js';
import {
  attestationDigest,
  commitWindowState,
  MAX_LEAF_UNITS,
  signHashWith,
  withinLeafBound,
} from '../core/attestation.js';
import {
  nodeStakingDomain,
  signedCommitmentSchema,
  signedCommitmentToWire,
  verifySignedCommitment,
} from '../core/commitment.js';
import { commitDeadline, epochStart, type EpochTiming } from '../core/deadlines.js';
import {
  KEEPER_AUTH_SKEW_SECONDS,
  KEEPER_SIGNATURE_HEADER,
  KEEPER_TIMESTAMP_HEADER,
  keeperAuthHash,
} from '../core/guardianApi.js';
import type { EpochHeader } from '../core/epochHeader.js';
import { CommitmentStore } from './commitmentStore.js';
import {
  missingCommitment,
  observedButNotCounted,
  provenByAnswer,
  uncountedCommitment,
  unprovenChallenges,
} from './ownView.js';
import { askNodesForChallengeReceipts } from '../infra/challengeOpenings.js';
import { nodeFailureReason } from '../infra/nodeFetch.js';

/** How long a guardian waits for a node's challenge receipts at `/sign`. */
const CHALLENGE_RECEIPT_TIMEOUT_MS = 3000;
import { OpeningsObserver } from './openingsObserver.js';

export interface GuardianOptions {
  rpcUrl: string;
  privateKey: Hex;
  chainId: number;
  contracts: EpochContracts;
  consensus: ConsensusParameters;
  /** Holds the signed-epochs record. */
  dataDir: string;
  port?: number;
  host?: string;
  /** Largest dataset accepted, bytes (default 512 MiB). */
  maxDatasetBytes?: number;
  /** Dataset download timeout (default 60 s). */
  fetchTimeoutMs?: number;
  /** Deployment block: where event and block searches start. */
  fromBlock?: bigint;
  /** Wall clock, unix ms (tests may shift it). */
  nowMs?: () => number;
  /** Seconds after the commit deadline during which nodes answer openings (the keepers' value; default 10). */
  openingsWindowSeconds?: number;
  /** Seconds after an epoch's end during which WatchDog transcripts are accepted (the keepers' value; default 10). */
  transcriptGraceSeconds?: number;
  /** Keeper addresses whose signed `/sign` requests are served (over HTTP); others get 401. */
  keepers?: Address[];
  /** Dataset URLs must lie under one of these (same origin, path prefix); others get 403. */
  datasetOrigins?: string[];
  /** How often the guardian looks for openings to fetch itself (default 1000 ms; 0: never, tests call it). */
  observeIntervalMs?: number;
  logger?: Logger;
}

export interface SignOutcome {
  status: number;
  body: Record<string, unknown>;
}

const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_COMMITMENT_BYTES = 4 * 1024;
const EPOCH_ROUTE = /^\/epochs\/(\d{1,10})\/(commitments|openings)$/;

const err = (status: number, error: string, message: string, extra: Record<string, unknown> = {}) =>
  new HttpError(status, error, message, { error, message, ...extra });

/** Serializes values that may contain bigints (as decimal strings). */
const toJson = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));

export class GuardianService {
  readonly address: Address;
  readonly dataDir: string;
  readonly registry = new Registry();
  private readonly account: PrivateKeyAccount;
  private readonly client: PublicClient;
  private readonly signed: SignedEpochs;
  readonly commitments: CommitmentStore;
  readonly openings: OpeningsObserver;
  private observeTimer?: NodeJS.Timeout;
  private timingCache?: Promise<EpochTiming>;
  private readonly log: Logger;
  private server?: Server;
  private signLock: Promise<unknown> = Promise.resolve();
  private readonly epochLocks = new Map<number, Promise<void>>();
  private readonly outcomes = new Map<string, HttpError | 'sign'>();
  private readonly requests: Counter<'result'>;
  private readonly lastSigned: Gauge;
  private readonly evaluateSeconds: Histogram;

  constructor(private readonly options: GuardianOptions) {
    this.account = privateKeyToAccount(options.privateKey);
    this.address = this.account.address.toLowerCase() as Address;
    this.dataDir = options.dataDir;
    this.client = createPublicClient({ transport: http(options.rpcUrl, { batch: true }) });
    this.signed = new SignedEpochs(options.dataDir);
    this.commitments = new CommitmentStore(options.dataDir);
    this.openings = new OpeningsObserver({
      client: this.client,
      staking: options.contracts.staking,
      fromBlock: options.fromBlock,
      guardian: this.address,
      signer: this.account,
      stakingDomain: nodeStakingDomain(options.chainId, options.contracts.staking),
      settlementDomain: settlementDomain(options.chainId, options.contracts.settlement),
      k: options.consensus.k,
      commitGraceSeconds: options.consensus.commitGraceSeconds,
      openingsWindowSeconds: options.openingsWindowSeconds ?? 10,
      commitments: this.commitments,
      dataDir: options.dataDir,
      timing: () => this.timing(),
      nowMs: () => this.nowMs(),
      log: (options.logger ?? rootLog).child({ service: 'guardian-openings' }),
    });
    this.log = (options.logger ?? rootLog).child({ service: 'guardian', guardian: this.address });
    this.requests = new Counter({
      name: 'guardian_sign_requests_total',
      help: 'Sign requests by result',
      labelNames: ['result'],
      registers: [this.registry],
    });
    this.lastSigned = new Gauge({
      name: 'guardian_last_signed_epoch',
      help: 'Latest epoch signed',
      registers: [this.registry],
    });
    this.lastSigned.set(this.signed.lastEpoch);
    this.evaluateSeconds = new Histogram({
      name: 'guardian_evaluate_seconds',
      help: 'Time to check and evaluate a dataset',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [this.registry],
    });
  }

  /** Starts the HTTP server; resolves to its base URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => void this.route(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as { port: number };
    const url = `http://${this.options.host ?? '127.0.0.1'}:${port}`;
    const every = this.options.observeIntervalMs ?? 1000;
    if (every > 0) {
      this.observeTimer = setInterval(() => void this.openings.tick(), every);
      this.observeTimer.unref();
    }
    this.log.info({ url }, 'guardian listening');
    return url;
  }

  async stop(): Promise<void> {
    clearInterval(this.observeTimer);
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private nowMs(): number {
    return (this.options.nowMs ?? Date.now)();
  }

  /** The settlement's genesis time and epoch duration (immutable: read once). */
  private timing(): Promise<EpochTiming> {
    this.timingCache ??= Promise.all([
      this.client.readContract({
        address: this.options.contracts.settlement,
        abi: epochSettlementAbi,
        functionName: 'genesisTime',
      }),
      this.client.readContract({
        address: this.options.contracts.settlement,
        abi: epochSettlementAbi,
        functionName: 'epochDuration',
      }),
    ]).then(([genesis, duration]) => ({ genesisTime: Number(genesis), epochDuration: Number(duration) }));
    this.timingCache.catch(() => {
      this.timingCache = undefined;
    });
    return this.timingCache;
  }

  /**
   * `POST /commitments` without HTTP: attests a node-signed commitment received inside its epoch's commit
   * window [epochStart, commitDeadline) (this guardian's clock), signed by a registered node key, within the
   * leaf bound; at most two distinct commitments per (epoch, node). A repeat gets the same attestation.
   */
  async attest(raw: unknown, arrivedMs = this.nowMs()): Promise<SignOutcome> {
    try {
      const body = await this.attestChecked(raw, arrivedMs);
      this.requests.inc({ result: 'attested' });
      return { status: 200, body };
    } catch (error) {
      if (error instanceof HttpError) {
        this.requests.inc({ result: `commitment-${error.wireCode}` });
        this.log.warn({ status: error.status, ...error.body }, 'commitment refused');
        return { status: error.status, body: error.body };
      }
      this.log.error({ err: error }, 'attest failed');
      return { status: 500, body: { error: 'internal', message: (error as Error).message } };
    }
  }

  private async attestChecked(raw: unknown, arrivedMs: number): Promise<Record<string, unknown>> {
    const parsed = signedCommitmentSchema.safeParse(raw);
    if (!parsed.success) throw err(400, 'bad-request', `signed commitment: ${describeZodError(parsed.error)}`);
    const signed = parsed.data;
    const { epoch } = signed.commitment;
    const timing = await this.timing();
    const window = {
      epochStart: epochStart(timing, epoch),
      commitDeadline: commitDeadline(timing, this.options.consensus, epoch),
    };
    // judged by when the request arrived: a guardian busy evaluating must not turn a timely node late
    const now = Math.floor(arrivedMs / 1000);
    const state = commitWindowState(now, window);
    if (state === 'early')
      throw err(425, 'commit-window-not-open', `epoch ${epoch} starts at ${window.epochStart}; now ${now}`);
    if (state === 'closed')
      throw err(
        409,
        'commit-window-closed',
        `epoch ${epoch}'s commit deadline ${window.commitDeadline} passed; now ${now}`,
      );
    if (!withinLeafBound(signed.commitment))
      throw err(
        422,
        'leaf-bound',
        `totalUnits ${signed.commitment.totalUnits} exceeds leafCount ${signed.commitment.leafCount} × ${MAX_LEAF_UNITS}`,
      );
    const staking = nodeStakingDomain(this.options.chainId, this.options.contracts.staking);
    if (!(await verifySignedCommitment(staking, signed)))
      throw err(422, 'bad-signature', `the commitment's signature does not recover to nodeKey ${signed.nodeKey}`);
    const wire = signedCommitmentToWire(signed);
    const known = this.commitments.find(epoch, wire.nodeKey, wire.commitment);
    if (known) return { ...known.attestation };
    if (this.commitments.countFor(epoch, wire.nodeKey) >= this.commitments.full)
      throw err(
        409,
        'too-many-commitments',
        `node ${wire.nodeKey} already has ${this.commitments.full} different commitments for epoch ${epoch}`,
      );
    // A registered node (staked once): bounds what strangers can make a guardian store. Not "Active now":
    // a node ejected during the epoch is still in the epoch's node set and must be able to commit.
    const node = await this.client.readContract({
      address: this.options.contracts.staking,
      abi: nodeStakingAbi,
      functionName: 'getNode',
      args: [signed.nodeKey],
    });
    if (/^0x0{40}$/i.test(node.operator)) throw err(422, 'not-registered', `${wire.nodeKey} is not a registered node`);
    const settlement = settlementDomain(this.options.chainId, this.options.contracts.settlement);
    const digest = attestationDigest(settlement, staking, signed.nodeKey, signed.commitment);
    const attestation = { guardian: this.address, signature: await signHashWith(this.account, digest) };
    // Synchronous from the re-check to the append: two concurrent posts cannot both pass the bound.
    if (!this.commitments.find(epoch, wire.nodeKey, wire.commitment)) {
      if (this.commitments.countFor(epoch, wire.nodeKey) >= this.commitments.full)
        throw err(409, 'too-many-commitments', `node ${wire.nodeKey} has too many commitments for epoch ${epoch}`);
      this.commitments.add({ ...wire, attestation, receivedAtMs: this.nowMs() });
    }
    this.log.info({ epoch, node: wire.nodeKey, root: wire.commitment.root }, 'commitment attested');
    return { ...attestation };
  }

  /** `GET /epochs/:e/commitments`: every commitment attested for e, with the attestation. */
  attestedCommitments(epoch: number): Record<string, unknown> {
    return {
      epoch,
      commitments: this.commitments.list(epoch).map(({ receivedAtMs: _, ...rest }) => rest),
    };
  }

  /** The /sign handler without HTTP: status and JSON body. */
  async sign(raw: unknown): Promise<SignOutcome> {
    try {
      const body = await this.signChecked(raw);
      this.requests.inc({ result: 'signed' });
      return { status: 200, body: body as unknown as Record<string, unknown> };
    } catch (error) {
      if (error instanceof HttpError) {
        this.requests.inc({ result: error.wireCode });
        this.log.warn({ status: error.status, ...error.body }, 'sign refused');
        return { status: error.status, body: error.body };
      }
      this.requests.inc({ result: 'error' });
      this.log.error({ err: error }, 'sign failed');
      return { status: 500, body: { error: 'internal', message: (error as Error).message } };
    }
  }

  private async signChecked(raw: unknown): Promise<SignResponse> {
    const parsed = signRequestSchema.safeParse(raw);
    if (!parsed.success) throw err(400, 'bad-request', describeZodError(parsed.error));
    const request: SignRequest = parsed.data;
    if (request.header.epoch !== request.epoch)
      throw err(400, 'bad-request', `header.epoch ${request.header.epoch} ≠ epoch ${request.epoch}`);
    const theirs = headerFromWire(request.header);
    const domain = settlementDomain(this.options.chainId, this.options.contracts.settlement);
    const digest = headerDigest(domain, theirs);

    const already = this.signed.get(request.epoch);
    if (already === digest) return this.signDigest(request.epoch, digest); // a repeat: same header, same signature
    if (already && (await this.signed.voidedSinceSigned(request.epoch, this.settlementView())) === null)
      throw err(409, 'already-signed', `epoch ${request.epoch} was signed with another header`, {
        signedHeaderHash: already,
      });
    if (!this.originAllowed(request.datasetUrl))
      throw err(403, 'origin-not-allowed', `datasetUrl ${request.datasetUrl} is not under a configured dataset origin`);
    const timing = await this.timing();
    const ready = Math.max(
      this.openings.openingsDeadline(timing, request.epoch),
      // transcripts are taken from the commit deadline until its grace (core/deadlines.ts transcriptDeadline)
      commitDeadline(timing, this.options.consensus, request.epoch) + (this.options.transcriptGraceSeconds ?? 10),
    );
    const now = Math.floor(this.nowMs() / 1000);
    if (now < ready)
      throw err(425, 'too-early', `epoch ${request.epoch}'s inputs are collected until ${ready}; now ${now}`);

    // One evaluation per epoch at a time; outcomes cached by (epoch, dataHash, header digest).
    const key = `${request.epoch}:${request.dataHash}:${digest}`;
    const previous = this.epochLocks.get(request.epoch) ?? Promise.resolve();
    const run = previous.then(() => this.evaluateCached(key, request, theirs, digest));
    this.epochLocks.set(
      request.epoch,
      run.then(
        () => undefined,
        () => undefined,
      ),
    );
    return run;
  }

  private originAllowed(url: string): boolean {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return false;
    }
    return (this.options.datasetOrigins ?? []).some((origin) => {
      const allowed = new URL(origin);
      const path = allowed.pathname.endsWith('/') ? allowed.pathname : `${allowed.pathname}/`;
      return (
        target.origin === allowed.origin &&
        target.username === '' &&
        target.password === '' &&
        (allowed.pathname === '/' || `${target.pathname}/`.startsWith(path))
      );
    });
  }

  private async evaluateCached(key: string, request: SignRequest, theirs: EpochHeader, digest: Hex) {
    const cached = this.outcomes.get(key);
    if (cached instanceof HttpError) throw cached;
    if (cached === 'sign') return this.signDigest(request.epoch, digest);
    try {
      const response = await this.evaluateRequest(request, theirs, digest);
      this.remember(key, 'sign');
      return response;
    } catch (error) {
      // Refusals that depend only on the request are final; unavailability and chain lag are not.
      if (error instanceof HttpError && (error.status === 409 || error.status === 422)) this.remember(key, error);
      throw error;
    }
  }

  private remember(key: string, outcome: HttpError | 'sign'): void {
    this.outcomes.set(key, outcome);
    while (this.outcomes.size > 256) this.outcomes.delete(this.outcomes.keys().next().value!);
  }

  private async evaluateRequest(request: SignRequest, theirs: EpochHeader, digest: Hex): Promise<SignResponse> {
    const started = performance.now();
    const bytes = await this.fetchDataset(request.datasetUrl);
    const bytesHash = bytesToHex(keccak(bytes));
    if (bytesHash !== request.dataHash) {
      throw err(
        422,
        'hash-mismatch',
        `dataset at ${request.datasetUrl} hashes to ${bytesHash}, not dataHash ${request.dataHash}`,
      );
    }
    let dataset: EpochDataset;
    try {
      dataset = parseEpochDataset(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)));
    } catch (error) {
      throw err(422, 'invalid-dataset', (error as Error).message);
    }
    if (datasetHash(dataset) !== request.dataHash)
      throw err(422, 'hash-mismatch', 'the dataset is not in canonical JSON form');
    if (dataset.epoch !== request.epoch)
      throw err(422, 'invalid-dataset', `dataset is for epoch ${dataset.epoch}, not ${request.epoch}`);

    let mismatch;
    try {
      mismatch = await checkDatasetAgainstChain(
        {
          client: this.client,
          chainId: this.options.chainId,
          contracts: this.options.contracts,
          consensus: this.options.consensus,
          fromBlock: this.options.fromBlock,
        },
        dataset,
      );
    } catch (error) {
      if (error instanceof ChainNotReadyError) throw err(503, 'chain-not-ready', error.message);
      if (error instanceof ChainFactsError) throw err(422, 'chain-mismatch', error.message);
      throw error;
    }
    if (mismatch) {
      throw err(422, 'chain-mismatch', `dataset ${mismatch.field} differs from the chain`, {
        field: mismatch.field,
        ours: JSON.parse(toJson(mismatch.ours)),
        theirs: JSON.parse(toJson(mismatch.theirs)),
      });
    }

    const omitted = missingCommitment(this.commitments.list(request.epoch), dataset, this.address);
    if (omitted)
      throw err(
        409,
        'missing-commitment',
        `the dataset lacks node ${omitted.nodeKey}'s commitment ${omitted.root} that this guardian attested`,
        { node: omitted.nodeKey },
      );

    let evaluation;
    try {
      evaluation = await evaluateEpoch(dataset, { dataHash: request.dataHash as Hex });
    } catch (error) {
      if (error instanceof RangeError) throw err(422, 'invalid-dataset', error.message);
      throw error;
    }
    this.evaluateSeconds.observe((performance.now() - started) / 1000);
    const uncounted = uncountedCommitment(this.commitments.list(request.epoch), evaluation, dataset, this.address);
    if (uncounted)
      throw err(
        409,
        'missing-commitment',
        `node ${uncounted}'s commitment, attested by this guardian, does not count in the dataset (attestations dropped?)`,
        { node: uncounted },
      );
    const unobserved = observedButNotCounted(this.openings.list(request.epoch), evaluation);
    if (unobserved)
      throw err(
        409,
        'openings-omitted',
        `node ${unobserved.nodeKey} answered this guardian with signed openings; the dataset makes them ${unobserved.outcome}`,
        { node: unobserved.nodeKey },
      );
    const hidden = await this.hiddenChallengeReceipt(dataset, evaluation);
    if (hidden)
      throw err(
        409,
        'challenge-receipts-omitted',
        `node ${hidden.nodeKey} opened its receipt of challenge envelope ${hidden.envelopeId} to this guardian; the dataset lacks it`,
        { node: hidden.nodeKey },
      );
    const difference = firstHeaderDifference(evaluation.header, theirs);
    if (difference)
      throw new HttpError(409, 'header-mismatch', 'header-mismatch', { error: 'header-mismatch', ...difference });
    this.log.info(
      { rejected: evaluation.rejected.length, header: headerToWire(evaluation.header) },
      'header recomputed',
    );
    return this.signDigest(request.epoch, digest);
  }

  /**
   * Own view of the WatchDog evidence: asks each node whose commitment counts and whose challenge results
   * the dataset leaves unproven for those receipts itself (a few at a time, `CHALLENGE_RECEIPT_TIMEOUT_MS`
   * each); the first receipt a node proves that the dataset lacks, or null. A node that does not answer
   * proves nothing.
   */
  private async hiddenChallengeReceipt(
    dataset: EpochDataset,
    evaluation: EpochEvaluation,
  ): Promise<{ nodeKey: Address; envelopeId: Hex } | null> {
    const endpoints = new Map(dataset.nodes.map((n) => [n.nodeKey, n.endpoint]));
    const unproven = unprovenChallenges(dataset, evaluation);
    const asks = [...unproven].flatMap(([nodeKey, { envelopeIds }]) => {
      const endpoint = endpoints.get(nodeKey);
      return endpoint ? [{ nodeKey, endpoint, envelopeIds }] : [];
    });
    let found: { nodeKey: Address; envelopeId: Hex } | null = null;
    await askNodesForChallengeReceipts(asks, dataset.epoch, {
      timeoutMs: CHALLENGE_RECEIPT_TIMEOUT_MS,
      concurrency: 8,
      onAnswer: ({ nodeKey }, openings) => {
        const proven = provenByAnswer(dataset.epoch, nodeKey, unproven.get(nodeKey)!.commitment, openings);
        if (proven.length > 0) found ??= { nodeKey, envelopeId: proven[0]! };
        return found !== null;
      },
      onFailure: ({ nodeKey }, error) =>
        this.log.debug({ node: nodeKey, reason: nodeFailureReason(error) }, 'no challenge receipts from node'),
    });
    return found;
  }

  /** Records the digest (refusing a different one for the epoch), then signs it. Serialized. */
  private signDigest(epoch: number, digest: Hex): Promise<SignResponse> {
    const run = async (): Promise<SignResponse> => {
      try {
        await this.signed.recordChecked(epoch, digest, this.settlementView()); // a voided epoch may be re-signed
      } catch (error) {
        if (error instanceof SignedEpochsError)
          throw err(409, 'already-signed', error.message, { signedHeaderHash: this.signed.get(epoch) });
        throw error;
      }
      this.lastSigned.set(this.signed.lastEpoch);
      const signature = await this.account.sign({ hash: digest });
      return { epoch, guardian: this.address, digest, signature: signature.toLowerCase() };
    };
    const next = this.signLock.then(run, run);
    this.signLock = next.catch(() => undefined);
    return next;
  }

  private settlementView() {
    return { client: this.client, settlement: this.options.contracts.settlement, fromBlock: this.options.fromBlock };
  }

  /** Why a `/sign` request is not from a configured keeper, or null when it is. */
  private async authenticate(req: IncomingMessage, body: string): Promise<string | null> {
    const stamp = req.headers[KEEPER_TIMESTAMP_HEADER];
    const signature = req.headers[KEEPER_SIGNATURE_HEADER];
    if (typeof stamp !== 'string' || typeof signature !== 'string')
      return `missing ${KEEPER_TIMESTAMP_HEADER} / ${KEEPER_SIGNATURE_HEADER} headers (a keeper signs each request)`;
    const timestamp = Number(stamp);
    const now = Math.floor(this.nowMs() / 1000);
    if (!Number.isSafeInteger(timestamp) || Math.abs(now - timestamp) > KEEPER_AUTH_SKEW_SECONDS)
      return `timestamp ${stamp} is not within ${KEEPER_AUTH_SKEW_SECONDS} s of ${now}`;
    let signer: string;
    try {
      signer = (
        await recoverMessageAddress({
          message: { raw: keeperAuthHash(timestamp, new TextEncoder().encode(body)) },
          signature: signature as Hex,
        })
      ).toLowerCase();
    } catch {
      return 'the keeper signature cannot be recovered';
    }
    const keepers = new Set((this.options.keepers ?? []).map((k) => k.toLowerCase()));
    if (!keepers.has(signer)) return `${signer} is not a configured keeper`;
    return null;
  }

  /** Downloads the dataset, refusing more than `maxDatasetBytes`. */
  private async fetchDataset(url: string): Promise<Uint8Array> {
    const limit = this.options.maxDatasetBytes ?? 512 * 1024 * 1024;
    let response: Response;
    try {
      response = await fetch(url, {
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 60_000),
      });
    } catch (error) {
      throw err(502, 'dataset-unavailable', `cannot fetch ${url}: ${(error as Error).message}`);
    }
    if (!response.ok || !response.body) throw err(502, 'dataset-unavailable', `GET ${url} answered ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > limit) {
      await response.body.cancel();
      throw err(422, 'dataset-too-large', `dataset is ${declared} bytes, limit ${limit}`);
    }
    try {
      return await readBodyUpTo(response, limit, () =>
        err(422, 'dataset-too-large', `dataset exceeds the limit of ${limit} bytes`),
      );
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw err(502, 'dataset-unavailable', `reading ${url}: ${(error as Error).message}`);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // sendJson drains an oversized request body first, so the client reads the 413 instead of a reset
    const send = (status: number, body: unknown, type = 'application/json') =>
      sendJson(res, status, typeof body === 'string' ? body : toJson(body), type);
    try {
      const path = new URL(req.url ?? '/', 'http://guardian').pathname;
      if (req.method === 'GET' && path === '/health')
        return send(200, { ok: true, guardian: this.address, lastSignedEpoch: this.signed.lastEpoch });
      if (req.method === 'GET' && path === '/metrics')
        return send(200, await this.registry.metrics(), this.registry.contentType);
      if (req.method === 'POST' && path === '/commitments') {
        const arrivedMs = this.nowMs();
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req, MAX_COMMITMENT_BYTES));
        } catch (error) {
          if (error instanceof BodyTooLargeError) return send(413, { error: 'body-too-large', message: error.message });
          return send(400, { error: 'bad-request', message: `request body: ${(error as Error).message}` });
        }
        const outcome = await this.attest(body, arrivedMs);
        return send(outcome.status, outcome.body);
      }
      const epochRoute = EPOCH_ROUTE.exec(path);
      if (req.method === 'GET' && epochRoute) {
        const epoch = Number(epochRoute[1]);
        if (epoch < 1 || epoch > 0xffffffff)
          return send(400, { error: 'bad-epoch', message: `epoch ${epochRoute[1]}` });
        if (epochRoute[2] === 'openings') return send(200, { epoch, observations: this.openings.list(epoch) });
        return send(200, this.attestedCommitments(epoch));
      }
      if (req.method === 'POST' && path === '/sign') {
        let text: string;
        try {
          text = await readBody(req, MAX_REQUEST_BYTES);
        } catch (error) {
          if (error instanceof BodyTooLargeError) return send(413, { error: 'body-too-large', message: error.message });
          return send(400, { error: 'bad-request', message: `request body: ${(error as Error).message}` });
        }
        const refusal = await this.authenticate(req, text);
        if (refusal) {
          this.requests.inc({ result: 'unauthenticated' });
          this.log.warn({ reason: refusal }, 'sign refused: unauthenticated');
          return send(401, { error: 'unauthenticated', message: refusal });
        }
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (error) {
          return send(400, { error: 'bad-request', message: `request body: ${(error as Error).message}` });
        }
        const outcome = await this.sign(body);
        return send(outcome.status, outcome.body);
      }
      send(404, { error: 'not-found', message: `${req.method} ${path}` });
    } catch (error) {
      this.log.error({ err: error }, 'request failed');
      if (!res.headersSent) send(500, { error: 'internal', message: (error as Error).message });
    }
  }
}
