/**
 * Where signing keys come from: an environment variable holding a hex private key (`--private-key-env`,
 * default SENDNET_PRIVATE_KEY; also the node key and a linked wallet's key), a file holding one
 * (`--node-key-file`), or an encrypted keystore (`--keystore`). Messages name the variable or file, never
 * the key.
 */
import { readFileSync } from 'node:fs';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { InputError } from './errors.js';
import { parsePrivateKey } from './inputs.js';
import { decryptKeystoreFile, keystorePassword } from './keystore.js';

export const DEFAULT_PRIVATE_KEY_ENV = 'SENDNET_PRIVATE_KEY';

function account(key: Hex, what: string): PrivateKeyAccount {
  try {
    return privateKeyToAccount(key);
  } catch {
    throw new InputError(`${what} is not a valid secp256k1 private key.`, 'BadKey');
  }
}

/** The account whose hex private key is in environment variable `name`. */
export function accountFromEnv(name: string, role: string, env: NodeJS.ProcessEnv = process.env): PrivateKeyAccount {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new InputError(`No ${role} key: environment variable ${name} is not set.`, 'NoKey');
  }
  return account(parsePrivateKey(value, `The ${role} key in ${name}`), `The ${role} key in ${name}`);
}

/** The account whose hex private key is the content of `path`. */
export function accountFromFile(path: string, role: string): PrivateKeyAccount {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(
      `Cannot read the ${role} key file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`,
    );
  }
  return account(parsePrivateKey(text, `The ${role} key file ${path}`), `The ${role} key file ${path}`);
}

export interface SignerSource {
  /** Environment variable with the hex key (default SENDNET_PRIVATE_KEY). */
  privateKeyEnv?: string;
  /** Encrypted keystore file; takes precedence over the environment variable. */
  keystore?: string;
}

/** The transaction signer chosen by the global options. */
export async function loadSigner(
  source: SignerSource,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PrivateKeyAccount> {
  if (source.keystore) {
    const key = await decryptKeystoreFile(source.keystore, await keystorePassword(source.keystore, env));
    return account(key, `The key in ${source.keystore}`);
  }
  const name = source.privateKeyEnv ?? DEFAULT_PRIVATE_KEY_ENV;
  if (env[name] === undefined || env[name]?.trim() === '') {
    throw new InputError(`No signing key: set ${name} to a hex private key, or pass --keystore FILE.`, 'NoKey');
  }
  return accountFromEnv(name, 'signing', env);
}
