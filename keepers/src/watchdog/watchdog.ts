/**
 * WatchDog service (docs/keepers.md §4): runs one license's WatchDog. Per epoch e:
 *   1. before e starts: draw a secret (kept in the data dir), POST the signed commit to the keeper;
 *   2. once e has started and the keeper fixed the node set, the assignment seed and the commits
 *      (`GET /epochs/e/watchdogs`, `final`): compute its assigned nodes exactly as the guardians do
 *      (same commit filter and assignment code), and the challenge schedule its secret fixes;
 *   3. at each scheduled time (never earlier; late if it learned the assignment late) send a challenge
 *      through the node's WebSocket endpoint between two of its challenge identities (watchdog/challenger.ts);
 *   4. after e's commit deadline (the secret fixes the challenge envelope ids, so it stays hidden while nodes
 *      can still commit): sign the transcript (secret + every scheduled result) and POST it, retrying until
 *      the keeper accepts it or two epochs have passed.
 * Events: `committed` (epoch), `assigned` ({ epoch, nodes }), `result` ({ epoch, result }), `transcript`
 * ({ epoch, accepted, transcript }), `skipped` ({ epoch, reason }).
 *
 *   WATCHDOG_OPERATOR_KEY=0x… tsx keepers/src/watchdog/main.ts --keeper-url http://127.0.0.1:7000 \
 *     --token-id 7 --address-book deployments/local-8545.json --data-dir .watchdog/7 \
 *     --identities .watchdog/7/identities.json [--register-identities 2 --rpc-url http://127.0.0.1:8545]
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { createPublicClient, createWalletClient, defineChain, http, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Logger } from 'pino';
import { log as rootLog } from '../infra/log.js';
import { deviceKeyFromSeed, generateDeviceKey } from '../core/relay.js';
import { describeZodError, privateKey } from '../core/wire.js';
import {
  challengeEnvelopeId,
  signTranscript,
  signWatchdogCommit,
  watchdogCommit,
  watchdogSchedule,
  type SignedTranscript,
  type TranscriptResult,
} from '../core/watchdogSchedule.js';
import { validWatchdogCommits, watchdogAssignment } from '../core/evaluateWatchdogs.js';
import type { EpochWatchdogsResponse } from '../core/watchdogApi.js';
import type { AddressBook } from '../chain/addressBook.js';
import { DEVNET_CONSENSUS } from '../core/consensus.js';
import type { EpochClock } from '../core/epochClock.js';
import { registerClientIdentity } from '../client/relayClient.js';
import { Challenger, type ChallengeIdentity } from './challenger.js';
import { KeeperApiError, KeeperClient } from './keeperClient.js';
import { SecretStore } from './secrets.js';
import { SendnetError } from '../core/errors.js';

export interface WatchDogOptions {
  /** The license's operator key (secp256k1): signs commits and transcripts. */
  operatorKey: Hex;
  tokenId: bigint;
  /** At least two device keys registered (Ed25519, Active) on DIDs the WatchDog owns. */
  identities: ChallengeIdentity[];
  keeperUrl: string;
  /** The settlement's epoch clock (its `now()` is the time the WatchDog acts on). */
  clock: EpochClock;
  /** Holds the epoch secrets. */
  dataDir: string;
  /** How often the loop runs and the keeper is polled. Default 250 ms. */
  tickMs?: number;
  logger?: Logger;
  /**
   * Devnet adversary only: rewrites each result before the transcript is signed (a lying WatchDog, e.g.
   * reporting an honest node down). Never set by the WatchDog CLI.
   */
  falsify?: (result: TranscriptResult) => TranscriptResult;
  /**
   * Devnet adversary only: whether to send the challenges to `node` at all (default: yes). A lazy WatchDog
   * sends none and reports whatever `falsify` makes of the unsent results.
   */
  sendChallenges?: (node: Address) => boolean;
}

