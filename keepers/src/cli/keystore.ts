/**
 * Encrypted key files in the standard Web3 Secret Storage format (scrypt + AES-128-CTR, the format geth,
 * MetaMask exports and foundry's `cast wallet` use), through ethers 6. Passwords come from
 * SENDNET_KEYSTORE_PASSWORD or a hidden prompt on the terminal. ethers is loaded only when a keystore is used.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Hex } from 'viem';
import { InputError } from './errors.js';

export const KEYSTORE_PASSWORD_ENV = 'SENDNET_KEYSTORE_PASSWORD';

/** The private key inside keystore `path`; the sentence names the file on a wrong password or bad file. */
export async function decryptKeystoreFile(path: string, password: string): Promise<Hex> {
  let json: string;
  try {
    json = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(
      `Cannot read the keystore ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`,
    );
  }
  const { Wallet } = await import('ethers');
  try {
    const wallet = await Wallet.fromEncryptedJson(json, password);
    return wallet.privateKey as Hex;
  } catch (error) {
    const argument = (error as { argument?: string }).argument;
    if (argument === 'password') throw new InputError(`Wrong password for the keystore ${path}.`, 'BadKey');
    throw new InputError(`${path} is not a valid keystore file (Web3 Secret Storage JSON).`, 'BadKey');
  }
}

/** Writes `privateKey` encrypted with `password` to `path` (mode 0600); refuses to overwrite. */
export async function writeKeystoreFile(
  path: string,
  privateKey: Hex,
  password: string,
  scryptN?: number,
): Promise<string> {
  if (existsSync(path))
    throw new InputError(`${path} already exists: choose another --out file (keystores are never overwritten).`);
  if (password.length === 0) throw new InputError('The keystore password must not be empty.');
  const { Wallet, encryptKeystoreJson } = await import('ethers');
  const wallet = new Wallet(privateKey);
  const json = await encryptKeystoreJson(
    { address: wallet.address, privateKey },
    password,
    scryptN ? { scrypt: { N: scryptN } } : undefined,
  );
  writeFileSync(path, `${json}\n`, { mode: 0o600, flag: 'wx' });
  return wallet.address;
}

/** Reads a line from the terminal without echoing it. Refuses when stdin is not a terminal. */
export async function promptHidden(question: string, envHint: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new InputError(`No password: set ${envHint} (there is no terminal to prompt on).`);
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let input = '';
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(input);
    };
    const onData = (chunk: string) => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') return finish();
        if (c === '\u0003' || c === '\u0004') return finish(new InputError('Cancelled at the password prompt.'));
        if (c === '\u007f' || c === '\b') input = input.slice(0, -1);
        else input += c;
      }
    };
    stdin.on('data', onData);
  });
}

/** The keystore password: the environment variable, else a prompt. */
export async function keystorePassword(path: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env[KEYSTORE_PASSWORD_ENV];
  if (fromEnv !== undefined) return fromEnv;
  return promptHidden(`Password for ${path}: `, KEYSTORE_PASSWORD_ENV);
}
