/** `sendnet keystore create`: writes an encrypted Web3 Secret Storage key file for `--keystore`. */
import { Command, Option } from 'commander';
import { generatePrivateKey } from 'viem/accounts';
import type { Hex } from 'viem';
import { InputError } from '../errors.js';
import { parseInteger, parsePrivateKey } from '../inputs.js';
import { KEYSTORE_PASSWORD_ENV, promptHidden, writeKeystoreFile } from '../keystore.js';
import { Output, renderRecord } from '../output.js';
import type { GlobalOptions } from '../session.js';
import { withExamples } from './common.js';

async function newPassword(env: NodeJS.ProcessEnv): Promise<string> {
  const fromEnv = env[KEYSTORE_PASSWORD_ENV];
  if (fromEnv !== undefined) return fromEnv;
  const first = await promptHidden('New keystore password: ', KEYSTORE_PASSWORD_ENV);
  const second = await promptHidden('Repeat the password: ', KEYSTORE_PASSWORD_ENV);
  if (first !== second) throw new InputError('The two passwords differ: nothing was written.');
  return first;
}

export function keystoreCommand(): Command {
  const keystore = withExamples(
    new Command('keystore').description('encrypted key files (Web3 Secret Storage, as geth and cast use)'),
    ['sendnet keystore create --out operator.json'],
  );
  withExamples(
    keystore
      .command('create')
      .description(
        `encrypt a private key (from --from-env, or a new random one) into a keystore file; the password comes from ${KEYSTORE_PASSWORD_ENV} or a prompt`,
      )
      .requiredOption('--out <file>', 'where to write the keystore (never overwritten)')
      .option(
        '--from-env <name>',
        'environment variable holding the hex private key to encrypt (default: generate a new key)',
      )
      .addOption(new Option('--scrypt-n <n>', 'scrypt cost parameter N (power of two)').default('131072').hideHelp()),
    [
      'sendnet keystore create --out operator.json',
      'SENDNET_PRIVATE_KEY=0x… sendnet keystore create --out operator.json --from-env SENDNET_PRIVATE_KEY',
      'SENDNET_KEYSTORE_PASSWORD=… sendnet --keystore operator.json node status 0xNodeKey…',
    ],
  ).action(async (options: { out: string; fromEnv?: string; scryptN: string }, command: Command) => {
    const out = new Output(Boolean(command.optsWithGlobals<GlobalOptions>().json));
    const n = parseInteger(options.scryptN, '--scrypt-n', 2, 1 << 20);
    if ((n & (n - 1)) !== 0) throw new InputError(`--scrypt-n must be a power of two, got ${n}.`);
    let key: Hex;
    if (options.fromEnv) {
      const value = process.env[options.fromEnv];
      if (!value)
        throw new InputError(`No key to encrypt: environment variable ${options.fromEnv} is not set.`, 'NoKey');
      key = parsePrivateKey(value, `The key in ${options.fromEnv}`);
    } else {
      key = generatePrivateKey();
    }
    const password = await newPassword(process.env);
    const address = await writeKeystoreFile(options.out, key, password, n);
    out.result(
      { address, file: options.out },
      () => `Wrote keystore ${options.out}.\n${renderRecord([['address', address]])}`,
    );
  });
  return keystore;
}