export class WatchDogError extends SendnetError {
  override name = 'WatchDogError';
  override readonly code = 'watchdog';
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class WatchDogService extends EventEmitter {
  readonly operator: Address;
  readonly tokenId: bigint;
  private readonly keeper: KeeperClient;
  private readonly secrets: SecretStore;
  private readonly challenger: Challenger;
  private readonly log: Logger;
  private readonly tickMs: number;
  private readonly committed = new Set<number>();
  private readonly committing = new Set<number>();
  private readonly running = new Map<number, Promise<void>>();
  private abort = new AbortController();
  private loop?: Promise<void>;

  constructor(private readonly options: WatchDogOptions) {
    super();
    this.operator = privateKeyToAccount(options.operatorKey).address.toLowerCase() as Address;
    this.tokenId = options.tokenId;
    this.keeper = new KeeperClient(options.keeperUrl);
    this.secrets = new SecretStore(options.dataDir, options.tokenId);
    this.log = (options.logger ?? rootLog).child({
      service: 'watchdog',
      tokenId: options.tokenId.toString(),
      operator: this.operator,
    });
    this.tickMs = options.tickMs ?? 250;
    // The challenge timeout comes from the keeper per epoch; the challenger is created with the devnet
    // default and replaced when an epoch announces another one.
    this.challenger = new Challenger(
      options.identities,
      DEVNET_CONSENSUS.challengeTimeoutMs,
      this.log,
      options.clock.now,
    );
  }

  /** Starts the loop (commit ahead, run the current epoch). */
  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    // Every scheduled challenge waits on this signal: dozens of listeners at once are expected.
    setMaxListeners(0, this.abort.signal);
    this.loop = (async () => {
      while (!this.abort.signal.aborted) {
        try {
          this.tick();
        } catch (error) {
          this.log.error({ err: error }, 'tick failed');
        }
        await sleep(this.tickMs, this.abort.signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
    await Promise.allSettled(this.running.values());
    await this.challenger.close();
  }

  private tick(): void {
    const { clock } = this.options;
    const now = clock.now();
    const current = clock.epochAt(now);
    const next = current + 1;
    if (!this.committed.has(next) && !this.committing.has(next) && now < clock.epochStart(next) * 1000)
      void this.commit(next);
    if (current >= 1 && this.secrets.get(current) && !this.running.has(current)) {
      this.running.set(
        current,
        this.runEpoch(current).catch((error) => this.log.error({ err: error, epoch: current }, 'epoch failed')),
      );
    }
  }

  /** Draws (or reuses) the epoch's secret and posts the signed commit. */
  async commit(epoch: number): Promise<void> {
    this.committing.add(epoch);
    try {
      const secret = this.secrets.secretFor(epoch);
      const message = await signWatchdogCommit(this.options.operatorKey, this.tokenId, epoch, secret);
      const ack = await this.keeper.postCommit(message);
      if (!ack.accepted) throw new WatchDogError(`keeper refused the commit: ${ack.reason ?? 'no reason given'}`);
      this.committed.add(epoch);
      this.log.info({ epoch, commit: message.commit }, 'committed');
      this.emit('committed', epoch);
    } catch (error) {
      // Retried on the next tick while the epoch has not started; a refusal (409) is final.
      if (error instanceof KeeperApiError && error.status === 409) this.committed.add(epoch);
      this.log.warn({ err: error, epoch }, 'commit failed');
    } finally {
      this.committing.delete(epoch);
    }
  }

  /** Waits until the keeper fixed epoch `epoch`'s WatchDog set; null if it did not before the epoch ended. */
  private async finalWatchdogs(epoch: number): Promise<EpochWatchdogsResponse | null> {
    const end = this.options.clock.epochEnd(epoch) * 1000;
    while (!this.abort.signal.aborted && this.options.clock.now() < end) {
      try {
        const info = await this.keeper.epochWatchdogs(epoch);
        if (info.final && info.nodes && info.assignSeed) return info;
      } catch (error) {
        this.log.debug({ err: error, epoch }, 'epoch WatchDogs not available yet');
      }
      await sleep(this.tickMs, this.abort.signal);
    }
    return null;
  }

  /** Runs epoch `epoch`: assignment, challenges on schedule, transcript. */
  async runEpoch(epoch: number): Promise<void> {
    const secret = this.secrets.get(epoch);
    if (!secret) throw new WatchDogError(`no secret for epoch ${epoch}: it never committed`);
    const skip = (reason: string) => {
      this.log.warn({ epoch, reason }, 'epoch skipped');
      this.emit('skipped', { epoch, reason });
    };
    const info = await this.finalWatchdogs(epoch);
    if (!info) return skip('the keeper did not publish the epoch WatchDog set before the epoch ended');
    const mine = info.watchdogs.find((w) => BigInt(w.tokenId) === this.tokenId);
    if (!mine || mine.commit !== watchdogCommit(this.tokenId, epoch, secret))
      return skip('our commit is not in the epoch WatchDog set');

    const withOwners = info.watchdogs.flatMap((w) => (w.owner === undefined ? [] : [{ ...w, owner: w.owner }]));
    if (withOwners.length !== info.watchdogs.length)
      return skip('the keeper published the epoch WatchDog set without the license owners');
    const valid = await validWatchdogCommits(epoch, withOwners);
    const { nodesOf } = watchdogAssignment(info.assignSeed!.value as Hex, info.nodes!, valid, info.parameters.m);
    const nodes = nodesOf.get(this.tokenId.toString()) ?? [];
    const endpoints = new Map(info.nodes!.map((n) => [n.nodeKey, n.endpoint]));
    const duration = info.epochEnd - info.epochStart;
    const timeoutMs = info.parameters.challengeTimeoutMs;
    this.challenger.timeoutMs = timeoutMs;
    const schedule = watchdogSchedule(
      secret,
      nodes,
      info.parameters.challengesPerNode,
      duration,
      Math.ceil(timeoutMs / 1000),
    );
    for (const node of nodes) this.challenger.warmUp(node, endpoints.get(node)!);
    this.log.info({ epoch, nodes, challenges: schedule.length }, 'assigned');
    this.emit('assigned', { epoch, nodes });

    const clock = this.options.clock;
    const results: TranscriptResult[] = await Promise.all(
      schedule.map(async (ch) => {
        const scheduledMs = (info.epochStart + ch.offset) * 1000;
        await sleep(scheduledMs - clock.now(), this.abort.signal);
        const envelopeId = challengeEnvelopeId(secret, ch.node, ch.i);
        const base = { node: ch.node, i: ch.i, envelopeId };
        const result: TranscriptResult =
          this.abort.signal.aborted ||
          clock.now() >= info.epochEnd * 1000 ||
          this.options.sendChallenges?.(ch.node) === false
            ? { ...base, at: scheduledMs, ok: false, latencyMs: 0 }
            : await this.challenger
                .challenge(ch.node, endpoints.get(ch.node)!, ch.i, epoch, envelopeId, info.epochEnd * 1000)
                .then((o) => {
                  // A send at or after the epoch's end (a slow login) would void the whole transcript: failed.
                  const late = o.at >= info.epochEnd * 1000;
                  if (!o.ok || late)
                    this.log.info(
                      { epoch, node: ch.node, i: ch.i, err: late ? 'sent after the epoch ended' : o.error },
                      'challenge failed',
                    );
                  return late
                    ? { ...base, at: scheduledMs, ok: false, latencyMs: 0 }
                    : {
                        ...base,
                        at: Math.max(o.at, scheduledMs),
                        ok: o.ok,
                        latencyMs: o.latencyMs,
                      };
                });
        const reported = this.options.falsify ? this.options.falsify(result) : result;
        this.emit('result', { epoch, result: reported });
        return reported;
      }),
    );

    // Stopped mid-epoch: post nothing (a restart re-runs the epoch from the stored secret).
    if (this.abort.signal.aborted) return;
    // The transcript reveals the secret (and so which envelopes were challenges): only after the commit
    // deadline, when every node's commitment is fixed (keepers refuse it earlier).
    await sleep((clock.commitDeadline(epoch) + 1) * 1000 - clock.now(), this.abort.signal);
    if (this.abort.signal.aborted) return;
    const transcript = await signTranscript(this.options.operatorKey, {
      tokenId: this.tokenId.toString(),
      epoch,
      secret,
      results,
    });
    const accepted = await this.postTranscript(epoch, transcript);
    this.emit('transcript', { epoch, accepted, transcript });
  }

  /** Posts the transcript until accepted, refused (409) or two epochs after the epoch's end. */
  private async postTranscript(epoch: number, transcript: SignedTranscript): Promise<boolean> {
    const clock = this.options.clock;
    const deadline = (clock.epochEnd(epoch) + 2 * clock.epochDurationSeconds) * 1000;
    let delay = this.tickMs;
    for (;;) {
      try {
        const ack = await this.keeper.postTranscript(transcript);
        this.log.info(
          { epoch, accepted: ack.accepted, reason: ack.reason, results: transcript.transcript.results.length },
          'transcript posted',
        );
        return ack.accepted;
      } catch (error) {
        this.log.warn({ err: error, epoch }, 'transcript post failed');
        // refused for good, except too early (the keeper's clock behind ours): retried
        if (error instanceof KeeperApiError && error.status === 409 && !error.message.includes('too-early:'))
          return false;
      }
      if (clock.now() > deadline || this.abort.signal.aborted) return false;
      await sleep(delay, this.abort.signal);
      delay = Math.min(delay * 2, 5000);
    }
  }
}

// ------------------------------------------------------------------------------------------ identities

const identitiesFileSchema = z.array(z.object({ seed: privateKey, did: z.string().regex(/^[0-9]+$/) })).min(2);

/** Reads challenge identities (`[{ seed, did }]`, Ed25519 seeds) from a JSON file. */
export function loadIdentities(path: string): ChallengeIdentity[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new WatchDogError(`cannot read identities ${path}: ${(error as Error).message}`);
  }
  const parsed = identitiesFileSchema.safeParse(raw);
  if (!parsed.success) throw new WatchDogError(`identities ${path}: ${describeZodError(parsed.error)}`);
  return parsed.data.map((i) => ({ device: deviceKeyFromSeed(i.seed), did: BigInt(i.did) }));
}

/**
 * Registers `count` fresh challenge identities on-chain (a DID per identity, owned by `operatorKey`'s
 * wallet, with one Ed25519 device key; client/relayClient.ts `registerClientIdentity`) and writes them to `path`.
 */
export async function registerIdentities(
  rpcUrl: string,
  book: AddressBook,
  operatorKey: Hex,
  count: number,
  path: string,
  tokenId: bigint,
) {
  const account = privateKeyToAccount(operatorKey);
  const chain = defineChain({
    id: book.chainId,
    name: `chain ${book.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const walletClient = createWalletClient({ transport: http(rpcUrl), account, chain });
  const publicClient = createPublicClient({ transport: http(rpcUrl) });
  const out: { seed: Hex; did: string }[] = [];
  for (let i = 0; i < count; i++) {
    const name = `wd${tokenId}-${Date.now().toString(36)}-${i}`;
    const { did, device } = await registerClientIdentity(
      walletClient,
      publicClient,
      book,
      name,
      generateDeviceKey(),
      'watchdog',
    );
    out.push({ seed: device.seed, did: did.toString() });
  }
  writeFileSync(path, JSON.stringify(out, null, 1), { mode: 0o600 });
  return out;
}
