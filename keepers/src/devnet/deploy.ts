import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createPublicClient, http } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { loadAddressBook, type AddressBook } from '../chain/addressBook.js';
import { SendnetError } from '../core/errors.js';
import { FORGE_SCRATCH_DIR, forgeScratchDir, foundryBinary, repoRoot } from '../dev/foundry.js';

/** `forge script script/Deploy.s.sol` failed, did not confirm its transactions, or did not finish in time. */
export class DeployError extends SendnetError {
  override name = 'DeployError';
  override readonly code = 'deploy';
}

export interface DeployOptions {
  rpcUrl: string;
  privateKey: `0x${string}`;
  /** JSON deploy config (default config/devnet.json). */
  configPath?: string;
  /** Where to write the address book: inside deployments/ or FORGE_SCRATCH_DIR, where forge may write (default: a fresh scratch directory). */
  addressBookPath?: string;
  /**
   * The deploy is stopped and DeployError thrown after this long (default DEPLOY_TIMEOUT_MS). A fresh
   * checkout's first deploy compiles the script (about 45 s on 2 cores); later ones take about 5 s.
   */
  timeoutMs?: number;
}

/** Default limit of one deploy: about seven times the slowest measured (43 s at load 4, compiling the script); below the test runner's per-test limits. */
export const DEPLOY_TIMEOUT_MS = 300_000;

/**
 * The forge arguments of a deploy. `--slow` sends each transaction only after the previous one's receipt:
 * a batch broadcast to an automining anvil can arrive out of nonce order, and anvil then mines nonce 0 and
 * leaves the later nonces queued for good (foundry issue #10122), so forge waits for their receipts forever.
 */
export function deployScriptArgs(rpcUrl: string, privateKey: `0x${string}`): string[] {
  return [
    'script',
    'script/Deploy.s.sol',
    '--rpc-url',
    rpcUrl,
    '--private-key',
    privateKey,
    '--broadcast',
    '--slow',
    '--skip',
    'test',
  ];
}

/** What the chain shows of the deployer's transactions: its mined and pending nonces and the txpool. */
async function chainState(rpcUrl: string, privateKey: `0x${string}`): Promise<string> {
  try {
    const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: 5_000 }) });
    const address = privateKeyToAddress(privateKey);
    const [mined, pending, pool] = await Promise.all([
      client.getTransactionCount({ address, blockTag: 'latest' }),
      client.getTransactionCount({ address, blockTag: 'pending' }),
      client.request({ method: 'txpool_status' as never }).catch(() => null) as Promise<unknown>,
    ]);
    const txpool =
      pool && typeof pool === 'object' && 'pending' in pool && 'queued' in pool
        ? `txpool ${Number(pool.pending)} pending, ${Number(pool.queued)} queued`
        : 'txpool_status not answered';
    return `deployer ${address} nonce ${mined} mined, ${pending} pending; ${txpool}`;
  } catch (error) {
    return `the RPC at ${rpcUrl} did not answer (${(error as Error).message.split('\n')[0]})`;
  }
}

/** Deploys the protocol with script/Deploy.s.sol (the same script used on every chain). */
export async function deployProtocol(options: DeployOptions): Promise<{ book: AddressBook; path: string }> {
  const path = options.addressBookPath ?? join(forgeScratchDir('deploy'), 'addresses.json');
  mkdirSync(dirname(path), { recursive: true });
  const timeoutMs = options.timeoutMs ?? DEPLOY_TIMEOUT_MS;
  const env = {
    ...process.env,
    DEPLOY_CONFIG: options.configPath ?? 'config/devnet.json',
    ADDRESS_BOOK: path,
    // forge's broadcast logs of local runs stay out of the work tree too
    FOUNDRY_BROADCAST: join(FORGE_SCRATCH_DIR, 'broadcast'),
  };
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(foundryBinary('forge'), deployScriptArgs(options.rpcUrl, options.privateKey), {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new DeployError(`forge script Deploy could not start: ${error.message}`, { cause: error }));
    });
    child.on('exit', async (code) => {
      clearTimeout(timer);
      if (timedOut) {
        const state = await chainState(options.rpcUrl, options.privateKey);
        return reject(
          new DeployError(
            `forge script Deploy did not finish within ${timeoutMs / 1000} s (stopped), waiting on ${options.rpcUrl}: ${state}\n${out.slice(-4000)}`,
          ),
        );
      }
      if (code === 0) resolve(out);
      else reject(new DeployError(`forge script Deploy failed (exit ${code}):\n${out.slice(-4000)}`));
    });
  });
  if (!output.includes('ONCHAIN EXECUTION COMPLETE & SUCCESSFUL')) {
    throw new DeployError(`forge script Deploy did not confirm its transactions:\n${output.slice(-4000)}`);
  }
  return { book: loadAddressBook(path), path };
}
