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
import { bytesToHex, createPublicClient, http, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { Logger } from 'pino';
import { log as rootLog } from '../infra/log.js';
import { keccak } from '../core/merkle.js';
import { datasetHash, evaluateEpoch, parseEpochDataset, type EpochDataset } from '../core/dataset.js';
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
import { BodyTooLargeError, readBody, sendJson } from '../infra/httpJson.js';
import { HttpError } from '../core/errors.js';

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
  logger?: Logger;
}

export interface SignOutcome {
  status: number;
  body: Record<string, unknown>;
}

const MAX_REQUEST_BYTES = 64 * 1024;

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
  private readonly log: Logger;
  private server?: Server;
  private signLock: Promise<unknown> = Promise.resolve();
  private readonly requests: Counter<'result'>;
  private readonly lastSigned: Gauge;
  private readonly evaluateSeconds: Histogram;

  constructor(private readonly options: GuardianOptions) {
    this.account = privateKeyToAccount(options.privateKey);
    this.address = this.account.address.toLowerCase() as Address;
    this.dataDir = options.dataDir;
    this.client = createPublicClient({ transport: http(options.rpcUrl, { batch: true }) });
    this.signed = new SignedEpochs(options.dataDir);
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
    this.log.info({ url }, 'guardian listening');
    return url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
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

    let evaluation;
    try {
      evaluation = await evaluateEpoch(dataset, { dataHash: request.dataHash as Hex });
    } catch (error) {
      if (error instanceof RangeError) throw err(422, 'invalid-dataset', error.message);
      throw error;
    }
    this.evaluateSeconds.observe((performance.now() - started) / 1000);
    const difference = firstHeaderDifference(evaluation.header, theirs);
    if (difference)
      throw new HttpError(409, 'header-mismatch', 'header-mismatch', { error: 'header-mismatch', ...difference });
    this.log.info(
      { rejected: evaluation.rejected.length, header: headerToWire(evaluation.header) },
      'header recomputed',
    );
    return this.signDigest(request.epoch, digest);
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

  /** Downloads the dataset, refusing more than `maxDatasetBytes`. */
  private async fetchDataset(url: string): Promise<Uint8Array> {
    const limit = this.options.maxDatasetBytes ?? 512 * 1024 * 1024;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 60_000) });
    } catch (error) {
      throw err(502, 'dataset-unavailable', `cannot fetch ${url}: ${(error as Error).message}`);
    }
    if (!response.ok || !response.body) throw err(502, 'dataset-unavailable', `GET ${url} answered ${response.status}`);
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > limit) {
      await response.body.cancel();
      throw err(422, 'dataset-too-large', `dataset is ${declared} bytes, limit ${limit}`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel();
          throw err(422, 'dataset-too-large', `dataset exceeds the limit of ${limit} bytes`);
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw err(502, 'dataset-unavailable', `reading ${url}: ${(error as Error).message}`);
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const c of chunks) {
      bytes.set(c, offset);
      offset += c.byteLength;
    }
    return bytes;
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
      if (req.method === 'POST' && path === '/sign') {
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req, MAX_REQUEST_BYTES));
        } catch (error) {
          if (error instanceof BodyTooLargeError) return send(413, { error: 'body-too-large', message: error.message });
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
