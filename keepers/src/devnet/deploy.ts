import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadAddressBook, type AddressBook } from '../chain/addressBook.js';
import { FORGE_SCRATCH_DIR, forgeScratchDir, foundryBinary, repoRoot } from '../dev/foundry.js';

export interface DeployOptions {
  rpcUrl: string;
  privateKey: `0x${string}`;
  /** JSON deploy config (default config/devnet.json). */
  configPath?: string;
  /** Where to write the address book: inside deployments/ or FORGE_SCRATCH_DIR, where forge may write (default: a fresh scratch directory). */
  addressBookPath?: string;
}

/** Deploys the protocol with script/Deploy.s.sol (the same script used on every chain). */
export async function deployProtocol(options: DeployOptions): Promise<{ book: AddressBook; path: string }> {
  const path = options.addressBookPath ?? join(forgeScratchDir('deploy'), 'addresses.json');
  mkdirSync(dirname(path), { recursive: true });
  const args = [
    'script',
    'script/Deploy.s.sol',
    '--rpc-url',
    options.rpcUrl,
    '--private-key',
    options.privateKey,
    '--broadcast',
    '--skip',
    'test',
  ];
  const env = {
    ...process.env,
    DEPLOY_CONFIG: options.configPath ?? 'config/devnet.json',
    ADDRESS_BOOK: path,
    // forge's broadcast logs of local runs stay out of the work tree too
    FOUNDRY_BROADCAST: join(FORGE_SCRATCH_DIR, 'broadcast'),
  };
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(foundryBinary('forge'), args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`forge script Deploy failed (exit ${code}):\n${out.slice(-4000)}`)),
    );
  });
  if (!output.includes('ONCHAIN EXECUTION COMPLETE & SUCCESSFUL')) {
    throw new Error(`forge script Deploy did not confirm its transactions:\n${output.slice(-4000)}`);
  }
  return { book: loadAddressBook(path), path };
}
